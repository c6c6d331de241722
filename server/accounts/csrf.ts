/**
 * CSRF tokens for the dashboard's state-changing requests (forms and fetches).
 *
 * The token is HMAC-SHA256 keyed with the session's own secret token (the cookie's value, which
 * the database does not hold) over a fixed label: it differs for every session, needs no setting
 * and no storage, and works the same on both runtimes. A page of another site can neither read the
 * cookie (HttpOnly) nor a dashboard page (same-origin policy), so it cannot compute or copy the
 * token; and the token, being a one-way function of the session secret, gives away nothing about
 * the cookie if a page's HTML leaks. `SameSite=Lax` already keeps the cookie off cross-site POSTs
 * in current browsers; this check is what holds where it does not (older browsers, same-site
 * attackers on a sibling subdomain).
 */
import { encodeBase64Url } from '../push/base64url.ts';
import { secretsEqual } from '../sha256.ts';

/** Versioned, so a future change of derivation makes old tokens fail instead of meaning something else. */
const CSRF_LABEL = 'pushcart dashboard csrf v1';

/** The form field and header the token travels in. */
export const CSRF_FIELD_NAME = '_csrf';
export const CSRF_HEADER_NAME = 'X-CSRF-Token';

export async function csrfTokenFor(sessionToken: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(sessionToken), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(CSRF_LABEL));
  return encodeBase64Url(new Uint8Array(mac));
}

/** Whether `submitted` is this session's token, compared in constant time. A missing token is false. */
export async function verifyCsrfToken(sessionToken: string, submitted: string | null | undefined): Promise<boolean> {
  if (typeof submitted !== 'string' || submitted === '') return false;
  return secretsEqual(submitted, await csrfTokenFor(sessionToken));
}

/** Methods that change state (RFC 9110 §9.2.1: all but the safe ones) and so need the token. */
export function needsCsrfCheck(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

/**
 * Whether the browser says a request comes from another site: the first check every dashboard POST
 * gets, the sign-in form's too (which has no session to derive a token from yet: without this, a
 * page elsewhere could sign a visitor into an account of its choosing). Fetch Metadata
 * (`Sec-Fetch-Site`, sent by every current browser) is trusted first: only `same-origin` and `none`
 * (typed or bookmarked) pass, so a sibling subdomain (`same-site`) is refused too. Without it, a
 * present `Origin` (RFC 6454 §7) must be the dashboard's; `null` (sandboxed frames, some
 * redirects) is refused. With neither header (old browsers, scripts) the session's token decides.
 */
export function isCrossSiteRequest(headers: { secFetchSite?: string | null; origin?: string | null }, dashboardOrigin: string): boolean {
  const site = headers.secFetchSite?.trim().toLowerCase();
  if (site) return site !== 'same-origin' && site !== 'none';
  const origin = headers.origin?.trim();
  if (origin) return origin !== new URL(dashboardOrigin).origin;
  return false;
}
