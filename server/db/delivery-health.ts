/**
 * What the delivery health page reads: the deliveries still waiting (quiet hours, a push service's
 * backoff), the recent suppressions and failures, and the weekly expiry of subscriptions. Every
 * query is bounded by an index, so it answers as fast with a million deliveries as with ten:
 * - waiting rows: `deliveries_due_priority_idx` (partial on queued/sending, the claim's own index);
 * - suppressed and failed rows of the last days: `deliveries_recent_outcome_idx` (partial, by
 *   `updated_at`, migrations/2026-11-29T0360-delivery-health.ts);
 * - expiry: `subscription_changes_site_at_idx` and `subscriptions_site_status_idx`.
 * Deliveries carry no site: each is joined to its notification (by primary key) for that.
 */
import { sql } from 'kysely';
import type { Db } from './database.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
export const WEEK_MS = 7 * DAY_MS;
/** Weeks of subscription expiry the page reads. */
export const EXPIRY_WEEKS = 8;

/** The host of a stored endpoint (always https, checked when it was stored), in SQL. */
const HOST = sql<string>`lower(substring(d.endpoint from '^https://([^/:?#]+)'))`;

/**
 * Runs a query with parallel workers off: the recent outcomes are a few thousand rows read through
 * the partial index, and the planner's estimate for the heap reads crosses the parallel threshold,
 * but starting two workers took longer than the reads (15 ms against 3 ms, bench/RESULTS.md).
 */
async function withoutParallelWorkers<T>(db: Db, query: (trx: Db) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set local max_parallel_workers_per_gather = 0`.execute(trx);
    return query(trx);
  });
}

export interface QuietHoursWait {
  count: number;
  earliestMs: number;
  latestMs: number;
}

/** Pushes deferred by quiet hours and waiting now; null when none. */
export async function quietHoursWait(db: Db, siteId: string): Promise<QuietHoursWait | null> {
  const row = (
    await sql<{ count: string; earliest: Date | null; latest: Date | null }>`
      select count(*) as count, min(d.due_at) as earliest, max(d.due_at) as latest
      from deliveries d join notifications n on n.id = d.notification_id
      where d.status = 'queued' and d.last_error like 'quiet\_hours:%' and n.site_id = ${siteId}`.execute(db)
  ).rows[0]!;
  const count = Number(row.count);
  if (count === 0 || !row.earliest || !row.latest) return null;
  return { count, earliestMs: row.earliest.getTime(), latestMs: row.latest.getTime() };
}

export interface HostBackoff {
  host: string;
  count: number;
  /** When the last of them may go. */
  untilMs: number;
  /** The push service's answer that started it (429, 503), when one did. */
  lastStatus: number | null;
  lastError: string | null;
}

/**
 * Pushes held because a push service asked the whole host to slow down (429/503 with or without
 * Retry-After) or its circuit is open: the worker's gate lives in its own memory, but every
 * delivery it holds is written back queued with `push_host_backoff` and the time it may go again.
 */
export async function hostBackoffs(db: Db, siteId: string, nowMs: number): Promise<HostBackoff[]> {
  const rows = (
    await sql<{ host: string; count: string; until: Date; last_status: number | null; last_error: string | null }>`
      select x.host, count(*) as count, max(x.due_at) as until,
        (array_agg(x.last_status order by x.updated_at desc) filter (where x.last_status is not null))[1] as last_status,
        (array_agg(x.last_error order by x.last_status is null, x.updated_at desc))[1] as last_error
      from (
        select ${HOST} as host, d.due_at, d.updated_at, d.last_status, d.last_error
        from deliveries d join notifications n on n.id = d.notification_id
        where d.status = 'queued' and d.last_error like 'push\_host\_backoff:%' and d.due_at > ${new Date(nowMs)} and n.site_id = ${siteId}
      ) x
      group by x.host
      order by count(*) desc, x.host`.execute(db)
  ).rows;
  return rows.map((row) => ({ host: row.host, count: Number(row.count), untilMs: row.until.getTime(), lastStatus: row.last_status, lastError: row.last_error }));
}

export interface SuppressionCount {
  /** The reason code (delivery/delivery-reasons.ts), `other` for a row without one. */
  reason: string;
  lastDay: number;
  lastWeek: number;
}

/** Pushes suppressed in the last 7 days, by reason, with those of the last 24 hours. */
export async function recentSuppressions(db: Db, siteId: string, nowMs: number): Promise<SuppressionCount[]> {
  const rows = (
    await withoutParallelWorkers(db, (trx) => sql<{ reason: string; last_day: string; last_week: string }>`
      select coalesce(nullif(substring(d.last_error from '^([a-z][a-z0-9_]*):'), ''), 'other') as reason,
        count(*) filter (where d.updated_at > ${new Date(nowMs - DAY_MS)}) as last_day, count(*) as last_week
      from deliveries d join notifications n on n.id = d.notification_id
      where d.status = 'suppressed' and d.updated_at > ${new Date(nowMs - WEEK_MS)} and n.site_id = ${siteId}
      group by 1
      order by count(*) desc, 1`.execute(trx))
  ).rows;
  return rows.map((row) => ({ reason: row.reason, lastDay: Number(row.last_day), lastWeek: Number(row.last_week) }));
}

export interface HostFailures {
  host: string;
  /** Given up for good in the last 24 hours (failed). */
  failed: number;
  /** Tried, failed and waiting for another try (queued after a 5xx, a timeout or a network error). */
  retrying: number;
  last: { atMs: number; status: number | null; error: string | null };
}

/**
 * Failures per push service in the last 24 hours: deliveries given up (failed) and those waiting
 * for a retry after an error (queued with `push_error`), with the newest error of each host.
 */
export async function recentFailures(db: Db, siteId: string, nowMs: number): Promise<HostFailures[]> {
  const since = new Date(nowMs - DAY_MS);
  const rows = (
    await withoutParallelWorkers(db, (trx) => sql<{ host: string; failed: string; retrying: string; at: Date; last_status: number | null; last_error: string | null }>`
      select x.host, count(*) filter (where x.status = 'failed') as failed, count(*) filter (where x.status = 'queued') as retrying,
        max(x.updated_at) as at,
        (array_agg(x.last_status order by x.updated_at desc, x.id desc))[1] as last_status,
        (array_agg(x.last_error order by x.updated_at desc, x.id desc))[1] as last_error
      from (
        select ${HOST} as host, d.id, d.status, d.updated_at, d.last_status, d.last_error
        from deliveries d join notifications n on n.id = d.notification_id
        where d.status = 'failed' and d.updated_at > ${since} and n.site_id = ${siteId}
        union all
        select ${HOST} as host, d.id, d.status, d.updated_at, d.last_status, d.last_error
        from deliveries d join notifications n on n.id = d.notification_id
        where d.status = 'queued' and d.last_error like 'push\_error:%' and d.updated_at > ${since} and n.site_id = ${siteId}
      ) x
      group by x.host
      order by count(*) desc, x.host`.execute(trx))
  ).rows;
  return rows.map((row) => ({
    host: row.host ?? 'unknown',
    failed: Number(row.failed),
    retrying: Number(row.retrying),
    last: { atMs: row.at.getTime(), status: row.last_status, error: row.last_error },
  }));
}

export interface ExpiryWeek {
  /** The week's first instant; weeks are the 7-day spans ending now, oldest first. */
  startMs: number;
  activeAtStart: number;
  expired: number;
}

const GAINED = sql`change in ('subscribed', 'returned')`;

/**
 * Per week of the last eight (7-day spans ending now), the subscriptions active at its start and
 * those that expired in it (the push service said gone, or the browser replaced the endpoint).
 * Active at a week's start = active now − the net change since, from `subscription_changes`.
 */
export async function weeklyExpiry(db: Db, siteId: string, nowMs: number): Promise<ExpiryWeek[]> {
  const start = new Date(nowMs - EXPIRY_WEEKS * WEEK_MS);
  // Each change put in its week by width_bucket over the weeks' boundaries (a binary search on
  // timestamps): dividing the seconds since the start, as numeric, took 50 ms over 38,000 changes.
  const boundaries = Array.from({ length: EXPIRY_WEEKS + 1 }, (_, i) => new Date(start.getTime() + i * WEEK_MS));
  const [active, changes] = await Promise.all([
    sql<{ count: string }>`select count(*) as count from subscriptions where site_id = ${siteId} and status = 'active'`.execute(db),
    sql<{ week: number; net: string; expired: string }>`
      select width_bucket(at, ${boundaries}::timestamptz[]) - 1 as week,
        coalesce(sum(case when ${GAINED} then 1 else -1 end), 0) as net,
        count(*) filter (where change = 'expired') as expired
      from subscription_changes where site_id = ${siteId} and at >= ${start} and at <= ${new Date(nowMs)}
      group by 1`.execute(db),
  ]);
  const weeks: ExpiryWeek[] = Array.from({ length: EXPIRY_WEEKS }, (_, i) => ({ startMs: start.getTime() + i * WEEK_MS, activeAtStart: 0, expired: 0 }));
  const net = new Array<number>(EXPIRY_WEEKS).fill(0);
  for (const row of changes.rows) {
    // The instant `now` itself falls on the boundary after the last week: count it in the last.
    const index = Math.min(row.week, EXPIRY_WEEKS - 1);
    net[index]! += Number(row.net);
    weeks[index]!.expired += Number(row.expired);
  }
  let activeAt = Number(active.rows[0]!.count);
  for (let i = EXPIRY_WEEKS - 1; i >= 0; i--) {
    activeAt -= net[i]!;
    weeks[i]!.activeAtStart = Math.max(0, activeAt);
  }
  return weeks;
}
