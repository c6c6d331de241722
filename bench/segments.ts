/**
 * Segment counts (countSegment) and a segment send's audience written in chunks, on a site of
 * 100,000 and of 1,000,000 subscriptions with events, carts, watches, deliveries and clicks in
 * proportion, beside `select count(*) from subscriptions` (the floor any count pays) measured in
 * the same run. Median of several runs after two warm-up runs.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/segments.ts [--sizes=100000,1000000] [--runs=5] [--explain]
 *
 * Each size gets a fresh database on that server, made through the real migrations, seeded with
 * generate_series (the indexes are dropped for the load and made again from their own definitions
 * before measuring), and dropped afterwards.
 */
import os from 'node:os';
import { sql } from 'kysely';
import { FILL_SHOPPER_ACTIVITY } from '../migrations/2026-11-29T0700-shopper-activity.ts';
import { AUDIENCE_CHUNK_SUBSCRIPTIONS } from '../server/background/audience-resolver.ts';
import type { Db } from '../server/db/database.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { claimResolvingNotification, resolveAudienceChunk } from '../server/db/notifications.ts';
import { countSegment } from '../server/db/segments.ts';
import { findSiteById } from '../server/db/sites.ts';
import { reportUrl } from '../server/notifications/payload.ts';
import { send } from '../server/notifications/send.ts';
import { segmentDefinitionSchema, type SegmentDefinition } from '../server/segments/segment-rules.ts';
import { createBenchDatabase, timed, timeRuns } from './seed-large-site.ts';

const options = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string | undefined]));
for (const key of options.keys()) if (!['sizes', 'runs', 'explain'].includes(key)) throw new Error(`unknown option --${key} (known: --sizes=N,N --runs=N --explain)`);
const sizes = (options.get('sizes') ?? '100000,1000000').split(',').map(Number);
const runs = Number(options.get('runs') ?? 5);
const explain = options.has('explain');
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('DATABASE_URL must name a Postgres server: the bench creates its own database there');

/** The instant the segments are evaluated at; every seeded row is before it. */
const AT = new Date('2026-11-29T12:00:00Z');

const SEGMENTS: Array<[string, unknown]> = [
  ['tag plan = gold', { match: 'all', rules: [{ type: 'tag', key: 'plan', op: 'equals', value: 'gold' }] }],
  ['language de + country DE', { match: 'all', rules: [{ type: 'language', values: ['de'] }, { type: 'country', values: ['DE'] }] }],
  ['viewed prefix "cat3-" within 30 days', { match: 'all', rules: [{ type: 'product', action: 'viewed', productIdPrefix: 'cat3-', days: 30 }] }],
  ['viewed any product within 30 days', { match: 'all', rules: [{ type: 'product', action: 'viewed', days: 30 }] }],
  ['almost buyers (7 days)', { match: 'all', rules: [{ type: 'almost_buyer', days: 7 }] }],
  ['never clicked', { match: 'all', rules: [{ type: 'clicked', op: 'ever', negate: true }] }],
  ['tag plan exists, no marketing push in 24 h', { match: 'all', rules: [{ type: 'tag', key: 'plan', op: 'exists' }, { type: 'received_marketing', hours: 24, negate: true }] }],
  ['ordered at least 2 times', { match: 'all', rules: [{ type: 'orders', op: 'at_least', count: 2 }] }],
  [
    'de, and (viewed cat3- in 30 d or almost buyer), not clicked in 7 d',
    {
      match: 'all',
      rules: [
        { type: 'language', values: ['de'] },
        { match: 'any', rules: [{ type: 'product', action: 'viewed', productIdPrefix: 'cat3-', days: 30 }, { type: 'almost_buyer', days: 7 }] },
        { type: 'clicked', op: 'within_days', days: 7, negate: true },
      ],
    },
  ],
];

/** Rows of this bench's tables whose indexes are dropped for the load and made again after it. */
const LOADED_TABLES = ['subscriptions', 'events', 'carts', 'watches', 'deliveries', 'interactions'];

async function seed(db: Db, n: number): Promise<{ siteId: string }> {
  const site = async (name: string, key: string) =>
    (
      await sql<{ id: string }>`insert into sites (name, allowed_origins, publishable_key, vapid_public_key, vapid_private_key)
        values (${name}, '{https://shop.example}', ${key}, 'v', 'p') returning id`.execute(db)
    ).rows[0]!.id;
  const siteId = await site('bench', 'pk_bench');
  // Another site a tenth the size: the counts must read their own site's rows only.
  const otherId = await site('other', 'pk_other');

  const indexes = (
    await sql<{ indexname: string; indexdef: string }>`
      select i.indexname, i.indexdef from pg_indexes i
      where i.schemaname = 'public' and i.tablename = any(${LOADED_TABLES}::text[])
        and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`.execute(db)
  ).rows;
  for (const index of indexes) await sql`drop index ${sql.id(index.indexname)}`.execute(db);
  // The shopper activity the triggers keep (migrations/2026-11-29T0700-shopper-activity.ts) is
  // computed once after the load, as that migration computes it for the rows already there: per
  // row, without the indexes, each order would recount its shopper's orders over every event.
  await sql`alter table subscriptions disable trigger subscriptions_keys_activity`.execute(db);
  await sql`alter table events disable trigger subscriptions_events_activity`.execute(db);

  const subscriptions = (forSite: string, count: number, prefix: string) => sql`
    insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, external_user_id, locale, time_zone,
      user_agent_family, tags, status, created_at, updated_at, last_seen_at)
    select ${forSite}::uuid, 'https://fcm.googleapis.com/fcm/send/' || ${prefix} || i, 'p', 'a', 'v', ${prefix} || 'v' || i,
      case when i % 10 < 3 then ${prefix} || 'u' || i end,
      (array['de-DE', 'de-AT', 'en-US', 'en-GB', 'fr-FR', 'it-IT', 'es-ES', 'nl-NL'])[1 + i % 8],
      (array['Europe/Berlin', 'Europe/Vienna', 'America/New_York', 'Europe/London', 'Europe/Paris', 'Europe/Rome', 'Europe/Madrid', 'Europe/Amsterdam', 'Asia/Calcutta', 'Europe/Zurich'])[1 + (i * 7) % 10],
      (array['Chrome', 'Firefox', 'Safari', 'Edge'])[1 + (i / 3) % 4],
      case when i % 5 = 0 then '{"plan":"gold"}'::jsonb when i % 5 = 1 then '{"plan":"free"}'::jsonb else '{}'::jsonb end,
      case when i % 10 = 9 then 'unsubscribed' else 'active' end,
      ${AT}::timestamptz - (i % 365) * interval '1 day', ${AT}::timestamptz, ${AT}::timestamptz - (i % 90) * interval '1 day'
    from generate_series(1, ${count}) i`;
  await timed(`subscriptions (${n.toLocaleString('en')} + ${(n / 10).toLocaleString('en')})`, async () => {
    await subscriptions(siteId, n, 's').execute(db);
    await subscriptions(otherId, n / 10, 'o').execute(db);
  });

  // Per subscription about 3 product views, 0.3 cart updates, 0.1 checkouts and 0.1 orders over
  // 90 days, from random shoppers (by visitor id, or by user id for those with one).
  await timed(`events (~${(3.5 * n).toLocaleString('en')})`, async () => {
    await sql`insert into events (site_id, source, type, visitor_id, properties, created_at)
      select ${siteId}::uuid, 'browser', 'product_viewed', 'sv' || (1 + (j::bigint * 7919) % ${n}),
        jsonb_build_object('productId', 'cat' || (j % 20) || '-' || (j % 997), 'price', 20, 'currency', 'EUR', 'url', 'https://shop.example/p'),
        ${AT}::timestamptz - ((j::bigint * 13) % (90 * 24)) * interval '1 hour'
      from generate_series(1, ${3 * n}) j`.execute(db);
    await sql`insert into events (site_id, source, type, visitor_id, properties, created_at)
      select ${otherId}::uuid, 'browser', 'product_viewed', 'sv' || (1 + (j::bigint * 7919) % ${n}),
        jsonb_build_object('productId', 'cat3-' || j, 'price', 20, 'currency', 'EUR', 'url', 'https://shop.example/p'),
        ${AT}::timestamptz - (j % 48) * interval '1 hour'
      from generate_series(1, ${n / 10}) j`.execute(db);
    await sql`insert into events (site_id, source, type, visitor_id, external_user_id, properties, created_at)
      select ${siteId}::uuid, case when j % 3 = 0 then 'server' else 'browser' end, 'cart_updated',
        case when j % 3 <> 0 then 'sv' || (1 + (j::bigint * 104729) % ${n}) end,
        case when j % 3 = 0 then 'su' || (10 * ((j::bigint * 104729) % (${n} / 10))) end,
        jsonb_build_object('cartId', 'c' || j, 'items', jsonb_build_array(jsonb_build_object('productId', 'cat' || (j % 20) || '-' || (j % 997), 'name', 'x', 'price', 20, 'quantity', 1)),
          'total', 20, 'currency', 'EUR', 'url', 'https://shop.example/cart'),
        ${AT}::timestamptz - ((j::bigint * 17) % (90 * 24)) * interval '1 hour'
      from generate_series(1, ${0.3 * n}) j`.execute(db);
    await sql`insert into events (site_id, source, type, visitor_id, properties, created_at)
      select ${siteId}::uuid, 'browser', 'checkout_started', 'sv' || (1 + (j::bigint * 15485863) % ${n}), '{}'::jsonb,
        ${AT}::timestamptz - ((j::bigint * 19) % (90 * 24)) * interval '1 hour'
      from generate_series(1, ${0.1 * n}) j`.execute(db);
    await sql`insert into events (site_id, source, type, visitor_id, external_user_id, properties, created_at)
      select ${siteId}::uuid, 'server', 'order_completed',
        case when j % 2 = 0 then 'sv' || (1 + (j::bigint * 15485863) % (${n} / 20)) end,
        case when j % 2 = 1 then 'su' || (10 * ((j::bigint * 7) % (${n} / 10))) end,
        jsonb_build_object('orderId', 'o' || j, 'value', 10 + j % 200, 'currency', 'EUR'),
        ${AT}::timestamptz - ((j::bigint * 23) % (90 * 24)) * interval '1 hour'
      from generate_series(1, ${0.1 * n}) j`.execute(db);
  });

  await timed('carts and watches', async () => {
    await sql`insert into carts (site_id, cart_id, visitor_id, external_user_id, items, item_count, total, currency, url, status, active_at, created_at)
      select ${siteId}::uuid, 'c' || j, 'sv' || (1 + (j::bigint * 104729) % ${n}), null,
        '[{"productId":"cat1-1","name":"x","price":20,"quantity":1}]'::jsonb, 1, 20, 'EUR', 'https://shop.example/cart',
        (array['open', 'ordered', 'empty'])[1 + j % 3], ${AT}::timestamptz - (j % 30) * interval '1 day', ${AT}::timestamptz - (j % 30) * interval '1 day'
      from generate_series(1, ${0.1 * n}) j`.execute(db);
    await sql`insert into watches (site_id, visitor_id, product_id, kind, created_at, updated_at)
      select ${siteId}::uuid, 'sv' || (1 + (j::bigint * 7919) % ${n}), 'cat' || (j % 20) || '-' || j, 'back_in_stock',
        ${AT}::timestamptz - (j % 60) * interval '1 day', ${AT}::timestamptz - (j % 60) * interval '1 day'
      from generate_series(1, ${0.05 * n}) j`.execute(db);
  });

  // Ten marketing sends over 90 days to a fifth of the site each (2 deliveries per subscription
  // in all), the last 6 hours ago; 3 % of them clicked.
  await timed(`notifications, deliveries (~${(2 * n).toLocaleString('en')}) and clicks`, async () => {
    await sql`insert into notifications (site_id, kind, content, audience, ttl_seconds, created_at)
      select ${siteId}::uuid, 'marketing', '{"title":"t","body":"","url":"https://shop.example/","tag":"t"}'::jsonb, '{"all":true}'::jsonb, 86400,
        ${AT}::timestamptz - interval '6 hours' - (k * 9) * interval '1 day'
      from generate_series(0, 9) k`.execute(db);
    await sql`insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, attempts, due_at, sent_at, created_at, updated_at)
      select n.id, s.id, s.endpoint, md5(s.id::text || n.id::text), 'sent', 1, n.created_at, n.created_at + interval '1 minute', n.created_at, n.created_at
      from (select id, created_at, row_number() over (order by created_at) as k from notifications where site_id = ${siteId}) n
      join subscriptions s on s.site_id = ${siteId} and abs(hashtext(s.id::text)) % 5 = n.k % 5`.execute(db);
    await sql`insert into interactions (delivery_id, notification_id, type, created_at)
      select d.id, d.notification_id, 'clicked', d.sent_at + interval '5 minutes' from deliveries d where d.id % 33 = 0`.execute(db);
  });

  await timed(`indexes (${indexes.length}) made again`, async () => {
    for (const index of indexes) await sql.raw(index.indexdef).execute(db);
  });
  await timed('shopper activity on each subscription (as the migration fills it)', async () => {
    await FILL_SHOPPER_ACTIVITY.execute(db);
    await sql`alter table subscriptions enable trigger subscriptions_keys_activity`.execute(db);
    await sql`alter table events enable trigger subscriptions_events_activity`.execute(db);
  });
  await timed('vacuum analyze', () => sql`vacuum analyze`.execute(db));
  return { siteId };
}

async function median(work: () => Promise<unknown>): Promise<{ median: number; max: number }> {
  const times = await timeRuns(work, { warmups: 2, runs });
  return { median: times[Math.floor(times.length / 2)]!, max: times[times.length - 1]! };
}

const report: string[] = [];
for (const n of sizes) {
  const bench = await createBenchDatabase(serverUrl, 'pushcart_bench_segments');
  const db = bench.db;
  try {
    await migrateToLatest(db);
    console.log(`\n${n.toLocaleString('en')} subscriptions: seeding ${bench.name}`);
    const { siteId } = await seed(db, n);
    const sizesRow = (
      await sql<Record<string, string>>`select (select count(*) from subscriptions) as subscriptions, (select count(*) from events) as events,
        (select count(*) from deliveries) as deliveries, (select count(*) from interactions) as clicks, (select count(*) from carts) as carts`.execute(db)
    ).rows[0]!;
    console.log('rows:', sizesRow);

    const lines: string[] = [];
    const line = (label: string, t: { median: number; max: number }, extra = '') => {
      const text = `| ${label} | ${t.median.toFixed(0)} ms | ${t.max.toFixed(0)} ms | ${extra} |`;
      lines.push(text);
      console.log(text);
    };
    line('baseline: select count(*) from subscriptions', await median(() => sql`select count(*) from subscriptions`.execute(db)));
    line(
      'baseline: the site’s active subscriptions',
      await median(() => sql`select count(*) from subscriptions where site_id = ${siteId} and status = 'active'`.execute(db)),
    );
    const definitions = new Map<string, SegmentDefinition>();
    for (const [label, input] of SEGMENTS) {
      const def = segmentDefinitionSchema.parse(input) as SegmentDefinition;
      definitions.set(label, def);
      let result = { matching: 0, active: 0 };
      const t = await median(async () => {
        result = await countSegment(db, siteId, def, AT);
      });
      line(`countSegment: ${label}`, t, `${result.matching.toLocaleString('en')} of ${result.active.toLocaleString('en')}`);
      if (explain) {
        const plan = await db.transaction().execute(async (trx) => {
          await sql`select set_config('work_mem', '128MB', true), set_config('jit', 'off', true)`.execute(trx);
          const { segmentCondition } = await import('../server/segments/segment-rules.ts');
          const compiled = trx
            .selectFrom('subscriptions as s')
            .select((eb) => eb.fn.countAll().as('matching'))
            .where('s.site_id', '=', siteId)
            .where('s.status', '=', 'active')
            .where(segmentCondition(def, AT, siteId))
            .compile();
          return sql.raw(`explain (analyze, buffers) ${compiled.sql.replace(/\$(\d+)/g, (_, i) => literal(compiled.parameters[Number(i) - 1]))}`).execute(trx);
        });
        console.log((plan.rows as Array<Record<string, string>>).map((row) => row['QUERY PLAN']).join('\n'));
      }
    }

    if (explain) {
      // The plan of one chunk's selection (the WHERE its INSERT … SELECT uses), as a worker runs it.
      const { segmentCondition } = await import('../server/segments/segment-rules.ts');
      const def = definitions.get('de, and (viewed cat3- in 30 d or almost buyer), not clicked in 7 d')!;
      const plan = await db.transaction().execute(async (trx) => {
        await sql`select set_config('jit', 'off', true)`.execute(trx);
        const range = (
          await sql<{ last: string }>`select max(id::text) as last from (select id from subscriptions where site_id = ${siteId} and status = 'active' order by id limit ${AUDIENCE_CHUNK_SUBSCRIPTIONS}) r`.execute(trx)
        ).rows[0]!.last;
        const compiled = trx
          .selectFrom('subscriptions as s')
          .select('s.id')
          .where('s.site_id', '=', siteId)
          .where('s.status', '=', 'active')
          .where('s.id', '<=', range)
          .where(segmentCondition(def, AT, siteId))
          .compile();
        return sql.raw(`explain (analyze, buffers) ${compiled.sql.replace(/\$(\d+)/g, (_, i) => literal(compiled.parameters[Number(i) - 1]))}`).execute(trx);
      });
      console.log('one chunk:\n' + (plan.rows as Array<Record<string, string>>).map((row) => row['QUERY PLAN']).join('\n'));
    }

    // A send to a segment: the request's first chunk, then the workers' chunks until done.
    const site = (await findSiteById(db, siteId))!;
    const sendLabel = 'de, and (viewed cat3- in 30 d or almost buyer), not clicked in 7 d';
    const def = definitions.get(sendLabel)!;
    const started = performance.now();
    const sent = await send(
      { db, now: AT, reportUrl: reportUrl('https://push.shop.example') },
      {
        site,
        source: 'api',
        kind: 'marketing',
        content: { title: 'Sale', body: '', url: 'https://shop.example/sale' },
        to: { by: 'selectors', selectors: { segment: def } },
        ttlSeconds: 3600,
        urgency: 'normal',
        whenTooLarge: 'refuse',
      },
    );
    const firstMs = performance.now() - started;
    let chunks = 0;
    let slowest = 0;
    for (;;) {
      const chunkStarted = performance.now();
      const result = await db.transaction().execute(async (trx) => {
        const claimed = await claimResolvingNotification(trx);
        return claimed ? resolveAudienceChunk(trx, claimed, AUDIENCE_CHUNK_SUBSCRIPTIONS) : undefined;
      });
      if (!result) break;
      chunks++;
      slowest = Math.max(slowest, performance.now() - chunkStarted);
      if (result.done) break;
    }
    const totalMs = performance.now() - started;
    const written = Number(
      (await sql<{ count: string }>`select count(*) as count from deliveries where notification_id = ${sent.id}`.execute(db)).rows[0]!.count,
    );
    const expected = (await countSegment(db, siteId, def, AT)).matching;
    const sendLine = `| send to “${sendLabel}”, audience written in chunks of ${AUDIENCE_CHUNK_SUBSCRIPTIONS.toLocaleString('en')} | ${totalMs.toFixed(0)} ms | slowest chunk ${slowest.toFixed(0)} ms | first chunk (in the request) ${firstMs.toFixed(0)} ms, ${chunks} worker chunks, ${written.toLocaleString('en')} deliveries (count said ${expected.toLocaleString('en')}) |`;
    lines.push(sendLine);
    console.log(sendLine);
    report.push(`### ${n.toLocaleString('en')} subscriptions (${Object.entries(sizesRow).map(([k, v]) => `${Number(v).toLocaleString('en')} ${k}`).join(', ')})\n\n| query | median | max | |\n|---|---|---|---|\n${lines.join('\n')}`);
  } finally {
    await bench.drop();
  }
}
console.log(`\n${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${runs} runs after 2 warm-up runs\n`);
console.log(report.join('\n\n'));

/** A parameter as an SQL literal, for EXPLAIN of the compiled query (bench output only). */
function literal(value: unknown): string {
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `'{${value.map((v) => `"${String(v)}"`).join(',')}}'`;
  return `'${String(value).replace(/'/g, "''")}'`;
}
