import { sql } from 'kysely';
import type { CartItem, CartsTable, Db } from './database.ts';
import type { Selectable } from 'kysely';

export type CartRow = Selectable<CartsTable>;

export interface CartUpdate {
  siteId: string;
  cartId: string;
  visitorId: string | null;
  externalUserId: string | null;
  items: CartItem[];
  total: number;
  currency: string;
  url: string;
}

/**
 * Stores the cart as the shopper left it. Reminder delays restart from this activity; the steps
 * already sent stay sent (one reminder flow per cart). A cart that was ordered stays ordered, and
 * one that was emptied gets no reminder until items come back.
 *
 * `delaysMinutes`: the site's reminder steps now, to schedule the next one.
 */
export async function upsertCart(
  db: Db,
  cart: CartUpdate,
  now: Date,
  delaysMinutes: number[] | null,
  options: { ownCartOnly?: boolean } = {},
): Promise<void> {
  const itemCount = cart.items.reduce((sum, item) => sum + item.quantity, 0);
  const status = itemCount > 0 ? 'open' : 'empty';
  const delays = sql`${JSON.stringify(delaysMinutes ?? [])}::jsonb`;
  await sql`
    insert into carts as c (site_id, cart_id, visitor_id, external_user_id, items, item_count, total, currency, url, status, created_at, active_at, next_reminder_at)
    values (${cart.siteId}, ${cart.cartId}, ${cart.visitorId}, ${cart.externalUserId}, ${JSON.stringify(cart.items)}::jsonb, ${itemCount},
      ${cart.total}, ${cart.currency}, ${cart.url}, ${status}, ${now}, ${now},
      case when ${status} = 'open' and jsonb_array_length(${delays}) > 0
        then ${now}::timestamptz + ((${delays}->>0)::int * interval '1 minute') end)
    on conflict (site_id, cart_id) do update set
      visitor_id = coalesce(excluded.visitor_id, c.visitor_id),
      external_user_id = coalesce(excluded.external_user_id, c.external_user_id),
      items = excluded.items, item_count = excluded.item_count, total = excluded.total,
      currency = excluded.currency, url = excluded.url,
      status = case when c.status = 'ordered' then 'ordered' else excluded.status end,
      active_at = excluded.active_at,
      next_reminder_at = case
        when c.status = 'ordered' or excluded.status <> 'open' then null
        else excluded.active_at + ((${delays}->>c.reminders_sent)::int * interval '1 minute') end
    ${
      // A browser (anyone with the publishable key) may change only a cart that is its own or has no visitor yet.
      options.ownCartOnly ? sql`where c.visitor_id is null or c.visitor_id = excluded.visitor_id` : sql``
    }`.execute(db);
}

/**
 * order_completed: the cart named, or else every open cart of the shopper, is done. With
 * `ownCartsOnly` a named cart is closed only if it is the shopper's.
 */
export async function markCartsOrdered(
  db: Db,
  siteId: string,
  shopper: { cartId?: string; visitorId?: string | null; externalUserId?: string | null; ownCartsOnly?: boolean },
): Promise<number> {
  const { visitorId, externalUserId } = shopper;
  if (!visitorId && !externalUserId && (shopper.cartId === undefined || shopper.ownCartsOnly)) return 0;
  let query = db.updateTable('carts').set({ status: 'ordered', next_reminder_at: null }).where('site_id', '=', siteId);
  if (shopper.cartId !== undefined) query = query.where('cart_id', '=', shopper.cartId);
  else query = query.where('status', '=', 'open');
  if (shopper.cartId === undefined || shopper.ownCartsOnly) {
    query = query.where((eb) =>
      eb.or([
        ...(visitorId ? [eb('visitor_id', '=', visitorId)] : []),
        ...(externalUserId
          ? [
              eb('external_user_id', '=', externalUserId),
              // Carts from the snippet know only the visitor: an order reported by user id closes the
              // carts of the browsers that user identified in.
              eb(
                'visitor_id',
                'in',
                eb.selectFrom('subscriptions').select('visitor_id').where('site_id', '=', siteId).where('external_user_id', '=', externalUserId),
              ),
            ]
          : []),
      ]),
    );
  }
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Locks up to `limit` open carts whose next reminder is due. SKIP LOCKED: several workers scan side
 * by side, each cart is taken by one. Call inside the transaction that fires the step.
 */
export async function lockDueCarts(db: Db, now: Date, limit: number): Promise<CartRow[]> {
  return db
    .selectFrom('carts')
    .selectAll()
    .where('status', '=', 'open')
    .where('next_reminder_at', 'is not', null)
    .where('next_reminder_at', '<=', now)
    .orderBy('next_reminder_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Records that `step` fired (or was skipped) and when the next one is due (null: none). */
export async function advanceCartReminder(db: Db, siteId: string, cartId: string, step: number, nextAt: Date | null): Promise<void> {
  await db.updateTable('carts').set({ reminders_sent: step, next_reminder_at: nextAt }).where('site_id', '=', siteId).where('cart_id', '=', cartId).execute();
}

/** Whether a cart is still worth reminding of, read at send time. */
export async function openCartKeys(db: Db, keys: Array<{ siteId: string; cartId: string }>): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await sql<{ key: string }>`
    select c.site_id || ':' || c.cart_id as key from carts c
    join unnest(${keys.map((k) => k.siteId)}::uuid[], ${keys.map((k) => k.cartId)}::text[]) as k(site_id, cart_id)
      on c.site_id = k.site_id and c.cart_id = k.cart_id
    where c.status = 'open' and c.item_count > 0`.execute(db);
  return new Set(rows.rows.map((r) => r.key));
}
