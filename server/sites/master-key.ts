import { decodeBase64Url } from '../push/base64url.ts';

/**
 * The 32 bytes of PUSHCART_MASTER_KEY (64 hex characters or 43 base64url characters, as the
 * configuration accepts). It is never used as a key itself (but by `enc:v1:` keys sealed before
 * subkeys existed): each use gets its own subkey (`masterSubkey`), so the VAPID sealing key and
 * the identify secrets share nothing but their origin.
 */
export function masterKeyBytes(masterKey: string): Uint8Array<ArrayBuffer> {
  if (/^[0-9a-fA-F]{64}$/.test(masterKey)) {
    return Uint8Array.from(masterKey.match(/../g)!, (pair) => parseInt(pair, 16));
  }
  const bytes = decodeBase64Url(masterKey);
  if (!bytes || bytes.length !== 32) throw new Error('PUSHCART_MASTER_KEY must be 32 bytes');
  return Uint8Array.from(bytes);
}

/**
 * `bytes` bytes derived from the master key for one purpose (HKDF-SHA256, RFC 5869; `info` names
 * the purpose, §3.2: keys for different uses are independent even from the same input).
 */
export async function masterSubkey(masterKey: string, info: string, bytes = 32): Promise<Uint8Array<ArrayBuffer>> {
  const ikm = await crypto.subtle.importKey('raw', masterKeyBytes(masterKey), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(info) }, ikm, bytes * 8);
  return new Uint8Array(bits);
}
