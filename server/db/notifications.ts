import { sql, type Expression, type Selectable, type SqlBool } from 'kysely';
import { isValidTimeZone, localTimeInstant } from '../delivery/time-zones.ts';
import type { Audience } from '../notifications/notification-input.ts';
import { segmentCondition } from '../segments/segment-rules.ts';
import type { Db, DeliveryStatus, LocalizedContent, NotificationContent, NotificationKind, NotificationsTable } from './database.ts';

export type NotificationRow = Selectable<NotificationsTable>;

/**
 * An A/B split: the subscribers whose bucket — the first 16 bits of md5(subscription id ‖ seed),
 * 0…65535 — lies in [from, to). The same seed puts a subscriber in the same bucket every time, so
 * a campaign's variants and its winner send never overlap and a retry picks the same people.
 */
export interface AudienceSplit {
  seed: string;
  from: number;
  to: number;
}

/**
 * A wave at a wall-clock time in each subscriber's own zone: each delivery is due when the clock
 * in its subscriber's time zone reads `localTime` (`YYYY-MM-DDTHH:MM`); a subscriber with no known
 * (or no valid) zone goes by `fallbackTimeZone`.
 */
export interface LocalTimeWave {
  localTime: string;
  fallbackTimeZone: string;
}

/** What a notification's audience is stored as: the send API's selectors, and what only campaigns set. */
export type StoredAudience = Audience & { split?: AudienceSplit; localTime?: LocalTimeWave };

/** The 65,536 buckets of an {@link AudienceSplit}. */
export const SPLIT_BUCKETS = 65_536;

export interface NewNotification {
  id: string;
  siteId: string;
  source: string;
  kind: NotificationKind;
  content: NotificationContent;
  /** The send API's selectors, or a trigger's description of whom it chose (stored for the record). */
  audience: StoredAudience | { trigger: string; [detail: string]: unknown };
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
  /** The campaign and variant this send belongs to (server/campaigns/). */
  campaignId?: string | null;
  variant?: string | null;
  /** Nothing more goes after this instant. */
  endsAt?: Date | null;
  /** Each delivery goes at its shopper's best hour within 24 hours. */
  bestHour?: boolean;
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
  await insertNotificationRow(db, notification, dueAt, 'done');
  const audience = await insertDeliveries(db, deliverySpec(notification, dueAt, triggerAudience));
  await db.updateTable('notifications').set({ audience_size: audience }).where('id', '=', notification.id).execute();
  return audience;
}

/** Subscriptions a chunk looks at: the next ones of the site's active subscriptions in id order. */
export const FIRST_CHUNK_SUBSCRIPTIONS = 1_000;

export interface ChunkResult {
  /** Delivery rows written (queued or held out). */
  inserted: number;
  /** Active subscriptions looked at, in the audience or not. */
  scanned: number;
  /** No subscription is left past the cursor: the audience is complete. */
  done: boolean;
  /** The last subscription id looked at (null when the site has none left). */
  cursor: string | null;
}

/**
 * Stores a notification whose audience is written in chunks (a send to everyone or to a tag, which
 * may be a million subscriptions), and writes its first chunk at once, so a small audience is
 * complete before the answer and a large one has its first pushes going within the request. The
 * rest is written by the workers (`resolveAudienceChunk`). Call inside a transaction; only `send`
 * calls it.
 */
export async function insertNotificationInChunks(db: Db, notification: NewNotification, dueAt: Date, firstChunk = FIRST_CHUNK_SUBSCRIPTIONS): Promise<ChunkResult> {
  await insertNotificationRow(db, notification, dueAt, 'resolving');
  return resolveAudienceChunk(
    db,
    { id: notification.id, site_id: notification.siteId, source: notification.source, priority: notification.priority ?? 10, audience: notification.audience as StoredAudience, holdout_percent: notification.holdoutPercent ?? 0, created_at: dueAt, resolve_cursor: null },
    firstChunk,
  );
}

/** What a chunk needs of a notification whose audience is being written. */
export interface ResolvingNotification {
  id: string;
  site_id: string;
  source: string;
  priority: number;
  audience: StoredAudience;
  holdout_percent: number;
  /** The send's instant: every delivery's due time. */
  created_at: Date;
  resolve_cursor: string | null;
}

/**
 * Writes the deliveries of the next `chunk` active subscriptions past the notification's cursor (a
 * keyset walk on `subscriptions_site_active_id_idx`), moves the cursor, and marks the audience
 * complete when no subscription is left. Each chunk's cost is bounded by `chunk` whatever the
 * filter: a tag that matches few subscribers still walks at most `chunk` of them. Call in the
 * transaction that holds the notification's row lock (`claimResolvingNotification`), so the cursor
 * and the rows move together and two workers never write the same chunk.
 */
export async function resolveAudienceChunk(db: Db, notification: ResolvingNotification, chunk: number): Promise<ChunkResult> {
  const range = (
    await sql<{ scanned: string; last: string | null }>`
      select count(*) as scanned, max(r.id::text) as last
      from (
        select id from subscriptions
        where site_id = ${notification.site_id} and status = 'active'
          ${notification.resolve_cursor ? sql`and id > ${notification.resolve_cursor}::uuid` : sql``}
        order by id
        limit ${chunk}
      ) r`.execute(db)
  ).rows[0]!;
  const scanned = Number(range.scanned);
  // The canonical text of a uuid sorts as the uuid does (fixed-width lower-case hex), so its max is the last id.
  const last = range.last;
  const done = scanned < chunk;
  let inserted = 0;
  if (last !== null) {
    const idRange = { after: notification.resolve_cursor, through: last };
    const localTime = notification.audience.localTime;
    inserted = await insertDeliveries(db, {
      notificationId: notification.id,
      siteId: notification.site_id,
      source: notification.source,
      priority: notification.priority,
      holdoutPercent: notification.holdout_percent,
      dueAt: notification.created_at,
      to: notification.audience,
      idRange,
      ...(localTime ? { dueByZone: await dueByZone(db, notification.site_id, idRange, localTime) } : {}),
    });
  }
  await db
    .updateTable('notifications')
    .set((eb) => ({
      resolve_cursor: last ?? notification.resolve_cursor,
      scanned_count: eb('scanned_count', '+', scanned),
      audience_size: eb('audience_size', '+', inserted),
      ...(done ? { resolve_state: 'done' as const } : {}),
    }))
    .where('id', '=', notification.id)
    .where('resolve_state', '=', 'resolving')
    .execute();
  return { inserted, scanned, done, cursor: last ?? notification.resolve_cursor };
}

/**
 * Locks the oldest notification whose audience is still being written and that no other worker
 * is writing (SKIP LOCKED), for the caller's transaction; undefined when there is none.
 */
export async function claimResolvingNotification(db: Db): Promise<ResolvingNotification | undefined> {
  const row = await db
    .selectFrom('notifications')
    .select(['id', 'site_id', 'source', 'priority', 'audience', 'holdout_percent', 'created_at', 'resolve_cursor'])
    .where('resolve_state', '=', 'resolving')
    .orderBy('created_at')
    .limit(1)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
  return row ? { ...row, audience: row.audience as StoredAudience, created_at: new Date(row.created_at) } : undefined;
}

/**
 * Stops a notification: no more of its audience is written, and what is still queued is
 * suppressed when a worker claims it (delivery-engine.ts), rather than in one update of maybe a
 * million rows here. Waits for a chunk being written to commit (its row lock). False when the
 * notification is not the site's or has nothing left that could still go.
 */
export async function cancelNotification(db: Db, siteId: string, id: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('notifications')
    .set((eb) => ({ cancelled_at: at, resolve_state: eb.case().when('resolve_state', '=', 'resolving').then('cancelled' as const).else(eb.ref('resolve_state')).end() }))
    .where('id', '=', id)
    .where('site_id', '=', siteId)
    .where('cancelled_at', 'is', null)
    // Something left that could still go: audience to write, or deliveries waiting (deliveries_notification_status_idx).
    .where((eb) =>
      eb.or([
        eb('resolve_state', '=', 'resolving'),
        eb.exists(eb.selectFrom('deliveries as d').select('d.id').whereRef('d.notification_id', '=', 'notifications.id').where('d.status', 'in', ['queued', 'sending'])),
      ]),
    )
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

async function insertNotificationRow(db: Db, notification: NewNotification, createdAt: Date, resolveState: 'resolving' | 'done'): Promise<void> {
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
      created_at: createdAt,
      resolve_state: resolveState,
      holdout_percent: Math.max(0, Math.min(100, notification.holdoutPercent ?? 0)),
      campaign_id: notification.campaignId ?? null,
      variant: notification.variant ?? null,
      ends_at: notification.endsAt ?? null,
      best_hour: notification.bestHour ?? false,
    })
    .execute();
}

/** Which deliveries one INSERT … SELECT writes. */
interface DeliverySpec {
  notificationId: string;
  siteId: string;
  source: string;
  priority: number;
  holdoutPercent: number;
  dueAt: Date;
  to: StoredAudience;
  triggerWhere?: Expression<SqlBool>;
  /** A local-time wave: each delivery due when its subscriber's zone reads the wave's time (else `dueAt`). */
  dueByZone?: ZoneInstants;
  /**
   * A chunk: subscriptions with ids in (after, through]. A shopper who subscribes during a long
   * send gets it if their (random) id falls past the cursor, as they would had they been quicker.
   */
  idRange?: { after: string | null; through: string };
}

function deliverySpec(notification: NewNotification, dueAt: Date, triggerAudience?: TriggerAudience): DeliverySpec {
  return {
    notificationId: notification.id,
    siteId: notification.siteId,
    source: notification.source,
    priority: notification.priority ?? 10,
    holdoutPercent: notification.holdoutPercent ?? 0,
    dueAt,
    to: triggerAudience ? { all: true } : (notification.audience as StoredAudience),
    ...(triggerAudience ? { triggerWhere: triggerAudience.where } : {}),
  };
}

/** One delivery row per active subscription of the spec's audience; returns how many were written. */
async function insertDeliveries(db: Db, spec: DeliverySpec): Promise<number> {
  const holdout = Math.max(0, Math.min(100, spec.holdoutPercent));
  const { to, idRange, dueByZone: zones } = spec;
  // A wave's delivery counts its TTL and its holdout window from its own due time, so it is both
  // the delivery's due_at and its created_at.
  const due = zones
    ? sql<Date>`coalesce((select z.at from unnest(${zones.zones}::text[], ${zones.instants}::timestamptz[]) as z(zone, at) where z.zone = s.time_zone), ${zones.fallback}::timestamptz)`
    : sql<Date>`${spec.dueAt}::timestamptz`;
  const split = to.split;
  // A segment's subqueries make the plan look costly enough for JIT, whose compiling (0.3–1 s)
  // costs more than a chunk's whole work; off for this transaction only (every caller holds one).
  if (!to.all && to.segment !== undefined) await sql`select set_config('jit', 'off', true)`.execute(db);
  const result = await db
    .insertInto('deliveries')
    .columns(['notification_id', 'subscription_id', 'endpoint', 'report_token', 'due_at', 'priority', 'status', 'created_at', 'updated_at'])
    .expression((eb) =>
      eb
        .selectFrom('subscriptions as s')
        .select([
          sql<string>`${spec.notificationId}::uuid`.as('notification_id'),
          's.id',
          's.endpoint',
          // 128 random bits from the database's own CSPRNG (gen_random_uuid), as 32 hex characters.
          sql<string>`replace(gen_random_uuid()::text, '-', '')`.as('report_token'),
          due.as('due_at'),
          sql<number>`${spec.priority}::smallint`.as('priority'),
          // The holdout draw hashes (subscription, trigger): a shopper stays in the same group for
          // every push of that trigger (both cart steps, every price drop), so the groups compare
          // "gets this trigger" with "never does". 16 bits of md5 give 0.0015 % resolution.
          (holdout > 0
            ? sql<DeliveryStatus>`case when (get_byte(decode(md5(s.id::text || ${spec.source}), 'hex'), 0) * 256
                + get_byte(decode(md5(s.id::text || ${spec.source}), 'hex'), 1)) < ${Math.round((holdout / 100) * 65536)}
                then 'held_out' else 'queued' end`
            : sql<DeliveryStatus>`'queued'`
          ).as('status'),
          // The caller's clock, as for the notification: holdout windows count from a delivery's created_at.
          due.as('created_at'),
          sql<Date>`${spec.dueAt}::timestamptz`.as('updated_at'),
        ])
        .where('s.site_id', '=', spec.siteId)
        .where('s.status', '=', 'active')
        .$if(idRange !== undefined, (qb) =>
          qb
            .$if(idRange!.after !== null, (q) => q.where('s.id', '>', idRange!.after!))
            .where('s.id', '<=', idRange!.through),
        )
        .$if(spec.triggerWhere !== undefined, (qb) => qb.where(spec.triggerWhere!))
        // "Within N days" counts back from the notification's created_at (dueAt), for every chunk alike.
        .where(audienceCondition(to, spec.dueAt, spec.siteId)),
    )
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

/**
 * Which of a site's active subscriptions (alias `s`) an audience takes: its selectors (any of the
 * id lists; all of the tags), and a campaign's split. One expression for writing the deliveries and
 * for counting them beforehand, so a count is what a send resolves. `at` is the send's instant:
 * rules over time ("within N days") count back from it.
 */
export function audienceCondition(to: StoredAudience, at: Date, siteId?: string): Expression<SqlBool> {
  const conditions: Array<Expression<SqlBool>> = [];
  if (!to.all) {
    const ids: Array<Expression<SqlBool>> = [];
    if (to.subscriptionIds) ids.push(sql<SqlBool>`s.id = any(${to.subscriptionIds}::uuid[])`);
    if (to.externalUserIds) ids.push(sql<SqlBool>`s.external_user_id = any(${to.externalUserIds}::text[])`);
    if (to.visitorIds) ids.push(sql<SqlBool>`s.visitor_id = any(${to.visitorIds}::text[])`);
    if (ids.length > 0) conditions.push(sql<SqlBool>`(${sql.join(ids, sql` or `)})`);
    if (to.tags !== undefined) conditions.push(sql<SqlBool>`s.tags @> ${JSON.stringify(to.tags)}::jsonb`);
    if (to.segment !== undefined) conditions.push(segmentCondition(to.segment, at, siteId));
  }
  if (to.split) {
    conditions.push(sql<SqlBool>`${splitBucket(to.split.seed)} >= ${to.split.from}`, sql<SqlBool>`${splitBucket(to.split.seed)} < ${to.split.to}`);
  }
  return conditions.length === 0 ? sql<SqlBool>`true` : sql<SqlBool>`${sql.join(conditions, sql` and `)}`;
}

/** Active subscriptions of the site in the audience, now. */
export async function countAudience(db: Db, siteId: string, to: StoredAudience, at: Date): Promise<number> {
  const row = await sql<{ count: string }>`
    select count(*) as count from subscriptions s
    where s.site_id = ${siteId} and s.status = 'active' and ${audienceCondition(to, at, siteId)}`.execute(db);
  return Number(row.rows[0]!.count);
}

/** The audience per time zone (null: none known), for when a local-time wave reaches whom. */
export async function audienceByTimeZone(db: Db, siteId: string, to: StoredAudience, at: Date): Promise<Array<{ timeZone: string | null; count: number }>> {
  const rows = await sql<{ time_zone: string | null; count: string }>`
    select s.time_zone, count(*) as count from subscriptions s
    where s.site_id = ${siteId} and s.status = 'active' and ${audienceCondition(to, at, siteId)}
    group by s.time_zone`.execute(db);
  return rows.rows.map((row) => ({ timeZone: row.time_zone, count: Number(row.count) }));
}

/** The subscriber's bucket of an {@link AudienceSplit}: the first 16 bits of md5(id ‖ seed). */
function splitBucket(seed: string) {
  return sql<number>`(get_byte(decode(md5(s.id::text || ${seed}), 'hex'), 0) * 256 + get_byte(decode(md5(s.id::text || ${seed}), 'hex'), 1))`;
}

/** When a wave is due in each zone of a chunk's subscribers, and for those with no valid zone. */
export interface ZoneInstants {
  zones: string[];
  instants: Date[];
  fallback: Date;
}

/**
 * The due instant of a local-time wave for each distinct zone among the chunk's subscribers,
 * computed with the runtime's tz database (time-zones.ts, as quiet hours are): the same rules on
 * Node and Workers, across DST changes, and a zone Postgres would not know cannot fail the insert.
 */
async function dueByZone(db: Db, siteId: string, range: { after: string | null; through: string }, wave: LocalTimeWave): Promise<ZoneInstants> {
  const rows = await db
    .selectFrom('subscriptions')
    .select('time_zone')
    .distinct()
    .where('site_id', '=', siteId)
    .where('status', '=', 'active')
    .$if(range.after !== null, (qb) => qb.where('id', '>', range.after!))
    .where('id', '<=', range.through)
    .where('time_zone', 'is not', null)
    .execute();
  const zones: string[] = [];
  const instants: Date[] = [];
  for (const { time_zone: zone } of rows) {
    if (zone === null || !isValidTimeZone(zone)) continue;
    zones.push(zone);
    instants.push(localTimeInstant(wave.localTime, zone));
  }
  return { zones, instants, fallback: localTimeInstant(wave.localTime, wave.fallbackTimeZone) };
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
