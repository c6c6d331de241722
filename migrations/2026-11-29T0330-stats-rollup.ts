import { sql, type Kysely } from 'kysely';

// Frozen: what the daily stats read instead of scanning deliveries, interactions and conversions.
//
// - `subscription_changes`: one anonymous row each time a subscription starts, comes back, or stops
//   being active, with why it stopped. `subscriptions` keeps only its current status and a single
//   `updated_at`, which a later repost overwrites, so the history of who was active on which day
//   cannot be read from it.
// - `stats_buckets` / `stats_revenue`: per site, trigger (notification source) and 15-minute period
//   of the notification's creation, the delivery outcomes, interactions and attributed orders.
//   Fifteen minutes because every UTC offset in use today is a multiple of it (Nepal: +5:45), so
//   the periods add up to whole local days in any zone, daylight-saving days included.
//
// Both are kept by statement-level triggers (one upsert per statement, not per row), so every
// writer — the API, the delivery workers, the CLI — is counted without knowing about them, and
// they hold no shopper identifier: erasing a shopper (GDPR art. 17) leaves these counts as they are.

const BUCKET = sql`date_bin('15 minutes', n.created_at, timestamptz '2000-01-01 00:00:00+00')`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('subscription_changes')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    // subscribed: a new row; returned: an expired or unsubscribed row made active again;
    // expired: the push service said it is gone (404/410) or the browser replaced the endpoint;
    // unsubscribed: the shopper opted out (DELETE /v1/subscriptions); erased: the row was deleted.
    .addColumn('change', 'text', (col) => col.notNull().check(sql`change in ('subscribed', 'returned', 'expired', 'unsubscribed', 'erased')`))
    .addColumn('at', 'timestamptz', (col) => col.notNull())
    .execute();
  await sql`create index subscription_changes_site_at_idx on subscription_changes (site_id, at) include (change)`.execute(db);

  await sql`create function subscription_changes_inserted() returns trigger language plpgsql as $$
    begin
      insert into subscription_changes (site_id, change, at)
      select site_id, 'subscribed', created_at from new_rows where status = 'active';
      return null;
    end $$`.execute(db);
  // Only moves into or out of 'active' count: expired → unsubscribed loses no one a second time.
  await sql`create function subscription_changes_updated() returns trigger language plpgsql as $$
    begin
      insert into subscription_changes (site_id, change, at)
      select n.site_id, case when n.status = 'active' then 'returned' else n.status end, n.updated_at
      from new_rows n join old_rows o on o.id = n.id
      where (o.status = 'active') <> (n.status = 'active');
      return null;
    end $$`.execute(db);
  await sql`create function subscription_changes_deleted() returns trigger language plpgsql as $$
    begin
      insert into subscription_changes (site_id, change, at)
      select site_id, 'erased', now() from old_rows where status = 'active';
      return null;
    end $$`.execute(db);
  await sql`create trigger subscription_changes_insert after insert on subscriptions
    referencing new table as new_rows for each statement execute function subscription_changes_inserted()`.execute(db);
  await sql`create trigger subscription_changes_update after update on subscriptions
    referencing old table as old_rows new table as new_rows for each statement execute function subscription_changes_updated()`.execute(db);
  await sql`create trigger subscription_changes_delete after delete on subscriptions
    referencing old table as old_rows for each statement execute function subscription_changes_deleted()`.execute(db);
  // What is known of the past: each row's start, and when it stopped if it is not active now.
  await sql`insert into subscription_changes (site_id, change, at)
    select site_id, 'subscribed', created_at from subscriptions
    union all
    select site_id, status, updated_at from subscriptions where status <> 'active'`.execute(db);

  await db.schema
    .createTable('stats_buckets')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('bucket', 'timestamptz', (col) => col.notNull())
    .addColumn('source', 'text', (col) => col.notNull())
    // Deliveries queued (held out or not), then how many are in each final status now.
    .addColumn('audience', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('sent', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('held_out', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('suppressed', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('failed', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('expired', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('shown', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('clicked', 'bigint', (col) => col.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('stats_buckets_pkey', ['site_id', 'bucket', 'source'])
    .execute();
  await db.schema
    .createTable('stats_revenue')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('bucket', 'timestamptz', (col) => col.notNull())
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('orders', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('revenue', 'numeric', (col) => col.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('stats_revenue_pkey', ['site_id', 'bucket', 'source', 'currency'])
    .execute();

  // Rows are upserted in key order, so two statements touching the same periods lock them in the
  // same order and cannot deadlock each other.
  const statusColumns = ['sent', 'held_out', 'suppressed', 'failed', 'expired'];
  const upsertStatuses = (deltas: ReturnType<typeof sql>) => sql`
    insert into stats_buckets as b (site_id, bucket, source, audience, ${sql.join(statusColumns.map((c) => sql.ref(c)))})
    ${deltas}
    order by 1, 2, 3
    on conflict (site_id, bucket, source) do update set
      audience = b.audience + excluded.audience,
      ${sql.join(statusColumns.map((c) => sql`${sql.ref(c)} = b.${sql.ref(c)} + excluded.${sql.ref(c)}`))}`;
  await sql`create function stats_deliveries_inserted() returns trigger language plpgsql as $$
    begin
      ${upsertStatuses(sql`select n.site_id, ${BUCKET}, n.source, count(*),
        ${sql.join(statusColumns.map((c) => sql`count(*) filter (where d.status = ${sql.lit(c)})`))}
        from new_rows d join notifications n on n.id = d.notification_id
        group by 1, 2, 3`)};
      return null;
    end $$`.execute(db);
  await sql`create function stats_deliveries_updated() returns trigger language plpgsql as $$
    begin
      ${upsertStatuses(sql`select n.site_id, ${BUCKET}, n.source, 0,
        ${sql.join(statusColumns.map((c) => sql`sum((d.status = ${sql.lit(c)})::int - (o.status = ${sql.lit(c)})::int)`))}
        from new_rows d join old_rows o on o.id = d.id join notifications n on n.id = d.notification_id
        -- queued → sending and back (a claim, a lapsed lease) change no counted status: no write.
        where d.status <> o.status and (d.status in (${sql.join(statusColumns.map((c) => sql.lit(c)))}) or o.status in (${sql.join(statusColumns.map((c) => sql.lit(c)))}))
        group by 1, 2, 3`)};
      return null;
    end $$`.execute(db);
  await sql`create trigger stats_deliveries_insert after insert on deliveries
    referencing new table as new_rows for each statement execute function stats_deliveries_inserted()`.execute(db);
  await sql`create trigger stats_deliveries_update after update on deliveries
    referencing old table as old_rows new table as new_rows for each statement execute function stats_deliveries_updated()`.execute(db);

  // interactions are unique per delivery and type, so these counts are deliveries shown / clicked.
  await sql`create function stats_interactions_inserted() returns trigger language plpgsql as $$
    begin
      insert into stats_buckets as b (site_id, bucket, source, shown, clicked)
      select n.site_id, ${BUCKET}, n.source, count(*) filter (where i.type = 'shown'), count(*) filter (where i.type = 'clicked')
      from new_rows i join notifications n on n.id = i.notification_id
      group by 1, 2, 3
      order by 1, 2, 3
      on conflict (site_id, bucket, source) do update set shown = b.shown + excluded.shown, clicked = b.clicked + excluded.clicked;
      return null;
    end $$`.execute(db);
  await sql`create trigger stats_interactions_insert after insert on interactions
    referencing new table as new_rows for each statement execute function stats_interactions_inserted()`.execute(db);
  await sql`create function stats_conversions_inserted() returns trigger language plpgsql as $$
    begin
      insert into stats_revenue as r (site_id, bucket, source, currency, orders, revenue)
      select n.site_id, ${BUCKET}, n.source, c.currency, count(*), sum(c.value)
      from new_rows c join notifications n on n.id = c.notification_id
      group by 1, 2, 3, 4
      order by 1, 2, 3, 4
      on conflict (site_id, bucket, source, currency) do update set orders = r.orders + excluded.orders, revenue = r.revenue + excluded.revenue;
      return null;
    end $$`.execute(db);
  await sql`create trigger stats_conversions_insert after insert on conversions
    referencing new table as new_rows for each statement execute function stats_conversions_inserted()`.execute(db);

  // The lift counts, per order, the deliveries its shopper got in the window before it: with the
  // time in the index only those few are read, not every delivery the subscription ever had. It
  // serves every look-up by subscription the old index served (cascades, a subscriber's history).
  await db.schema.createIndex('deliveries_subscription_created_idx').on('deliveries').columns(['subscription_id', 'created_at']).execute();
  await db.schema.dropIndex('deliveries_subscription_idx').execute();

  // The past, counted once from the rows themselves.
  await sql`insert into stats_buckets (site_id, bucket, source, audience, ${sql.join(statusColumns.map((c) => sql.ref(c)))}, shown, clicked)
    select n.site_id, ${BUCKET}, n.source, count(*),
      ${sql.join(statusColumns.map((c) => sql`count(*) filter (where d.status = ${sql.lit(c)})`))},
      count(*) filter (where exists (select 1 from interactions i where i.delivery_id = d.id and i.type = 'shown')),
      count(*) filter (where exists (select 1 from interactions i where i.delivery_id = d.id and i.type = 'clicked'))
    from deliveries d join notifications n on n.id = d.notification_id
    group by 1, 2, 3`.execute(db);
  await sql`insert into stats_revenue (site_id, bucket, source, currency, orders, revenue)
    select n.site_id, ${BUCKET}, n.source, c.currency, count(*), sum(c.value)
    from conversions c join notifications n on n.id = c.notification_id
    group by 1, 2, 3, 4`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('deliveries_subscription_idx').on('deliveries').column('subscription_id').execute();
  await db.schema.dropIndex('deliveries_subscription_created_idx').execute();
  await sql`drop trigger stats_conversions_insert on conversions`.execute(db);
  await sql`drop trigger stats_interactions_insert on interactions`.execute(db);
  await sql`drop trigger stats_deliveries_update on deliveries`.execute(db);
  await sql`drop trigger stats_deliveries_insert on deliveries`.execute(db);
  await sql`drop trigger subscription_changes_delete on subscriptions`.execute(db);
  await sql`drop trigger subscription_changes_update on subscriptions`.execute(db);
  await sql`drop trigger subscription_changes_insert on subscriptions`.execute(db);
  for (const fn of [
    'stats_conversions_inserted',
    'stats_interactions_inserted',
    'stats_deliveries_updated',
    'stats_deliveries_inserted',
    'subscription_changes_deleted',
    'subscription_changes_updated',
    'subscription_changes_inserted',
  ]) {
    await sql`drop function ${sql.raw(fn)}()`.execute(db);
  }
  await db.schema.dropTable('stats_revenue').execute();
  await db.schema.dropTable('stats_buckets').execute();
  await db.schema.dropTable('subscription_changes').execute();
}
