import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { orderedDeliveries, subscriberDays } from './daily-stats.ts';
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

  it('gives each day the subscriptions active at its end, counting back from now over the changes since, those after the range too', async () => {
    const db = database.db;
    const shop = await testSite(db);
    const insert = (from: number, to: number, at: string) => sql`
      insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, created_at, updated_at)
      select ${shop.id}, 'https://fcm.googleapis.com/fcm/send/days-' || i, 'p', 'a', 'v', 'days-' || i, ${new Date(at)}, ${new Date(at)}
      from generate_series(${from}::int, ${to}::int) i`.execute(db);
    await insert(1, 10, '2026-10-01T12:00:00Z');
    await insert(11, 15, '2026-10-02T12:00:00Z');
    await sql`update subscriptions set status = 'expired', updated_at = ${new Date('2026-10-02T18:00:00Z')} where site_id = ${shop.id} and visitor_id in ('days-1', 'days-2', 'days-3')`.execute(db);
    // After the range: counted back from the 10 active now, not shown in it.
    await sql`update subscriptions set status = 'unsubscribed', updated_at = ${new Date('2026-10-05T12:00:00Z')} where site_id = ${shop.id} and visitor_id in ('days-4', 'days-5')`.execute(db);

    const day = (date: string) => new Date(`${date}T00:00:00Z`);
    const twoDays = await subscriberDays(db, shop.id, [day('2026-10-01'), day('2026-10-02'), day('2026-10-03')]);
    expect(twoDays.map(({ active, new: made, lostExpired, lostUnsubscribed }) => ({ active, made, lostExpired, lostUnsubscribed }))).toEqual([
      { active: 10, made: 10, lostExpired: 0, lostUnsubscribed: 0 },
      { active: 12, made: 5, lostExpired: 3, lostUnsubscribed: 0 },
    ]);
    expect((await subscriberDays(db, shop.id, [day('2026-10-02'), day('2026-10-03')]))[0]!.active).toBe(12);
    expect((await subscriberDays(db, shop.id, [day('2026-10-05'), day('2026-10-06')]))[0]).toMatchObject({ active: 10, lostUnsubscribed: 2, net: -2 });
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

describe('the ordered deliveries rollup (the holdout lift)', () => {
  const T0 = Date.parse('2026-10-01T08:00:00Z');
  const HOUR = 3_600_000;
  const at = (hours: number) => new Date(T0 + hours * HOUR);

  /** What orderedDeliveries read before the rollup: from the orders, through the shopper's subscriptions, to the deliveries before each. */
  async function fromRawRows(siteId: string, start: Date, end: Date, windowHours: number) {
    const rows = await sql<{ source: string; held_out: boolean; ordered: string }>`
      with orders as (
        select e.visitor_id, e.external_user_id, e.created_at from events e
        where e.site_id = ${siteId} and e.type = 'order_completed'
          and e.created_at > ${start} and e.created_at <= ${end}::timestamptz + ${windowHours} * interval '1 hour'
      ), shopper_orders as (
        select s.id as subscription_id, o.created_at from orders o join subscriptions s on s.site_id = ${siteId} and s.visitor_id = o.visitor_id
        union
        select s.id, o.created_at from orders o join subscriptions s on s.site_id = ${siteId} and s.external_user_id = o.external_user_id
      )
      select n.source, d.status = 'held_out' as held_out, count(distinct d.id) as ordered
      from shopper_orders so
      join deliveries d on d.subscription_id = so.subscription_id
        and d.created_at < so.created_at and d.created_at >= so.created_at - ${windowHours} * interval '1 hour'
      join notifications n on n.id = d.notification_id
      where n.site_id = ${siteId} and n.created_at >= ${start} and n.created_at < ${end}
      group by 1, 2`.execute(database.db);
    const ordered = new Map<string, { recipients: number; heldOut: number }>();
    for (const row of rows.rows) {
      const entry = ordered.get(row.source) ?? { recipients: 0, heldOut: 0 };
      entry[row.held_out ? 'heldOut' : 'recipients'] += Number(row.ordered);
      ordered.set(row.source, entry);
    }
    return ordered;
  }

  const sorted = (map: Map<string, unknown>) => [...map].sort(([a], [b]) => a.localeCompare(b));

  async function expectSameAsRawRows(siteId: string) {
    const ranges: Array<[Date, Date]> = [
      [at(-24), at(40 * 24)],
      [at(24), at(25 * 24)],
    ];
    let counted = 0;
    for (const [start, end] of ranges) {
      for (const windowHours of [1, 5, 24, 200, 720]) {
        const rollup = await orderedDeliveries(database.db, siteId, start, end, windowHours);
        expect(sorted(rollup), `${start.toISOString()} … ${end.toISOString()}, ${windowHours} h`).toEqual(sorted(await fromRawRows(siteId, start, end, windowHours)));
        for (const entry of rollup.values()) counted += entry.recipients + entry.heldOut;
      }
    }
    return counted;
  }

  it('counts, for any window up to 30 days, the deliveries an order followed, as counted from the raw rows; a fresh backfill agrees', async () => {
    const db = database.db;
    const shop = await testSite(db);
    // 24 shoppers; every third one identified, two browsers sharing each user id.
    await sql`
      insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, external_user_id)
      select ${shop.id}, 'https://fcm.googleapis.com/fcm/send/ordered-' || i, 'p', 'a', 'v', 'ordered-' || i,
        case when i % 3 = 0 then 'user-' || (i % 6) end
      from generate_series(1, 24) i`.execute(db);
    for (const [source, hours] of [
      ['cart_reminder', 0],
      ['price_drop', 10],
      ['campaign', 3 * 24],
      ['cart_reminder', 20 * 24],
      ['back_in_stock', 39 * 24],
    ] as const) {
      const notification = await sql<{ id: string }>`
        insert into notifications (site_id, source, kind, content, audience, ttl_seconds, created_at)
        values (${shop.id}, ${source}, 'marketing', '{}', '{}', 60, ${at(hours)}) returning id`.execute(db);
      await sql`
        insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, updated_at)
        select ${notification.rows[0]!.id}, s.id, s.endpoint, md5(s.id::text),
          case when substring(s.visitor_id from 9)::int % 4 = 0 then 'held_out' else 'sent' end, ${at(hours)}, ${at(hours)}
        from subscriptions s where s.site_id = ${shop.id}`.execute(db);
    }
    // Orders in several statements: by browser, by the shop's user id alone (a server event), more
    // orders of the same shoppers, orders beyond 30 days, and events that are no order.
    const orders = (rows: Array<[string | null, string | null, number]>, type = 'order_completed') => sql`
      insert into events (site_id, source, type, visitor_id, external_user_id, properties, created_at)
      select ${shop.id}, 'server', ${type}, r.visitor_id, r.user_id, '{}', ${new Date(T0)}::timestamptz + r.hours * interval '1 hour'
      from jsonb_to_recordset(${JSON.stringify(rows.map(([visitor_id, user_id, hours]) => ({ visitor_id, user_id, hours })))}::jsonb)
        as r(visitor_id text, user_id text, hours double precision)`.execute(db);
    await orders([['ordered-1', null, 0.5], ['ordered-2', null, 11], ['ordered-4', null, 30], ['ordered-5', null, 80], ['ordered-7', null, 500]]);
    await orders([[null, 'user-0', 12], [null, 'user-3', 3 * 24 + 2], ['ordered-8', null, 20 * 24 + 100]]);
    // Of the same shoppers: a later order (the first one stays what counts), and an earlier one stored after the later.
    await orders([['ordered-2', null, 15], ['ordered-5', null, 74]]);
    await orders([['ordered-10', null, 39 * 24 + 0.25], ['ordered-11', null, 80 * 24]]);
    await orders([['ordered-13', null, 1], ['ordered-14', null, 2]], 'product_viewed');

    const live = await expectSameAsRawRows(shop.id);
    expect(live).toBeGreaterThan(0);

    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const down = await migrator.migrateTo('2026-11-29T0370-site-deletion-rollup');
    expect(down.error).toBeUndefined();
    expect(down.results?.map((result) => result.migrationName)).toContain('2026-11-29T0395-ordered-deliveries');
    await migrateToLatest(db);
    expect(await expectSameAsRawRows(shop.id)).toBe(live);

    // Deleting the site takes its rows along.
    await db.deleteFrom('sites').where('id', '=', shop.id).execute();
    const left = await sql<{ count: string }>`select count(*) as count from ordered_deliveries where site_id = ${shop.id}`.execute(db);
    expect(Number(left.rows[0]!.count)).toBe(0);
  });
});
