import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.ts';

/**
 * For the Workers tests: the Worker built from wrangler.toml (its [build] step included) and run
 * under workerd by wrangler's programmatic API, offline, against a Postgres database of the test's
 * own through Hyperdrive's local connection string. These tests run in Node and drive workerd over
 * HTTP, so they can also build what Node builds and compare.
 */

// The Postgres server to make the test's own database on. CI sets DATABASE_URL; on a developer
// machine the default local server is tried (the Workers test does not start the embedded Postgres).
const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const postgresServerUrl = process.env.DATABASE_URL || LOCAL_POSTGRES_URL;
const REACHABILITY_TIMEOUT_MS = 2_000;
export const WORKER_START_TIMEOUT_MS = 60_000;

const WRANGLER_TOML = fileURLToPath(new URL('../../../wrangler.toml', import.meta.url));
// Everything wrangler writes (bundle, logs, dev registry) stays in the repo's git-ignored .wrangler/.
const WRANGLER_DIR = fileURLToPath(new URL('../../../.wrangler/', import.meta.url));

// Read by wrangler 4.86 (applyHyperdriveEnvVars); the older WRANGLER_HYPERDRIVE_… name still works
// there but logs a deprecation warning.
const HYPERDRIVE_LOCAL_ENV = 'CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE';

/** Why the Postgres server cannot be used, or undefined when it answers. */
export async function postgresProblem(url = postgresServerUrl): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: REACHABILITY_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The server URL without its credentials, for a skip message. */
export const redactedPostgresServer = postgresServerUrl.replace(/\/\/[^@/]*@/, '//…@');

/** Sets process env vars for wrangler and returns how to put them back, so other test files see none of it. */
function setEnv(values: Record<string, string>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  Object.assign(process.env, values);
  return () => {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/** createTestDatabase() makes a fresh Postgres database only when DATABASE_URL is set; point it at ours. */
export async function createPostgresTestDatabase(): Promise<TestDatabase> {
  const restore = setEnv({ DATABASE_URL: postgresServerUrl });
  try {
    return await createTestDatabase();
  } finally {
    restore();
  }
}

/**
 * Wrangler refuses a Hyperdrive connection string without a password ("You must provide a
 * password"), even for a trust-auth local server, which ignores it; give one only when missing.
 */
function withPassword(connectionString: string): string {
  const url = new URL(connectionString);
  if (!url.password) url.password = 'unused-by-trust-auth';
  return url.toString();
}

export type StartedWorker = Awaited<ReturnType<typeof import('wrangler').unstable_startWorker>>;
export type WorkerBindings = NonNullable<Parameters<StartedWorker['patchConfig']>[0]['bindings']>;
type FetchInit = Parameters<StartedWorker['fetch']>[1];

export interface WorkerUnderTest {
  worker: StartedWorker;
  /** A request to the Worker; fails (never hangs) when workerd could not start or crashed. */
  call(path: string, init?: FetchInit): Promise<Awaited<ReturnType<StartedWorker['fetch']>>>;
  dispose(): Promise<void>;
}

/**
 * Starts the Worker of wrangler.toml with `bindings` as its vars, reaching `database` through the
 * Hyperdrive binding. `env` is set in this process while wrangler loads (e.g. NODE_EXTRA_CA_CERTS):
 * wrangler fixes its log file path, and miniflare its trusted certificates, from the environment
 * when they are first imported, so call this once per test file, before anything imports wrangler.
 */
export async function startWorkerUnderTest(options: {
  database: TestDatabase;
  bindings: WorkerBindings;
  env?: Record<string, string>;
}): Promise<WorkerUnderTest> {
  // A dev registry of its own: test files run side by side, and a Worker of the same name
  // registering in a shared one makes wrangler reload the other's ("Your worker restarted
  // mid-request", a 503 to whatever it was answering).
  await mkdir(WRANGLER_DIR, { recursive: true });
  const registry = await mkdtemp(join(WRANGLER_DIR, 'registry-'));
  const restoreEnv = setEnv({
    // Offline and contained: no telemetry, and wrangler's "global" files (metrics device id, debug
    // log, dev registry) go to the repo's .wrangler/ instead of the user's ~/.config/.wrangler.
    WRANGLER_SEND_METRICS: 'false',
    XDG_CONFIG_HOME: `${WRANGLER_DIR}config`,
    WRANGLER_LOG_PATH: `${WRANGLER_DIR}logs`,
    WRANGLER_REGISTRY_PATH: registry,
    // Miniflare otherwise downloads a Request.cf sample from workers.cloudflare.com.
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    [HYPERDRIVE_LOCAL_ENV]: withPassword(options.database.connectionString!),
    ...options.env,
  });
  let worker: StartedWorker | undefined;
  try {
    // Imported only now, for the reason above.
    const { unstable_startWorker } = await import('wrangler');
    worker = await unstable_startWorker({
      config: WRANGLER_TOML,
      sendMetrics: false,
      bindings: options.bindings,
      build: {
        // `wrangler dev` derives this from compatibility_flags; the programmatic API leaves it unset
        // (and then the bundle fails on node: imports). nodejs_compat with a compatibility_date from
        // 2024-09-23 on is mode v2; deriving it from wrangler.toml keeps the file the one source.
        nodejsCompatMode: (config: { compatibility_flags?: string[] }) =>
          config.compatibility_flags?.includes('nodejs_compat') ? 'v2' : null,
      },
      // A cron trigger is declared in wrangler.toml; this lets a test fire it. Local mode never
      // fires it on its own, so a delivery the test did not trigger through /__scheduled came from the queue.
      dev: {
        server: { hostname: '127.0.0.1', port: 0 },
        inspector: false,
        watch: false,
        persist: false,
        logLevel: 'warn',
        testScheduled: true,
        registry,
      },
    });
    const started = worker;
    // startWorker resolves even when workerd then fails to start (a bad binding, a broken bundle,
    // a failed build step): the failure only arrives as an 'error' event, and fetch() would hang.
    // Racing every call against it turns a hang into that error.
    const runtimeFailure = new Promise<never>((_, reject) => started.raw.on('error', reject));
    runtimeFailure.catch(() => {}); // reported through call(); not an unhandled rejection
    await Promise.race([started.ready, runtimeFailure]);
    return {
      worker: started,
      call: (path, init) => Promise.race([started.fetch(`http://pushcart.test${path}`, init), runtimeFailure]),
      dispose: async () => {
        await started.dispose();
        restoreEnv();
        await rm(registry, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await worker?.dispose().catch(() => {});
    restoreEnv();
    await rm(registry, { recursive: true, force: true });
    throw error;
  }
}
