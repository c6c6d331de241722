import { pbkdf2Sync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeBase64Url, encodeBase64Url } from '../push/base64url.ts';
import {
  DEFAULT_PASSWORD_ITERATIONS,
  MAX_PASSWORD_BYTES,
  MAX_PBKDF2_ITERATIONS_PER_CALL,
  PasswordPolicyError,
  hashPassword,
  parsePasswordHash,
  passwordNeedsRehash,
  passwordProblem,
  verifyPassword,
} from './password.ts';

const PASSWORD = 'correct horse battery staple';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The chained derivation computed independently, with Node's own PBKDF2. */
function nodeChain(password: string, salt: Uint8Array, iterations: number, perCall: number): Uint8Array {
  let block: Uint8Array = salt;
  for (let remaining = iterations; remaining > 0; remaining -= perCall) {
    block = new Uint8Array(pbkdf2Sync(Buffer.from(password.normalize('NFKC')), block, Math.min(remaining, perCall), 32, 'sha256'));
  }
  return block;
}

/** An encoded hash made the way an older release (lower cost) would have stored it. */
function legacyHash(password: string, iterations: number): string {
  const salt = new Uint8Array(16).fill(7);
  const hash = nodeChain(password, salt, iterations, MAX_PBKDF2_ITERATIONS_PER_CALL);
  return `$pbkdf2-sha256-chain$i=${iterations},c=${MAX_PBKDF2_ITERATIONS_PER_CALL}$${encodeBase64Url(salt)}$${encodeBase64Url(hash)}`;
}

/** Counts the PBKDF2 iterations WebCrypto is asked for (calling through to the real derivation). */
function countDerivedIterations(): { total: () => number; perCall: number[] } {
  const perCall: number[] = [];
  const real = crypto.subtle.deriveBits.bind(crypto.subtle);
  vi.spyOn(crypto.subtle, 'deriveBits').mockImplementation((algorithm, key, length) => {
    perCall.push((algorithm as { iterations: number }).iterations);
    return real(algorithm, key, length);
  });
  return { total: () => perCall.reduce((sum, n) => sum + n, 0), perCall };
}

describe('password hashing', () => {
  it('stores algorithm, iterations, salt and hash in one string, at 600,000 iterations by default', async () => {
    const encoded = await hashPassword(PASSWORD);
    expect(encoded).toMatch(/^\$pbkdf2-sha256-chain\$i=600000,c=100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(parsePasswordHash(encoded)?.iterations).toBe(DEFAULT_PASSWORD_ITERATIONS);
  });

  it('derives what Node’s PBKDF2 gives for the same chain of calls', async () => {
    const encoded = await hashPassword(PASSWORD);
    const parsed = parsePasswordHash(encoded)!;
    expect(Buffer.from(parsed.hash)).toEqual(Buffer.from(nodeChain(PASSWORD, parsed.salt, 600_000, 100_000)));
  });

  it('never asks WebCrypto for more than 100,000 iterations in one call (the Workers limit), yet spends 600,000', async () => {
    const counter = countDerivedIterations();
    await hashPassword(PASSWORD);
    expect(Math.max(...counter.perCall)).toBeLessThanOrEqual(100_000);
    expect(counter.total()).toBe(600_000);
  });

  it('salts each hash at random, so one password hashes to different strings', async () => {
    const [a, b] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
    expect(a).not.toBe(b);
  });

  it('verifies the right password and refuses a wrong one, or one differing in case', async () => {
    const encoded = await hashPassword(PASSWORD);
    expect(await verifyPassword(PASSWORD, encoded)).toEqual({ valid: true, needsRehash: false });
    expect((await verifyPassword('correct horse battery stapler', encoded)).valid).toBe(false);
    expect((await verifyPassword(PASSWORD.toUpperCase(), encoded)).valid).toBe(false);
  });

  it('treats the composed and decomposed forms of a character as the same password (NFKC)', async () => {
    const composed = 'caf\u00e9 au lait, s’il vous plaît';
    const decomposed = 'cafe\u0301 au lait, s’il vous plaît';
    const encoded = await hashPassword(composed);
    expect((await verifyPassword(decomposed, encoded)).valid).toBe(true);
  });

  it('asks for a rehash of an older, cheaper hash once the password is known right, and not otherwise', async () => {
    const old = legacyHash(PASSWORD, 200_000);
    expect(passwordNeedsRehash(old)).toBe(true);
    expect(await verifyPassword(PASSWORD, old)).toEqual({ valid: true, needsRehash: true });
    expect(await verifyPassword('not the password at all', old)).toEqual({ valid: false, needsRehash: false });
  });

  it('asks for a rehash when the configured cost is raised above the stored one', async () => {
    const encoded = await hashPassword(PASSWORD);
    expect(passwordNeedsRehash(encoded, { iterations: 600_000 })).toBe(false);
    expect(passwordNeedsRehash(encoded, { iterations: 700_000 })).toBe(true);
  });

  it('refuses a configured cost below 600,000 iterations', async () => {
    await expect(hashPassword(PASSWORD, { iterations: 100_000 })).rejects.toThrow(/iterations must be an integer from 600000/);
    await expect(verifyPassword(PASSWORD, null, { iterations: 599_999 })).rejects.toThrow(RangeError);
  });

  it('spends the full cost on an account that does not exist, or has no password yet, and answers false', async () => {
    const encoded = await hashPassword(PASSWORD);
    const real = countDerivedIterations();
    expect((await verifyPassword(PASSWORD, encoded)).valid).toBe(true);
    const forReal = real.total();
    vi.restoreAllMocks();

    const missing = countDerivedIterations();
    expect(await verifyPassword(PASSWORD, undefined)).toEqual({ valid: false, needsRehash: false });
    expect(await verifyPassword(PASSWORD, null)).toEqual({ valid: false, needsRehash: false });
    expect(await verifyPassword(PASSWORD, 'garbage')).toEqual({ valid: false, needsRehash: false });
    expect(missing.total()).toBe(3 * forReal);
    expect(forReal).toBe(600_000);
  });

  it('refuses stored hashes it cannot read or that ask for absurd work', () => {
    const salt = encodeBase64Url(new Uint8Array(16));
    const hash = encodeBase64Url(new Uint8Array(32));
    expect(parsePasswordHash(`$pbkdf2-sha256-chain$i=600000,c=100000$${salt}$${hash}`)).toBeDefined();
    expect(parsePasswordHash(`$pbkdf2-sha256-chain$i=99999999,c=100000$${salt}$${hash}`)).toBeUndefined();
    expect(parsePasswordHash(`$pbkdf2-sha256-chain$i=600000,c=600000$${salt}$${hash}`)).toBeUndefined();
    expect(parsePasswordHash(`$pbkdf2-sha256-chain$i=600000,c=100000$${salt}$${hash.slice(1)}`)).toBeUndefined();
    expect(parsePasswordHash(`$pbkdf2-sha256-chain$i=600000,c=100000$AAAA$${hash}`)).toBeUndefined();
    expect(parsePasswordHash(`$argon2id$v=19$m=65536,t=3,p=4$${salt}$${hash}`)).toBeUndefined();
    expect(decodeBase64Url(salt)).toHaveLength(16);
  });
});

describe('the password policy', () => {
  it('asks for at least 10 characters, counted as characters, not bytes', () => {
    expect(passwordProblem('123456789')).toEqual({
      code: 'password_too_short',
      message: 'The password is too short: at least 10 characters, it has 9.',
    });
    expect(passwordProblem('1234567890')).toBeUndefined();
    // Nine characters of three bytes each are still nine characters.
    expect(passwordProblem('日本語日本語日本語')?.code).toBe('password_too_short');
  });

  it(`allows up to ${MAX_PASSWORD_BYTES} bytes and says by how much a longer one is over`, () => {
    expect(passwordProblem('a'.repeat(MAX_PASSWORD_BYTES))).toBeUndefined();
    expect(passwordProblem('a'.repeat(MAX_PASSWORD_BYTES + 1))).toEqual({
      code: 'password_too_long',
      message: 'The password is too long: at most 1024 bytes, it has 1025.',
    });
    expect(passwordProblem('é'.repeat(513))?.code).toBe('password_too_long');
  });

  it('is enforced when hashing, with the reason attached', async () => {
    const error = await hashPassword('short').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PasswordPolicyError);
    expect((error as PasswordPolicyError).problem.code).toBe('password_too_short');
  });

  it('never verifies an over-long password, and still spends the full cost on it', async () => {
    const counter = countDerivedIterations();
    const encoded = legacyHash('a'.repeat(MAX_PASSWORD_BYTES + 1), 600_000);
    expect((await verifyPassword('a'.repeat(MAX_PASSWORD_BYTES + 1), encoded)).valid).toBe(false);
    expect(counter.total()).toBe(600_000);
  });
});
