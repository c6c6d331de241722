import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { ApiError } from '../errors.ts';
import { secretsEqual } from '../sha256.ts';
import { bearerToken, clientAddress, limit, refuseWrongKey } from './browser-access.ts';

/**
 * Admin API: `Authorization: Bearer $PUSHCART_ADMIN_TOKEN`. Without that setting the admin API is
 * off. Limited per address; an address that keeps sending wrong tokens gets 429 instead of 401 for
 * them, while the right token from that address still goes through.
 */
export function adminTokenAuth(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const expected = deps.config.adminToken;
    if (expected === undefined) {
      throw new ApiError('admin_token_required', 'The admin API is off: set PUSHCART_ADMIN_TOKEN to turn it on');
    }
    const { admin, failedAuth } = c.get('rateLimiters');
    const client = clientAddress(c, deps);
    // The token is compared first and only a wrong one is charged or refused: behind a proxy the
    // operator shares an address with everyone, so strangers' guesses must never lock them out.
    const given = bearerToken(c);
    if (given === undefined || !(await secretsEqual(given, expected))) {
      refuseWrongKey(failedAuth, client, new ApiError('admin_token_required', 'Send Authorization: Bearer <PUSHCART_ADMIN_TOKEN>'), 'Too many wrong admin tokens from this address');
    }
    limit(admin, client, 'Too many admin requests from this address');
    await next();
  };
}
