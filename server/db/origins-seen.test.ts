import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { MAX_OTHER_ORIGINS_PER_SITE, originsSeenOfSite, recordOriginRefused, recordOriginSeen } from './origins-seen.ts';

const T0 = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const SHOP = 'https://shop.example';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

const notAllowed = (origin: string) => ({ request: 'config' as const, code: 'origin_not_allowed', detail: `Origin ${origin} is not one of this site’s origins` });

describe('origins seen', () => {
  it('keeps one row per origin with the latest config and subscription times, never moving them back', async () => {
    const site = await testSite(database.db, [SHOP]);
    await recordOriginSeen(database.db, site.id, SHOP, 'config', minutes(5));
    await recordOriginSeen(database.db, site.id, SHOP, 'subscription', minutes(3));
    // A process whose write arrives late: the earlier time does not replace the later one.
    await recordOriginSeen(database.db, site.id, SHOP, 'config', minutes(2));
    expect(await originsSeenOfSite(database.db, site.id)).toEqual([{ origin: SHOP, configAt: minutes(5), subscriptionAt: minutes(3), refused: null }]);
  });

  it('adds a refusal to an origin already seen, keeping what got through', async () => {
    const site = await testSite(database.db, [SHOP]);
    await recordOriginSeen(database.db, site.id, SHOP, 'config', minutes(1));
    await recordOriginRefused(database.db, { id: site.id, allowedOrigins: [SHOP] }, SHOP, { request: 'subscription', code: 'endpoint_not_allowed', detail: 'not a push service' }, minutes(2));
    // A refusal written late by a process behind the others does not replace a newer one.
    await recordOriginRefused(database.db, { id: site.id, allowedOrigins: [SHOP] }, SHOP, { request: 'config', code: 'invalid_key', detail: 'older' }, minutes(1));
    expect(await originsSeenOfSite(database.db, site.id)).toEqual([
      { origin: SHOP, configAt: minutes(1), subscriptionAt: null, refused: { at: minutes(2), request: 'subscription', code: 'endpoint_not_allowed', detail: 'not a push service' } },
    ]);
  });

  it('keeps the last refusal with its code and detail, cut to a bounded length', async () => {
    const site = await testSite(database.db, [SHOP]);
    await recordOriginRefused(database.db, { id: site.id, allowedOrigins: [SHOP] }, SHOP, { request: 'subscription', code: 'endpoint_not_allowed', detail: 'x'.repeat(1000) }, minutes(1));
    await recordOriginRefused(database.db, { id: site.id, allowedOrigins: [SHOP] }, SHOP, { request: 'subscription', code: 'invalid_signature', detail: 'no match' }, minutes(4));
    const [row] = await originsSeenOfSite(database.db, site.id);
    expect(row!.refused).toEqual({ at: minutes(4), request: 'subscription', code: 'invalid_signature', detail: 'no match' });

    await recordOriginRefused(database.db, { id: site.id, allowedOrigins: [SHOP] }, SHOP, { request: 'subscription', code: 'endpoint_not_allowed', detail: 'x'.repeat(1000) }, minutes(6));
    const [later] = await originsSeenOfSite(database.db, site.id);
    expect(later!.refused!.detail).toBe('x'.repeat(300));
  });

  it(`keeps at most ${MAX_OTHER_ORIGINS_PER_SITE} origins outside the allowed list per site, replacing the one heard from longest ago`, async () => {
    const site = await testSite(database.db, [SHOP]);
    const other = await testSite(database.db, [SHOP]);
    const allowed = { id: site.id, allowedOrigins: [SHOP] };
    await recordOriginSeen(database.db, site.id, SHOP, 'config', minutes(0));
    await recordOriginRefused(database.db, { id: other.id, allowedOrigins: [SHOP] }, 'https://other-site.example', notAllowed('x'), minutes(0));
    for (let i = 0; i < MAX_OTHER_ORIGINS_PER_SITE; i++) {
      await recordOriginRefused(database.db, allowed, `https://made-up-${i}.example`, notAllowed('x'), minutes(1 + i));
    }
    // The oldest refused origin is heard from again: it is now the most recent, not the one to go.
    await recordOriginRefused(database.db, allowed, 'https://made-up-0.example', notAllowed('x'), minutes(100));
    await recordOriginRefused(database.db, allowed, 'https://www.shop.example', notAllowed('x'), minutes(101));

    const origins = (await originsSeenOfSite(database.db, site.id)).map((row) => row.origin);
    expect(origins.filter((origin) => origin !== SHOP)).toHaveLength(MAX_OTHER_ORIGINS_PER_SITE);
    expect(origins).toContain(SHOP);
    expect(origins).toContain('https://www.shop.example');
    expect(origins).toContain('https://made-up-0.example');
    expect(origins).not.toContain('https://made-up-1.example');
    expect(origins[0]).toBe('https://www.shop.example');
    // Another site's rows are not counted against this one, nor trimmed by it.
    expect((await originsSeenOfSite(database.db, other.id)).map((row) => row.origin)).toEqual(['https://other-site.example']);
  });

  it('always records an allowed origin, however many others the site has', async () => {
    const site = await testSite(database.db, [SHOP, 'https://second.example']);
    const allowed = { id: site.id, allowedOrigins: [SHOP, 'https://second.example'] };
    for (let i = 0; i < MAX_OTHER_ORIGINS_PER_SITE + 3; i++) {
      await recordOriginRefused(database.db, allowed, `https://made-up-${i}.example`, notAllowed('x'), minutes(1 + i));
    }
    await recordOriginRefused(database.db, allowed, 'https://second.example', { request: 'subscription', code: 'endpoint_not_allowed', detail: 'not a push service' }, minutes(200));
    await recordOriginSeen(database.db, site.id, SHOP, 'config', minutes(201));
    const rows = await originsSeenOfSite(database.db, site.id);
    expect(rows).toHaveLength(MAX_OTHER_ORIGINS_PER_SITE + 2);
    expect(rows.slice(0, 2).map((row) => row.origin)).toEqual([SHOP, 'https://second.example']);
  });
});
