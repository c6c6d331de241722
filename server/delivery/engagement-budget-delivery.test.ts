import { describe, expect, it } from 'vitest';
import { SHOP_ORIGIN } from '../testing/fixtures.ts';
import { usePushWorld } from '../testing/push-world.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../time.ts';
import { deliverBatch } from './delivery-engine.ts';

// Each test starts from an empty outbox: a push deferred in one must not be claimed by the next.
const pushWorld = usePushWorld({ emptyOutboxAfterEach: true });

/** A shop, its subscribers at the strict mock push service, the API and a deliverer on one controllable clock. */
async function world(startIso: string) {
  const s = await pushWorld.shop({ startMs: Date.parse(startIso) });

  async function send(to: { subscriptionIds: string[] }, extra: Record<string, unknown> = {}): Promise<string> {
    const response = await s.app.request('/v1/notifications', {
      method: 'POST',
      headers: s.secret,
      body: JSON.stringify({ title: 'New arrivals', body: 'Autumn boots are in', url: `${SHOP_ORIGIN}/new`, to, ...extra }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  async function delivery(notificationId: string) {
    return pushWorld.db.selectFrom('deliveries').selectAll().where('notification_id', '=', notificationId).executeTakeFirstOrThrow();
  }

  return { ...s, send, delivery };
}

describe('engagement budget, end to end', () => {
  it('shrinks while a subscriber ignores one marketing push a day, suppresses with the reason, and recovers after a click', async () => {
    const w = await world('2026-09-01T12:00:00Z');
    const anna = await w.subscriber();
    const outcomes: string[] = [];
    const ids: string[] = [];
    // Days 0–8 at noon. At day d the d earlier sent pushes are all ≥ 24 h old and unclicked: the
    // budget is 21 per week until 3 are ignored, 10 until 6, then 5. Day 6: 6 ignored → 5 per week,
    // and days 0–5 make 6 in the window → suppressed. Day 7: still 6 ignored (a suppressed push is
    // not one), days 1–5 make 5 → suppressed. Day 8: days 2–5 make 4 → sent.
    for (let day = 0; day <= 8; day++) {
      w.clock.nowMs = Date.parse('2026-09-01T12:00:00Z') + day * DAY_MS;
      const id = await w.send({ subscriptionIds: [anna.subscriptionId] });
      ids.push(id);
      await deliverBatch(w.deliverer);
      outcomes.push((await w.delivery(id)).status);
    }
    expect(outcomes).toEqual(['sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'suppressed', 'suppressed', 'sent']);
    expect((await w.delivery(ids[6]!)).last_error).toBe(
      "engagement_budget: 6 marketing pushes in a row went unclicked, so this subscriber's budget is 5 per 7 days, and 6 were sent in the last 7 days (6 before this batch, 0 in it)",
    );
    const pushes = w.received(anna.endpoint);
    expect(pushes.map((p) => p.id)).toEqual([ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[8]]);

    // Day 8, an hour later: Anna clicks the push she just got (the report token from the decrypted payload).
    w.clock.nowMs += HOUR_MS;
    await w.click(pushes.at(-1)!);
    const { last_clicked_at } = await pushWorld.db.selectFrom('subscriptions').select('last_clicked_at').where('id', '=', anna.subscriptionId).executeTakeFirstOrThrow();
    expect(last_clicked_at?.toISOString()).toBe('2026-09-09T13:00:00.000Z');

    // Day 9 noon: nothing ignored since the click, so the full 21 per week again; three pushes in
    // one day (the frequency cap's 3 per 24 h) all go, though 4 + 3 = 7 is over the shrunken 5.
    w.clock.nowMs = Date.parse('2026-09-10T12:00:00Z');
    const after = [];
    for (let i = 0; i < 3; i++) after.push(await w.send({ subscriptionIds: [anna.subscriptionId] }));
    await deliverBatch(w.deliverer);
    for (const id of after) expect((await w.delivery(id)).status).toBe('sent');
  });

  it('leaves transactional pushes alone, and does nothing when the site switches it off', async () => {
    const w = await world('2026-09-01T12:00:00Z');
    const ben = await w.subscriber();
    await pushWorld.db
      .updateTable('sites')
      .set({ settings: JSON.stringify({ engagement: { quietHours: { enabled: false }, budget: { enabled: false } } }) })
      .where('id', '=', w.site.id)
      .execute();
    const statuses: string[] = [];
    for (let day = 0; day <= 8; day++) {
      w.clock.nowMs = Date.parse('2026-09-01T12:00:00Z') + day * DAY_MS;
      const id = await w.send({ subscriptionIds: [ben.subscriptionId] });
      await deliverBatch(w.deliverer);
      statuses.push((await w.delivery(id)).status);
    }
    expect(statuses.every((s) => s === 'sent')).toBe(true);

    // Switched on again (the settings are read anew after a few seconds): marketing is over budget, an order update still goes.
    await pushWorld.db.updateTable('sites').set({ settings: JSON.stringify({ engagement: { quietHours: { enabled: false } } }) }).where('id', '=', w.site.id).execute();
    w.clock.nowMs += DAY_MS;
    const promo = await w.send({ subscriptionIds: [ben.subscriptionId] });
    const order = await w.send({ subscriptionIds: [ben.subscriptionId] }, { kind: 'transactional', title: 'Your order shipped' });
    await deliverBatch(w.deliverer);
    expect(await w.delivery(promo)).toMatchObject({ status: 'suppressed', last_error: expect.stringMatching(/^engagement_budget: 9 marketing pushes in a row went unclicked/) });
    expect((await w.delivery(order)).status).toBe('sent');
  });
});

describe('best hour, end to end', () => {
  it('arrives only at the shopper’s own best hour, across the fall-back night in Berlin', async () => {
    // Berlin leaves summer time at 03:00 on 25 Oct 2026. Lena visits in the evening, at 19:xx local
    // (17:xx UTC in summer time), a few times at lunch; her best hour is 19.
    const w = await world('2026-10-24T18:00:00Z'); // Saturday 20:00 CEST, past her hour
    const lena = await w.subscriber({ timeZone: 'Europe/Berlin' });
    await w.visits(lena.visitorId, [
      '2026-10-14T17:05:00Z', '2026-10-14T17:07:00Z', // one quarter hour: one data point
      '2026-10-16T17:40:00Z', '2026-10-18T17:20:00Z', '2026-10-20T17:10:00Z', '2026-10-22T17:55:00Z',
      '2026-10-19T10:15:00Z', '2026-10-21T10:30:00Z',
    ]);
    const id = await w.send({ subscriptionIds: [lena.subscriptionId] }, { sendAtBestHour: true, ttl: 2 * 86_400 });
    expect(await deliverBatch(w.deliverer)).toBe(1);
    // 19:00 CET on Sunday is 18:00 UTC: 24 hours on the clock, 25 in real time.
    expect(await w.delivery(id)).toMatchObject({
      status: 'queued',
      attempts: 0,
      due_at: new Date('2026-10-25T18:00:00Z'),
      last_error: 'best_hour: this shopper most often clicks or visits at 19:00 in Europe/Berlin; deferred until 2026-10-25T18:00:00.000Z',
    });
    expect(w.received(lena.endpoint)).toEqual([]);

    w.clock.nowMs = Date.parse('2026-10-25T17:59:00Z'); // 18:59 CET
    expect(await deliverBatch(w.deliverer)).toBe(0);
    expect(w.received(lena.endpoint)).toEqual([]);

    w.clock.nowMs = Date.parse('2026-10-25T18:00:00Z');
    expect(await deliverBatch(w.deliverer)).toBe(1);
    expect((await w.delivery(id)).status).toBe('sent');
    const [payload] = w.received(lena.endpoint);
    expect(payload).toMatchObject({ id, title: 'New arrivals', body: 'Autumn boots are in', url: `${SHOP_ORIGIN}/new` });
    expect(payload!.report.token).toMatch(new RegExp(`^${(await w.delivery(id)).id}\\.`));
  });

  it('goes at once when the shopper’s best hour is the current one', async () => {
    const w = await world('2026-06-10T08:20:00Z'); // 10:20 in Berlin
    const max = await w.subscriber({ timeZone: 'Europe/Berlin' });
    await w.visits(max.visitorId, ['2026-06-01T08:05:00Z', '2026-06-02T08:10:00Z', '2026-06-03T08:45:00Z', '2026-06-04T08:30:00Z', '2026-06-05T08:00:00Z']);
    const id = await w.send({ subscriptionIds: [max.subscriptionId] }, { sendAtBestHour: true });
    await deliverBatch(w.deliverer);
    expect(await w.delivery(id)).toMatchObject({ status: 'sent', last_error: null });
  });

  it('falls back to the site’s best hour for a shopper with too little history, and to now for a site without any', async () => {
    const w = await world('2026-06-10T06:00:00Z');
    // Others click at 14:xx New York time (18:xx UTC in summer time): the site's hour is 14 there.
    const others = [await w.subscriber({ timeZone: 'America/New_York' }), await w.subscriber({ timeZone: 'America/New_York' })];
    const earlier = await w.send({ subscriptionIds: others.map((o) => o.subscriptionId) }, { kind: 'transactional' });
    await deliverBatch(w.deliverer);
    const rows = await pushWorld.db.selectFrom('deliveries').select(['id', 'notification_id']).where('notification_id', '=', earlier).execute();
    const clicks = ['2026-06-08T18:10:00Z', '2026-06-09T18:40:00Z'];
    for (const [i, row] of rows.entries()) {
      await pushWorld.db.insertInto('interactions').values({ delivery_id: row.id, notification_id: row.notification_id, type: 'clicked', action: '', created_at: new Date(clicks[i]!) }).execute();
    }
    // Four more clicks in the hour from a shopper in Tokyo, at 03:xx local (18:xx UTC): a quiet hour there, so none of them count.
    const tokyo = await w.subscriber({ timeZone: 'Asia/Tokyo' });
    const tokyoSend = await w.send({ subscriptionIds: [tokyo.subscriptionId] }, { kind: 'transactional' });
    await deliverBatch(w.deliverer);
    const tokyoRow = await w.delivery(tokyoSend);
    await pushWorld.db.insertInto('interactions').values({ delivery_id: tokyoRow.id, notification_id: tokyoSend, type: 'clicked', action: '', created_at: new Date('2026-06-09T18:20:00Z') }).execute();
    for (const at of ['2026-06-09T18:25:00Z', '2026-06-09T18:30:00Z', '2026-06-09T18:35:00Z']) {
      const extra = await w.send({ subscriptionIds: [others[0]!.subscriptionId] }, { kind: 'transactional' });
      await deliverBatch(w.deliverer);
      await pushWorld.db.insertInto('interactions').values({ delivery_id: (await w.delivery(extra)).id, notification_id: extra, type: 'clicked', action: '', created_at: new Date(at) }).execute();
    }
    // 5 clicks at 14:xx in New York now, and one at 03:xx in Tokyo (quiet): the site's best hour is 14.
    const newcomer = await w.subscriber({ timeZone: 'America/New_York' });
    await w.visits(newcomer.visitorId, ['2026-06-09T12:00:00Z', '2026-06-09T13:00:00Z']); // 2 points: fewer than 5
    const id = await w.send({ subscriptionIds: [newcomer.subscriptionId] }, { sendAtBestHour: true });
    await deliverBatch(w.deliverer);
    // 02:00 in New York now; 14:00 EDT is 18:00 UTC.
    expect(await w.delivery(id)).toMatchObject({
      status: 'queued',
      due_at: new Date('2026-06-10T18:00:00Z'),
      last_error: 'best_hour: the site’s shoppers most often click at 14:00 in America/New_York; deferred until 2026-06-10T18:00:00.000Z',
    });

    // A site without any clicks: the push goes at its own time.
    const quiet = await world('2026-06-10T06:00:00Z');
    const solo = await quiet.subscriber({ timeZone: 'Europe/Paris' });
    const soloId = await quiet.send({ subscriptionIds: [solo.subscriptionId] }, { sendAtBestHour: true });
    await deliverBatch(quiet.deliverer);
    expect(await quiet.delivery(soloId)).toMatchObject({ status: 'sent', last_error: null });
  });

  it('is refused for a transactional or an urgent push', async () => {
    const w = await world('2026-06-10T06:00:00Z');
    const anna = await w.subscriber();
    for (const extra of [{ kind: 'transactional' }, { urgency: 'high' }]) {
      const response = await w.app.request('/v1/notifications', {
        method: 'POST',
        headers: { Authorization: `Bearer ${w.site.secretKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: 'x', url: `${SHOP_ORIGIN}/`, to: { subscriptionIds: [anna.subscriptionId] }, sendAtBestHour: true, ...extra }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/sendAtBestHour/);
    }
  });
});
