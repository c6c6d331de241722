import { sql } from 'kysely';
import type { Db } from './database.ts';
import type { SiteRow } from './sites.ts';
import { DAY_MS } from '../time.ts';

/** Sites whose reactivation is on (the setting read in SQL to skip the rest; the caller reads it again). */
export async function sitesWithReactivation(db: Db): Promise<SiteRow[]> {
  return db.selectFrom('sites').selectAll().where(sql<boolean>`settings #>> '{reactivation,enabled}' = 'true'`).orderBy('id').execute();
}

/**
 * Active subscriptions of the site quiet for `afterDays` — no visit (a page load re-posts the
 * subscription: `last_seen_at`), no click on any push (`last_clicked_at`), no order by their
 * visitor or shop user id (`order_completed`), and subscribed at least as long — that this
 * automation has not pushed to within `quietForDays`. Locked with SKIP LOCKED, so workers
 * scanning at once take different subscribers.
 */
export async function lockQuietSubscriptions(
  db: Db,
  siteId: string,
  rule: { now: Date; afterDays: number; quietForDays: number },
  limit: number,
): Promise<string[]> {
  const cutoff = new Date(rule.now.getTime() - rule.afterDays * DAY_MS);
  const lastPush = new Date(rule.now.getTime() - rule.quietForDays * DAY_MS);
  const rows = await sql<{ id: string }>`
    select s.id from subscriptions s
    where s.site_id = ${siteId} and s.status = 'active'
      and s.created_at <= ${cutoff} and s.last_seen_at <= ${cutoff}
      and (s.last_clicked_at is null or s.last_clicked_at <= ${cutoff})
      and not exists (select 1 from reactivations r where r.subscription_id = s.id and r.sent_at > ${lastPush})
      and not exists (select 1 from events e where e.site_id = s.site_id and e.visitor_id = s.visitor_id and e.type = 'order_completed' and e.created_at > ${cutoff})
      and (s.external_user_id is null or not exists (
        select 1 from events e where e.site_id = s.site_id and e.type = 'order_completed' and e.external_user_id = s.external_user_id and e.created_at > ${cutoff}))
    order by s.id
    limit ${limit}
    for update of s skip locked`.execute(db);
  return rows.rows.map((row) => row.id);
}

/**
 * Claims the reactivation of these subscriptions at `now`: a first one, or one whose last push is
 * older than `quietForDays`. The primary key decides, so a second worker (or a round after a
 * restart) claims nothing already claimed. Returns the claimed ids.
 */
export async function claimReactivations(db: Db, siteId: string, subscriptionIds: readonly string[], now: Date, quietForDays: number): Promise<string[]> {
  if (subscriptionIds.length === 0) return [];
  const lastPush = new Date(now.getTime() - quietForDays * DAY_MS);
  const ids = [...subscriptionIds].sort();
  const result = await sql<{ subscription_id: string }>`
    insert into reactivations as r (subscription_id, site_id, sent_at, notification_id)
    select id, ${siteId}, ${now}, null from unnest(${ids}::uuid[]) as id order by id
    on conflict (subscription_id) do update set sent_at = excluded.sent_at, notification_id = null
      where r.sent_at <= ${lastPush}
    returning r.subscription_id`.execute(db);
  return result.rows.map((row) => row.subscription_id);
}

export async function setReactivationNotification(db: Db, subscriptionIds: readonly string[], notificationId: string): Promise<void> {
  if (subscriptionIds.length === 0) return;
  await db.updateTable('reactivations').set({ notification_id: notificationId }).where('subscription_id', 'in', subscriptionIds).execute();
}

/** Gives every site with reactivation on a scan row (due at once); one without keeps none. Its own statement, before the page's transaction. */
export async function addReactivationScans(db: Db, sites: readonly string[]): Promise<void> {
  if (sites.length === 0) return;
  await sql`insert into reactivation_scans (site_id, next_scan_at)
    select id, '-infinity'::timestamptz from unnest(${[...sites].sort()}::uuid[]) as id order by id
    on conflict (site_id) do nothing`.execute(db);
}

/** Takes the site's scan if it is due (SKIP LOCKED: a worker scanning it now keeps it). */
export async function lockDueReactivationScan(db: Db, siteId: string, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('reactivation_scans')
    .select('site_id')
    .where('site_id', '=', siteId)
    .where('next_scan_at', '<=', now)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
  return row !== undefined;
}

/** The site's scan reached its end: the next one starts at `next`. */
export async function restReactivationScan(db: Db, siteId: string, next: Date): Promise<void> {
  await db.updateTable('reactivation_scans').set({ next_scan_at: next }).where('site_id', '=', siteId).execute();
}
