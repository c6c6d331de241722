import { createECDH } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { createSite } from './create-site.ts';
import { openVapidPrivateKey, sealVapidPrivateKey } from './vapid-private-key.ts';

const MASTER_KEY = 'k'.repeat(43);

describe('VAPID private keys at rest', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.destroy());

  it('round-trips through AES-GCM, with a fresh IV each time', async () => {
    const { privateKey } = webpush.generateVAPIDKeys();
    const sealedOnce = await sealVapidPrivateKey(privateKey, MASTER_KEY);
    const sealedTwice = await sealVapidPrivateKey(privateKey, MASTER_KEY);
    expect(sealedOnce).toMatch(/^enc:v1:/);
    expect(sealedOnce).not.toBe(sealedTwice);
    expect(await openVapidPrivateKey(sealedOnce, MASTER_KEY)).toBe(privateKey);
  });

  it('refuses to open with another master key, or with none', async () => {
    const sealed = await sealVapidPrivateKey(webpush.generateVAPIDKeys().privateKey, MASTER_KEY);
    await expect(openVapidPrivateKey(sealed, 'j'.repeat(43))).rejects.toThrow();
    await expect(openVapidPrivateKey(sealed, undefined)).rejects.toThrow(/PUSHCART_MASTER_KEY/);
  });

  it('a site created with a master key stores no usable private key in clear', async () => {
    const site = await createSite(database.db, { name: 'Sealed', origins: ['https://shop.example'] }, MASTER_KEY);
    const row = await database.db.selectFrom('sites').selectAll().where('id', '=', site.id).executeTakeFirstOrThrow();
    expect(row.vapid_private_key).toMatch(/^enc:v1:/);
    const privateKey = await openVapidPrivateKey(row.vapid_private_key, MASTER_KEY);
    // The opened key is the private half of the stored public key.
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
    expect(ecdh.getPublicKey().toString('base64url')).toBe(row.vapid_public_key);
  });
});
