import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import type { Database, DeliveryStatus } from './database.ts';
import { EXPIRY_WEEKS, hostBackoffs, quietHoursWait, recentFailures, recentSuppressions, WEEK_MS, weeklyExpiry } from './delivery-health.ts';

const NOW = Date.UTC(2030, 2, 24, 10, 0, 0);
const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(NOW + offsetMs);

let database: TestDatabase;
let shop: CreatedSite;
let other: CreatedSite;
const subscriptionOf = new Map<string, string>();
const notificationOf = new Map<string, string>();

async function subscription(siteId: string, host: string): Promise<string> {
  const key = `${siteId}|${host}`;
  const known = subscriptionOf.get(key);
  if (known) return known;
  const row = await database.db
    .insertInto('subscriptions')
    .values({
      site_id: siteId,
      endpoint: `https://${host}/push/${crypto.randomUUID()}`,
      p256dh: 'BKey',
      auth: 'auth',
      vapid_public_key: 'BVapid',
      visitor_id: crypto.randomUUID(),
      created_at: at(-100 * WEEK_MS),
      updated_at: at(-100 * WEEK_MS),
      last_seen_at: at(-100 * WEEK_MS),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  subscriptionOf.set(key, row.id);
  return row.id;
}

async function notification(siteId: string): Promise<string> {
  const known = notificationOf.get(siteId);
  if (known) return known;
  const row = await database.db
    .insertInto('notifications')
    .values({ site_id: siteId, kind: 'marketing', content: JSON.stringify({ title: 't', body: 'b', url: 'https://shop.example/' }), audience: '{}', ttl_seconds: 86_400, created_at: at(-30 * 24 * HOUR) })
    .returning('id')
    .executeTakeFirstOrThrow();
  notificationOf.set(siteId, row.id);
  return row.id;
}

/** One delivery (its own subscription on `host`, since a notification reaches a subscription once). */
async function delivery(
  siteId: string,
  host: string,
  row: { status: DeliveryStatus; updatedMs: number; dueMs?: number; lastStatus?: number | null; lastError?: string | null },
): Promise<void> {
  const subscriptionId = (
    await database.db
      .insertInto('subscriptions')
      .values({
        site_id: siteId,
        endpoint: `https://${host}/push/${crypto.randomUUID()}`,
        p256dh: 'BKey',
        auth: 'auth',
        vapid_public_key: 'BVapid',
        visitor_id: crypto.randomUUID(),
        created_at: at(-100 * WEEK_MS),
        updated_at: at(-100 * WEEK_MS),
        last_seen_at: at(-100 * WEEK_MS),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  await database.db
    .insertInto('deliveries')
    .values({
      notification_id: await notification(siteId),
      subscription_id: subscriptionId,
      endpoint: `https://${host}/push/${crypto.randomUUID()}`,
      report_token: crypto.randomUUID(),
      status: row.status,
      due_at: at(row.dueMs ?? row.updatedMs),
      last_status: row.lastStatus ?? null,
      last_error: row.lastError ?? null,
      created_at: at(-2 * WEEK_MS),
      updated_at: at(row.updatedMs),
    })
    .execute();
}

beforeAll(async () => {
  database = await createTestDatabase();
  shop = await createSite(database.db, { name: 'Shop', origins: ['https://shop.example'] }, undefined);
  other = await createSite(database.db, { name: 'Other', origins: ['https://other.example'] }, undefined);
  const FCM = 'fcm.googleapis.com';
  const APPLE = 'web.push.apple.com';
  const MOZILLA = 'updates.push.services.mozilla.com';
  // Waiting for quiet hours: two of the shop's, one of another shop's (never counted here).
  await delivery(shop.id, FCM, { status: 'queued', updatedMs: -HOUR, dueMs: 9 * HOUR, lastError: 'quiet_hours: 23:00 in Europe/Berlin is inside quiet hours 22:00–07:00; deferred until 07:00' });
  await delivery(shop.id, APPLE, { status: 'queued', updatedMs: -HOUR, dueMs: 20 * HOUR, lastError: 'quiet_hours: deferred' });
  await delivery(other.id, FCM, { status: 'queued', updatedMs: -HOUR, dueMs: 2 * HOUR, lastError: 'quiet_hours: deferred' });
  // Held by Apple's 429 (one row still carries the answer); one held row whose pause is over is not held any more.
  await delivery(shop.id, APPLE, { status: 'queued', updatedMs: -60_000, dueMs: 120_000, lastStatus: 429, lastError: 'push_host_backoff: too many requests (429); the host waits' });
  await delivery(shop.id, APPLE, { status: 'queued', updatedMs: -30_000, dueMs: 90_000, lastError: 'push_host_backoff: held while the push host backs off' });
  await delivery(shop.id, FCM, { status: 'queued', updatedMs: -HOUR, dueMs: -60_000, lastStatus: 503, lastError: 'push_host_backoff: unavailable (503)' });
  // Suppressed: cap twice today and once 3 days ago; ttl 2 days ago; one 8 days ago is out of the week.
  await delivery(shop.id, FCM, { status: 'suppressed', updatedMs: -2 * HOUR, lastError: 'frequency_cap: 3 marketing pushes' });
  await delivery(shop.id, FCM, { status: 'suppressed', updatedMs: -3 * HOUR, lastError: 'frequency_cap: 3 marketing pushes' });
  await delivery(shop.id, FCM, { status: 'suppressed', updatedMs: -72 * HOUR, lastError: 'frequency_cap: 3 marketing pushes' });
  await delivery(shop.id, FCM, { status: 'suppressed', updatedMs: -48 * HOUR, lastError: 'ttl_elapsed: the notification expired' });
  await delivery(shop.id, FCM, { status: 'suppressed', updatedMs: -8 * 24 * HOUR, lastError: 'frequency_cap: old' });
  await delivery(other.id, FCM, { status: 'suppressed', updatedMs: -HOUR, lastError: 'frequency_cap: other shop' });
  // Failing: FCM twice for good (the newer a 403 with markup in its detail), a retry on Mozilla; a failure 2 days ago is out of the day.
  await delivery(shop.id, FCM, { status: 'failed', updatedMs: -5 * HOUR, lastStatus: 400, lastError: 'push_rejected: bad request' });
  await delivery(shop.id, FCM, { status: 'failed', updatedMs: -HOUR, lastStatus: 403, lastError: 'failed_after_attempts: <script>alert(1)</script>' });
  await delivery(shop.id, FCM, { status: 'failed', updatedMs: -48 * HOUR, lastStatus: 410, lastError: 'push_rejected: old' });
  await delivery(shop.id, MOZILLA, { status: 'queued', updatedMs: -2 * HOUR, dueMs: HOUR, lastStatus: 502, lastError: 'push_error: bad gateway' });
  await delivery(other.id, MOZILLA, { status: 'failed', updatedMs: -HOUR, lastStatus: 500, lastError: 'push_rejected: other shop' });
  // Sent rows are never a problem.
  await delivery(shop.id, FCM, { status: 'sent', updatedMs: -HOUR });
});
afterAll(async () => database?.destroy());

describe('delivery health queries', () => {
  it('quietHoursWait: the shop’s pushes deferred by quiet hours, with the first and last time they may go', async () => {
    expect(await quietHoursWait(database.db, shop.id)).toEqual({ count: 2, earliestMs: NOW + 9 * HOUR, latestMs: NOW + 20 * HOUR });
    const empty = await createSite(database.db, { name: 'Empty', origins: ['https://empty.example'] }, undefined);
    expect(await quietHoursWait(database.db, empty.id)).toBeNull();
  });

  it('hostBackoffs: per push service, the held pushes whose pause is not over, with the answer that started it', async () => {
    expect(await hostBackoffs(database.db, shop.id, NOW)).toEqual([
      { host: 'web.push.apple.com', count: 2, untilMs: NOW + 120_000, lastStatus: 429, lastError: 'push_host_backoff: too many requests (429); the host waits' },
    ]);
    // Once the pause is over, nothing is held.
    expect(await hostBackoffs(database.db, shop.id, NOW + 3 * 60_000)).toEqual([]);
  });

  it('recentSuppressions: by reason, the last 24 hours and the last 7 days', async () => {
    expect(await recentSuppressions(database.db, shop.id, NOW)).toEqual([
      { reason: 'frequency_cap', lastDay: 2, lastWeek: 3 },
      { reason: 'ttl_elapsed', lastDay: 0, lastWeek: 1 },
    ]);
  });

  it('recentFailures: per push service, given up and retrying in the last 24 hours, with the newest error', async () => {
    expect(await recentFailures(database.db, shop.id, NOW)).toEqual([
      { host: 'fcm.googleapis.com', failed: 2, retrying: 0, last: { atMs: NOW - HOUR, status: 403, error: 'failed_after_attempts: <script>alert(1)</script>' } },
      { host: 'updates.push.services.mozilla.com', failed: 0, retrying: 1, last: { atMs: NOW - 2 * HOUR, status: 502, error: 'push_error: bad gateway' } },
    ]);
  });

  it('weeklyExpiry: active at each week’s start and expired in it, from the subscription changes', async () => {
    const site = await createSite(database.db, { name: 'Churn', origins: ['https://churn.example'] }, undefined);
    // 100 subscribed long ago; 10 expire in week 2 (0-based) and 5 in the last week; 20 new arrive in week 4.
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push(await subscription(site.id, `fcm.googleapis.com/${i}`));
    await sql`update subscriptions set status = 'expired', updated_at = ${at(-6 * WEEK_MS + HOUR)} where id = any(${ids.slice(0, 10)}::uuid[])`.execute(database.db);
    await sql`update subscriptions set status = 'expired', updated_at = ${at(-HOUR)} where id = any(${ids.slice(10, 15)}::uuid[])`.execute(database.db);
    for (let i = 0; i < 20; i++) {
      await database.db
        .insertInto('subscriptions')
        .values({ site_id: site.id, endpoint: `https://fcm.googleapis.com/new/${i}`, p256dh: 'B', auth: 'a', vapid_public_key: 'B', visitor_id: `n${i}`, created_at: at(-3 * WEEK_MS - HOUR), updated_at: at(-3 * WEEK_MS - HOUR), last_seen_at: at(-3 * WEEK_MS) })
        .execute();
    }
    const weeks = await weeklyExpiry(database.db, site.id, NOW);
    expect(weeks).toHaveLength(EXPIRY_WEEKS);
    expect(weeks.map((w) => w.startMs)).toEqual(Array.from({ length: 8 }, (_, i) => NOW - (8 - i) * WEEK_MS));
    expect(weeks.map((w) => w.activeAtStart)).toEqual([100, 100, 100, 90, 90, 110, 110, 110]);
    expect(weeks.map((w) => w.expired)).toEqual([0, 0, 10, 0, 0, 0, 0, 5]);
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

interface Scan {
  type: string;
  relation: string | undefined;
  index: string | undefined;
  /** Rows the node read from its relation over all its loops (kept plus filtered out), with ANALYZE. */
  read: number;
}

/** Every node of an EXPLAIN (FORMAT JSON) plan with the table it reads. */
function scans(node: PlanNode): Scan[] {
  // Per-loop averages in EXPLAIN ANALYZE; times the loops for the node's total.
  const loops = node['Actual Loops'] ?? 1;
  const read = ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * loops;
  return [{ type: node['Node Type'], relation: node['Relation Name'], index: node['Index Name'], read }, ...(node.Plans ?? []).flatMap(scans)];
}

describe('delivery health queries on a large table', { timeout: 60_000 }, () => {
  it('read the deliveries only through indexes, never a scan of the whole table', async () => {
    // 50,000 sent deliveries (nearly all rows of a real table), each to its own subscription, so
    // the statistics look like a real table's.
    const notificationId = await notification(shop.id);
    await sql`with subs as (
        insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, created_at, updated_at, last_seen_at)
        select ${shop.id}, 'https://fcm.googleapis.com/bulk/' || g, 'B', 'a', 'B', 'v' || g, ${at(-WEEK_MS)}, ${at(-WEEK_MS)}, ${at(-WEEK_MS)}
        from generate_series(1, 50000) g returning id)
      insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, due_at, sent_at, created_at, updated_at)
      select ${notificationId}, id, 'https://fcm.googleapis.com/p', 'r', 'sent', ${at(-HOUR)}, ${at(-HOUR)}, ${at(-HOUR)}, ${at(-HOUR)} from subs`.execute(database.db);
    await sql`analyze`.execute(database.db);

    // The same functions, on a connection that keeps the statements they send.
    const statements: CompiledQuery[] = [];
    const pool = new pg.Pool({ connectionString: database.connectionString, max: 2 });
    const recording = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (event) => void statements.push(event.query) });
    try {
      await quietHoursWait(recording, shop.id);
      await hostBackoffs(recording, shop.id, NOW);
      await recentSuppressions(recording, shop.id, NOW);
      await recentFailures(recording, shop.id, NOW);
      await weeklyExpiry(recording, shop.id, NOW);
      const onDeliveries = statements.filter((statement) => /\bfrom deliveries\b/.test(statement.sql));
      expect(onDeliveries).toHaveLength(4);
      const client = await pool.connect();
      try {
        // With sequential scans priced out, a plan still scans the table only if no index can serve.
        // Which index serves is the planner's choice (the outcome index, or the one by notification
        // and status, depending on the statistics); what must hold is that the rows read from
        // deliveries are the few waiting or decided ones, not the 50,000 sent.
        await client.query('set enable_seqscan = off');
        // The queries only: two of them run in a transaction of their own (begin, set local, commit).
        for (const statement of statements.filter((sent) => /^\s*(select|with)\b/i.test(sent.sql))) {
          const plan = await client.query(`explain (analyze, format json) ${statement.sql}`, statement.parameters as unknown[]);
          const scanned = scans(plan.rows[0]['QUERY PLAN'][0].Plan);
          expect(scanned.filter((scan) => scan.type === 'Seq Scan' && (scan.relation === 'deliveries' || scan.relation === 'subscription_changes')), statement.sql).toEqual([]);
          const readFromDeliveries = scanned.filter((scan) => scan.relation === 'deliveries').reduce((sum, scan) => sum + scan.read, 0);
          expect(readFromDeliveries, statement.sql).toBeLessThan(500);
        }
      } finally {
        client.release();
      }
    } finally {
      await recording.destroy();
    }
  });
});
