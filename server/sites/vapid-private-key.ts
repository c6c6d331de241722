import { decodeBase64Url, encodeBase64Url } from '../push/base64url.ts';

/**
 * VAPID private keys at rest. With PUSHCART_MASTER_KEY set they are stored as
 * `enc:v1:<iv>:<AES-256-GCM ciphertext+tag>` (base64url); without it, as the raw key.
 */
const ENCRYPTED_PREFIX = 'enc:v1:';
const IV_BYTES = 12;

function masterKeyBytes(masterKey: string): Uint8Array {
  if (/^[0-9a-fA-F]{64}$/.test(masterKey)) {
    return Uint8Array.from(masterKey.match(/../g)!, (pair) => parseInt(pair, 16));
  }
  const bytes = decodeBase64Url(masterKey);
  if (!bytes || bytes.length !== 32) throw new Error('PUSHCART_MASTER_KEY must be 32 bytes');
  return bytes;
}

async function importMasterKey(masterKey: string): ReturnType<typeof crypto.subtle.importKey> {
  return crypto.subtle.importKey('raw', masterKeyBytes(masterKey), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

export async function sealVapidPrivateKey(privateKey: string, masterKey: string | undefined): Promise<string> {
  if (!masterKey) return privateKey;
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = await importMasterKey(masterKey);
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(privateKey));
  return `${ENCRYPTED_PREFIX}${encodeBase64Url(iv)}:${encodeBase64Url(new Uint8Array(sealed))}`;
}

export async function openVapidPrivateKey(stored: string, masterKey: string | undefined): Promise<string> {
  if (!stored.startsWith(ENCRYPTED_PREFIX)) return stored;
  if (!masterKey) throw new Error('this VAPID private key is encrypted: set PUSHCART_MASTER_KEY to the key it was sealed with');
  const [ivText, sealedText] = stored.slice(ENCRYPTED_PREFIX.length).split(':');
  const iv = decodeBase64Url(ivText ?? '');
  const sealed = decodeBase64Url(sealedText ?? '');
  if (!iv || !sealed) throw new Error('stored VAPID private key is malformed');
  const key = await importMasterKey(masterKey);
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, sealed);
  return new TextDecoder().decode(plain);
}
