import type { Db } from '../db/database.ts';
import { expireSubscriptions, recordDeliveryResults, type DeliveryResult } from '../db/deliveries.ts';
import { describeError, type Logger } from '../logger.ts';

/**
 * A delivery's outcome, and the subscription to expire when the push service said it is gone. A
 * success is recorded on the delivery only (`sent_at`): the last success of a subscription is the
 * latest `sent_at` of its deliveries, so no per-recipient subscription row is rewritten per push.
 */
export type BatchResult = DeliveryResult & { gone?: { subscriptionId: string; endpoint: string } };

export interface RecorderSettings {
  /** Results are written at most this long after they arrive... */
  flushMs: number;
  /** ...or at once when this many are waiting. */
  flushCount: number;
}

/**
 * Writes one claimed batch's results while the batch is still sending, in small groups: a push
 * service that hangs holds back only its own deliveries, not the 429 retries and the sent pushes of
 * every other host in the batch (a push already sent but still `sending` would be sent again if
 * this worker died). A group is one UPDATE, so a fast batch still costs a few statements, not one
 * per push.
 *
 * A group whose write fails stays leased in the database: it is tried once more when the batch
 * closes, and if that fails too the lease lapses and another claim sends those pushes again (at
 * least once, the same `tag` on screen).
 */
export class BatchRecorder {
  readonly #db: Db;
  readonly #leaseId: string;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #settings: RecorderSettings;
  #pending: BatchResult[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #writes: Array<Promise<void>> = [];
  readonly #unwritten: BatchResult[] = [];

  constructor(db: Db, leaseId: string, now: () => number, logger: Logger, settings: RecorderSettings) {
    this.#db = db;
    this.#leaseId = leaseId;
    this.#now = now;
    this.#logger = logger;
    this.#settings = settings;
  }

  add(result: BatchResult): void {
    this.#pending.push(result);
    if (this.#pending.length >= this.#settings.flushCount) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.#settings.flushMs);
  }

  /** Writes what is still waiting and waits for every write; throws when some results could not be written. */
  async close(): Promise<void> {
    this.#flush();
    await Promise.all(this.#writes);
    if (this.#unwritten.length === 0) return;
    const retry = this.#unwritten.splice(0);
    try {
      await this.#write(retry);
    } catch (error) {
      this.#notWritten(retry, error);
      throw error;
    }
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const group = this.#pending;
    this.#pending = [];
    this.#writes.push(
      this.#write(group).catch((error: unknown) => {
        this.#notWritten(group, error);
        this.#unwritten.push(...group);
      }),
    );
  }

  /** Both statements are idempotent: a group written again after a partial failure changes nothing twice. */
  async #write(group: BatchResult[]): Promise<void> {
    const nowMs = this.#now();
    await recordDeliveryResults(this.#db, this.#leaseId, nowMs, group);
    const gone: Array<{ subscriptionId: string; endpoint: string }> = [];
    for (const result of group) if (result.gone) gone.push(result.gone);
    await expireSubscriptions(this.#db, gone, nowMs);
  }

  #notWritten(group: BatchResult[], error: unknown): void {
    this.#logger.log('error', 'delivery results not recorded', { leaseId: this.#leaseId, deliveries: group.length, ...describeError(error) });
  }
}
