/**
 * Telling every `pushcart worker` process that work was queued, through Postgres itself
 * (LISTEN/NOTIFY): a send wakes the worker inside its own process directly, and the others would
 * otherwise only find the work at their next idle poll (a second later). A notification is a hint:
 * a worker that misses one (reconnecting) still polls, and one woken for nothing finds nothing.
 * Node only: Workers are woken by their Queue.
 */
import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from '../../db/database.ts';
import { describeError, type Logger } from '../../logger.ts';

export const WORK_CHANNEL = 'pushcart_work';

/** After a lost connection, listening again is tried after this long (doubling to a minute). */
const RECONNECT_FIRST_MS = 1_000;
const RECONNECT_MAX_MS = 60_000;

/** Tells listening workers that deliveries were queued. Never throws: a missed hint costs an idle poll. */
export async function announceWork(db: Db, logger: Logger): Promise<void> {
  try {
    await sql`select pg_notify(${WORK_CHANNEL}, '')`.execute(db);
  } catch (error) {
    logger.log('warn', 'could not announce queued work to other workers', describeError(error));
  }
}

export interface WorkListener {
  /** Resolves once the first LISTEN is in place (tests; a worker does not wait for it). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Calls `onWork` for every announcement, on its own connection, reconnecting when it is lost. */
export function listenForWork(connectionString: string, onWork: () => void, logger: Logger): WorkListener {
  let client: pg.Client | undefined;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let delayMs = RECONNECT_FIRST_MS;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const connect = async (): Promise<void> => {
    if (closed) return;
    const next = new pg.Client({ connectionString });
    next.on('notification', (message) => {
      if (message.channel === WORK_CHANNEL) onWork();
    });
    next.on('error', (error) => {
      logger.log('warn', 'work notifications connection lost', describeError(error));
      retry(next);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${WORK_CHANNEL}`);
      if (closed) return void (await next.end().catch(() => {}));
      client = next;
      delayMs = RECONNECT_FIRST_MS;
      markReady();
      // Work may have been queued while nobody listened.
      onWork();
    } catch (error) {
      logger.log('warn', 'cannot listen for work notifications; polling meanwhile', describeError(error));
      retry(next);
    }
  };
  const retry = (failed: pg.Client) => {
    if (client === failed) client = undefined;
    failed.end().catch(() => {});
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delayMs);
    delayMs = Math.min(RECONNECT_MAX_MS, delayMs * 2);
  };
  void connect();
  return {
    ready,
    close: async () => {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await client?.end().catch(() => {});
    },
  };
}
