import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { findLiveSecretKeyByHash, touchSecretKey } from '../db/secret-keys.ts';
import { findSiteById } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { hashSecretKey, keyKind } from '../sites/api-keys.ts';
import { bearerToken } from './browser-access.ts';

/** How stale `last_used_at` may get before a request refreshes it. */
const KEY_USE_RESOLUTION_SECONDS = 3600;

/** Developer routes: `Authorization: Bearer sk_…`. Looked up on every request, so a revocation applies at once. */
export function secretKeyAuth(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c);
    if (token === undefined) throw new ApiError('invalid_key', 'Send a secret key: Authorization: Bearer sk_…');
    if (keyKind(token) === 'publishable') {
      throw new ApiError('key_not_allowed', 'Publishable keys (pk_…) cannot use this route; use a secret key (sk_…)');
    }
    const key = keyKind(token) === 'secret' ? await findLiveSecretKeyByHash(deps.db, await hashSecretKey(token)) : undefined;
    const site = key === undefined ? undefined : await findSiteById(deps.db, key.site_id);
    if (!key || !site) throw new ApiError('invalid_key', 'Unknown or revoked secret key');
    const nowMs = (deps.now ?? Date.now)();
    if (key.last_used_at === null || key.last_used_at.getTime() < nowMs - KEY_USE_RESOLUTION_SECONDS * 1000) {
      await touchSecretKey(deps.db, key.id, KEY_USE_RESOLUTION_SECONDS, new Date(nowMs));
    }
    c.set('site', site);
    await next();
  };
}
