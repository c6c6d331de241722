import { createDeliverer, type Deliverer, type DeliveryDeps } from '../delivery/delivery-engine.ts';
import { describeError } from '../logger.ts';
import { sleep } from '../sleep.ts';
import { everythingDue, runBackgroundRound, type RoundBudget, type RoundCadence } from './background-round.ts';

/**
 * A round's budget when rounds run back to back: no push limit, and short enough that scheduled
 * work and housekeeping get their turn between rounds while a long fan-out is being sent.
 */
export const CONTINUOUS_ROUND_BUDGET: RoundBudget = { timeMs: 15_000, pushes: Number.POSITIVE_INFINITY };

/** The longest pause after failed rounds (the database is down): retried without hammering it. */
const MAX_FAILURE_PAUSE_MS = 30_000;

export interface BackgroundWorkerDeps extends DeliveryDeps {
  budget?: RoundBudget;
  cadence?: RoundCadence;
}

/**
 * Background rounds back to back until `signal` aborts: what `npm start` and `pushcart worker` run.
 * A round that found nothing left is followed by a pause of `idlePollMs`, cut short by `wake()`
 * (a send just queued deliveries); a round cut short by its budget is followed by the next at once.
 * The deliverer lives as long as the worker, so its caches (VAPID headers, opened keys, host
 * gates) serve every round.
 */
export class BackgroundWorker {
  readonly deliverer: Deliverer;
  readonly #budget: RoundBudget;
  readonly #cadence: RoundCadence | undefined;
  readonly #wakers = new Set<() => void>();
  /** Set by wake() during a round: the work it announced may have been queued after a lane found nothing. */
  #wokenDuringRound = false;

  constructor(deps: BackgroundWorkerDeps) {
    this.deliverer = createDeliverer(deps);
    this.#budget = deps.budget ?? CONTINUOUS_ROUND_BUDGET;
    this.#cadence = deps.cadence;
  }

  wake(): void {
    this.#wokenDuringRound = true;
    for (const wake of this.#wakers) wake();
  }

  async run(signal: AbortSignal): Promise<void> {
    const { logger } = this.deliverer.deps;
    const timetable = everythingDue();
    let failures = 0;
    while (!signal.aborted) {
      this.#wokenDuringRound = false;
      let moreDue = false;
      try {
        const report = await runBackgroundRound(this.deliverer, {
          budget: this.#budget,
          timetable,
          signal,
          ...(this.#cadence ? { cadence: this.#cadence } : {}),
        });
        failures = 0;
        moreDue = report.moreDue;
      } catch (error) {
        failures++;
        logger.log('error', 'background round failed', { workerId: this.deliverer.workerId, failures, ...describeError(error) });
      }
      if (signal.aborted || (failures === 0 && (moreDue || this.#wokenDuringRound))) continue;
      const pauseMs =
        failures > 0
          ? Math.min(MAX_FAILURE_PAUSE_MS, 1_000 * 2 ** Math.min(failures, 5))
          : // Never past the time scheduled work falls due, should the idle poll be set longer.
            Math.max(0, Math.min(this.deliverer.settings.idlePollMs, timetable.scheduledWorkAtMs - this.deliverer.now()));
      await sleep(pauseMs, signal, this.#wakers);
    }
  }
}
