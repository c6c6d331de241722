import type { Context, MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { findSiteByPublishableKey, isOriginOfAnySite, type SiteRow } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { keyKind } from '../sites/api-keys.ts';
import { DEFAULT_RATE_LIMITS, RateLimiter } from './rate-limit.ts';

export interface BrowserRateLimiters {
  perIp: RateLimiter;
  perKey: RateLimiter;
}

/** One set per app, shared by every browser route, so a client's budget is the same wherever it spends it. */
export function browserRateLimiters(deps: AppDeps): BrowserRateLimiters {
  const now = deps.now ?? Date.now;
  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits };
  return { perIp: new RateLimiter(limits.perIp, now), perKey: new RateLimiter(limits.perKey, now) };
}

/** How long a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function bearerToken(c: Context): string | undefined {
  const header = c.req.header('Authorization');
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/**
 * Guards every browser-facing route: CORS limited to the site's own origins, the same origin check
 * enforced server-side (CORS only binds browsers; curl ignores it), a publishable key, and
 * per-IP and per-key rate limits. `keyFrom: 'path'` reads the key from `:publishableKey`.
 */
export function browserAccess(deps: AppDeps, limiters: BrowserRateLimiters, options: { keyFrom: 'header' | 'path' }): MiddlewareHandler<AppEnv> {
  const { perIp, perKey } = limiters;
  return async (c, next) => {
    const origin = c.req.header('Origin');
    const ip = deps.clientIp?.(c) ?? 'unknown';
    limit(perIp, `ip:${ip}`, 'Too many requests from this address');

    if (c.req.method === 'OPTIONS') {
      // A preflight carries no Authorization header, so for a header-keyed route all we can know is
      // whether some site lists this origin; the real request is checked against its own site.
      const key = options.keyFrom === 'path' ? c.req.param('publishableKey') : undefined;
      const allowed =
        origin !== undefined &&
        (key !== undefined
          ? (await findSiteByPublishableKey(deps.db, key))?.allowed_origins.includes(origin) === true
          : await isOriginOfAnySite(deps.db, origin));
      return answerPreflight(c, allowed ? origin : undefined);
    }

    const key = options.keyFrom === 'path' ? c.req.param('publishableKey') : bearerToken(c);
    if (key === undefined) throw new ApiError('invalid_key', 'Send the site publishable key: Authorization: Bearer pk_…');
    if (keyKind(key) === 'secret') {
      throw new ApiError('key_not_allowed', 'A secret key must never be used in a browser; use the publishable key (pk_…)');
    }
    limit(perKey, `key:${key}`, 'Too many requests for this site key');
    const site = keyKind(key) === 'publishable' ? await findSiteByPublishableKey(deps.db, key) : undefined;
    if (!site) throw new ApiError('invalid_key', 'Unknown publishable key');

    checkOrigin(c, site, origin);
    c.set('site', site);
    await nextWithCors(c, next, origin);
  };
}

/** A preflight answer granting `allowedOrigin`, or granting nothing (the browser then blocks the request). */
export function answerPreflight(c: Context, allowedOrigin: string | undefined): Response {
  if (allowedOrigin !== undefined) {
    c.header('Access-Control-Allow-Origin', allowedOrigin);
    c.header('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
    c.header('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    c.header('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
  }
  c.header('Vary', 'Origin');
  return c.body(null, 204);
}

/**
 * Grants an already-checked origin from inside a handler: headers set on the context are kept by
 * the error handler's answer too, so the page can read what went wrong.
 */
export function grantOrigin(c: Context, checkedOrigin: string | undefined): void {
  if (checkedOrigin === undefined) return;
  c.header('Access-Control-Allow-Origin', checkedOrigin);
  c.header('Access-Control-Expose-Headers', 'Retry-After');
  c.header('Vary', 'Origin', { append: true });
}

/** Runs the handler, then grants the already-checked origin — also on error answers, so the page can read them. */
export async function nextWithCors(c: Context, next: () => Promise<void>, checkedOrigin: string | undefined): Promise<void> {
  try {
    await next();
  } finally {
    if (checkedOrigin !== undefined) {
      c.res.headers.set('Access-Control-Allow-Origin', checkedOrigin);
      // Not CORS-safelisted: without this the snippet cannot honour a 503's or 429's Retry-After.
      c.res.headers.set('Access-Control-Expose-Headers', 'Retry-After');
      c.res.headers.append('Vary', 'Origin');
    }
  }
}

export function checkOrigin(c: Context, site: Pick<SiteRow, 'allowed_origins'>, origin: string | undefined): void {
  if (origin === undefined) {
    // Browsers send Origin on every cross-origin request and on every POST/DELETE; only a same-origin
    // GET may lack it, and the site config is public anyway.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return;
    throw new ApiError('origin_not_allowed', 'Missing Origin header: this route is for browsers on the site’s origins');
  }
  if (!site.allowed_origins.includes(origin)) {
    throw new ApiError('origin_not_allowed', `Origin ${origin} is not one of this site’s origins`);
  }
}

export function limit(limiter: RateLimiter, key: string, message: string): void {
  const waitSeconds = limiter.take(key);
  if (waitSeconds > 0) throw new ApiError('rate_limited', message, { retryAfterSeconds: waitSeconds });
}
