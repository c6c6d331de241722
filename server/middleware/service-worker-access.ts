import type { MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { isOriginOfAnySite } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { answerBrowserPreflight, clientAddress, grantingErrorsToAnyOrigin, grantOriginOnAnswer, limit } from './browser-access.ts';
import type { RateLimiters } from './rate-limit.ts';

/**
 * For routes a shop's service worker calls without a site key (reports, subscription renewal):
 * the request carries its own proof (a delivery token, the old endpoint), and the route checks the
 * Origin against that proof's site. Here: per-IP rate limit and the preflight, which knows no site
 * yet, so it admits any site's origin.
 *
 * An error answer the route did not grant itself (a 429 here; a 503, an unknown token or a bad body
 * before the route knows the site) is granted to the request's Origin: it holds no site data, and
 * without the grant the service worker sees only a network error and cannot read Retry-After. An
 * origin the route found not to be the site's is granted nothing, and a successful answer is
 * granted only by the route, after its own origin check.
 */
export function serviceWorkerAccess(deps: AppDeps, limiters: RateLimiters): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('Origin');
    if (c.req.method === 'OPTIONS') {
      return answerBrowserPreflight(c, deps, limiters.perIp, origin, (asking) => isOriginOfAnySite(deps.db, asking));
    }
    await grantingErrorsToAnyOrigin(c, origin, () => limit(limiters.perIp, clientAddress(c, deps), 'Too many requests from this address'));
    await next();
    const originRefused = c.error instanceof ApiError && c.error.code === 'origin_not_allowed';
    if (c.res.status >= 400 && !originRefused && !c.res.headers.has('Access-Control-Allow-Origin')) grantOriginOnAnswer(c.res, origin);
  };
}
