import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { setBirthday } from '../db/birthdays.ts';
import type { Db, SubscriptionStatus } from '../db/database.ts';
import { browserHeaders, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';
import type { CreatedSite } from '../sites/create-site.ts';

const LOTS = { capacity: 100_000, refillPerSecond: 100_000 };
const CLOCK_MS = Date.parse('2026-11-20T12:00:00Z');
const world = routeTestWorld({ now: () => CLOCK_MS, rateLimits: { perIp: LOTS, perSite: LOTS, perSecretKey: LOTS, admin: LOTS } });

interface StoredSubscription {
  visitorId: string;
  externalUserId?: string | null;
  /** An ISO instant; microseconds are kept (Postgres stores them, a JS Date would not). */
  createdAt?: string;
  status?: SubscriptionStatus;
  locale?: string | null;
  browser?: string | null;
  tags?: Record<string, unknown>;
}

/** Subscriptions stored directly (as POST /v1/subscriptions would, with every column chosen); their ids in order. */
async function storeSubscriptions(db: Db, siteId: string, subscriptions: StoredSubscription[]): Promise<string[]> {
  if (subscriptions.length === 0) return [];
  const rows = await db
    .insertInto('subscriptions')
    .values(
      subscriptions.map((s) => ({
        site_id: siteId,
        endpoint: `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`,
        p256dh: 'BPublicKeyOfTheBrowser',
        auth: 'AuthSecretOfTheBrowser',
        vapid_public_key: 'BVapid',
        visitor_id: s.visitorId,
        external_user_id: s.externalUserId ?? null,
        locale: s.locale ?? null,
        time_zone: 'Europe/Berlin',
        user_agent_family: s.browser === undefined ? 'chrome' : s.browser,
        tags: JSON.stringify(s.tags ?? {}),
        status: s.status ?? 'active',
        created_at: s.createdAt ?? new Date(CLOCK_MS).toISOString(),
        updated_at: new Date(CLOCK_MS),
        last_seen_at: new Date(CLOCK_MS),
      })),
    )
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

const secretHeaders = (site: { secretKey: string }) => ({ Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' });

async function get(path: string, site: { secretKey: string } = world.site) {
  const response = await world.app.request(path, { headers: secretHeaders(site) });
  return { status: response.status, body: (await response.json()) as any };
}

async function post(path: string, body: unknown, site: { secretKey: string } = world.site, headers: Record<string, string> = secretHeaders(site)) {
  const response = await world.app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}

async function del(path: string, site: { secretKey: string } = world.site) {
  const response = await world.app.request(path, { method: 'DELETE', headers: secretHeaders(site) });
  return { status: response.status, body: (await response.json()) as any };
}

/** A site of its own for a test, so its list holds only what the test stored. */
async function freshSite(): Promise<CreatedSite> {
  return testSite(world.database.db);
}

describe('GET /v1/subscribers: paging', () => {
  it('pages through 250 subscribers, each exactly once, while others subscribe between pages', async () => {
    const site = await freshSite();
    const db = world.database.db;
    // Timestamps that differ by a microsecond only, and ties on the same instant, all come in order.
    const stored = await storeSubscriptions(
      db,
      site.id,
      Array.from({ length: 250 }, (_, i) => ({
        visitorId: `paging-visitor-${String(i).padStart(4, '0')}`,
        createdAt: `2026-11-01T10:00:00.${String(Math.floor(i / 3)).padStart(6, '0')}Z`,
      })),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: any } = await get(`/v1/subscribers?limit=60${cursor ? `&cursor=${cursor}` : ''}`, site);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(60);
      seen.push(...page.body.data.map((s: { id: string }) => s.id));
      cursor = page.body.nextCursor;
      pages++;
      // New subscribers between pages: newer ones, and one at an instant the list already passed.
      await storeSubscriptions(db, site.id, [
        { visitorId: `paging-late-${pages}-a`, createdAt: `2026-11-02T10:00:00.00000${pages}Z` },
        { visitorId: `paging-late-${pages}-b`, createdAt: '2026-11-01T10:00:00.000040Z' },
      ]);
    } while (cursor !== null && pages < 20);

    expect(pages).toBe(5);
    expect(new Set(seen).size).toBe(seen.length);
    const seenStored = seen.filter((id) => stored.includes(id));
    expect(seenStored.sort()).toEqual([...stored].sort());
  });

  it('lists newest first, 50 a page unless asked, and says there is no next page on the last one', async () => {
    const site = await freshSite();
    const ids = await storeSubscriptions(
      world.database.db,
      site.id,
      Array.from({ length: 55 }, (_, i) => ({ visitorId: `order-visitor-${i}`, createdAt: new Date(CLOCK_MS - (55 - i) * 60_000).toISOString() })),
    );
    const first = await get('/v1/subscribers', site);
    expect(first.body.data).toHaveLength(50);
    expect(first.body.data[0]).toMatchObject({ id: ids[54], visitorId: 'order-visitor-54', browser: 'chrome', timeZone: 'Europe/Berlin', status: 'active', tags: {} });
    const second = await get(`/v1/subscribers?cursor=${first.body.nextCursor}`, site);
    expect(second.body.data.map((s: { id: string }) => s.id)).toEqual(ids.slice(0, 5).reverse());
    expect(second.body.nextCursor).toBeNull();
  });

  it('refuses a cursor it did not give, a limit out of range and a parameter it does not know', async () => {
    const site = await freshSite();
    for (const query of ['cursor=not-a-cursor', `cursor=${btoa('123.abc')}`, 'limit=0', 'limit=201', 'limit=ten', 'sort=name', 'status=gone', 'tag=novalue']) {
      const answer = await get(`/v1/subscribers?${query}`, site);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code, query).toBe('validation_failed');
    }
    expect((await get('/v1/subscribers?cursor=not-a-cursor', site)).body.error.message).toBe('cursor: is not a cursor this API gave out (hand back nextCursor as it came)');
  });

  it('needs a secret key, and lists only the key’s own site', async () => {
    const mine = await freshSite();
    const theirs = await freshSite();
    await storeSubscriptions(world.database.db, theirs.id, [{ visitorId: 'someone-elses-visitor' }]);
    expect((await get('/v1/subscribers', mine)).body.data).toEqual([]);
    const withPublishable = await world.app.request('/v1/subscribers', { headers: { Authorization: `Bearer ${mine.publishableKey}` } });
    expect(withPublishable.status).toBe(403);
    expect((await world.app.request('/v1/subscribers')).status).toBe(401);
  });
});

describe('GET /v1/subscribers: filters', () => {
  let site: CreatedSite;
  let ids: string[];
  beforeAll(async () => {
    site = await freshSite();
    ids = await storeSubscriptions(world.database.db, site.id, [
      { visitorId: 'filter-anna-1', externalUserId: 'user-anna', locale: 'de-DE', browser: 'firefox', tags: { plan: 'vip', visits: 3 } },
      { visitorId: 'filter-ben-01', externalUserId: 'user-ben', locale: 'de-AT', browser: 'chrome', status: 'expired', tags: { plan: 'basic', beta: true } },
      { visitorId: 'filter-cleo-1', locale: 'en-GB', browser: 'safari', status: 'unsubscribed', tags: { plan: 'vip' } },
      { visitorId: 'filter_100%_x', locale: 'fr', browser: null },
    ]);
  });

  const listed = async (query: string) => {
    const answer = await get(`/v1/subscribers?${query}`, site);
    expect(answer.status, query).toBe(200);
    return answer.body.data.map((s: { visitorId: string }) => s.visitorId).sort();
  };

  it('finds by the start of a visitor id or a user id, with % and _ taken literally', async () => {
    expect(await listed('search=filter-a')).toEqual(['filter-anna-1']);
    expect(await listed('search=user-b')).toEqual(['filter-ben-01']);
    expect(await listed('search=anna')).toEqual([]);
    expect(await listed(`search=${encodeURIComponent('filter_100%')}`)).toEqual(['filter_100%_x']);
    expect(await listed(`search=${encodeURIComponent('filter%')}`)).toEqual([]);
  });

  it('filters by status, browser, locale (a language finds its regions) and tag', async () => {
    expect(await listed('status=active')).toEqual(['filter-anna-1', 'filter_100%_x']);
    expect(await listed('status=unsubscribed')).toEqual(['filter-cleo-1']);
    expect(await listed('browser=firefox')).toEqual(['filter-anna-1']);
    expect(await listed('locale=de')).toEqual(['filter-anna-1', 'filter-ben-01']);
    expect(await listed('locale=de-at')).toEqual(['filter-ben-01']);
    expect(await listed('tag=plan:vip')).toEqual(['filter-anna-1', 'filter-cleo-1']);
    expect(await listed('tag=visits:3')).toEqual(['filter-anna-1']);
    expect(await listed('tag=beta:true')).toEqual(['filter-ben-01']);
    expect(await listed('tag=plan:vip&status=active&locale=de')).toEqual(['filter-anna-1']);
  });

  it('shows each subscriber’s columns', async () => {
    const answer = await get('/v1/subscribers?search=filter-ben', site);
    expect(answer.body.data).toEqual([
      {
        id: ids[1],
        visitorId: 'filter-ben-01',
        externalUserId: 'user-ben',
        browser: 'chrome',
        locale: 'de-AT',
        timeZone: 'Europe/Berlin',
        tags: { plan: 'basic', beta: true },
        status: 'expired',
        subscribedAt: '2026-11-20T12:00:00.000Z',
        lastSeenAt: '2026-11-20T12:00:00.000Z',
        lastSuccessAt: null,
      },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// A shopper with a history: two browsers tied by the user id the shop vouched for, events, a cart,
// a watch, pushes (one failed), a click and an order it brought.

interface History {
  site: CreatedSite;
  laptop: string;
  phone: string;
  notificationId: string;
  otherShopper: string;
}

async function shopperWithHistory(): Promise<History> {
  const site = await freshSite();
  const db = world.database.db;
  const [laptop, phone, otherShopper] = await storeSubscriptions(db, site.id, [
    { visitorId: 'anna-laptop-1', externalUserId: 'user-anna', createdAt: '2026-11-10T09:00:00Z' },
    { visitorId: 'anna-phone-01', externalUserId: 'user-anna', createdAt: '2026-11-11T09:00:00Z', browser: 'safari' },
    { visitorId: 'ben-laptop-01', externalUserId: 'user-ben', createdAt: '2026-11-12T09:00:00Z' },
  ]);
  const shopHeaders = secretHeaders(site);
  const cart = { cartId: 'cart-anna', items: [{ productId: 'lamp', name: 'Lamp', price: 30, quantity: 1 }], total: 30, currency: 'EUR', url: `${SHOP_ORIGIN}/cart` };
  for (const [visitorId, event] of [
    ['anna-laptop-1', { type: 'product_viewed', properties: { productId: 'lamp', price: 30, currency: 'EUR', url: `${SHOP_ORIGIN}/p/lamp` } }],
    ['anna-laptop-1', { type: 'cart_updated', properties: cart }],
    ['ben-laptop-01', { type: 'product_viewed', properties: { productId: 'lamp', price: 30, currency: 'EUR', url: `${SHOP_ORIGIN}/p/lamp` } }],
    ['ben-laptop-01', { type: 'cart_updated', properties: { ...cart, cartId: 'cart-ben' } }],
  ] as const) {
    expect((await post('/v1/events', { visitorId, ...event }, site, browserHeaders(site))).status).toBe(202);
  }
  for (const visitorId of ['anna-phone-01', 'ben-laptop-01']) {
    expect((await post('/v1/watches', { visitorId, productId: 'lamp', kind: 'back_in_stock' }, site, browserHeaders(site))).status).toBeLessThan(300);
  }
  const sent = await post('/v1/notifications', { title: 'Lamps 20% off', body: 'Today only', url: `${SHOP_ORIGIN}/sale`, to: { externalUserIds: ['user-anna', 'user-ben'] } }, site, shopHeaders);
  expect(sent.body.audience).toBe(3);
  const notificationId = sent.body.id as string;
  // What the delivery worker would have written: two sent, Anna's phone failed for good.
  await db.updateTable('deliveries').set({ status: 'sent', sent_at: new Date(CLOCK_MS), attempts: 1 }).where('notification_id', '=', notificationId).where('subscription_id', '!=', phone!).execute();
  await db
    .updateTable('deliveries')
    .set({ status: 'failed', attempts: 1, last_status: 403, last_error: 'push_rejected: 403 from web.push.apple.com' })
    .where('subscription_id', '=', phone!)
    .execute();
  const deliveries = await db.selectFrom('deliveries').select(['id', 'subscription_id']).where('notification_id', '=', notificationId).execute();
  for (const delivery of deliveries.filter((d) => d.subscription_id !== phone)) {
    await db.insertInto('interactions').values({ delivery_id: delivery.id, notification_id: notificationId, type: 'shown', action: null, created_at: new Date(CLOCK_MS) }).execute();
    await db.insertInto('interactions').values({ delivery_id: delivery.id, notification_id: notificationId, type: 'clicked', action: '', created_at: new Date(CLOCK_MS) }).execute();
  }
  // Both ordered after the click: the shop's backend reports it, so it is attributed to the push.
  for (const [externalUserId, orderId, value] of [['user-anna', 'order-anna-1', 30], ['user-ben', 'order-ben-1', 45]] as const) {
    expect((await post('/v1/events', { externalUserId, type: 'order_completed', properties: { orderId, value, currency: 'EUR' } }, site, shopHeaders)).status).toBe(202);
  }
  await db.insertInto('price_alerts').values({ site_id: site.id, product_id: 'lamp', shopper: 'u:user-anna', price: 24, notified_at: new Date(CLOCK_MS) }).execute();
  // Birthdays the shop's backend set (the birthday push).
  for (const [externalUserId, month, day] of [['user-anna', 3, 29], ['user-ben', 7, 1]] as const) {
    await setBirthday(db, site.id, externalUserId, { month, day }, new Date(CLOCK_MS));
  }
  // Cart reminders as the trigger records them: the shop's cart id as trigger key and in the audience.
  for (const cartId of ['cart-anna', 'cart-ben']) {
    await db
      .insertInto('notifications')
      .values({
        site_id: site.id,
        source: 'cart_reminder',
        kind: 'marketing',
        content: JSON.stringify({ title: 'Your lamp is waiting', body: 'Still 30 €', url: `${SHOP_ORIGIN}/cart`, tag: 'reminder' }),
        audience: JSON.stringify({ trigger: 'cart_reminder', cartId, step: 1 }),
        audience_size: 0,
        ttl_seconds: 3_600,
        trigger_key: cartId,
        created_at: new Date(CLOCK_MS - 60_000),
      })
      .execute();
  }
  return { site, laptop: laptop!, phone: phone!, notificationId, otherShopper: otherShopper! };
}

describe('GET /v1/subscribers/{id}', () => {
  let history: History;
  beforeAll(async () => {
    history = await shopperWithHistory();
  });

  it('shows the subscriber, every subscription of the shopper, and their events, deliveries with reasons, clicks and orders', async () => {
    const { status, body } = await get(`/v1/subscribers/${history.phone}`, history.site);
    expect(status).toBe(200);
    expect(body.subscriber).toMatchObject({ id: history.phone, visitorId: 'anna-phone-01', externalUserId: 'user-anna', browser: 'safari' });
    expect(body.shopper).toEqual({ visitorIds: ['anna-laptop-1', 'anna-phone-01'], externalUserIds: ['user-anna'] });
    expect(body.subscriptions.map((s: { id: string }) => s.id)).toEqual([history.phone, history.laptop]);
    expect(body.events.map((e: { type: string }) => e.type).sort()).toEqual(['cart_updated', 'order_completed', 'product_viewed']);
    expect(body.events.every((e: { visitorId: string | null; externalUserId: string | null }) => e.visitorId === 'anna-laptop-1' || e.externalUserId === 'user-anna')).toBe(true);
    expect(body.deliveries).toHaveLength(2);
    const failed = body.deliveries.find((d: { subscriptionId: string }) => d.subscriptionId === history.phone);
    expect(failed).toMatchObject({ status: 'failed', reason: 'push_rejected', detail: 'push_rejected: 403 from web.push.apple.com', lastStatus: 403, title: 'Lamps 20% off', trigger: 'api' });
    expect(body.deliveries.find((d: { subscriptionId: string }) => d.subscriptionId === history.laptop)).toMatchObject({ status: 'sent', reason: null });
    expect(body.clicks).toEqual([expect.objectContaining({ notificationId: history.notificationId, type: 'clicked', action: '' })]);
    expect(body.orders).toEqual([{ orderId: 'order-anna-1', value: 30, currency: 'EUR', createdAt: '2026-11-20T12:00:00.000Z', notificationId: history.notificationId }]);
  });

  it('is 404 for another site’s key, an unknown id and an id that is not one', async () => {
    const other = await freshSite();
    expect((await get(`/v1/subscribers/${history.phone}`, other)).status).toBe(404);
    expect((await del(`/v1/subscribers/${history.phone}`, other)).status).toBe(404);
    expect((await get(`/v1/subscribers/${crypto.randomUUID()}`, history.site)).status).toBe(404);
    const notAnId = await get('/v1/subscribers/anna', history.site);
    expect(notAnId).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });
});

describe('POST /v1/subscribers/export', () => {
  let history: History;
  beforeAll(async () => {
    history = await shopperWithHistory();
  });

  it('holds everything stored about the shopper and nothing about anyone else, without the browser’s keys', async () => {
    const { status, body } = await post('/v1/subscribers/export', { visitorId: 'anna-phone-01' }, history.site);
    expect(status).toBe(200);
    expect(body.exportedAt).toBe('2026-11-20T12:00:00.000Z');
    expect(body.shopper).toEqual({ visitorIds: ['anna-laptop-1', 'anna-phone-01'], externalUserIds: ['user-anna'] });
    expect(body.subscriptions.map((s: { id: string }) => s.id).sort()).toEqual([history.laptop, history.phone].sort());
    expect(body.subscriptions[0].endpoint).toMatch(/^https:\/\/fcm\.googleapis\.com\/fcm\/send\//);
    expect(body.events.map((e: { type: string }) => e.type).sort()).toEqual(['cart_updated', 'order_completed', 'product_viewed']);
    expect(body.deliveries.map((d: { body: string }) => d.body)).toEqual(['Today only', 'Today only']);
    expect(body.interactions.map((i: { type: string }) => i.type).sort()).toEqual(['clicked', 'shown']);
    expect(body.orders).toEqual([expect.objectContaining({ orderId: 'order-anna-1', value: 30, notificationId: history.notificationId })]);
    expect(body.carts).toEqual([expect.objectContaining({ cartId: 'cart-anna', total: 30, status: 'ordered', items: [expect.objectContaining({ productId: 'lamp' })] })]);
    expect(body.watches).toEqual([expect.objectContaining({ visitorId: 'anna-phone-01', productId: 'lamp', kind: 'back_in_stock' })]);
    expect(body.pricesSeen.map((p: { via: string }) => p.via).sort()).toEqual(expect.arrayContaining(['carted']));
    expect(body.priceAlerts).toEqual([{ productId: 'lamp', price: 24, notifiedAt: '2026-11-20T12:00:00.000Z' }]);
    expect(body.birthdays).toEqual([{ externalUserId: 'user-anna', month: 3, day: 29 }]);
    const text = JSON.stringify(body);
    for (const absent of ['user-ben', 'ben-laptop-01', 'cart-ben', 'order-ben-1', 'BPublicKeyOfTheBrowser', 'AuthSecretOfTheBrowser']) expect(text).not.toContain(absent);
  });

  it('answers empty lists for someone of whom nothing is stored, and for another site’s shopper', async () => {
    const nobody = await post('/v1/subscribers/export', { externalUserId: 'user-nobody' }, history.site);
    expect(nobody.status).toBe(200);
    expect(nobody.body).toMatchObject({ subscriptions: [], events: [], deliveries: [], orders: [], carts: [], watches: [] });
    const elsewhere = await post('/v1/subscribers/export', { externalUserId: 'user-anna' }, await freshSite());
    expect(elsewhere.body).toMatchObject({ subscriptions: [], events: [], deliveries: [], interactions: [], orders: [], carts: [] });
  });

  it('needs exactly one of visitorId and externalUserId, and refuses other fields', async () => {
    for (const body of [{}, { visitorId: 'anna-phone-01', externalUserId: 'user-anna' }, { visitorId: 'anna-phone-01', email: 'anna@example.com' }, { visitorId: 'no' }]) {
      expect((await post('/v1/subscribers/export', body, history.site)).status, JSON.stringify(body)).toBe(400);
      expect((await post('/v1/subscribers/erase', body, history.site)).status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('erase', () => {
  async function snapshot(site: CreatedSite, notificationId: string) {
    const stats = await get('/v1/stats', site);
    const status = await get(`/v1/notifications/${notificationId}`, site);
    expect(stats.status).toBe(200);
    expect(status.status).toBe(200);
    return { stats: stats.body, notification: status.body };
  }

  /** Rows anywhere on the site that still name one of `ids` (visitor ids, user ids, shopper keys, subscription ids, order ids). */
  async function rowsNaming(db: Db, siteId: string, ids: string[]) {
    const keys = [...ids, ...ids.map((id) => `v:${id}`), ...ids.map((id) => `u:${id}`)];
    const result = await sql<{ table: string; count: string }>`
      select 'subscriptions' as table, count(*) from subscriptions where site_id = ${siteId} and (visitor_id = any(${ids}::text[]) or external_user_id = any(${ids}::text[]) or id::text = any(${ids}::text[]))
      union all select 'events', count(*) from events where site_id = ${siteId} and (visitor_id = any(${ids}::text[]) or external_user_id = any(${ids}::text[]))
      union all select 'carts', count(*) from carts where site_id = ${siteId} and (visitor_id = any(${ids}::text[]) or external_user_id = any(${ids}::text[]))
      union all select 'watches', count(*) from watches where site_id = ${siteId} and visitor_id = any(${ids}::text[])
      union all select 'product_interest', count(*) from product_interest where site_id = ${siteId} and shopper = any(${keys}::text[])
      union all select 'price_alerts', count(*) from price_alerts where site_id = ${siteId} and shopper = any(${keys}::text[])
      union all select 'deliveries', count(*) from deliveries where subscription_id::text = any(${ids}::text[])
      union all select 'notifications', count(*) from notifications where site_id = ${siteId} and (trigger_key = any(${ids}::text[]) or exists (
        select 1 from jsonb_each(audience) a, jsonb_array_elements(case when jsonb_typeof(a.value) = 'array' then a.value else jsonb_build_array(a.value) end) v
        where v #>> '{}' = any(${ids}::text[])))
      union all select 'conversions', count(*) from conversions where site_id = ${siteId} and order_id = any(${ids}::text[])
      union all select 'shopper_birthdays', count(*) from shopper_birthdays where site_id = ${siteId} and external_user_id = any(${ids}::text[])`.execute(db);
    return Object.fromEntries(result.rows.map((row) => [row.table, Number(row.count)]));
  }

  it('by user id removes every row of the shopper, keeps the deliveries and orders anonymous, and leaves the figures as they were', async () => {
    const history = await shopperWithHistory();
    const db = world.database.db;
    const anna = ['anna-laptop-1', 'anna-phone-01', 'user-anna', 'order-anna-1', 'cart-anna', history.laptop, history.phone];
    const ben = ['ben-laptop-01', 'user-ben', 'order-ben-1', 'cart-ben', history.otherShopper];
    const annaBefore = await rowsNaming(db, history.site.id, anna);
    expect(annaBefore).toMatchObject({ subscriptions: 2, events: 3, carts: 1, watches: 1, price_alerts: 1, deliveries: 2, notifications: 2, conversions: 1, shopper_birthdays: 1 });
    expect(annaBefore.product_interest).toBeGreaterThan(0);
    const benBefore = await rowsNaming(db, history.site.id, ben);
    const before = await snapshot(history.site, history.notificationId);
    expect(before.notification.counts).toMatchObject({ sent: 2, failed: 1, shown: 2, clicked: 2, converted: 2 });

    const { status, body } = await post('/v1/subscribers/erase', { externalUserId: 'user-anna' }, history.site);
    expect(status).toBe(200);
    expect(body).toEqual({
      shopper: { visitorIds: ['anna-laptop-1', 'anna-phone-01'], externalUserIds: ['user-anna'] },
      erased: {
        subscriptions: 2,
        events: 3,
        carts: 1,
        watches: 1,
        pricesSeen: annaBefore.product_interest,
        priceAlerts: 1,
        deliveriesAnonymised: 2,
        deliveriesCancelled: 0,
        ordersAnonymised: 1,
        notificationAudiencesScrubbed: 2,
      },
    });

    expect(await rowsNaming(db, history.site.id, anna)).toEqual({
      subscriptions: 0, events: 0, carts: 0, watches: 0, product_interest: 0, price_alerts: 0, deliveries: 0, notifications: 0, conversions: 0, shopper_birthdays: 0,
    });
    expect(await rowsNaming(db, history.site.id, ben)).toEqual(benBefore);
    const anonymous = await db.selectFrom('deliveries').select(['subscription_id', 'endpoint', 'report_token', 'status']).where('notification_id', '=', history.notificationId).where('subscription_id', 'is', null).execute();
    expect(anonymous.map((d) => d.status).sort()).toEqual(['failed', 'sent']);
    expect(anonymous.every((d) => d.endpoint === '' && d.report_token === '')).toBe(true);
    const audience = await db.selectFrom('notifications').select('audience').where('id', '=', history.notificationId).executeTakeFirstOrThrow();
    expect(audience.audience).toEqual({ externalUserIds: ['user-ben'] });

    const after = await snapshot(history.site, history.notificationId);
    // Every funnel figure, revenue and the notification's counts stay as they were.
    expect(after.notification).toEqual({ ...before.notification, problems: [{ ...before.notification.problems[0], example: { ...before.notification.problems[0].example, subscriptionId: null } }] });
    const withoutHoldout = (stats: any) => ({ ...stats, triggers: Object.fromEntries(Object.entries(stats.triggers).map(([k, v]: [string, any]) => [k, { ...v, holdout: null }])) });
    expect(withoutHoldout(after.stats)).toEqual(withoutHoldout(before.stats));
    expect(after.stats.triggers.api.revenue).toEqual({ EUR: 75 });
    // The holdout comparison asks whether the same person ordered later: that is what erase
    // removes, so an erased shopper leaves both its groups rather than count as someone who did not order.
    expect(before.stats.triggers.api.holdout.sent.subscribers - after.stats.triggers.api.holdout.sent.subscribers).toBe(2);

    const again = await post('/v1/subscribers/erase', { externalUserId: 'user-anna' }, history.site);
    expect(again.status).toBe(200);
    expect(Object.values(again.body.erased).every((n) => n === 0)).toBe(true);
  });

  it('by id erases the whole shopper, cancels pushes still waiting, and answers 404 the second time', async () => {
    const history = await shopperWithHistory();
    const db = world.database.db;
    const waiting = await post('/v1/notifications', { title: 'Still there?', url: `${SHOP_ORIGIN}/`, to: { visitorIds: ['anna-laptop-1'] } }, history.site);
    expect(waiting.body.audience).toBe(1);

    const erased = await del(`/v1/subscribers/${history.laptop}`, history.site);
    expect(erased.status).toBe(200);
    expect(erased.body.erased).toMatchObject({ subscriptions: 2, deliveriesAnonymised: 3, deliveriesCancelled: 1 });
    const cancelled = await get(`/v1/notifications/${waiting.body.id}`, history.site);
    expect(cancelled.body).toMatchObject({ status: 'completed', counts: { queued: 0, suppressed: 1 } });
    expect(cancelled.body.problems).toEqual([expect.objectContaining({ reason: 'subscription_inactive', status: 'suppressed', example: expect.objectContaining({ subscriptionId: null }) })]);
    // A report from an erased browser is no longer taken: its delivery has no token left.
    const tokenless = await db.selectFrom('deliveries').select('report_token').where('notification_id', '=', waiting.body.id).executeTakeFirstOrThrow();
    expect(tokenless.report_token).toBe('');

    expect((await get(`/v1/subscribers/${history.phone}`, history.site)).status).toBe(404);
    expect((await del(`/v1/subscribers/${history.laptop}`, history.site)).status).toBe(404);
    expect((await get(`/v1/subscribers/${history.otherShopper}`, history.site)).status).toBe(200);
  });

  it('by visitor id on another site’s key erases nothing', async () => {
    const history = await shopperWithHistory();
    const other = await freshSite();
    const answer = await post('/v1/subscribers/erase', { visitorId: 'anna-laptop-1' }, other);
    expect(answer.status).toBe(200);
    expect(Object.values(answer.body.erased).every((n) => n === 0)).toBe(true);
    expect((await get(`/v1/subscribers/${history.laptop}`, history.site)).status).toBe(200);
  });
});
