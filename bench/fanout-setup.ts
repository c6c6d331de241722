/**
 * Setting up bench:fanout, none of it timed: the database (a fresh Postgres database, dropped
 * afterwards, or the embedded Postgres), subscribers inserted with SQL, `pushcart worker` processes, and the
 * sanity check that the path under test delivers something a strict push service accepts.
 */
import { spawn } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { createApp } from '../server/app.ts';
import { BackgroundWorker } from '../server/background/background-worker.ts';
import { parseConfig } from '../server/config.ts';
import type { Db } from '../server/db/database.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import type { Logger } from '../server/logger.ts';
import { encodeBase64Url } from '../server/push/base64url.ts';
import type { PushEncryptor } from '../server/push/push-encryptor.ts';
import { openDatabase, openPostgres, type OpenDatabase } from '../server/runtime/node/database.ts';
import { nodePushTransport } from '../server/runtime/node/push-transport.ts';
import { createSite } from '../server/sites/create-site.ts';
import { setEngagement } from '../server/testing/fixtures.ts';
import { startMockPushService } from '../server/testing/mock-push-service.ts';
import type { MockHandle } from './fanout-mock.ts';
import { processCpuSeconds, processPeakRssMiB } from './fanout-meter.ts';
import type { FanoutOptions } from './fanout-options.ts';

export const SHOP_ORIGIN = 'https://shop.example';
export const PUBLIC_URL = 'https://push.example';
export const MESSAGE = { title: 'Summer sale: 20 % off everything', body: 'Only this weekend — your cart is waiting.', url: `${SHOP_ORIGIN}/sale` };
/** Subscriptions per INSERT. */
const INSERT_BATCH = 5_000;

/** The server code's logger here: warnings and errors counted, the first five printed. */
export const quietLogger: Logger & { problems: number } = {
  problems: 0,
  log(level, message, fields) {
    if (level === 'warn' || level === 'error') {
      this.problems++;
      if (this.problems <= 5) process.stderr.write(`${JSON.stringify({ level, msg: message, ...fields })}\n`);
    }
  },
};

export type BenchDatabase = OpenDatabase & {
  url: string | undefined;
  /** The fresh Postgres database's name, whose backends count as this run's Postgres; its backends are the embedded server's too. */
  postgresDatabase: string | undefined;
  drop(): Promise<void>;
};

/** A fresh Postgres database (dropped afterwards), or the embedded Postgres in a temp data dir. */
export async function openBenchDatabase(options: Pick<FanoutOptions, 'dbKind' | 'serverUrl'>): Promise<BenchDatabase> {
  if (options.dbKind === 'embedded') {
    // What `npm start` without DATABASE_URL opens: the embedded Postgres under PUSHCART_DATA_DIR (a temp dir here).
    const dataDir = mkdtempSync(join(os.tmpdir(), 'pushcart-bench-embedded-'));
    const embedded = await openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), quietLogger);
    await migrateToLatest(embedded.db);
    const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(embedded.db);
    return {
      ...embedded,
      url: undefined,
      postgresDatabase: rows[0]!.name,
      // Called after close(), which stopped the embedded server.
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const serverUrl = options.serverUrl;
  const name = `pushcart_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`).finally(() => admin.end());
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // The same pool the server uses (size, timeouts), not a tuned one.
  const opened = openPostgres(url.toString(), quietLogger);
  await migrateToLatest(opened.db);
  return {
    ...opened,
    url: url.toString(),
    postgresDatabase: name,
    describe: `${opened.describe} (fresh database, dropped afterwards)`,
    async drop() {
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`).finally(() => dropper.end());
    },
  };
}

export interface SubscriberKeys {
  p256dh: string;
  auth: string;
}

/** Real P-256 key pairs and auth secrets, as a browser would make; encryption cost does not depend on which. */
export function subscriberKeyPool(size: number): SubscriberKeys[] {
  return Array.from({ length: size }, () => {
    const ecdh = createECDH('prime256v1');
    return { p256dh: encodeBase64Url(ecdh.generateKeys()), auth: encodeBase64Url(randomBytes(16)) };
  });
}

/** `n` subscriptions straight into the table, in multi-row INSERTs: setup, not part of any timing. */
export async function insertSubscriptions(db: Db, n: number, siteId: string, vapidPublicKey: string, origin: string, keys: SubscriberKeys[], prefix: string) {
  for (let start = 0; start < n; start += INSERT_BATCH) {
    const count = Math.min(INSERT_BATCH, n - start);
    const endpoints: string[] = [];
    const p256dh: string[] = [];
    const auth: string[] = [];
    const visitors: string[] = [];
    for (let i = start; i < start + count; i++) {
      const key = keys[i % keys.length]!;
      endpoints.push(`${origin}/push/${prefix}${i}`);
      p256dh.push(key.p256dh);
      auth.push(key.auth);
      visitors.push(`visitor-${i}`);
    }
    await sql`
      insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id)
      select ${siteId}::uuid, t.endpoint, t.p256dh, t.auth, ${vapidPublicKey}, t.visitor_id
      from unnest(${endpoints}::text[], ${p256dh}::text[], ${auth}::text[], ${visitors}::text[]) as t(endpoint, p256dh, auth, visitor_id)`.execute(db);
  }
  // A table that grew over months has planner statistics; a bulk-loaded one needs them gathered.
  await sql`analyze subscriptions`.execute(db);
}

/** `pushcart worker` processes (the CLI an operator runs), their CPU read from /proc when they stop. */
export async function startWorkerProcesses(count: number, databaseUrl: string | undefined, mock: MockHandle, cpuProfileDir?: string) {
  if (count === 0) return { stop: async () => 0, cpuSeconds: () => 0, peakRssMiB: 0 };
  if (!databaseUrl) throw new Error('bench:fanout: --worker-processes needs Postgres (a URL the worker processes can reach)');
  const cli = fileURLToPath(new URL('../server/runtime/node/pushcart.mjs', import.meta.url));
  const children = await Promise.all(
    Array.from({ length: count }, async () => {
      // --worker-cpu-prof: V8 writes the main thread's profile when the process exits (SIGTERM ends it cleanly).
      const profileArgs = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`, '--cpu-prof-interval=250'] : [];
      const child = spawn(process.execPath, [...profileArgs, cli, 'worker'], {
        env: { ...process.env, DATABASE_URL: databaseUrl, PUSHCART_PUSH_HOSTS: mock.host, NODE_EXTRA_CA_CERTS: mock.caPath },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        let buffered = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          for (const line of buffered.split('\n').slice(0, -1)) {
            if (line.includes('delivery worker started')) resolve();
            else if (/"level":"(warn|error)"/.test(line)) process.stderr.write(`worker ${child.pid}: ${line}\n`);
          }
          buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
        });
        child.once('exit', (code) => reject(new Error(`pushcart worker exited with ${code} before starting`)));
      });
      return child;
    }),
  );
  const startCpu = children.map((child) => processCpuSeconds(child.pid!));
  let stopped: Promise<number> | undefined;
  let peakRssMiB = 0;
  return {
    /** The highest peak RSS (VmHWM) of the worker processes, known once stopped. */
    get peakRssMiB() {
      return peakRssMiB;
    },
    /** CPU seconds they have used so far, their encryption threads included (/proc sums a process's threads). */
    cpuSeconds(): number {
      return children.reduce((sum, child) => sum + processCpuSeconds(child.pid!), 0);
    },
    /** Stops them (once); returns the CPU seconds they used since they started idling. */
    stop(): Promise<number> {
      stopped ??= (async () => {
        const used = children.reduce((sum, child, i) => sum + processCpuSeconds(child.pid!) - startCpu[i]!, 0);
        peakRssMiB = Math.max(...children.map((child) => processPeakRssMiB(child.pid!)));
        await Promise.all(
          children.map(
            (child) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
          ),
        );
        return used;
      })();
      return stopped;
    },
  };
}

export async function postSend(app: ReturnType<typeof createApp>, secretKey: string): Promise<{ id: string; audience: number; resolving: boolean }> {
  const response = await app.request('/v1/notifications', {
    method: 'POST',
    headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...MESSAGE, to: { all: true } }),
  });
  if (response.status !== 202) throw new Error(`POST /v1/notifications answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string; audience: number; resolving: boolean };
}

/** Sanity: the same path delivers something a strict push service verifies (VAPID) and decrypts. */
export async function sanityCheck(db: Db, encryptor: PushEncryptor | undefined) {
  const strict = await startMockPushService({ verify: true });
  const push = nodePushTransport({ ca: strict.ca });
  const controller = new AbortController();
  try {
    const config = parseConfig({ PUSHCART_PUSH_HOSTS: strict.host, PUSHCART_PUBLIC_URL: PUBLIC_URL });
    const site = await createSite(db, { name: 'bench sanity', origins: [SHOP_ORIGIN] }, undefined);
    await setEngagement(db, site.id, { quietHours: false });
    for (let i = 0; i < 3; i++) {
      const subscription = await strict.subscribe({ applicationServerKey: site.vapidPublicKey });
      await sql`insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id)
        values (${site.id}::uuid, ${subscription.endpoint}, ${subscription.keys.p256dh}, ${subscription.keys.auth}, ${site.vapidPublicKey}, ${`sanity-${i}`})`.execute(db);
    }
    const worker = new BackgroundWorker({ db, config, logger: quietLogger, transport: push.transport, encryptor, settings: { idlePollMs: 50 } });
    const running = worker.run(controller.signal);
    const app = createApp({ config, db, logger: quietLogger, onNotificationQueued: () => worker.wake() });
    const sent = await postSend(app, site.secretKey);
    await strict.waitForReceived(3, 15_000);
    controller.abort();
    await running;
    for (const message of strict.received) {
      const payload = JSON.parse(message.payload) as { title?: string; id?: string; tag?: string };
      if (payload.title !== MESSAGE.title || payload.id !== sent.id || payload.tag !== sent.id || message.vapid.aud !== strict.origin) {
        throw new Error(`sanity check: the strict mock received an unexpected push: ${message.payload}`);
      }
    }
    return `3/3 pushes VAPID-verified and decrypted by the strict mock (httpVersion ${strict.received[0]?.httpVersion})`;
  } finally {
    controller.abort();
    await push.close();
    await strict.close();
  }
}
