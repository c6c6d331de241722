import { describe, expect, it } from 'vitest';
import { originsSeenOfSite } from '../db/origins-seen.ts';
import { browserHeaders, browserSubscription, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';
import { memoryLogger } from '../logger.ts';
import { createOriginsSeenRecorder, RecordThrottle } from './origins-seen.ts';

const T0 = Date.UTC(2030, 0, 15, 9, 0, 0);
let nowMs = T0;
const world = routeTestWorld({ now: () => nowMs });
const at = (seconds: number) => new Date(T0 + seconds * 1000);

async function config(publishableKey: string, origin: string | undefined) {
  return world.app.request(`/v1/sites/${publishableKey}/config`, { headers: origin === undefined ? {} : { Origin: origin } });
}

async function subscribe(site: { publishableKey: string }, endpoint?: string, origin = SHOP_ORIGIN) {
  return world.app.request('/v1/subscriptions', {
    method: 'POST',
    headers: browserHeaders(site, origin),
    body: JSON.stringify({ subscription: await browserSubscription(endpoint), visitorId: 'visitor-0001' }),
  });
}

describe('the record of origins the snippet was seen from', () => {
  it('writes a config request at most once a minute per site and origin', async () => {
    const site = await testSite(world.database.db);
    nowMs = T0;
    expect((await config(site.publishableKey, SHOP_ORIGIN)).status).toBe(200);
    nowMs = T0 + 30_000;
    expect((await config(site.publishableKey, SHOP_ORIGIN)).status).toBe(200);
    // Within the minute: the second request wrote nothing, the first's time stands.
    expect(await originsSeenOfSite(world.database.db, site.id)).toEqual([{ origin: SHOP_ORIGIN, configAt: at(0), subscriptionAt: null, refused: null }]);

    nowMs = T0 + 61_000;
    await config(site.publishableKey, SHOP_ORIGIN);
    expect((await originsSeenOfSite(world.database.db, site.id))[0]!.configAt).toEqual(at(61));
  });

  it('throttles each site, origin and kind apart', async () => {
    const site = await testSite(world.database.db);
    nowMs = T0 + 3_600_000;
    await config(site.publishableKey, SHOP_ORIGIN);
    expect((await subscribe(site)).status).toBe(201);
    const [row] = await originsSeenOfSite(world.database.db, site.id);
    expect(row).toMatchObject({ configAt: new Date(nowMs), subscriptionAt: new Date(nowMs) });
  });

  it('notes a config request refused for its origin, with the exact origin and the code', async () => {
    const site = await testSite(world.database.db);
    nowMs = T0 + 2 * 3_600_000;
    expect((await config(site.publishableKey, 'https://www.shop.example')).status).toBe(403);
    expect(await originsSeenOfSite(world.database.db, site.id)).toEqual([
      {
        origin: 'https://www.shop.example',
        configAt: null,
        subscriptionAt: null,
        refused: { at: new Date(nowMs), request: 'config', code: 'origin_not_allowed', detail: 'Origin https://www.shop.example is not one of this site’s origins' },
      },
    ]);
  });

  it('notes a subscription refused for its endpoint', async () => {
    const site = await testSite(world.database.db);
    nowMs = T0 + 3 * 3_600_000;
    expect((await subscribe(site, 'https://push.evil.example/x')).status).toBe(400);
    const [row] = await originsSeenOfSite(world.database.db, site.id);
    expect(row).toMatchObject({ origin: SHOP_ORIGIN, subscriptionAt: null, refused: { request: 'subscription', code: 'endpoint_not_allowed' } });
  });

  it('notes nothing without an Origin, for an unknown key, or for an opt-out', async () => {
    const site = await testSite(world.database.db);
    nowMs = T0 + 4 * 3_600_000;
    expect((await config(site.publishableKey, undefined)).status).toBe(200);
    expect((await config('pk_unknown_key_000000', SHOP_ORIGIN)).status).toBe(401);
    const optOut = await world.app.request('/v1/subscriptions', {
      method: 'DELETE',
      headers: browserHeaders(site),
      body: JSON.stringify({ endpoint: 'https://fcm.googleapis.com/fcm/send/none' }),
    });
    expect(optOut.status).toBe(404);
    expect(await originsSeenOfSite(world.database.db, site.id)).toEqual([]);
  });
});

describe('createOriginsSeenRecorder', () => {
  it('logs a write that fails instead of failing the shopper’s request', async () => {
    const logger = memoryLogger();
    const recorder = createOriginsSeenRecorder({ db: world.database.db, logger, now: () => T0 });
    // No such site: the foreign key refuses the row.
    await expect(recorder.seen('00000000-0000-4000-8000-000000000000', SHOP_ORIGIN, 'config')).resolves.toBeUndefined();
    expect(logger.entries).toEqual([expect.objectContaining({ level: 'warn', message: 'origin record not written' })]);
  });
});

describe('RecordThrottle', () => {
  it('lets a key through once per interval', () => {
    const throttle = new RecordThrottle(60_000, 100);
    expect(throttle.take('a', 0)).toBe(true);
    expect(throttle.take('a', 59_999)).toBe(false);
    expect(throttle.take('b', 59_999)).toBe(true);
    expect(throttle.take('a', 60_000)).toBe(true);
  });

  it('remembers at most its bound of keys, forgetting those whose interval is over, skipping new ones while all are fresh', () => {
    const throttle = new RecordThrottle(60_000, 3);
    for (const key of ['a', 'b', 'c']) expect(throttle.take(key, 0)).toBe(true);
    expect(throttle.take('d', 1_000)).toBe(false);
    // Once the first keys' minute is over they are forgotten, and a new key fits.
    expect(throttle.take('d', 60_000)).toBe(true);
    expect(throttle.take('a', 60_500)).toBe(true);
    expect(throttle.take('d', 60_500)).toBe(false);
  });
});
