import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLegacyIdentifyPeriods } from '../db/sites.ts';
import { findSubscriptionByEndpoint } from '../db/subscriptions.ts';
import { browserHeaders, browserSubscription, testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { hashSecretKey } from './api-keys.ts';
import { createSite, type CreatedSite } from './create-site.ts';
import { identifySecret, identitySignature, LEGACY_IDENTIFY_PERIOD_MS } from './identity-signature.ts';

const MASTER_KEY = 'i'.repeat(43);
const DAY_MS = 24 * 60 * 60_000;

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

/** POST /v1/subscriptions with identify, through an app whose clock reads `nowMs`; the status and the stored user id. */
async function identifyAs(site: CreatedSite, options: { masterKey?: string; nowMs: number }, externalUserId: string, signature: string) {
  const { app } = testApp(database.db, {
    env: options.masterKey ? { PUSHCART_MASTER_KEY: options.masterKey } : {},
    now: () => options.nowMs,
    rateLimits: { perIp: { capacity: 10_000, refillPerSecond: 1_000 } },
  });
  const subscription = await browserSubscription();
  const response = await app.request('/v1/subscriptions', {
    method: 'POST',
    headers: browserHeaders(site),
    body: JSON.stringify({ subscription, visitorId: 'visitor-0001', externalUserId, signature }),
  });
  const stored = await findSubscriptionByEndpoint(database.db, subscription.endpoint);
  return { status: response.status, externalUserId: stored?.external_user_id };
}

/** The signature the old scheme asked for: anyone who can read secret_keys.key_hash can make it. */
async function signatureFromStoredHash(site: CreatedSite, externalUserId: string): Promise<string> {
  const row = await database.db.selectFrom('secret_keys').select('key_hash').where('site_id', '=', site.id).executeTakeFirstOrThrow();
  expect(row.key_hash).toBe(await hashSecretKey(site.secretKey));
  return identitySignature(row.key_hash, externalUserId);
}

describe('identify secret', () => {
  it('is derived from the master key per site: stable, and different for another site or master key', async () => {
    const siteId = '0b5c7c1e-3f6a-4d2b-9c8e-1a2b3c4d5e6f';
    const secret = await identifySecret(MASTER_KEY, siteId);
    expect(secret).toMatch(/^pcid_[A-Za-z0-9_-]{43}$/);
    expect(await identifySecret(MASTER_KEY, siteId)).toBe(secret);
    expect(await identifySecret(MASTER_KEY, '7d9e1f20-5a4b-4c3d-8e2f-6a7b8c9d0e1f')).not.toBe(secret);
    expect(await identifySecret('j'.repeat(43), siteId)).not.toBe(secret);
  });

  it('signs as the README shows a shop backend doing it: hex HMAC-SHA256 keyed with the secret as text', async () => {
    const secret = await identifySecret(MASTER_KEY, '0b5c7c1e-3f6a-4d2b-9c8e-1a2b3c4d5e6f');
    expect(await identitySignature(secret, 'customer-42')).toBe(createHmac('sha256', secret).update('customer-42').digest('hex'));
  });
});

describe('identify with a master key', () => {
  it('a site created with a master key links the user with the identify secret, and refuses a signature made from the stored hash', async () => {
    const site = await createSite(database.db, { name: 'New shop', origins: ['https://shop.example'] }, MASTER_KEY);
    const nowMs = Date.now();
    const secret = await identifySecret(MASTER_KEY, site.id);

    const signed = await identifyAs(site, { masterKey: MASTER_KEY, nowMs }, 'customer-42', await identitySignature(secret, 'customer-42'));
    expect(signed).toEqual({ status: 201, externalUserId: 'customer-42' });

    const forged = await identifyAs(site, { masterKey: MASTER_KEY, nowMs }, 'customer-42', await signatureFromStoredHash(site, 'customer-42'));
    expect(forged).toEqual({ status: 403, externalUserId: undefined });
    // Another user's id with a valid signature for someone else: refused too.
    expect((await identifyAs(site, { masterKey: MASTER_KEY, nowMs }, 'customer-43', await identitySignature(secret, 'customer-42'))).status).toBe(403);
  });

  it('a site that signed the old way keeps working for the transition period from the first start with a master key, then not', async () => {
    // Created before the operator set a master key: its shop signs with a secret key's hash.
    const site = await createSite(database.db, { name: 'Old shop', origins: ['https://shop.example'] }, undefined);
    const startedMs = Date.UTC(2031, 5, 15, 3, 30);
    expect(await startLegacyIdentifyPeriods(database.db, new Date(startedMs + LEGACY_IDENTIFY_PERIOD_MS))).toBeGreaterThanOrEqual(1);
    const legacy = await signatureFromStoredHash(site, 'customer-7');
    const current = await identitySignature(await identifySecret(MASTER_KEY, site.id), 'customer-7');

    const lastMoment = startedMs + LEGACY_IDENTIFY_PERIOD_MS - 1;
    expect(await identifyAs(site, { masterKey: MASTER_KEY, nowMs: startedMs + DAY_MS }, 'customer-7', legacy)).toEqual({ status: 201, externalUserId: 'customer-7' });
    expect((await identifyAs(site, { masterKey: MASTER_KEY, nowMs: lastMoment }, 'customer-7', legacy)).status).toBe(201);
    expect(await identifyAs(site, { masterKey: MASTER_KEY, nowMs: lastMoment + 1 }, 'customer-7', legacy)).toEqual({ status: 403, externalUserId: undefined });
    // The new scheme works on both sides of the end.
    expect((await identifyAs(site, { masterKey: MASTER_KEY, nowMs: startedMs + DAY_MS }, 'customer-7', current)).status).toBe(201);
    expect((await identifyAs(site, { masterKey: MASTER_KEY, nowMs: lastMoment + 1 }, 'customer-7', current)).status).toBe(201);
  });

  it('a period once started is not moved by a later start', async () => {
    const site = await createSite(database.db, { name: 'Old shop 2', origins: ['https://shop.example'] }, undefined);
    const firstEnd = new Date(Date.UTC(2030, 0, 1));
    await startLegacyIdentifyPeriods(database.db, firstEnd);
    await startLegacyIdentifyPeriods(database.db, new Date(Date.UTC(2030, 6, 1)));
    const row = await database.db.selectFrom('sites').select(['legacy_identify', 'legacy_identify_until']).where('id', '=', site.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ legacy_identify: true, legacy_identify_until: firstEnd });
  });

  it('a site created with a master key never gets a transition period', async () => {
    const site = await createSite(database.db, { name: 'New shop 2', origins: ['https://shop.example'] }, MASTER_KEY);
    await startLegacyIdentifyPeriods(database.db, new Date(Date.now() + LEGACY_IDENTIFY_PERIOD_MS));
    const row = await database.db.selectFrom('sites').select(['legacy_identify', 'legacy_identify_until']).where('id', '=', site.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ legacy_identify: false, legacy_identify_until: null });
  });
});

describe('identify without a master key', () => {
  it('accepts the secret-key-hash signature, the only key there is, and refuses a wrong one', async () => {
    const site = await createSite(database.db, { name: 'Clear shop', origins: ['https://shop.example'] }, undefined);
    const nowMs = Date.now();
    expect((await identifyAs(site, { nowMs }, 'customer-9', await signatureFromStoredHash(site, 'customer-9'))).status).toBe(201);
    expect((await identifyAs(site, { nowMs }, 'customer-9', await identitySignature(await hashSecretKey('sk_guess'), 'customer-9'))).status).toBe(403);
  });
});
