import { sql, type Selectable } from 'kysely';
import type { Db, SubscriptionsTable } from './database.ts';

export type SubscriptionRow = Selectable<SubscriptionsTable>;

export interface SubscriptionInput {
  siteId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  vapidPublicKey: string;
  visitorId: string;
  /** Set only when the shop's backend vouched for it (identify); null keeps what is stored. */
  externalUserId?: string | null;
  locale: string | null;
  timeZone: string | null;
  userAgentFamily: string | null;
}

export type UpsertResult = { outcome: 'created' | 'updated'; id: string } | { outcome: 'held_by_other_site' };

/**
 * One row per endpoint, however many times or however concurrently it is posted: the unique
 * index decides, not a read-then-write. A repost refreshes keys and context and re-activates an
 * expired or unsubscribed row; a row owned by another site is left untouched.
 */
export async function upsertSubscription(db: Db, input: SubscriptionInput, now: Date): Promise<UpsertResult> {
  // The group's statement with a group of one: one definition of what a repost refreshes.
  return (await upsertSubscriptions(db, [input], now))[0]!;
}

/**
 * upsertSubscription for many subscriptions in one statement (a group of requests), with the same
 * outcome per subscription. `xmax` is 0 on a freshly inserted tuple and set on an updated one: it
 * tells the two apart in the same round trip. One statement may not update a row twice, so an endpoint posted twice
 * in the group is written by a second statement after the first (as if it came later). Rows are
 * written in endpoint order, so two groups racing on the same endpoints lock them in the same order.
 */
export async function upsertSubscriptions(db: Db, inputs: SubscriptionInput[], now: Date): Promise<UpsertResult[]> {
  if (!db.isTransaction) return db.transaction().execute((trx) => upsertSubscriptions(trx, inputs, now));
  // A new row reads its shopper's activity from the events (a trigger); the shopper's lock makes
  // events written at this moment wait, or be seen (migrations/2026-11-29T0700-shopper-activity.ts).
  const keys = inputs.flatMap((input) => [
    { site: input.siteId, kind: 'v', key: input.visitorId },
    { site: input.siteId, kind: 'u', key: input.externalUserId ?? null },
  ]);
  await sql`select lock_shoppers(${keys.map((k) => k.site)}::uuid[], ${keys.map((k) => k.kind)}::text[], ${keys.map((k) => k.key)}::text[])`.execute(db);
  const results: UpsertResult[] = new Array(inputs.length);
  let remaining = inputs.map((input, index) => ({ input, index }));
  while (remaining.length > 0) {
    const round = new Map<string, { input: SubscriptionInput; index: number }>();
    const later: typeof remaining = [];
    for (const entry of remaining) {
      if (round.has(entry.input.endpoint)) later.push(entry);
      else round.set(entry.input.endpoint, entry);
    }
    const batch = [...round.values()].sort((a, b) => (a.input.endpoint < b.input.endpoint ? -1 : a.input.endpoint > b.input.endpoint ? 1 : 0));
    const rows = await db
      .insertInto('subscriptions')
      .values(
        batch.map(({ input }) => ({
          site_id: input.siteId,
          endpoint: input.endpoint,
          p256dh: input.p256dh,
          auth: input.auth,
          vapid_public_key: input.vapidPublicKey,
          visitor_id: input.visitorId,
          external_user_id: input.externalUserId ?? null,
          locale: input.locale,
          time_zone: input.timeZone,
          user_agent_family: input.userAgentFamily,
          created_at: now,
          updated_at: now,
          last_seen_at: now,
        })),
      )
      .onConflict((oc) =>
        oc
          .column('endpoint')
          .doUpdateSet((eb) => ({
            p256dh: eb.ref('excluded.p256dh'),
            auth: eb.ref('excluded.auth'),
            vapid_public_key: eb.ref('excluded.vapid_public_key'),
            visitor_id: eb.ref('excluded.visitor_id'),
            external_user_id: eb.fn.coalesce('excluded.external_user_id', 'subscriptions.external_user_id'),
            locale: eb.fn.coalesce('excluded.locale', 'subscriptions.locale'),
            time_zone: eb.fn.coalesce('excluded.time_zone', 'subscriptions.time_zone'),
            user_agent_family: eb.fn.coalesce('excluded.user_agent_family', 'subscriptions.user_agent_family'),
            status: sql.lit('active'),
            updated_at: eb.ref('excluded.updated_at'),
            last_seen_at: eb.ref('excluded.last_seen_at'),
          }))
          .where('subscriptions.site_id', '=', (eb) => eb.ref('excluded.site_id')),
      )
      .returning(['id', 'endpoint', sql<boolean>`(xmax = 0)`.as('inserted')])
      .execute();
    const byEndpoint = new Map(rows.map((row) => [row.endpoint, row]));
    for (const { input, index } of batch) {
      const row = byEndpoint.get(input.endpoint);
      results[index] = row ? { outcome: row.inserted ? 'created' : 'updated', id: row.id } : { outcome: 'held_by_other_site' };
    }
    remaining = later;
  }
  return results;
}

export async function unsubscribeByEndpoint(db: Db, siteId: string, endpoint: string, now: Date): Promise<string | undefined> {
  const row = await db
    .updateTable('subscriptions')
    .set({ status: 'unsubscribed', updated_at: now })
    .where('site_id', '=', siteId)
    .where('endpoint', '=', endpoint)
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

export async function findSubscriptionByEndpoint(db: Db, endpoint: string): Promise<SubscriptionRow | undefined> {
  return db.selectFrom('subscriptions').selectAll().where('endpoint', '=', endpoint).executeTakeFirst();
}

/**
 * pushsubscriptionchange: the browser replaced the endpoint. Swaps it in place (keeping the row's
 * id, tags and history) in one statement, guarded by the old endpoint so a concurrent swap wins
 * once. When the new endpoint already has its own row (the page re-synced first), that row is kept
 * and the old one expired.
 */
export async function renewSubscription(
  db: Db,
  old: { id: string; endpoint: string },
  renewed: { endpoint: string; p256dh: string; auth: string; vapidPublicKey: string },
  now: Date,
): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    const existing = await findSubscriptionByEndpoint(trx, renewed.endpoint);
    if (existing) {
      await trx.updateTable('subscriptions').set({ status: 'expired', updated_at: now }).where('id', '=', old.id).execute();
      return existing.id;
    }
    const row = await trx
      .updateTable('subscriptions')
      .set({
        endpoint: renewed.endpoint,
        p256dh: renewed.p256dh,
        auth: renewed.auth,
        vapid_public_key: renewed.vapidPublicKey,
        status: 'active',
        updated_at: now,
        last_seen_at: now,
      })
      .where('id', '=', old.id)
      .where('endpoint', '=', old.endpoint)
      .returning('id')
      .executeTakeFirst();
    return row?.id;
  });
}
