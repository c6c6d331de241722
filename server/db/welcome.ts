import { sql, type Selectable } from 'kysely';
import type { Db, WelcomePushesTable } from './database.ts';

export type WelcomePushRow = Selectable<WelcomePushesTable> & {
  visitor_id: string;
  external_user_id: string | null;
  created_at: Date;
  status: string;
};

/**
 * Welcomes due at `now` with their subscription, locked (SKIP LOCKED: another worker takes the
 * others), oldest first. Rows are written by the subscriptions_welcome trigger when a subscription
 * is inserted on a site whose welcome is on.
 */
export async function lockDueWelcomes(db: Db, now: Date, limit: number): Promise<WelcomePushRow[]> {
  return db
    .selectFrom('welcome_pushes as w')
    .innerJoin('subscriptions as s', 's.id', 'w.subscription_id')
    .selectAll('w')
    .select(['s.visitor_id', 's.external_user_id', 's.created_at', 's.status'])
    .where('w.due_at', 'is not', null)
    .where('w.due_at', '<=', now)
    .orderBy('w.due_at')
    .limit(limit)
    .forUpdate('w')
    .skipLocked()
    .execute();
}

/** Moves a locked welcome on: fired (`sent`, with its push and code), `skipped`, or due again later. */
export async function advanceWelcome(
  db: Db,
  subscriptionId: string,
  next: { state: 'sent'; notificationId: string | null; code: string | null } | { state: 'skipped' } | { state: 'scheduled'; dueAt: Date },
  now: Date,
): Promise<void> {
  await db
    .updateTable('welcome_pushes')
    .set(
      next.state === 'scheduled'
        ? { due_at: next.dueAt, updated_at: now }
        : next.state === 'sent'
          ? { state: 'sent', due_at: null, notification_id: next.notificationId, code: next.code, updated_at: now }
          : { state: 'skipped', due_at: null, updated_at: now },
    )
    .where('subscription_id', '=', subscriptionId)
    .execute();
}

/**
 * Whether this shopper has subscribed on the site before this subscription (another row of the
 * same visitor or shop user, created earlier): a browser that re-subscribed is no new subscriber.
 */
export async function subscribedBefore(db: Db, siteId: string, row: { subscription_id: string; visitor_id: string; external_user_id: string | null; created_at: Date }): Promise<boolean> {
  const found = await sql<{ one: number }>`
    select 1 as one from subscriptions s
    where s.site_id = ${siteId} and s.id <> ${row.subscription_id} and s.created_at <= ${row.created_at}
      and (s.visitor_id = ${row.visitor_id} ${row.external_user_id === null ? sql`` : sql`or s.external_user_id = ${row.external_user_id}`})
    limit 1`.execute(db);
  return found.rows.length > 0;
}

/** Whether the shop has recorded an order (`order_completed`) by this visitor or shop user, ever or since `since`. */
export async function hasOrdered(db: Db, siteId: string, shopper: { visitorId: string | null; externalUserId: string | null }, since?: Date): Promise<boolean> {
  const after = since ? sql`and e.created_at > ${since}` : sql``;
  const byVisitor =
    shopper.visitorId === null ? sql`false` : sql`exists (select 1 from events e where e.site_id = ${siteId} and e.visitor_id = ${shopper.visitorId} and e.type = 'order_completed' ${after})`;
  const byUser =
    shopper.externalUserId === null
      ? sql`false`
      : sql`exists (select 1 from events e where e.site_id = ${siteId} and e.type = 'order_completed' and e.external_user_id = ${shopper.externalUserId} ${after})`;
  const result = await sql<{ ordered: boolean }>`select (${byVisitor} or ${byUser}) as ordered`.execute(db);
  return result.rows[0]?.ordered === true;
}

/**
 * Gives one unclaimed uploaded code to a subscription: the oldest upload first, the row taken with
 * SKIP LOCKED so two workers never claim the same code (nor wait on each other). Null when none is left.
 */
export async function claimWelcomeCode(db: Db, siteId: string, subscriptionId: string, now: Date): Promise<string | null> {
  const result = await sql<{ code: string }>`
    update welcome_codes c set claimed_at = ${now}, subscription_id = ${subscriptionId}
    where (c.site_id, c.code) = (
      select u.site_id, u.code from welcome_codes u
      where u.site_id = ${siteId} and u.claimed_at is null
      order by u.created_at, u.code limit 1
      for update skip locked)
    returning c.code`.execute(db);
  return result.rows[0]?.code ?? null;
}

/** Puts a claimed code back (its welcome was held out: the code was never shown to anyone). */
export async function releaseWelcomeCode(db: Db, siteId: string, code: string): Promise<void> {
  await db.updateTable('welcome_codes').set({ claimed_at: null, subscription_id: null }).where('site_id', '=', siteId).where('code', '=', code).execute();
}

/** Adds uploaded codes; a code already uploaded (claimed or not) is left as it is. Returns how many were new. */
export async function addWelcomeCodes(db: Db, siteId: string, codes: readonly string[], now: Date): Promise<number> {
  if (codes.length === 0) return 0;
  const unique = [...new Set(codes)].sort();
  const result = await db
    .insertInto('welcome_codes')
    .values(unique.map((code) => ({ site_id: siteId, code, created_at: now })))
    .onConflict((oc) => oc.columns(['site_id', 'code']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** Uploaded codes not yet given, and given. */
export async function welcomeCodeCounts(db: Db, siteId: string): Promise<{ left: number; given: number }> {
  const row = await db
    .selectFrom('welcome_codes')
    .select([
      sql<string>`count(*) filter (where claimed_at is null)`.as('left'),
      sql<string>`count(*) filter (where claimed_at is not null)`.as('given'),
    ])
    .where('site_id', '=', siteId)
    .executeTakeFirstOrThrow();
  return { left: Number(row.left), given: Number(row.given) };
}

/** The welcome a subscription got, for its dashboard page: state, code and when. */
export async function welcomeOf(db: Db, subscriptionId: string): Promise<{ state: string; code: string | null; updatedAt: Date } | undefined> {
  const row = await db.selectFrom('welcome_pushes').select(['state', 'code', 'updated_at']).where('subscription_id', '=', subscriptionId).executeTakeFirst();
  return row ? { state: row.state, code: row.code, updatedAt: row.updated_at } : undefined;
}

/** Of these subscriptions, those whose shopper (visitor id or shop user id) has an `order_completed` on their site. */
export async function subscriptionsThatOrdered(db: Db, subscriptionIds: readonly string[]): Promise<Set<string>> {
  if (subscriptionIds.length === 0) return new Set();
  const rows = await sql<{ id: string }>`
    select s.id from subscriptions s
    where s.id = any(${[...subscriptionIds]}::uuid[])
      and (exists (select 1 from events e where e.site_id = s.site_id and e.visitor_id = s.visitor_id and e.type = 'order_completed')
        or (s.external_user_id is not null and exists (
          select 1 from events e where e.site_id = s.site_id and e.type = 'order_completed' and e.external_user_id = s.external_user_id)))`.execute(db);
  return new Set(rows.rows.map((row) => row.id));
}
