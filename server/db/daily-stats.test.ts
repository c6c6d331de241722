import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { subscriberDays } from './daily-stats.ts';
import { migrateToLatest } from './migrate.ts';

let database: TestDatabase;
let site: CreatedSite;
beforeAll(async () => {
  database = await createTestDatabase();
  site = await testSite(database.db);
});
afterAll(async () => database?.destroy());

/** The rollup's figures, and the same counted afresh from deliveries, interactions and conversions. */
async function rollupAndRecount() {
  const db = database.db;
  const rollup = await sql<Record<string, string>>`
    select source, bucket, audience, sent, held_out, suppressed, failed, expired, shown, clicked
    from stats_buckets where site_id = ${site.id} and audience + shown + clicked > 0 order by source, bucket`.execute(db);
  const recount = await sql<Record<string, string>>`
    select n.source, date_bin('15 minutes', n.created_at, timestamptz '2000-01-01 00:00:00+00') as bucket, count(*) as audience,
      count(*) filter (where d.status = 'sent') as sent, count(*) filter (where d.status = 'held_out') as held_out,
      count(*) filter (where d.status = 'suppressed') as suppressed, count(*) filter (where d.status = 'failed') as failed,
      count(*) filter (where d.status = 'expired') as expired,
      count(*) filter (where exists (select 1 from interactions i where i.delivery_id = d.id and i.type = 'shown')) as shown,
      count(*) filter (where exists (select 1 from interactions i where i.delivery_id = d.id and i.type = 'clicked')) as clicked
    from deliveries d join notifications n on n.id = d.notification_id
    where n.site_id = ${site.id} group by 1, 2 order by 1, 2`.execute(db);
  const revenue = await sql`select source, currency, orders, revenue from stats_revenue where site_id = ${site.id} order by 1, 2`.execute(db);
  const revenueRecount = await sql`
    select n.source, c.currency, count(*) as orders, sum(c.value) as revenue
    from conversions c join notifications n on n.id = c.notification_id where c.site_id = ${site.id} group by 1, 2 order by 1, 2`.execute(db);
  return { rollup: rollup.rows, recount: recount.rows, revenue: revenue.rows, revenueRecount: revenueRecount.rows };
}

describe('the stats rollup', () => {
  it('follows inserts and status changes statement by statement, and a fresh backfill gives the same figures', async () => {
    const db = database.db;
    await sql`
      insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id)
      select ${site.id}, 'https://fcm.googleapis.com/fcm/send/rollup-' || i, 'p', 'a', 'v', 'rollup-' || i from generate_series(1, 40) i`.execute(db);
    for (const [source, at] of [
      ['cart_reminder', '2026-11-02T10:00:00Z'],
      ['cart_reminder', '2026-11-02T10:14:59Z'],
      ['price_drop', '2026-11-02T10:15:00Z'],
      ['api', '2026-11-05T23:59:00Z'],
    ] as const) {
      const notification = await sql<{ id: string }>`
        insert into notifications (site_id, source, kind, content, audience, ttl_seconds, created_at)
        values (${site.id}, ${source}, 'marketing', '{}', '{}', 60, ${new Date(at)}) returning id`.execute(db);
      const id = notification.rows[0]!.id;
      // Every fourth shopper held out; the rest queued, then moved on in several statements.
      await sql`
        insert into deliveries (notification_id, subscription_id, endpoint, report_token, status)
        select ${id}, s.id, s.endpoint, md5(s.id::text), case when row_number() over (order by s.id) % 4 = 0 then 'held_out' else 'queued' end
        from subscriptions s where s.site_id = ${site.id}`.execute(db);
      await sql`update deliveries set status = 'sending' where notification_id = ${id} and status = 'queued'`.execute(db);
      await sql`update deliveries set status = 'sent' where notification_id = ${id} and status = 'sending' and id % 3 <> 0`.execute(db);
      await sql`update deliveries set status = 'failed' where notification_id = ${id} and status = 'sending' and id % 2 = 0`.execute(db);
      await sql`update deliveries set status = 'suppressed' where notification_id = ${id} and status = 'sending'`.execute(db);
      // A status a delivery already has is no change.
      await sql`update deliveries set status = 'sent' where notification_id = ${id} and status = 'sent'`.execute(db);
      await sql`
        insert into interactions (delivery_id, notification_id, type)
        select d.id, d.notification_id, t.type from deliveries d, (values ('shown'), ('clicked')) t(type)
        where d.notification_id = ${id} and d.status = 'sent' and (t.type = 'shown' or d.id % 2 = 0)`.execute(db);
      await sql`
        insert into conversions (site_id, order_id, notification_id, delivery_id, value, currency, source, created_at)
        select ${site.id}, 'order-' || d.id, d.notification_id, d.id, 10.5, case when d.id % 2 = 0 then 'EUR' else 'USD' end, 'server', now()
        from deliveries d where d.notification_id = ${id} and d.status = 'sent' and d.id % 5 = 0`.execute(db);
    }
    const live = await rollupAndRecount();
    expect(live.recount.length).toBe(3); // the two cart reminders share a 15-minute period
    expect(live.rollup).toEqual(live.recount);
    expect(live.revenue).toEqual(live.revenueRecount);

    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    // Down to just before the rollup (the migrations after it go first), then up again: the backfill.
    const down = await migrator.migrateTo('2026-11-29T0320-prompt-funnel');
    expect(down.error).toBeUndefined();
    expect(down.results?.map((result) => result.migrationName)).toContain('2026-11-29T0330-stats-rollup');
    await migrateToLatest(db);
    const backfilled = await rollupAndRecount();
    expect(backfilled.rollup).toEqual(live.recount);
    expect(backfilled.revenue).toEqual(live.revenueRecount);
  });

  it('counts an erased active subscription as lost, and one already lost not again', async () => {
    const db = database.db;
    const rows = await sql<{ id: string; endpoint: string }>`
      insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, status)
      values (${site.id}, 'https://fcm.googleapis.com/fcm/send/erase-1', 'p', 'a', 'v', 'erase-1', 'active'),
             (${site.id}, 'https://fcm.googleapis.com/fcm/send/erase-2', 'p', 'a', 'v', 'erase-2', 'active')
      returning id, endpoint`.execute(db);
    await sql`update subscriptions set status = 'unsubscribed' where id = ${rows.rows[1]!.id}`.execute(db);
    // The database's clock stamps an erase (no caller's clock reaches a delete): read around it.
    const now = (await sql<{ now: Date }>`select now() as now`.execute(db)).rows[0]!.now;
    const hour = 3_600_000;
    const boundaries = [new Date(now.getTime() - hour), new Date(now.getTime() + hour)];
    const before = (await subscriberDays(db, site.id, boundaries))[0]!;
    await sql`delete from subscriptions where id = any(${rows.rows.map((row) => row.id)}::uuid[])`.execute(db);
    const after = (await subscriberDays(db, site.id, boundaries))[0]!;
    expect(after.lostErased - before.lostErased).toBe(1);
    expect(after.active - before.active).toBe(-1);
  });

  it('lets a site with active subscriptions be deleted: its subscriptions go with it, recorded nowhere', async () => {
    const db = database.db;
    const doomed = await testSite(db);
    await sql`
      insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, status)
      values (${doomed.id}, 'https://fcm.googleapis.com/fcm/send/doomed-1', 'p', 'a', 'v', 'doomed-1', 'active')`.execute(db);
    await db.deleteFrom('sites').where('id', '=', doomed.id).execute();
    const left = await sql<{ count: string }>`select count(*) as count from subscription_changes where site_id = ${doomed.id}`.execute(db);
    expect(Number(left.rows[0]!.count)).toBe(0);
  });
});
