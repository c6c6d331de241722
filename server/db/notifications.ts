import { sql, type Expression, type Selectable, type SqlBool } from 'kysely';
import type { Audience } from '../notifications/notification-input.ts';
import type { Db, DeliveryStatus, LocalizedContent, NotificationContent, NotificationKind, NotificationsTable } from './database.ts';

export type NotificationRow = Selectable<NotificationsTable>;

export interface NewNotification {
  id: string;
  siteId: string;
  source: string;
  kind: NotificationKind;
  content: NotificationContent;
  /** The send API's selectors, or a trigger's description of whom it chose (stored for the record). */
  audience: Audience | { trigger: string; [detail: string]: unknown };
  ttlSeconds: number;
  urgency: string;
  topic: string | null;
  /** Higher goes first when several pushes wait for one subscriber; `send` sets it from kind and source (`priorityFor`). */
  priority?: number;
  /** What a trigger fired for (a cart id, a product id): re-checked at send time. */
  triggerKey?: string | null;
  /** The text per locale; each delivery picks its subscriber's, falling back to `content`. */
  localized?: Record<string, LocalizedContent> | null;
  /** Share of the audience (0–100) deliberately not sent, recorded `held_out`, to measure lift. */
  holdoutPercent?: number;
}

/** Subscribers chosen by a trigger rather than by the send API's selectors; `s` is subscriptions. */
export interface TriggerAudience {
  where: Expression<SqlBool>;
}

/**
 * Stores a notification and fans it out into the outbox in one INSERT … SELECT: one delivery row per
 * active subscription in the audience, resolved by Postgres, with no per-subscriber round trip and
 * nothing loaded into memory. Returns the audience size. Call inside a transaction. Checks nothing:
 * only `send` (server/notifications/send.ts), which checks click targets, size, idempotency and
 * priority first, calls it (its test keeps it so).
 */
export async function insertNotificationWithDeliveries(
  db: Db,
  notification: NewNotification,
  dueAt: Date,
  triggerAudience?: TriggerAudience,
): Promise<number> {
  const holdout = Math.max(0, Math.min(100, notification.holdoutPercent ?? 0));
  await db
    .insertInto('notifications')
    .values({
      id: notification.id,
      site_id: notification.siteId,
      source: notification.source,
      kind: notification.kind,
      content: JSON.stringify(notification.content),
      audience: JSON.stringify(notification.audience),
      ttl_seconds: notification.ttlSeconds,
      urgency: notification.urgency,
      topic: notification.topic,
      priority: notification.priority ?? 10,
      trigger_key: notification.triggerKey ?? null,
      localized: notification.localized ? JSON.stringify(notification.localized) : null,
      // The caller's clock, not the database's: TTLs and attribution windows count from here.
      created_at: dueAt,
    })
    .execute();

  const to: Audience = triggerAudience ? { all: true } : (notification.audience as Audience);
  const result = await db
    .insertInto('deliveries')
    .columns(['notification_id', 'subscription_id', 'endpoint', 'report_token', 'due_at', 'priority', 'status', 'created_at', 'updated_at'])
    .expression((eb) =>
      eb
        .selectFrom('subscriptions as s')
        .select([
          sql<string>`${notification.id}::uuid`.as('notification_id'),
          's.id',
          's.endpoint',
          // 128 random bits from the database's own CSPRNG (gen_random_uuid), as 32 hex characters.
          sql<string>`replace(gen_random_uuid()::text, '-', '')`.as('report_token'),
          sql<Date>`${dueAt}::timestamptz`.as('due_at'),
          sql<number>`${notification.priority ?? 10}::smallint`.as('priority'),
          // The holdout draw hashes (subscription, trigger): a shopper stays in the same group for
          // every push of that trigger (both cart steps, every price drop), so the groups compare
          // "gets this trigger" with "never does". 16 bits of md5 give 0.0015 % resolution.
          (holdout > 0
            ? sql<DeliveryStatus>`case when (get_byte(decode(md5(s.id::text || ${notification.source}), 'hex'), 0) * 256
                + get_byte(decode(md5(s.id::text || ${notification.source}), 'hex'), 1)) < ${Math.round((holdout / 100) * 65536)}
                then 'held_out' else 'queued' end`
            : sql<DeliveryStatus>`'queued'`
          ).as('status'),
          // The caller's clock, as for the notification: holdout windows count from a delivery's created_at.
          sql<Date>`${dueAt}::timestamptz`.as('created_at'),
          sql<Date>`${dueAt}::timestamptz`.as('updated_at'),
        ])
        .where('s.site_id', '=', notification.siteId)
        .where('s.status', '=', 'active')
        .$if(triggerAudience !== undefined, (qb) => qb.where(triggerAudience!.where))
        .$if(!to.all && Boolean(to.subscriptionIds || to.externalUserIds || to.visitorIds), (qb) =>
          qb.where((w) =>
            w.or([
              ...(to.subscriptionIds ? [w('s.id', 'in', to.subscriptionIds)] : []),
              ...(to.externalUserIds ? [w('s.external_user_id', 'in', to.externalUserIds)] : []),
              ...(to.visitorIds ? [w('s.visitor_id', 'in', to.visitorIds)] : []),
            ]),
          ),
        )
        .$if(!to.all && to.tags !== undefined, (qb) => qb.where(sql<boolean>`s.tags @> ${JSON.stringify(to.tags)}::jsonb`)),
    )
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  const audience = Number(result.numInsertedOrUpdatedRows ?? 0n);
  await db.updateTable('notifications').set({ audience_size: audience }).where('id', '=', notification.id).execute();
  return audience;
}

export async function findNotification(db: Db, siteId: string, id: string): Promise<NotificationRow | undefined> {
  return db.selectFrom('notifications').selectAll().where('site_id', '=', siteId).where('id', '=', id).executeTakeFirst();
}

export type DeliveryCounts = Record<DeliveryStatus, number>;

export async function deliveryCounts(db: Db, notificationId: string): Promise<DeliveryCounts> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['status', (eb) => eb.fn.countAll<string>().as('count')])
    .where('notification_id', '=', notificationId)
    .groupBy('status')
    .execute();
  const counts: DeliveryCounts = { queued: 0, sending: 0, sent: 0, failed: 0, expired: 0, suppressed: 0, held_out: 0 };
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}

/** One kind of trouble among a notification's deliveries: its reason code, how many, and its first delivery. */
export interface DeliveryProblem {
  /** The code before the first `:` of `last_error` (see server/delivery/delivery-reasons.ts), `other` when there is none. */
  reason: string;
  /** `queued` (a retry in flight counts as queued, as in the counts), `failed`, `expired` or `suppressed`. */
  status: DeliveryStatus;
  count: number;
  example: {
    deliveryId: string;
    /** Null when the subscriber was erased since (GDPR art. 17): the delivery is only counted. */
    subscriptionId: string | null;
    attempts: number;
    lastStatus: number | null;
    lastError: string;
    /** Only for a delivery that waits: when it goes again. */
    until?: string;
  };
}

/** Caps the answer even if `last_error` held codes nobody planned for; the known codes are far fewer. */
const MAX_PROBLEM_GROUPS = 50;

/**
 * Why a notification's deliveries did not go (yet), grouped by status and reason code. Reads only
 * rows not sent — the (notification_id, status) index skips the sent ones — aggregates them in
 * Postgres, and reads one example row per group, so a notification with a million deliveries costs
 * one grouped scan and a handful of row reads, never a million rows over the wire.
 */
export async function deliveryProblems(db: Db, notificationId: string): Promise<DeliveryProblem[]> {
  const result = await sql<{
    status: DeliveryStatus;
    reason: string;
    count: string;
    id: string;
    subscription_id: string | null;
    attempts: number;
    last_status: number | null;
    last_error: string;
    example_status: DeliveryStatus;
    due_at: Date;
  }>`
    with problems as (
      -- The code as reasonOf (server/delivery/delivery-reasons.ts) reads it: the text before the first colon.
      select case when d.status = 'sending' then 'queued' else d.status end as status,
        case when d.last_error ~ '^[a-z][a-z0-9_]*:' then split_part(d.last_error, ':', 1) else 'other' end as reason,
        d.id
      from deliveries d
      where d.notification_id = ${notificationId}
        and d.status in ('queued', 'sending', 'failed', 'expired', 'suppressed')
        and d.last_error is not null
    ), groups as (
      select status, reason, count(*) as count, min(id) as example_id from problems
      group by status, reason
      order by count(*) desc, reason, status
      limit ${MAX_PROBLEM_GROUPS}
    )
    select g.status, g.reason, g.count, d.id::text as id, d.subscription_id, d.attempts, d.last_status, d.last_error, d.status as example_status, d.due_at
    from groups g join deliveries d on d.id = g.example_id
    order by g.count desc, g.reason, g.status`.execute(db);
  return result.rows.map((row) => ({
    reason: row.reason,
    status: row.status,
    count: Number(row.count),
    example: {
      deliveryId: row.id,
      subscriptionId: row.subscription_id,
      attempts: row.attempts,
      lastStatus: row.last_status,
      lastError: row.last_error,
      // A queued row's due_at is when it goes again; a sending row's is only when its lease lapses.
      ...(row.example_status === 'queued' ? { until: new Date(row.due_at).toISOString() } : {}),
    },
  }));
}
