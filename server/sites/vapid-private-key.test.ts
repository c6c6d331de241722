import { createECDH } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { createSite } from './create-site.ts';
import { decodeBase64Url, encodeBase64Url } from '../push/base64url.ts';
import { masterKeyBytes, masterSubkey } from './master-key.ts';
import { openVapidPrivateKey, sealVapidPrivateKey, VapidKeyUnavailableError } from './vapid-private-key.ts';

const MASTER_KEY = 'k'.repeat(43);
const SITE_ID = '0b5c7c1e-3f6a-4d2b-9c8e-1a2b3c4d5e6f';
const OTHER_SITE_ID = '7d9e1f20-5a4b-4c3d-8e2f-6a7b8c9d0e1f';

/** A key sealed the way releases before site binding did: AES-256-GCM with no additional data. */
async function sealedAsVersion1(privateKey: string, masterKey: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await crypto.subtle.importKey('raw', masterKeyBytes(masterKey), 'AES-GCM', false, ['encrypt']);
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(privateKey));
  return `enc:v1:${encodeBase64Url(iv)}:${encodeBase64Url(new Uint8Array(sealed))}`;
}

describe('VAPID private keys at rest', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.destroy());

  it('round-trips through AES-GCM, with a fresh IV each time', async () => {
    const { privateKey } = webpush.generateVAPIDKeys();
    const sealedOnce = await sealVapidPrivateKey(privateKey, MASTER_KEY, SITE_ID);
    const sealedTwice = await sealVapidPrivateKey(privateKey, MASTER_KEY, SITE_ID);
    expect(sealedOnce).toMatch(/^enc:v2:/);
    expect(sealedOnce).not.toBe(sealedTwice);
    expect(await openVapidPrivateKey(sealedOnce, MASTER_KEY, SITE_ID)).toBe(privateKey);
  });

  it('seals v2 with a subkey of the master key (HKDF), never with the master key itself', async () => {
    const { privateKey } = webpush.generateVAPIDKeys();
    const sealed = await sealVapidPrivateKey(privateKey, MASTER_KEY, SITE_ID);
    const [ivText, bodyText] = sealed.slice('enc:v2:'.length).split(':');
    const decryptWith = async (raw: Uint8Array<ArrayBuffer>) => {
      const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
      const params = { name: 'AES-GCM', iv: Uint8Array.from(decodeBase64Url(ivText!)!), additionalData: new TextEncoder().encode(SITE_ID) };
      return new TextDecoder().decode(await crypto.subtle.decrypt(params, key, Uint8Array.from(decodeBase64Url(bodyText!)!)));
    };
    expect(await decryptWith(await masterSubkey(MASTER_KEY, 'pushcart vapid seal v2'))).toBe(privateKey);
    await expect(decryptWith(masterKeyBytes(MASTER_KEY))).rejects.toThrow();
  });

  it('refuses to open with another master key, or with none', async () => {
    const sealed = await sealVapidPrivateKey(webpush.generateVAPIDKeys().privateKey, MASTER_KEY, SITE_ID);
    await expect(openVapidPrivateKey(sealed, 'j'.repeat(43), SITE_ID)).rejects.toBeInstanceOf(VapidKeyUnavailableError);
    await expect(openVapidPrivateKey(sealed, undefined, SITE_ID)).rejects.toThrow(/PUSHCART_MASTER_KEY/);
  });

  it('binds a sealed key to its site: copied into another site’s row it does not open', async () => {
    const sealed = await sealVapidPrivateKey(webpush.generateVAPIDKeys().privateKey, MASTER_KEY, SITE_ID);
    await expect(openVapidPrivateKey(sealed, MASTER_KEY, OTHER_SITE_ID)).rejects.toThrow(/not sealed for this site/);
  });

  it('still opens a key sealed before site binding (enc:v1:, no additional data), for any site', async () => {
    const { privateKey } = webpush.generateVAPIDKeys();
    const sealed = await sealedAsVersion1(privateKey, MASTER_KEY);
    expect(await openVapidPrivateKey(sealed, MASTER_KEY, SITE_ID)).toBe(privateKey);
    await expect(openVapidPrivateKey(sealed, 'j'.repeat(43), SITE_ID)).rejects.toBeInstanceOf(VapidKeyUnavailableError);
  });

  it('refuses a stored form it does not know rather than using it as a key', async () => {
    await expect(openVapidPrivateKey('enc:v9:abc:def', MASTER_KEY, SITE_ID)).rejects.toThrow(/enc:v9:/);
    await expect(openVapidPrivateKey('enc:v2:***:def', MASTER_KEY, SITE_ID)).rejects.toThrow(/malformed/);
  });

  it('a site created with a master key stores no usable private key in clear, sealed to its own id', async () => {
    const site = await createSite(database.db, { name: 'Sealed', origins: ['https://shop.example'] }, MASTER_KEY);
    const row = await database.db.selectFrom('sites').selectAll().where('id', '=', site.id).executeTakeFirstOrThrow();
    expect(row.vapid_private_key).toMatch(/^enc:v2:/);
    const privateKey = await openVapidPrivateKey(row.vapid_private_key, MASTER_KEY, site.id);
    // The opened key is the private half of the stored public key.
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
    expect(ecdh.getPublicKey().toString('base64url')).toBe(row.vapid_public_key);
  });
});
