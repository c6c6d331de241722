import { decodeBase64Url, encodeBase64Url } from '../push/base64url.ts';
import { masterKeyBytes, masterSubkey } from './master-key.ts';

/**
 * VAPID private keys at rest. With PUSHCART_MASTER_KEY set they are stored as
 * `enc:v2:<iv>:<AES-256-GCM ciphertext+tag>` (base64url), the site's id as the additional
 * authenticated data (NIST SP 800-38D §7): a sealed key copied into another site's row does not
 * open, so a database write cannot make one shop sign with another shop's key. Without a master key
 * they are stored as the raw key. The AES key of `enc:v2:` is a subkey of the master key
 * (HKDF, `info` "pushcart vapid seal v2"), not the master key itself.
 *
 * `enc:v1:` is the form before site binding (no additional data); it still opens, and
 * `pushcart keys seal` rewrites it as `enc:v2:`.
 */
const SEALED_PREFIX = 'enc:';
const SEALED_V1_PREFIX = 'enc:v1:';
const SEALED_V2_PREFIX = 'enc:v2:';
const IV_BYTES = 12;

export type StoredKeyForm = 'clear' | 'sealed_v1' | 'sealed_v2' | 'unknown';

/** A stored VAPID private key that cannot be used as it is: the master key is missing or wrong, or the row was altered. */
export class VapidKeyUnavailableError extends Error {
  override readonly name = 'VapidKeyUnavailableError';
}

export function storedKeyForm(stored: string): StoredKeyForm {
  if (!stored.startsWith(SEALED_PREFIX)) return 'clear';
  if (stored.startsWith(SEALED_V2_PREFIX)) return 'sealed_v2';
  if (stored.startsWith(SEALED_V1_PREFIX)) return 'sealed_v1';
  return 'unknown';
}

const SEALING_KEY_INFO = 'pushcart vapid seal v2';

/** The AES-256-GCM key of a stored form: a subkey for `enc:v2:`, the master key itself for `enc:v1:` (as it was sealed). */
async function importSealingKey(masterKey: string, form: 'sealed_v1' | 'sealed_v2'): ReturnType<typeof crypto.subtle.importKey> {
  const raw = form === 'sealed_v2' ? await masterSubkey(masterKey, SEALING_KEY_INFO) : masterKeyBytes(masterKey);
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

function siteBinding(siteId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(siteId);
}

/** The stored form of `privateKey` for site `siteId`: sealed when a master key is set, else the key itself. */
export async function sealVapidPrivateKey(privateKey: string, masterKey: string | undefined, siteId: string): Promise<string> {
  if (!masterKey) return privateKey;
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = await importSealingKey(masterKey, 'sealed_v2');
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: siteBinding(siteId) }, key, new TextEncoder().encode(privateKey));
  return `${SEALED_V2_PREFIX}${encodeBase64Url(iv)}:${encodeBase64Url(new Uint8Array(sealed))}`;
}

/** The usable private key of site `siteId` from its stored form; throws VapidKeyUnavailableError when it cannot be had. */
export async function openVapidPrivateKey(stored: string, masterKey: string | undefined, siteId: string): Promise<string> {
  const form = storedKeyForm(stored);
  if (form === 'clear') return stored;
  if (form === 'unknown') {
    throw new VapidKeyUnavailableError(`stored VAPID private key has an unknown form (${stored.slice(0, 7)}…): it was written by a newer Pushcart`);
  }
  if (!masterKey) {
    throw new VapidKeyUnavailableError('this VAPID private key is sealed: set PUSHCART_MASTER_KEY to the key it was sealed with');
  }
  const prefix = form === 'sealed_v2' ? SEALED_V2_PREFIX : SEALED_V1_PREFIX;
  const parts = stored.slice(prefix.length).split(':');
  const iv = decodeBase64Url(parts[0] ?? '');
  const sealed = decodeBase64Url(parts[1] ?? '');
  if (parts.length !== 2 || !iv || iv.length !== IV_BYTES || !sealed) throw new VapidKeyUnavailableError('stored VAPID private key is malformed');
  const key = await importSealingKey(masterKey, form);
  const params = form === 'sealed_v2' ? { name: 'AES-GCM', iv: Uint8Array.from(iv), additionalData: siteBinding(siteId) } : { name: 'AES-GCM', iv: Uint8Array.from(iv) };
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(params, key, Uint8Array.from(sealed));
  } catch {
    // GCM's tag check fails alike for another master key and for another site's row: say both.
    throw new VapidKeyUnavailableError(
      form === 'sealed_v2'
        ? 'stored VAPID private key does not open: PUSHCART_MASTER_KEY is not the key it was sealed with, or it was not sealed for this site'
        : 'stored VAPID private key does not open: PUSHCART_MASTER_KEY is not the key it was sealed with',
    );
  }
  return new TextDecoder().decode(plain);
}
