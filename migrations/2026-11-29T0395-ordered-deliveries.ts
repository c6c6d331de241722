import { sql, type Kysely } from 'kysely';

// Frozen: what the holdout lift reads instead of looking up, at every view of the overview, the
// deliveries each order of the range followed (one index look-up per order: 20,000 orders over 90
// days took ~150 ms, bench/RESULTS.md). One row per delivery its shopper ordered after, within the
// longest attribution window a site can set (720 hours, 30 days), with when it was made and when
// the first order after it came: the read then counts the rows of the range whose first order came
// within the site's current window, whatever that window is.
//
// Kept by a statement-level trigger on events (an `order_completed` links to the shopper's
// subscriptions by visitor id or the shop's user id, then to their deliveries of the 720 hours
// before it), so every writer is counted without knowing about it. Counted when the order is
// stored, as it happens: a delivery stored after an order that came later than it (an import of
// past rows) is not counted, and erasing a shopper (GDPR art. 17) leaves the counts as they are —
// the row holds the delivery's id, which the erasure leaves leading to no one.

/** The deliveries each order of `orders` followed, as rows of ordered_deliveries. */
const ORDERED = (orders: string) => sql`
  select distinct on (d.id) d.id, n.site_id, n.source, d.status = 'held_out', n.created_at, d.created_at, o.created_at
  from (
    select s.id as subscription_id, e.created_at from ${sql.raw(orders)} e
      join subscriptions s on s.site_id = e.site_id and s.visitor_id = e.visitor_id
    where e.type = 'order_completed'
    union
    select s.id, e.created_at from ${sql.raw(orders)} e
      join subscriptions s on s.site_id = e.site_id and s.external_user_id = e.external_user_id
    where e.type = 'order_completed'
  ) o
  join deliveries d on d.subscription_id = o.subscription_id
    and d.created_at < o.created_at and d.created_at >= o.created_at - interval '720 hours'
  join notifications n on n.id = d.notification_id
  order by d.id, o.created_at`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ordered_deliveries')
    .addColumn('delivery_id', 'bigint', (col) => col.primaryKey())
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('held_out', 'boolean', (col) => col.notNull())
    // The notification's creation: the day a delivery counts on, as in stats_buckets.
    .addColumn('notification_at', 'timestamptz', (col) => col.notNull())
    .addColumn('delivered_at', 'timestamptz', (col) => col.notNull())
    .addColumn('ordered_at', 'timestamptz', (col) => col.notNull())
    .execute();
  // The read is a range of one site's rows: answered from the index alone.
  await sql`create index ordered_deliveries_site_at_idx on ordered_deliveries (site_id, notification_at)
    include (source, held_out, delivered_at, ordered_at)`.execute(db);

  // Most events are no order (page views, carts): for those the check is all the trigger does.
  await sql`create function ordered_deliveries_inserted() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from new_rows where type = 'order_completed') then
        insert into ordered_deliveries (delivery_id, site_id, source, held_out, notification_at, delivered_at, ordered_at)
        ${ORDERED('new_rows')}
        on conflict (delivery_id) do update set ordered_at = least(ordered_deliveries.ordered_at, excluded.ordered_at);
      end if;
      return null;
    end $$`.execute(db);
  await sql`create trigger ordered_deliveries_insert after insert on events
    referencing new table as new_rows for each statement execute function ordered_deliveries_inserted()`.execute(db);

  // The past, counted once from the rows themselves.
  await sql`insert into ordered_deliveries (delivery_id, site_id, source, held_out, notification_at, delivered_at, ordered_at)
    ${ORDERED('events')}`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger ordered_deliveries_insert on events`.execute(db);
  await sql`drop function ordered_deliveries_inserted()`.execute(db);
  await db.schema.dropTable('ordered_deliveries').execute();
}
