/**
 * The timed phases of bench:fanout, each over N messages: `pushcart` (the send API, the outbox, a
 * BackgroundWorker, HTTP/2 to the mock), the `web-push` baseline, the crypto-only `ceiling`, and
 * the two diagnostics `engine` (no I/O to a push service) and `transport` (the transport alone).
 */
import { randomBytes } from 'node:crypto';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import webpush from 'web-push';
import { createApp } from '../server/app.ts';
import { BackgroundWorker } from '../server/background/background-worker.ts';
import type { Config } from '../server/config.ts';
import type { Db } from '../server/db/database.ts';
import { DEFAULT_HOST_GATE_SETTINGS, HostGates } from '../server/delivery/host-gates.ts';
import { buildPayload, reportUrl } from '../server/notifications/payload.ts';
import type { PushTransport } from '../server/push/fetch-transport.ts';
import type { PushEncryptor } from '../server/push/push-encryptor.ts';
import { assemblePushRequest, encryptPushPayload } from '../server/push/push-request.ts';
import { VapidHeaderCache } from '../server/push/vapid-cache.ts';
import { announceWork } from '../server/runtime/node/work-notifications.ts';
import { SqlTimer, timedTransport, type CpuPerPush, type Figures, type Meter, type PhaseMeter } from './fanout-meter.ts';
import { pushTransport, type MockHandle } from './fanout-mock.ts';
import { checkFloorEncryption, floorEncrypt } from './fanout-floor.ts';
import type { FanoutOptions } from './fanout-options.ts';
import { MESSAGE, postSend, PUBLIC_URL, quietLogger, startWorkerProcesses, type SubscriberKeys } from './fanout-setup.ts';

/** What every phase works with. */
export interface PhaseContext {
  options: FanoutOptions;
  meter: Meter;
  mock: MockHandle;
  /** What the BackgroundWorkers encrypt with; undefined: the engine's in-thread default. */
  encryptor: PushEncryptor | undefined;
}

function startPhase(context: PhaseContext, name: string): Promise<PhaseMeter> {
  return context.meter.startPhase(name, async () => (await context.mock.stats()).cpuMicros ?? 0);
}

async function deliveryStatusCounts(db: Db, notificationId: string): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; count: string }>`
    select status, count(*)::text as count from deliveries where notification_id = ${notificationId}::uuid group by status`.execute(db);
  return Object.fromEntries(rows.rows.map((r) => [r.status, Number(r.count)]));
}

/** Row writes per table (pg_stat_user_tables): how many updates were HOT (no index entries written). */
async function tableWrites(db: Db): Promise<Map<string, { ins: number; upd: number; hot: number }>> {
  const rows = await sql<{ relname: string; ins: string; upd: string; hot: string }>`
    select relname, n_tup_ins::text as ins, n_tup_upd::text as upd, n_tup_hot_upd::text as hot
    from pg_stat_user_tables where relname in ('deliveries', 'subscriptions')`.execute(db);
  return new Map(rows.rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd), hot: Number(r.hot) }]));
}

/**
 * `real`: the headline — POST, outbox, BackgroundWorker, HTTP/2 to the mock; timed until the mock has
 * accepted all N. `null-transport` (diagnostic): the same engine and database work and the same
 * encryption, but every push "sent" without any I/O; timed until every row is recorded as sent.
 */
export async function pushcartPhase(
  context: PhaseContext,
  mode: 'real' | 'null-transport',
  db: Db,
  databaseUrl: string | undefined,
  site: { id: string; secretKey: string },
  config: Config,
): Promise<Figures> {
  const { mock, encryptor, options } = context;
  const { n: N, dbTiming, workerProcesses, inProcessWorker, settings } = options;
  const extraWorkers = await startWorkerProcesses(mode === 'real' ? workerProcesses : 0, databaseUrl, mock, options.workerCpuProfileDir);
  const sqlTimer = new SqlTimer();
  const workerDb = dbTiming ? db.withPlugin(sqlTimer) : db;
  const push = pushTransport(mock, options.connections);
  const nullTransport: PushTransport = { send: async () => ({ kind: 'sent', status: 201 }) };
  const timed = timedTransport(mode === 'real' ? push.transport : nullTransport);
  const controller = new AbortController();
  const worker = new BackgroundWorker({ db: workerDb, config, logger: quietLogger, transport: timed.transport, encryptor, settings });
  // As npm start does: its own worker woken at once, `pushcart worker` processes through Postgres.
  const app = createApp({
    config,
    db,
    logger: quietLogger,
    onNotificationQueued: () => {
      worker.wake();
      void announceWork(db, quietLogger);
    },
  });
  const before = await mock.stats();
  const writesBefore = dbTiming ? await tableWrites(db) : undefined;
  const running = inProcessWorker || mode !== 'real' ? worker.run(controller.signal) : Promise.resolve();
  try {
    const meter = await startPhase(context, mode === 'real' ? 'pushcart' : 'engine');
    // CPU per push is counted until every result is written (the throughput stops at the last 201).
    const cpu0 = { self: process.cpuUsage(), workers: extraWorkers.cpuSeconds(), postgres: context.meter.postgresCpuSeconds() };
    const startedAt = performance.now();
    // When the first push reaches the mock: polled, so it is known to within a few milliseconds.
    let firstPushMs: number | undefined;
    const firstPush = (async () => {
      while (firstPushMs === undefined && performance.now() - startedAt < options.phaseTimeoutMs) {
        if ((await mock.stats()).accepted > before.accepted) firstPushMs = performance.now() - startedAt;
        else await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const sent = await postSend(app, site.secretKey);
    const postMs = performance.now() - startedAt;
    // A send to everyone answers after its first chunk, with an estimate; the full count is checked once all is sent.
    if (!sent.resolving && sent.audience !== N) throw new Error(`the send reached ${sent.audience} subscribers, expected ${N}`);
    if (mode === 'real') {
      try {
        await mock.waitForAccepted(before.accepted + N, options.phaseTimeoutMs);
      } catch (error) {
        throw new Error(`${String(error)}; deliveries: ${JSON.stringify(await deliveryStatusCounts(db, sent.id))}`);
      }
    }
    const acceptedFigures = mode === 'real' ? await meter.stop() : undefined;
    // Bookkeeping: every row written back as sent (the last batch's UPDATE lands after its 201s).
    let counts = await deliveryStatusCounts(db, sent.id);
    while ((counts.queued ?? 0) + (counts.sending ?? 0) > 0) {
      if (performance.now() - startedAt > options.phaseTimeoutMs) throw new Error(`deliveries not all recorded: ${JSON.stringify(counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      counts = await deliveryStatusCounts(db, sent.id);
    }
    const recordedMs = performance.now() - startedAt;
    const self = process.cpuUsage(cpu0.self);
    const cpuPerPush: CpuPerPush = {
      thisProcessMicros: (self.user + self.system) / N,
      workerProcessesMicros: ((extraWorkers.cpuSeconds() - cpu0.workers) * 1e6) / N,
      postgresMicros: ((context.meter.postgresCpuSeconds() - cpu0.postgres) * 1e6) / N,
      workerProcesses: mode === 'real' ? workerProcesses : 0,
      inProcessWorker: inProcessWorker || mode !== 'real',
    };
    await firstPush;
    const written = await sql<{ audience_size: number; resolve_state: string }>`select audience_size, resolve_state from notifications where id = ${sent.id}::uuid`.execute(db);
    if (written.rows[0]?.audience_size !== N || written.rows[0]?.resolve_state !== 'done') throw new Error(`the send's audience was written as ${JSON.stringify(written.rows[0])}, expected ${N}`);
    const figures = acceptedFigures ?? (await meter.stop());
    const after = await mock.stats();
    const notes: string[] = [];
    if (workerProcesses > 0 && mode === 'real') {
      const cpu = await extraWorkers.stop();
      figures.otherCpuPct = Math.max(0, figures.otherCpuPct - (cpu / (figures.wallMs / 1000)) * 100);
      notes.push(
        `${workerProcesses} \`pushcart worker\` process(es)${inProcessWorker ? ' beside the in-process worker' : ', no in-process worker'}: ${((cpu / (figures.wallMs / 1000)) * 100).toFixed(0)} % of one core (not counted in "other users"), ${N - timed.stats.sends} of the sends, peak RSS (VmHWM) ${extraWorkers.peakRssMiB.toFixed(0)} MiB`,
      );
    }
    notes.push(
      sent.resolving
        ? `POST /v1/notifications answered 202 after ${postMs.toFixed(0)} ms with an estimated audience of ${sent.audience} (first chunk written; the workers wrote the rest)`
        : `POST /v1/notifications answered 202 after ${postMs.toFixed(0)} ms (${N} outbox rows inserted by one INSERT … SELECT)`,
    );
    if (firstPushMs !== undefined) notes.push(`first push accepted by the mock ${firstPushMs.toFixed(0)} ms after the POST started`);
    notes.push(`deliveries by status: ${JSON.stringify(counts)}${counts.sent === N ? ' — all sent' : ' — NOT all sent'}`);
    notes.push(`all ${N} rows recorded as sent ${(recordedMs / 1000).toFixed(2)} s after the POST`);
    if (mode === 'real') {
      notes.push(`mock: ${after.accepted - before.accepted} accepted, ${after.rejected - before.rejected} rejected, ${after.connections - before.connections} TLS connection(s) opened`);
      notes.push(
        `transport: ${timed.stats.sends} sends, mean ${(timed.stats.totalMs / Math.max(1, timed.stats.sends)).toFixed(1)} ms, max ${timed.stats.maxMs.toFixed(0)} ms, peak in flight ${timed.stats.maxInFlight}, not sent ${timed.stats.notSent}`,
      );
    } else {
      notes.push('no I/O to a push service: every push answered "sent" at once; timed until all rows are recorded');
    }
    if (dbTiming && writesBefore) {
      // Backends report their counters when idle, at most every few seconds (PGSTAT_IDLE_INTERVAL 10 s).
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      const writesAfter = await tableWrites(db);
      for (const [table, after] of writesAfter) {
        const b = writesBefore.get(table) ?? { ins: 0, upd: 0, hot: 0 };
        notes.push(`table ${table}: ${after.ins - b.ins} inserted, ${after.upd - b.upd} updated of which ${after.hot - b.hot} HOT (no index writes)`);
      }
    }
    if (dbTiming) {
      for (const [label, t] of sqlTimer.totals) {
        notes.push(`sql ${label}: ${t.count}×, total ${(t.ms / 1000).toFixed(2)} s, mean ${(t.ms / t.count).toFixed(1)} ms, max ${t.maxMs.toFixed(0)} ms`);
      }
    }
    if (counts.sent !== N) throw new Error(`not every delivery ended sent: ${JSON.stringify(counts)}`);
    // Without an in-process worker, the memory that matters is the worker process's.
    const peak = mode === 'real' && !inProcessWorker ? { peakRssMiB: extraWorkers.peakRssMiB } : {};
    return { ...figures, ...peak, msgsPerSec: N / (figures.wallMs / 1000), notes, cpuPerPush };
  } finally {
    controller.abort();
    await running;
    await push.close();
    await extraWorkers.stop();
  }
}

export async function webPushPhase(context: PhaseContext, vapid: { publicKey: string; privateKey: string }, keys: SubscriberKeys[]): Promise<Figures> {
  const { mock, options: bench } = context;
  const N = bench.n;
  // Node 20's https.globalAgent settings (keepAlive, lifo, 5 s socket timeout, noDelay), plus the mock's CA:
  // what sendNotification uses by default, made to trust the local certificate.
  const agent = bench.webPushNoKeepAlive
    ? new HttpsAgent({ ca: mock.ca, keepAlive: false }) // Node ≤ 18's globalAgent: a TLS handshake per push
    : new HttpsAgent({ ca: mock.ca, keepAlive: true, scheduling: 'lifo', timeout: 5_000, noDelay: true });
  const options = { vapidDetails: { subject: 'mailto:push@localhost.invalid', ...vapid }, TTL: 86_400, agent };
  const notificationId = crypto.randomUUID();
  const content = { ...MESSAGE, tag: notificationId };
  const before = await mock.stats();
  const meter = await startPhase(context, 'web-push');
  let next = 0;
  let failures = 0;
  const sockets = new Set<unknown>();
  agent.on('free', (socket) => sockets.add(socket));
  async function lane() {
    while (next < N) {
      const i = next++;
      const key = keys[i % keys.length]!;
      // The same payload Pushcart builds: same size, a per-delivery report token.
      const payload = buildPayload(notificationId, content, { url: reportUrl(PUBLIC_URL), token: `${i + 1}.${randomBytes(16).toString('hex')}` });
      try {
        await webpush.sendNotification({ endpoint: `${mock.origin}/push/w${i}`, keys: key }, payload, options);
      } catch {
        failures++;
      }
    }
  }
  await Promise.all(Array.from({ length: bench.poolWidth }, lane));
  await mock.waitForAccepted(before.accepted + N - failures, 10_000);
  const figures = await meter.stop();
  const after = await mock.stats();
  agent.destroy();
  const notes = [
    `${N - failures} sent, ${failures} failed; mock: ${after.accepted - before.accepted} accepted, ${after.connections - before.connections} TLS connection(s) opened (HTTP/1.1, ${bench.webPushNoKeepAlive ? 'no keep-alive' : `keep-alive agent, ${sockets.size} sockets reused`})`,
  ];
  if (failures > 0) throw new Error(`web-push: ${failures} sends failed`);
  return { ...figures, msgsPerSec: N / (figures.wallMs / 1000), notes };
}

/** Diagnostic: Pushcart's transport alone (HTTP/2, host gate), requests built beforehand: the I/O cost without crypto or database. */
export async function transportPhase(context: PhaseContext, vapid: { publicKey: string; privateKey: string }, keys: SubscriberKeys[], config: Config): Promise<Figures> {
  const { mock, options } = context;
  const { n: N, settings } = options;
  const cache = new VapidHeaderCache();
  const vapidKeys = { subject: config.vapidSubject, ...vapid };
  const notificationId = crypto.randomUUID();
  const content = { ...MESSAGE, tag: notificationId };
  // A few hundred distinct bodies, reused: building N of them would be the ceiling phase again.
  const templates = Array.from({ length: 256 }, (_, i) =>
    assemblePushRequest(
      `${mock.origin}/push/t${i}`,
      encryptPushPayload(
        keys[i % keys.length]!,
        buildPayload(notificationId, content, { url: reportUrl(PUBLIC_URL), token: `${i + 1}.${randomBytes(16).toString('hex')}` }),
      ),
      vapidKeys,
      { ttlSeconds: 86_400, urgency: 'normal' },
      cache,
    ),
  );
  const push = pushTransport(mock, options.connections);
  const gates = new HostGates({ ...DEFAULT_HOST_GATE_SETTINGS, ...settings.hostGates }, Date.now, quietLogger);
  const width = settings.hostGates?.maxInFlightPerHost ?? DEFAULT_HOST_GATE_SETTINGS.maxInFlightPerHost;
  const before = await mock.stats();
  const meter = await startPhase(context, 'transport');
  let next = 0;
  let notSent = 0;
  async function lane() {
    while (next < N) {
      const i = next++;
      const template = templates[i % templates.length]!;
      const outcome = await gates.run(mock.host, () => push.transport.send({ ...template, url: `${mock.origin}/push/t${i}` }));
      if (outcome.kind !== 'sent') notSent++;
    }
  }
  await Promise.all(Array.from({ length: width }, lane));
  const figures = await meter.stop();
  const after = await mock.stats();
  await push.close();
  if (notSent > 0) throw new Error(`transport: ${notSent} pushes not sent`);
  const notes = [`server transport, ${width} in flight through HostGates, pre-built requests; mock: ${after.accepted - before.accepted} accepted, ${after.connections - before.connections} TLS connection(s)`];
  return { ...figures, msgsPerSec: N / (figures.wallMs / 1000), notes };
}

export async function ceilingPhase(context: PhaseContext, vapid: { publicKey: string; privateKey: string }, keys: SubscriberKeys[]): Promise<Figures> {
  const { mock } = context;
  const N = context.options.n;
  const cache = new VapidHeaderCache();
  const vapidKeys = { subject: 'mailto:push@localhost.invalid', ...vapid };
  const notificationId = crypto.randomUUID();
  const content = { ...MESSAGE, tag: notificationId };
  const report = reportUrl(PUBLIC_URL);
  const token = randomBytes(16).toString('hex');
  let bytes = 0;
  const meter = await startPhase(context, 'ceiling');
  for (let i = 0; i < N; i++) {
    const key = keys[i % keys.length]!;
    const payload = buildPayload(notificationId, content, { url: report, token: `${i + 1}.${token}` });
    const request = assemblePushRequest(
      `${mock.origin}/push/c${i}`,
      encryptPushPayload({ p256dh: key.p256dh, auth: key.auth }, payload),
      vapidKeys,
      { ttlSeconds: 86_400, urgency: 'normal' },
      cache,
    );
    bytes += request.body.byteLength;
    // Let the RSS sampler run now and then; a sync loop would starve it.
    if (i % 2_000 === 1_999) await new Promise((resolve) => setImmediate(resolve));
  }
  const figures = await meter.stop();
  const notes = [`payload + aes128gcm encryption + cached VAPID header, one thread; ${cache.signings} JWT signing(s); mean body ${(bytes / N).toFixed(0)} bytes`];
  return { ...figures, msgsPerSec: N / (figures.wallMs / 1000), notes };
}

/**
 * The encryption floor (fanout-floor.ts), N pushes on one thread: a fresh ephemeral key pair, ECDH,
 * HKDF and AES-128-GCM per push, node:crypto only, over the payload Pushcart sends (built
 * beforehand: building it is bookkeeping, not encryption). The subscriber's keys are decoded from
 * base64url per push, as anyone reading them from a database must.
 */
export async function floorPhase(context: PhaseContext, keys: SubscriberKeys[]): Promise<Figures> {
  const N = context.options.n;
  const notificationId = crypto.randomUUID();
  const content = { ...MESSAGE, tag: notificationId };
  const payloads = Array.from({ length: 256 }, (_, i) =>
    Buffer.from(buildPayload(notificationId, content, { url: reportUrl(PUBLIC_URL), token: `${i + 1}.${randomBytes(16).toString('hex')}` })),
  );
  checkFloorEncryption(payloads[0]!);
  let bytes = 0;
  const meter = await startPhase(context, 'floor');
  for (let i = 0; i < N; i++) {
    const key = keys[i % keys.length]!;
    const body = floorEncrypt(Buffer.from(key.p256dh, 'base64url'), Buffer.from(key.auth, 'base64url'), payloads[i % payloads.length]!);
    bytes += body.byteLength;
    // Let the RSS sampler run now and then; a sync loop would starve it.
    if (i % 2_000 === 1_999) await new Promise((resolve) => setImmediate(resolve));
  }
  const figures = await meter.stop();
  const notes = [`ephemeral ECDH + HKDF + AES-128-GCM per push with node:crypto, one thread; payload ${payloads[0]!.byteLength} bytes, mean body ${(bytes / N).toFixed(0)} bytes; checked to decrypt`];
  return { ...figures, msgsPerSec: N / (figures.wallMs / 1000), notes };
}
