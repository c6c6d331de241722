import type { Db } from '../db/database.ts';
import { describeError, type Logger } from '../logger.ts';
import { fireDueCartReminders } from './cart-reminders.ts';
import { fireDueRatingRequests } from './rating-requests.ts';
import { fireDueReactivations } from './reactivation.ts';
import { fireDueWelcomes } from './welcome.ts';
import { sitesWithOccasions } from '../db/birthdays.ts';
import { findSiteById } from '../db/sites.ts';
import { fireDueBirthdays } from './birthdays.ts';
import { scheduleDueOccasions } from './occasions.ts';

export interface DueTriggerDeps {
  db: Db;
  logger: Logger;
  publicUrl: string;
  now: () => number;
}

/** Carts fired per transaction: short transactions, and other workers take the rest meanwhile. */
export const CARTS_PER_SCAN = 100;

export interface DueTriggersRun {
  /** Due carts handled (a step fired, skipped or rescheduled). */
  carts: number;
  /** Notifications queued for them (fewer: most shoppers never subscribed). */
  queued: string[];
  /** The deadline came right after a full page: more may be due, so look again soon. */
  moreDue: boolean;
}

/**
 * Fires the time-based triggers that fell due (cart reminders, rating requests, welcomes, then reactivations), a page per transaction,
 * until a scan comes back short of a full page or `deadlineMs` (on `deps.now`) passes; at least
 * one scan is made. Price drops and restocks are not here: they fire in the request that changed
 * the catalogue. Any number of these may run against one database; each reminder step still fires
 * once (cart-reminders.ts). A failing scan is logged and ends the run; the next run tries again.
 */
export async function fireDueTriggers(deps: DueTriggerDeps, options: { deadlineMs: number; signal?: AbortSignal }): Promise<DueTriggersRun> {
  const run: DueTriggersRun = { carts: 0, queued: [], moreDue: false };
  try {
    for (;;) {
      const { carts, queued } = await fireDueCartReminders(deps.db, { now: new Date(deps.now()), publicUrl: deps.publicUrl, limit: CARTS_PER_SCAN });
      run.carts += carts;
      run.queued.push(...queued);
      if (carts < CARTS_PER_SCAN) break;
      if (options.signal?.aborted || deps.now() >= options.deadlineMs) {
        run.moreDue = true;
        break;
      }
    }
  } catch (error) {
    // Not retried at once (the database may be down): the caller's next scheduled run is the retry.
    deps.logger.log('error', 'cart reminder scan failed', describeError(error));
  }
  if (run.queued.length > 0) deps.logger.log('info', 'cart reminders queued', { carts: run.carts, notifications: run.queued.length });
  await fireDueRatingRequestPages(deps, options, run);
  await firePages(deps, options, run, 'welcome', WELCOMES_PER_SCAN, async (now, limit) => {
    const { welcomes, queued } = await fireDueWelcomes(deps.db, { now, publicUrl: deps.publicUrl, limit });
    return { handled: welcomes, queued };
  });
  await firePages(deps, options, run, 'reactivation', REACTIVATIONS_PER_SCAN, async (now, limit) => {
    const { subscribers, queued } = await fireDueReactivations(deps.db, { now, publicUrl: deps.publicUrl, limit });
    return { handled: subscribers, queued };
  });
  await fireOccasions(deps, run);
  return run;
}

/** Rating requests fired per transaction, as carts are. */
export const RATING_REQUESTS_PER_SCAN = 100;

/**
 * The rating requests that fell due (rating-requests.ts), a page per transaction, under the same
 * deadline; their notifications join `run.queued`. A failing scan is logged and ends this step only.
 */
async function fireDueRatingRequestPages(deps: DueTriggerDeps, options: { deadlineMs: number; signal?: AbortSignal }, run: DueTriggersRun): Promise<void> {
  let queuedHere = 0;
  try {
    for (;;) {
      const { requests, queued } = await fireDueRatingRequests(deps.db, { now: new Date(deps.now()), publicUrl: deps.publicUrl, limit: RATING_REQUESTS_PER_SCAN });
      run.queued.push(...queued);
      queuedHere += queued.length;
      if (requests < RATING_REQUESTS_PER_SCAN) break;
      if (options.signal?.aborted || deps.now() >= options.deadlineMs) {
        run.moreDue = true;
        break;
      }
    }
  } catch (error) {
    deps.logger.log('error', 'rating request scan failed', describeError(error));
  }
  if (queuedHere > 0) deps.logger.log('info', 'rating requests queued', { notifications: queuedHere });
}

/** Welcomes fired per transaction, as carts are. */
export const WELCOMES_PER_SCAN = 100;
/** Quiet subscribers handled per transaction: one notification per site and page. */
export const REACTIVATIONS_PER_SCAN = 500;

/**
 * A due step (welcome.ts, reactivation.ts) a page per transaction under the run's deadline, until
 * a page comes back short; its notifications join `run.queued`. A failing scan is logged and ends
 * this step only: the next round is the retry.
 */
async function firePages(
  deps: DueTriggerDeps,
  options: { deadlineMs: number; signal?: AbortSignal },
  run: DueTriggersRun,
  name: string,
  perScan: number,
  page: (now: Date, limit: number) => Promise<{ handled: number; queued: string[] }>,
): Promise<void> {
  let queuedHere = 0;
  try {
    for (;;) {
      const { handled, queued } = await page(new Date(deps.now()), perScan);
      run.queued.push(...queued);
      queuedHere += queued.length;
      if (handled < perScan) break;
      if (options.signal?.aborted || deps.now() >= options.deadlineMs) {
        run.moreDue = true;
        break;
      }
    }
  } catch (error) {
    deps.logger.log('error', `${name} scan failed`, describeError(error));
  }
  if (queuedHere > 0) deps.logger.log('info', `${name} pushes queued`, { notifications: queuedHere });
}

/**
 * Birthdays and the owner's occasions (birthdays.ts, occasions.ts) of every site that has them on.
 * Each shopper's birthday and each occasion is claimed once a year, so running this every round
 * on any number of workers sends each once. A failing site is logged and skipped.
 */
async function fireOccasions(deps: DueTriggerDeps, run: DueTriggersRun): Promise<void> {
  let siteIds: string[];
  try {
    siteIds = await sitesWithOccasions(deps.db);
  } catch (error) {
    deps.logger.log('error', 'occasion scan failed', describeError(error));
    return;
  }
  for (const siteId of siteIds) {
    try {
      const site = await findSiteById(deps.db, siteId);
      if (!site) continue;
      const now = new Date(deps.now());
      const birthdays = await fireDueBirthdays(deps.db, site, { now, publicUrl: deps.publicUrl });
      run.queued.push(...birthdays.queued);
      if (birthdays.queued.length > 0) deps.logger.log('info', 'birthday pushes queued', { siteId, notifications: birthdays.queued.length });
      const campaigns = await scheduleDueOccasions(deps.db, site, { now, publicUrl: deps.publicUrl });
      if (campaigns.length > 0) deps.logger.log('info', 'occasion campaigns scheduled', { siteId, campaigns });
    } catch (error) {
      deps.logger.log('error', 'occasion step failed', { siteId, ...describeError(error) });
    }
  }
}
