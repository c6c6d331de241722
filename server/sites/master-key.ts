import { decodeBase64Url } from '../push/base64url.ts';

/**
 * The 32 bytes of PUSHCART_MASTER_KEY (64 hex characters or 43 base64url characters, as the
 * configuration accepts). It seals VAPID private keys (AES-256-GCM) and is the input keying
 * material from which per-site identify secrets are derived (HKDF, RFC 5869).
 */
export function masterKeyBytes(masterKey: string): Uint8Array<ArrayBuffer> {
  if (/^[0-9a-fA-F]{64}$/.test(masterKey)) {
    return Uint8Array.from(masterKey.match(/../g)!, (pair) => parseInt(pair, 16));
  }
  const bytes = decodeBase64Url(masterKey);
  if (!bytes || bytes.length !== 32) throw new Error('PUSHCART_MASTER_KEY must be 32 bytes');
  return Uint8Array.from(bytes);
}
