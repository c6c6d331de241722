/**
 * What a /metrics scrape costs the database: `readQueueState` (db/queue-state.ts, the queue depth
 * counted up to QUEUE_DEPTH_CAP and the oldest due age) on an outbox of 2,000,000 deliveries, 1,000,000
 * of them due, beside a `select 1` round trip and an uncapped count of the due rows on the same pool
 * in the same run — and again with only 1,000 due, the usual case.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/queue-state.ts [--runs=20]
 *
 * A fresh database is created on that server through the real migrations, and dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../server/db/migrate.ts';
import { QUEUE_DEPTH_CAP, readQueueState } from '../server/db/queue-state.ts';
import { memoryLogger } from '../server/logger.ts';
import { openPostgres } from '../server/runtime/node/database.ts';

const SUBSCRIPTIONS = 100_000;
const NOTIFICATIONS = 20;
const NOW_MS = Date.parse('2026-11-29T12:00:00Z');

const runs = Number(process.argv.find((arg) => arg.startsWith('--runs='))?.split('=')[1] ?? 20);
for (const arg of process.argv.slice(2)) {
  if (!/^--runs=\d+$/.test(arg)) throw new Error(`unknown option ${arg} (known: --runs=N)`);
}
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('DATABASE_URL must name a Postgres server: the bench creates its own database there');

const name = `pushcart_bench_queue_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database ${name}`).finally(() => admin.end());
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const opened = openPostgres(url.toString(), memoryLogger());
const db = opened.db;

async function measure(label: string, query: () => Promise<unknown>): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < 2; i++) await query(); // warm the cache and the plan
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await query();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  return `| ${label} | ${median.toFixed(2)} ms | ${times[times.length - 1]!.toFixed(2)} ms | ${times.length} |`;
}

async function table(title: string): Promise<void> {
  const due = await sql<{ count: string }>`select count(*) as count from deliveries where status in ('queued', 'sending') and due_at <= ${new Date(NOW_MS)}`.execute(db);
  console.log(`\n${title}: ${Number(due.rows[0]!.count).toLocaleString('en')} due`);
  console.log('| query | median | max | runs |\n|---|---|---|---|');
  console.log(await measure('baseline: select 1', () => sql`select 1`.execute(db)));
  console.log(await measure(`readQueueState (count capped at ${QUEUE_DEPTH_CAP.toLocaleString('en')})`, () => readQueueState(db, NOW_MS)));
  console.log(
    await measure('for comparison: uncapped count(*) of the due rows', () =>
      sql`select count(*) from deliveries where status in ('queued', 'sending') and due_at <= ${new Date(NOW_MS)}`.execute(db),
    ),
  );
  console.log('readQueueState:', await readQueueState(db, NOW_MS));
}

try {
  await migrateToLatest(db);
  const siteId = (
    await sql<{ id: string }>`
      insert into sites (name, allowed_origins, publishable_key, vapid_public_key, vapid_private_key)
      values ('bench', '{https://shop.example}', 'pk_bench', 'v', 'p') returning id`.execute(db)
  ).rows[0]!.id;
  await sql`
    insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id)
    select ${siteId}, 'https://fcm.googleapis.com/fcm/send/' || i, 'p', 'a', 'v', 'visitor-' || i
    from generate_series(1, ${SUBSCRIPTIONS}::int) i`.execute(db);
  await sql`
    insert into notifications (site_id, source, kind, content, audience, ttl_seconds, created_at)
    select ${siteId}, 'api', 'marketing', '{}', '{}', 86400, ${new Date(NOW_MS)}::timestamptz - k * interval '1 hour'
    from generate_series(1, ${NOTIFICATIONS}::int) k`.execute(db);
  // Half sent (history), half waiting: due over the last hour, as a fan-out the workers lag behind.
  await sql`
    insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, due_at, created_at, updated_at)
    select n.id, s.id, s.endpoint, 't',
      case when row_number() over () % 2 = 0 then 'sent' else 'queued' end,
      ${new Date(NOW_MS)}::timestamptz - (abs(hashtext(s.id::text || n.id::text)) % 3600) * interval '1 second',
      n.created_at, n.created_at
    from notifications n cross join subscriptions s`.execute(db);
  await sql`vacuum analyze`.execute(db);
  await table(`${(SUBSCRIPTIONS * NOTIFICATIONS).toLocaleString('en')} deliveries, a fan-out backlog`);
  // The usual case: the workers keep up; what is due is the last moments' sends.
  await sql`update deliveries set status = 'sent' where status = 'queued' and id % 1000 <> 1`.execute(db);
  await sql`vacuum analyze`.execute(db);
  await table('the same table with the workers keeping up');
  console.log(`\n${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
} finally {
  await opened.close();
  const dropper = new pg.Client({ connectionString: serverUrl });
  await dropper.connect();
  await dropper.query(`drop database if exists ${name} with (force)`).finally(() => dropper.end());
}
