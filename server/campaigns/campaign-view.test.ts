import { sql, type KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCampaign, insertCampaign, listCampaigns, updateCampaign, type CampaignRow } from '../db/campaigns.ts';
import type { DeliveryStatus } from '../db/database.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { campaignInputSchema } from './campaign-input.ts';
import { campaignView, campaignViews } from './campaign-view.ts';
import { abOutcomes, runCampaignWork } from './campaigns.ts';

const NOW = new Date('2026-11-20T12:00:00Z');

let database: TestDatabase;
let site: CreatedSite;
let subscriptionIds: string[];
beforeAll(async () => {
  database = await createTestDatabase();
  site = await testSite(database.db);
  subscriptionIds = (
    await sql<{ id: string }>`
      insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id)
      select ${site.id}, 'https://fcm.googleapis.com/fcm/send/view-' || i, 'p', 'a', 'v', 'view-' || i from generate_series(1, 20) i
      returning id`.execute(database.db)
  ).rows.map((row) => row.id);
});
afterAll(async () => database?.destroy());

/** Counts the statements sent through the returned handle. */
function counting() {
  const counter = { statements: 0 };
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      counter.statements++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { db: database.db.withPlugin(plugin), counter };
}

const definition = (name: string, abTest: boolean) =>
  campaignInputSchema.parse({
    name,
    content: { title: name, body: 'Sale', url: 'https://shop.example/sale' },
    audience: { all: true },
    ...(abTest ? { abTest: { variants: [{ name: 'Plain' }, { name: 'Urgent', title: 'Last day' }], testPercent: 20, fallback: 'manual' } } : {}),
  });

/**
 * One send of the campaign with deliveries of the given statuses (to the first subscriptions),
 * `clicked` of the sent ones clicked (and shown), and `orders` conversions of those clicks.
 */
async function seedSend(
  campaign: CampaignRow,
  variant: string | null,
  at: Date,
  statuses: DeliveryStatus[],
  clicked: number,
  orders: Array<{ value: number; currency: string }>,
): Promise<string> {
  const db = database.db;
  const notificationId = (
    await sql<{ id: string }>`
      insert into notifications (site_id, source, kind, content, audience, ttl_seconds, campaign_id, variant, audience_size, created_at)
      values (${site.id}, 'campaign', 'marketing', '{}', '{}', 86400, ${campaign.id}, ${variant}, ${statuses.length}, ${at}) returning id`.execute(db)
  ).rows[0]!.id;
  const deliveries: Array<{ id: string; status: DeliveryStatus }> = [];
  for (const [i, status] of statuses.entries()) {
    const row = (
      await sql<{ id: string }>`
        insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, updated_at)
        values (${notificationId}, ${subscriptionIds[i]!}, ${`https://fcm.googleapis.com/fcm/send/view-${i + 1}`}, 't', ${status}, ${at}, ${at}) returning id::text as id`.execute(db)
    ).rows[0]!;
    deliveries.push({ id: row.id, status });
  }
  const sent = deliveries.filter((d) => d.status === 'sent');
  for (const [i, delivery] of sent.slice(0, clicked).entries()) {
    for (const type of ['shown', 'clicked']) {
      await sql`insert into interactions (delivery_id, notification_id, type, created_at) values (${delivery.id}::bigint, ${notificationId}, ${type}, ${at})`.execute(db);
    }
    const order = orders[i];
    if (order) {
      await sql`insert into conversions (site_id, order_id, notification_id, delivery_id, value, currency, source, created_at)
        values (${site.id}, ${`order-${notificationId}-${i}`}, ${notificationId}, ${delivery.id}::bigint, ${order.value}, ${order.currency}, 'server', ${at})`.execute(db);
    }
  }
  return notificationId;
}

describe('campaign views of a page', () => {
  it('read every campaign’s figures in the same few statements however many campaigns and sends, each campaign with its own sends, as read one by one', async () => {
    const db = database.db;
    const plain = await insertCampaign(db, { siteId: site.id, name: 'Plain', definition: definition('Plain', false), at: new Date('2026-11-20T08:00:00Z') });
    await updateCampaign(db, plain.id, { status: 'sending', started_at: new Date('2026-11-20T08:00:00Z') }, new Date('2026-11-20T08:00:00Z'));
    const plainSend = await seedSend(plain, null, new Date('2026-11-20T08:00:00Z'), ['sent', 'sent', 'sent', 'failed', 'expired', 'suppressed'], 2, [{ value: 12.5, currency: 'EUR' }]);

    const tested = await insertCampaign(db, { siteId: site.id, name: 'Tested', definition: definition('Tested', true), at: new Date('2026-11-20T09:00:00Z') });
    await updateCampaign(db, tested.id, { status: 'sending', started_at: new Date('2026-11-20T09:00:00Z') }, new Date('2026-11-20T09:00:00Z'));
    const testAt = new Date('2026-11-20T09:00:00Z');
    // Both variants written at one instant, B first: the variant orders them.
    const b = await seedSend(tested, 'B', testAt, ['sent', 'sent', 'sent', 'sent', 'queued'], 1, []);
    const a = await seedSend(tested, 'A', testAt, ['sent', 'sent', 'sent', 'sent'], 3, [{ value: 10, currency: 'EUR' }, { value: 5, currency: 'USD' }, { value: 2.5, currency: 'EUR' }]);
    const winner = await seedSend(tested, 'winner', new Date('2026-11-20T10:00:00Z'), ['sent', 'sent'], 0, []);

    await insertCampaign(db, { siteId: site.id, name: 'Draft', definition: definition('Draft', false), at: new Date('2026-11-20T10:30:00Z') });

    const page = await listCampaigns(db, site.id, { limit: 10 });
    const { db: counted, counter } = counting();
    const views = await campaignViews(counted, page, NOW.getTime());
    expect(counter.statements).toBe(4);

    expect(views.map((view) => view.name)).toEqual(['Draft', 'Tested', 'Plain']);
    const [draft, test, one] = views;
    expect(draft!.results).toEqual([]);
    expect(draft!.totals).toEqual({ sent: 0, shown: 0, clicked: 0, converted: 0, revenue: {} });

    expect(test!.results.map((r) => [r.variant, r.name, r.notificationId])).toEqual([
      ['A', 'Plain', a],
      ['B', 'Urgent', b],
      ['winner', null, winner],
    ]);
    expect(test!.results.map((r) => ({ sent: r.sent, clicked: r.clicked, shown: r.shown, converted: r.converted, revenue: r.revenue }))).toEqual([
      { sent: 4, clicked: 3, shown: 3, converted: 3, revenue: { EUR: 12.5, USD: 5 } },
      { sent: 4, clicked: 1, shown: 1, converted: 0, revenue: {} },
      { sent: 2, clicked: 0, shown: 0, converted: 0, revenue: {} },
    ]);
    expect(test!.totals).toEqual({ sent: 10, shown: 4, clicked: 4, converted: 3, revenue: { EUR: 12.5, USD: 5 } });
    // B still has a queued delivery: still sending, one remaining.
    expect(test!.status).toBe('sending');
    expect(test!.progress.remaining).toBe(1);

    expect(one!.results).toHaveLength(1);
    expect(one!.results[0]).toMatchObject({ variant: 'all', notificationId: plainSend, audience: 6, sent: 3, suppressed: 1, failed: 2, clicked: 2, converted: 1, revenue: { EUR: 12.5 } });
    // Everything of the plain campaign has gone: it reads sent before the background round marks it.
    expect(one!.status).toBe('sent');

    // The same page with more campaigns costs no more statements.
    const more = await insertCampaign(db, { siteId: site.id, name: 'More', definition: definition('More', false), at: new Date('2026-11-20T11:00:00Z') });
    await seedSend(more, null, new Date('2026-11-20T11:00:00Z'), ['sent'], 1, []);
    counter.statements = 0;
    await campaignViews(counted, await listCampaigns(db, site.id, { limit: 10 }), NOW.getTime());
    expect(counter.statements).toBe(4);

    for (const [i, row] of page.entries()) expect(await campaignView(db, row, NOW.getTime())).toEqual(views[i]);
    expect(await abOutcomes(db, tested.id, 'clicks')).toEqual([
      { variant: 'A', delivered: 4, successes: 3 },
      { variant: 'B', delivered: 4, successes: 1 },
    ]);
    expect(await abOutcomes(db, tested.id, 'conversions')).toEqual([
      { variant: 'A', delivered: 4, successes: 3 },
      { variant: 'B', delivered: 4, successes: 0 },
    ]);
  });

  it('reads nothing for an empty page', async () => {
    const { db: counted, counter } = counting();
    expect(await campaignViews(counted, [], NOW.getTime())).toEqual([]);
    expect(counter.statements).toBe(0);
  });
});

describe('the background round', () => {
  it('marks sent, in one read of the sending campaigns, exactly those with nothing left: not one with a delivery queued, a send still resolving, or a decision to come', async () => {
    const db = database.db;
    const at = new Date('2026-11-21T08:00:00Z');
    const sending = async (name: string, change: { decide_at?: Date } = {}) => {
      const row = await insertCampaign(db, { siteId: site.id, name, definition: definition(name, false), at });
      return updateCampaign(db, row.id, { status: 'sending', started_at: at, ...change }, at);
    };
    const done = await sending('Done');
    await seedSend(done, null, at, ['sent', 'failed', 'suppressed'], 0, []);
    const cancelledSend = await sending('Done, its queued send cancelled');
    const cancelledId = await seedSend(cancelledSend, null, at, ['sent', 'queued'], 0, []);
    await db.updateTable('notifications').set({ cancelled_at: at }).where('id', '=', cancelledId).execute();
    const queued = await sending('Queued');
    await seedSend(queued, null, at, ['sent', 'queued'], 0, []);
    const resolving = await sending('Resolving');
    const resolvingId = await seedSend(resolving, null, at, ['sent'], 0, []);
    await db.updateTable('notifications').set({ resolve_state: 'resolving' }).where('id', '=', resolvingId).execute();
    const undecided = await sending('Decision to come', { decide_at: new Date('2026-11-30T08:00:00Z') });
    await seedSend(undecided, 'A', at, ['sent'], 0, []);

    const work = await runCampaignWork({ db, reportUrl: 'https://push.example/v1/interactions', now: () => at.getTime() });
    const statusOf = async (row: CampaignRow) => (await findCampaign(db, site.id, row.id))!.status;
    expect(await statusOf(done)).toBe('sent');
    expect(await statusOf(cancelledSend)).toBe('sent');
    expect(await statusOf(queued)).toBe('sending');
    expect(await statusOf(resolving)).toBe('sending');
    expect(await statusOf(undecided)).toBe('sending');
    expect(work.finished).toBeGreaterThanOrEqual(2);
  });
});
