import { sql, type Kysely } from 'kysely';

// Frozen. What a segment's behaviour rules read, kept on the subscription (issue 13: a segment over
// 1,000,000 subscriptions counted in under a second). "Viewed any product in 30 days" over the
// events themselves hashes a month of views (a million rows at that size, 2.4 s); read from a
// column it is one pass over the site's subscriptions, as a tag rule is.
//
// Per subscription, over its shopper's events (recorded under its visitor id or its external user
// id, as the rules match them):
// - last_viewed_at, last_carted_at (a cart_updated holding an item), last_checkout_at,
//   last_ordered_at: the latest event of each kind;
// - orders_count, orders_value: its distinct orders (by order id, the larger value when the page
//   and the shop's backend both reported one), as "ordered at least N times" and "spent at least X"
//   count them.
// (last_clicked_at is kept by the interactions trigger of 2026-11-29T0630.)
//
// Kept by triggers, so every writer (the events route, the shop's backend, an import, demo data)
// keeps them without knowing: a statement trigger on events moves the timestamps forward for the
// subscriptions the new rows name and recounts the orders of those that ordered; a row trigger on
// subscriptions computes all of them afresh when a row is inserted or its shopper keys change (a
// shopper who browsed before subscribing, or is identified later, brings their history along).
// Erasing a shopper's events (GDPR art. 17) erases their subscriptions too.
//
// A shopper's events and a new subscription of theirs may be written at the same moment, each
// transaction blind to the other's uncommitted rows: the events' trigger would find no
// subscription and the subscription's would find no events. Both take the shopper's advisory lock
// (lock_shoppers, per site and key, in one order) before they read, so the second waits for the
// first to commit and then sees its rows. upsertSubscriptions takes it before its INSERT.

/** The events the activity is made of (an SQL list, written into the functions' bodies). */
const ACTIVITY_TYPES = sql.raw("('product_viewed', 'cart_updated', 'checkout_started', 'order_completed')");

/**
 * The shopper's distinct orders: a value that is not a JSON number counts the order, not its value.
 * PL/pgSQL, so its plan is made once per connection, not at every call (a SQL function that is not
 * inlined is planned again each time: a new subscription cost five times the Postgres CPU).
 * VOLATILE (PL/pgSQL's default) matters too: each statement in it reads with a snapshot of its
 * own, taken when it runs. Two statements storing orders of one shopper at once both recount; the
 * second waits for the first's row lock, and when it then recounts it must see the first's orders,
 * committed after the second statement began (a STABLE function would read as of that start).
 */
const SHOPPER_ORDERS = sql`
  create function shopper_orders(p_site uuid, p_visitor text, p_user text, out orders_count integer, out orders_value numeric)
  language plpgsql as $$
    begin
      select count(*)::integer, coalesce(sum(o.value), 0) into orders_count, orders_value
      from (
        select max(case when jsonb_typeof(e.properties->'value') = 'number' then (e.properties->>'value')::numeric end) as value
        from events e
        where e.site_id = p_site and e.type = 'order_completed' and (e.visitor_id = p_visitor or e.external_user_id = p_user)
        group by e.properties->>'orderId'
      ) o;
    end $$`;

/** Everything the triggers keep, read from the shopper's events (a new subscription, or new keys). */
const SHOPPER_ACTIVITY = sql`
  create function shopper_activity(p_site uuid, p_visitor text, p_user text,
    out viewed_at timestamptz, out carted_at timestamptz, out checkout_at timestamptz, out ordered_at timestamptz,
    out orders_count integer, out orders_value numeric)
  language plpgsql as $$
    begin
      select
        max(e.created_at) filter (where e.type = 'product_viewed'),
        max(e.created_at) filter (where e.type = 'cart_updated' and jsonb_path_exists(e.properties, '$.items[*] ? (@.quantity > 0)')),
        max(e.created_at) filter (where e.type = 'checkout_started'),
        max(e.created_at) filter (where e.type = 'order_completed')
        into viewed_at, carted_at, checkout_at, ordered_at
      from events e
      where e.site_id = p_site and e.type in ${ACTIVITY_TYPES}
        and (e.visitor_id = p_visitor or e.external_user_id = p_user);
      orders_count := 0;
      orders_value := 0;
      if ordered_at is not null then
        select o.orders_count, o.orders_value into orders_count, orders_value from shopper_orders(p_site, p_visitor, p_user) o;
      end if;
    end $$`;

/**
 * Transaction-scoped advisory locks on shoppers (site, 'v' or 'u', key): each site's lock shared,
 * then each shopper's exclusive, every kind in ascending order so two takers never deadlock. A
 * statement naming more than 400 shoppers (more than a group of 200 events by two ids each: an
 * import) takes its sites' locks exclusive instead: Postgres keeps every lock in one shared table
 * of max_locks_per_transaction × max_connections entries (6,400 by default), and a transaction
 * holds its locks to its end. The app stores a transaction's events in one statement (an event
 * group, a server event), so it never holds more than 400 shopper locks, nor asks for a site's
 * lock exclusive after holding it shared; demo data writes several chunks in one transaction, on
 * a site no shopper has seen yet.
 */
const LOCK_SHOPPERS = sql`
  create function lock_shoppers(p_sites uuid[], p_kinds text[], p_keys text[]) returns void language plpgsql as $$
    declare
      k bigint;
      shoppers integer;
    begin
      select count(*) into shoppers from (
        select distinct x.site, x.kind, x.key from unnest(p_sites, p_kinds, p_keys) as x(site, kind, key) where x.key is not null) d;
      for k in select distinct hashtextextended(x.site::text, 0) from unnest(p_sites) as x(site) order by 1 loop
        if shoppers > 400 then
          perform pg_advisory_xact_lock(k);
        else
          perform pg_advisory_xact_lock_shared(k);
        end if;
      end loop;
      if shoppers > 400 then
        return;
      end if;
      for k in
        select distinct hashtextextended(x.site::text || ':' || x.kind || ':' || x.key, 0)
        from unnest(p_sites, p_kinds, p_keys) as x(site, kind, key)
        where x.key is not null
        order by 1
      loop
        perform pg_advisory_xact_lock(k);
      end loop;
    end $$`;

/** One shopper key's latest events of each kind in `table` (events, or a trigger's new rows), grouped by (site, key). */
const latestByKey = (table: string, key: 'visitor_id' | 'external_user_id') => sql`
  select site_id, ${sql.ref(key)} as key,
    max(created_at) filter (where type = 'product_viewed') as viewed_at,
    max(created_at) filter (where type = 'cart_updated' and jsonb_path_exists(properties, '$.items[*] ? (@.quantity > 0)')) as carted_at,
    max(created_at) filter (where type = 'checkout_started') as checkout_at,
    max(created_at) filter (where type = 'order_completed') as ordered_at
  from ${sql.table(table)}
  where ${sql.ref(key)} is not null and type in ${ACTIVITY_TYPES}
  group by site_id, ${sql.ref(key)}`;

/** Each subscription's orders under either key, as shopper_orders counts them. */
const ordersByKey = (key: 'visitor_id' | 'external_user_id') => sql`
  select s.id, e.properties->>'orderId' as order_id,
    case when jsonb_typeof(e.properties->'value') = 'number' then (e.properties->>'value')::numeric end as value
  from events e join subscriptions s on s.site_id = e.site_id and ${sql.ref(`s.${key}`)} = ${sql.ref(`e.${key}`)}
  where e.type = 'order_completed'`;

/**
 * The activity of every subscription with any such event, from the events already stored: the
 * same values the triggers keep, computed for all rows in one pass of hash joins (4 s for 100,000
 * subscriptions with 350,000 events, 111 s for 1,000,000 with 3.5 million, most of it rewriting
 * the rows; a look-up per row had not finished 100,000 in half a minute).
 * Exported for bench/segments.ts, which loads its rows with the triggers off.
 */
export const FILL_SHOPPER_ACTIVITY = sql`
  update subscriptions s set
    last_viewed_at = greatest(v.viewed_at, u.viewed_at),
    last_carted_at = greatest(v.carted_at, u.carted_at),
    last_checkout_at = greatest(v.checkout_at, u.checkout_at),
    last_ordered_at = greatest(v.ordered_at, u.ordered_at),
    orders_count = coalesce(o.orders_count, 0),
    orders_value = coalesce(o.orders_value, 0)
  from subscriptions t
    left join (${latestByKey('events', 'visitor_id')}) v on v.site_id = t.site_id and v.key = t.visitor_id
    left join (${latestByKey('events', 'external_user_id')}) u on u.site_id = t.site_id and u.key = t.external_user_id
    left join (
      select y.id, count(*)::integer as orders_count, coalesce(sum(y.value), 0) as orders_value
      from (
        select x.id, max(x.value) as value
        from (${ordersByKey('visitor_id')} union all ${ordersByKey('external_user_id')}) x
        group by x.id, x.order_id
      ) y
      group by y.id
    ) o on o.id = t.id
  where s.id = t.id and (v.key is not null or u.key is not null)`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table subscriptions
    add column last_viewed_at timestamptz,
    add column last_carted_at timestamptz,
    add column last_checkout_at timestamptz,
    add column last_ordered_at timestamptz,
    add column orders_count integer not null default 0,
    add column orders_value numeric not null default 0`.execute(db);
  await SHOPPER_ORDERS.execute(db);
  await SHOPPER_ACTIVITY.execute(db);
  await LOCK_SHOPPERS.execute(db);

  // New events: each named subscription's timestamps move forward (greatest() skips NULLs), and a
  // subscription whose shopper ordered has its orders recounted (an order id may repeat). Rows are
  // updated in id order, so two statements naming the same subscriptions lock them in one order.
  // Most events name no subscriber (shoppers who never opted in): two index probes, no write.
  await sql`create function subscriptions_events_activity() returns trigger language plpgsql as $$
    begin
      perform lock_shoppers(array_agg(k.site_id), array_agg(k.kind), array_agg(k.key))
      from (
        select site_id, 'v' as kind, visitor_id as key from new_rows where type in ${ACTIVITY_TYPES}
        union all
        select site_id, 'u', external_user_id from new_rows where type in ${ACTIVITY_TYPES}
      ) k;
      -- The named subscriptions' rows in id order before the update takes them (an UPDATE … FROM
      -- takes rows in the order its join yields them): one subscription may be named by two keys
      -- under two different shopper locks, so two statements could otherwise take two rows in
      -- opposite orders.
      perform 1 from subscriptions s
      where s.id in (
        select s2.id from new_rows e join subscriptions s2 on s2.site_id = e.site_id and s2.visitor_id = e.visitor_id
        where e.type in ${ACTIVITY_TYPES}
        union
        select s2.id from new_rows e join subscriptions s2 on s2.site_id = e.site_id and s2.external_user_id = e.external_user_id
        where e.type in ${ACTIVITY_TYPES})
      order by s.id
      for update;
      update subscriptions s set
        last_viewed_at = greatest(s.last_viewed_at, t.viewed_at),
        last_carted_at = greatest(s.last_carted_at, t.carted_at),
        last_checkout_at = greatest(s.last_checkout_at, t.checkout_at),
        last_ordered_at = greatest(s.last_ordered_at, t.ordered_at),
        orders_count = case when t.ordered_at is null then s.orders_count else (shopper_orders(s.site_id, s.visitor_id, s.external_user_id)).orders_count end,
        orders_value = case when t.ordered_at is null then s.orders_value else (shopper_orders(s.site_id, s.visitor_id, s.external_user_id)).orders_value end
      from (
        select h.id, max(h.viewed_at) as viewed_at, max(h.carted_at) as carted_at, max(h.checkout_at) as checkout_at, max(h.ordered_at) as ordered_at
        from (
          select s2.id, a.viewed_at, a.carted_at, a.checkout_at, a.ordered_at
          from (${latestByKey('new_rows', 'visitor_id')}) a
          join subscriptions s2 on s2.site_id = a.site_id and s2.visitor_id = a.key
          union all
          select s2.id, a.viewed_at, a.carted_at, a.checkout_at, a.ordered_at
          from (${latestByKey('new_rows', 'external_user_id')}) a
          join subscriptions s2 on s2.site_id = a.site_id and s2.external_user_id = a.key
        ) h
        group by h.id
      ) t
      where s.id = t.id
        and (t.viewed_at > coalesce(s.last_viewed_at, '-infinity') or t.carted_at > coalesce(s.last_carted_at, '-infinity')
          or t.checkout_at > coalesce(s.last_checkout_at, '-infinity') or t.ordered_at is not null);
      return null;
    end $$`.execute(db);
  await sql`create trigger subscriptions_events_activity after insert on events
    referencing new table as new_rows for each statement execute function subscriptions_events_activity()`.execute(db);

  // A new row, or one whose shopper keys changed (an upsert that identifies the shopper, a browser
  // that now reports another visitor id): the shopper's whole history, read afresh. Postgres runs
  // BEFORE INSERT triggers on every row an INSERT … ON CONFLICT proposes, before it finds the
  // conflict, and the snippet posts its subscription again on every page load: an endpoint already
  // stored goes on to the update (whose trigger compares the keys), so it reads nothing here. An
  // upsert whose keys stay as they were reads nothing either.
  await sql`create function subscriptions_keys_activity() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' and exists (select 1 from subscriptions s where s.endpoint = new.endpoint) then
        return new;
      end if;
      if tg_op = 'UPDATE' and new.visitor_id is not distinct from old.visitor_id and new.external_user_id is not distinct from old.external_user_id then
        return new;
      end if;
      select a.viewed_at, a.carted_at, a.checkout_at, a.ordered_at, a.orders_count, a.orders_value
        into new.last_viewed_at, new.last_carted_at, new.last_checkout_at, new.last_ordered_at, new.orders_count, new.orders_value
        from shopper_activity(new.site_id, new.visitor_id, new.external_user_id) a;
      return new;
    end $$`.execute(db);
  await sql`create trigger subscriptions_keys_activity before insert or update of visitor_id, external_user_id on subscriptions
    for each row execute function subscriptions_keys_activity()`.execute(db);

  await FILL_SHOPPER_ACTIVITY.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger subscriptions_keys_activity on subscriptions`.execute(db);
  await sql`drop function subscriptions_keys_activity()`.execute(db);
  await sql`drop trigger subscriptions_events_activity on events`.execute(db);
  await sql`drop function subscriptions_events_activity()`.execute(db);
  await sql`drop function lock_shoppers(uuid[], text[], text[])`.execute(db);
  await sql`drop function shopper_activity(uuid, text, text)`.execute(db);
  await sql`drop function shopper_orders(uuid, text, text)`.execute(db);
  await sql`alter table subscriptions
    drop column last_viewed_at, drop column last_carted_at, drop column last_checkout_at, drop column last_ordered_at,
    drop column orders_count, drop column orders_value`.execute(db);
}
