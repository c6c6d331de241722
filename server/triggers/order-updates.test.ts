import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { claimDeliveries, recordDeliveryResults } from '../db/deliveries.ts';
import { ratingAnswers } from '../db/order-updates.ts';
import { memoryLogger } from '../logger.ts';
import { browserHeaders, setEngagement, SHOP_ORIGIN } from '../testing/fixtures.ts';
import { PUBLIC_URL, usePushWorld } from '../testing/push-world.ts';
import { DAY_MS, MINUTE_MS } from '../time.ts';
import { fireDueTriggers } from './due-triggers.ts';
import { fireDueRatingRequests } from './rating-requests.ts';

const pushWorld = usePushWorld();

/** Midday in Berlin, morning in New York: outside the default quiet hours for both. */
const NOON_BERLIN = Date.parse('2026-11-23T11:00:00Z');

/** A shop with its API, the background round, a delivery worker and a clock the test moves by hand. */
async function shop(options: { startMs?: number; quietHours?: boolean } = {}) {
  const s = await pushWorld.shop({ startMs: options.startMs ?? NOON_BERLIN, quietHours: options.quietHours ?? true });

  /** The shop's backend reports an order event (secret key). */
  async function orderEvent(type: string, who: { visitorId?: string; externalUserId?: string }, properties: Record<string, unknown>, eventId?: string) {
    return s.call('POST', '/v1/events', { type, ...who, properties, ...(eventId ? { eventId } : {}) });
  }

  /** The background round's due triggers and the delivery worker, until nothing more is due now. */
  async function tick() {
    const { queued } = await fireDueTriggers({ db: pushWorld.db, logger: memoryLogger(), publicUrl: PUBLIC_URL, now: s.now }, { deadlineMs: Number.POSITIVE_INFINITY });
    await s.deliver();
    return queued;
  }

  return { ...s, orderEvent, tick };
}

describe('order updates', () => {
  it('sends order_shipped as a transactional push to the shopper’s browsers, with the order page and an on-site tracking button', async () => {
    const s = await shop();
    const ann = await s.shopper('ann', { userId: 'user-ann' });
    const other = await s.shopper('other');
    const answer = await s.orderEvent('order_shipped', { externalUserId: 'user-ann' }, {
      orderId: 'A-1001',
      orderUrl: `${SHOP_ORIGIN}/account/orders/A-1001`,
      trackingUrl: `${SHOP_ORIGIN}/track?order=A-1001`,
      carrier: 'DHL',
      itemCount: 2,
    });
    expect(answer).toEqual({ status: 202, body: { stored: true, duplicate: false } });
    await s.tick();

    const [pushed] = ann.pushes();
    expect(pushed).toMatchObject({ title: 'Your order A-1001 is on its way', url: `${SHOP_ORIGIN}/account/orders/A-1001` });
    expect(pushed!.body).toBe('Shipped with DHL.\nTap to see your order.');
    expect(pushed!.actions).toEqual([{ action: 'track', title: 'Track parcel', url: `${SHOP_ORIGIN}/track?order=A-1001` }]);
    expect(other.pushes()).toHaveLength(0);
    const [notification] = await s.notifications('order_update');
    expect(notification).toMatchObject({ kind: 'transactional', trigger_key: 'A-1001' });
  });

  it('leaves the tracking button out for a carrier’s page off the shop, and opens the order page setting instead of an off-site orderUrl', async () => {
    const s = await shop();
    expect((await s.call('PATCH', '/v1/settings', { orderUpdates: { orderPageUrl: `${SHOP_ORIGIN}/orders/{orderId}` } })).status).toBe(200);
    const ben = await s.shopper('ben');
    await s.orderEvent('order_shipped', { visitorId: ben.visitorId }, { orderId: 'B 7', orderUrl: 'https://evil.example/orders/B7', trackingUrl: 'https://www.dhl.de/track?id=1' });
    await s.tick();
    const [pushed] = ben.pushes();
    expect(pushed!.url).toBe(`${SHOP_ORIGIN}/orders/B%207`);
    expect(pushed!.actions).toBeUndefined();
    // The empty carrier line is left out.
    expect(pushed!.body).toBe('Tap to see your order.');
  });

  it('sends a repeated event nothing again, whatever its event id; another type of the same order goes', async () => {
    const s = await shop();
    const cy = await s.shopper('cy');
    const event = (type: string, eventId: string) => s.orderEvent(type, { visitorId: cy.visitorId }, { orderId: 'C-1' }, eventId);
    expect((await event('order_shipped', 'e1')).body).toEqual({ stored: true, duplicate: false });
    expect((await event('order_shipped', 'e1')).body).toEqual({ stored: false, duplicate: true });
    expect((await event('order_shipped', 'e2')).body).toEqual({ stored: true, duplicate: false });
    await Promise.all([event('order_delivered', 'e3'), event('order_delivered', 'e4')]);
    await s.tick();
    // Both are due at the same instant with the same priority: they may arrive in either order.
    expect(cy.pushes().map((p) => p.title).sort()).toEqual(['Your order C-1 has been delivered', 'Your order C-1 is on its way']);
    expect(await s.notifications('order_update')).toHaveLength(2);
  });

  it('is never capped nor held by quiet hours: at 02:00 with a cap of 0 the update still goes', async () => {
    const s = await shop({ startMs: Date.parse('2026-11-23T01:00:00Z') });
    await setEngagement(pushWorld.db, s.site.id, { quietHours: true, marketingPer24h: 0 });
    const dee = await s.shopper('dee', { timeZone: 'Europe/Berlin' });
    await s.orderEvent('order_ready_for_pickup', { visitorId: dee.visitorId }, { orderId: 'D-9', pickupLocation: 'Store Mitte' });
    await s.tick();
    expect(dee.pushes().map((p) => [p.title, p.body])).toEqual([['Your order D-9 is ready for pickup', 'Waiting for you at Store Mitte.\nTap for the details.']]);
  });

  it('speaks German to a German browser, with the refund in euros', async () => {
    const s = await shop();
    const eva = await s.shopper('eva', { locale: 'de-DE' });
    await s.orderEvent('refund_issued', { visitorId: eva.visitorId }, { orderId: 'E-5', amount: 24.9, currency: 'EUR' });
    await s.tick();
    expect(eva.pushes().map((p) => [p.title, p.body])).toEqual([['Erstattung für Bestellung E-5', 'Wir haben 24,90\u00a0€ erstattet.\nTippe hier, um deine Bestellung zu sehen.']]);
  });

  it('sends nothing when order updates or one type are turned off', async () => {
    const s = await shop();
    const fay = await s.shopper('fay');
    expect((await s.call('PATCH', '/v1/settings', { orderUpdates: { types: { order_cancelled: false } } })).status).toBe(200);
    await s.orderEvent('order_cancelled', { visitorId: fay.visitorId }, { orderId: 'F-1' });
    await s.orderEvent('order_shipped', { visitorId: fay.visitorId }, { orderId: 'F-1' });
    expect((await s.call('PATCH', '/v1/settings', { orderUpdates: { enabled: false } })).status).toBe(200);
    await s.orderEvent('order_delivered', { visitorId: fay.visitorId }, { orderId: 'F-1' });
    await s.tick();
    expect(fay.pushes().map((p) => p.title)).toEqual(['Your order F-1 is on its way']);
  });

  it('refuses order events with the publishable key, and without an order id', async () => {
    const s = await shop();
    const gus = await s.shopper('gus');
    const fromBrowser = await s.call('POST', '/v1/events', { type: 'order_shipped', visitorId: gus.visitorId, properties: { orderId: 'G-1' } }, browserHeaders(s.site));
    expect(fromBrowser.status).toBe(403);
    expect(fromBrowser.body.error.code).toBe('key_not_allowed');
    const noOrder = await s.orderEvent('order_shipped', { visitorId: gus.visitorId }, { carrier: 'UPS' });
    expect(noOrder.status).toBe(400);
    expect(noOrder.body.error.message).toMatch(/orderId/);
    const badTracking = await s.orderEvent('order_shipped', { visitorId: gus.visitorId }, { orderId: 'G-1', trackingUrl: 'javascript:alert(1)' });
    expect(badTracking.status).toBe(400);
    await s.tick();
    expect(gus.pushes()).toHaveLength(0);
  });
});

describe('rating requests', () => {
  const RATING_PAGE = `${SHOP_ORIGIN}/orders/{orderId}/review`;

  async function ratingShop(options: { startMs?: number; quietHours?: boolean; delayDays?: number } = {}) {
    const s = await shop(options);
    const patch = await s.call('PATCH', '/v1/settings', { ratingRequest: { enabled: true, pageUrl: RATING_PAGE, ...(options.delayDays ? { delayDays: options.delayDays } : {}) } });
    expect(patch.status, JSON.stringify(patch.body)).toBe(200);
    return s;
  }

  it('asks 3 days after delivery, not before, with two buttons opening the rating page with the answer; the answer is counted', async () => {
    const s = await ratingShop();
    const hal = await s.shopper('hal', { userId: 'user-hal' });
    await s.orderEvent('order_delivered', { externalUserId: 'user-hal' }, { orderId: 'H-42' });
    await s.tick();
    expect(hal.pushes().map((p) => p.title)).toEqual(['Your order H-42 has been delivered']);

    s.clock.nowMs += 3 * DAY_MS - MINUTE_MS;
    expect(await s.tick()).toEqual([]);
    s.clock.nowMs += 2 * MINUTE_MS;
    expect(await s.tick()).toHaveLength(1);
    const rating = hal.pushes()[1]!;
    expect(rating).toMatchObject({ title: 'How was your order?', body: 'Tell us in one tap how order H-42 went.', url: `${SHOP_ORIGIN}/orders/H-42/review?orderId=H-42` });
    expect(rating.actions).toEqual([
      { action: 'good', title: '👍 Good', url: `${SHOP_ORIGIN}/orders/H-42/review?orderId=H-42&answer=good` },
      { action: 'bad', title: '👎 Not good', url: `${SHOP_ORIGIN}/orders/H-42/review?orderId=H-42&answer=bad` },
    ]);
    const [notification] = await s.notifications('rating_request');
    expect(notification).toMatchObject({ kind: 'marketing', trigger_key: 'H-42' });

    await s.click(rating, 'good');
    expect(await ratingAnswers(pushWorld.db, s.site.id, new Date(NOON_BERLIN))).toEqual({ good: 1 });
    const stats = await s.call('GET', '/v1/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.triggers.rating_request).toMatchObject({ sent: 1, clicked: 1, answers: { good: 1 } });
    expect(stats.body.triggers.order_update).toMatchObject({ sent: 1 });
    expect(stats.body.triggers.order_update.answers).toBeUndefined();
    // Asked once: later rounds and a second order_delivered of the same order ask nothing more.
    await s.orderEvent('order_delivered', { externalUserId: 'user-hal' }, { orderId: 'H-42' }, 'again');
    s.clock.nowMs += 10 * DAY_MS;
    expect(await s.tick()).toEqual([]);
    expect(hal.pushes()).toHaveLength(2);
  });

  it('refuses a rating page or order page off the site’s origins, or not a URL', async () => {
    const s = await shop();
    for (const [patch, path] of [
      [{ ratingRequest: { pageUrl: 'https://reviews.example/{orderId}' } }, 'ratingRequest.pageUrl'],
      [{ orderUpdates: { orderPageUrl: 'https://elsewhere.example/orders/{orderId}' } }, 'orderUpdates.orderPageUrl'],
      [{ ratingRequest: { pageUrl: 'not a url {orderId}' } }, 'ratingRequest.pageUrl'],
    ] as const) {
      const answer = await s.call('PATCH', '/v1/settings', patch);
      expect(answer.status, path).toBe(400);
      expect(answer.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });

  it('speaks German with German buttons, after the configured number of days', async () => {
    const s = await ratingShop({ delayDays: 5 });
    const ida = await s.shopper('ida', { locale: 'de-AT' });
    await s.orderEvent('order_delivered', { visitorId: ida.visitorId }, { orderId: 'I-1' });
    s.clock.nowMs += 4 * DAY_MS;
    expect(await s.tick()).toEqual([]);
    s.clock.nowMs += DAY_MS;
    expect(await s.tick()).toHaveLength(1);
    const rating = ida.pushes().at(-1)!;
    expect(rating.title).toBe('Wie war deine Bestellung?');
    expect(rating.actions?.map((a) => a.title)).toEqual(['👍 Gut', '👎 Nicht gut']);
  });

  it('asks nothing after an order_cancelled or a refund, nor when the shop turned it off, nor before it was turned on', async () => {
    const s = await ratingShop();
    const jo = await s.shopper('jo');
    await s.orderEvent('order_delivered', { visitorId: jo.visitorId }, { orderId: 'J-1' });
    await s.orderEvent('order_cancelled', { visitorId: jo.visitorId }, { orderId: 'J-1' });
    // Cancelled before it was delivered: a later delivery schedules nothing.
    await s.orderEvent('order_cancelled', { visitorId: jo.visitorId }, { orderId: 'J-2' });
    await s.orderEvent('order_delivered', { visitorId: jo.visitorId }, { orderId: 'J-2' });
    await s.orderEvent('order_delivered', { visitorId: jo.visitorId }, { orderId: 'J-3' });
    await s.orderEvent('refund_issued', { visitorId: jo.visitorId }, { orderId: 'J-3' });
    await s.orderEvent('order_delivered', { visitorId: jo.visitorId }, { orderId: 'J-4' });
    expect((await s.call('PATCH', '/v1/settings', { ratingRequest: { enabled: false } })).status).toBe(200);
    s.clock.nowMs += 4 * DAY_MS;
    expect(await s.tick()).toEqual([]);
    expect(await s.notifications('rating_request')).toHaveLength(0);
    const states = await pushWorld.db.selectFrom('rating_requests').select(['order_id', 'state', 'due_at']).where('site_id', '=', s.site.id).orderBy('order_id').execute();
    expect(states).toEqual([
      { order_id: 'J-1', state: 'cancelled', due_at: null },
      { order_id: 'J-2', state: 'cancelled', due_at: null },
      { order_id: 'J-3', state: 'cancelled', due_at: null },
      { order_id: 'J-4', state: 'skipped', due_at: null },
    ]);
    // Off by default: a site that never turned it on schedules nothing.
    const plain = await shop();
    const kim = await plain.shopper('kim');
    await plain.orderEvent('order_delivered', { visitorId: kim.visitorId }, { orderId: 'K-1' });
    expect(await pushWorld.db.selectFrom('rating_requests').selectAll().where('site_id', '=', plain.site.id).execute()).toEqual([]);
  });

  it('waits for the shopper’s best hour when the site asks; with no history anywhere it goes at once', async () => {
    const s = await ratingShop();
    expect((await s.call('PATCH', '/v1/settings', { ratingRequest: { sendAtBestHour: true } })).status).toBe(200);
    const ida = await s.shopper('ida', { userId: 'user-ida' });
    await s.orderEvent('order_delivered', { externalUserId: 'user-ida' }, { orderId: 'I-1' });
    await s.tick();
    s.clock.nowMs += 3 * DAY_MS + MINUTE_MS;
    expect(await s.tick()).toHaveLength(1);
    const [notification] = await s.notifications('rating_request');
    expect(notification).toMatchObject({ best_hour: true });
    expect(ida.pushes().map((p) => p.title)).toEqual(['Your order I-1 has been delivered', 'How was your order?']);
  });

  it('fires each order once with two workers scanning at once and again after a restart', async () => {
    const s = await ratingShop();
    const shoppers = await Promise.all(['w1', 'w2', 'w3', 'w4', 'w5'].map((name) => s.shopper(name)));
    for (const [i, shopper] of shoppers.entries()) await s.orderEvent('order_delivered', { visitorId: shopper.visitorId }, { orderId: `W-${i}` });
    s.clock.nowMs += 3 * DAY_MS + MINUTE_MS;
    const scan = async () => (await fireDueRatingRequests(pushWorld.db, { now: new Date(s.clock.nowMs), publicUrl: PUBLIC_URL, limit: 2 })).queued;
    const together = (await Promise.all([scan(), scan(), scan()])).flat();
    const afterRestart = [...(await scan()), ...(await scan()), ...(await scan())];
    expect(together.length + afterRestart.length).toBe(5);
    expect(new Set([...together, ...afterRestart]).size).toBe(5);
    s.clock.nowMs += DAY_MS;
    expect(await s.tick()).toEqual([]);
    for (const shopper of shoppers) expect(shopper.pushes().filter((p) => p.title === 'How was your order?')).toHaveLength(1);
  });

  it('holds a request due at night until 09:00 in each shopper’s zone, across the spring-forward night', async () => {
    // Delivered 00:30 CET on 25 March 2027; due 3 × 24 h later, 23:30 UTC on the 27th: 00:30 CET in
    // Berlin (quiet; the clocks go forward at 01:00 UTC, so 09:00 is 07:00 UTC, not 08:00) and
    // 19:30 EDT in New York (not quiet: sent at once).
    const s = await ratingShop({ startMs: Date.parse('2027-03-24T23:30:00Z') });
    const berlin = await s.shopper('berlin', { timeZone: 'Europe/Berlin', userId: 'user-two-zones' });
    const newYork = await s.shopper('new-york', { timeZone: 'America/New_York', userId: 'user-two-zones' });
    await s.orderEvent('order_delivered', { externalUserId: 'user-two-zones' }, { orderId: 'Z-1' });
    await s.tick();
    const ratings = () => [berlin, newYork].map((shopper) => shopper.pushes().filter((p) => p.title === 'How was your order?').length);
    s.clock.nowMs = Date.parse('2027-03-27T23:30:00Z');
    expect(await s.tick()).toHaveLength(1);
    expect(ratings()).toEqual([0, 1]);
    const [notification] = await s.notifications('rating_request');
    const rows = await pushWorld.db.selectFrom('deliveries').select(['subscription_id', 'due_at', 'status']).where('notification_id', '=', notification!.id).execute();
    expect(new Date(rows.find((r) => r.subscription_id === berlin.subscriptionId)!.due_at).toISOString()).toBe('2027-03-28T07:00:00.000Z');
    s.clock.nowMs = Date.parse('2027-03-28T06:59:00Z');
    await s.tick();
    expect(ratings()).toEqual([0, 1]);
    s.clock.nowMs = Date.parse('2027-03-28T07:00:00Z');
    await s.tick();
    expect(ratings()).toEqual([1, 1]);
  });

  it('forgets a shopper’s waiting request when they are erased (GDPR art. 17): nothing is asked later', async () => {
    const s = await ratingShop();
    const max = await s.shopper('max', { userId: 'user-max' });
    await s.orderEvent('order_delivered', { externalUserId: 'user-max' }, { orderId: 'M-1' });
    const erased = await s.call('POST', '/v1/subscribers/erase', { externalUserId: 'user-max' });
    expect(erased.status).toBe(200);
    expect(await pushWorld.db.selectFrom('rating_requests').selectAll().where('site_id', '=', s.site.id).execute()).toEqual([]);
    s.clock.nowMs += 4 * DAY_MS;
    expect(await s.tick()).toEqual([]);
    expect(max.pushes().filter((p) => p.title === 'How was your order?')).toHaveLength(0);
  });

  it('is a marketing push: capped like the others, and nothing for a shopper who opted out', async () => {
    const s = await ratingShop();
    await setEngagement(pushWorld.db, s.site.id, { marketingPer24h: 0 });
    const capped = await s.shopper('capped');
    const gone = await s.shopper('gone');
    await s.orderEvent('order_delivered', { visitorId: capped.visitorId }, { orderId: 'N-1' });
    await s.orderEvent('order_delivered', { visitorId: gone.visitorId }, { orderId: 'N-2' });
    await pushWorld.db.updateTable('subscriptions').set({ status: 'unsubscribed' }).where('id', '=', gone.subscriptionId).execute();
    s.clock.nowMs += 3 * DAY_MS + MINUTE_MS;
    const queued = await s.tick();
    expect(queued).toHaveLength(1);
    const rows = await pushWorld.db.selectFrom('deliveries').select(['status', 'last_error']).where('notification_id', '=', queued[0]!).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('suppressed');
    expect(rows[0]!.last_error).toMatch(/^frequency_cap/);
    expect([...capped.pushes(), ...gone.pushes()].filter((p) => p.title === 'How was your order?')).toHaveLength(0);
    const states = await pushWorld.db.selectFrom('rating_requests').select(['order_id', 'state', 'notification_id']).where('site_id', '=', s.site.id).orderBy('order_id').execute();
    expect(states).toEqual([
      { order_id: 'N-1', state: 'sent', notification_id: queued[0] },
      { order_id: 'N-2', state: 'sent', notification_id: null },
    ]);
  });

  it('holds out the configured share, recorded as held_out', async () => {
    const s = await ratingShop();
    expect((await s.call('PATCH', '/v1/settings', { ratingRequest: { holdoutPercent: 100 } })).status).toBe(200);
    const lee = await s.shopper('lee');
    await s.orderEvent('order_delivered', { visitorId: lee.visitorId }, { orderId: 'L-1' });
    s.clock.nowMs += 3 * DAY_MS + MINUTE_MS;
    await s.tick();
    expect(lee.pushes().filter((p) => p.title === 'How was your order?')).toHaveLength(0);
    const [notification] = await s.notifications('rating_request');
    const rows = await pushWorld.db.selectFrom('deliveries').select('status').where('notification_id', '=', notification!.id).execute();
    expect(rows).toEqual([{ status: 'held_out' }]);
  });

  describe('withdrawn when the order is cancelled or refunded after the request was queued', () => {
    const RATING_TITLE = 'How was your order?';
    const delivery = (notificationId: string) => pushWorld.db.selectFrom('deliveries').selectAll().where('notification_id', '=', notificationId).executeTakeFirstOrThrow();
    const ratingOf = async (s: Awaited<ReturnType<typeof shop>>, orderId: string) => (await s.notifications('rating_request')).find((n) => n.trigger_key === orderId)!;

    /** Browser activity of a visitor at these instants (page views), as the shop's pages report them. */
    async function visits(siteId: string, visitorId: string, instants: string[]) {
      await pushWorld.db
        .insertInto('events')
        .values(instants.map((at) => ({ site_id: siteId, source: 'browser' as const, type: 'page_viewed', visitor_id: visitorId, external_user_id: null, properties: '{}', client_event_id: null, created_at: new Date(at) })))
        .execute();
    }

    it('suppresses one held by quiet hours with the reason, and the round sends nothing for it; one already pushed stays as it is', async () => {
      // Delivered 23:30 in Berlin; due 3 days later, at night in Berlin (held until 09:00, 08:00 UTC)
      // and in the afternoon in New York (pushed at once).
      const s = await ratingShop({ startMs: Date.parse('2026-11-23T22:30:00Z') });
      const ann = await s.shopper('ann', { timeZone: 'Europe/Berlin' });
      const bob = await s.shopper('bob', { timeZone: 'America/New_York' });
      await s.orderEvent('order_delivered', { visitorId: ann.visitorId }, { orderId: 'P-1' });
      await s.orderEvent('order_delivered', { visitorId: bob.visitorId }, { orderId: 'P-2' });
      await s.tick();
      s.clock.nowMs = Date.parse('2026-11-26T22:31:00Z');
      expect(await s.tick()).toHaveLength(2);
      const annRating = await ratingOf(s, 'P-1');
      const bobRating = await ratingOf(s, 'P-2');
      expect(await delivery(annRating.id)).toMatchObject({ status: 'queued', due_at: new Date('2026-11-27T08:00:00Z'), last_error: expect.stringMatching(/^quiet_hours: /) });
      expect(await delivery(bobRating.id)).toMatchObject({ status: 'sent', last_error: null });
      expect(bob.pushes().map((p) => p.title)).toEqual(['Your order P-2 has been delivered', RATING_TITLE]);

      s.clock.nowMs += 30 * MINUTE_MS;
      await s.orderEvent('order_cancelled', { visitorId: ann.visitorId }, { orderId: 'P-1' });
      await s.orderEvent('order_cancelled', { visitorId: bob.visitorId }, { orderId: 'P-2' });
      // Decided in the transaction that stored the event, not when a worker next looks.
      expect(await delivery(annRating.id)).toMatchObject({
        status: 'suppressed',
        leased_by: null,
        last_error: 'cancelled: order P-1 was cancelled (order_cancelled) after its rating request was queued',
      });
      const annStatus = await s.call('GET', `/v1/notifications/${annRating.id}`);
      expect(annStatus.body).toMatchObject({ status: 'cancelled', counts: { queued: 0, sent: 0, suppressed: 1 } });
      expect(annStatus.body.problems).toEqual([expect.objectContaining({ reason: 'cancelled', status: 'suppressed', count: 1 })]);
      // The one that went is history: neither the delivery nor its notification changes.
      expect(await delivery(bobRating.id)).toMatchObject({ status: 'sent', last_error: null });
      expect((await s.call('GET', `/v1/notifications/${bobRating.id}`)).body).toMatchObject({ status: 'completed', cancelledAt: null, counts: { sent: 1, suppressed: 0 } });
      const states = await pushWorld.db.selectFrom('rating_requests').select(['order_id', 'state', 'notification_id']).where('site_id', '=', s.site.id).orderBy('order_id').execute();
      expect(states).toEqual([
        { order_id: 'P-1', state: 'sent', notification_id: annRating.id },
        { order_id: 'P-2', state: 'sent', notification_id: bobRating.id },
      ]);

      await s.tick(); // the cancellation pushes themselves, transactional: at once
      s.clock.nowMs = Date.parse('2026-11-27T08:00:00Z'); // 09:00 in Berlin: quiet hours over
      const before = pushWorld.mock.received.length;
      await s.tick();
      expect(pushWorld.mock.received.length).toBe(before);
      expect(ann.pushes().map((p) => p.title)).toEqual(['Your order P-1 has been delivered', 'Your order P-1 has been cancelled']);
      expect(bob.pushes().map((p) => p.title)).toEqual(['Your order P-2 has been delivered', RATING_TITLE, 'Your order P-2 has been cancelled']);
      const stats = await s.call('GET', '/v1/stats');
      expect(stats.body.triggers.rating_request).toMatchObject({ sent: 1, suppressed: 1 });
    });

    it('suppresses one waiting for the best hour after a refund, and leaves one a worker holds to that worker until it puts it back', async () => {
      const s = await ratingShop();
      expect((await s.call('PATCH', '/v1/settings', { ratingRequest: { sendAtBestHour: true } })).status).toBe(200);
      // Dan visits at 19:xx in Berlin (18:xx UTC), Eve at 17:xx (16:xx UTC): five quarter hours each.
      const dan = await s.shopper('dan', { timeZone: 'Europe/Berlin' });
      const eve = await s.shopper('eve', { timeZone: 'Europe/Berlin' });
      const evenings = (hourUtc: string) => [16, 17, 18, 19, 20].map((day) => `2026-11-${day}T${hourUtc}:${10 + day}:00Z`);
      await visits(s.site.id, dan.visitorId, evenings('18'));
      await visits(s.site.id, eve.visitorId, evenings('16'));
      await s.orderEvent('order_delivered', { visitorId: dan.visitorId }, { orderId: 'Q-1' });
      await s.orderEvent('order_delivered', { visitorId: eve.visitorId }, { orderId: 'Q-2' });
      await s.tick();

      s.clock.nowMs = Date.parse('2026-11-26T11:01:00Z'); // 3 days on, 12:01 in Berlin
      expect(await s.tick()).toHaveLength(2);
      const danRating = await ratingOf(s, 'Q-1');
      const eveRating = await ratingOf(s, 'Q-2');
      expect(danRating.best_hour).toBe(true);
      expect(await delivery(danRating.id)).toMatchObject({ status: 'queued', due_at: new Date('2026-11-26T18:00:00Z'), last_error: expect.stringMatching(/^best_hour: /) });
      expect(await delivery(eveRating.id)).toMatchObject({ status: 'queued', due_at: new Date('2026-11-26T16:00:00Z') });

      // 17:00 in Berlin: another worker has just claimed Eve's push (it may be at the push service).
      s.clock.nowMs = Date.parse('2026-11-26T16:00:00Z');
      const claimed = await claimDeliveries(pushWorld.db, { leaseId: 'worker-b:1', limit: 10, nowMs: s.clock.nowMs, leaseMs: 60_000 });
      expect(claimed.map((d) => d.notification_id)).toEqual([eveRating.id]);
      const held = await delivery(eveRating.id);
      expect(held).toMatchObject({ status: 'sending', leased_by: 'worker-b:1' });

      await s.orderEvent('refund_issued', { visitorId: dan.visitorId }, { orderId: 'Q-1', amount: 30, currency: 'EUR' });
      await s.orderEvent('order_cancelled', { visitorId: eve.visitorId }, { orderId: 'Q-2' });
      expect(await delivery(danRating.id)).toMatchObject({ status: 'suppressed', last_error: 'cancelled: order Q-1 was refunded (refund_issued) after its rating request was queued' });
      expect(await delivery(eveRating.id)).toEqual(held);

      // That worker defers it instead of sending (the cap, with pushes in flight elsewhere): its
      // next claim finds the notification cancelled and suppresses it.
      await recordDeliveryResults(pushWorld.db, 'worker-b:1', s.clock.nowMs, [
        { id: held.id, status: 'queued', dueAtMs: s.clock.nowMs + MINUTE_MS, attemptDelta: -1, lastStatus: null, lastError: 'frequency_cap: pushes in flight elsewhere, checked again shortly' },
      ]);
      s.clock.nowMs += MINUTE_MS;
      await s.tick();
      expect(await delivery(eveRating.id)).toMatchObject({ status: 'suppressed', last_error: expect.stringMatching(/^cancelled: /) });

      s.clock.nowMs = Date.parse('2026-11-26T18:00:00Z'); // Dan's best hour
      const before = pushWorld.mock.received.length;
      await s.tick();
      expect(pushWorld.mock.received.length).toBe(before);
      for (const shopper of [dan, eve]) expect(shopper.pushes().filter((p) => p.title === RATING_TITLE)).toEqual([]);
    });
  });
});
