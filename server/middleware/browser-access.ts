import type { Context, MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { rateLimitKeyOf } from '../client-address.ts';
import { findSiteByPublishableKey, isOriginOfAnySite, type SiteRow } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { keyKind } from '../sites/api-keys.ts';
import type { RateLimiter, RateLimiters } from './rate-limit.ts';

/** The routes that take limiters as an argument use the app's one set. */
export type BrowserRateLimiters = RateLimiters;

/** What a client's requests are counted under: its address (through trusted proxies), IPv6 by /64. */
export function clientRateLimitKey(c: Context, deps: Pick<AppDeps, 'clientIp'>): string {
  return rateLimitKeyOf(deps.clientIp?.(c));
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
 * enforced server-side (CORS only binds browsers; curl ignores it), a publishable key, and rate
 * limits — per address first, then per site for what the address limit let through, so a flood
 * from a few addresses is stopped at their own buckets and leaves the site's to everyone else.
 * `keyFrom: 'path'` reads the key from `:publishableKey`.
 */
export function browserAccess(deps: AppDeps, limiters: BrowserRateLimiters, options: { keyFrom: 'header' | 'path' }): MiddlewareHandler<AppEnv> {
  const { perIp, perSite } = limiters;
  return async (c, next) => {
    const origin = c.req.header('Origin');
    limit(perIp, clientRateLimitKey(c, deps), 'Too many requests from this address');

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
    limit(perSite, key, 'Too many requests for this site key');
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

/** Takes a token from `key`'s bucket, or answers 429 with the seconds until one is back (Retry-After, RFC 9110 §10.2.3). */
export function limit(limiter: RateLimiter, key: string, message: string): void {
  const waitSeconds = limiter.take(key);
  if (waitSeconds > 0) throw new ApiError('rate_limited', message, { retryAfterSeconds: waitSeconds });
}

/** Answers 429 while `key`'s bucket is spent, spending nothing: for limits charged only on failure. */
export function refuseWhileSpent(limiter: RateLimiter, key: string, message: string): void {
  const waitSeconds = limiter.peek(key);
  if (waitSeconds > 0) throw new ApiError('rate_limited', message, { retryAfterSeconds: waitSeconds });
}
