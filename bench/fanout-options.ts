/**
 * The options of bench:fanout, read from argv (`--name=value`) and the environment. Parsing only:
 * nothing here starts a thread or opens a connection.
 *
 *   --n (N)                    subscribers, default 20000
 *   --db=embedded|postgres     default: postgres when DATABASE_URL is set; a fresh database is
 *                              created on that server and dropped afterwards. embedded: the embedded
 *                              Postgres in a temp data dir, as `npm start` opens it
 *   --only=pushcart,webpush,ceiling,floor   phases to run (default these four); floor: RFC 8291
 *                              encryption alone the cheapest way on node:crypto (fanout-floor.ts)
 *   --diagnose                 also run two diagnostic phases: `engine` (the same send through the
 *                              worker and database, but a transport that answers "sent" without I/O)
 *                              and `transport` (Pushcart's transport alone, pre-built requests)
 *   --mock=child|inproc        where the mock push service runs (default child: see bench/README.md)
 *   --pool=100                 web-push promise-pool width
 *   --webpush-no-keepalive     web-push over an agent without keep-alive (Node ≤ 18's default)
 *   --key-pool=1000            real P-256 subscriber key pairs, reused round robin
 *   --batch-size, --concurrent-batches, --max-in-flight   DeliverySettings overrides
 *   --connections              the server transport's HTTP/2 sessions per push-service origin
 *   --encryption-threads=K     the worker_threads encryption pool's size, as `npm start` and `pushcart worker`
 *                              create it (default: one per core but one); 0: encrypt on the event loop
 *                              (the in-thread encryptor, as before the pool and as on Workers)
 *   --worker-processes=K       Postgres only: K more `pushcart worker` processes (the real CLI, trusting
 *                              the mock through NODE_EXTRA_CA_CERTS) beside the in-process worker;
 *                              with --no-in-process-worker they do all the sending
 *   --worker-scaling=1,2,4     run the pushcart phase once per count of `pushcart worker` processes
 *                              (no in-process worker), in sequence, and print CPU per push for each
 *   --worker-cpu-prof=DIR      the `pushcart worker` processes write V8 CPU profiles (main thread) to DIR
 *   --pg-stat-statements       reset pg_stat_statements (and pg_stat_user_functions) of the bench
 *                              database before the pushcart phase and print where Postgres spent its
 *                              time after it (needs shared_preload_libraries = 'pg_stat_statements')
 *   --db-timing                time every SQL statement the worker runs (adds a little overhead)
 *   --no-sanity                skip the check that a strict (verifying, decrypting) mock gets the push
 *   --live-heap                a full GC every second to measure live heap (NODE_OPTIONS=--expose-gc)
 *   --profile=DIR              write a V8 CPU profile of each phase (this process) to DIR
 *   --wait-quiet=SECONDS       before each phase, wait up to that long for the machine to be idle
 *   --retries=K                repeat a phase up to K times while other users' processes and hypervisor
 *                              steal took more than 20 % of a core during it; the least disturbed
 *                              attempt is reported
 */
import type { DeliverySettings } from '../server/delivery/delivery-engine.ts';
import { DEFAULT_HOST_GATE_SETTINGS } from '../server/delivery/host-gates.ts';
import { LOCAL_POSTGRES_URL } from '../server/testing/test-database.ts';

export interface FanoutOptions {
  /** Subscribers per phase. */
  n: number;
  dbKind: 'embedded' | 'postgres';
  /** The Postgres server a fresh database is made on. */
  serverUrl: string;
  phases: Set<string>;
  mockWhere: string;
  /** web-push promise-pool width. */
  poolWidth: number;
  /** Real subscriber key pairs, reused round robin. */
  keyPool: number;
  dbTiming: boolean;
  sanity: boolean;
  /** DeliverySettings overrides. */
  settings: Partial<DeliverySettings>;
  /** HTTP/2 sessions per push-service origin, when given. */
  connections: number | undefined;
  webPushNoKeepAlive: boolean;
  /** The encryption pool's size; 0: in-thread; undefined: the pool's default. */
  encryptionThreads: number | undefined;
  workerProcesses: number;
  inProcessWorker: boolean;
  liveHeap: boolean;
  profileDir: string | undefined;
  waitQuietSeconds: number;
  retries: number;
  /** --worker-scaling: the counts of `pushcart worker` processes to run the pushcart phase with, in turn. */
  workerScaling: number[] | undefined;
  workerCpuProfileDir: string | undefined;
  pgStatStatements: boolean;
  /** Generous: a stalled run should fail with a diagnosis, not hang the terminal. */
  phaseTimeoutMs: number;
}

/** Below this machine-wide load (% of one core) the machine counts as quiet for --wait-quiet. */
export const QUIET_CPU_PCT = 20;
/** Other users' CPU plus hypervisor steal during a phase (% of one core) above which --retries repeats it. */
export const DISTURBED_CPU_PCT = 20;

/** Every option name this bench reads; any other is refused rather than silently running the default 20,000. */
const KNOWN_OPTIONS = new Set([
  'n', 'db', 'only', 'diagnose', 'mock', 'pool', 'webpush-no-keepalive', 'key-pool', 'batch-size', 'concurrent-batches',
  'max-in-flight', 'connections', 'encryption-threads', 'worker-processes', 'no-in-process-worker', 'db-timing',
  'no-sanity', 'live-heap', 'profile', 'wait-quiet', 'retries', 'worker-scaling', 'worker-cpu-prof', 'pg-stat-statements',
]);

export function parseFanoutOptions(args: readonly string[], env: NodeJS.ProcessEnv): FanoutOptions {
  const argv = new Map<string, string>();
  for (const arg of args) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`bench:fanout: unknown argument ${arg} (options are --name=value)`);
    if (!KNOWN_OPTIONS.has(match[1]!)) throw new Error(`bench:fanout: unknown option --${match[1]} (the options are listed at the top of bench/fanout-options.ts)`);
    argv.set(match[1]!, match[2] ?? 'true');
  }
  function intOption(name: string, envName: string | undefined, fallback: number): number {
    const raw = argv.get(name) ?? (envName ? env[envName] : undefined);
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw.replaceAll('_', ''));
    if (!Number.isInteger(value) || value < 1) throw new Error(`bench:fanout: --${name} must be a positive integer, got ${raw}`);
    return value;
  }
  function optionalInt(name: string): number | undefined {
    return argv.has(name) ? intOption(name, undefined, 1) : undefined;
  }

  const n = intOption('n', 'N', 20_000);
  const dbKind = (argv.get('db') ?? (env.DATABASE_URL ? 'postgres' : 'embedded')) as 'embedded' | 'postgres';
  if (dbKind !== 'embedded' && dbKind !== 'postgres') throw new Error('bench:fanout: --db must be embedded or postgres');
  const encryptionThreads = argv.has('encryption-threads') ? Number(argv.get('encryption-threads')) : undefined;
  if (encryptionThreads !== undefined && !(Number.isInteger(encryptionThreads) && encryptionThreads >= 0)) {
    throw new Error('bench:fanout: --encryption-threads must be 0 (in-thread) or a positive integer');
  }
  if (argv.has('live-heap') && !global.gc) throw new Error('bench:fanout: --live-heap needs node --expose-gc (NODE_OPTIONS=--expose-gc)');
  const workerProcesses = argv.has('worker-processes') ? Number(argv.get('worker-processes')) : 0;
  const inProcessWorker = !argv.has('no-in-process-worker');
  if (!inProcessWorker && workerProcesses < 1) throw new Error('bench:fanout: --no-in-process-worker needs --worker-processes=K');

  const workerScaling = argv.has('worker-scaling') ? argv.get('worker-scaling')!.split(',').map(Number) : undefined;
  if (workerScaling && !workerScaling.every((k) => Number.isInteger(k) && k >= 1)) throw new Error('bench:fanout: --worker-scaling takes counts of worker processes, e.g. 1,2,4');
  if (workerScaling && dbKind !== 'postgres') throw new Error('bench:fanout: --worker-scaling needs Postgres (DATABASE_URL)');

  const settings: Partial<DeliverySettings> = {};
  const batchSize = optionalInt('batch-size');
  const concurrentBatches = optionalInt('concurrent-batches');
  const maxInFlight = optionalInt('max-in-flight');
  if (batchSize) settings.batchSize = batchSize;
  if (concurrentBatches) settings.concurrentBatches = concurrentBatches;
  if (maxInFlight) settings.hostGates = { ...DEFAULT_HOST_GATE_SETTINGS, maxInFlightPerHost: maxInFlight };

  return {
    n,
    dbKind,
    serverUrl: env.DATABASE_URL || LOCAL_POSTGRES_URL,
    phases: new Set((argv.get('only') ?? (argv.has('diagnose') ? 'pushcart,engine,webpush,transport,ceiling,floor' : 'pushcart,webpush,ceiling,floor')).split(',')),
    mockWhere: argv.get('mock') ?? 'child',
    poolWidth: intOption('pool', undefined, 100),
    keyPool: intOption('key-pool', undefined, 1000),
    dbTiming: argv.has('db-timing'),
    sanity: !argv.has('no-sanity'),
    settings,
    connections: optionalInt('connections'),
    webPushNoKeepAlive: argv.has('webpush-no-keepalive'),
    encryptionThreads,
    workerProcesses,
    inProcessWorker,
    liveHeap: argv.has('live-heap'),
    profileDir: argv.get('profile'),
    waitQuietSeconds: argv.has('wait-quiet') ? Number(argv.get('wait-quiet')) : 0,
    retries: argv.has('retries') ? Number(argv.get('retries')) : 0,
    workerScaling,
    workerCpuProfileDir: argv.get('worker-cpu-prof'),
    pgStatStatements: argv.has('pg-stat-statements'),
    phaseTimeoutMs: Math.max(120_000, n * 5),
  };
}
