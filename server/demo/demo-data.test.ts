import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyReport } from '../db/daily-stats.ts';
import { promptFunnel } from '../db/prompt-funnel.ts';
import { markDemoSite } from '../db/sites.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { addDays, localDate, localDays } from '../stats/local-days.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { DEMO_SUBSCRIPTIONS, seedDemoData, seededRandom } from './demo-data.ts';

const NOW = new Date(Date.UTC(2030, 2, 20, 15, 30, 0));
const ZONE = 'Europe/Berlin';

let database: TestDatabase;
let demo: CreatedSite;
let real: CreatedSite;
beforeAll(async () => {
  database = await createTestDatabase();
  demo = await createSite(database.db, { name: 'Demo shop', origins: ['http://localhost:8787'] }, undefined);
  await markDemoSite(database.db, demo.id);
  real = await createSite(database.db, { name: 'A real shop', origins: ['https://real.example'] }, undefined);
});
afterAll(async () => database?.destroy());

describe('seedDemoData', () => {
  it('refuses a site that is not the demo, writing nothing', async () => {
    expect(await seedDemoData(database.db, real.id, NOW)).toEqual({ outcome: 'not_demo_site' });
    expect(await seedDemoData(database.db, crypto.randomUUID(), NOW)).toEqual({ outcome: 'not_demo_site' });
    const rows = await sql<{ n: string }>`select (select count(*) from subscriptions) + (select count(*) from notifications) + (select count(*) from events) as n`.execute(database.db);
    expect(Number(rows.rows[0]!.n)).toBe(0);
  });

  it('writes a month whose report has subscribers, pushes, revenue and a lift reading, quickly', async () => {
    const started = performance.now();
    const result = await seedDemoData(database.db, demo.id, NOW, seededRandom(7));
    const elapsed = performance.now() - started;
    expect(result.outcome).toBe('seeded');
    if (result.outcome !== 'seeded') return;
    expect(result.subscriptions).toBeGreaterThan(DEMO_SUBSCRIPTIONS * 0.95);
    expect(result.subscriptions).toBeLessThanOrEqual(DEMO_SUBSCRIPTIONS);
    expect(elapsed).toBeLessThan(10_000);

    const to = localDate(NOW.getTime(), ZONE);
    const from = addDays(to, -29);
    const days = localDays(from, to, ZONE);
    const report = await dailyReport(database.db, demo.id, days, ZONE, 24);
    // The seeded month ends at the clock; the report's first local day may start a few hours after its start.
    const inRange = await sql<{ n: string }>`select count(*) as n from subscriptions where site_id = ${demo.id} and created_at >= ${days.boundaries[0]!}`.execute(database.db);
    const gained = report.days.reduce((sum, day) => sum + day.subscribers.new, 0);
    const lost = report.days.reduce((sum, day) => sum + day.subscribers.lostExpired + day.subscribers.lostUnsubscribed, 0);
    expect(gained).toBe(Number(inRange.rows[0]!.n));
    expect(gained).toBeGreaterThan(result.subscriptions * 0.99);
    expect(lost).toBeGreaterThan(0);
    expect(report.activeNow).toBe(result.subscriptions - lost);
    expect(report.days.at(-1)!.subscribers.active).toBe(report.activeNow);
    // Subscribers arrive on every day of the month, not all at once.
    expect(report.days.filter((day) => day.subscribers.new > 0).length).toBeGreaterThanOrEqual(28);

    expect(Object.keys(report.triggers).sort()).toEqual(['api', 'back_in_stock', 'cart_reminder', 'price_drop']);
    const cart = report.triggers.cart_reminder!;
    expect(cart.sent).toBeGreaterThan(0);
    expect(cart.shown).toBeGreaterThan(0);
    expect(cart.clicked).toBeGreaterThan(0);
    expect(cart.converted).toBeGreaterThan(0);
    expect(cart.revenue.EUR).toBeGreaterThan(0);
    expect(cart.failed + cart.expired + cart.suppressed).toBeGreaterThan(0);
    // Enough held-out shoppers and orders for an interval, and the sample is made to show a lift.
    expect(cart.holdout).not.toBeNull();
    expect(cart.holdout!.heldOut.subscribers).toBeGreaterThanOrEqual(100);
    expect(cart.holdout!.verdict, cart.holdout!.reading).toBe('more');
    expect(cart.holdout!.reading).toMatch(/^Cart reminders brought \d+ % more orders than the held-out group \(95 % interval: /);
    expect(report.triggers.price_drop!.holdout).not.toBeNull();
    expect(report.triggers.back_in_stock!.holdout).toBeNull();

    // The funnel is read by the same local days: each day's subscriptions are its "subscribed" step.
    const funnelDays = await promptFunnel(database.db, demo.id, days);
    expect(funnelDays.map((day) => [day.day, day.push_subscribed])).toEqual(report.days.map((day) => [day.date, day.subscribers.new]));
    // The whole month, a day either side of the local range.
    const funnel = await promptFunnel(database.db, demo.id, localDays(addDays(from, -1), addDays(to, 1), ZONE));
    const total = (step: 'prompt_shown' | 'prompt_accepted' | 'permission_granted' | 'push_subscribed') => funnel.reduce((sum, day) => sum + day[step], 0);
    expect(total('prompt_shown')).toBeGreaterThan(total('prompt_accepted'));
    expect(total('prompt_accepted')).toBeGreaterThan(total('permission_granted'));
    expect(total('permission_granted')).toBeGreaterThanOrEqual(total('push_subscribed'));
    expect(total('push_subscribed')).toBe(result.subscriptions);

    // Nothing waits to be sent to the made-up endpoints, and no cart waits for a reminder.
    const waiting = await sql<{ n: string }>`
      select (select count(*) from deliveries where status in ('queued', 'sending')) + (select count(*) from carts where next_reminder_at is not null) as n`.execute(database.db);
    expect(Number(waiting.rows[0]!.n)).toBe(0);
    // Every timestamp is in the month before the clock given.
    const span = await sql<{ first: Date; last: Date }>`select min(created_at) as first, max(created_at) as last from events where site_id = ${demo.id}`.execute(database.db);
    expect(span.rows[0]!.last.getTime()).toBeLessThan(NOW.getTime());
    expect(span.rows[0]!.first.getTime()).toBeGreaterThan(NOW.getTime() - 31 * 86_400_000);
  });

  it('leaves the planner statistics of what it loaded, so the overview is not planned blind', async () => {
    const analyzed = await sql<{ relname: string; last_analyze: Date | null }>`
      select relname, last_analyze from pg_stat_user_tables where relname in ('subscriptions', 'deliveries', 'events', 'notifications') order by relname`.execute(database.db);
    expect(analyzed.rows.map((row) => row.relname)).toEqual(['deliveries', 'events', 'notifications', 'subscriptions']);
    for (const row of analyzed.rows) expect(row.last_analyze, row.relname).not.toBeNull();
  });

  it('refuses a second run on the same shop, writing nothing more', async () => {
    const before = await sql<{ n: string }>`select count(*) as n from subscriptions`.execute(database.db);
    expect(await seedDemoData(database.db, demo.id, NOW)).toEqual({ outcome: 'already_seeded' });
    const after = await sql<{ n: string }>`select count(*) as n from subscriptions`.execute(database.db);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });
});
