/**
 * A page of the campaigns list: the views of 50 A/B campaigns (variants A and B and the winner's
 * send: 150 notifications, 100,000 deliveries in all, with interactions and conversions), built
 * as before — per campaign, per send, one query after another (kept below as `perSendView`, the
 * code this replaced) — and as now (`campaignViews`: one grouped read for the page); then the A/B
 * figures (`abOutcomes`) of every campaign, before and after. Beside them `select 1` on the same
 * pool, in the same run. Both ways must give the same JSON, or the bench stops.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres nice npx tsx bench/campaign-views.ts [--runs=15] [--campaigns=50] [--deliveries=100000]
 *
 * A fresh database on that server, made through the real migrations, seeded with SQL, dropped
 * afterwards.
 */
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { sql, type KyselyPlugin } from 'kysely';
import { wilsonInterval } from '../server/campaigns/ab-statistics.ts';
import { campaignInputSchema } from '../server/campaigns/campaign-input.ts';
import { campaignViews, type CampaignView, type VariantFigures } from '../server/campaigns/campaign-view.ts';
import { abOutcomes, campaignFinished, readDefinition } from '../server/campaigns/campaigns.ts';
import type { VariantOutcome } from '../server/campaigns/ab-statistics.ts';
import { campaignNotifications, listCampaigns, type CampaignRow } from '../server/db/campaigns.ts';
import { conversionTotals } from '../server/db/conversions.ts';
import type { CampaignStatus, Db } from '../server/db/database.ts';
import { interactionCounts } from '../server/db/interactions.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { deliveryCounts, findNotification } from '../server/db/notifications.ts';
import { progressOf, type SendProgress } from '../server/notifications/notification-status.ts';
import { createBenchDatabase, timed, timeRuns } from './seed-large-site.ts';

const options = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string | undefined]));
for (const key of options.keys()) if (!['runs', 'campaigns', 'deliveries'].includes(key)) throw new Error(`unknown option --${key} (known: --runs=N --campaigns=N --deliveries=N)`);
const runs = Number(options.get('runs') ?? 15);
const campaignCount = Number(options.get('campaigns') ?? 50);
const deliveryCount = Number(options.get('deliveries') ?? 100_000);
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('DATABASE_URL must name a Postgres server: the bench creates its own database there');

const NOW = new Date('2026-11-29T12:00:00Z');
const SENDS_PER_CAMPAIGN = 3;
const SUBSCRIPTIONS = 20_000;

async function seed(db: Db): Promise<string> {
  const siteId = (
    await sql<{ id: string }>`insert into sites (name, allowed_origins, publishable_key, vapid_public_key, vapid_private_key)
      values ('bench', '{https://shop.example}', 'pk_bench', 'v', 'p') returning id`.execute(db)
  ).rows[0]!.id;
  await sql`
    insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, created_at, updated_at)
    select ${siteId}, 'https://fcm.googleapis.com/fcm/send/' || i, 'p', 'a', 'v', 'visitor-' || i, ${NOW}::timestamptz - interval '30 days', ${NOW}::timestamptz - interval '30 days'
    from generate_series(1, ${SUBSCRIPTIONS}::int) i`.execute(db);
  const definition = (k: number) =>
    JSON.stringify(
      campaignInputSchema.parse({
        name: `Campaign ${k}`,
        content: { title: `Sale ${k}`, body: 'Everything must go', url: 'https://shop.example/sale' },
        audience: { all: true },
        abTest: { variants: [{ name: 'Plain', title: `Sale ${k}` }, { name: 'Urgent', title: `Last day: sale ${k}` }], testPercent: 20 },
      }),
    );
  for (let k = 0; k < campaignCount; k++) {
    // Most have sent everything; every fifth is still sending (its deliveries partly queued).
    const sending = k % 5 === 0;
    const created = new Date(NOW.getTime() - (campaignCount - k) * 3_600_000);
    const campaignId = (
      await sql<{ id: string }>`insert into campaigns (site_id, name, status, definition, start_at, started_at, decide_at, decision, sent_at, created_at, updated_at)
        values (${siteId}, ${`Campaign ${k}`}, ${sending ? 'sending' : 'sent'}, ${definition(k)}::jsonb, ${created}, ${created}, ${new Date(created.getTime() + 1_800_000)},
          ${JSON.stringify({ winner: 'A', reason: 'fallback_leader', decidedAt: new Date(created.getTime() + 1_800_000).toISOString(), metric: 'clicks', confidence: 0.95, significant: false, pValue: 0.4, summary: 'A leads', results: [] })}::jsonb,
          ${sending ? null : new Date(created.getTime() + 3_000_000)}, ${created}, ${created}) returning id`.execute(db)
    ).rows[0]!.id;
    const perSend = Math.floor(deliveryCount / (campaignCount * SENDS_PER_CAMPAIGN));
    for (const [index, variant] of ['A', 'B', 'winner'].entries()) {
      const at = new Date(created.getTime() + (variant === 'winner' ? 1_800_000 : 0));
      await sql`
        with made as (
          insert into notifications (site_id, source, kind, content, audience, ttl_seconds, campaign_id, variant, audience_size, created_at)
          values (${siteId}, 'campaign', 'marketing', '{}', '{}', 86400, ${campaignId}, ${variant}, ${perSend}, ${at}) returning id, created_at
        )
        insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, updated_at)
        select m.id, s.id, s.endpoint, 't',
          case when ${sending} and abs(hashtext(s.id::text || m.id::text)) % 100 < 30 then 'queued'
               when abs(hashtext(s.id::text || m.id::text)) % 100 < 90 then 'sent'
               when abs(hashtext(s.id::text || m.id::text)) % 100 < 95 then 'suppressed' else 'failed' end,
          m.created_at, m.created_at
        from made m cross join lateral (
          select id, endpoint from subscriptions where site_id = ${siteId} order by visitor_id offset ${((k * SENDS_PER_CAMPAIGN + index) * perSend) % (SUBSCRIPTIONS - perSend)} limit ${perSend}
        ) s`.execute(db);
    }
  }
  await sql`
    insert into interactions (delivery_id, notification_id, type, created_at)
    select d.id, d.notification_id, t.type, d.created_at + interval '1 minute'
    from deliveries d cross join (values ('shown', 70), ('clicked', 6)) t(type, percent)
    where d.status = 'sent' and abs(hashtext(d.id::text || t.type)) % 100 < t.percent`.execute(db);
  await sql`
    insert into conversions (site_id, order_id, notification_id, delivery_id, value, currency, source, created_at)
    select ${siteId}, 'order-' || i.id, i.notification_id, i.delivery_id, 10 + i.id % 90, case when i.id % 3 = 0 then 'USD' else 'EUR' end, 'server', i.created_at + interval '1 hour'
    from interactions i where i.type = 'clicked' and i.id % 4 = 0`.execute(db);
  await sql`vacuum analyze`.execute(db);
  return siteId;
}

// --- before: the view as it was built until this bench's change, one query after another ---

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

async function perSendView(db: Db, row: CampaignRow, nowMs: number): Promise<CampaignView> {
  const definition = readDefinition(row);
  const status: CampaignStatus = (await campaignFinished(db, row)) ? 'sent' : row.status;
  const results: VariantFigures[] = [];
  const progress: SendProgress = { resolving: false, resolved: 0, total: 0, sent: 0, remaining: 0, etaSeconds: null };
  for (const sent of await campaignNotifications(db, row.id)) {
    const notification = await findNotification(db, row.site_id, sent.id);
    if (!notification) continue;
    const [counts, interactions, conversions] = await Promise.all([deliveryCounts(db, sent.id), interactionCounts(db, sent.id), conversionTotals(db, sent.id)]);
    const pending = counts.queued + counts.sending;
    const part = progressOf(notification, pending, counts.sent, nowMs);
    progress.resolving ||= part.resolving;
    progress.resolved += part.resolved;
    progress.total += part.total;
    progress.sent += part.sent;
    progress.remaining += part.remaining;
    if (part.etaSeconds !== null) progress.etaSeconds = Math.max(progress.etaSeconds ?? 0, part.etaSeconds);
    const index = sent.variant && sent.variant !== 'winner' ? 'ABCD'.indexOf(sent.variant) : -1;
    results.push({
      variant: sent.variant ?? 'all',
      name: index >= 0 ? (definition.abTest?.variants[index]?.name ?? null) : null,
      notificationId: sent.id,
      audience: notification.audience_size,
      sent: counts.sent,
      shown: interactions.shown,
      clicked: interactions.clicked,
      converted: conversions.converted,
      suppressed: counts.suppressed,
      failed: counts.failed + counts.expired,
      revenue: conversions.revenue,
      clickRate: counts.sent > 0 ? Math.min(1, interactions.clicked / counts.sent) : null,
      clickInterval: counts.sent > 0 ? wilsonInterval(Math.min(interactions.clicked, counts.sent), counts.sent, 0.95) : null,
      conversionRate: counts.sent > 0 ? Math.min(1, conversions.converted / counts.sent) : null,
    });
  }
  if (progress.remaining === 0) progress.etaSeconds = null;
  const totals = { sent: 0, shown: 0, clicked: 0, converted: 0, revenue: {} as Record<string, number> };
  for (const figures of results) {
    totals.sent += figures.sent;
    totals.shown += figures.shown;
    totals.clicked += figures.clicked;
    totals.converted += figures.converted;
    for (const [currency, amount] of Object.entries(figures.revenue)) totals.revenue[currency] = (totals.revenue[currency] ?? 0) + amount;
  }
  return {
    id: row.id,
    name: row.name,
    status,
    definition,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    startAt: iso(row.start_at),
    startedAt: iso(row.started_at),
    sentAt: status === 'sent' ? iso(row.sent_at ?? new Date(nowMs)) : null,
    cancelledAt: iso(row.cancelled_at),
    failure: row.failure,
    endsAt: iso(row.ends_at),
    progress,
    results,
    totals,
    abTest: definition.abTest ? { decideAt: iso(row.decide_at), decision: (row.decision as never) ?? null } : null,
  };
}

async function perSendOutcomes(db: Db, campaignId: string): Promise<VariantOutcome[]> {
  const outcomes: VariantOutcome[] = [];
  for (const notification of await campaignNotifications(db, campaignId)) {
    if (notification.variant === null || notification.variant === 'winner') continue;
    const counts = await deliveryCounts(db, notification.id);
    const successes = (await interactionCounts(db, notification.id)).clicked;
    outcomes.push({ variant: notification.variant, delivered: counts.sent, successes: Math.min(successes, counts.sent) });
  }
  return outcomes;
}

// --- measuring ---

async function measure(label: string, work: () => Promise<unknown>): Promise<{ label: string; median: number; p95: number; max: number }> {
  const times = await timeRuns(work, { warmups: 3, runs });
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  const result = { label, median: at(0.5), p95: at(0.95), max: times.at(-1)! };
  console.log(`  ${label.padEnd(58)} median ${result.median.toFixed(1).padStart(7)} ms   p95 ${result.p95.toFixed(1).padStart(7)} ms   max ${result.max.toFixed(1).padStart(7)} ms`);
  return result;
}

const bench = await createBenchDatabase(serverUrl, 'bench_campaign_views');
try {
  const { db } = bench;
  await migrateToLatest(db);
  const siteId = await timed(`${campaignCount} campaigns × ${SENDS_PER_CAMPAIGN} sends, ${deliveryCount.toLocaleString('en')} deliveries, interactions, conversions`, () => seed(db));
  const seeded = (await sql<{ deliveries: string; interactions: string; conversions: string }>`
    select (select count(*) from deliveries) as deliveries, (select count(*) from interactions) as interactions, (select count(*) from conversions) as conversions`.execute(db)).rows[0]!;
  console.log(`  seeded: ${seeded.deliveries} deliveries, ${seeded.interactions} interactions, ${seeded.conversions} conversions`);
  const page = await listCampaigns(db, siteId, { limit: campaignCount });
  const nowMs = NOW.getTime();

  const before: CampaignView[] = [];
  for (const row of page) before.push(await perSendView(db, row, nowMs));
  const after = await campaignViews(db, page, nowMs);
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(before)), JSON.parse(JSON.stringify(after)))) throw new Error('the grouped read does not give the same views as the reads per send');
  for (const row of page) {
    if (!isDeepStrictEqual(await perSendOutcomes(db, row.id), await abOutcomes(db, row.id, 'clicks'))) throw new Error(`abOutcomes differ for campaign ${row.id}`);
  }
  // Statements per page, each way (through a handle that counts what it sends).
  let statements = 0;
  const countingPlugin: KyselyPlugin = { transformQuery: (args) => (statements++, args.node), transformResult: async (args) => args.result };
  const counted = db.withPlugin(countingPlugin);
  for (const row of page) await perSendView(counted, row, nowMs);
  const statementsBefore = statements;
  statements = 0;
  await campaignViews(counted, page, nowMs);
  const statementsAfter = statements;
  console.log(`  statements for the page: ${statementsBefore} before, ${statementsAfter} after`);
  console.log(`  same JSON both ways for ${page.length} campaigns (${after.reduce((n, view) => n + view.results.length, 0)} sends) and the same A/B outcomes`);

  console.log(`\n${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((n) => n.toFixed(1)).join(' ')}; ${runs} runs after 3 warm-ups`);
  const results = [
    await measure('baseline: select 1', () => sql`select 1`.execute(db)),
    await measure(`before: ${page.length} views, per campaign and per send`, async () => {
      for (const row of page) await perSendView(db, row, nowMs);
    }),
    await measure(`after: ${page.length} views, campaignViews (one grouped read)`, () => campaignViews(db, page, nowMs)),
    await measure('before: one campaign, per send', () => perSendView(db, page[0]!, nowMs)),
    await measure('after: one campaign, campaignViews([row])', () => campaignViews(db, [page[0]!], nowMs)),
    await measure(`before: abOutcomes of ${page.length} campaigns, per send`, async () => {
      for (const row of page) await perSendOutcomes(db, row.id);
    }),
    await measure(`after: abOutcomes of ${page.length} campaigns, grouped per campaign`, async () => {
      for (const row of page) await abOutcomes(db, row.id, 'clicks');
    }),
  ];
  console.log(`RESULT ${JSON.stringify({ campaigns: page.length, deliveries: Number(seeded.deliveries), statementsBefore, statementsAfter, runs, results })}`);
} finally {
  await bench.drop();
}
