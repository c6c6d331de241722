import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { ApiError } from './errors.ts';

/**
 * zod validation for a request part; failures become the one error shape (validation_failed)
 * with every issue listed, so a developer fixes all fields in one round.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(target: Target, schema: Schema) {
  return zValidator(target, schema, (result, c) => {
    if (target === 'json' && !/^application\/([\w.-]+\+)?json\b/i.test(c.req.header('Content-Type') ?? '')) {
      throw new ApiError('validation_failed', 'Content-Type must be application/json');
    }
    if (!result.success) {
      const issues = result.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      }));
      const first = issues[0];
      throw new ApiError(
        'validation_failed',
        first ? `${first.path || target}: ${first.message}` : 'invalid request',
        { details: issues },
      );
    }
  });
}
