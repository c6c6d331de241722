import { AsyncLocalStorage } from 'node:async_hooks';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { createApp, type App } from '../../app.ts';
import { ConfigError, parseConfig, type Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { guardPoolErrors } from '../../db/pg-pool-errors.ts';
import { ERROR_STATUS, type ErrorBody } from '../../errors.ts';
import { describeError, jsonLogger, type Logger } from '../../logger.ts';

/**
 * The Cloudflare Workers entry (DESIGN §1, §6.1): the only Workers-specific code. It turns bindings
 * into the same `createApp(deps)` the Node entry builds, with Postgres reached through Hyperdrive.
 *
 * The Workers types are declared here as small local interfaces on purpose: the server project is
 * type-checked with Node's types, and @cloudflare/workers-types would replace the global Request,
 * Response and fetch types for every file in it.
 */

/** Hyperdrive binding: a pooled, nearby Postgres proxy; all we need is its connection string. */
export interface HyperdriveBinding {
  readonly connectionString: string;
}

/** Bindings from wrangler.toml: `HYPERDRIVE`, plus the DESIGN §5 variables as [vars] or secrets. */
export interface WorkerEnv {
  HYPERDRIVE?: HyperdriveBinding;
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

/** Same rule as Hono's requestId middleware, so a caller's id survives on every answer. */
const REQUEST_ID_PATTERN = /^[\w\-=]{1,255}$/;

const logger: Logger = jsonLogger((line) => console.log(line));

/**
 * The database of the request being handled. A Workers I/O object (a TCP socket) belongs to the
 * request that opened it and cannot be used by another one, so each request gets its own pool of
 * one connection, opened on first use and closed after the response. The app and its Kysely
 * instance, though, live for the whole isolate: that keeps the in-memory rate limiters' counts
 * across requests instead of starting from zero every time.
 */
interface RequestDatabase {
  connectionString: string;
  pool?: pg.Pool;
  /** Set once the response is out and the pool is being closed. */
  closing: boolean;
}

const currentRequest = new AsyncLocalStorage<RequestDatabase>();

const requestScopedPool: PostgresPool = {
  connect() {
    const request = currentRequest.getStore();
    if (!request) throw new Error('Database used outside a request: Workers connections belong to one request');
    request.pool ??= openRequestPool(request);
    return request.pool.connect();
  },
  // Kysely's destroy() must not close anything: each request closes its own pool.
  end: async () => {},
};

function openRequestPool(request: RequestDatabase): pg.Pool {
  // Closing our own socket ends pg-cloudflare's pending read with "Stream was cancelled.": expected
  // once the response is out, so only errors before that are a lost connection worth a warning.
  return guardPoolErrors(
    new pg.Pool({ connectionString: request.connectionString, max: 1, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }),
    (error) => {
      if (!request.closing) logger.log('warn', 'postgres connection lost', describeError(error));
    },
  );
}

interface Runtime {
  config: Config;
  app: App;
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: requestScopedPool }) });
  const app = createApp({
    config,
    db,
    logger,
    // Cloudflare sets this to the visitor's address; there is no socket address to read on Workers.
    clientIp: (c) => c.req.header('CF-Connecting-IP'),
  });
  const runtime = { config, app };
  runtimes.set(env, runtime);
  return runtime;
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerExecutionContext): Promise<Response> {
    let runtime: Runtime;
    try {
      runtime = runtimeFor(env);
    } catch (error) {
      return startupFailure(request, error);
    }
    const database: RequestDatabase = { connectionString: env.HYPERDRIVE!.connectionString, closing: false };
    try {
      // Only the request goes in: bindings reach the app as parsed deps (DESIGN §6.1), never as c.env.
      return await currentRequest.run(database, () => runtime.app.fetch(request));
    } finally {
      // Closed after the answer is sent, so closing never delays the response.
      const pool = database.pool;
      database.closing = true;
      if (pool) ctx.waitUntil(pool.end().catch((error: unknown) => logger.log('warn', 'postgres pool close failed', describeError(error))));
    }
  },

  /**
   * The cron trigger from wrangler.toml. The delivery engine it will drive comes in the next issue;
   * until then it records that it ran and does nothing else, rather than pretending to work.
   */
  async scheduled(controller: WorkerScheduledController, env: WorkerEnv, _ctx: WorkerExecutionContext): Promise<void> {
    try {
      runtimeFor(env);
    } catch (error) {
      logger.log('error', 'scheduled run skipped: invalid configuration', { cron: controller.cron, ...configProblem(error) });
      return;
    }
    logger.log('info', 'scheduled run', {
      cron: controller.cron,
      scheduledTime: new Date(controller.scheduledTime).toISOString(),
      work: 'none: no scheduled jobs exist yet',
    });
  },
};

/** A Worker whose bindings are wrong answers in the one error shape and logs why, once per request. */
function startupFailure(request: Request, error: unknown): Response {
  const incoming = request.headers.get('X-Request-Id');
  const requestId = incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
  logger.log('error', 'cannot serve: invalid configuration', { requestId, ...configProblem(error) });
  const body: ErrorBody = {
    error: {
      code: 'internal_error',
      // The operator's log names the setting; a public caller learns only that it is not their fault.
      message: 'The service is misconfigured; the operator has been told which setting is wrong',
      requestId,
    },
  };
  return Response.json(body, { status: ERROR_STATUS.internal_error, headers: { 'X-Request-Id': requestId } });
}

function configProblem(error: unknown): Record<string, unknown> {
  // A ConfigError's message is the whole story; anything else is a bug and keeps its stack.
  return error instanceof ConfigError ? { error: error.message } : describeError(error);
}
