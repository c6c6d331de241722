import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { isOriginOfAnySite } from '../db/sites.ts';
import { answerPreflight, clientRateLimitKey, limit, type BrowserRateLimiters } from './browser-access.ts';

/**
 * For routes a shop's service worker calls without a site key (reports, subscription renewal):
 * the request carries its own proof (a delivery token, the old endpoint), and the route checks the
 * Origin against that proof's site. Here: per-IP rate limit and the preflight, which knows no site
 * yet, so it admits any site's origin.
 */
export function serviceWorkerAccess(deps: AppDeps, limiters: BrowserRateLimiters): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    limit(limiters.perIp, clientRateLimitKey(c, deps), 'Too many requests from this address');
    if (c.req.method === 'OPTIONS') {
      const origin = c.req.header('Origin');
      const allowed = origin !== undefined && (await isOriginOfAnySite(deps.db, origin));
      return answerPreflight(c, allowed ? origin : undefined);
    }
    await next();
  };
}
