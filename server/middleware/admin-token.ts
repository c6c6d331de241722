import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { ApiError } from '../errors.ts';
import { secretsEqual } from '../sha256.ts';
import { bearerToken, clientRateLimitKey, limit, refuseWhileSpent } from './browser-access.ts';

/**
 * Admin API: `Authorization: Bearer $PUSHCART_ADMIN_TOKEN`. Without that setting the admin API is
 * off. Limited per address; an address that keeps sending wrong tokens is refused before the next
 * one is compared.
 */
export function adminTokenAuth(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const expected = deps.config.adminToken;
    if (expected === undefined) {
      throw new ApiError('admin_token_required', 'The admin API is off: set PUSHCART_ADMIN_TOKEN to turn it on');
    }
    const { admin, failedAuth } = c.get('rateLimiters');
    const client = clientRateLimitKey(c, deps);
    refuseWhileSpent(failedAuth, client, 'Too many wrong admin tokens from this address');
    const given = bearerToken(c);
    if (given === undefined || !(await secretsEqual(given, expected))) {
      failedAuth.charge(client);
      throw new ApiError('admin_token_required', 'Send Authorization: Bearer <PUSHCART_ADMIN_TOKEN>');
    }
    limit(admin, client, 'Too many admin requests from this address');
    await next();
  };
}
