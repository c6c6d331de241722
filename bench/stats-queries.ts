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
 * triggers count every seeded row as the app's writes would be counted), and dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { activeSubscriptions, dailyReport, orderedDeliveries, pushDays, subscriberDays } from '../server/db/daily-stats.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { siteFunnels } from '../server/db/stats.ts';
import { memoryLogger } from '../server/logger.ts';
import { openPostgres } from '../server/runtime/node/database.ts';
import { addDays, localDays } from '../server/stats/local-days.ts';

const SUBSCRIPTIONS = 100_000;
const DAYS = 90;
const ZONE = 'Europe/Berlin';
const WINDOW_HOURS = 24;
const RANGE_END = '2026-11-28';
const RANGE_END_MS = Date.parse('2026-11-29T00:00:00Z');

const runs = Number(process.argv.find((arg) => arg.startsWith('--runs='))?.split('=')[1] ?? 20);
for (const arg of process.argv.slice(2)) {
  if (!/^--runs=\d+$/.test(arg)) throw new Error(`unknown option ${arg} (known: --runs=N)`);
}
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('DATABASE_URL must name a Postgres server: the bench creates its own database there');

const name = `pushcart_bench_stats_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database ${name}`).finally(() => admin.end());
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const opened = openPostgres(url.toString(), memoryLogger());
const db = opened.db;

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  console.log(`  ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

try {
  await migrateToLatest(db);
  const start = new Date(RANGE_END_MS - DAYS * 86_400_000);
  console.log(`seeding ${name}`);
  const siteId = (
    await sql<{ id: string }>`
      insert into sites (name, allowed_origins, publishable_key, vapid_public_key, vapid_private_key)
      values ('bench', '{https://shop.example}', 'pk_bench', 'v', 'p') returning id`.execute(db)
  ).rows[0]!.id;
  // A second site of the same size: the queries must find their site's rows, not scan everyone's.
  const otherSiteId = (
    await sql<{ id: string }>`
      insert into sites (name, allowed_origins, publishable_key, vapid_public_key, vapid_private_key)
      values ('other', '{https://other.example}', 'pk_other', 'v', 'p') returning id`.execute(db)
  ).rows[0]!.id;

  await timed(`${SUBSCRIPTIONS.toLocaleString('en')} subscriptions per site over 180 days, 15 % of them lost since`, async () => {
    for (const site of [siteId, otherSiteId]) {
      await sql`
        insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, created_at, updated_at)
        select ${site}, 'https://fcm.googleapis.com/fcm/send/' || ${site}::text || '-' || i, 'p', 'a', 'v', 'visitor-' || i,
          ${new Date(RANGE_END_MS)}::timestamptz - (i % 180) * interval '1 day' - (i % 1440) * interval '1 minute',
          ${new Date(RANGE_END_MS)}::timestamptz - (i % 180) * interval '1 day' - (i % 1440) * interval '1 minute'
        from generate_series(1, ${SUBSCRIPTIONS}::int) i`.execute(db);
      await sql`
        update subscriptions set status = case when hashtext(id::text) % 2 = 0 then 'expired' else 'unsubscribed' end,
          updated_at = least(created_at + (abs(hashtext(id::text)) % 60) * interval '1 day', ${new Date(RANGE_END_MS - 60_000)})
        where site_id = ${site} and abs(hashtext(endpoint)) % 100 < 15`.execute(db);
    }
  });

  // 1,000,000 deliveries on the measured site: 6 campaigns to every subscription (600,000), 250,000
  // cart reminders (one delivery each) and 1,500 price drops to 100 shoppers each; 10 % held out.
  await timed('1,000,000 deliveries over 90 days (6 campaigns, 250,000 cart reminders, 1,500 price drops)', async () => {
    await sql`
      insert into notifications (site_id, source, kind, content, audience, ttl_seconds, created_at)
      select ${siteId}, 'campaign', 'marketing', '{}', '{}', 86400, ${start}::timestamptz + (k * 15 + 3) * interval '1 day' + interval '9 hours'
      from generate_series(0, 5) k`.execute(db);
    await sql`
      insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, updated_at)
      select n.id, s.id, s.endpoint, 't',
        case when abs(hashtext(s.id::text || 'campaign')) % 10 = 0 then 'held_out'
             when abs(hashtext(s.id::text || n.id::text)) % 100 < 90 then 'sent'
             when abs(hashtext(s.id::text || n.id::text)) % 100 < 95 then 'suppressed' else 'failed' end,
        n.created_at, n.created_at
      from notifications n cross join lateral (select id, endpoint from subscriptions where site_id = ${siteId} limit ${SUBSCRIPTIONS}) s
      where n.site_id = ${siteId} and n.source = 'campaign'`.execute(db);
    for (let chunk = 0; chunk < 5; chunk++) {
      await sql`
        with made as (
          insert into notifications (site_id, source, kind, content, audience, ttl_seconds, trigger_key, created_at)
          select ${siteId}, 'cart_reminder', 'marketing', '{}', '{}', 86400, 'cart-' || i,
            ${start}::timestamptz + (i % ${DAYS * 1440}) * interval '1 minute'
          from generate_series(${chunk * 50_000 + 1}::int, ${(chunk + 1) * 50_000}::int) i
          returning id, trigger_key, created_at
        )
        insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, updated_at)
        select m.id, s.id, s.endpoint, 't',
          case when abs(hashtext(s.id::text || 'cart_reminder')) % 10 = 0 then 'held_out' else 'sent' end, m.created_at, m.created_at
        from made m join subscriptions s on s.site_id = ${siteId} and s.visitor_id = 'visitor-' || (1 + abs(hashtext(m.trigger_key)) % ${SUBSCRIPTIONS})`.execute(db);
    }
    await sql`
      with made as (
        insert into notifications (site_id, source, kind, content, audience, ttl_seconds, trigger_key, created_at)
        select ${siteId}, 'price_drop', 'marketing', '{}', '{}', 86400, 'product-' || i, ${start}::timestamptz + (i * 86) * interval '1 minute'
        from generate_series(1, 1500) i
        returning id, trigger_key, created_at
      )
      insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, updated_at)
      select m.id, s.id, s.endpoint, 't',
        case when abs(hashtext(s.id::text || 'price_drop')) % 10 = 0 then 'held_out' else 'sent' end, m.created_at, m.created_at
      from made m cross join lateral (
        select id, endpoint from subscriptions
        where site_id = ${siteId} and visitor_id in (select 'visitor-' || (1 + (abs(hashtext(m.trigger_key)) + j * 997) % ${SUBSCRIPTIONS}) from generate_series(1, 100) j)
      ) s`.execute(db);
  });

  await timed('interactions (70 % of sent shown, 5 % clicked), 20,000 orders, conversions on clicks', async () => {
    await sql`
      insert into interactions (delivery_id, notification_id, type, created_at)
      select d.id, d.notification_id, t.type, d.created_at + interval '1 minute'
      from deliveries d cross join (values ('shown', 70), ('clicked', 5)) t(type, percent)
      where d.status = 'sent' and abs(hashtext(d.id::text || t.type)) % 100 < t.percent`.execute(db);
    await sql`
      insert into events (site_id, source, type, visitor_id, properties, created_at)
      select ${siteId}, 'server', 'order_completed', 'visitor-' || (1 + abs(hashtext('order' || i)) % ${SUBSCRIPTIONS}), '{}',
        ${start}::timestamptz + (abs(hashtext('at' || i)) % ${DAYS * 1440}) * interval '1 minute'
      from generate_series(1, 20000) i`.execute(db);
    await sql`
      insert into conversions (site_id, order_id, notification_id, delivery_id, value, currency, source, created_at)
      select ${siteId}, 'order-' || i.id, i.notification_id, i.delivery_id, 10 + i.id % 90, case when i.id % 3 = 0 then 'USD' else 'EUR' end, 'server',
        i.created_at + interval '1 hour'
      from interactions i where i.type = 'clicked' and i.id % 4 = 0`.execute(db);
  });
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
  await opened.close();
  const dropper = new pg.Client({ connectionString: serverUrl });
  await dropper.connect();
  await dropper.query(`drop database if exists ${name} with (force)`).finally(() => dropper.end());
}
