import { sql } from 'kysely';
import { holdoutLift, type Lift, type OrderGroup } from '../stats/lift.ts';
import type { LocalDays } from '../stats/local-days.ts';
import type { Db } from './database.ts';

/**
 * Per-day figures for the overview, read from the rollups the stats migration keeps
 * (migrations/2026-11-29T0330-stats-rollup.ts): `subscription_changes` for subscribers,
 * `stats_buckets` and `stats_revenue` for pushes. Days are given by their boundaries (local
 * midnights, server/stats/local-days.ts), so the database needs to know no time zone: each row is
 * put in its day with `width_bucket`, which answers i for boundaries[i − 1] ≤ t < boundaries[i].
 */

export interface SubscriberDay {
  /** Active at the end of the day. */
  active: number;
  /** Subscriptions made that day. */
  new: number;
  /** Expired or unsubscribed subscriptions made active again (the shopper allowed pushes anew). */
  returned: number;
  /** Lost because the push service said the subscription is gone (404/410) or the browser replaced it. */
  lostExpired: number;
  /** Lost because the shopper opted out (DELETE /v1/subscriptions). */
  lostUnsubscribed: number;
  /** Lost because the shopper's data was erased. */
  lostErased: number;
  /** new + returned − every loss. */
  net: number;
}

/** What the pushes of one day (the day each notification was queued) came to. */
export interface PushFigures {
  /** Deliveries queued, held out or not. */
  audience: number;
  sent: number;
  heldOut: number;
  suppressed: number;
  failed: number;
  expired: number;
  shown: number;
  clicked: number;
  /** Orders attributed to a click (conversions). */
  converted: number;
  /** Their value per currency, never converted between currencies. */
  revenue: Record<string, number>;
}

export function emptyPushFigures(): PushFigures {
  return { audience: 0, sent: 0, heldOut: 0, suppressed: 0, failed: 0, expired: 0, shown: 0, clicked: 0, converted: 0, revenue: {} };
}

export function addPushFigures(into: PushFigures, from: PushFigures): void {
  into.audience += from.audience;
  into.sent += from.sent;
  into.heldOut += from.heldOut;
  into.suppressed += from.suppressed;
  into.failed += from.failed;
  into.expired += from.expired;
  into.shown += from.shown;
  into.clicked += from.clicked;
  into.converted += from.converted;
  for (const [currency, value] of Object.entries(from.revenue)) addRevenue(into, currency, value);
}

function addRevenue(into: PushFigures, currency: string, value: number): void {
  into.revenue[currency] = Math.round(((into.revenue[currency] ?? 0) + value) * 100) / 100;
}

/** Subscriptions active now: the figure the day series ends at when it reaches today. */
export async function activeSubscriptions(db: Db, siteId: string): Promise<number> {
  const row = await sql<{ count: string }>`
    select count(*) as count from subscriptions where site_id = ${siteId} and status = 'active'`.execute(db);
  return Number(row.rows[0]!.count);
}

/** One SubscriberDay per day between the boundaries. */
export async function subscriberDays(db: Db, siteId: string, boundaries: Date[]): Promise<SubscriberDay[]> {
  return (await subscriberHistory(db, siteId, boundaries)).days;
}

/** The subscriptions active now, and one SubscriberDay per day between the boundaries. */
async function subscriberHistory(db: Db, siteId: string, boundaries: Date[]): Promise<{ activeNow: number; days: SubscriberDay[] }> {
  const start = boundaries[0]!;
  // Active at the start = active now − what changed since: both in one statement (one snapshot),
  // reading only the changes since the start, and each of them once: by day within the range, and
  // those after its end (width_bucket answers boundaries.length) only for the sum.
  const rows = (
    await sql<{ day: number | null; change: string | null; count: string }>`
      select null::int as day, null::text as change, count(*) as count from subscriptions where site_id = ${siteId} and status = 'active'
      union all
      select width_bucket(at, ${boundaries}::timestamptz[]) as day, change, count(*) as count
      from subscription_changes where site_id = ${siteId} and at >= ${start}
      group by 1, 2`.execute(db)
  ).rows;
  const days: SubscriberDay[] = Array.from({ length: boundaries.length - 1 }, () => ({
    active: 0,
    new: 0,
    returned: 0,
    lostExpired: 0,
    lostUnsubscribed: 0,
    lostErased: 0,
    net: 0,
  }));
  const field = { subscribed: 'new', returned: 'returned', expired: 'lostExpired', unsubscribed: 'lostUnsubscribed', erased: 'lostErased' } as const;
  let activeNow = 0;
  let sinceStart = 0;
  for (const row of rows) {
    if (row.change === null) {
      activeNow = Number(row.count);
      continue;
    }
    sinceStart += (row.change === 'subscribed' || row.change === 'returned' ? 1 : -1) * Number(row.count);
    const day = row.day === null ? undefined : days[row.day - 1];
    const name = field[row.change as keyof typeof field];
    if (day && name) day[name] += Number(row.count);
  }
  let active = activeNow - sinceStart;
  for (const day of days) {
    day.net = day.new + day.returned - day.lostExpired - day.lostUnsubscribed - day.lostErased;
    active += day.net;
    day.active = active;
  }
  return { activeNow, days };
}

/** Per day, per trigger (notification source): what its pushes came to. */
export async function pushDays(db: Db, siteId: string, boundaries: Date[]): Promise<Array<Map<string, PushFigures>>> {
  const start = boundaries[0]!;
  const end = boundaries[boundaries.length - 1]!;
  const [buckets, revenue] = await Promise.all([
    sql<Record<'audience' | 'sent' | 'held_out' | 'suppressed' | 'failed' | 'expired' | 'shown' | 'clicked', string> & { day: number; source: string }>`
      select width_bucket(bucket, ${boundaries}::timestamptz[]) as day, source,
        sum(audience) as audience, sum(sent) as sent, sum(held_out) as held_out, sum(suppressed) as suppressed,
        sum(failed) as failed, sum(expired) as expired, sum(shown) as shown, sum(clicked) as clicked
      from stats_buckets where site_id = ${siteId} and bucket >= ${start} and bucket < ${end}
      group by 1, 2`.execute(db),
    sql<{ day: number; source: string; currency: string; orders: string; revenue: string }>`
      select width_bucket(bucket, ${boundaries}::timestamptz[]) as day, source, currency, sum(orders) as orders, sum(revenue) as revenue
      from stats_revenue where site_id = ${siteId} and bucket >= ${start} and bucket < ${end}
      group by 1, 2, 3`.execute(db),
  ]);
  const days = Array.from({ length: boundaries.length - 1 }, () => new Map<string, PushFigures>());
  const figures = (day: number, source: string) => {
    const map = days[day - 1];
    if (!map) return undefined;
    let entry = map.get(source);
    if (!entry) map.set(source, (entry = emptyPushFigures()));
    return entry;
  };
  for (const row of buckets.rows) {
    const entry = figures(row.day, row.source);
    if (!entry) continue;
    entry.audience += Number(row.audience);
    entry.sent += Number(row.sent);
    entry.heldOut += Number(row.held_out);
    entry.suppressed += Number(row.suppressed);
    entry.failed += Number(row.failed);
    entry.expired += Number(row.expired);
    entry.shown += Number(row.shown);
    entry.clicked += Number(row.clicked);
  }
  for (const row of revenue.rows) {
    const entry = figures(row.day, row.source);
    if (!entry) continue;
    entry.converted += Number(row.orders);
    addRevenue(entry, row.currency, Number(row.revenue));
  }
  return days;
}

/**
 * Per trigger and group, how many deliveries of notifications queued in [start, end) were
 * followed by an order from the same shopper within the attribution window — the measure of
 * holdoutComparisons (db/stats.ts). Read from `ordered_deliveries`, which a trigger fills as each
 * order is stored (migrations/2026-11-29T0395-ordered-deliveries.ts): one row per delivery its
 * shopper ordered after within 30 days, with when the first such order came, so any window up to
 * the settings' longest is one range read of the site's index, however many orders the range has.
 */
export async function orderedDeliveries(
  db: Db,
  siteId: string,
  start: Date,
  end: Date,
  windowHours: number,
): Promise<Map<string, { recipients: number; heldOut: number }>> {
  const result = await sql<{ source: string; held_out: boolean; ordered: string }>`
    select source, held_out, count(*) as ordered from ordered_deliveries
    where site_id = ${siteId} and notification_at >= ${start} and notification_at < ${end}
      and ordered_at <= delivered_at + ${windowHours} * interval '1 hour'
    group by 1, 2`.execute(db);
  const ordered = new Map<string, { recipients: number; heldOut: number }>();
  for (const row of result.rows) {
    const entry = ordered.get(row.source) ?? { recipients: 0, heldOut: 0 };
    entry[row.held_out ? 'heldOut' : 'recipients'] += Number(row.ordered);
    ordered.set(row.source, entry);
  }
  return ordered;
}

export interface DailyReport {
  from: string;
  to: string;
  timeZone: string;
  attributionWindowHours: number;
  activeNow: number;
  days: Array<{ date: string; subscribers: SubscriberDay; pushes: PushFigures; triggers: Record<string, PushFigures> }>;
  triggers: Record<string, PushFigures & { holdout: (Lift & { recipients: OrderGroup; heldOut: OrderGroup }) | null }>;
}

/**
 * The overview of `days` for one site: subscribers and pushes per day, and per trigger the range's
 * totals with the holdout lift (null for a trigger that held no one out).
 */
export async function dailyReport(db: Db, siteId: string, days: LocalDays, timeZone: string, windowHours: number): Promise<DailyReport> {
  const { dates, boundaries } = days;
  const [{ activeNow, days: subscribers }, pushes, ordered] = await Promise.all([
    subscriberHistory(db, siteId, boundaries),
    pushDays(db, siteId, boundaries),
    orderedDeliveries(db, siteId, boundaries[0]!, boundaries[boundaries.length - 1]!, windowHours),
  ]);
  const totals = new Map<string, PushFigures>();
  const reportDays = dates.map((date, i) => {
    const total = emptyPushFigures();
    const triggers: Record<string, PushFigures> = {};
    for (const [source, figures] of [...pushes[i]!].sort(([a], [b]) => a.localeCompare(b))) {
      triggers[source] = figures;
      addPushFigures(total, figures);
      let sum = totals.get(source);
      if (!sum) totals.set(source, (sum = emptyPushFigures()));
      addPushFigures(sum, figures);
    }
    return { date, subscribers: subscribers[i]!, pushes: total, triggers };
  });
  const triggers: DailyReport['triggers'] = {};
  for (const [source, sum] of [...totals].sort(([a], [b]) => a.localeCompare(b))) {
    const orders = ordered.get(source) ?? { recipients: 0, heldOut: 0 };
    // As holdoutComparisons (db/stats.ts): every delivery not held out is a recipient, whether it
    // then went, was capped or failed — comparing by assignment keeps the two groups alike.
    const recipients = { subscribers: sum.audience - sum.heldOut, ordered: orders.recipients };
    const heldOut = { subscribers: sum.heldOut, ordered: orders.heldOut };
    triggers[source] = { ...sum, holdout: sum.heldOut > 0 ? { recipients, heldOut, ...holdoutLift(source, recipients, heldOut) } : null };
  }
  return { from: dates[0]!, to: dates[dates.length - 1]!, timeZone, attributionWindowHours: windowHours, activeNow, days: reportDays, triggers };
}
