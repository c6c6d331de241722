import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import type { Database } from './database.ts';
import { claimDeliveries, recordDeliveryResults } from './deliveries.ts';

const NOW = Date.UTC(2030, 2, 24, 10, 0, 0);
const LEASE_MS = 60_000;

let database: TestDatabase;
let shop: CreatedSite;
let otherShop: CreatedSite;

beforeAll(async () => {
  database = await createTestDatabase();
  shop = await createSite(database.db, { name: 'Shop', origins: ['https://shop.example'] }, undefined);
  otherShop = await createSite(database.db, { name: 'Other', origins: ['https://other.example'] }, undefined);
});
afterAll(async () => database?.destroy());

async function notification(siteId: string, title: string, kind: 'marketing' | 'transactional' = 'marketing'): Promise<string> {
  const row = await database.db
    .insertInto('notifications')
    .values({ site_id: siteId, kind, content: JSON.stringify({ title, body: `${title} body`, url: 'https://shop.example/' }), audience: '{}', ttl_seconds: 3_600, created_at: new Date(NOW - 1_000) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** `count` subscriptions of the site, each with a queued delivery of the notification, due at `dueMs`. */
async function queue(siteId: string, notificationId: string, count: number, dueMs = NOW - 1_000): Promise<void> {
  await sql`with subs as (
      insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id)
      select ${siteId}, 'https://fcm.googleapis.com/fcm/send/' || gen_random_uuid(), 'BKey', 'auth', 'BVapid', 'v-' || gen_random_uuid()
      from generate_series(1, ${count}) returning id, endpoint)
    insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, due_at, created_at, updated_at)
    select ${notificationId}, id, endpoint, 'token', 'queued', ${new Date(dueMs)}, ${new Date(dueMs)}, ${new Date(dueMs)} from subs`.execute(database.db);
}

async function clearQueue(): Promise<void> {
  await sql`delete from deliveries where status in ('queued', 'sending')`.execute(database.db);
}

describe('claimDeliveries', () => {
  it('gives each delivery of a batch its own notification’s content and settings and its site’s keys', async () => {
    await clearQueue();
    const sale = await notification(shop.id, 'Sale');
    const receipt = await notification(otherShop.id, 'Receipt', 'transactional');
    await queue(shop.id, sale, 3);
    await queue(otherShop.id, receipt, 2);

    const claimed = await claimDeliveries(database.db, { leaseId: 'w:1', limit: 10, nowMs: NOW, leaseMs: LEASE_MS });

    expect(claimed).toHaveLength(5);
    const sites = await database.db.selectFrom('sites').select(['id', 'vapid_public_key', 'vapid_private_key']).execute();
    for (const delivery of claimed) {
      const [siteId, title, kind] = delivery.notification_id === sale ? [shop.id, 'Sale', 'marketing'] : [otherShop.id, 'Receipt', 'transactional'];
      const site = sites.find((s) => s.id === siteId)!;
      expect(delivery).toMatchObject({
        site_id: siteId,
        kind,
        content: { title, body: `${title} body` },
        ttl_seconds: 3_600,
        attempts: 1,
        subscription_status: 'active',
        vapid_public_key: site.vapid_public_key,
        vapid_private_key: site.vapid_private_key,
        notification_cancelled_at: null,
      });
      expect(delivery.subscription_endpoint).toBe(delivery.endpoint);
      expect(new Date(delivery.notification_created_at).getTime()).toBe(NOW - 1_000);
    }
    const leased = await database.db.selectFrom('deliveries').select(['status', 'leased_by']).where('status', '=', 'sending').execute();
    expect(leased).toHaveLength(5);
    expect(leased.every((row) => row.leased_by === 'w:1')).toBe(true);
  });

  it.each([
    ['a new shop’s first send (statistics of an empty table)', 0],
    ['a table with a history (20,000 pushes sent)', 20_000],
  ])('reads a large send’s queue in order up to its limit, not every due row: %s', async (_, historyRows) => {
    // Statistics gathered while nothing was queued; then one send of 3,000, all due at the same moment.
    await sql`delete from deliveries`.execute(database.db);
    if (historyRows > 0) {
      const history = await notification(shop.id, 'Last week');
      await queue(shop.id, history, historyRows, NOW - 7 * 24 * 3_600_000);
      await sql`update deliveries set status = 'sent', sent_at = due_at where notification_id = ${history}`.execute(database.db);
    }
    await sql`analyze deliveries`.execute(database.db);
    await queue(shop.id, await notification(shop.id, 'Flash sale'), 3_000);

    const statements: CompiledQuery[] = [];
    const pool = new pg.Pool({ connectionString: database.connectionString, max: 1 });
    const recording = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (event) => void statements.push(event.query) });
    try {
      expect(await claimDeliveries(recording, { leaseId: 'w:2', limit: 500, nowMs: NOW, leaseMs: LEASE_MS })).toHaveLength(500);
      // The same statements again, in a transaction rolled back, to see the plan and the rows it read.
      const client = await pool.connect();
      try {
        await client.query('begin');
        let plan: PlanNode | undefined;
        for (const statement of statements.filter((s) => !/^(begin|commit)/i.test(s.sql.trim()))) {
          const result = await client.query(`explain (analyze, format json) ${statement.sql}`, statement.parameters as unknown[]);
          if (statement.sql.includes('with claimed')) plan = result.rows[0]['QUERY PLAN'][0].Plan;
        }
        await client.query('rollback');
        const scanned = scans(plan!).filter((scan) => scan.relation === 'deliveries');
        // 500 rows from the queue index, and each again where it is updated: not the 3,000 due.
        expect(scanned.reduce((sum, scan) => sum + scan.read, 0)).toBeLessThanOrEqual(1_500);
        expect(nodeTypes(plan!)).not.toContain('Sort');
      } finally {
        client.release();
      }
    } finally {
      await recording.destroy();
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

function scans(node: PlanNode): Array<{ relation: string | undefined; read: number }> {
  const read = ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1);
  return [{ relation: node['Relation Name'], read }, ...(node.Plans ?? []).flatMap(scans)];
}

function nodeTypes(node: PlanNode): string[] {
  return [node['Node Type'], ...(node.Plans ?? []).flatMap(nodeTypes)];
}

describe('recordDeliveryResults', () => {
  it('writes accepted pushes and the other outcomes of one group, each with its own values, and leaves a row another claim took', async () => {
    await clearQueue();
    const sale = await notification(shop.id, 'Results');
    await queue(shop.id, sale, 5);
    const claimed = await claimDeliveries(database.db, { leaseId: 'w:3', limit: 5, nowMs: NOW, leaseMs: LEASE_MS });
    const [ok201, ok202, retry, failed, takenOver] = claimed.map((d) => d.id) as [string, string, string, string, string];
    // This one's lease lapsed and another worker claimed it: its result is that worker's to write.
    await sql`update deliveries set leased_by = 'w:other' where id = ${takenOver}`.execute(database.db);
    const bucketsBefore = await sentInBuckets();

    const writtenAt = NOW + 2_000;
    await recordDeliveryResults(database.db, 'w:3', writtenAt, [
      { id: ok201, status: 'sent', dueAtMs: NOW, attemptDelta: 0, lastStatus: 201, lastError: null },
      { id: ok202, status: 'sent', dueAtMs: NOW, attemptDelta: 0, lastStatus: 202, lastError: null },
      { id: retry, status: 'queued', dueAtMs: NOW + 30_000, attemptDelta: 0, lastStatus: 503, lastError: 'push_error: try later' },
      { id: failed, status: 'failed', dueAtMs: NOW, attemptDelta: 0, lastStatus: 400, lastError: 'push_rejected: bad' },
      { id: takenOver, status: 'sent', dueAtMs: NOW, attemptDelta: 0, lastStatus: 201, lastError: null },
    ]);

    const rows = new Map(
      (
        await database.db
          .selectFrom('deliveries')
          .select(['id', 'status', 'due_at', 'attempts', 'last_status', 'last_error', 'sent_at', 'leased_by', 'updated_at'])
          .where('notification_id', '=', sale)
          .execute()
      ).map((row) => [String(row.id), row]),
    );
    const sentAt = new Date(writtenAt);
    expect(rows.get(ok201)).toMatchObject({ status: 'sent', last_status: 201, last_error: null, sent_at: sentAt, leased_by: null, attempts: 1, updated_at: sentAt });
    expect(rows.get(ok202)).toMatchObject({ status: 'sent', last_status: 202, sent_at: sentAt, leased_by: null });
    expect(rows.get(retry)).toMatchObject({ status: 'queued', due_at: new Date(NOW + 30_000), last_status: 503, last_error: 'push_error: try later', sent_at: null, leased_by: null, attempts: 1 });
    expect(rows.get(failed)).toMatchObject({ status: 'failed', last_status: 400, last_error: 'push_rejected: bad', sent_at: null, leased_by: null });
    expect(rows.get(takenOver)).toMatchObject({ status: 'sending', leased_by: 'w:other', sent_at: null, last_status: null });
    // The rollup counted the two sent and the failure, not the row left to the other worker.
    expect((await sentInBuckets()) - bucketsBefore).toBe(2);
  });

  it('gives back the attempt of a delivery held rather than tried', async () => {
    await clearQueue();
    const sale = await notification(shop.id, 'Held');
    await queue(shop.id, sale, 1);
    const [held] = await claimDeliveries(database.db, { leaseId: 'w:4', limit: 1, nowMs: NOW, leaseMs: LEASE_MS });
    await recordDeliveryResults(database.db, 'w:4', NOW, [
      { id: held!.id, status: 'queued', dueAtMs: NOW + 60_000, attemptDelta: -1, lastStatus: null, lastError: 'push_host_backoff: later' },
    ]);
    const row = await database.db.selectFrom('deliveries').select(['status', 'attempts', 'due_at']).where('id', '=', held!.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'queued', attempts: 0, due_at: new Date(NOW + 60_000) });
  });
});

async function sentInBuckets(): Promise<number> {
  const row = await sql<{ sent: string }>`select coalesce(sum(sent), 0)::text as sent from stats_buckets where site_id = ${shop.id}`.execute(database.db);
  return Number(row.rows[0]!.sent);
}
