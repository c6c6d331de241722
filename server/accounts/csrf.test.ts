import { describe, expect, it } from 'vitest';
import { csrfTokenFor, isCrossSiteRequest, needsCsrfCheck, verifyCsrfToken } from './csrf.ts';
import { newSecretToken } from './tokens.ts';

describe('CSRF tokens', () => {
  it('verify for the session they were made for', async () => {
    const session = newSecretToken();
    const token = await csrfTokenFor(session);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await csrfTokenFor(session)).toBe(token);
    expect(await verifyCsrfToken(session, token)).toBe(true);
  });

  it('fail for another session', async () => {
    const mine = newSecretToken();
    const theirs = newSecretToken();
    expect(await csrfTokenFor(mine)).not.toBe(await csrfTokenFor(theirs));
    expect(await verifyCsrfToken(theirs, await csrfTokenFor(mine))).toBe(false);
  });

  it('fail when missing, empty, altered, or the session token itself', async () => {
    const session = newSecretToken();
    const token = await csrfTokenFor(session);
    expect(await verifyCsrfToken(session, undefined)).toBe(false);
    expect(await verifyCsrfToken(session, null)).toBe(false);
    expect(await verifyCsrfToken(session, '')).toBe(false);
    expect(await verifyCsrfToken(session, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(await verifyCsrfToken(session, session)).toBe(false);
  });

  it('are asked of every method but the safe ones', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'post']) expect(needsCsrfCheck(method)).toBe(true);
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get']) expect(needsCsrfCheck(method)).toBe(false);
  });
});

describe('cross-site requests', () => {
  const DASHBOARD = 'https://push.shop.example';

  it('are recognised by Fetch Metadata: only same-origin and user-typed requests pass', () => {
    expect(isCrossSiteRequest({ secFetchSite: 'same-origin' }, DASHBOARD)).toBe(false);
    expect(isCrossSiteRequest({ secFetchSite: 'none' }, DASHBOARD)).toBe(false);
    expect(isCrossSiteRequest({ secFetchSite: 'cross-site' }, DASHBOARD)).toBe(true);
    expect(isCrossSiteRequest({ secFetchSite: 'same-site', origin: 'https://blog.shop.example' }, DASHBOARD)).toBe(true);
    // Fetch Metadata wins over an Origin that would pass: the browser's own word.
    expect(isCrossSiteRequest({ secFetchSite: 'cross-site', origin: DASHBOARD }, DASHBOARD)).toBe(true);
  });

  it('are recognised by Origin when Fetch Metadata is missing', () => {
    expect(isCrossSiteRequest({ origin: DASHBOARD }, DASHBOARD)).toBe(false);
    expect(isCrossSiteRequest({ origin: DASHBOARD }, `${DASHBOARD}/dashboard`)).toBe(false);
    expect(isCrossSiteRequest({ origin: 'https://evil.example' }, DASHBOARD)).toBe(true);
    expect(isCrossSiteRequest({ origin: 'http://push.shop.example' }, DASHBOARD)).toBe(true);
    expect(isCrossSiteRequest({ origin: 'null' }, DASHBOARD)).toBe(true);
  });

  it('are left to the token check when the browser sends neither header', () => {
    expect(isCrossSiteRequest({}, DASHBOARD)).toBe(false);
    expect(isCrossSiteRequest({ secFetchSite: null, origin: null }, DASHBOARD)).toBe(false);
  });
});
