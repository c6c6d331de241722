import type { Context, MiddlewareHandler } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { isStorageUnavailable } from '../db/storage-errors.ts';
import { findSiteByPublishableKey, isOriginOfAnySite, type SiteRow } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { keyKind } from '../sites/api-keys.ts';
import { createSiteLookupCache, type SiteLookupCache } from '../sites/site-lookup-cache.ts';
import type { RateLimiters } from './rate-limit.ts';

/** The client's address (through trusted proxies), for the per-address limiters; undefined when unknown. */
export function clientAddress(c: Context, deps: Pick<AppDeps, 'clientIp'>): string | undefined {
  return deps.clientIp?.(c);
}


/** One site cache per app (its deps), shared by every route group's `browserAccess`. */
const siteCaches = new WeakMap<AppDeps, SiteLookupCache>();

/** The site by publishable key: from the app's cache when `deps.siteCacheMs` is set, else read now. */
function findBrowserSite(deps: AppDeps, key: string): Promise<SiteRow | undefined> {
  if (!deps.siteCacheMs) return findSiteByPublishableKey(deps.db, key);
  let cache = siteCaches.get(deps);
  if (!cache) {
    cache = createSiteLookupCache(deps.db, { ttlMs: deps.siteCacheMs, now: deps.now ?? Date.now });
    siteCaches.set(deps, cache);
  }
  return cache.find(key);
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
 *
 * An error answered before the origin is verified (a 429, a 503 from the key lookup, an unknown
 * key) is granted to whatever origin asked: it holds no site data, and without the grant the page
 * sees only a network error and cannot read Retry-After. An origin found not to be the site's is
 * granted nothing, and a successful answer only the site's own origins.
 */
export function browserAccess(deps: AppDeps, limiters: RateLimiters, options: { keyFrom: 'header' | 'path' }): MiddlewareHandler<AppEnv> {
  const { perIp, perSite } = limiters;
  return async (c, next) => {
    const origin = c.req.header('Origin');

    if (c.req.method === 'OPTIONS') {
      return answerBrowserPreflight(c, deps, perIp, origin, async (asking) => {
        // A preflight carries no Authorization header, so for a header-keyed route all we can know is
        // whether some site lists this origin; the real request is checked against its own site.
        const key = options.keyFrom === 'path' ? c.req.param('publishableKey') : undefined;
        return key !== undefined
          ? (await findBrowserSite(deps, key))?.allowed_origins.includes(asking) === true
          : await isOriginOfAnySite(deps.db, asking);
      });
    }

    await grantingErrorsToAnyOrigin(c, origin, async () => {
      limit(perIp, clientAddress(c, deps), 'Too many requests from this address');
      const key = options.keyFrom === 'path' ? c.req.param('publishableKey') : bearerToken(c);
      if (key === undefined) throw new ApiError('invalid_key', 'Send the site publishable key: Authorization: Bearer pk_…');
      if (keyKind(key) === 'secret') {
        throw new ApiError('key_not_allowed', 'A secret key must never be used in a browser; use the publishable key (pk_…)');
      }
      limit(perSite, key, 'Too many requests for this site key');
      const site = keyKind(key) === 'publishable' ? await findBrowserSite(deps, key) : undefined;
      if (!site) throw new ApiError('invalid_key', 'Unknown publishable key');
      c.set('site', site);
    });
    checkOrigin(c, c.get('site'), origin);
    await nextWithCors(c, next, origin);
  };
}

/**
 * Runs checks made before an origin is verified; an error they throw is answered with CORS headers
 * granting the request's own Origin. Safe because the answer is the error shape, which carries no
 * site data, and the page needs it to tell a refusal (and its Retry-After) from a network failure.
 */
export async function grantingErrorsToAnyOrigin(c: Context, origin: string | undefined, checks: () => Promise<void> | void): Promise<void> {
  try {
    await checks();
  } catch (error) {
    // Headers set on the context are kept by the error handler's answer.
    grantOrigin(c, origin);
    throw error;
  }
}

/**
 * A preflight: takes a token from the per-address limit, then asks `isAllowed` whether to grant
 * the request's Origin. A preflight answered with anything but 2xx is a network error to the page
 * whatever its headers (Fetch standard, CORS-preflight fetch), so one that cannot be checked now —
 * the address is throttled, or the database is down — is answered granting the request's Origin,
 * uncached: the browser then sends the request, whose 429 or 503 the page can read. That grant
 * lets nothing through, since the request itself is checked against its site.
 */
export async function answerBrowserPreflight(
  c: Context,
  deps: Pick<AppDeps, 'clientIp'>,
  perIp: RateLimiters['perIp'],
  origin: string | undefined,
  isAllowed: (origin: string) => Promise<boolean>,
): Promise<Response> {
  if (perIp.take(clientAddress(c, deps)) > 0) return answerPreflight(c, origin, { unchecked: true });
  if (origin === undefined) return answerPreflight(c, undefined);
  let allowed: boolean;
  try {
    allowed = await isAllowed(origin);
  } catch (error) {
    if (!isStorageUnavailable(error)) throw error;
    return answerPreflight(c, origin, { unchecked: true });
  }
  return answerPreflight(c, allowed ? origin : undefined);
}

/**
 * A preflight answer granting `allowedOrigin`, or granting nothing (the browser then blocks the
 * request). An `unchecked` grant is not to be cached: the next preflight may be checked.
 */
export function answerPreflight(c: Context, allowedOrigin: string | undefined, options: { unchecked?: boolean } = {}): Response {
  if (allowedOrigin !== undefined) {
    c.header('Access-Control-Allow-Origin', allowedOrigin);
    c.header('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
    c.header('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    c.header('Access-Control-Max-Age', options.unchecked ? '0' : String(PREFLIGHT_MAX_AGE_SECONDS));
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
    grantOriginOnAnswer(c.res, checkedOrigin);
  }
}

/** Grants `origin` on an answer already made (`grantOrigin` is for one still to be made). */
export function grantOriginOnAnswer(response: Response, origin: string | undefined): void {
  if (origin === undefined) return;
  response.headers.set('Access-Control-Allow-Origin', origin);
  // Not CORS-safelisted: without this the snippet cannot honour a 503's or 429's Retry-After.
  response.headers.set('Access-Control-Expose-Headers', 'Retry-After');
  response.headers.append('Vary', 'Origin');
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

/**
 * Takes a token from `key`'s bucket, or answers 429 with the seconds until one is back (Retry-After,
 * RFC 9110 §10.2.3). `key` is what the limiter counts by: a key for a `RateLimiter`, the client's
 * address for an `AddressRateLimiter`.
 */
export function limit<Key>(limiter: { take(key: Key): number }, key: Key, message: string): void {
  const waitSeconds = limiter.take(key);
  if (waitSeconds > 0) throw new ApiError('rate_limited', message, { retryAfterSeconds: waitSeconds });
}

/**
 * Refuses a key or token already found wrong, charging the client's failed-auth bucket: 401
 * (`wrong`) while the bucket lasts, then 429 with the seconds until it holds a token again
 * (Retry-After, RFC 9110 §10.2.3). Called only after the key was checked, so a right key from an
 * address whose bucket strangers spent (everyone behind one proxy shares it) still goes through.
 */
export function refuseWrongKey(failedAuth: RateLimiters['failedAuth'], address: string | undefined, wrong: ApiError, message: string): never {
  const alreadySpent = failedAuth.peek(address) > 0;
  failedAuth.charge(address);
  if (alreadySpent) throw new ApiError('rate_limited', message, { retryAfterSeconds: failedAuth.peek(address) });
  throw wrong;
}
