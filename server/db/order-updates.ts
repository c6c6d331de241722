import { sql } from 'kysely';
import type { Db, RatingRequestsTable } from './database.ts';
import type { Selectable } from 'kysely';

export type RatingRequestRow = Selectable<RatingRequestsTable>;

/**
 * Claims one order update (site, order, type): true the first time, false for a repeat — the
 * primary key decides, so two requests racing with the same update claim it once. Call in the
 * transaction that queues its push; `setOrderUpdateNotification` then names the push.
 */
export async function claimOrderUpdate(db: Db, update: { siteId: string; orderId: string; type: string }, now: Date): Promise<boolean> {
  const row = await db
    .insertInto('order_updates')
    .values({ site_id: update.siteId, order_id: update.orderId, type: update.type, notification_id: null, created_at: now })
    .onConflict((oc) => oc.columns(['site_id', 'order_id', 'type']).doNothing())
    .returning('order_id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function setOrderUpdateNotification(db: Db, update: { siteId: string; orderId: string; type: string }, notificationId: string): Promise<void> {
  await db
    .updateTable('order_updates')
    .set({ notification_id: notificationId })
    .where('site_id', '=', update.siteId)
    .where('order_id', '=', update.orderId)
    .where('type', '=', update.type)
    .execute();
}

/**
 * A delivered order waits for its rating request. At most one row per order: a second
 * `order_delivered` changes nothing, and an order cancelled before (a row `cancelled`) stays so.
 */
export async function scheduleRatingRequest(
  db: Db,
  request: { siteId: string; orderId: string; visitorId: string | null; externalUserId: string | null; deliveredAt: Date; dueAt: Date },
): Promise<boolean> {
  const row = await db
    .insertInto('rating_requests')
    .values({
      site_id: request.siteId,
      order_id: request.orderId,
      visitor_id: request.visitorId,
      external_user_id: request.externalUserId,
      delivered_at: request.deliveredAt,
      due_at: request.dueAt,
      state: 'scheduled',
      notification_id: null,
      updated_at: request.deliveredAt,
    })
    .onConflict((oc) => oc.columns(['site_id', 'order_id']).doNothing())
    .returning('order_id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * No rating request for this order, now or later: one waiting is cancelled, and an order not yet
 * delivered gets a `cancelled` row so a later `order_delivered` schedules nothing. One already
 * fired keeps its state (`sent`: its push was queued, and it may have gone); its notification id
 * is returned, for the caller to withdraw what of that push is still waiting in the queue
 * (triggers/order-updates.ts). Null when no push of this order's request was queued.
 */
export async function cancelRatingRequest(
  db: Db,
  request: { siteId: string; orderId: string; visitorId: string | null; externalUserId: string | null },
  now: Date,
): Promise<string | null> {
  await sql`
    insert into rating_requests (site_id, order_id, visitor_id, external_user_id, delivered_at, due_at, state, notification_id, updated_at)
    values (${request.siteId}, ${request.orderId}, ${request.visitorId}, ${request.externalUserId}, null, null, 'cancelled', null, ${now})
    on conflict (site_id, order_id) do update set state = 'cancelled', due_at = null, updated_at = excluded.updated_at
    where rating_requests.state = 'scheduled'`.execute(db);
  // A request being fired right now holds its row: the insert above waited for it, so its push
  // (state `sent`, with the notification and its deliveries) is committed and read here.
  const fired = await db
    .selectFrom('rating_requests')
    .select('notification_id')
    .where('site_id', '=', request.siteId)
    .where('order_id', '=', request.orderId)
    .where('state', '=', 'sent')
    .executeTakeFirst();
  return fired?.notification_id ?? null;
}

/** Rating requests due at `now`, locked (SKIP LOCKED: another worker takes the others), oldest first. */
export async function lockDueRatingRequests(db: Db, now: Date, limit: number): Promise<RatingRequestRow[]> {
  return db
    .selectFrom('rating_requests')
    .selectAll()
    .where('due_at', 'is not', null)
    .where('due_at', '<=', now)
    .orderBy('due_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Moves a locked request on: fired (`sent`, with its push), `skipped`, or due again later. */
export async function advanceRatingRequest(
  db: Db,
  key: { siteId: string; orderId: string },
  next: { state: 'sent' | 'skipped'; notificationId?: string | null } | { state: 'scheduled'; dueAt: Date },
  now: Date,
): Promise<void> {
  await db
    .updateTable('rating_requests')
    .set(
      next.state === 'scheduled'
        ? { due_at: next.dueAt, updated_at: now }
        : { state: next.state, due_at: null, notification_id: next.state === 'sent' ? (next.notificationId ?? null) : null, updated_at: now },
    )
    .where('site_id', '=', key.siteId)
    .where('order_id', '=', key.orderId)
    .execute();
}

/**
 * The answers to rating requests pushed from `from` on: clicks on each button, by its action id
 * (`good`, `bad`), as the service worker reported them (POST /v1/interactions).
 */
export async function ratingAnswers(db: Db, siteId: string, from: Date, to?: Date): Promise<Record<string, number>> {
  let query = db
    .selectFrom('interactions as i')
    .innerJoin('notifications as n', 'n.id', 'i.notification_id')
    .select(['i.action', (eb) => eb.fn.countAll<string>().as('count')])
    .where('n.site_id', '=', siteId)
    .where('n.source', '=', 'rating_request')
    .where('n.created_at', '>=', from)
    .where('i.type', '=', 'clicked')
    .where('i.action', '<>', '')
    .groupBy('i.action');
  if (to) query = query.where('n.created_at', '<', to);
  const rows = await query.execute();
  return Object.fromEntries(rows.map((row) => [row.action ?? '', Number(row.count)]));
}
