/**
 * Writing large audiences (a send to everyone or to a tag) into the outbox, a chunk at a time, as
 * part of every background round. Each chunk is one transaction holding the notification's row
 * lock (SKIP LOCKED, so two workers write two notifications, or one waits for nothing): the
 * deliveries and the cursor commit together, so a crash loses no chunk and repeats none, and the
 * unique (notification, subscription) pair keeps each subscriber to one delivery whatever happens.
 */
import type { Db } from '../db/database.ts';
import { claimResolvingNotification, resolveAudienceChunk } from '../db/notifications.ts';

/** Subscriptions one chunk walks: a transaction of a few hundred milliseconds, small next to the minutes a large send takes to go out. */
export const AUDIENCE_CHUNK_SUBSCRIPTIONS = 10_000;

export interface ResolveReport {
  chunks: number;
  /** Delivery rows written. */
  written: number;
  /** Stopped by the deadline or the signal with audiences still to write. */
  moreDue: boolean;
}

export interface AudienceResolver {
  /** Settles when the resolver stops: nothing left, out of time, or an error (thrown). */
  done: Promise<ResolveReport>;
  /** True until `done` settles. */
  readonly running: boolean;
  /** Settles at the next committed chunk or when the resolver stops, whichever comes first. */
  progress(): Promise<void>;
}

/**
 * Writes chunks until no notification is left to resolve, `now()` passes `deadlineMs`, or `signal`
 * aborts; the round's delivery lanes send what each chunk wrote meanwhile.
 */
export function startAudienceResolver(
  db: Db,
  options: { now: () => number; deadlineMs: number; signal?: AbortSignal; chunk?: number },
): AudienceResolver {
  const chunk = options.chunk ?? AUDIENCE_CHUNK_SUBSCRIPTIONS;
  let running = true;
  let wake: (() => void) | undefined;
  let next = new Promise<void>((resolve) => (wake = resolve));
  const tick = () => {
    const resolveNow = wake!;
    next = new Promise<void>((resolve) => (wake = resolve));
    resolveNow();
  };
  const done = (async (): Promise<ResolveReport> => {
    const report: ResolveReport = { chunks: 0, written: 0, moreDue: false };
    try {
      for (;;) {
        if (options.signal?.aborted || options.now() >= options.deadlineMs) {
          report.moreDue = (await db.selectFrom('notifications').select('id').where('resolve_state', '=', 'resolving').limit(1).executeTakeFirst()) !== undefined;
          return report;
        }
        const result = await db.transaction().execute(async (trx) => {
          const notification = await claimResolvingNotification(trx);
          return notification ? resolveAudienceChunk(trx, notification, chunk) : undefined;
        });
        if (!result) return report;
        report.chunks++;
        report.written += result.inserted;
        tick();
      }
    } finally {
      running = false;
      tick();
    }
  })();
  return {
    done,
    get running() {
      return running;
    },
    progress: () => next,
  };
}
