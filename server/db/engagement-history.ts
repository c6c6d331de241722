import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * What the engagement budget and best-hour sends (issue 14) read about a batch's subscribers: one
 * statement per batch each, like the frequency cap's recent sends (deliveries.ts).
 */

/** Per subscription: marketing pushes sent since `windowStartMs`, and marketing pushes ignored since its last click. */
export interface BudgetRow {
  sentInWindow: number;
  ignoredInARow: number;
}

/**
 * The engagement budget's facts for `subscriptions` (with each one's last click, as the claim read
 * it): marketing pushes sent after `windowStartMs` (the 7-day window), and those sent after the
 * subscriber's last click on any push, after
 * `lookbackStartMs` and no later than `ignoredBeforeMs` (a push younger than that may yet be clicked).
 *
 * Each subscriber's sends are read from deliveries_subscription_sent_idx from the earlier of the
 * window start and the streak start (the last click, or the lookback), so a subscriber who clicks
 * reads about a week of sends and one who ignores everything reads what their shrunken budget let
 * through: the row count stays small either way. Subscriptions with none are absent.
 */
export async function budgetFacts(
  db: Db,
  subscriptions: Array<{ id: string; lastClickedAt: Date | null }>,
  bounds: { windowStartMs: number; lookbackStartMs: number; ignoredBeforeMs: number },
): Promise<Map<string, BudgetRow>> {
  const facts = new Map<string, BudgetRow>();
  if (subscriptions.length === 0) return facts;
  const windowStart = new Date(bounds.windowStartMs);
  const lookbackStart = new Date(bounds.lookbackStartMs);
  // One subscription at a time (LATERAL), each from the index at its own start: joined as plain
  // tables, the planner may walk every sent delivery of the outbox and test it against the list.
  // The last clicks come from the claim, which read the subscriptions already.
  const result = await sql<{ subscription_id: string; sent_in_window: number; ignored: number }>`
    select v.id as subscription_id, x.sent_in_window, x.ignored
    from unnest(${subscriptions.map((s) => s.id)}::uuid[], ${subscriptions.map((s) => s.lastClickedAt?.toISOString() ?? null)}::timestamptz[]) as v(id, clicked_at)
    cross join lateral (
      select
        (count(*) filter (where d.sent_at > ${windowStart}))::int as sent_in_window,
        (count(*) filter (where d.sent_at > greatest(${lookbackStart}, coalesce(v.clicked_at, ${lookbackStart})) and d.sent_at <= ${new Date(bounds.ignoredBeforeMs)}))::int as ignored
      from (
        -- OFFSET 0 keeps this scan by subscription: flattened, the planner may go through the
        -- notification instead and read every delivery of a large send once per subscriber.
        select d.sent_at, d.notification_id from deliveries d
        where d.subscription_id = v.id and d.sent_at > least(${windowStart}::timestamptz, greatest(${lookbackStart}, coalesce(v.clicked_at, ${lookbackStart}))) and d.status = 'sent'
        offset 0
      ) d
      join notifications n on n.id = d.notification_id
      where n.kind = 'marketing'
    ) x
    where x.sent_in_window > 0 or x.ignored > 0`.execute(db);
  for (const row of result.rows) facts.set(row.subscription_id, { sentInWindow: row.sent_in_window, ignoredInARow: row.ignored });
  return facts;
}

/** Quarter hours: every zone's offset is a whole number of them, so a slot maps to one local hour in any zone. */
export const HISTORY_SLOT_SECONDS = 900;

/**
 * A shopper's own history for best-hour sends: each quarter hour since `sinceMs` (as a slot number,
 * seconds since the epoch / HISTORY_SLOT_SECONDS) in which the subscriber clicked a push or their
 * visitor sent a browser event. Distinct slots, so twenty page views in one visit are one data point.
 */
export async function activitySlots(db: Db, subscriptionIds: string[], sinceMs: number): Promise<Map<string, number[]>> {
  const slots = new Map<string, number[]>();
  if (subscriptionIds.length === 0) return slots;
  const since = new Date(sinceMs);
  const result = await sql<{ subscription_id: string; slot: number }>`
    select distinct x.subscription_id, floor(extract(epoch from x.at) / ${HISTORY_SLOT_SECONDS})::int as slot
    from (
      select d.subscription_id, i.created_at as at
      from (
        -- By subscription first (OFFSET 0 keeps it so), then each delivery's click by its key.
        select d.id, d.subscription_id from deliveries d
        where d.subscription_id = any(${subscriptionIds}::uuid[]) and d.created_at > ${since}
        offset 0
      ) d
      join interactions i on i.delivery_id = d.id and i.type = 'clicked'
      where i.created_at > ${since}
      union all
      select s.id, e.created_at
      from subscriptions s join events e on e.site_id = s.site_id and e.visitor_id = s.visitor_id
      where s.id = any(${subscriptionIds}::uuid[]) and e.created_at > ${since} and e.source = 'browser'
    ) x`.execute(db);
  for (const row of result.rows) {
    const list = slots.get(row.subscription_id);
    if (list) list.push(row.slot);
    else slots.set(row.subscription_id, [row.slot]);
  }
  return slots;
}

/**
 * A site's clicks since `sinceMs` by its subscribers' zone and quarter hour of the UTC day (0–95):
 * the fallback best hour for shoppers with too little history of their own. Clicks only: a site's
 * page views would be a scan of its whole event log, and a click is what a push is for.
 */
export async function siteClickSlots(db: Db, siteId: string, sinceMs: number): Promise<Array<{ timeZone: string | null; slotOfDay: number; clicks: number }>> {
  const since = new Date(sinceMs);
  const result = await sql<{ time_zone: string | null; slot_of_day: number; clicks: number }>`
    select s.time_zone, (floor(extract(epoch from i.created_at) / ${HISTORY_SLOT_SECONDS})::bigint % ${86_400 / HISTORY_SLOT_SECONDS})::int as slot_of_day, count(*)::int as clicks
    from notifications n
    join interactions i on i.notification_id = n.id and i.type = 'clicked'
    join deliveries d on d.id = i.delivery_id
    join subscriptions s on s.id = d.subscription_id
    where n.site_id = ${siteId} and n.created_at > ${since} and i.created_at > ${since}
    group by 1, 2`.execute(db);
  return result.rows.map((row) => ({ timeZone: row.time_zone, slotOfDay: row.slot_of_day, clicks: row.clicks }));
}

/** How many of a site's subscribers ignore its marketing pushes (the delivery health page). */
export interface IgnoringShare {
  /** Active subscribers who got at least `lastN` marketing pushes in the window, old enough to have been clicked. */
  judged: number;
  /** Of those, the ones who clicked none of their last `lastN` (no click on any push since the `lastN`-th last). */
  ignoring: number;
}

/**
 * The share of a site's active subscribers who clicked none of their last `lastN` marketing pushes
 * sent between `sinceMs` and `beforeMs`: the subscribers Chrome's revocation would count against
 * the shop. Reads the site's sent marketing pushes of the window once (a page view, not a hot path).
 */
export async function ignoringShare(db: Db, siteId: string, window: { sinceMs: number; beforeMs: number; lastN: number }): Promise<IgnoringShare> {
  const result = await sql<IgnoringShare>`
    select (count(*) filter (where x.sent >= ${window.lastN}))::int as judged, (count(*) filter (where x.ignored >= ${window.lastN}))::int as ignoring
    from (
      select s.id, count(*) as sent, count(*) filter (where s.last_clicked_at is null or d.sent_at > s.last_clicked_at) as ignored
      from subscriptions s
      join deliveries d on d.subscription_id = s.id and d.sent_at > ${new Date(window.sinceMs)} and d.sent_at <= ${new Date(window.beforeMs)}
      join notifications n on n.id = d.notification_id
      where s.site_id = ${siteId} and s.status = 'active' and d.status = 'sent' and n.kind = 'marketing'
      group by s.id
    ) x`.execute(db);
  return result.rows[0] ?? { judged: 0, ignoring: 0 };
}
