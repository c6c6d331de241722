import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { attributeOrder } from '../db/conversions.ts';
import { expireSubscriptions } from '../db/deliveries.ts';
import { insertEvent } from '../db/events.ts';
import { recordInteraction } from '../db/interactions.ts';
import { unsubscribeByEndpoint, upsertSubscription } from '../db/subscriptions.ts';
import { routeTestWorld } from '../testing/route-test.ts';

// 2026-11-11 00:30 in Berlin (UTC+1), still 2026-11-10 in UTC: "today" is the site's day.
const NOW = Date.parse('2026-11-10T23:30:00Z');
const world = routeTestWorld({ now: () => NOW });

async function daily(query: string) {
  const response = await world.app.request(`/v1/stats/daily${query}`, { headers: { Authorization: `Bearer ${world.site.secretKey}` } });
  return { status: response.status, body: (await response.json()) as any };
}

function subscription(visitorId: string) {
  return {
    siteId: world.site.id,
    endpoint: `https://fcm.googleapis.com/fcm/send/${visitorId}`,
    p256dh: 'p256dh',
    auth: 'auth',
    vapidPublicKey: 'vapid',
    visitorId,
    locale: null,
    timeZone: null,
    userAgentFamily: null,
  };
}

async function notification(source: string, createdAt: string): Promise<string> {
  const row = await sql<{ id: string }>`
    insert into notifications (site_id, source, kind, content, audience, ttl_seconds, created_at)
    values (${world.site.id}, ${source}, 'marketing', '{}'::jsonb, '{}'::jsonb, 3600, ${new Date(createdAt)}) returning id`.execute(world.database.db);
  return row.rows[0]!.id;
}

/** Deliveries of `notificationId` to the subscriptions of `visitorIds`, queued (then `status`) at the notification's time. */
async function deliver(notificationId: string, visitorIds: string[], status: 'queued' | 'held_out', thenStatus?: string): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; visitor_id: string }>`
    insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at)
    select ${notificationId}, s.id, s.endpoint, md5(s.id::text), ${status}, n.created_at
    from subscriptions s, notifications n where n.id = ${notificationId} and s.site_id = ${world.site.id} and s.visitor_id = any(${visitorIds})
    returning id, (select visitor_id from subscriptions where id = subscription_id)`.execute(world.database.db);
  // A second statement, as the delivery workers move deliveries on: the rollup follows updates too.
  if (thenStatus) await sql`update deliveries set status = ${thenStatus} where notification_id = ${notificationId} and status = 'queued'`.execute(world.database.db);
  return new Map(rows.rows.map((row) => [row.visitor_id, row.id]));
}

async function order(visitorId: string, at: string) {
  await insertEvent(world.database.db, {
    siteId: world.site.id,
    source: 'server',
    type: 'order_completed',
    visitorId,
    externalUserId: null,
    properties: {},
    clientEventId: null,
    at: new Date(at),
  });
}

beforeAll(async () => {
  const db = world.database.db;
  await sql`update sites set settings = ${JSON.stringify({ engagement: { defaultTimeZone: 'Europe/Berlin' } })}::jsonb where id = ${world.site.id}`.execute(db);
  // Subscribers: D before the range; B at 22:30 UTC on 1 Nov (23:30 in Berlin, still 1 Nov); A at
  // 23:30 UTC on 1 Nov, which is 00:30 on 2 Nov in Berlin; C on 2 Nov.
  await upsertSubscription(db, subscription('shopper-d'), new Date('2026-10-20T12:00:00Z'));
  await upsertSubscription(db, subscription('shopper-b'), new Date('2026-11-01T22:30:00Z'));
  await upsertSubscription(db, subscription('shopper-a'), new Date('2026-11-01T23:30:00Z'));
  await upsertSubscription(db, subscription('shopper-c'), new Date('2026-11-02T10:00:00Z'));
  // 3 Nov: A opts out (twice: the second loses no one), B's push service says it is gone.
  await unsubscribeByEndpoint(db, world.site.id, subscription('shopper-a').endpoint, new Date('2026-11-03T09:00:00Z'));
  await unsubscribeByEndpoint(db, world.site.id, subscription('shopper-a').endpoint, new Date('2026-11-03T10:00:00Z'));
  const b = await upsertSubscription(db, subscription('shopper-b'), new Date('2026-11-01T22:30:00Z'));
  await expireSubscriptions(db, [{ subscriptionId: (b as { id: string }).id, endpoint: subscription('shopper-b').endpoint }], Date.parse('2026-11-03T12:00:00Z'));
  // 4 Nov: B allows pushes again; C's page re-syncs an active subscription, which changes nothing.
  await upsertSubscription(db, subscription('shopper-b'), new Date('2026-11-04T08:00:00Z'));
  await upsertSubscription(db, subscription('shopper-c'), new Date('2026-11-04T09:00:00Z'));

  // 300 shoppers for a cart reminder queued at 00:10 on 2 Nov in Berlin: 200 get it, 100 are held out.
  await sql`
    insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, created_at, updated_at)
    select ${world.site.id}, 'https://fcm.googleapis.com/fcm/send/cart-' || i, 'p', 'a', 'v', 'cart-' || i, ${new Date('2026-09-01T00:00:00Z')}, ${new Date('2026-09-01T00:00:00Z')}
    from generate_series(1, 300) i`.execute(db);
  const cart = await notification('cart_reminder', '2026-11-01T23:10:00Z');
  const visitors = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `cart-${from + i}`);
  await deliver(cart, visitors(1, 200), 'queued', 'sent');
  await deliver(cart, visitors(201, 300), 'held_out');
  // 60 of the 200 recipients and 10 of the 100 held out order within the 24-hour window; orders
  // before the push or after the window count for neither group.
  for (const visitor of visitors(1, 60)) await order(visitor, '2026-11-02T08:00:00Z');
  for (const visitor of visitors(201, 210)) await order(visitor, '2026-11-02T09:00:00Z');
  await order('cart-61', '2026-11-01T20:00:00Z');
  await order('cart-211', '2026-11-03T00:00:00Z');

  // A price drop on 3 Nov to A and C: one sent, shown, clicked and bought (19.99 EUR), one failed.
  const drop = await notification('price_drop', '2026-11-03T15:00:00Z');
  const dropDeliveries = await deliver(drop, ['shopper-c'], 'queued', 'sent');
  await deliver(drop, ['shopper-a'], 'queued', 'failed');
  const shown = { deliveryId: dropDeliveries.get('shopper-c')!, notificationId: drop, action: null };
  await recordInteraction(db, { ...shown, type: 'shown', at: new Date('2026-11-03T15:01:00Z') });
  // A replayed report is refused by the table and counted once.
  await recordInteraction(db, { ...shown, type: 'shown', at: new Date('2026-11-03T15:01:30Z') });
  await recordInteraction(db, { ...shown, type: 'clicked', at: new Date('2026-11-03T15:02:00Z') });
  const credited = await attributeOrder(
    db,
    { siteId: world.site.id, orderId: 'order-1', value: 19.99, currency: 'EUR', visitorId: 'shopper-c', externalUserId: null, source: 'server' },
    new Date('2026-11-03T16:00:00Z'),
    24,
  );
  expect(credited).toBe(drop);
});

describe('GET /v1/stats/daily', () => {
  it('counts subscribers per day in the site time zone: new, returned, lost by cause, net and active at the end of the day', async () => {
    const { status, body } = await daily('?from=2026-11-01&to=2026-11-04');
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: '2026-11-01', to: '2026-11-04', timeZone: 'Europe/Berlin', attributionWindowHours: 24 });
    // D, B and C, and the 300 cart shoppers.
    expect(body.activeNow).toBe(303);
    expect(body.days.map((day: any) => [day.date, day.subscribers])).toEqual([
      ['2026-11-01', { active: 302, new: 1, returned: 0, lostExpired: 0, lostUnsubscribed: 0, lostErased: 0, net: 1 }],
      ['2026-11-02', { active: 304, new: 2, returned: 0, lostExpired: 0, lostUnsubscribed: 0, lostErased: 0, net: 2 }],
      ['2026-11-03', { active: 302, new: 0, returned: 0, lostExpired: 1, lostUnsubscribed: 1, lostErased: 0, net: -2 }],
      ['2026-11-04', { active: 303, new: 0, returned: 1, lostExpired: 0, lostUnsubscribed: 0, lostErased: 0, net: 1 }],
    ]);
  });

  it('counts pushes per day and per trigger on the day they were queued, with revenue per currency', async () => {
    const { body } = await daily('?from=2026-11-01&to=2026-11-04');
    const [first, second, third, fourth] = body.days;
    // 23:10 UTC on 1 Nov is 00:10 on 2 Nov in Berlin.
    expect(first.triggers).toEqual({});
    expect(second.triggers).toEqual({
      cart_reminder: { audience: 300, sent: 200, heldOut: 100, suppressed: 0, failed: 0, expired: 0, shown: 0, clicked: 0, converted: 0, revenue: {} },
    });
    expect(third.triggers).toEqual({
      price_drop: { audience: 2, sent: 1, heldOut: 0, suppressed: 0, failed: 1, expired: 0, shown: 1, clicked: 1, converted: 1, revenue: { EUR: 19.99 } },
    });
    expect(third.pushes).toEqual(third.triggers.price_drop);
    expect(fourth.pushes).toMatchObject({ audience: 0, sent: 0, revenue: {} });
    expect(body.triggers.price_drop).toMatchObject({ audience: 2, sent: 1, converted: 1, revenue: { EUR: 19.99 }, holdout: null });
  });

  it('reads the holdout lift of each trigger: order rates of recipients and held-out shoppers within the attribution window', async () => {
    const { body } = await daily('?from=2026-11-01&to=2026-11-04');
    // 60 of 200 (30 %) against 10 of 100 (10 %): RR 3; SE = √(1/60 − 1/200 + 1/10 − 1/100) = 0.318852,
    // e^(±1.96·SE) = 1.86816 / 0.53529, so RR 1.6059 to 5.6044.
    expect(body.triggers.cart_reminder.holdout).toMatchObject({
      recipients: { subscribers: 200, ordered: 60 },
      heldOut: { subscribers: 100, ordered: 10 },
      verdict: 'more',
      heldOutNeeded: 100,
      reading: 'Cart reminders brought 200 % more orders than the held-out group (95 % interval: 61 % to 460 %).',
    });
    expect(body.triggers.cart_reminder.holdout.lift).toBeCloseTo(2, 10);
    expect(body.triggers.cart_reminder.holdout.interval.low).toBeCloseTo(0.60588, 4);
  });

  it('leaves out what was queued outside the range', async () => {
    const { body } = await daily('?from=2026-11-03&to=2026-11-03');
    expect(body.days).toHaveLength(1);
    expect(Object.keys(body.triggers)).toEqual(['price_drop']);
    // 2 Nov ended with 304 active: 3 Nov starts there.
    expect(body.days[0].subscribers.active).toBe(302);
  });

  it('defaults to the 30 days ending today in the site time zone', async () => {
    const { status, body } = await daily('');
    expect(status).toBe(200);
    expect(body.from).toBe('2026-10-13');
    expect(body.to).toBe('2026-11-11');
    expect(body.days).toHaveLength(30);
  });

  it.each([
    ['?form=2026-11-01', 400],
    ['?from=2026-11-05&to=2026-11-04', 400],
    // 366 days, both ends included, is the most a range may hold.
    ['?from=2025-10-31&to=2026-11-01', 400],
    ['?from=2025-11-01&to=2026-11-01', 200],
    ['?from=2026-02-30', 400],
    ['?from=2026-11-01T00:00:00Z', 400],
    ['?to=20261101', 400],
  ])('%s → %i', async (query, expected) => {
    const { status, body } = await daily(query);
    expect(status).toBe(expected);
    if (expected === 400) expect(body.error.code).toBe('validation_failed');
  });

  it('needs the secret key', async () => {
    expect((await world.app.request('/v1/stats/daily')).status).toBe(401);
    const publishable = await world.app.request('/v1/stats/daily', { headers: { Authorization: `Bearer ${world.site.publishableKey}` } });
    expect(publishable.status).toBe(403);
  });
});
