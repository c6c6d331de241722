import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { ConfigError } from '../config.ts';
import { memoryLogger } from '../logger.ts';
import { encodeBase64Url } from '../push/base64url.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { createSite } from './create-site.ts';
import { LEGACY_IDENTIFY_PERIOD_MS } from './identity-signature.ts';
import { masterKeyBytes } from './master-key.ts';
import { checkStoredKeys, sealStoredKeys } from './stored-keys.ts';
import { openVapidPrivateKey } from './vapid-private-key.ts';

const MASTER_KEY = 's'.repeat(43);
const WRONG_MASTER_KEY = 't'.repeat(43);
const NOW_MS = Date.UTC(2029, 2, 10, 23, 45);

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());
// Each test starts without sites (their keys cascade with them).
afterEach(async () => {
  await database.db.deleteFrom('sites').execute();
});

async function storedKeys() {
  return database.db.selectFrom('sites').select(['id', 'vapid_private_key', 'vapid_public_key']).orderBy('name').execute();
}

/** Rewrites a site's key the way releases before site binding sealed it (enc:v1:, no additional data). */
async function storeAsVersion1(siteId: string, privateKey: string, masterKey: string) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await crypto.subtle.importKey('raw', masterKeyBytes(masterKey), 'AES-GCM', false, ['encrypt']);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(privateKey)));
  await database.db.updateTable('sites').set({ vapid_private_key: `enc:v1:${encodeBase64Url(iv)}:${encodeBase64Url(sealed)}` }).where('id', '=', siteId).execute();
}

describe('the start-up check of stored keys', () => {
  it('refuses to start without a master key while keys are sealed, in one line naming the setting', async () => {
    await createSite(database.db, { name: 'Sealed', origins: ['https://shop.example'] }, MASTER_KEY);
    const check = checkStoredKeys(database.db, { masterKey: undefined, nowMs: NOW_MS, logger: memoryLogger() });
    await expect(check).rejects.toBeInstanceOf(ConfigError);
    await expect(check).rejects.toThrow(/^Invalid configuration — PUSHCART_MASTER_KEY: not set, but 1 site stores its VAPID private key sealed/);
    await expect(check).rejects.not.toThrow(/\n/);
  });

  it('refuses to start with a master key that does not open the stored keys', async () => {
    await createSite(database.db, { name: 'Sealed', origins: ['https://shop.example'] }, MASTER_KEY);
    const check = checkStoredKeys(database.db, { masterKey: WRONG_MASTER_KEY, nowMs: NOW_MS, logger: memoryLogger() });
    await expect(check).rejects.toBeInstanceOf(ConfigError);
    await expect(check).rejects.toThrow(/PUSHCART_MASTER_KEY: it does not open the VAPID private key of site/);
  });

  it('starts with the right master key, and warns about keys still in clear', async () => {
    await createSite(database.db, { name: 'Sealed', origins: ['https://shop.example'] }, MASTER_KEY);
    await createSite(database.db, { name: 'Clear', origins: ['https://shop.example'] }, undefined);
    const logger = memoryLogger();
    await checkStoredKeys(database.db, { masterKey: MASTER_KEY, nowMs: NOW_MS, logger });
    const warnings = logger.entries.filter((entry) => entry.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/pushcart keys seal/);
    expect(warnings[0]!.fields).toMatchObject({ sitesInClear: 1 });
  });

  it('without a master key logs one warning at start, also on an empty database', async () => {
    const logger = memoryLogger();
    await checkStoredKeys(database.db, { masterKey: undefined, nowMs: NOW_MS, logger });
    expect(logger.entries.map((entry) => entry.level)).toEqual(['warn']);
    expect(logger.entries[0]!.message).toMatch(/PUSHCART_MASTER_KEY is not set/);
    expect(logger.entries[0]!.message).toMatch(/in clear/);
    expect(logger.entries[0]!.message).toMatch(/identify/);
  });

  it('with a master key starts the identify transition period of sites made without one, from the clock passed in', async () => {
    await createSite(database.db, { name: 'Clear', origins: ['https://shop.example'] }, undefined);
    await checkStoredKeys(database.db, { masterKey: MASTER_KEY, nowMs: NOW_MS, logger: memoryLogger() });
    const row = await database.db.selectFrom('sites').select('legacy_identify_until').executeTakeFirstOrThrow();
    expect(row.legacy_identify_until).toEqual(new Date(NOW_MS + LEGACY_IDENTIFY_PERIOD_MS));
  });
});

describe('pushcart keys seal', () => {
  it('seals keys stored in clear and upgrades enc:v1: to site-bound enc:v2:, each opening to the key it replaced; a second run changes nothing', async () => {
    const clear = await createSite(database.db, { name: 'A clear', origins: ['https://shop.example'] }, undefined);
    const old = await createSite(database.db, { name: 'B old', origins: ['https://shop.example'] }, undefined);
    const current = await createSite(database.db, { name: 'C current', origins: ['https://shop.example'] }, MASTER_KEY);
    const [clearRow, oldRow, currentRow] = await storedKeys();
    const oldPrivateKey = oldRow!.vapid_private_key;
    await storeAsVersion1(old.id, oldPrivateKey, MASTER_KEY);

    expect(await sealStoredKeys(database.db, MASTER_KEY)).toEqual({ sealed: 1, upgraded: 1, alreadySealed: 1 });
    const after = await storedKeys();
    expect(after.map((row) => row.vapid_private_key.slice(0, 7))).toEqual(['enc:v2:', 'enc:v2:', 'enc:v2:']);
    expect(await openVapidPrivateKey(after[0]!.vapid_private_key, MASTER_KEY, clear.id)).toBe(clearRow!.vapid_private_key);
    expect(await openVapidPrivateKey(after[1]!.vapid_private_key, MASTER_KEY, old.id)).toBe(oldPrivateKey);
    expect(after[2]!.vapid_private_key).toBe(currentRow!.vapid_private_key);
    // Bound to their own sites now.
    await expect(openVapidPrivateKey(after[0]!.vapid_private_key, MASTER_KEY, current.id)).rejects.toThrow();

    expect(await sealStoredKeys(database.db, MASTER_KEY)).toEqual({ sealed: 0, upgraded: 0, alreadySealed: 3 });
    expect((await storedKeys()).map((row) => row.vapid_private_key)).toEqual(after.map((row) => row.vapid_private_key));
  });

  it('refuses without a master key, and with one that does not open the keys already sealed, changing nothing', async () => {
    await createSite(database.db, { name: 'A clear', origins: ['https://shop.example'] }, undefined);
    const old = await createSite(database.db, { name: 'B old', origins: ['https://shop.example'] }, undefined);
    await storeAsVersion1(old.id, webpush.generateVAPIDKeys().privateKey, MASTER_KEY);
    const before = await storedKeys();
    await expect(sealStoredKeys(database.db, undefined)).rejects.toThrow(/PUSHCART_MASTER_KEY/);
    await expect(sealStoredKeys(database.db, WRONG_MASTER_KEY)).rejects.toThrow(/does not open/);
    expect(await storedKeys()).toEqual(before);
  });
});
