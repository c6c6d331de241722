/**
 * Where Postgres's CPU per push goes (issue 12, item 3): the statements one push costs, run one
 * after the other on ONE connection, with that backend's CPU time read from /proc before and after
 * each step, so every microsecond is the statement's own, not a neighbour's or a wait for a core.
 * The same functions the workers run, in the order a fan-out runs them, for N subscribers:
 *
 *   1. the audience written into the outbox in chunks (resolveAudienceChunk, 10,000 a chunk)
 *   2. claims of `--batch` deliveries (claimDeliveries)
 *   3. the frequency-cap look-up of each claimed batch (recentMarketingSends), and the engagement
 *      budget's (budgetFacts, issue 14)
 *   4. the results, `sent`, in groups of `--group` (recordDeliveryResults)
 *
 * `--history=K` gives every subscriber K earlier marketing pushes, sent one a day over the last K
 * days and never clicked, so the look-ups read what a shop that pushes daily has in the outbox.
 *
 * Then once more with the rollup triggers on `deliveries` disabled (in this scratch database
 * only), so their share shows. A fresh database per run on the server of DATABASE_URL, dropped
 * afterwards. Linux only.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/delivery-sql-cpu.ts --n=20000
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database, Db } from '../server/db/database.ts';
import { claimDeliveries, recentMarketingSends, recordDeliveryResults, type DeliveryResult } from '../server/db/deliveries.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { claimResolvingNotification, resolveAudienceChunk } from '../server/db/notifications.ts';
import { budgetFacts } from '../server/db/engagement-history.ts';
import { BUDGET_WINDOW_MS, FREQUENCY_CAP_WINDOW_MS, IGNORED_AFTER_MS, IGNORED_LOOKBACK_MS } from '../server/delivery/engagement-rules.ts';
import { createSite } from '../server/sites/create-site.ts';
import { insertSubscriptions, subscriberKeyPool } from './fanout-setup.ts';
import { LOCAL_POSTGRES_URL } from '../server/testing/test-database.ts';

const args = new Map(process.argv.slice(2).map((a) => /^--([a-z-]+)=(.*)$/.exec(a)!.slice(1, 3) as [string, string]));
const N = Number(args.get('n') ?? 20_000);
const BATCH = Number(args.get('batch') ?? 500);
const GROUP = Number(args.get('group') ?? 250);
const HISTORY = Number(args.get('history') ?? 0);
const serverUrl = process.env.DATABASE_URL || LOCAL_POSTGRES_URL;

function backendCpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6; // USER_HZ
}

async function run(db: Db, pid: number, label: string): Promise<Record<string, number>> {
  const site = await createSite(db, { name: 'sql-cpu', origins: ['https://shop.example'] }, undefined);
  await insertSubscriptions(db, N, site.id, site.vapidPublicKey, 'https://push.example', subscriberKeyPool(100), `${label}-`);
  const now = Date.now();
  for (let day = 1; day <= HISTORY; day++) {
    const earlier = crypto.randomUUID();
    const sentAt = new Date(now - day * 86_400_000);
    await sql`insert into notifications (id, site_id, source, kind, content, audience, ttl_seconds, urgency, priority, resolve_state, created_at)
      values (${earlier}::uuid, ${site.id}::uuid, 'api', 'marketing', '{"title":"Earlier","body":"","url":"https://shop.example/"}'::jsonb, '{"all":true}'::jsonb, 86400, 'normal', 10, 'done', ${sentAt})`.execute(db);
    await sql`insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, due_at, sent_at, created_at, updated_at)
      select ${earlier}::uuid, s.id, s.endpoint, 'r', 'sent', ${sentAt}, ${sentAt}, ${sentAt}, ${sentAt} from subscriptions s where s.site_id = ${site.id}::uuid`.execute(db);
  }
  if (HISTORY > 0) await sql`vacuum analyze deliveries`.execute(db);
  const notificationId = crypto.randomUUID();
  await sql`insert into notifications (id, site_id, source, kind, content, audience, ttl_seconds, urgency, priority, resolve_state, created_at)
    values (${notificationId}::uuid, ${site.id}::uuid, 'api', 'marketing', ${JSON.stringify({ title: 'Summer sale', body: 'Only this weekend', url: 'https://shop.example/sale' })}::jsonb,
      '{"all":true}'::jsonb, 86400, 'normal', 10, 'resolving', ${new Date(now - 1000)})`.execute(db);
  const cpu: Record<string, number> = {};
  const step = async (name: string, work: () => Promise<void>) => {
    const before = backendCpuMicros(pid);
    await work();
    cpu[name] = (cpu[name] ?? 0) + (backendCpuMicros(pid) - before);
  };
  await step('audience insert', async () => {
    for (;;) {
      const more = await db.transaction().execute(async (trx) => {
        const notification = await claimResolvingNotification(trx);
        return notification ? !(await resolveAudienceChunk(trx, notification, 10_000)).done : false;
      });
      if (!more) break;
    }
  });
  let lease = 0;
  for (;;) {
    const leaseId = `sql-cpu:${++lease}`;
    let claimed: Awaited<ReturnType<typeof claimDeliveries>> = [];
    await step('claim', async () => {
      claimed = await claimDeliveries(db, { leaseId, limit: BATCH, nowMs: Date.now(), leaseMs: 60_000 });
    });
    if (claimed.length === 0) break;
    await step('cap look-up', async () => {
      await recentMarketingSends(db, [...new Set(claimed.map((d) => d.subscription_id))], Date.now() - FREQUENCY_CAP_WINDOW_MS, leaseId);
    });
    await step('budget look-up', async () => {
      const nowMs = Date.now();
      await budgetFacts(db, [...new Map(claimed.map((d) => [d.subscription_id, { id: d.subscription_id, lastClickedAt: d.last_clicked_at }])).values()], { windowStartMs: nowMs - BUDGET_WINDOW_MS, lookbackStartMs: nowMs - IGNORED_LOOKBACK_MS, ignoredBeforeMs: nowMs - IGNORED_AFTER_MS });
    });
    await step('results', async () => {
      for (let i = 0; i < claimed.length; i += GROUP) {
        const results: DeliveryResult[] = claimed.slice(i, i + GROUP).map((d) => ({ id: d.id, status: 'sent', dueAtMs: Date.now(), attemptDelta: 0, lastStatus: 201, lastError: null }));
        await recordDeliveryResults(db, leaseId, Date.now(), results);
      }
    });
  }
  const sent = await sql<{ n: string }>`select count(*)::text as n from deliveries where notification_id = ${notificationId}::uuid and status = 'sent'`.execute(db);
  if (Number(sent.rows[0]!.n) !== N) throw new Error(`expected ${N} sent, got ${sent.rows[0]!.n}`);
  await sql`delete from sites where id = ${site.id}::uuid`.execute(db);
  await sql`vacuum analyze subscriptions, notifications, deliveries`.execute(db);
  return cpu;
}

const name = `pushcart_sqlcpu_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
pool.on('error', () => {}); // the drop at the end ends the connection
const db: Db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
try {
  await migrateToLatest(db);
  const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
  console.log(`delivery-sql-cpu  N=${N}  history ${HISTORY} pushes each  claim batch ${BATCH}, result groups ${GROUP}, one connection (backend ${pid}), ${serverUrl.replace(/\/[^/]*$/, '')}`);
  const rounds = Number(args.get('rounds') ?? 2);
  const print = (label: string, cpu: Record<string, number>) => {
    const total = Object.values(cpu).reduce((a, b) => a + b, 0);
    console.log(`${label.padEnd(22)} ${Object.entries(cpu).map(([k, v]) => `${k} ${(v / N).toFixed(1)}`).join(' · ')} · total ${(total / N).toFixed(1)} µs/push`);
  };
  if (args.has('explain')) {
    // --explain=1: every statement's plan with its timings into the server's log (auto_explain).
    await sql`load 'auto_explain'`.execute(db);
    await sql`set auto_explain.log_min_duration = 0`.execute(db);
    await sql`set auto_explain.log_analyze = on`.execute(db);
    await sql`set auto_explain.log_nested_statements = on`.execute(db);
  }
  await run(db, pid, 'warm-up');
  for (let r = 0; r < rounds; r++) print('with the triggers', await run(db, pid, `t${r}`));
  await sql`alter table deliveries disable trigger user`.execute(db);
  for (let r = 0; r < rounds; r++) print('triggers disabled', await run(db, pid, `n${r}`));
} finally {
  await db.destroy();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
