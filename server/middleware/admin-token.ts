import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { ApiError } from '../errors.ts';
import { secretsEqual } from '../sha256.ts';
import { bearerToken } from './browser-access.ts';

/** Admin API: `Authorization: Bearer $PUSHCART_ADMIN_TOKEN`. Without that setting the admin API is off. */
export function adminTokenAuth(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const expected = deps.config.adminToken;
    if (expected === undefined) {
      throw new ApiError('admin_token_required', 'The admin API is off: set PUSHCART_ADMIN_TOKEN to turn it on');
    }
    const given = bearerToken(c);
    if (given === undefined || !(await secretsEqual(given, expected))) {
      throw new ApiError('admin_token_required', 'Send Authorization: Bearer <PUSHCART_ADMIN_TOKEN>');
    }
    await next();
  };
}
