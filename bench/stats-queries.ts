/**
 * The overview's queries (GET /v1/stats/daily) on a site with 100,000 subscriptions and 1,000,000
 * deliveries spread over 90 days, each timed over the last 30 days, beside a `select 1` round trip
 * on the same pool in the same run — and, for comparison, GET /v1/stats's funnel query, which
 * counts from the raw rows, over the same 30 days. (Its holdoutComparisons, one correlated look-up
 * in events per delivery, is left out: over these 30 days one call had not finished after 28 s.)
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/stats-queries.ts [--runs=20]
 *
 * A fresh database is created on that server, seeded through the real migrations (so the rollup
 * triggers count every seeded row as the app's writes would be counted) by seed-large-site.ts, and
 * dropped afterwards.
 */
import os from 'node:os';
import { sql } from 'kysely';
import { activeSubscriptions, dailyReport, orderedDeliveries, pushDays, subscriberDays } from '../server/db/daily-stats.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { siteFunnels } from '../server/db/stats.ts';
import { addDays, localDays } from '../server/stats/local-days.ts';
import { RANGE_END, createBenchDatabase, seedLargeSite, timed } from './seed-large-site.ts';

const ZONE = 'Europe/Berlin';
const WINDOW_HOURS = 24;

const runs = Number(process.argv.find((arg) => arg.startsWith('--runs='))?.split('=')[1] ?? 20);
for (const arg of process.argv.slice(2)) {
  if (!/^--runs=\d+$/.test(arg)) throw new Error(`unknown option ${arg} (known: --runs=N)`);
}
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('DATABASE_URL must name a Postgres server: the bench creates its own database there');

const bench = await createBenchDatabase(serverUrl, 'pushcart_bench_stats');
const db = bench.db;

try {
  await migrateToLatest(db);
  console.log(`seeding ${bench.name}`);
  const { siteId } = await seedLargeSite(db);
  await timed('vacuum analyze', () => sql`vacuum analyze`.execute(db));

  const counts = await sql<{ deliveries: string; subscriptions: string; interactions: string; conversions: string; buckets: string }>`
    select (select count(*) from deliveries) as deliveries, (select count(*) from subscriptions) as subscriptions,
      (select count(*) from interactions) as interactions, (select count(*) from conversions) as conversions,
      (select count(*) from stats_buckets) as buckets`.execute(db);
  console.log('rows:', counts.rows[0]);

  const from = addDays(RANGE_END, -29);
  const days = localDays(from, RANGE_END, ZONE);
  const rangeStart = days.boundaries[0]!;
  const rangeEnd = days.boundaries[days.boundaries.length - 1]!;
  const inRange = await sql<{ count: string }>`
    select count(*) as count from deliveries d join notifications n on n.id = d.notification_id
    where n.site_id = ${siteId} and n.created_at >= ${rangeStart} and n.created_at < ${rangeEnd}`.execute(db);
  console.log(`range ${from} … ${RANGE_END} (${ZONE}): ${Number(inRange.rows[0]!.count).toLocaleString('en')} deliveries in it\n`);

  const cases: Array<[string, () => Promise<unknown>]> = [
    ['baseline: select 1', () => sql`select 1`.execute(db)],
    ['activeSubscriptions', () => activeSubscriptions(db, siteId)],
    ['subscriberDays', () => subscriberDays(db, siteId, days.boundaries)],
    ['pushDays', () => pushDays(db, siteId, days.boundaries)],
    ['orderedDeliveries (lift numerators)', () => orderedDeliveries(db, siteId, rangeStart, rangeEnd, WINDOW_HOURS)],
    ['dailyReport (all of GET /v1/stats/daily, in parallel)', () => dailyReport(db, siteId, days, ZONE, WINDOW_HOURS)],
    ['for comparison, from raw rows: siteFunnels (GET /v1/stats)', () => siteFunnels(db, siteId, rangeStart, rangeEnd, 100)],
  ];
  const rows: string[] = [];
  for (const [label, query] of cases) {
    const slow = label.startsWith('for comparison');
    const times: number[] = [];
    for (let i = 0; i < (slow ? 1 : 2); i++) await query(); // warm the cache and the plan
    for (let i = 0; i < (slow ? Math.min(3, runs) : runs); i++) {
      const started = performance.now();
      await query();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const worst = times[times.length - 1]!;
    rows.push(`| ${label} | ${median.toFixed(1)} ms | ${worst.toFixed(1)} ms | ${times.length} |`);
    console.log(`${label}: median ${median.toFixed(1)} ms, max ${worst.toFixed(1)} ms (${times.length} runs)`);
  }
  console.log(`\n${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  console.log('| query (30 days) | median | max | runs |\n|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  await bench.drop();
}
