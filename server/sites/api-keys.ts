import { encodeBase64Url } from '../push/base64url.ts';
import { sha256Hex } from '../sha256.ts';

export const PUBLISHABLE_KEY_PREFIX = 'pk_';
export const SECRET_KEY_PREFIX = 'sk_';
/** How much of a secret key stays visible in listings (`sk_` + 8), enough to tell keys apart. */
export const SECRET_KEY_VISIBLE_CHARS = 11;

function randomToken(bytes: number): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export function newPublishableKey(): string {
  return PUBLISHABLE_KEY_PREFIX + randomToken(18);
}

export function newSecretKey(): { key: string; prefix: string } {
  const key = SECRET_KEY_PREFIX + randomToken(32);
  return { key, prefix: key.slice(0, SECRET_KEY_VISIBLE_CHARS) };
}

/** SHA-256, hex. Secret keys are 256 random bits, so a fast unsalted hash is enough to store them. */
export function hashSecretKey(key: string): Promise<string> {
  return sha256Hex(key);
}

export type KeyKind = 'publishable' | 'secret';

export function keyKind(key: string): KeyKind | undefined {
  if (key.startsWith(PUBLISHABLE_KEY_PREFIX)) return 'publishable';
  if (key.startsWith(SECRET_KEY_PREFIX)) return 'secret';
  return undefined;
}
