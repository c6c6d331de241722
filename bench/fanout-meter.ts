/**
 * What bench:fanout measures per phase: wall time, peak RSS sampled every 50 ms, CPU of this
 * process, of the mock, of this run's Postgres backends and of the rest of the machine (other
 * users, hypervisor steal), event-loop and encryption-thread utilisation; and, for the pushcart
 * phase, SQL statement times and transport send times. Linux only: it reads /proc.
 */
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, UnknownRow } from 'kysely';
import type { PushTransport } from '../server/push/fetch-transport.ts';
import type { EncryptionPool } from '../server/runtime/node/encryption-pool.ts';
import { QUIET_CPU_PCT } from './fanout-options.ts';

export const MiB = 1024 * 1024;

export interface PhaseFigures {
  wallMs: number;
  /** RSS when the phase started: what the process held before (modules, earlier phases). */
  startRssMiB: number;
  peakRssMiB: number;
  /** V8 heap (total, used) and external memory at the sample with the highest RSS. */
  atPeakMiB: { heapTotal: number; heapUsed: number; external: number };
  /** CPU time of this process per message, µs: less sensitive to other load than wall time. */
  cpuMicrosPerMsg: number;
  /** With --live-heap: the largest V8 heap left after a full GC. */
  liveHeapMiB: number;
  /** CPU time over wall time, in % of one core: this process, the mock child, and everything else on the machine (Postgres, other users). */
  processCpuPct: number;
  mockCpuPct: number;
  /** This benchmark's Postgres backends (counted by database name, embedded or server). */
  postgresCpuPct: number;
  /** Everything else on the machine: other users' processes, and Postgres' shared background processes. */
  otherCpuPct: number;
  /** Hypervisor steal over the phase, % of one core: > a few % means the figures are disturbed. */
  stealPct: number;
  eventLoopUtilPct: number;
  /** The encryption pool's threads, busy time over wall time summed, % of one core (0 without a pool). */
  encryptionThreadsPct: number;
}

/**
 * A Pushcart phase's CPU per delivered push, µs, from the POST until every result is written:
 * this process (the API; with the in-process worker also the sending and its encryption threads),
 * the `pushcart worker` processes (their threads included), and this database's Postgres backends.
 */
export interface CpuPerPush {
  thisProcessMicros: number;
  workerProcessesMicros: number;
  postgresMicros: number;
  workerProcesses: number;
  inProcessWorker: boolean;
}

/** A phase's figures with its throughput and what else it saw. */
export type Figures = PhaseFigures & { msgsPerSec: number; notes: string[]; cpuPerPush?: CpuPerPush };

export interface PhaseMeter {
  stop(): Promise<PhaseFigures>;
}

export interface MeterOptions {
  /** Messages per phase, for the per-message figures. */
  n: number;
  /** --live-heap: a full GC every second (needs node --expose-gc). */
  liveHeap: boolean;
  /** --profile: a V8 CPU profile per phase into this directory. */
  profileDir: string | undefined;
  /** Names the profile files. */
  dbKind: string;
  encryptionPool: EncryptionPool | undefined;
}

export interface Meter {
  /** Starts measuring a phase; `mockCpuMicros` reads the mock's CPU time so far. */
  startPhase(name: string, mockCpuMicros: () => Promise<number>): Promise<PhaseMeter>;
  /** The database whose backends count as this run's Postgres (their command line names it). */
  setPostgresDatabase(name: string): void;
  /** CPU seconds its backends have used so far (only differences mean anything). */
  postgresCpuSeconds(): number;
  /** Stops the samplers. */
  close(): void;
}

/** Starts the RSS sampler (and with --live-heap the GC timer); both are unref'd and stop on close(). */
export function createMeter(options: MeterOptions): Meter {
  let phasePeakRss = 0;
  /** At the RSS peak: what V8's heap and the off-heap buffers held, to tell live data from slack. */
  let atPeak = { heapTotal: 0, heapUsed: 0, external: 0 };
  function sampleMemory() {
    const usage = process.memoryUsage();
    if (usage.rss >= phasePeakRss) {
      phasePeakRss = usage.rss;
      atPeak = { heapTotal: usage.heapTotal, heapUsed: usage.heapUsed, external: usage.external };
    }
  }
  const rssSampler = setInterval(sampleMemory, 50);
  rssSampler.unref();
  /** --live-heap: a full GC every second, to tell live data from garbage. */
  let liveHeapPeak = 0;
  const gcTimer = options.liveHeap
    ? setInterval(() => {
        global.gc!();
        liveHeapPeak = Math.max(liveHeapPeak, process.memoryUsage().heapUsed);
      }, 1_000).unref()
    : undefined;
  let inspector: Session | undefined;
  const postgres = new PostgresCpu();
  const { n, profileDir, encryptionPool } = options;

  return {
    setPostgresDatabase(name) {
      postgres.watch(name);
    },
    postgresCpuSeconds: () => postgres.seconds(),
    close() {
      clearInterval(rssSampler);
      if (gcTimer) clearInterval(gcTimer);
      postgres.close();
    },
    async startPhase(name, mockCpuMicros) {
      const mock0 = await mockCpuMicros();
      const postgres0 = postgres.seconds();
      if (profileDir) {
        inspector ??= new Session();
        inspector.connect();
        await inspector.post('Profiler.enable');
        await inspector.post('Profiler.setSamplingInterval', { interval: 500 });
        await inspector.post('Profiler.start');
      }
      phasePeakRss = 0;
      liveHeapPeak = 0;
      sampleMemory();
      const startRss = phasePeakRss;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const machine0 = machineCpuTicks();
      const elu0 = performance.eventLoopUtilization();
      const threads = encryptionPool?.threads ?? [];
      const threadElu0 = threads.map((thread) => thread.performance.eventLoopUtilization());
      return {
        async stop() {
          sampleMemory();
          const wallMs = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          const machine1 = machineCpuTicks();
          const elu = performance.eventLoopUtilization(elu0);
          // A thread replaced during the phase drops out of this figure (and is reported as an error).
          const encryptionThreadsPct = threads.reduce(
            (sum, thread, i) => sum + (thread.threadId === -1 ? 0 : thread.performance.eventLoopUtilization(threadElu0[i]).utilization * 100),
            0,
          );
          const mock1 = await mockCpuMicros();
          if (profileDir && inspector) {
            const { profile } = await inspector.post('Profiler.stop');
            mkdirSync(profileDir, { recursive: true });
            writeFileSync(`${profileDir}/${name}-n${n}-${options.dbKind}.cpuprofile`, JSON.stringify(profile));
            inspector.disconnect();
          }
          const processCpuPct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
          const postgresCpuPct = ((postgres.seconds() - postgres0) * 1000 * 100) / wallMs;
          const mockCpuPct = ((mock1 - mock0) / 1000 / wallMs) * 100;
          const machineCpuPct = ((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * 100 * os.cpus().length;
          const stealPct = ((machine1.steal - machine0.steal) / Math.max(1, machine1.total - machine0.total)) * 100 * os.cpus().length;
          return {
            wallMs,
            startRssMiB: startRss / MiB,
            peakRssMiB: phasePeakRss / MiB,
            atPeakMiB: { heapTotal: atPeak.heapTotal / MiB, heapUsed: atPeak.heapUsed / MiB, external: atPeak.external / MiB },
            cpuMicrosPerMsg: (cpu.user + cpu.system) / n,
            liveHeapMiB: liveHeapPeak / MiB,
            processCpuPct,
            mockCpuPct,
            postgresCpuPct,
            otherCpuPct: Math.max(0, machineCpuPct - stealPct - processCpuPct - mockCpuPct - postgresCpuPct),
            stealPct,
            eventLoopUtilPct: elu.utilization * 100,
            encryptionThreadsPct,
          };
        },
      };
    },
  };
}

/** /proc/stat's first line: busy includes steal (time the hypervisor gave our vCPUs to someone else). */
function machineCpuTicks(): { busy: number; steal: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, steal: fields[7] ?? 0, total };
}

/**
 * CPU seconds of a database's Postgres backends (their command line names the database: every
 * connection of this process and of the `pushcart worker` processes, none of the mock's, which has
 * none). A backend that exits (a pool's idle timeout) would take its CPU with it, so every backend
 * is read once a second and its last reading kept: the sum only grows, and what a backend used in
 * its last second before exiting is all that can be missed. A scan of /proc costs under 1 ms.
 */
class PostgresCpu {
  #database: string | undefined;
  readonly #lastSeen = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;

  watch(database: string): void {
    this.#database = database;
    this.#timer ??= setInterval(() => this.#scan(), 1_000).unref();
    this.#scan();
  }

  /** All the CPU the database's backends have used since watch(), as far as seen; 0 without one. */
  seconds(): number {
    this.#scan();
    let sum = 0;
    for (const value of this.#lastSeen.values()) sum += value;
    return sum;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #scan(): void {
    if (!this.#database) return;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        const key = `${pid}:${stat.split(') ')[1]!.split(' ')[19]}`; // pid and start time: a reused pid is another backend
        if (!this.#lastSeen.has(key)) {
          const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          if (!cmdline.includes(` ${this.#database} `)) continue;
        }
        const fields = stat.split(') ')[1]!.split(' ');
        this.#lastSeen.set(key, (Number(fields[11]) + Number(fields[12])) / 100); // USER_HZ
      } catch {
        // the process ended while we looked
      }
    }
  }
}

/** A process's user + system CPU seconds so far, from /proc. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ on Linux
}

/** A process's peak RSS (VmHWM), MiB, from /proc. */
export function processPeakRssMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** Busy CPU of the whole machine over `ms`, in % of one core. */
async function machineLoad(ms: number): Promise<number> {
  const a = machineCpuTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = machineCpuTicks();
  return ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * 100 * os.cpus().length;
}

/** Before each phase with --wait-quiet: wait (up to that long) until the machine is idle. */
export async function waitForQuiet(seconds: number): Promise<void> {
  if (seconds <= 0) return;
  const until = performance.now() + seconds * 1000;
  let load = await machineLoad(2_000);
  while (load > QUIET_CPU_PCT && performance.now() < until) load = await machineLoad(2_000);
  if (load > QUIET_CPU_PCT) console.log(`(the machine did not get quiet: ${load.toFixed(0)} % of a core busy)`);
}

/** Times every statement by its first words (claim, record, mark succeeded…) through a Kysely plugin. */
export class SqlTimer implements KyselyPlugin {
  readonly totals = new Map<string, { count: number; ms: number; maxMs: number }>();
  readonly #started = new Map<object, { label: string; at: number }>();
  transformQuery(args: PluginTransformQueryArgs) {
    const node = args.node as { kind: string; sqlFragments?: readonly string[] };
    const text = node.kind === 'RawNode' ? (node.sqlFragments ?? []).join('$').replace(/\s+/g, ' ').trim() : node.kind;
    const label =
      /^with claimed/.test(text) ? 'claimDeliveries'
      : /^update deliveries d set status = v\.status/.test(text) ? 'recordDeliveryResults'
      : /^update subscriptions s set status = 'expired'/.test(text) ? 'expireSubscriptions'
      : text.slice(0, 40);
    this.#started.set(args.queryId, { label, at: performance.now() });
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const started = this.#started.get(args.queryId);
    if (started) {
      this.#started.delete(args.queryId);
      const ms = performance.now() - started.at;
      const total = this.totals.get(started.label) ?? { count: 0, ms: 0, maxMs: 0 };
      total.count++;
      total.ms += ms;
      total.maxMs = Math.max(total.maxMs, ms);
      this.totals.set(started.label, total);
    }
    return args.result;
  }
}

/** Wraps the transport to see how long sends take and how many are in flight. */
export function timedTransport(inner: PushTransport) {
  const stats = { sends: 0, totalMs: 0, maxMs: 0, inFlight: 0, maxInFlight: 0, notSent: 0 };
  const transport: PushTransport = {
    async send(request) {
      const at = performance.now();
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        const outcome = await inner.send(request);
        if (outcome.kind !== 'sent') stats.notSent++;
        return outcome;
      } finally {
        stats.inFlight--;
        const ms = performance.now() - at;
        stats.sends++;
        stats.totalMs += ms;
        stats.maxMs = Math.max(stats.maxMs, ms);
      }
    },
  };
  return { transport, stats };
}
