/**
 * Ingest: `POST /v1/events` (product_viewed) and `POST /v1/subscriptions` against the real server
 * (`node server/runtime/node/pushcart.mjs start`, a child process) at 50 connections, beside a bare
 * Node `http` server (another child, answering 202 `{}` after reading the body) driven with the
 * same requests in the same run. After each run, every 2xx must be a stored row: the rows added
 * to `events` / `subscriptions` are counted against autocannon's 2xx count.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/ingest.ts
 *   npx tsx bench/ingest.ts --db=embedded
 *
 * Options (`--name=value`; any other is refused):
 *   --db=embedded|postgres   default: postgres when DATABASE_URL is set (a fresh database is created
 *                            on that server and dropped afterwards); embedded: the embedded Postgres
 *                            in a temp data dir, opened by the server as `npm start` opens it
 *   --seconds=12             length of each measured run (after a 2-second warm-up)
 *   --connections=50
 *   --only=events,flash,subscriptions,resubscribe   kinds to run (default all four)
 *   --profile=DIR            the server child runs with --cpu-prof, its profile written to DIR at exit
 *
 * Kinds: `events` — product_viewed from 20,000 visitors over 2,000 products (skewed: a few products
 * are viewed much more often); `flash` — 1,000 shoppers all viewing ONE product (the hot row);
 * `resubscribe` — the same 1,000 endpoints posted again and again, as the snippet posts a
 * subscriber's subscription on every page load (stored once each: the run must add no row);
 * `subscriptions` — a new endpoint per request at a fake push host (PUSHCART_PUSH_HOSTS; nothing is
 * sent). Each request comes from one of 4,096 client addresses (X-Forwarded-For, believed from
 * 127.0.0.1 through PUSHCART_TRUSTED_PROXIES), so the per-address limit does not bite, and the
 * per-site limit is raised for the run (PUSHCART_RATE_LIMIT_PER_SITE=100000000/100000000): the
 * bench measures storing, not refusing. Before the first kind, the server is warmed up for 5 s;
 * before each measured run, 3 s more with that run's requests.
 *
 * A measured run asks for a fixed number of requests (the warm-up's rate × --seconds) rather than
 * stopping on a timer: autocannon drops the answers still in flight when a timed run ends, and those
 * requests may have been stored, which would make "rows = 2xx" unverifiable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import { parseConfig } from '../server/config.ts';
import type { Db } from '../server/db/database.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import type { Logger } from '../server/logger.ts';
import { encodeBase64Url } from '../server/push/base64url.ts';
import { openDatabase, openPostgres, type OpenDatabase } from '../server/runtime/node/database.ts';
import { createSite } from '../server/sites/create-site.ts';
import { LOCAL_POSTGRES_URL } from '../server/testing/test-database.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const SHOP_ORIGIN = 'https://shop.example';
const PUSH_HOST = 'push.bench.example';
const KINDS = ['events', 'flash', 'subscriptions', 'resubscribe'] as const;
/** Subscribers whose pages post their subscription again in the `resubscribe` kind. */
const RESUBSCRIBERS = 1_000;
type Kind = (typeof KINDS)[number];
const VISITORS = 20_000;
const PRODUCTS = 2_000;
const FLASH_SHOPPERS = 1_000;
const FLASH_PRODUCT = 'flash-sale-product';
const CLIENT_ADDRESSES = 4_096;
const WARMUP_SECONDS = 3;
const FIRST_WARMUP_SECONDS = 5;
const RATE_LIMIT_PER_SITE = '100000000/100000000';

// ---- options ----
const KNOWN_OPTIONS = new Set(['db', 'seconds', 'connections', 'only', 'profile']);
const argv = new Map<string, string>();
for (const arg of process.argv.slice(2)) {
  const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
  if (!match || !KNOWN_OPTIONS.has(match[1]!)) throw new Error(`bench/ingest: unknown option ${arg} (the options are listed at the top of bench/ingest.ts)`);
  argv.set(match[1]!, match[2] ?? 'true');
}
function positiveInt(name: string, fallback: number): number {
  const raw = argv.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`bench/ingest: --${name} must be a positive integer, got ${raw}`);
  return value;
}
const dbKind = argv.get('db') ?? (process.env.DATABASE_URL ? 'postgres' : 'embedded');
if (dbKind !== 'embedded' && dbKind !== 'postgres') throw new Error('bench/ingest: --db must be embedded or postgres');
const seconds = positiveInt('seconds', 12);
const connections = positiveInt('connections', 50);
const kinds = (argv.get('only') ?? KINDS.join(',')).split(',') as Kind[];
for (const kind of kinds) if (!KINDS.includes(kind)) throw new Error(`bench/ingest: --only takes ${KINDS.join(',')}, got ${kind}`);
const profileDir = argv.get('profile');

const quietLogger: Logger = {
  log(level, message, fields) {
    if (level === 'warn' || level === 'error') process.stderr.write(`${JSON.stringify({ level, msg: message, ...fields })}\n`);
  },
};

// ---- the database ----
interface BenchDatabase {
  opened: OpenDatabase;
  /** The server child's database settings. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

async function openBenchDatabase(): Promise<BenchDatabase> {
  if (dbKind === 'embedded') {
    const dataDir = mkdtempSync(join(os.tmpdir(), 'pushcart-bench-ingest-'));
    // Started here (the bench counts rows through it); the server finds it running and uses it, as
    // it would one a CLI command had started.
    const opened = await openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), quietLogger);
    return { opened, env: { PUSHCART_DATA_DIR: dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const serverUrl = process.env.DATABASE_URL || LOCAL_POSTGRES_URL;
  const name = `pushcart_bench_ingest_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`).finally(() => admin.end());
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    opened: openPostgres(url.toString(), quietLogger),
    env: { DATABASE_URL: url.toString() },
    async drop() {
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`).finally(() => dropper.end());
    },
  };
}

// ---- child processes ----
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `args` under node and waits until `ready` matches a line of its stdout; the rest of its output is read and dropped. */
async function startChild(args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    // Whatever a child says on stderr (a warning, a crash) is worth seeing beside the figures.
    process.stderr.write(chunk);
  });
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      if (ready.test(buffered)) {
        buffered = '';
        child.stdout!.off('data', onData);
        // Keep draining: a full pipe would block the child's logging, and so the child.
        child.stdout!.resume();
        resolve();
      } else if (buffered.length > 100_000) buffered = buffered.slice(-10_000);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child ${args.join(' ')} exited (${code}) before it was ready: ${stderr}`)));
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const BARE_SERVER = `
const http = require('node:http');
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(202, { 'Content-Type': 'application/json' }); res.end('{}'); });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));`;

function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

// ---- requests ----
function subscriberKeys(count: number) {
  return Array.from({ length: count }, () => {
    const ecdh = createECDH('prime256v1');
    return { p256dh: encodeBase64Url(ecdh.generateKeys()), auth: encodeBase64Url(randomBytes(16)) };
  });
}
const keys = subscriberKeys(64);
const runTag = randomBytes(4).toString('hex');
let sequence = 0;

/** Skewed towards the first products: a shop's best sellers are viewed far more than its long tail. */
function productIndex(): number {
  return Math.floor(PRODUCTS * Math.random() ** 2);
}
function productPrice(index: number): number {
  return 10 + (index % 90) + 0.99;
}

function bodyFor(kind: Kind): { path: string; body: string } {
  const n = sequence++;
  if (kind === 'subscriptions' || kind === 'resubscribe') {
    const key = keys[n % keys.length]!;
    const id = kind === 'subscriptions' ? `${runTag}-${n}` : `${runTag}-again-${n % RESUBSCRIBERS}`;
    return {
      path: '/v1/subscriptions',
      body: JSON.stringify({
        subscription: { endpoint: `https://${PUSH_HOST}/push/${id}`, expirationTime: null, keys: key },
        visitorId: `visitor-${id}`,
        locale: 'de-DE',
        timeZone: 'Europe/Berlin',
      }),
    };
  }
  const flash = kind === 'flash';
  const index = flash ? 0 : productIndex();
  const productId = flash ? FLASH_PRODUCT : `sku-${index}`;
  const visitor = Math.floor(Math.random() * (flash ? FLASH_SHOPPERS : VISITORS));
  return {
    path: '/v1/events',
    body: JSON.stringify({
      type: 'product_viewed',
      visitorId: `visitor-${flash ? 'flash-' : ''}${visitor}`,
      properties: { productId, name: `Product ${productId}`, price: flash ? 49.99 : productPrice(index), currency: 'EUR', url: `${SHOP_ORIGIN}/products/${productId}` },
    }),
  };
}

function requestsFor(kind: Kind, publishableKey: string) {
  const base = { Authorization: `Bearer ${publishableKey}`, 'Content-Type': 'application/json', Origin: SHOP_ORIGIN, 'User-Agent': 'Mozilla/5.0 Chrome/131.0' };
  return [
    {
      method: 'POST',
      setupRequest: (request: Record<string, unknown>) => {
        const { path, body } = bodyFor(kind);
        const n = sequence % CLIENT_ADDRESSES;
        return { ...request, method: 'POST', path, body, headers: { ...base, 'X-Forwarded-For': `10.77.${n >> 8}.${n & 255}` } };
      },
    },
  ];
}

interface RunFigures {
  acceptedPerSec: number;
  /** The median of the per-second answer counts: the rate once warmed up. */
  steadyPerSec: number;
  p50Ms: number;
  p99Ms: number;
  twoXx: number;
  non2xx: Record<string, number>;
  errors: number;
  seconds: number;
  cpuPctOfCore: number;
  /** CPU time per answered request: less sensitive to other load on the machine than the rate. */
  serverCpuMsPerRequest: number;
  /** This database's Postgres backends' CPU time per answered request (pushcart runs only). */
  postgresCpuMsPerRequest: number;
}

/** The Postgres backends serving this run's database (the server's pool, and ours). */
async function backendPids(db: Db): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(db);
  return rows.map((row) => row.pid);
}

async function drive(url: string, kind: Kind, publishableKey: string, load: { amount?: number; duration?: number }, pid: number, db?: Db): Promise<RunFigures> {
  const cpuBefore = cpuSeconds(pid);
  // Backends live as long as the pool keeps them; one opened during the run counts from 0 (an
  // over-estimate only by what it spent before the run, nothing).
  const backendsBefore = new Map(db ? (await backendPids(db)).map((backend) => [backend, cpuSeconds(backend)]) : []);
  const result = await autocannon({ url, connections, timeout: 30, ...load, requests: requestsFor(kind, publishableKey) as never });
  const cpu = cpuSeconds(pid) - cpuBefore;
  let postgresCpu = 0;
  if (db) for (const backend of await backendPids(db)) postgresCpu += cpuSeconds(backend) - (backendsBefore.get(backend) ?? 0);
  const non2xx: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) if (!status.startsWith('2')) non2xx[status] = count;
  return {
    acceptedPerSec: Math.round(result['2xx'] / result.duration),
    steadyPerSec: result.requests.p50,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    twoXx: result['2xx'],
    non2xx,
    errors: result.errors,
    seconds: result.duration,
    cpuPctOfCore: Math.round((cpu / result.duration) * 100),
    serverCpuMsPerRequest: result['2xx'] > 0 ? Math.round((cpu * 1000 * 1000) / result['2xx']) / 1000 : 0,
    postgresCpuMsPerRequest: db && result['2xx'] > 0 ? Math.round((postgresCpu * 1000 * 1000) / result['2xx']) / 1000 : 0,
  };
}

async function storedRows(db: Db, kind: Kind): Promise<number> {
  const table = kind === 'subscriptions' || kind === 'resubscribe' ? 'subscriptions' : 'events';
  const { rows } = await sql<{ count: string }>`select count(*)::text as count from ${sql.table(table)}`.execute(db);
  return Number(rows[0]!.count);
}

async function settledRows(db: Db, kind: Kind): Promise<number> {
  let last = await storedRows(db, kind);
  for (let waited = 0; waited < 60; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = await storedRows(db, kind);
    if (now === last) return now;
    last = now;
  }
  throw new Error(`bench/ingest: ${kind} rows still changing a minute after the warm-up`);
}

// ---- the run ----
const database = await openBenchDatabase();
const db = database.opened.db;
let server: ChildProcess | undefined;
let bare: ChildProcess | undefined;
const summary: Record<string, unknown> = {};
let failed = false;
try {
  await migrateToLatest(db);
  const site = await createSite(db, { name: 'Ingest bench', origins: [SHOP_ORIGIN] }, undefined);
  const port = await freePort();
  const barePort = await freePort();
  const serverEnv: Record<string, string> = {
    ...database.env,
    PORT: String(port),
    PUSHCART_PUBLIC_URL: `http://127.0.0.1:${port}`,
    PUSHCART_TRUSTED_PROXIES: '127.0.0.1',
    PUSHCART_RATE_LIMIT_PER_SITE: RATE_LIMIT_PER_SITE,
    PUSHCART_PUSH_HOSTS: PUSH_HOST,
  };
  if (dbKind === 'embedded') serverEnv.DATABASE_URL = '';
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  server = await startChild([...nodeArgs, 'server/runtime/node/pushcart.mjs', 'start'], serverEnv, /"msg":"listening"/);
  bare = await startChild(['-e', BARE_SERVER], { PORT: String(barePort) }, /listening/);

  const loadBefore = os.loadavg().map((x) => x.toFixed(2));
  console.log(`ingest bench: ${database.opened.describe}, ${connections} connections, ${seconds} s per run, node ${process.version}, ${os.cpus().length} CPUs`);
  console.log(`load average before: ${loadBefore.join(' ')} (1, 5, 15 min)`);
  console.log(`per-site rate limit raised to ${RATE_LIMIT_PER_SITE} for the run; ${CLIENT_ADDRESSES} client addresses through X-Forwarded-For (per-address limit as configured)`);

  for (const kind of kinds) {
    const figures: Record<string, unknown> = {};
    for (const target of ['bare', 'pushcart'] as const) {
      const url = target === 'bare' ? `http://127.0.0.1:${barePort}` : `http://127.0.0.1:${port}`;
      const pid = (target === 'bare' ? bare : server).pid!;
      if (target === 'pushcart' && kind === kinds[0]) {
        // A fresh process: JIT, the pool's connections and the caches warm up first, unmeasured.
        await drive(url, kind, site.publishableKey, { duration: FIRST_WARMUP_SECONDS }, pid);
      }
      const warm = await drive(url, kind, site.publishableKey, { duration: WARMUP_SECONDS }, pid);
      // Requests whose answers the timed warm-up dropped may still be committing: count once the
      // rows have stopped changing for a second.
      const before = target === 'pushcart' ? await settledRows(db, kind) : 0;
      // The bare server stores nothing, so it simply runs for --seconds.
      const load = target === 'bare' ? { duration: seconds } : { amount: Math.max(connections * 20, Math.round(warm.steadyPerSec * seconds)) };
      const run = await drive(url, kind, site.publishableKey, load, pid, target === 'pushcart' ? db : undefined);
      const cpuPerRequest = `CPU per request: server ${run.serverCpuMsPerRequest} ms${target === 'pushcart' ? `, Postgres ${run.postgresCpuMsPerRequest} ms` : ''}`;
      const line = `${kind.padEnd(13)} ${target.padEnd(8)} ${String(run.acceptedPerSec).padStart(6)}/s  p50 ${String(run.p50Ms).padStart(4)} ms  p99 ${String(run.p99Ms).padStart(4)} ms  2xx ${run.twoXx}  non-2xx ${JSON.stringify(run.non2xx)}  errors ${run.errors}  ${run.seconds} s  server ${run.cpuPctOfCore} % of a core; ${cpuPerRequest}`;
      if (target === 'pushcart') {
        const stored = (await storedRows(db, kind)) - before;
        // Posting a stored subscription again adds no row (the warm-up stored the 1,000).
        const expected = kind === 'resubscribe' ? 0 : run.twoXx;
        const equal = stored === expected;
        if (!equal) failed = true;
        console.log(`${line}\n${''.padEnd(22)} stored rows ${stored} vs ${kind === 'resubscribe' ? 'none expected' : `2xx ${run.twoXx}`}: ${equal ? 'as expected' : 'NOT AS EXPECTED'}`);
        figures.pushcart = { ...run, stored };
      } else {
        console.log(line);
        figures.bare = run;
      }
    }
    const pushcart = figures.pushcart as RunFigures;
    const bareRun = figures.bare as RunFigures;
    figures.ratioToBare = Math.round((pushcart.acceptedPerSec / bareRun.acceptedPerSec) * 1000) / 1000;
    console.log(`${kind.padEnd(13)} Pushcart / bare: ${(Number(figures.ratioToBare) * 100).toFixed(1)} %`);
    if (kind === 'flash') {
      const { rows } = await sql<{ shoppers: string }>`
        select count(*)::text as shoppers from product_interest where site_id = ${site.id} and product_id = ${FLASH_PRODUCT}`.execute(db);
      figures.flashInterestRows = Number(rows[0]!.shoppers);
      console.log(`${''.padEnd(22)} the flash product's interest rows: ${figures.flashInterestRows} (one per shopper, at most ${FLASH_SHOPPERS})`);
    }
    summary[kind] = figures;
  }
  const loadAfter = os.loadavg().map((x) => x.toFixed(2));
  console.log(`load average after: ${loadAfter.join(' ')}`);
  console.log(
    `RESULT ${JSON.stringify({ bench: 'ingest', db: dbKind, connections, seconds, rateLimitPerSite: RATE_LIMIT_PER_SITE, loadBefore, loadAfter, allStored: !failed, ...summary })}`,
  );
} finally {
  if (bare) await stopChild(bare);
  await database.opened.close();
  if (server) await stopChild(server);
  await database.drop();
}
if (failed) process.exitCode = 1;
