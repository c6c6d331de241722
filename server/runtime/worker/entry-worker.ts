import { AsyncLocalStorage } from 'node:async_hooks';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { createApp, type App } from '../../app.ts';
import { resolveClientAddress } from '../../client-address.ts';
import { ConfigError, parseConfig, type Config } from '../../config.ts';
import type { Database, Db } from '../../db/database.ts';
import { guardPoolErrors } from '../../db/pg-pool-errors.ts';
import { everythingDue, runBackgroundRound, type RoundBudget, type RoundReport, type RoundTimetable } from '../../background/background-round.ts';
import { createDeliverer, type DeliverySettings } from '../../delivery/delivery-engine.ts';
import { DEFAULT_HOST_GATE_SETTINGS } from '../../delivery/host-gates.ts';
import { errorBody, ERROR_STATUS } from '../../errors.ts';
import { describeError, jsonLogger, type Logger } from '../../logger.ts';
import { countingMetrics, type CountingMetrics } from '../../metrics/metrics.ts';
import { fetchTransport, type PushFetch, type PushTransport } from '../../push/fetch-transport.ts';
import { VapidHeaderCache } from '../../push/vapid-cache.ts';
import { checkStoredKeys } from '../../sites/stored-keys.ts';
import { SITE_CACHE_MS } from '../../sites/site-lookup-cache.ts';
// Written by the build step (build-client-scripts.ts, wrangler.toml's [build] command): the snippet
// and service worker as Node builds them at start, as string constants, so nothing is bundled here.
import { clientScripts } from './client-scripts.generated.js';

/**
 * The Cloudflare Workers entry: the only Workers-specific code (runtime code stays at the edges). It turns bindings
 * into the same `createApp(deps)` the Node entry builds, with Postgres reached through Hyperdrive,
 * and runs the same background rounds as `npx pushcart worker` (server/background/) from the cron
 * trigger and a Queue consumer.
 *
 * The Workers types are declared here as small local interfaces on purpose: the server project is
 * type-checked with Node's types, and @cloudflare/workers-types would replace the global Request,
 * Response and fetch types for every file in it.
 */

/** Hyperdrive binding: a pooled, nearby Postgres proxy; all we need is its connection string. */
export interface HyperdriveBinding {
  readonly connectionString: string;
}

/** A Queue producer binding; only `send` is used. */
export interface WorkerQueue<Body> {
  send(body: Body, options?: { contentType?: 'json'; delaySeconds?: number }): Promise<void>;
}

/**
 * What goes on the delivery queue: a wake-up, not the work. The outbox rows in Postgres are the
 * record of what to send; a message only says "look now", so a lost or repeated one costs nothing
 * (the cron catches up within a minute, a second consumer run finds nothing left to claim).
 */
export type DeliveryWakeUp =
  /** A send just queued deliveries. */
  | { notificationId: string }
  /** A run stopped at its budget with work still due, and hands on to the next one. */
  | { continuation: true };

export interface WorkerQueueMessage {
  readonly id: string;
  readonly body: unknown;
  readonly attempts: number;
}

export interface WorkerMessageBatch {
  readonly queue: string;
  readonly messages: readonly WorkerQueueMessage[];
  ackAll(): void;
  retryAll(options?: { delaySeconds?: number }): void;
}

/** Bindings from wrangler.toml: `HYPERDRIVE`, `DELIVERY_QUEUE`, plus the configuration variables (README: Configuration) as [vars] or secrets. */
export interface WorkerEnv {
  HYPERDRIVE?: HyperdriveBinding;
  /** Optional: without it, deliveries go out at the next cron minute instead of within seconds. */
  DELIVERY_QUEUE?: WorkerQueue<DeliveryWakeUp>;
  PUSHCART_PUBLIC_URL?: string;
  PUSHCART_ADMIN_TOKEN?: string;
  PUSHCART_VAPID_SUBJECT?: string;
  PUSHCART_PUSH_HOSTS?: string;
  PUSHCART_MASTER_KEY?: string;
  [binding: string]: unknown;
}

export interface WorkerExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

export interface WorkerScheduledController {
  readonly cron: string;
  readonly scheduledTime: number;
  noRetry(): void;
}

/** How long to wait for Postgres before answering 503, rather than holding the request open. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Wall time a cron run spends starting new work. The trigger fires every minute; stopping well
 * inside that keeps runs from piling up and each invocation far from the platform's duration limit.
 * The batch in flight at the deadline still finishes (a few seconds at most, see WORKERS_BATCH_SIZE).
 */
const CRON_BUDGET_MS = 25_000;
/** The same for one Queue consumer run: a wake-up message is not worth a longer invocation. */
const QUEUE_BUDGET_MS = 25_000;

/**
 * Pushes one invocation sends at most. Every push is a subrequest, capped per invocation (Workers
 * Paid: 10,000, 1,000 on older plans; Free: 50, too few for real fan-outs); past the cap each fetch
 * throws and would burn a delivery attempt. With the 6-connection limit a run rarely gets this far
 * in its time budget anyway.
 */
const MAX_PUSHES_PER_RUN = 1_000;

const CRON_ROUND_BUDGET: RoundBudget = { timeMs: CRON_BUDGET_MS, pushes: MAX_PUSHES_PER_RUN };
const QUEUE_ROUND_BUDGET: RoundBudget = { timeMs: QUEUE_BUDGET_MS, pushes: MAX_PUSHES_PER_RUN };

/**
 * What a round does on each trigger. An isolate may be gone by the next invocation, so nothing
 * rides on a timetable kept in memory: the cron run, once a minute, does everything (the purge is
 * one indexed delete), and a queue run, which a burst of sends can start many times a minute,
 * fires due cart reminders and delivers but leaves the purge to the cron.
 */
function timetableFor(trigger: 'cron' | 'queue'): RoundTimetable {
  return trigger === 'cron' ? everythingDue() : { ...everythingDue(), housekeepingAtMs: Number.POSITIVE_INFINITY };
}

/**
 * Workers allow 6 simultaneous outgoing connections per invocation, and the Postgres socket holds
 * one. Requests beyond that wait inside the runtime while their abort timer already runs, so the
 * per-host gate keeps them in our queue instead, where the timeout measures the push service.
 */
const WORKERS_PUSHES_IN_FLIGHT_PER_HOST = 5;

/**
 * Deliveries claimed at a time: about 20 rounds of 5 requests, a couple of seconds per batch at
 * push-service latencies, so a run ends close to its budget and far inside the claim's lease.
 */
const WORKERS_BATCH_SIZE = 100;

/** A failed consumer run (Postgres down) asks for its messages again after this, not at once. */
const QUEUE_RETRY_DELAY_SECONDS = 30;

const WORKERS_DELIVERY_SETTINGS: Partial<DeliverySettings> = {
  batchSize: WORKERS_BATCH_SIZE,
  hostGates: { ...DEFAULT_HOST_GATE_SETTINGS, maxInFlightPerHost: WORKERS_PUSHES_IN_FLIGHT_PER_HOST },
};

/** Same rule as Hono's requestId middleware, so a caller's id survives on every answer. */
const REQUEST_ID_PATTERN = /^[\w\-=]{1,255}$/;

const logger: Logger = jsonLogger((line) => console.log(line));

/**
 * A Worker has no process to scrape: its counters go to the log (Workers Logs, Logpush) as one
 * `metrics` line per background round, and one per isolate at most this often for the requests'
 * counters (events, rate-limit refusals). An isolate evicted before its next line loses at most
 * that much of them; each request also has its own log line.
 */
const REQUEST_METRICS_EVERY_MS = 60_000;

/** Writes what `recorder` counted since its last line, if anything, as one `metrics` log line. */
function logMetrics(recorder: CountingMetrics, fields: Record<string, unknown>): void {
  if (recorder.empty) return;
  logger.log('info', 'metrics', { ...fields, ...recorder.drain() });
}

/**
 * One invocation (an HTTP request, a cron run, a queue batch) and the I/O that belongs to it. A
 * Workers I/O object (a TCP socket) belongs to the invocation that opened it and cannot be used by
 * another one, so each invocation gets its own pool of one connection, opened on first use and
 * closed at the end. The app, its Kysely instance and the VAPID cache, though, live for the whole
 * isolate: that keeps the in-memory rate limiters' counts and the signed JWTs across invocations.
 */
interface Invocation {
  connectionString: string;
  ctx: WorkerExecutionContext;
  queue: WorkerQueue<DeliveryWakeUp> | undefined;
  pool?: pg.Pool;
  /** Set once the invocation is done and the pool is being closed. */
  closing: boolean;
}

const currentInvocation = new AsyncLocalStorage<Invocation>();

const invocationScopedPool: PostgresPool = {
  connect() {
    const invocation = currentInvocation.getStore();
    if (!invocation) throw new Error('Database used outside an invocation: Workers connections belong to one request');
    invocation.pool ??= openInvocationPool(invocation);
    return invocation.pool.connect();
  },
  // Kysely's destroy() must not close anything: each invocation closes its own pool.
  end: async () => {},
};

function openInvocationPool(invocation: Invocation): pg.Pool {
  // Closing our own socket ends pg-cloudflare's pending read with "Stream was cancelled.": expected
  // once the work is done, so only errors before that are a lost connection worth a warning.
  return guardPoolErrors(
    new pg.Pool({ connectionString: invocation.connectionString, max: 1, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }),
    (error) => {
      if (!invocation.closing) logger.log('warn', 'postgres connection lost', describeError(error));
    },
  );
}

/** Runs `work` as one invocation with its own database connection, closed afterwards without delaying the result. */
async function withInvocation<T>(env: WorkerEnv, ctx: WorkerExecutionContext, work: () => Promise<T>): Promise<T> {
  const invocation: Invocation = {
    connectionString: env.HYPERDRIVE!.connectionString,
    ctx,
    queue: env.DELIVERY_QUEUE,
    closing: false,
  };
  try {
    return await currentInvocation.run(invocation, work);
  } finally {
    const pool = invocation.pool;
    invocation.closing = true;
    if (pool) ctx.waitUntil(pool.end().catch((error: unknown) => logger.log('warn', 'postgres pool close failed', describeError(error))));
  }
}

/**
 * Asks the Queue consumer to deliver now. Through waitUntil: the caller (a 202, a finished run) is
 * not held up by it, and a failed send only delays delivery until the next cron minute.
 */
function wakeDelivery(message: DeliveryWakeUp): void {
  const invocation = currentInvocation.getStore();
  const queue = invocation?.queue;
  if (!invocation || !queue) return;
  invocation.ctx.waitUntil(
    queue.send(message, { contentType: 'json' }).catch((error: unknown) =>
      logger.log('warn', 'delivery wake-up not queued; the cron will send', { ...message, ...describeError(error) }),
    ),
  );
}

interface Runtime {
  config: Config;
  db: Db;
  app: App;
  transport: PushTransport;
  /** Signed VAPID JWTs are plain strings: safe to share between invocations, and signing is the costly part. */
  vapidCache: VapidHeaderCache;
  /** Set once the stored keys opened with this isolate's master key (the start-up check Node runs at start). */
  storedKeysChecked: boolean;
  /** Set when they cannot: every invocation of these bindings is refused with it. */
  storedKeysProblem?: ConfigError;
  /** After a failed query, requests are not held up by the check again before this time. */
  storedKeysRetryAtMs: number;
  /** The app's counters (events, rate-limit refusals), written by `logMetrics`. */
  requestMetrics: CountingMetrics;
  requestMetricsLoggedAtMs: number;
}

/** One runtime per bindings object: parsed and built once per isolate, not once per request. */
const runtimes = new WeakMap<object, Runtime>();

function runtimeFor(env: WorkerEnv): Runtime {
  const cached = runtimes.get(env);
  if (cached) return cached;
  const config = parseConfig(env);
  if (typeof env.HYPERDRIVE?.connectionString !== 'string' || env.HYPERDRIVE.connectionString === '') {
    throw new ConfigError(
      'Invalid configuration — HYPERDRIVE: no Hyperdrive binding; add a [[hyperdrive]] block with binding = "HYPERDRIVE" to wrangler.toml',
    );
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: invocationScopedPool }) });
  // The runtime's own fetch: pooling, HTTP/2 and TLS are Cloudflare's. Looked up per call, not
  // captured, so it is always the fetch of the invocation that sends.
  const send: PushFetch = (url, init) => globalThis.fetch(url, init);
  const transport = fetchTransport(send);
  const requestMetrics = countingMetrics();
  const app = createApp({
    config,
    db,
    logger,
    // Cloudflare sets this to the address that connected to it; there is no socket to read on
    // Workers. A proxy of the operator's own in front of Cloudflare is read through like on Node.
    clientIp: (c) => resolveClientAddress(c.req.header('CF-Connecting-IP'), c.req.raw.headers, config.trustedProxies),
    siteCacheMs: SITE_CACHE_MS,
    onNotificationQueued: (notificationId) => wakeDelivery({ notificationId }),
    // The same bytes and ETags as the Node server: `/pushcart.js` and `/pushcart-sw.js` are what a shop installs.
    clientScripts,
    // As on Node: /demo exists only for a site the operator marked as the demo (`pushcart site create --demo`).
    demo: true,
    // A dashboard user's test push goes out within their request, through the same fetch.
    pushTransport: transport,
    // Each ingest request writes its own item, in its own invocation: workerd does not let one
    // request's code do I/O for another, and a group could outlive the request that started it.
    ingestGroups: { maxGroupSize: 1, maxConcurrentGroups: Number.POSITIVE_INFINITY, minGroupSizeWhileBusy: 1 },
    // Counted in memory and logged (logMetrics); without an exposition, GET /metrics answers 404.
    metrics: requestMetrics,
  });
  const runtime: Runtime = {
    config,
    db,
    app,
    transport,
    vapidCache: new VapidHeaderCache(),
    storedKeysChecked: false,
    storedKeysRetryAtMs: 0,
    requestMetrics,
    requestMetricsLoggedAtMs: Date.now(),
  };
  runtimes.set(env, runtime);
  return runtime;
}

/**
 * The start-up check of stored keys (a missing or wrong PUSHCART_MASTER_KEY), run by the first
 * invocation of an isolate, since a Worker has no start of its own. Only its outcome is kept, never
 * the promise: a promise resolved by one invocation's I/O must not be awaited by another. A failed
 * query is not an outcome; the next invocation checks again. Must run inside withInvocation.
 */
async function checkStoredKeysOnce(runtime: Runtime): Promise<void> {
  if (runtime.storedKeysProblem) throw runtime.storedKeysProblem;
  if (runtime.storedKeysChecked) return;
  try {
    await checkStoredKeys(runtime.db, { masterKey: runtime.config.masterKey, nowMs: Date.now(), logger });
    runtime.storedKeysChecked = true;
  } catch (error) {
    if (error instanceof ConfigError) runtime.storedKeysProblem = error;
    throw error;
  }
}

/**
 * While Postgres is unreachable a request should not wait for the connect timeout twice (the check,
 * then its own query), nor a static script wait at all: the check is tried again after this.
 */
const STORED_KEYS_RETRY_MS = 30_000;

/**
 * One background round (server/background/background-round.ts), as the cron trigger and the Queue
 * consumer run it: delivery within the invocation's time and subrequest budget, due cart reminders,
 * and on the cron the purges.
 *
 * The Deliverer is built per invocation, with the isolate's VAPID cache: its host gates hold
 * promises that one request resolves for another, which Workers do not allow across invocations,
 * and its per-host bound is meant per invocation anyway (the connection limit is).
 */
async function backgroundRound(env: WorkerEnv, ctx: WorkerExecutionContext, trigger: 'cron' | 'queue'): Promise<RoundReport> {
  const runtime = runtimeFor(env);
  return withInvocation(env, ctx, async () => {
    // A ConfigError here skips the run; the deliveries stay queued in the outbox for a fixed setting.
    await checkStoredKeysOnce(runtime);
    // Its clock is Date.now(), which on Workers only moves across I/O; every batch does I/O, so it
    // is good enough for the round's time budget.
    const metrics = countingMetrics();
    const deliverer = createDeliverer({
      db: runtime.db,
      config: runtime.config,
      logger,
      transport: runtime.transport,
      settings: WORKERS_DELIVERY_SETTINGS,
      vapidCache: runtime.vapidCache,
      metrics,
    });
    let report: RoundReport;
    try {
      report = await runBackgroundRound(deliverer, {
        budget: trigger === 'cron' ? CRON_ROUND_BUDGET : QUEUE_ROUND_BUDGET,
        timetable: timetableFor(trigger),
        // One claim loop: the invocation's six connections are the limit, not the CPU.
        lanes: 1,
      });
    } finally {
      // What was sent before a failure was sent: counted either way.
      logMetrics(metrics, { from: trigger });
      logMetrics(runtime.requestMetrics, { from: 'requests' });
      runtime.requestMetricsLoggedAtMs = Date.now();
    }
    // Work is left: the next run starts now, not at the next cron minute. One wake-up per run keeps
    // the number of parallel runs where the sends put it, and the consumer's max_concurrency caps that.
    if (report.moreDue) wakeDelivery({ continuation: true });
    return report;
  });
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerExecutionContext): Promise<Response> {
    let runtime: Runtime;
    try {
      runtime = runtimeFor(env);
    } catch (error) {
      return startupFailure(request, error);
    }
    // Only the request goes in: bindings reach the app as parsed deps, validated once, never as c.env.
    return withInvocation(env, ctx, async () => {
      if (runtime.storedKeysProblem || (!runtime.storedKeysChecked && Date.now() >= runtime.storedKeysRetryAtMs)) {
        try {
          await checkStoredKeysOnce(runtime);
        } catch (error) {
          if (error instanceof ConfigError) return startupFailure(request, error);
          // Postgres unreachable: the app answers for itself (503 where it needs the database), and
          // a request after STORED_KEYS_RETRY_MS checks again; delivery runs check every time.
          runtime.storedKeysRetryAtMs = Date.now() + STORED_KEYS_RETRY_MS;
          logger.log('warn', 'stored keys not checked: the database did not answer; checked again later', describeError(error));
        }
      }
      const response = await runtime.app.fetch(request);
      if (Date.now() - runtime.requestMetricsLoggedAtMs >= REQUEST_METRICS_EVERY_MS) {
        logMetrics(runtime.requestMetrics, { from: 'requests' });
        runtime.requestMetricsLoggedAtMs = Date.now();
      }
      return response;
    });
  },

  /** The cron trigger from wrangler.toml: a whole round, so it sends what no queue message announced, and purges. */
  async scheduled(controller: WorkerScheduledController, env: WorkerEnv, ctx: WorkerExecutionContext): Promise<void> {
    let run: RoundReport;
    try {
      run = await backgroundRound(env, ctx, 'cron');
    } catch (error) {
      if (error instanceof ConfigError) {
        logger.log('error', 'scheduled run skipped: invalid configuration', { cron: controller.cron, ...configProblem(error) });
        return;
      }
      logger.log('error', 'scheduled background round failed', { cron: controller.cron, ...describeError(error) });
      // The next minute's run is the retry; a platform retry on top would only overlap with it.
      controller.noRetry();
      throw error;
    }
    logger.log('info', 'scheduled background round', {
      cron: controller.cron,
      scheduledTime: new Date(controller.scheduledTime).toISOString(),
      ...run,
    });
  },

  /** The DELIVERY_QUEUE consumer: a batch of wake-ups is one round, whatever the messages say. */
  async queue(batch: WorkerMessageBatch, env: WorkerEnv, ctx: WorkerExecutionContext): Promise<void> {
    let run: RoundReport;
    try {
      run = await backgroundRound(env, ctx, 'queue');
    } catch (error) {
      if (error instanceof ConfigError) {
        // Retrying cannot fix a setting; the messages go, and the log says what to fix.
        logger.log('error', 'queue run skipped: invalid configuration', { queue: batch.queue, ...configProblem(error) });
        batch.ackAll();
        return;
      }
      logger.log('error', 'queue background round failed', { queue: batch.queue, messages: batch.messages.length, ...describeError(error) });
      batch.retryAll({ delaySeconds: QUEUE_RETRY_DELAY_SECONDS });
      return;
    }
    // Acked only after the run: what they announced has been claimed and sent (or rescheduled in the outbox).
    batch.ackAll();
    logger.log('info', 'queue background round', { queue: batch.queue, messages: batch.messages.length, ...run });
  },
};

/** A Worker whose bindings are wrong answers in the one error shape and logs why, once per request. */
function startupFailure(request: Request, error: unknown): Response {
  const incoming = request.headers.get('X-Request-Id');
  const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
  logger.log('error', 'cannot serve: invalid configuration', { requestId, ...configProblem(error) });
  // The operator's log names the setting; a public caller learns only that it is not their fault.
  const body = errorBody('internal_error', 'The service is misconfigured; the operator has been told which setting is wrong', requestId);
  return Response.json(body, { status: ERROR_STATUS.internal_error, headers: { 'X-Request-Id': requestId } });
}

function configProblem(error: unknown): Record<string, unknown> {
  // A ConfigError's message is the whole story; anything else is a bug and keeps its stack.
  return error instanceof ConfigError ? { error: error.message } : describeError(error);
}
