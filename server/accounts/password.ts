/**
 * Password hashing with PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) through WebCrypto, which Node and
 * Workers both have, stored as one self-describing string so the cost can be raised later and old
 * hashes replaced at the next sign-in.
 *
 * Why a chain of PBKDF2 calls: Cloudflare Workers refuse a single PBKDF2 call above 100,000
 * iterations (workerd#1346: "Pbkdf2 failed: iteration counts above 100000 are not supported"; the
 * open-source workerd behind `wrangler dev` does not enforce it, so only a deployed Worker fails),
 * while PBKDF2-HMAC-SHA256 needs about 600,000 to be worth having today. So the derivation is
 * split into calls of at most 100,000 iterations, each one salted with the previous call's output:
 *
 *     block₀ = salt;  blockₖ = PBKDF2(password, blockₖ₋₁, min(c, remaining));  hash = last block
 *
 * Each call needs every HMAC of the previous one (PBKDF2's output is the XOR of its whole chain),
 * so the calls cannot run in parallel or be skipped: the total cost is `i` iterations, as one
 * PBKDF2 of `i` would be, on either runtime, and a hash made on Node verifies on a Worker (they
 * share the database). With `i ≤ c` it is plain PBKDF2.
 *
 * Format (PHC string style): `$pbkdf2-sha256-chain$i=600000,c=100000$<salt>$<hash>`, salt and
 * hash base64url without padding.
 */
import { decodeBase64Url, encodeBase64Url } from '../push/base64url.ts';

export const PASSWORD_HASH_ALGORITHM = 'pbkdf2-sha256-chain';

/** The total iterations new hashes get (PBKDF2-HMAC-SHA256 at 600,000: the OWASP Password Storage Cheat Sheet's figure). */
export const DEFAULT_PASSWORD_ITERATIONS = 600_000;
/** A configured cost below this is refused: it would make stored hashes cheaper to guess than the floor above. */
export const MIN_PASSWORD_ITERATIONS = 600_000;
/** The most iterations one PBKDF2 call may ask for: the Workers limit (workerd#1346). */
export const MAX_PBKDF2_ITERATIONS_PER_CALL = 100_000;
/**
 * A stored hash asking for more is treated as unreadable: the string comes from the database, but
 * one bad row must not make each sign-in attempt cost minutes of CPU.
 */
export const MAX_STORED_PASSWORD_ITERATIONS = 10_000_000;

export const PASSWORD_SALT_BYTES = 16;
export const PASSWORD_HASH_BYTES = 32;

/** NIST SP 800-63B §5.1.1.2 asks for at least 8; 10 leaves a guesser a hundred times more to try. */
export const MIN_PASSWORD_CHARACTERS = 10;
/** Long passphrases are welcome; megabytes are not (each PBKDF2 call hashes the key first). */
export const MAX_PASSWORD_BYTES = 1024;

export interface PasswordProblem {
  code: 'password_too_short' | 'password_too_long';
  message: string;
}

export class PasswordPolicyError extends Error {
  override readonly name = 'PasswordPolicyError';
  constructor(readonly problem: PasswordProblem) {
    super(problem.message);
  }
}

export interface PasswordHashOptions {
  /** Total iterations for new hashes; at least `MIN_PASSWORD_ITERATIONS`. */
  iterations?: number;
}

export interface PasswordVerification {
  valid: boolean;
  /** The password was right but its hash is weaker than the current cost: store `hashPassword(password)` now. */
  needsRehash: boolean;
}

/**
 * NIST SP 800-63B §5.1.1.2: Unicode passwords are normalised (NFKC) before hashing, so the same
 * password typed on two keyboards that compose characters differently is the same password.
 */
function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** What is wrong with a new password, in words for the form; undefined when it may be used. */
export function passwordProblem(password: string): PasswordProblem | undefined {
  const normalized = normalizePassword(password);
  const bytes = new TextEncoder().encode(normalized).length;
  if (bytes > MAX_PASSWORD_BYTES) {
    return { code: 'password_too_long', message: `The password is too long: at most ${MAX_PASSWORD_BYTES} bytes, it has ${bytes}.` };
  }
  const characters = [...normalized].length;
  if (characters < MIN_PASSWORD_CHARACTERS) {
    return {
      code: 'password_too_short',
      message: `The password is too short: at least ${MIN_PASSWORD_CHARACTERS} characters, it has ${characters}.`,
    };
  }
  return undefined;
}

function targetIterations(options: PasswordHashOptions): number {
  const iterations = options.iterations ?? DEFAULT_PASSWORD_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < MIN_PASSWORD_ITERATIONS || iterations > MAX_STORED_PASSWORD_ITERATIONS) {
    throw new RangeError(
      `password iterations must be an integer from ${MIN_PASSWORD_ITERATIONS} to ${MAX_STORED_PASSWORD_ITERATIONS}, not ${iterations}`,
    );
  }
  return iterations;
}

interface ParsedHash {
  iterations: number;
  iterationsPerCall: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

const ENCODED_HASH = /^\$pbkdf2-sha256-chain\$i=([1-9]\d{0,9}),c=([1-9]\d{0,9})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** Reads an encoded hash; undefined for anything this version cannot verify. */
export function parsePasswordHash(encoded: string): ParsedHash | undefined {
  const match = ENCODED_HASH.exec(encoded);
  if (!match) return undefined;
  const iterations = Number(match[1]);
  const iterationsPerCall = Number(match[2]);
  const salt = decodeBase64Url(match[3]!);
  const hash = decodeBase64Url(match[4]!);
  if (iterations > MAX_STORED_PASSWORD_ITERATIONS || iterationsPerCall > MAX_PBKDF2_ITERATIONS_PER_CALL) return undefined;
  if (!salt || salt.length < PASSWORD_SALT_BYTES || !hash || hash.length !== PASSWORD_HASH_BYTES) return undefined;
  return { iterations, iterationsPerCall, salt, hash };
}

function encodePasswordHash(parsed: ParsedHash): string {
  return `$${PASSWORD_HASH_ALGORITHM}$i=${parsed.iterations},c=${parsed.iterationsPerCall}$${encodeBase64Url(parsed.salt)}$${encodeBase64Url(parsed.hash)}`;
}

async function derive(password: string, salt: Uint8Array, iterations: number, iterationsPerCall: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(normalizePassword(password)), 'PBKDF2', false, ['deriveBits']);
  let block = salt;
  for (let remaining = iterations; remaining > 0; remaining -= iterationsPerCall) {
    const bits = await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: block, iterations: Math.min(remaining, iterationsPerCall) },
      key,
      PASSWORD_HASH_BYTES * 8,
    );
    block = new Uint8Array(bits);
  }
  return block;
}

/** Equal in time that does not depend on where the two differ (same length assumed; a length mismatch is simply false). */
function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/** Hashes a new password (checked against the policy first: `PasswordPolicyError` says what is wrong). */
export async function hashPassword(password: string, options: PasswordHashOptions = {}): Promise<string> {
  const iterations = targetIterations(options);
  const problem = passwordProblem(password);
  if (problem) throw new PasswordPolicyError(problem);
  const salt = crypto.getRandomValues(new Uint8Array(PASSWORD_SALT_BYTES));
  const hash = await derive(password, salt, iterations, MAX_PBKDF2_ITERATIONS_PER_CALL);
  return encodePasswordHash({ iterations, iterationsPerCall: MAX_PBKDF2_ITERATIONS_PER_CALL, salt, hash });
}

/** True when a stored hash is weaker than (or made differently from) what `hashPassword` makes now. */
export function passwordNeedsRehash(encoded: string, options: PasswordHashOptions = {}): boolean {
  const parsed = parsePasswordHash(encoded);
  return !parsed || parsed.iterations < targetIterations(options) || parsed.iterationsPerCall !== MAX_PBKDF2_ITERATIONS_PER_CALL;
}

/**
 * Checks a password against a stored hash. With no hash (no such user, or no password set yet) or
 * an unreadable one, it derives against a dummy hash of the current cost and answers false, so the
 * answer takes as long as for a real account and a timing cannot tell which emails have one.
 */
export async function verifyPassword(
  password: string,
  encoded: string | null | undefined,
  options: PasswordHashOptions = {},
): Promise<PasswordVerification> {
  const iterations = targetIterations(options);
  const parsed = encoded ? parsePasswordHash(encoded) : undefined;
  const tooLong = new TextEncoder().encode(normalizePassword(password)).length > MAX_PASSWORD_BYTES;
  const against = parsed ?? dummyHash(iterations);
  const derived = await derive(tooLong ? '' : password, against.salt, against.iterations, against.iterationsPerCall);
  const valid = parsed !== undefined && !tooLong && bytesEqual(derived, parsed.hash);
  return { valid, needsRehash: valid && passwordNeedsRehash(encoded!, { iterations }) };
}

function dummyHash(iterations: number): ParsedHash {
  // No password derives to all zeros in practice; the result is thrown away in any case.
  return {
    iterations,
    iterationsPerCall: MAX_PBKDF2_ITERATIONS_PER_CALL,
    salt: new Uint8Array(PASSWORD_SALT_BYTES),
    hash: new Uint8Array(PASSWORD_HASH_BYTES),
  };
}
