import { describe, expect, it } from 'vitest';
import { csrfTokenFor, needsCsrfCheck, verifyCsrfToken } from './csrf.ts';
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
