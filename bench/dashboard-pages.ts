/**
 * Every signed-in dashboard page (GET) of a shop with 100,000 subscribers and 1,000,000
 * deliveries, requested in-process through the app (`app.request`, the session cookie of the
 * shop's owner), beside two baselines measured in the same run: `GET /healthz` on the same app
 * (routing, middleware and one round trip) and `select 1` on the same pool.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/dashboard-pages.ts [--runs=20] [--keep]
 *
 * A fresh database is created on that server, migrated, seeded by seed-large-site.ts (the stats
 * bench's rows and what the pages read besides) and dropped afterwards (kept with --keep). Each page is requested
 * three times to warm up, then `runs` times; median, p95 (nearest rank) and max in ms. A page that
 * does not answer as expected (200, or the redirect of the dashboard's root) stops the bench.
 * Last, what the ordered_deliveries trigger adds to storing an event: with it and without it.
 */
import os from 'node:os';
import { sql } from 'kysely';
import { startSession } from '../server/accounts/sessions.ts';
import { createApp } from '../server/app.ts';
import { parseConfig } from '../server/config.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { memoryLogger } from '../server/logger.ts';
import { RANGE_END_MS, createBenchDatabase, seedDashboardData, seedLargeSite, timed, timeRuns } from './seed-large-site.ts';

/** The dashboard's clock: half an hour after the last seeded row (the 29th in UTC and in Berlin). */
const NOW = new Date(RANGE_END_MS + 30 * 60_000);
const TARGET_MS = 100;

const runs = Number(process.argv.find((arg) => arg.startsWith('--runs='))?.split('=')[1] ?? 20);
/** Leaves the seeded database on the server (its name is printed), for EXPLAIN ANALYZE of a page's queries. */
const keep = process.argv.includes('--keep');
for (const arg of process.argv.slice(2)) {
  if (!/^--runs=\d+$/.test(arg) && arg !== '--keep') throw new Error(`unknown option ${arg} (known: --runs=N, --keep)`);
}
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('DATABASE_URL must name a Postgres server: the bench creates its own database there');

const bench = await createBenchDatabase(serverUrl, 'pushcart_bench_pages');
const db = bench.db;

interface Figures {
  label: string;
  path: string;
  median: number;
  p95: number;
  max: number;
  runs: number;
}

function summarise(label: string, path: string, times: number[]): Figures {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (rank: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(rank * sorted.length) - 1))]!;
  return { label, path, median: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]!, runs: sorted.length };
}

async function measure(label: string, path: string, work: () => Promise<unknown>): Promise<Figures> {
  const times = await timeRuns(work, { warmups: 3, runs });
  const figures = summarise(label, path, times);
  console.log(`${label}: median ${figures.median.toFixed(1)} ms, p95 ${figures.p95.toFixed(1)} ms, max ${figures.max.toFixed(1)} ms`);
  return figures;
}

try {
  await migrateToLatest(db);
  console.log(`seeding ${bench.name}`);
  const site = await seedLargeSite(db);
  const { ownerId, subscriberId } = await seedDashboardData(db, site, NOW);
  await timed('vacuum analyze', () => sql`vacuum analyze`.execute(db));
  const counts = await sql<Record<string, string>>`
    select (select count(*) from subscriptions where site_id = ${site.siteId}) as subscriptions,
      (select count(*) from deliveries d join notifications n on n.id = d.notification_id where n.site_id = ${site.siteId}) as deliveries,
      (select count(*) from notifications) as notifications, (select count(*) from interactions) as interactions,
      (select count(*) from events) as events, (select count(*) from conversions) as conversions, (select count(*) from carts) as carts,
      (select count(*) from audit_log) as audit_entries, (select count(*) from stats_buckets) as stats_buckets`.execute(db);
  console.log('rows:', counts.rows[0]);

  const config = parseConfig({ PUSHCART_ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef', PUSHCART_PUBLIC_URL: 'http://localhost:8787' });
  const app = createApp({ config, db, logger: memoryLogger(), now: () => NOW.getTime() });
  const { token } = await startSession(db, { userId: ownerId, userAgent: 'bench' }, NOW);
  const cookie = `pushcart-session=${token}`;
  const get = async (path: string, expected: number) => {
    const response = await app.request(path, { headers: { Cookie: cookie } });
    const body = await response.text();
    if (response.status !== expected) throw new Error(`${path} answered ${response.status}, not ${expected}:\n${body.slice(0, 400)}`);
    return body;
  };

  const base = `/dashboard/sites/${site.siteId}`;
  // The list's second page: the "older" link of the first.
  const firstList = await get(`${base}/subscribers`, 200);
  const after = /[?&]after=([^"&]+)/.exec(firstList)?.[1];
  if (!after) throw new Error('the subscribers list has no link to an older page');
  const firstAudit = await get(`${base}/audit`, 200);
  const auditBefore = /[?&]before=([^"&]+)/.exec(firstAudit)?.[1];
  if (!auditBefore) throw new Error('the audit log has no link to older entries');
  const searched = (await sql<{ visitor_id: string }>`select visitor_id from subscriptions where id = ${subscriberId}`.execute(db)).rows[0]!.visitor_id;

  const pages: Array<[string, string, number]> = [
    ['dashboard root (redirect to the site list)', '/dashboard', 303],
    ['site list', '/dashboard/sites', 200],
    ['account', '/dashboard/account', 200],
    ['install', `${base}/install`, 200],
    ['overview, 30 days (default)', `${base}/overview`, 200],
    ['overview, 90 days', `${base}/overview?from=2026-08-31&to=2026-11-29`, 200],
    ['subscribers, page 1', `${base}/subscribers`, 200],
    ['subscribers, page 2', `${base}/subscribers?after=${after}`, 200],
    ['subscribers, searched (visitor id prefix)', `${base}/subscribers?search=${encodeURIComponent(searched.slice(0, -1))}`, 200],
    ['subscribers, searched (no match)', `${base}/subscribers?search=nobody-`, 200],
    ['subscribers, filtered: expired on Firefox', `${base}/subscribers?status=expired&browser=firefox`, 200],
    ['subscribers, filtered: tag plan:vip, language de', `${base}/subscribers?tag=plan%3Avip&locale=de`, 200],
    ['one subscriber', `${base}/subscribers/${subscriberId}`, 200],
    ['erase a subscriber (confirm)', `${base}/subscribers/${subscriberId}/erase`, 200],
    ['delivery health', `${base}/health`, 200],
    ['automations', `${base}/automations`, 200],
    ['templates', `${base}/templates`, 200],
    ['template editor', `${base}/templates/cart_reminder.1/de`, 200],
    ['prompt', `${base}/prompt`, 200],
    ['prompt preview (its frame)', `${base}/prompt/preview`, 200],
    ['keys', `${base}/keys`, 200],
    ['team', `${base}/team`, 200],
    ['audit log', `${base}/audit`, 200],
    ['audit log, older page', `${base}/audit?before=${auditBefore}`, 200],
  ];

  console.log(`\nmeasuring ${pages.length} pages, ${runs} runs each`);
  const baselines = [
    await measure('baseline: select 1, same pool', 'select 1', () => sql`select 1`.execute(db)),
    await measure('baseline: GET /healthz, same app', '/healthz', async () => {
      const response = await app.request('/healthz');
      if (response.status !== 200) throw new Error(`/healthz answered ${response.status}`);
      await response.text();
    }),
  ];
  const results: Figures[] = [];
  for (const [label, path, status] of pages) results.push(await measure(label, path, () => get(path, status)));

  // What the ordered_deliveries trigger costs a write: 500 single-row inserts of one event type,
  // each a statement of its own as POST /v1/events makes them, timed inside the database (a round
  // trip would hide it), with the trigger and with it switched off. The order is the measured
  // shopper's, whose deliveries of the last 30 days it links to.
  await sql`
    create function bench_store_events(kind text, visitor text, n int) returns double precision language plpgsql as $$
      declare started timestamptz := clock_timestamp();
      begin
        for i in 1..n loop
          insert into events (site_id, source, type, visitor_id, properties, created_at)
          values (${sql.lit(site.siteId)}, 'server', kind, visitor, '{"orderId":"bench"}', ${sql.lit(NOW.toISOString())});
        end loop;
        return extract(epoch from clock_timestamp() - started) * 1000000 / n;
      end $$`.execute(db);
  const shopper = (await sql<{ visitor_id: string }>`select visitor_id from subscriptions where id = ${subscriberId}`.execute(db)).rows[0]!.visitor_id;
  const writes: Array<{ label: string; micros: number }> = [];
  for (const trigger of ['on', 'off', 'on'] as const) {
    await sql.raw(`alter table events ${trigger === 'on' ? 'enable' : 'disable'} trigger ordered_deliveries_insert`).execute(db);
    for (const kind of ['product_viewed', 'order_completed']) {
      const row = (await sql<{ micros: number }>`select bench_store_events(${kind}, ${shopper}, 500) as micros`.execute(db)).rows[0]!;
      writes.push({ label: `store ${kind === 'order_completed' ? 'an' : 'a'} ${kind} event, trigger ${trigger}`, micros: row.micros });
      console.log(`${writes[writes.length - 1]!.label}: ${row.micros.toFixed(0)} µs each`);
    }
  }

  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const slow = results.filter((row) => row.median >= TARGET_MS || row.p95 >= TARGET_MS);
  console.log(`\n${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}`);
  console.log('| page | median | p95 | max |\n|---|---:|---:|---:|');
  for (const row of [...baselines, ...results]) console.log(`| ${row.label}${slow.includes(row) ? ' **≥ 100 ms**' : ''} | ${ms(row.median)} | ${ms(row.p95)} | ${ms(row.max)} |`);
  console.log('\n| event write (500 inserts, in the database) | each |\n|---|---:|');
  for (const row of writes) console.log(`| ${row.label} | ${row.micros.toFixed(0)} µs |`);
  console.log(slow.length === 0 ? `\nevery page under ${TARGET_MS} ms in the median and p95` : `\n${slow.length} page(s) at or over ${TARGET_MS} ms: ${slow.map((row) => row.label).join('; ')}`);
  const round = (value: number) => Math.round(value * 10) / 10;
  console.log(
    `RESULT ${JSON.stringify({
      bench: 'dashboard-pages',
      runs,
      rows: Object.fromEntries(Object.entries(counts.rows[0]!).map(([key, value]) => [key, Number(value)])),
      baselines: baselines.map((row) => ({ label: row.label, median: round(row.median), p95: round(row.p95), max: round(row.max) })),
      pages: results.map((row) => ({ label: row.label, path: row.path.replace(site.siteId, ':siteId').replace(subscriberId, ':id'), median: round(row.median), p95: round(row.p95), max: round(row.max) })),
      writesMicros: writes.map((row) => ({ label: row.label, each: Math.round(row.micros) })),
      slow: slow.map((row) => row.label),
    })}`,
  );
} finally {
  if (keep) {
    await db.destroy();
    console.log(`kept the database ${bench.name}; drop it with: drop database ${bench.name} with (force)`);
  } else await bench.drop();
}
