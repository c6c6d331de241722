import { sql } from 'kysely';
import type { QueueState } from '../metrics/metrics.ts';
import type { Db } from './database.ts';

/**
 * Due deliveries counted at most: the count walks `deliveries_due_idx` (partial on queued/sending,
 * by `due_at`, the claim's own index) and stops here, so a scrape during a fan-out of millions
 * reads a bounded slice of one index, never the table. The gauge then reads "at least this many".
 */
export const QUEUE_DEPTH_CAP = 100_000;

/**
 * The outbox at `nowMs`: how many deliveries are due (queued, or leased by a worker whose lease
 * lapsed) and how long the longest-waiting one has been due — the first entry of the same index.
 */
export async function readQueueState(db: Db, nowMs: number): Promise<QueueState> {
  const now = new Date(nowMs);
  const row = (
    await sql<{ due: number; oldest: Date | null }>`
      select count(*)::int as due, min(d.due_at) as oldest
      from (
        select due_at from deliveries
        where status in ('queued', 'sending') and due_at <= ${now}
        order by due_at
        limit ${QUEUE_DEPTH_CAP}
      ) d`.execute(db)
  ).rows[0]!;
  return {
    dueDeliveries: row.due,
    oldestDueAgeSeconds: row.oldest ? Math.max(0, (nowMs - row.oldest.getTime()) / 1000) : 0,
  };
}
