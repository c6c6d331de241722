/**
 * Where a notification stands: `GET /v1/notifications/{id}`'s answer, which `pushcart send` follows
 * too. Deliveries by status, what the service workers reported, attributed orders, why deliveries
 * did not go (yet), and the progress of a large send with an ETA at the pace so far.
 */
import { conversionTotals } from '../db/conversions.ts';
import type { Db } from '../db/database.ts';
import { interactionCounts } from '../db/interactions.ts';
import { deliveryCounts, deliveryProblems, findNotification, type DeliveryProblem, type NotificationRow } from '../db/notifications.ts';
import { isUuid } from '../db/sites.ts';
import { estimateAudience } from './audience-estimate.ts';

export interface SendProgress {
  /** The workers are still writing the audience (a large send): `total` is then an estimate. */
  resolving: boolean;
  /** Deliveries written so far. */
  resolved: number;
  /** The audience: exact once resolved, estimated before. */
  total: number;
  /** Deliveries the push service accepted. */
  sent: number;
  /** Deliveries with no final outcome yet (queued, being sent, or not written yet). */
  remaining: number;
  /** At the pace so far; null before the first outcome and once nothing remains. */
  etaSeconds: number | null;
}

export interface NotificationStatus {
  id: string;
  status: 'sending' | 'completed' | 'cancelled';
  kind: NotificationRow['kind'];
  trigger: string;
  audience: number;
  createdAt: string;
  cancelledAt: string | null;
  progress: SendProgress;
  counts: Record<'queued' | 'sent' | 'failed' | 'expired' | 'suppressed' | 'heldOut' | 'shown' | 'clicked' | 'dismissed' | 'converted', number>;
  revenue: Record<string, number>;
  problems: DeliveryProblem[];
}

/** The notification `id` of the site, or undefined when there is none. */
export async function notificationStatus(db: Db, siteId: string, id: string, nowMs: number): Promise<NotificationStatus | undefined> {
  const notification = isUuid(id) ? await findNotification(db, siteId, id) : undefined;
  if (!notification) return undefined;
  const [counts, problems, interactions, conversions] = await Promise.all([
    deliveryCounts(db, id),
    deliveryProblems(db, id),
    interactionCounts(db, id),
    conversionTotals(db, id),
  ]);
  const pending = counts.queued + counts.sending;
  const resolving = notification.resolve_state === 'resolving';
  return {
    id,
    status: notification.cancelled_at ? 'cancelled' : pending > 0 || resolving ? 'sending' : 'completed',
    kind: notification.kind,
    trigger: notification.source,
    audience: notification.audience_size,
    createdAt: new Date(notification.created_at).toISOString(),
    cancelledAt: notification.cancelled_at ? new Date(notification.cancelled_at).toISOString() : null,
    progress: progressOf(notification, pending, counts.sent, nowMs),
    counts: {
      queued: pending,
      sent: counts.sent,
      failed: counts.failed,
      expired: counts.expired,
      suppressed: counts.suppressed,
      // Deliberately not sent: the holdout group of a trigger (stats compare it with the sent group).
      heldOut: counts.held_out,
      // Reported by service workers (POST /v1/interactions).
      shown: interactions.shown,
      clicked: interactions.clicked,
      dismissed: interactions.dismissed,
      // Orders attributed to a click on this notification within the attribution window.
      converted: conversions.converted,
    },
    revenue: conversions.revenue,
    // Why deliveries did not go (yet): per reason code and status, a count and the first delivery.
    problems,
  };
}

/** Where a send stands: written so far, the (estimated) total, what is left and when it should be done at the pace so far. */
export function progressOf(notification: Pick<NotificationRow, 'resolve_state' | 'audience_size' | 'scanned_count' | 'resolve_cursor' | 'cancelled_at' | 'created_at'>, pending: number, sent: number, nowMs: number): SendProgress {
  const resolving = notification.resolve_state === 'resolving';
  const resolved = notification.audience_size;
  const total = resolving
    ? estimateAudience({ scanned: notification.scanned_count, matched: resolved, cursor: notification.resolve_cursor, done: false })
    : resolved;
  const finished = resolved - pending;
  const remaining = notification.cancelled_at ? pending : Math.max(pending, total - finished);
  const elapsedSeconds = (nowMs - new Date(notification.created_at).getTime()) / 1000;
  const etaSeconds = remaining > 0 && finished > 0 && elapsedSeconds > 0 ? Math.ceil(remaining / (finished / elapsedSeconds)) : null;
  return { resolving, resolved, total, sent, remaining, etaSeconds };
}
