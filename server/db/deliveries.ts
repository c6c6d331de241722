import { sql } from 'kysely';
import type { Db, DeliveryStatus, NotificationContent, SubscriptionStatus } from './database.ts';

/**
 * A claimed delivery: the per-delivery and per-subscription columns only. What every delivery of one
 * notification shares (content, TTL, the site's VAPID keys) comes from `findDeliveryNotifications`,
 * once per notification rather than once per row (the delivery worker caches it).
 */
export interface ClaimedDelivery {
  id: string;
  notification_id: string;
  /** The subscription's site, for logs; the notification's site is the one that signs. */
  site_id: string;
  subscription_id: string;
  endpoint: string;
  report_token: string;
  attempts: number;
  p256dh: string;
  auth: string;
  subscription_status: SubscriptionStatus;
  subscription_endpoint: string;
}

/**
 * Claims up to `limit` due deliveries for this worker: queued ones whose time has come, and ones
 * another worker leased but never finished (its lease lapsed: it died). FOR UPDATE SKIP LOCKED lets
 * any number of workers claim side by side without waiting on or double-taking a row. The attempt is
 * counted at claim time, so a message that crashes its worker still runs out of attempts.
 */
export async function claimDeliveries(
  db: Db,
  claim: { leaseId: string; limit: number; nowMs: number; leaseMs: number },
): Promise<ClaimedDelivery[]> {
  const now = new Date(claim.nowMs);
  const leaseUntil = new Date(claim.nowMs + claim.leaseMs);
  const result = await sql<ClaimedDelivery>`
    with claimed as (
      select id from deliveries
      where status in ('queued', 'sending') and due_at <= ${now}
      order by due_at
      limit ${claim.limit}
      for update skip locked
    )
    update deliveries d
    set status = 'sending', attempts = d.attempts + 1, due_at = ${leaseUntil}, leased_by = ${claim.leaseId}, updated_at = ${now}
    from claimed c, subscriptions s
    where d.id = c.id and s.id = d.subscription_id
    returning d.id::text as id, d.notification_id, s.site_id, d.subscription_id, d.endpoint, d.report_token, d.attempts,
      s.p256dh, s.auth, s.status as subscription_status, s.endpoint as subscription_endpoint`.execute(db);
  return result.rows;
}

/** What all deliveries of one notification share: its content and options, and its site's VAPID keys. */
export interface DeliveryNotification {
  id: string;
  site_id: string;
  content: NotificationContent;
  ttl_seconds: number;
  urgency: string;
  topic: string | null;
  created_at: Date;
  vapid_public_key: string;
  /** As stored: sealed with the master key when one is configured (sites/vapid-private-key.ts). */
  vapid_private_key: string;
}

/**
 * The notifications (with their site's VAPID keys) that claimed deliveries belong to. Neither changes
 * after the notification is queued, so a delivery worker may keep them for as long as it likes.
 */
export async function findDeliveryNotifications(db: Db, notificationIds: readonly string[]): Promise<DeliveryNotification[]> {
  if (notificationIds.length === 0) return [];
  const result = await sql<DeliveryNotification>`
    select n.id, n.site_id, n.content, n.ttl_seconds, n.urgency, n.topic, n.created_at, si.vapid_public_key, si.vapid_private_key
    from notifications n join sites si on si.id = n.site_id
    where n.id = any(${[...notificationIds]}::uuid[])`.execute(db);
  return result.rows;
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
 * Writes a batch of outcomes in one statement. Only rows still leased by this claim are touched: if
 * the lease lapsed and another worker took the row, that worker's result is the one that counts.
 */
export async function recordDeliveryResults(db: Db, leaseId: string, nowMs: number, results: DeliveryResult[]): Promise<void> {
  if (results.length === 0) return;
  const now = new Date(nowMs);
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
        ${results.map((r) => r.id)}::bigint[],
        ${results.map((r) => r.status)}::text[],
        ${results.map((r) => new Date(r.dueAtMs).toISOString())}::timestamptz[],
        ${results.map((r) => r.attemptDelta)}::int[],
        ${results.map((r) => r.lastStatus)}::int[],
        ${results.map((r) => r.lastError)}::text[]
      ) as t(id, status, due_at, attempt_delta, last_status, last_error)
    ) v
    where d.id = v.id and d.leased_by = ${leaseId} and d.status = 'sending'`.execute(db);
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
