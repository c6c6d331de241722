import { encodeBase64Url } from '../push/base64url.ts';

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
export async function hashSecretKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export type KeyKind = 'publishable' | 'secret';

export function keyKind(key: string): KeyKind | undefined {
  if (key.startsWith(PUBLISHABLE_KEY_PREFIX)) return 'publishable';
  if (key.startsWith(SECRET_KEY_PREFIX)) return 'secret';
  return undefined;
}
