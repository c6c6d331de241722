import { sql } from 'kysely';
import type { Db } from './database.ts';
import { HOUR_SECONDS } from '../time.ts';

/** Idempotency keys are honoured for at least this long (Stripe keeps them 24 h). */
export const IDEMPOTENCY_RETENTION_SECONDS = 48 * HOUR_SECONDS;

export type IdempotencyClaim =
  | { outcome: 'claimed' }
  | { outcome: 'existing'; requestHash: string; responseStatus: number; responseBody: unknown };

/**
 * Takes `key` for this request, or returns what the first request with it answered. Call inside
 * the transaction that does the work: a concurrent request with the same key blocks on the unique
 * index until that transaction ends, then sees its stored answer — never a second send.
 */
export async function claimIdempotencyKey(db: Db, siteId: string, key: string, requestHash: string, now: Date): Promise<IdempotencyClaim> {
  const inserted = await db
    .insertInto('idempotency_keys')
    // Stamped with the caller's clock: purgeIdempotencyKeys measures retention against the same clock.
    .values({ site_id: siteId, key, request_hash: requestHash, response_status: 0, response_body: 'null', created_at: now })
    .onConflict((oc) => oc.columns(['site_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return { outcome: 'claimed' };
  const existing = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response_status', 'response_body'])
    .where('site_id', '=', siteId)
    .where('key', '=', key)
    .executeTakeFirstOrThrow();
  return {
    outcome: 'existing',
    requestHash: existing.request_hash,
    responseStatus: existing.response_status,
    responseBody: existing.response_body,
  };
}

export async function storeIdempotentResponse(db: Db, siteId: string, key: string, status: number, body: unknown): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ response_status: status, response_body: JSON.stringify(body) })
    .where('site_id', '=', siteId)
    .where('key', '=', key)
    .execute();
}

export async function purgeIdempotencyKeys(db: Db, nowMs: number): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', sql<Date>`${new Date(nowMs)}::timestamptz - make_interval(secs => ${IDEMPOTENCY_RETENTION_SECONDS})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
