/**
 * The secrets behind sessions and one-time links: 32 random bytes (256 bits, beyond guessing),
 * base64url in the cookie or the link, SHA-256 in the database. A plain hash, not a slow one, is
 * enough: the input is random, not chosen by a person, so there is nothing to guess from it.
 */
import { encodeBase64Url } from '../push/base64url.ts';
import { sha256Hex } from '../sha256.ts';

export const SECRET_TOKEN_BYTES = 32;

const TOKEN_TEXT = /^[A-Za-z0-9_-]{43}$/;

export function newSecretToken(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(SECRET_TOKEN_BYTES)));
}

/** True for what `newSecretToken` can make: anything else is refused before it reaches the database. */
export function isWellFormedToken(token: string): boolean {
  return TOKEN_TEXT.test(token);
}

/** What the database stores for a token (hex SHA-256). */
export async function tokenHash(token: string): Promise<string> {
  return sha256Hex(token);
}
