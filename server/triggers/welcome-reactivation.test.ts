import { describe, expect, it } from 'vitest';
import { addWelcomeCodes, welcomeCodeCounts } from '../db/welcome.ts';
import { memoryLogger } from '../logger.ts';
import { SHOP_ORIGIN } from '../testing/fixtures.ts';
import { expectQuietNightEndsInBerlinThenNewYork, PUBLIC_URL, usePushWorld } from '../testing/push-world.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../time.ts';
import { fireDueTriggers } from './due-triggers.ts';
import { fireDueReactivations, REACTIVATION_RESCAN_MS } from './reactivation.ts';

const pushWorld = usePushWorld();

/** Midday in Berlin, morning in New York: outside the default quiet hours for both. */
const NOON_BERLIN = Date.parse('2026-11-23T11:00:00Z');

/** A shop with its API, the background round, a delivery worker and a clock the test moves by hand. */
async function shop(options: { startMs?: number; quietHours?: boolean } = {}) {
  const s = await pushWorld.shop({ startMs: options.startMs ?? NOON_BERLIN, quietHours: options.quietHours ?? false });

  async function ordered(who: { visitorId?: string; externalUserId?: string }, orderId: string) {
    const answer = await s.call('POST', '/v1/events', { type: 'order_completed', ...who, properties: { orderId, value: 40, currency: 'EUR' } });
    expect(answer.status).toBe(202);
  }

  /** One background round's due triggers (a worker). */
  async function round() {
    return (await fireDueTriggers({ db: pushWorld.db, logger: memoryLogger(), publicUrl: PUBLIC_URL, now: s.now }, { deadlineMs: Number.POSITIVE_INFINITY })).queued;
  }
  /** The round, then the delivery worker until nothing more is due now. */
  async function tick() {
    const queued = await round();
    await s.deliver();
    return queued;
  }

  async function deliveries(source: string) {
    return pushWorld.db
      .selectFrom('deliveries as d')
      .innerJoin('notifications as n', 'n.id', 'd.notification_id')
      .select(['d.subscription_id', 'd.status', 'd.last_error as reason'])
      .where('n.site_id', '=', s.site.id)
      .where('n.source', '=', source)
      .execute();
  }

  async function welcomeRow(subscriptionId: string) {
    return pushWorld.db.selectFrom('welcome_pushes').selectAll().where('subscription_id', '=', subscriptionId).executeTakeFirst();
  }

  return { ...s, ordered, round, tick, deliveries, welcomeRow };
}

describe('welcome', () => {
  it('welcomes a new subscriber after the delay, with the fixed first-order code, in their own language', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 10, code: 'HELLO10' } });
    const ann = await s.shopper('ann');
    const jan = await s.shopper('jan', { locale: 'de-DE' });
    s.clock.nowMs += 9 * MINUTE_MS;
    expect(await s.tick()).toEqual([]);
    expect(ann.pushes()).toHaveLength(0);

    s.clock.nowMs += MINUTE_MS;
    expect(await s.tick()).toHaveLength(2);
    const [pushed] = ann.pushes();
    expect(pushed).toMatchObject({ title: 'Welcome! A gift for your first order', url: `${SHOP_ORIGIN}/` });
    expect(pushed!.body).toBe('Use code HELLO10 at checkout.\nTap to start shopping.');
    expect(jan.pushes().map((p) => [p.title, p.body])).toEqual([['Willkommen! Ein Geschenk für deine erste Bestellung', 'Gib beim Bezahlen den Code HELLO10 ein.\nTippe hier, um loszulegen.']]);
    const [notification] = await s.notifications('welcome');
    expect(notification).toMatchObject({ kind: 'marketing', trigger_key: ann.subscriptionId });
    expect(await s.welcomeRow(ann.subscriptionId)).toMatchObject({ state: 'sent', code: 'HELLO10', due_at: null });

    s.clock.nowMs += DAY_MS;
    await s.tick();
    expect(ann.pushes()).toHaveLength(1);
  });

  it('sends the welcome without a code when none is set', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 0 } });
    const ann = await s.shopper('ann');
    await s.tick();
    expect(ann.pushes().map((p) => [p.title, p.body])).toEqual([['Welcome! You are in', 'We will tell you about offers and your orders. Tap to have a look around.']]);
  });

  it('sends nothing while the welcome is off (the default), nor later to those who subscribed meanwhile', async () => {
    const s = await shop();
    const ann = await s.shopper('ann');
    await s.settings({ welcome: { enabled: true } });
    s.clock.nowMs += HOUR_MS;
    expect(await s.tick()).toEqual([]);
    expect(ann.pushes()).toHaveLength(0);
    expect(await s.welcomeRow(ann.subscriptionId)).toBeUndefined();
  });

  it('sends nothing to a shopper who already ordered, by visitor id or by the shop’s user id', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 10, code: 'HELLO10' } });
    const byVisitor = await s.shopper('visitor');
    const byUser = await s.shopper('user', { userId: 'user-42' });
    const fresh = await s.shopper('fresh');
    await s.ordered({ visitorId: byVisitor.visitorId }, 'O-1');
    await s.ordered({ externalUserId: 'user-42' }, 'O-2');
    s.clock.nowMs += 10 * MINUTE_MS;
    expect(await s.tick()).toHaveLength(1);
    expect([byVisitor.pushes().length, byUser.pushes().length, fresh.pushes().length]).toEqual([0, 0, 1]);
    expect(await s.welcomeRow(byUser.subscriptionId)).toMatchObject({ state: 'skipped', code: null });
  });

  it('does not welcome a renewal: the same endpoint posted again, or the same visitor subscribing a new browser endpoint', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 0 } });
    const ann = await s.shopper('ann');
    await s.tick();
    expect(ann.pushes()).toHaveLength(1);
    await ann.visit();
    const again = await s.shopper('ann-again', { visitorId: ann.visitorId });
    s.clock.nowMs += HOUR_MS;
    await s.tick();
    expect([ann.pushes().length, again.pushes().length]).toEqual([1, 0]);
    expect(await s.welcomeRow(again.subscriptionId)).toMatchObject({ state: 'skipped' });
  });

  it('sends nothing to a subscriber who opted out before it was due', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 10 } });
    const ann = await s.shopper('ann');
    await pushWorld.db.updateTable('subscriptions').set({ status: 'unsubscribed' }).where('id', '=', ann.subscriptionId).execute();
    s.clock.nowMs += 10 * MINUTE_MS;
    expect(await s.tick()).toEqual([]);
    expect(await s.welcomeRow(ann.subscriptionId)).toMatchObject({ state: 'skipped' });
  });

  it('is capped as marketing: over the frequency cap the welcome is suppressed with the reason', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 10 }, engagement: { frequencyCap: { marketingPer24h: 1 } } });
    const ann = await s.shopper('ann');
    const campaign = await s.call('POST', '/v1/notifications', { to: { subscriptionIds: [ann.subscriptionId] }, title: 'Sale', body: 'Today only', url: `${SHOP_ORIGIN}/sale` });
    expect(campaign.status).toBe(202);
    await s.deliver();
    s.clock.nowMs += 10 * MINUTE_MS;
    await s.tick();
    expect(ann.pushes().map((p) => p.title)).toEqual(['Sale']);
    expect(await s.deliveries('welcome')).toEqual([expect.objectContaining({ status: 'suppressed', reason: expect.stringContaining('frequency_cap') })]);
  });

  it('gives each new subscriber a code of their own from the uploaded list, once; when the list runs out it welcomes without a code', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 0, codeMode: 'list', code: 'NOT-USED' } });
    await addWelcomeCodes(pushWorld.db, s.site.id, ['WELCOME-A', 'WELCOME-B'], new Date(s.clock.nowMs));
    const shoppers = [await s.shopper('a'), await s.shopper('b'), await s.shopper('c')];
    // Two workers at once, then a third round (a restart): each welcome once, each code once.
    const [first, second] = await Promise.all([s.round(), s.round()]);
    expect(first!.length + second!.length).toBe(3);
    await s.tick();
    await s.deliver();
    const bodies = shoppers.map((shopper) => shopper.pushes().map((p) => p.body));
    expect(bodies.every((b) => b.length === 1)).toBe(true);
    const codes = shoppers.map((shopper) => /code (\S+) at/.exec(shopper.pushes()[0]!.body)?.[1] ?? null);
    expect(codes.filter((code) => code !== null).sort()).toEqual(['WELCOME-A', 'WELCOME-B']);
    expect(shoppers.map((shopper) => shopper.pushes()[0]!.title).filter((title) => title === 'Welcome! You are in')).toHaveLength(1);
    expect(await welcomeCodeCounts(pushWorld.db, s.site.id)).toEqual({ left: 0, given: 2 });
    const rows = await Promise.all(shoppers.map((shopper) => s.welcomeRow(shopper.subscriptionId)));
    expect(rows.map((row) => row!.code)).toEqual(codes);
  });

  it('holds out the automation’s share: a held-out welcome gives no code, and its code goes to the next subscriber', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 0, codeMode: 'list', holdoutPercent: 100 } });
    await addWelcomeCodes(pushWorld.db, s.site.id, ['ONLY-ONE'], new Date(s.clock.nowMs));
    const ann = await s.shopper('ann');
    await s.tick();
    expect(ann.pushes()).toHaveLength(0);
    expect(await s.deliveries('welcome')).toEqual([expect.objectContaining({ status: 'held_out' })]);
    expect(await s.welcomeRow(ann.subscriptionId)).toMatchObject({ state: 'sent', code: null });
    expect(await welcomeCodeCounts(pushWorld.db, s.site.id)).toEqual({ left: 1, given: 0 });
  });

  it('sends each welcome once across two workers racing and a restart', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 10, code: 'HELLO10' } });
    const shoppers = await Promise.all(['a', 'b', 'c', 'd'].map((name) => s.shopper(name)));
    s.clock.nowMs += 10 * MINUTE_MS;
    const [first, second] = await Promise.all([s.round(), s.round()]);
    expect(first!.length + second!.length).toBe(4);
    expect(await s.round()).toEqual([]);
    await s.deliver();
    expect(shoppers.map((shopper) => shopper.pushes().length)).toEqual([1, 1, 1, 1]);
    expect(await s.notifications('welcome')).toHaveLength(4);
  });

  it('drops a welcome held by quiet hours when the shopper orders before it goes', async () => {
    const night = Date.parse('2026-11-23T22:00:00Z');
    const s = await shop({ startMs: night });
    await s.settings({ welcome: { enabled: true, delayMinutes: 10, code: 'HELLO10' }, engagement: { quietHours: { enabled: true, start: '21:00', end: '09:00' } } });
    const ann = await s.shopper('ann');
    const ben = await s.shopper('ben');
    s.clock.nowMs = night + 10 * MINUTE_MS;
    expect(await s.tick()).toHaveLength(2);
    await s.ordered({ visitorId: ann.visitorId }, 'O-night');
    s.clock.nowMs = Date.parse('2026-11-24T08:00:00Z');
    await s.deliver();
    expect([ann.pushes().length, ben.pushes().length]).toEqual([0, 1]);
    const rows = await s.deliveries('welcome');
    expect(rows.find((row) => row.subscription_id === ann.subscriptionId)).toMatchObject({ status: 'suppressed', reason: expect.stringMatching(/^already_ordered:/) });
  });

  it('waits for the end of quiet hours in each shopper’s own zone, across the night the clocks go back in Berlin', async () => {
    // 2026-10-25 01:30 UTC: 02:30 in Berlin an hour after the clocks went back (CET), 21:30 the evening before in New York (still EDT).
    const night = Date.parse('2026-10-25T01:30:00Z');
    const s = await shop({ startMs: night });
    await s.settings({ welcome: { enabled: true, delayMinutes: 10 }, engagement: { quietHours: { enabled: true, start: '21:00', end: '09:00' } } });
    const berlin = await s.shopper('berlin', { locale: 'de-DE', timeZone: 'Europe/Berlin' });
    const newYork = await s.shopper('new-york', { timeZone: 'America/New_York' });
    s.clock.nowMs = night + 10 * MINUTE_MS;
    expect(await s.tick()).toHaveLength(2);
    await expectQuietNightEndsInBerlinThenNewYork(s, berlin, newYork, { berlin: 'Willkommen! Schön, dass du da bist', newYork: 'Welcome! You are in' });
  });
});

describe('reactivation', () => {
  it('sends one “we miss you” after 60 quiet days, then nothing for 90 days, then again if still quiet', async () => {
    const s = await shop();
    await s.settings({ reactivation: { enabled: true } });
    const start = s.clock.nowMs;
    const ann = await s.shopper('ann');
    const jan = await s.shopper('jan', { locale: 'de-DE' });
    s.clock.nowMs = start + 60 * DAY_MS - MINUTE_MS;
    expect(await s.tick()).toEqual([]);
    // That scan reached the end of the site's subscribers: the next one comes after its rest.
    s.clock.nowMs = start + 60 * DAY_MS;
    expect(await s.tick()).toEqual([]);
    s.clock.nowMs = start + 60 * DAY_MS - MINUTE_MS + REACTIVATION_RESCAN_MS;
    expect(await s.tick()).toHaveLength(1);
    const [pushed] = ann.pushes();
    expect(pushed).toMatchObject({ title: 'We miss you', body: 'A lot is new since your last visit. Tap to have a look.', url: `${SHOP_ORIGIN}/` });
    expect(jan.pushes().map((p) => p.title)).toEqual(['Wir vermissen dich']);
    const [notification] = await s.notifications('reactivation');
    expect(notification).toMatchObject({ kind: 'marketing' });

    // 90 days after that push, not before.
    const sentAt = start + 60 * DAY_MS - MINUTE_MS + REACTIVATION_RESCAN_MS;
    for (const at of [start + 61 * DAY_MS, start + 100 * DAY_MS, sentAt + 90 * DAY_MS - MINUTE_MS]) {
      s.clock.nowMs = at;
      expect(await s.tick()).toEqual([]);
    }
    s.clock.nowMs = sentAt + 90 * DAY_MS - MINUTE_MS + REACTIVATION_RESCAN_MS;
    expect(await s.tick()).toHaveLength(1);
    expect(ann.pushes()).toHaveLength(2);
  });

  it('counts a visit, a click on a push and an order as activity, and carries the automation’s code', async () => {
    const s = await shop();
    await s.settings({ reactivation: { enabled: true, afterDays: 30, code: 'COMEBACK' } });
    const start = s.clock.nowMs;
    const visitor = await s.shopper('visitor');
    const buyer = await s.shopper('buyer', { userId: 'user-buyer' });
    const clicker = await s.shopper('clicker');
    const idle = await s.shopper('idle');
    s.clock.nowMs = start + 20 * DAY_MS;
    await visitor.visit();
    await s.ordered({ externalUserId: 'user-buyer' }, 'O-9');
    await pushWorld.db.updateTable('subscriptions').set({ last_clicked_at: new Date(s.clock.nowMs) }).where('id', '=', clicker.subscriptionId).execute();
    s.clock.nowMs = start + 30 * DAY_MS;
    await s.tick();
    expect([visitor, buyer, clicker, idle].map((shopper) => shopper.pushes().length)).toEqual([0, 0, 0, 1]);
    expect(idle.pushes()[0]).toMatchObject({ title: 'We miss you: here is a gift', body: 'Use code COMEBACK at checkout.\nTap to see what is new.' });
    s.clock.nowMs = start + 50 * DAY_MS;
    await s.tick();
    expect([visitor, buyer, clicker, idle].map((shopper) => shopper.pushes().length)).toEqual([1, 1, 1, 1]);
  });

  it('sends nothing while off, nor to opted-out subscribers', async () => {
    const s = await shop();
    const start = s.clock.nowMs;
    const ann = await s.shopper('ann');
    const gone = await s.shopper('gone');
    s.clock.nowMs = start + 90 * DAY_MS;
    expect(await s.tick()).toEqual([]);
    await s.settings({ reactivation: { enabled: true } });
    await pushWorld.db.updateTable('subscriptions').set({ status: 'unsubscribed' }).where('id', '=', gone.subscriptionId).execute();
    await s.tick();
    expect([ann.pushes().length, gone.pushes().length]).toEqual([1, 0]);
  });

  it('is held to the engagement budget: a subscriber who ignored every push is not pushed again, with the reason', async () => {
    const s = await shop();
    await s.settings({ reactivation: { enabled: true }, engagement: { frequencyCap: { marketingPer24h: 1 }, budget: { ignoredPerHalving: 1, minPerWeek: 0 } } });
    const start = s.clock.nowMs;
    const ann = await s.shopper('ann');
    // A week apart, so each fits the shrinking allowance: three ignored in a row leave 7 / 2³ = 0 per week.
    for (const day of [0, 8, 16]) {
      s.clock.nowMs = start + day * DAY_MS;
      expect((await s.call('POST', '/v1/notifications', { to: { subscriptionIds: [ann.subscriptionId] }, title: `Offer ${day}`, body: 'Ignored', url: `${SHOP_ORIGIN}/` })).status).toBe(202);
      await s.deliver();
    }
    expect(ann.pushes()).toHaveLength(3);
    s.clock.nowMs = start + 60 * DAY_MS;
    expect(await s.tick()).toHaveLength(1);
    expect(ann.pushes()).toHaveLength(3);
    expect(await s.deliveries('reactivation')).toEqual([expect.objectContaining({ status: 'suppressed', reason: expect.stringMatching(/^engagement_budget:/) })]);
  });

  it('holds out the automation’s share and keeps them out for the quiet period', async () => {
    const s = await shop();
    await s.settings({ reactivation: { enabled: true, holdoutPercent: 100 } });
    const start = s.clock.nowMs;
    const ann = await s.shopper('ann');
    s.clock.nowMs = start + 60 * DAY_MS;
    await s.tick();
    s.clock.nowMs = start + 61 * DAY_MS;
    await s.tick();
    expect(ann.pushes()).toHaveLength(0);
    expect(await s.deliveries('reactivation')).toEqual([expect.objectContaining({ status: 'held_out' })]);
  });

  it('sends each subscriber one push across two workers racing, a restart, and pages smaller than the audience', async () => {
    const s = await shop();
    await s.settings({ reactivation: { enabled: true } });
    const start = s.clock.nowMs;
    const shoppers = await Promise.all(Array.from({ length: 6 }, (_, i) => s.shopper(`s${i}`)));
    s.clock.nowMs = start + 60 * DAY_MS;
    const page = () => fireDueReactivations(pushWorld.db, { now: new Date(s.clock.nowMs), publicUrl: PUBLIC_URL, limit: 2 });
    const pages = [];
    for (let i = 0; i < 4; i += 1) pages.push(...(await Promise.all([page(), page()])));
    expect(pages.reduce((sum, p) => sum + p.subscribers, 0)).toBe(6);
    expect(await s.round()).toEqual([]);
    await s.deliver();
    expect(shoppers.map((shopper) => shopper.pushes().length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await s.deliveries('reactivation')).toHaveLength(6);
  });

  it('waits for the end of quiet hours in each shopper’s own zone, across the night the clocks go back in Berlin', async () => {
    const night = Date.parse('2026-10-25T01:30:00Z');
    const s = await shop({ startMs: night - 60 * DAY_MS });
    await s.settings({ reactivation: { enabled: true }, engagement: { quietHours: { enabled: true, start: '21:00', end: '09:00' } } });
    const berlin = await s.shopper('berlin', { locale: 'de-DE', timeZone: 'Europe/Berlin' });
    const newYork = await s.shopper('new-york', { timeZone: 'America/New_York' });
    s.clock.nowMs = night;
    expect(await s.tick()).toHaveLength(1);
    await expectQuietNightEndsInBerlinThenNewYork(s, berlin, newYork, { berlin: 'Wir vermissen dich', newYork: 'We miss you' });
  });
});

describe('welcome and reactivation figures', () => {
  it('are in /v1/stats by trigger, and a click on the welcome counts as activity for reactivation', async () => {
    const s = await shop();
    await s.settings({ welcome: { enabled: true, delayMinutes: 0 }, reactivation: { enabled: true, afterDays: 30 } });
    const start = s.clock.nowMs;
    const ann = await s.shopper('ann');
    const ben = await s.shopper('ben');
    await s.tick();
    s.clock.nowMs = start + 10 * DAY_MS;
    await s.click(ann.pushes()[0]!);
    s.clock.nowMs = start + 30 * DAY_MS;
    await s.tick();
    expect([ann.pushes().length, ben.pushes().length]).toEqual([1, 2]);
    const stats = await s.call('GET', `/v1/stats?from=${new Date(start - HOUR_MS).toISOString()}&to=${new Date(s.clock.nowMs + HOUR_MS).toISOString()}`);
    expect(stats.status).toBe(200);
    expect(stats.body.triggers.welcome).toMatchObject({ sent: 2, clicked: 1 });
    expect(stats.body.triggers.reactivation).toMatchObject({ sent: 1, clicked: 0 });
    s.clock.nowMs = start + 40 * DAY_MS;
    await s.tick();
    expect([ann.pushes().length, ben.pushes().length]).toEqual([2, 2]);
  });
});
