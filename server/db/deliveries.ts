import { sql } from 'kysely';
import type { Db, DeliveryStatus, LocalizedContent, NotificationContent, NotificationKind, SubscriptionStatus } from './database.ts';

/** A claimed delivery with everything needed to build its request, from one round trip. */
export interface ClaimedDelivery {
  id: string;
  notification_id: string;
  subscription_id: string;
  endpoint: string;
  report_token: string;
  attempts: number;
  p256dh: string;
  auth: string;
  subscription_status: SubscriptionStatus;
  subscription_endpoint: string;
  locale: string | null;
  time_zone: string | null;
  /** The shopper's last click on any push (the engagement budget counts what they ignored since). */
  last_clicked_at: Date | null;
  content: NotificationContent;
  localized: Record<string, LocalizedContent> | null;
  kind: NotificationKind;
  source: string;
  priority: number;
  trigger_key: string | null;
  ttl_seconds: number;
  urgency: string;
  topic: string | null;
  notification_created_at: Date;
  /** Set when the sender cancelled the notification: the delivery is suppressed, not sent. */
  notification_cancelled_at: Date | null;
  /** Send at the shopper's best hour within 24 hours (issue 14). */
  best_hour: boolean;
  /** Why the delivery did not go at an earlier claim (null: it never was claimed, or nothing held it). */
  last_error: string | null;
  /** A campaign's end: after it the delivery is suppressed, not sent. */
  notification_ends_at: Date | null;
  /**
   * When this delivery was meant to go (its row's created_at): the notification's own time, or for
   * a local-time wave the moment its subscriber's clock read the wave's time. Its TTL counts from here.
   */
  scheduled_at: Date;
  /** The subscriber's tags and external id, read only for a notification whose texts have placeholders. */
  tags: Record<string, unknown> | null;
  site_id: string;
  vapid_public_key: string;
  vapid_private_key: string;
}

/** What a claim reads once per notification of the batch, not once per delivery. */
type ClaimedNotification = Pick<
  ClaimedDelivery,
  | 'content' | 'localized' | 'kind' | 'source' | 'priority' | 'trigger_key' | 'ttl_seconds' | 'urgency' | 'topic'
  | 'notification_created_at' | 'notification_cancelled_at' | 'notification_ends_at' | 'site_id' | 'vapid_public_key' | 'vapid_private_key'
  | 'best_hour'
> & { id: string; personalised: boolean };

type ClaimedRow = Pick<ClaimedDelivery, 'id' | 'notification_id' | 'subscription_id' | 'endpoint' | 'report_token' | 'attempts' | 'scheduled_at' | 'last_error'>;

interface ClaimedSubscription {
  id: string;
  p256dh: string;
  auth: string;
  status: SubscriptionStatus;
  endpoint: string;
  locale: string | null;
  time_zone: string | null;
  last_clicked_at: Date | null;
  tags: Record<string, unknown> | null;
}

/**
 * Claims up to `limit` due deliveries for this worker: queued ones whose time has come, and ones
 * another worker leased but never finished (its lease lapsed: it died). FOR UPDATE SKIP LOCKED lets
 * any number of workers claim side by side without waiting on or double-taking a row. The attempt is
 * counted at claim time, so a message that crashes its worker still runs out of attempts.
 *
 * The notifications (content, settings, the site's VAPID keys) are read once per batch and shared
 * by their deliveries, rather than joined and returned, JSON and all, with each of the 500 rows.
 */
export async function claimDeliveries(
  db: Db,
  claim: { leaseId: string; limit: number; nowMs: number; leaseMs: number },
): Promise<ClaimedDelivery[]> {
  const now = new Date(claim.nowMs);
  const leaseUntil = new Date(claim.nowMs + claim.leaseMs);
  const claimed = await db.transaction().execute(async (trx) => {
    // The rows of one send are all due at the same moment, so the claim must read the queue index
    // in its order (due_at, priority desc) and stop at the limit. The planner does that when it
    // knows how many rows are due, but the statistics of a table that just took a large send say
    // "few", and it would collect every due row into a bitmap and sort them all, for each claim.
    await sql`select set_config('enable_bitmapscan', 'off', true)`.execute(trx);
    return sql<ClaimedRow>`
      with claimed as (
        select ctid from deliveries
        -- An erased shopper's deliveries keep no subscription; none of them is still to send.
        where status in ('queued', 'sending') and due_at <= ${now} and subscription_id is not null
        -- What waits longest first; among pushes due at once (say when quiet hours end), the most
        -- important first, so a frequency cap is spent on them (issue 5).
        order by due_at, priority desc
        limit ${claim.limit}
        for update skip locked
      )
      update deliveries d
      set status = 'sending', attempts = d.attempts + 1, due_at = ${leaseUntil}, leased_by = ${claim.leaseId}, updated_at = ${now}
      -- The row versions the CTE just locked, by their physical address (a TID scan), and no join
      -- the planner could turn around: with the statistics of a table that was nearly empty (a new
      -- shop's first large send), a join let it read a whole index for each claim. The lock is
      -- held, so those versions are the current ones.
      where d.ctid = any(array(select ctid from claimed))
      returning d.id::text as id, d.notification_id, d.subscription_id, d.endpoint, d.report_token, d.attempts, d.created_at as scheduled_at, d.last_error`.execute(trx);
  });
  if (claimed.rows.length === 0) return [];
  // Read after the claim committed: what the subscription and the notification are now is what the
  // push must honour (an opt-out, a cancel), and it is at least as recent as inside the claim.
  const notificationIds = [...new Set(claimed.rows.map((row) => row.notification_id))];
  const notifications = await sql<ClaimedNotification>`
    select n.id, n.content, n.localized, n.kind, n.source, n.priority, n.trigger_key,
      n.ttl_seconds, n.urgency, n.topic, n.created_at as notification_created_at, n.cancelled_at as notification_cancelled_at,
      n.ends_at as notification_ends_at, n.best_hour,
      -- Texts with placeholders ({{firstName}}, {{tags.…}}) need each subscriber's tags; others do not read them.
      (n.content::text like '%{{%' or coalesce(n.localized::text, '') like '%{{%') as personalised,
      si.id as site_id, si.vapid_public_key, si.vapid_private_key
    from notifications n join sites si on si.id = n.site_id
    where n.id = any(${notificationIds}::uuid[])`.execute(db);
  const withTags = notifications.rows.some((n) => n.personalised);
  const subscriptions = await sql<ClaimedSubscription>`
    select id, p256dh, auth, status, endpoint, locale, time_zone, last_clicked_at, ${withTags ? sql`tags` : sql`null::jsonb as tags`} from subscriptions
    where id = any(${claimed.rows.map((row) => row.subscription_id)}::uuid[])`.execute(db);
  const subscriptionById = new Map(subscriptions.rows.map((s) => [s.id, s]));
  const notificationById = new Map(notifications.rows.map((n) => [n.id, n]));
  const deliveries: ClaimedDelivery[] = [];
  for (const row of claimed.rows) {
    const s = subscriptionById.get(row.subscription_id);
    const n = notificationById.get(row.notification_id);
    // Neither can go while the delivery is there (on delete cascade; erasing suppresses the queue).
    if (!s || !n) continue;
    // Field by field: spreading a driver row (a dictionary-mode object) costs ~20 µs a row.
    deliveries.push({
      id: row.id,
      notification_id: row.notification_id,
      subscription_id: row.subscription_id,
      endpoint: row.endpoint,
      report_token: row.report_token,
      attempts: row.attempts,
      p256dh: s.p256dh,
      auth: s.auth,
      subscription_status: s.status,
      subscription_endpoint: s.endpoint,
      locale: s.locale,
      time_zone: s.time_zone,
      last_clicked_at: s.last_clicked_at,
      content: n.content,
      localized: n.localized,
      kind: n.kind,
      source: n.source,
      priority: n.priority,
      trigger_key: n.trigger_key,
      ttl_seconds: n.ttl_seconds,
      urgency: n.urgency,
      topic: n.topic,
      notification_created_at: n.notification_created_at,
      notification_cancelled_at: n.notification_cancelled_at,
      notification_ends_at: n.notification_ends_at,
      best_hour: n.best_hour,
      last_error: row.last_error,
      scheduled_at: row.scheduled_at,
      tags: n.personalised ? s.tags : null,
      site_id: n.site_id,
      vapid_public_key: n.vapid_public_key,
      vapid_private_key: n.vapid_private_key,
    });
  }
  return deliveries;
}

export interface DeliveryResult {
  id: string;
  status: DeliveryStatus;
  /** For queued (a retry or a hold): when it may go again. */
  dueAtMs: number;
  /** −1 to give back the attempt counted at claim when the delivery was held, not tried. */
  attemptDelta: number;
  lastStatus: number | null;
  lastError: string | null;
}

/**
 * Writes a batch of outcomes. Only rows still leased by this claim are touched: if the lease lapsed
 * and another worker took the row, that worker's result is the one that counts.
 *
 * Nearly every outcome is a push accepted by its push service, and those share every value but the
 * id: they are written by id alone, one statement per answer status (201, nearly always), which the
 * primary key serves. The rest (retries, holds, failures, each with its own due time and reason)
 * are joined to their values in a second statement.
 */
export async function recordDeliveryResults(db: Db, leaseId: string, nowMs: number, results: DeliveryResult[]): Promise<void> {
  if (results.length === 0) return;
  const now = new Date(nowMs);
  const sentByStatus = new Map<number | null, string[]>();
  const others: DeliveryResult[] = [];
  for (const r of results) {
    if (r.status === 'sent' && r.attemptDelta === 0 && r.lastError === null) {
      const ids = sentByStatus.get(r.lastStatus);
      if (ids) ids.push(r.id);
      else sentByStatus.set(r.lastStatus, [r.id]);
    } else {
      others.push(r);
    }
  }
  for (const [lastStatus, ids] of sentByStatus) {
    // due_at is only read while a row is queued or sending; a sent row's is the time it was written.
    await sql`
      update deliveries d
      set status = 'sent', due_at = ${now}, last_status = ${lastStatus}::int, last_error = null, sent_at = ${now}, leased_by = null, updated_at = ${now}
      where d.id = any(${ids}::bigint[]) and d.leased_by = ${leaseId} and d.status = 'sending'`.execute(db);
  }
  if (others.length === 0) return;
  const ids = others.map((r) => r.id);
  await sql`
    update deliveries d
    set status = v.status,
        due_at = v.due_at,
        attempts = d.attempts + v.attempt_delta,
        last_status = v.last_status,
        last_error = v.last_error,
        sent_at = case when v.status = 'sent' then ${now}::timestamptz else d.sent_at end,
        leased_by = null,
        updated_at = ${now}
    from (
      select * from unnest(
        ${ids}::bigint[],
        ${others.map((r) => r.status)}::text[],
        ${others.map((r) => new Date(r.dueAtMs).toISOString())}::timestamptz[],
        ${others.map((r) => r.attemptDelta)}::int[],
        ${others.map((r) => r.lastStatus)}::int[],
        ${others.map((r) => r.lastError)}::text[]
      ) as t(id, status, due_at, attempt_delta, last_status, last_error)
    ) v
    -- The ids again as an array: the primary key finds the rows. Without it the planner, which
    -- cannot see into unnest, may find them through the partial queue index instead and read the
    -- whole outbox of a large send for every group of results.
    where d.id = any(${ids}::bigint[]) and d.id = v.id and d.leased_by = ${leaseId} and d.status = 'sending'`.execute(db);
}

/**
 * Suppresses a notification's deliveries still waiting in the queue — `queued`: never handed to a
 * push service yet, or back for a hold (quiet hours, best hour) or a retry — with `lastError` as
 * their reason. One a worker holds (`sending`) is left to it: it may be at the push service this
 * moment, and its outcome is written under its lease. The row locks keep the two apart: a claim
 * skips a row this statement holds (SKIP LOCKED), and a row claimed first reads `sending` when
 * this statement, having waited for it, looks again. Returns how many were suppressed.
 */
export async function suppressWaitingDeliveries(db: Db, notificationId: string, lastError: string, now: Date): Promise<number> {
  const result = await db
    .updateTable('deliveries')
    // due_at as the worker writes it for a suppressed row (recordDeliveryResults): the time it was decided.
    .set({ status: 'suppressed', due_at: now, last_error: lastError, leased_by: null, updated_at: now })
    .where('notification_id', '=', notificationId)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Marks subscriptions expired after a 404/410 — by id AND endpoint, so a subscription that was
 * renewed with a new endpoint since this delivery was queued stays active.
 */
export async function expireSubscriptions(db: Db, gone: Array<{ subscriptionId: string; endpoint: string }>, nowMs: number): Promise<void> {
  if (gone.length === 0) return;
  await sql`
    update subscriptions s set status = 'expired', updated_at = ${new Date(nowMs)}
    from unnest(${gone.map((g) => g.subscriptionId)}::uuid[], ${gone.map((g) => g.endpoint)}::text[]) as v(id, endpoint)
    where s.id = v.id and s.endpoint = v.endpoint and s.status = 'active'`.execute(db);
}

/**
 * Marketing pushes each subscription had in the frequency-cap window (`sent` since `sinceMs`) and
 * has in flight at other workers right now (`inFlight`: about to be sent, or not — the caller
 * decides how to treat them). This batch's own claims are left out: the rules decide them.
 */
export async function recentMarketingSends(
  db: Db,
  subscriptionIds: string[],
  sinceMs: number,
  leaseId: string,
): Promise<{ sent: Map<string, number>; inFlight: Map<string, number> }> {
  const sent = new Map<string, number>();
  const inFlight = new Map<string, number>();
  if (subscriptionIds.length === 0) return { sent, inFlight };
  // Two index scans (deliveries_subscription_sent_idx for the window, the subscription index for
  // what is in flight) rather than one OR that would read each subscriber's whole history.
  const result = await sql<{ subscription_id: string; in_flight: boolean; count: string }>`
    select x.subscription_id, x.in_flight, count(*) as count
    from (
      select d.subscription_id, d.notification_id, false as in_flight from deliveries d
      where d.subscription_id = any(${subscriptionIds}::uuid[]) and d.sent_at > ${new Date(sinceMs)} and d.status = 'sent'
      union all
      select d.subscription_id, d.notification_id, true as in_flight from deliveries d
      where d.subscription_id = any(${subscriptionIds}::uuid[]) and d.status = 'sending' and d.leased_by is distinct from ${leaseId}
    ) x join notifications n on n.id = x.notification_id
    where n.kind = 'marketing'
    group by x.subscription_id, x.in_flight`.execute(db);
  for (const row of result.rows) (row.in_flight ? inFlight : sent).set(row.subscription_id, Number(row.count));
  return { sent, inFlight };
}
