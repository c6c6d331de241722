import { describe, expect, it } from 'vitest';
import { browserHeaders, SHOP_ORIGIN } from '../testing/fixtures.ts';
import { expectQuietNightEndsInBerlinThenNewYork, usePushWorld } from '../testing/push-world.ts';
import { findSiteById } from '../db/sites.ts';
import { DAY_MS } from '../time.ts';
import { fireProductTriggers } from './price-drops.ts';

const pushWorld = usePushWorld();

/** Midday in Berlin: outside quiet hours. */
const NOON_BERLIN = Date.parse('2026-11-23T11:00:00Z');

async function lowStockShop(lowStock: Record<string, unknown> = {}) {
  const s = await pushWorld.shop({ startMs: NOON_BERLIN });
  await s.settings({ lowStock: { enabled: true, ...lowStock } });
  await s.feed({ price: 120, stock: 10 });
  return s;
}

const sentFor = (notificationId: string) =>
  pushWorld.db.selectFrom('deliveries').select(['status', 'subscription_id']).where('notification_id', '=', notificationId).execute();

describe('low stock', () => {
  it('takes stock from the feed as a whole number of 0 or more, keeps it when a feed leaves it out, and shows it', async () => {
    const s = await pushWorld.shop({ startMs: NOON_BERLIN });
    expect((await s.call('PUT', '/v1/products/lamp', { name: 'Lamp', stock: 7 })).body).toMatchObject({ stock: 7 });
    expect((await s.call('PUT', '/v1/products/lamp', { price: 30 })).body).toMatchObject({ stock: 7, price: 30 });
    expect((await s.call('GET', '/v1/products/lamp')).body).toMatchObject({ stock: 7 });
    expect((await s.call('PUT', '/v1/products/fresh', { name: 'Fresh' })).body).toMatchObject({ stock: null });
    for (const stock of [-1, 2.5, '3']) {
      const refused = await s.call('PUT', '/v1/products/lamp', { stock });
      expect(refused.status, String(stock)).toBe(400);
      expect(JSON.stringify(refused.body.error.details)).toContain('stock');
    }
  });

  it('is off until the owner turns it on', async () => {
    const s = await pushWorld.shop({ startMs: NOON_BERLIN });
    await s.feed({ price: 120, stock: 10 });
    const anna = await s.shopper('anna');
    await anna.views(120);
    expect(await s.feed({ stock: 2 })).toEqual([]);
  });

  it('fires at the threshold, not above, to the viewer, the carter and the watcher, in each one’s language', async () => {
    const s = await lowStockShop();
    const viewer = await s.shopper('viewer');
    const carter = await s.shopper('carter', { locale: 'de-DE' });
    const watcher = await s.shopper('watcher');
    const stranger = await s.shopper('stranger');
    await viewer.views(120);
    await carter.event('cart_updated', { cartId: 'c1', items: [{ productId: 'jacket', name: 'Rain jacket', price: 120, quantity: 1 }], total: 120, currency: 'EUR', url: `${SHOP_ORIGIN}/cart` });
    const watch = await s.call('POST', '/v1/watches', { visitorId: watcher.visitorId, productId: 'jacket', kind: 'price_drop' }, browserHeaders(s.site));
    expect(watch.status, JSON.stringify(watch.body)).toBe(201);

    expect(await s.feed({ stock: 4 })).toEqual([]);
    const queued = await s.feed({ stock: 3 });
    expect(queued).toHaveLength(1);
    await s.deliver();

    expect(viewer.pushes()).toEqual([expect.objectContaining({ title: 'Only 3 left: Rain jacket', body: 'It is selling fast. Tap to get yours before it is gone.', url: `${SHOP_ORIGIN}/p/jacket` })]);
    expect(carter.pushes().map((p) => p.title)).toEqual(['Nur noch 3 verfügbar: Rain jacket']);
    expect(watcher.pushes()).toHaveLength(1);
    expect(stranger.pushes()).toHaveLength(0);
    const notification = await pushWorld.db.selectFrom('notifications').select(['source', 'kind', 'audience']).where('id', '=', queued[0]!).executeTakeFirstOrThrow();
    expect(notification).toMatchObject({ source: 'low_stock', kind: 'marketing', audience: { trigger: 'low_stock', productId: 'jacket', stock: 3 } });
    // Falling further within the window tells no one again; sold out is no news.
    expect(await s.feed({ stock: 1 })).toEqual([]);
    expect(await s.feed({ stock: 0, inStock: false })).toEqual([]);
  });

  it('tells each shopper once across two concurrent feed writes', async () => {
    const s = await lowStockShop();
    const shoppers = await Promise.all(['a', 'b', 'c'].map((name) => s.shopper(name)));
    for (const shopper of shoppers) await shopper.views(120);
    const [one, two] = await Promise.all([
      s.call('PUT', '/v1/products/jacket', { stock: 3 }),
      s.call('POST', '/v1/products/batch', { products: [{ id: 'jacket', stock: 2 }] }),
    ]);
    expect([one.status, two.status]).toEqual([200, 200]);
    const queued = [...one.body.notificationsQueued, ...two.body.notificationsQueued];
    expect(queued).toHaveLength(1);
    await s.deliver();
    for (const shopper of shoppers) expect(shopper.pushes(), shopper.name).toHaveLength(1);
    const claims = await pushWorld.db.selectFrom('low_stock_alerts').select('shopper').where('site_id', '=', s.site.id).execute();
    expect(claims).toHaveLength(3);
  });

  it('claims each shopper once when two workers fire the same change at once, without the product row between them', async () => {
    const s = await lowStockShop();
    const shoppers = await Promise.all(['d', 'e'].map((name) => s.shopper(name)));
    for (const shopper of shoppers) await shopper.views(120);
    const site = (await findSiteById(pushWorld.db, s.site.id))!;
    const change = { productId: 'jacket', name: 'Rain jacket', url: `${SHOP_ORIGIN}/p/jacket`, image: null, currency: 'EUR', price: 120, oldPrice: 120, inStock: true, wasInStock: true, stock: 2, oldStock: 10 };
    const fire = () => pushWorld.db.transaction().execute((trx) => fireProductTriggers(trx, site, [change], { now: new Date(s.clock.nowMs), publicUrl: 'https://push.shop.example' }));
    const results = await Promise.all([fire(), fire()]);
    expect(results.flat()).toHaveLength(1);
    await s.deliver();
    for (const shopper of shoppers) expect(shopper.pushes(), shopper.name).toHaveLength(1);
    // A restart: the same change fired again later in the window tells no one.
    s.clock.nowMs += DAY_MS;
    expect(await fire()).toEqual([]);
  });

  it('leaves out a shopper whose interest is older than N days, and tells a shopper again only after the window', async () => {
    const s = await lowStockShop({ withinDays: 14 });
    const early = await s.shopper('early');
    const recent = await s.shopper('recent');
    await early.views(120);
    s.clock.nowMs += 2 * DAY_MS;
    await recent.views(120);
    s.clock.nowMs += 13 * DAY_MS;
    // 15 days after the early view, 13 after the recent one.
    expect(await s.feed({ stock: 3 })).toHaveLength(1);
    await s.deliver();
    expect(early.pushes()).toHaveLength(0);
    expect(recent.pushes()).toHaveLength(1);

    await s.feed({ stock: 20 });
    s.clock.nowMs += 10 * DAY_MS;
    await recent.views(120);
    // Within 14 days of the last push: nothing, even after a restock.
    expect(await s.feed({ stock: 2 })).toEqual([]);
    await s.feed({ stock: 20 });
    s.clock.nowMs += 5 * DAY_MS;
    await recent.views(120);
    expect(await s.feed({ stock: 2 })).toHaveLength(1);
    await s.deliver();
    expect(recent.pushes().map((p) => p.title)).toEqual(['Only 3 left: Rain jacket', 'Only 2 left: Rain jacket']);
  });

  it('holds out its share like the other marketing automations, and obeys the frequency cap', async () => {
    const s = await lowStockShop({ holdoutPercent: 100 });
    const held = await s.shopper('held');
    await held.views(120);
    const [queued] = await s.feed({ stock: 3 });
    await s.deliver();
    expect(held.pushes()).toHaveLength(0);
    expect((await sentFor(queued!)).map((row) => row.status)).toEqual(['held_out']);

    const capped = await lowStockShop();
    await capped.settings({ engagement: { frequencyCap: { marketingPer24h: 0 } } });
    const shopper = await capped.shopper('capped');
    await shopper.views(120);
    const [cappedId] = await capped.feed({ stock: 3 });
    await capped.deliver();
    expect(shopper.pushes()).toHaveLength(0);
    expect((await sentFor(cappedId!)).map((row) => row.status)).toEqual(['suppressed']);
  });

  it('waits for the end of quiet hours in each shopper’s own zone, across the night the clocks go back in Berlin', async () => {
    // 2026-10-25 01:30 UTC: 02:30 in Berlin an hour after the clocks went back (CET), 21:30 the evening before in New York (still EDT).
    const night = Date.parse('2026-10-25T01:30:00Z');
    const s = await pushWorld.shop({ startMs: night - DAY_MS });
    await s.settings({ lowStock: { enabled: true }, engagement: { quietHours: { enabled: true, start: '21:00', end: '09:00' } } });
    await s.feed({ price: 120, stock: 10 });
    const berlin = await s.shopper('berlin', { locale: 'de-DE', timeZone: 'Europe/Berlin' });
    const newYork = await s.shopper('new-york', { locale: 'en-US', timeZone: 'America/New_York' });
    await berlin.views(120);
    await newYork.views(120);
    s.clock.nowMs = night;
    expect(await s.feed({ stock: 2 })).toHaveLength(1);
    await s.deliver();
    await expectQuietNightEndsInBerlinThenNewYork(s, berlin, newYork, { berlin: 'Nur noch 2 verfügbar: Rain jacket', newYork: 'Only 2 left: Rain jacket' });
  });
});
