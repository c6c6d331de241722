import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { findLiveSecretKeyByHash, touchSecretKey } from '../db/secret-keys.ts';
import { findSiteById } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { hashSecretKey, keyKind } from '../sites/api-keys.ts';
import { HOUR_SECONDS, SECOND_MS } from '../time.ts';
import { bearerToken, clientAddress, limit, refuseWrongKey } from './browser-access.ts';

/** How stale `last_used_at` may get before a request refreshes it. */
const KEY_USE_RESOLUTION_SECONDS = HOUR_SECONDS;

/**
 * Developer routes: `Authorization: Bearer sk_…`. Looked up on every request, so a revocation
 * applies at once. Each key has its own rate limit; an address that keeps presenting unknown keys
 * gets 429 instead of 401 for them, while a right key from that address still goes through.
 */
export function secretKeyAuth(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // `/v1/x` and `/v1/x/*` both match `/v1/x`: check and charge a request once.
    if (c.get('secretKeyId') !== undefined) return next();
    const token = bearerToken(c);
    if (token === undefined) throw new ApiError('invalid_key', 'Send a secret key: Authorization: Bearer sk_…');
    if (keyKind(token) === 'publishable') {
      throw new ApiError('key_not_allowed', 'Publishable keys (pk_…) cannot use this route; use a secret key (sk_…)');
    }
    const { failedAuth, perSecretKey } = c.get('rateLimiters');
    // The key is checked first and only a wrong one is charged or refused: behind a proxy every
    // backend shares one address, so strangers' wrong keys must never hold back a right one.
    const found = await findKeyAndSite(deps, token);
    if (!found) {
      refuseWrongKey(failedAuth, clientAddress(c, deps), new ApiError('invalid_key', 'Unknown or revoked secret key'), 'Too many unknown keys from this address');
    }
    const { key, site } = found;
    limit(perSecretKey, key.id, 'Too many requests with this secret key');
    const nowMs = (deps.now ?? Date.now)();
    if (key.last_used_at === null || key.last_used_at.getTime() < nowMs - KEY_USE_RESOLUTION_SECONDS * SECOND_MS) {
      await touchSecretKey(deps.db, key.id, KEY_USE_RESOLUTION_SECONDS, new Date(nowMs));
    }
    c.set('secretKeyId', key.id);
    c.set('site', site);
    await next();
  };
}

async function findKeyAndSite(deps: AppDeps, token: string) {
  const key = keyKind(token) === 'secret' ? await findLiveSecretKeyByHash(deps.db, await hashSecretKey(token)) : undefined;
  const site = key === undefined ? undefined : await findSiteById(deps.db, key.site_id);
  return key && site ? { key, site } : undefined;
}
