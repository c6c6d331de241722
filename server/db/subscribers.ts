import { sql, type Selectable } from 'kysely';
import type { CartsTable, Db, DeliveryStatus, SubscriptionStatus, WatchesTable } from './database.ts';
import { shopperKeys } from './products.ts';
import type { SubscriptionRow } from './subscriptions.ts';

/**
 * A shopper as the shop knows them: the visitor ids of their browsers and the shop's own user ids.
 * Everything stored about a shopper carries one or the other (a subscription, an event, a cart)
 * or is reached through their subscriptions (deliveries, clicks, orders attributed to a push).
 */
export interface Shopper {
  visitorIds: string[];
  externalUserIds: string[];
}

/** Linking stops after this many rounds; a person has a few browsers and one account, not a chain. */
const MAX_LINK_ROUNDS = 4;

/**
 * The whole shopper `start` names on a site: the visitor ids and user ids their subscriptions tie
 * together. A subscription carries a user id only when the shop's backend vouched for it
 * (identify), so that link is the shop's own word that two ids are one person; events and carts,
 * which any page can send, never link ids.
 */
export async function resolveShopper(db: Db, siteId: string, start: Shopper): Promise<Shopper> {
  const visitors = new Set(start.visitorIds);
  const users = new Set(start.externalUserIds);
  for (let round = 0; round < MAX_LINK_ROUNDS; round++) {
    const before = visitors.size + users.size;
    const rows = await db
      .selectFrom('subscriptions')
      .select(['visitor_id', 'external_user_id'])
      .where('site_id', '=', siteId)
      .where((eb) => eb.or([eb('visitor_id', '=', eb.fn.any(eb.val([...visitors]))), eb('external_user_id', '=', eb.fn.any(eb.val([...users])))]))
      .execute();
    for (const row of rows) {
      visitors.add(row.visitor_id);
      if (row.external_user_id !== null) users.add(row.external_user_id);
    }
    if (visitors.size + users.size === before) break;
  }
  return { visitorIds: [...visitors].sort(), externalUserIds: [...users].sort() };
}

// ---------------------------------------------------------------------------------------------
// The list.

/** Where a page starts: after this subscription in the list's order (newest first). */
export interface ListPosition {
  /** created_at in microseconds since the epoch: Postgres keeps microseconds, a JS Date only milliseconds. */
  createdAtMicros: string;
  id: string;
}

export interface SubscriberFilters {
  /** A prefix of the visitor id or of the shop's user id. */
  search?: string;
  status?: SubscriptionStatus;
  browser?: string;
  locale?: string;
  /** Tag key and the values it may have (the text as given, and as a number or boolean when it reads as one). */
  tag?: { key: string; values: Array<string | number | boolean> };
}

export type SubscriberListRow = SubscriptionRow & { created_at_micros: string };

/** `%`, `_` and the escape character itself are literal in a LIKE prefix only when escaped. */
function likePrefix(text: string): string {
  return `${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/**
 * One page of a site's subscriptions, newest first, after `after`: a keyset page on
 * (created_at, id), so a subscription made while someone pages through the list never shifts the
 * pages still to come (it sorts before them) and no row is read twice or skipped. Reads `limit + 1`
 * rows to know whether there is a next page.
 */
export async function listSubscribers(
  db: Db,
  siteId: string,
  filters: SubscriberFilters,
  after: ListPosition | undefined,
  limit: number,
  /** `newer` reads the other way: the rows before `after` in the list, nearest first (a "previous page" link). */
  direction: 'older' | 'newer' = 'older',
): Promise<SubscriberListRow[]> {
  const newer = direction === 'newer';
  let query = db
    .selectFrom('subscriptions')
    .selectAll()
    .select(sql<string>`(extract(epoch from created_at) * 1000000)::bigint::text`.as('created_at_micros'))
    .where('site_id', '=', siteId);
  if (after) {
    query = query.where(
      sql<boolean>`(created_at, id) ${newer ? sql`>` : sql`<`} (timestamptz 'epoch' + ${after.createdAtMicros}::bigint * interval '1 microsecond', ${after.id}::uuid)`,
    );
  }
  if (filters.search !== undefined) {
    const prefix = likePrefix(filters.search);
    query = query.where((eb) => eb.or([eb('visitor_id', 'like', prefix), eb('external_user_id', 'like', prefix)]));
  }
  if (filters.status !== undefined) query = query.where('status', '=', filters.status);
  if (filters.browser !== undefined) query = query.where('user_agent_family', '=', filters.browser);
  if (filters.locale !== undefined) {
    // A language matches its regional forms too: `de` lists de, de-DE and de-AT.
    const locale = filters.locale;
    query = query.where((eb) => eb.or([eb('locale', '=', locale), eb('locale', 'like', likePrefix(`${locale}-`))]));
  }
  if (filters.tag !== undefined) {
    const { key, values } = filters.tag;
    query = query.where((eb) => eb.or(values.map((value) => eb(sql`tags`, '@>', sql`${JSON.stringify({ [key]: value })}::jsonb`))));
  }
  const order = newer ? 'asc' : 'desc';
  return query.orderBy('created_at', order).orderBy('id', order).limit(limit + 1).execute();
}

/**
 * How many of a site's subscriptions are active, counting no further than `cap`: a page shown on
 * every visit does bounded work however large the shop (a full count reads every active row).
 */
export async function countActiveSubscribers(db: Db, siteId: string, cap: number): Promise<number> {
  const row = await db
    .selectFrom((eb) => eb.selectFrom('subscriptions').select(sql`1`.as('one')).where('site_id', '=', siteId).where('status', '=', 'active').limit(cap).as('active'))
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function findSubscriber(db: Db, siteId: string, id: string): Promise<SubscriptionRow | undefined> {
  return db.selectFrom('subscriptions').selectAll().where('site_id', '=', siteId).where('id', '=', id).executeTakeFirst();
}

// ---------------------------------------------------------------------------------------------
// What is stored about one shopper.

const byShopper = (shopper: Shopper) => sql<boolean>`(visitor_id = any(${shopper.visitorIds}::text[]) or external_user_id = any(${shopper.externalUserIds}::text[]))`;

export async function shopperSubscriptions(db: Db, siteId: string, shopper: Shopper): Promise<SubscriptionRow[]> {
  return db.selectFrom('subscriptions').selectAll().where('site_id', '=', siteId).where(byShopper(shopper)).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

export interface ShopperEvent {
  id: string;
  type: string;
  source: 'browser' | 'server';
  visitor_id: string | null;
  external_user_id: string | null;
  properties: Record<string, unknown>;
  created_at: Date;
}

/** The shopper's events, newest first; all of them when `limit` is null. */
export async function shopperEvents(db: Db, siteId: string, shopper: Shopper, limit: number | null): Promise<ShopperEvent[]> {
  const rows = await db
    .selectFrom('events')
    .select([sql<string>`id::text`.as('id'), 'type', 'source', 'visitor_id', 'external_user_id', 'properties', 'created_at'])
    .where('site_id', '=', siteId)
    .where(byShopper(shopper))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .$if(limit !== null, (qb) => qb.limit(limit!))
    .execute();
  return rows;
}

export interface ShopperDelivery {
  id: string;
  notification_id: string;
  subscription_id: string;
  trigger: string;
  kind: string;
  title: string;
  body: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/** The deliveries made for the shopper's subscriptions, newest first; all of them when `limit` is null. */
export async function shopperDeliveries(db: Db, siteId: string, shopper: Shopper, limit: number | null): Promise<ShopperDelivery[]> {
  const result = await sql<ShopperDelivery>`
    select d.id::text as id, d.notification_id, d.subscription_id, n.source as trigger, n.kind,
      coalesce(n.content->>'title', '') as title, coalesce(n.content->>'body', '') as body, coalesce(n.content->>'url', '') as url,
      d.status, d.attempts, d.last_status, d.last_error, d.created_at, d.sent_at
    from subscriptions s
    join deliveries d on d.subscription_id = s.id
    join notifications n on n.id = d.notification_id
    where s.site_id = ${siteId} and ${byShopper(shopper)}
    order by d.created_at desc, d.id desc
    ${limit === null ? sql`` : sql`limit ${limit}`}`.execute(db);
  return result.rows;
}

export interface ShopperInteraction {
  delivery_id: string;
  notification_id: string;
  type: 'shown' | 'clicked' | 'dismissed';
  action: string | null;
  created_at: Date;
}

/** What the shopper's service workers reported (only `types`), newest first; all when `limit` is null. */
export async function shopperInteractions(
  db: Db,
  siteId: string,
  shopper: Shopper,
  types: ReadonlyArray<ShopperInteraction['type']>,
  limit: number | null,
): Promise<ShopperInteraction[]> {
  const result = await sql<ShopperInteraction>`
    select i.delivery_id::text as delivery_id, i.notification_id, i.type, i.action, i.created_at
    from subscriptions s
    join deliveries d on d.subscription_id = s.id
    join interactions i on i.delivery_id = d.id
    where s.site_id = ${siteId} and ${byShopper(shopper)} and i.type = any(${types}::text[])
    order by i.created_at desc, i.id desc
    ${limit === null ? sql`` : sql`limit ${limit}`}`.execute(db);
  return result.rows;
}

export interface ShopperOrder {
  order_id: string;
  value: string;
  currency: string;
  created_at: Date;
  /** The notification the order was attributed to, when it was. */
  notification_id: string | null;
}

/**
 * The shopper's orders: every `order_completed` they sent, with the notification it was attributed
 * to, and orders attributed to their clicks whose event is not (or no longer) stored. Newest first;
 * all of them when `limit` is null.
 */
export async function shopperOrders(db: Db, siteId: string, shopper: Shopper, limit: number | null): Promise<ShopperOrder[]> {
  const result = await sql<ShopperOrder>`
    with reported as (
      select e.properties->>'orderId' as order_id, e.properties->>'value' as value, e.properties->>'currency' as currency, e.created_at
      from events e
      where e.site_id = ${siteId} and e.type = 'order_completed' and ${byShopper(shopper)} and e.properties ? 'orderId'
    ), attributed as (
      select c.order_id, c.value::text as value, c.currency, c.created_at, c.notification_id
      from subscriptions s
      join deliveries d on d.subscription_id = s.id
      join conversions c on c.delivery_id = d.id
      where s.site_id = ${siteId} and ${byShopper(shopper)}
    ), latest_report as (
      select distinct on (order_id) * from reported order by order_id, created_at desc
    )
    select coalesce(r.order_id, a.order_id) as order_id, coalesce(r.value, a.value, '0') as value,
      coalesce(r.currency, a.currency, '') as currency, coalesce(r.created_at, a.created_at) as created_at,
      coalesce(a.notification_id, (select c.notification_id from conversions c where c.site_id = ${siteId} and c.order_id = r.order_id)) as notification_id
    from latest_report r full join attributed a on a.order_id = r.order_id
    order by 4 desc, 1
    ${limit === null ? sql`` : sql`limit ${limit}`}`.execute(db);
  return result.rows;
}

export type ShopperCart = Selectable<CartsTable>;
export type ShopperWatch = Selectable<WatchesTable>;

export async function shopperCarts(db: Db, siteId: string, shopper: Shopper): Promise<ShopperCart[]> {
  return db.selectFrom('carts').selectAll().where('site_id', '=', siteId).where(byShopper(shopper)).orderBy('created_at', 'desc').execute();
}

export async function shopperWatches(db: Db, siteId: string, shopper: Shopper): Promise<ShopperWatch[]> {
  return db
    .selectFrom('watches')
    .selectAll()
    .where('site_id', '=', siteId)
    .where('visitor_id', '=', (eb) => eb.fn.any(eb.val(shopper.visitorIds)))
    .orderBy('created_at', 'desc')
    .execute();
}

/** Both ways product_interest and price_alerts name a shopper: `v:<visitor id>` and `u:<user id>`. */
export function shopperKeysOf(shopper: Shopper): string[] {
  return [...shopper.visitorIds.flatMap((visitorId) => shopperKeys({ visitorId })), ...shopper.externalUserIds.flatMap((externalUserId) => shopperKeys({ externalUserId }))];
}

export async function shopperPricesSeen(db: Db, siteId: string, shopper: Shopper) {
  const keys = shopperKeysOf(shopper);
  return db
    .selectFrom('product_interest')
    .select(['product_id', 'price', 'via', 'seen_at'])
    .where('site_id', '=', siteId)
    .where('shopper', '=', (eb) => eb.fn.any(eb.val(keys)))
    .orderBy('seen_at', 'desc')
    .execute();
}

export async function shopperPriceAlerts(db: Db, siteId: string, shopper: Shopper) {
  const keys = shopperKeysOf(shopper);
  return db
    .selectFrom('price_alerts')
    .select(['product_id', 'price', 'notified_at'])
    .where('site_id', '=', siteId)
    .where('shopper', '=', (eb) => eb.fn.any(eb.val(keys)))
    .orderBy('notified_at', 'desc')
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Erase.

export interface ErasedCounts {
  subscriptions: number;
  events: number;
  carts: number;
  watches: number;
  pricesSeen: number;
  priceAlerts: number;
  /** Deliveries kept as anonymous counts: no subscription, endpoint or report token left. */
  deliveriesAnonymised: number;
  /** Of those, deliveries still waiting that will now never go (suppressed). */
  deliveriesCancelled: number;
  /** Attributed orders kept for the revenue figures, with the shop's order id replaced. */
  ordersAnonymised: number;
  /** Notifications whose record named the shopper (their ids in a send's audience, their cart in a reminder's), with that removed. */
  notificationAudiencesScrubbed: number;
}

const count = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint } | undefined) => Number(result?.numUpdatedRows ?? result?.numDeletedRows ?? 0n);

/**
 * Removes a shopper from a site, in the caller's transaction (the caller passes one: erase is all or
 * nothing). Deleted: their subscriptions, events, carts, watches, the prices they saw and were
 * alerted to, a price they alone reported. Kept without them: their deliveries (with what the
 * service worker reported about each) and the orders attributed to them, as anonymous rows that
 * no longer lead to anyone, so the site's figures do not change.
 */
export async function eraseShopper(trx: Db, siteId: string, shopper: Shopper, now: Date, cancelledReason: string): Promise<ErasedCounts> {
  const subscriptionIds = (await trx.selectFrom('subscriptions').select('id').where('site_id', '=', siteId).where(byShopper(shopper)).forUpdate().execute()).map((row) => row.id);
  const keys = shopperKeysOf(shopper);

  // A push still waiting for them will never go: it is suppressed, as for any subscription that
  // ended after the push was queued. A worker holding one mid-send finds its lease gone and its
  // result is not written (recordDeliveryResults only updates rows still 'sending' under its lease).
  const cancelled = await trx
    .updateTable('deliveries')
    .set({ status: 'suppressed', leased_by: null, last_error: cancelledReason, updated_at: now })
    .where('subscription_id', '=', (eb) => eb.fn.any(eb.val(subscriptionIds)))
    .where('status', 'in', ['queued', 'sending'])
    .executeTakeFirst();
  // The shop's order id leads back to the person in the shop's own records; the value, currency
  // and time are what the revenue figures need. A later report of the same order cannot be
  // attributed again: no click of theirs is left to attribute it to.
  const orders = await sql`
    update conversions c set order_id = 'erased:' || gen_random_uuid()
    from deliveries d
    where c.delivery_id = d.id and d.subscription_id = any(${subscriptionIds}::uuid[]) and c.site_id = ${siteId}`.execute(trx);
  const deliveries = await trx
    .updateTable('deliveries')
    .set({ subscription_id: null, endpoint: '', report_token: '', updated_at: now })
    .where('subscription_id', '=', (eb) => eb.fn.any(eb.val(subscriptionIds)))
    .executeTakeFirst();
  // A send to named ids records them in the notification's audience: those ids go, the size stays.
  const audiences = await sql`
    update notifications n set audience = n.audience
      || case when jsonb_typeof(n.audience->'visitorIds') = 'array' then jsonb_build_object('visitorIds', coalesce(
           (select jsonb_agg(v) from jsonb_array_elements(n.audience->'visitorIds') v where not (v #>> '{}' = any(${shopper.visitorIds}::text[]))), '[]'::jsonb)) else '{}'::jsonb end
      || case when jsonb_typeof(n.audience->'externalUserIds') = 'array' then jsonb_build_object('externalUserIds', coalesce(
           (select jsonb_agg(v) from jsonb_array_elements(n.audience->'externalUserIds') v where not (v #>> '{}' = any(${shopper.externalUserIds}::text[]))), '[]'::jsonb)) else '{}'::jsonb end
      || case when jsonb_typeof(n.audience->'subscriptionIds') = 'array' then jsonb_build_object('subscriptionIds', coalesce(
           (select jsonb_agg(v) from jsonb_array_elements(n.audience->'subscriptionIds') v where not (v #>> '{}' = any(${subscriptionIds}::text[]))), '[]'::jsonb)) else '{}'::jsonb end
    where n.site_id = ${siteId}
      and (coalesce(n.audience->'visitorIds' ?| ${shopper.visitorIds}::text[], false)
        or coalesce(n.audience->'externalUserIds' ?| ${shopper.externalUserIds}::text[], false)
        or coalesce(n.audience->'subscriptionIds' ?| ${subscriptionIds}::text[], false))`.execute(trx);

  const events = await trx.deleteFrom('events').where('site_id', '=', siteId).where(byShopper(shopper)).executeTakeFirst();
  // Their pending and past rating requests name them; the orders' own rows (order_updates) do not.
  await trx.deleteFrom('rating_requests').where('site_id', '=', siteId).where(byShopper(shopper)).execute();
  // Their birthday (the once-a-year claims name them too).
  await trx.deleteFrom('shopper_birthdays').where('site_id', '=', siteId).where('external_user_id', '=', (eb) => eb.fn.any(eb.val(shopper.externalUserIds))).execute();
  await trx.deleteFrom('birthday_pushes').where('site_id', '=', siteId).where('external_user_id', '=', (eb) => eb.fn.any(eb.val(shopper.externalUserIds))).execute();
  const cartIds = (await trx.deleteFrom('carts').where('site_id', '=', siteId).where(byShopper(shopper)).returning('cart_id').execute()).map((row) => row.cart_id);
  // A cart reminder records the shop's cart id (its trigger key, and in its audience): the only
  // thing that tied it to the shopper once their deliveries are anonymous.
  const reminders = await sql`
    update notifications set trigger_key = null, audience = audience - 'cartId'
    where site_id = ${siteId} and source = 'cart_reminder' and trigger_key = any(${cartIds}::text[])`.execute(trx);
  const watches = await trx
    .deleteFrom('watches')
    .where('site_id', '=', siteId)
    .where('visitor_id', '=', (eb) => eb.fn.any(eb.val(shopper.visitorIds)))
    .executeTakeFirst();
  const pricesSeen = await trx
    .deleteFrom('product_interest')
    .where('site_id', '=', siteId)
    .where('shopper', '=', (eb) => eb.fn.any(eb.val(keys)))
    .executeTakeFirst();
  const priceAlerts = await trx
    .deleteFrom('price_alerts')
    .where('site_id', '=', siteId)
    .where('shopper', '=', (eb) => eb.fn.any(eb.val(keys)))
    .executeTakeFirst();
  // A price only they reported waits for a second shopper to confirm it; without them it is no one's.
  await trx
    .updateTable('products')
    .set({ pending_price: null, pending_price_shopper: null })
    .where('site_id', '=', siteId)
    .where('pending_price_shopper', '=', (eb) => eb.fn.any(eb.val(keys)))
    .execute();
  const subscriptions = await trx
    .deleteFrom('subscriptions')
    .where('site_id', '=', siteId)
    .where('id', '=', (eb) => eb.fn.any(eb.val(subscriptionIds)))
    .executeTakeFirst();

  return {
    subscriptions: count(subscriptions),
    events: count(events),
    carts: cartIds.length,
    watches: count(watches),
    pricesSeen: count(pricesSeen),
    priceAlerts: count(priceAlerts),
    deliveriesAnonymised: count(deliveries),
    deliveriesCancelled: count(cancelled),
    ordersAnonymised: Number(orders.numAffectedRows ?? 0n),
    notificationAudiencesScrubbed: Number(audiences.numAffectedRows ?? 0n) + Number(reminders.numAffectedRows ?? 0n),
  };
}
