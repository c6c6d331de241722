import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { addWelcomeCodes, welcomeCodeCounts } from '../db/welcome.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { operation } from '../openapi/operation.ts';
import { text, validate } from '../validation.ts';

/** Codes per upload: a shop with more sends several requests. */
export const MAX_WELCOME_CODES_PER_UPLOAD = 10_000;

const count = z.number().int().nonnegative();
const countsSchema = z.strictObject({
  /** Uploaded codes not yet given to a subscriber. */
  left: count,
  /** Codes given, each to one subscriber. */
  given: count,
});

const uploadBody = z.strictObject({
  // A code longer than {{discount.code}} renders would reach nobody (template-rendering.ts).
  codes: z.array(text().min(1).max(64)).min(1).max(MAX_WELCOME_CODES_PER_UPLOAD),
});

/** `POST /v1/welcome-codes` (upload single-use first-order codes) and `GET /v1/welcome-codes` (how many are left). */
export function welcomeCodeRoutes(deps: AppDeps) {
  const now = () => new Date((deps.now ?? Date.now)());
  return new Hono<AppEnv>()
    .use('/v1/welcome-codes', secretKeyAuth(deps))
    .post(
      '/v1/welcome-codes',
      operation({
        summary: 'Upload first-order codes for the welcome push',
        description:
          'Adds single-use codes to the list the welcome push gives from when `welcome.codeMode` is `list`: each new subscriber gets one, the oldest upload first, and no code is given twice. A code already uploaded (given or not) is ignored.',
        tag: 'Settings',
        access: 'secretKey',
        responses: { 200: { description: 'Stored', schema: countsSchema.extend({ added: count }) } },
      }),
      validate('json', uploadBody),
      async (c) => {
        const site = c.get('site');
        const added = await addWelcomeCodes(deps.db, site.id, c.req.valid('json').codes, now());
        return c.json({ added, ...(await welcomeCodeCounts(deps.db, site.id)) }, 200);
      },
    )
    .get(
      '/v1/welcome-codes',
      operation({
        summary: 'Welcome codes left',
        description: 'How many uploaded first-order codes are left to give and how many were given.',
        tag: 'Settings',
        access: 'secretKey',
        responses: { 200: { description: 'The counts', schema: countsSchema } },
      }),
      async (c) => c.json(await welcomeCodeCounts(deps.db, c.get('site').id), 200),
    );
}
