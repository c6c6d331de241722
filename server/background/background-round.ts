import { SESSION_LIFETIME } from '../accounts/sessions.ts';
import type { Db } from '../db/database.ts';
import { purgeExpiredAuditEntries } from '../audit/audit-log.ts';
import { purgeIdempotencyKeys } from '../db/idempotency-keys.ts';
import { purgePriceHistory } from '../db/price-history.ts';
import { purgeLowStockClaims } from '../triggers/low-stock.ts';
import { deleteExpiredInvites } from '../db/invites.ts';
import { deleteExpiredPasswordLinks } from '../db/password-links.ts';
import { deleteExpiredSessions } from '../db/sessions.ts';
import { deliverBatch, type Deliverer } from '../delivery/delivery-engine.ts';
import { startAudienceResolver, type AudienceResolver } from './audience-resolver.ts';
import { describeError } from '../logger.ts';
import { HOUR_MS, SECOND_MS } from '../time.ts';
import { fireDueTriggers } from '../triggers/due-triggers.ts';
import { runCampaignWork } from '../campaigns/campaigns.ts';
import { reportUrl } from '../notifications/payload.ts';

/**
 * A round of background work: everything that happens without a request, in one function every
 * runtime calls. The Node server and `pushcart worker` run rounds back to back (background-worker.ts);
 * the Workers cron trigger and Queue consumer run one round per invocation. A round does, in order:
 *
 * 1. scheduled work, when due: cart reminders whose step fell due, a page of carts at a time until
 *    none is left; campaigns whose start or A/B decision time has come, and finished ones marked
 *    sent (campaigns/campaigns.ts);
 * 2. housekeeping, when due: idempotency keys past their retention are dropped, and the dashboard's
 *    sessions, password links and invites that can no longer be used (their hashes are worth
 *    nothing to anyone, and a table of dead sessions only slows the live ones);
 * 3. delivery: batches are claimed and sent until nothing is due or the budget is spent, while
 *    beside it the audiences of large sends are written into the outbox a chunk at a time
 *    (audience-resolver.ts): the lanes send each chunk as it commits.
 *
 * Every part is safe to run in any number of places at once: carts and deliveries are claimed
 * with SKIP LOCKED, and a purge deletes what any other purge would.
 */

export interface RoundBudget {
  /**
   * How long the round keeps starting new work, on the deliverer's clock: a batch already in
   * flight at the deadline still finishes. Scheduled work gets at most half of it, so a flood of
   * due carts cannot hold back pushes that are already queued.
   */
  timeMs: number;
  /** Pushes claimed at most (Workers cap the subrequests of one invocation). */
  pushes: number;
}

/**
 * When the periodic parts of a round are next due (ms on the deliverer's clock). Whoever runs
 * rounds back to back keeps one and the round moves it on; a fresh `everythingDue()` makes a round
 * do everything, as a Workers cron run does.
 */
export interface RoundTimetable {
  scheduledWorkAtMs: number;
  housekeepingAtMs: number;
}

export interface RoundCadence {
  scheduledWorkEveryMs: number;
  housekeepingEveryMs: number;
}

/** Due carts are reminded within this long of their step falling due (plus the length of a round). */
export const SCHEDULED_WORK_EVERY_MS = 30 * SECOND_MS;
/** Idempotency keys, dead sessions and expired links outlive their time by at most this much. */
export const HOUSEKEEPING_EVERY_MS = HOUR_MS;

export const DEFAULT_ROUND_CADENCE: RoundCadence = {
  scheduledWorkEveryMs: SCHEDULED_WORK_EVERY_MS,
  housekeepingEveryMs: HOUSEKEEPING_EVERY_MS,
};

export function everythingDue(): RoundTimetable {
  return { scheduledWorkAtMs: 0, housekeepingAtMs: 0 };
}

export interface RoundOptions {
  budget: RoundBudget;
  timetable: RoundTimetable;
  cadence?: RoundCadence;
  /**
   * Claim-and-send loops side by side: while Postgres writes one batch's results, another batch
   * keeps the CPU busy. Default: the deliverer's `concurrentBatches`.
   */
  lanes?: number;
  /** Stops starting new work (a shutdown): what is in flight finishes, nothing new is claimed. */
  signal?: AbortSignal;
  /** Subscriptions per chunk of a large audience (default AUDIENCE_CHUNK_SUBSCRIPTIONS); tests make it small. */
  audienceChunk?: number;
}

export type RoundStop = 'idle' | 'time_budget' | 'push_budget' | 'aborted';

/** What a round did, for the log line that says so. */
export interface RoundReport {
  claimed: number;
  batches: number;
  /** Why delivery stopped: `idle` when nothing was left to claim. */
  stoppedBy: RoundStop;
  /** Carts whose reminder step was handled; null when scheduled work was not due. */
  cartReminders: { carts: number; queued: number } | null;
  /** Campaigns started, A/B tests decided, campaigns finished; null when scheduled work was not due (or failed, which is logged). */
  campaigns: { started: number; decided: number; finished: number } | null;
  /** Idempotency keys dropped; null when housekeeping was not due (or failed, which is logged). */
  purgedIdempotencyKeys: number | null;
  /** Dashboard records dropped; null when housekeeping was not due (or failed, which is logged). */
  purgedDashboardRecords: DashboardPurge | null;
  /** Price-history rows and low-stock claims dropped; null when housekeeping was not due (or failed, which is logged). */
  purgedCatalogueHistory: { priceHistory: number; lowStockClaims: number } | null;
  /** Chunks of large audiences written into the outbox, and their delivery rows. */
  audienceChunks: number;
  audienceRowsWritten: number;
  /** Work may be left (a budget ran out): the next round should start now, not after a pause. */
  moreDue: boolean;
  elapsedMs: number;
}

export interface DashboardPurge {
  sessions: number;
  passwordLinks: number;
  invites: number;
  auditEntries: number;
}

/**
 * Sessions past their idle or absolute limit, password links and invites past their expiry (used
 * or not), audit log entries past their retention, at `now`.
 */
async function purgeDashboardRecords(db: Db, now: Date): Promise<DashboardPurge> {
  return {
    sessions: await deleteExpiredSessions(db, now, SESSION_LIFETIME),
    passwordLinks: await deleteExpiredPasswordLinks(db, now),
    invites: await deleteExpiredInvites(db, now),
    auditEntries: await purgeExpiredAuditEntries(db, now),
  };
}

/**
 * Runs one round with `deliverer` (its database, clock, transport and caches). A failing cart scan
 * or purge is logged and does not stop the deliveries; a failing delivery batch (the database is
 * down) ends the round with its error once the other lanes have stopped, so the caller can back
 * off or ask for a retry.
 */
export async function runBackgroundRound(deliverer: Deliverer, options: RoundOptions): Promise<RoundReport> {
  const { db, config, logger } = deliverer.deps;
  const cadence = options.cadence ?? DEFAULT_ROUND_CADENCE;
  const { timetable, budget, signal } = options;
  const startedAtMs = deliverer.now();
  const report: RoundReport = {
    claimed: 0,
    batches: 0,
    stoppedBy: 'idle',
    cartReminders: null,
    campaigns: null,
    purgedIdempotencyKeys: null,
    purgedDashboardRecords: null,
    purgedCatalogueHistory: null,
    audienceChunks: 0,
    audienceRowsWritten: 0,
    moreDue: false,
    elapsedMs: 0,
  };

  if (startedAtMs >= timetable.scheduledWorkAtMs && !signal?.aborted) {
    const triggers = await fireDueTriggers(
      { db, logger, publicUrl: config.publicUrl, now: deliverer.now },
      { deadlineMs: startedAtMs + budget.timeMs / 2, ...(signal ? { signal } : {}) },
    );
    report.cartReminders = { carts: triggers.carts, queued: triggers.queued.length };
    deliverer.deps.metrics?.triggerRun('cart_reminders', triggers.queued.length);
    let campaignsMoreDue = false;
    try {
      const campaigns = await runCampaignWork({ db, reportUrl: reportUrl(config.publicUrl), now: deliverer.now });
      report.campaigns = { started: campaigns.started, decided: campaigns.decided, finished: campaigns.finished };
      campaignsMoreDue = campaigns.moreDue;
      if (campaigns.started + campaigns.decided + campaigns.finished > 0) logger.log('info', 'campaigns moved on', { ...report.campaigns });
    } catch (error) {
      // Tried again at the next due time; the deliveries already queued go out meanwhile.
      logger.log('error', 'campaign work failed', describeError(error));
    }
    // Left due when cut short, so the next round goes on where this one stopped.
    if (triggers.moreDue || campaignsMoreDue) report.moreDue = true;
    else timetable.scheduledWorkAtMs = deliverer.now() + cadence.scheduledWorkEveryMs;
  }

  if (startedAtMs >= timetable.housekeepingAtMs && !signal?.aborted) {
    // Moved on whatever the outcome: a purge that failed is tried again at the next due time.
    timetable.housekeepingAtMs = startedAtMs + cadence.housekeepingEveryMs;
    try {
      report.purgedIdempotencyKeys = await purgeIdempotencyKeys(db, startedAtMs);
      if (report.purgedIdempotencyKeys > 0) logger.log('info', 'idempotency keys purged', { purged: report.purgedIdempotencyKeys });
    } catch (error) {
      logger.log('warn', 'idempotency key purge failed', describeError(error));
    }
    try {
      const purged = await purgeDashboardRecords(db, new Date(startedAtMs));
      report.purgedDashboardRecords = purged;
      if (purged.sessions + purged.passwordLinks + purged.invites + purged.auditEntries > 0) logger.log('info', 'expired dashboard sessions, links and audit entries purged', { ...purged });
    } catch (error) {
      logger.log('warn', 'dashboard session and link purge failed', describeError(error));
    }
    try {
      // Price history older than the EU 30-day rule needs, and low-stock claims past any window.
      const now = new Date(startedAtMs);
      const purged = { priceHistory: await purgePriceHistory(db, now), lowStockClaims: await purgeLowStockClaims(db, now) };
      report.purgedCatalogueHistory = purged;
      if (purged.priceHistory + purged.lowStockClaims > 0) logger.log('info', 'old price history and low-stock claims purged', purged);
    } catch (error) {
      logger.log('warn', 'price history purge failed', describeError(error));
    }
  }

  const resolver = startAudienceResolver(db, {
    now: deliverer.now,
    deadlineMs: startedAtMs + budget.timeMs,
    ...(signal ? { signal } : {}),
    ...(options.audienceChunk ? { chunk: options.audienceChunk } : {}),
  });
  try {
    await deliverWithinBudget(deliverer, options, startedAtMs, report, resolver);
  } finally {
    try {
      const resolved = await resolver.done;
      report.audienceChunks = resolved.chunks;
      report.audienceRowsWritten = resolved.written;
      if (resolved.moreDue) report.moreDue = true;
    } catch (error) {
      // The deliveries already written go out; the chunk is tried again after the usual pause
      // (not at once: a database that refuses it would otherwise be asked again and again).
      logger.log('error', 'writing a large audience failed', describeError(error));
    }
  }
  report.elapsedMs = deliverer.now() - startedAtMs;
  return report;
}

/** The delivery part of a round: `lanes` claim loops sharing one budget. */
async function deliverWithinBudget(deliverer: Deliverer, options: RoundOptions, startedAtMs: number, report: RoundReport, resolver: AudienceResolver): Promise<void> {
  const { budget, signal } = options;
  const { batchSize } = deliverer.settings;
  const lanes = Math.max(1, options.lanes ?? deliverer.settings.concurrentBatches);
  // Pushes claimed plus those a lane is claiming right now: lanes together stay within the budget.
  let reserved = 0;
  let failed = false;
  const stops: RoundStop[] = [];

  const lane = async (): Promise<void> => {
    for (;;) {
      // Another lane hit an error: the database is likely down, so stop claiming and report it.
      if (failed) return;
      if (signal?.aborted) return void stops.push('aborted');
      if (deliverer.now() - startedAtMs >= budget.timeMs) return void stops.push('time_budget');
      if (reserved + batchSize > budget.pushes) return void stops.push('push_budget');
      reserved += batchSize;
      let claimed: number;
      try {
        claimed = await deliverBatch(deliverer);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        reserved -= batchSize;
      }
      reserved += claimed;
      if (claimed === 0) {
        // Nothing due now, but an audience is being written: its next chunk will be.
        if (resolver.running) {
          await resolver.progress();
          continue;
        }
        return void stops.push('idle');
      }
      report.claimed += claimed;
      report.batches++;
    }
  };

  const outcomes = await Promise.allSettled(Array.from({ length: lanes }, lane));
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  // A lane that found nothing to claim saw the outbox empty: another lane stopping at the budget
  // meanwhile left nothing behind (what is queued later comes with its own wake-up).
  report.stoppedBy = stops.includes('idle') ? 'idle' : (stops[0] ?? 'idle');
  // Only a round that claimed something says more is due: one that could not claim at all (a push
  // budget below the batch size) would otherwise have its caller start round after empty round.
  if ((report.stoppedBy === 'time_budget' || report.stoppedBy === 'push_budget') && report.claimed > 0) report.moreDue = true;
}
