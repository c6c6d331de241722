import { BackgroundWorker } from '../../background/background-worker.ts';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { describeError, type Logger } from '../../logger.ts';
import type { MetricsRecorder } from '../../metrics/metrics.ts';
import type { PushTransport } from '../../push/fetch-transport.ts';
import { createEncryptionPool } from './encryption-pool.ts';
import { nodePushTransport } from './push-transport.ts';
import { listenForWork } from './work-notifications.ts';

export interface RunningBackgroundWork {
  workerId: string;
  encryptionThreads: number;
  /** The pooled transport the rounds send with; the dashboard's test pushes use it too. */
  pushTransport: PushTransport;
  /** Work was just queued (a send): start the next round now rather than after the idle pause. */
  wake(): void;
  /** Settles only if the rounds stop on their own, which they do not unless something is badly wrong. */
  finished: Promise<void>;
  /** Stops claiming, lets the batches in flight finish, then closes the threads and connections. */
  stop(): Promise<void>;
}

/**
 * Background work on Node, for `npm start` and `pushcart worker` alike: rounds back to back
 * (server/background/), sending over pooled HTTP/2 connections and encrypting on worker threads,
 * so the event loop that sends (and serves the API) stays free.
 */
export function startBackgroundWork(deps: {
  db: Db;
  config: Config;
  logger: Logger;
  metrics?: MetricsRecorder;
  /** Listen for other processes' sends on this database (work-notifications.ts), so this worker wakes at once. */
  listenOn?: string;
}): RunningBackgroundWork {
  const { db, config, logger } = deps;
  const push = nodePushTransport();
  const encryption = createEncryptionPool({ onThreadError: (error) => logger.log('error', 'encryption thread died', describeError(error)) });
  const worker = new BackgroundWorker({ db, config, logger, transport: push.transport, encryptor: encryption, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
  const listener = deps.listenOn === undefined ? undefined : listenForWork(deps.listenOn, () => worker.wake(), logger);
  const stopping = new AbortController();
  const finished = worker.run(stopping.signal);
  let stopped: Promise<void> | undefined;
  return {
    workerId: worker.deliverer.workerId,
    encryptionThreads: encryption.size,
    pushTransport: push.transport,
    wake: () => worker.wake(),
    finished,
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        try {
          await listener?.close();
          await finished;
        } finally {
          await encryption.close();
          await push.close();
        }
      })()),
  };
}
