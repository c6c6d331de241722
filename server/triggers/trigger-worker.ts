import type { Db } from '../db/database.ts';
import { describeError, type Logger } from '../logger.ts';
import { sleep } from '../sleep.ts';
import { fireDueCartReminders } from './cart-reminders.ts';

export interface TriggerWorkerDeps {
  db: Db;
  logger: Logger;
  publicUrl: string;
  now?: () => number;
  /** Told the ids of notifications just queued, e.g. to wake the delivery worker. */
  onQueued?: (notificationIds: string[]) => void;
  /** How often due cart reminders are looked for. */
  intervalMs?: number;
}

/** Carts are reminded within this long of their step falling due. */
export const DEFAULT_TRIGGER_INTERVAL_MS = 30_000;
/** Carts fired per transaction: short transactions, and other workers take the rest meanwhile. */
const CARTS_PER_SCAN = 100;

/**
 * Fires time-based triggers (cart reminders) until the signal aborts. Price drops and restocks
 * need no loop: they fire in the request that changed the catalogue. Any number of these may run
 * against one database; each reminder step still fires once (server/triggers/cart-reminders.ts).
 */
export async function runTriggerWorker(deps: TriggerWorkerDeps, signal: AbortSignal): Promise<void> {
  const now = deps.now ?? Date.now;
  while (!signal.aborted) {
    try {
      // A full scan means more may be due: go again at once.
      for (;;) {
        const { carts, queued } = await fireDueCartReminders(deps.db, { now: new Date(now()), publicUrl: deps.publicUrl, limit: CARTS_PER_SCAN });
        if (queued.length > 0) {
          deps.logger.log('info', 'cart reminders queued', { notifications: queued.length });
          deps.onQueued?.(queued);
        }
        if (carts < CARTS_PER_SCAN || signal.aborted) break;
      }
    } catch (error) {
      deps.logger.log('error', 'cart reminder scan failed', describeError(error));
    }
    await sleep(deps.intervalMs ?? DEFAULT_TRIGGER_INTERVAL_MS, signal);
  }
}
