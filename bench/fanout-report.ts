/** What bench:fanout prints: the machine, each phase's figures, the ratios against the targets and a RESULT line. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { EncryptionPool } from '../server/runtime/node/encryption-pool.ts';
import { MiB, type Figures } from './fanout-meter.ts';
import type { FanoutOptions } from './fanout-options.ts';

export function machineDescription(): string {
  const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return `${os.cpus().length} CPUs (${cpuModel}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function printFigures(name: string, f: Figures, options: Pick<FanoutOptions, 'n' | 'dbKind'>, encryptionPool: EncryptionPool | undefined) {
  const N = options.n;
  console.log(
    `${name.padEnd(10)} ${f.msgsPerSec.toFixed(0).padStart(7)} msgs/s  ${(f.wallMs / 1000).toFixed(2).padStart(6)} s  ${(1e6 / f.msgsPerSec).toFixed(0).padStart(4)} µs/msg  ` +
      `peak RSS ${f.peakRssMiB.toFixed(0)} MiB (${f.startRssMiB.toFixed(0)} at the start; at the peak V8 heap ${f.atPeakMiB.heapUsed.toFixed(0)} used of ${f.atPeakMiB.heapTotal.toFixed(0)}, external ${f.atPeakMiB.external.toFixed(0)}${f.liveHeapMiB ? `; live heap after full GCs ≤ ${f.liveHeapMiB.toFixed(0)}` : ''})`,
  );
  console.log(
    `           CPU (% of one core): this process ${f.processCpuPct.toFixed(0)} (${f.cpuMicrosPerMsg.toFixed(0)} µs/msg), mock child ${f.mockCpuPct.toFixed(0)}, Postgres ${options.dbKind === 'postgres' ? `${f.postgresCpuPct.toFixed(0)} (${((f.postgresCpuPct * f.wallMs * 10) / N).toFixed(0)} µs/msg)` : 'in this process'}, other users ${f.otherCpuPct.toFixed(0)}, steal ${f.stealPct.toFixed(0)}; event loop busy ${f.eventLoopUtilPct.toFixed(0)} %` +
      (encryptionPool ? `, ${encryptionPool.size} encryption thread(s) busy ${f.encryptionThreadsPct.toFixed(0)} % (of one core, summed; their CPU counts in "this process")` : ''),
  );
  for (const note of f.notes) console.log(`           ${note}`);
}

/** The overrides of the server's defaults this run used, as printed at the start and in the RESULT line. */
export function overrides(options: FanoutOptions) {
  return {
    ...options.settings,
    connectionsPerOrigin: options.connections,
    workerProcesses: options.workerProcesses || undefined,
    inProcessWorker: options.inProcessWorker ? undefined : false,
  };
}

/** The ratios against the targets, the run's peak memory, and one RESULT line of JSON. */
export function printSummary(
  results: ReadonlyMap<string, Figures>,
  run: { options: FanoutOptions; databaseKind: string; encryptionPool: EncryptionPool | undefined; mockMaxRssBytes: number | undefined; problems: number },
) {
  const { options } = run;
  const pushcart = results.get('pushcart');
  const baseline = results.get('web-push');
  const ceiling = results.get('ceiling');
  console.log('');
  if (pushcart && baseline) {
    const ratio = pushcart.msgsPerSec / baseline.msgsPerSec;
    console.log(`Pushcart / web-push: ${ratio.toFixed(2)}×  (target ≥ 4×: ${ratio >= 4 ? 'met' : 'MISSED'})`);
  }
  if (pushcart && ceiling) {
    const ratio = pushcart.msgsPerSec / ceiling.msgsPerSec;
    console.log(`Pushcart / crypto ceiling: ${(ratio * 100).toFixed(0)} %  (target ≥ 60 %: ${ratio >= 0.6 ? 'met' : 'MISSED'})`);
  }
  const transport = results.get('transport');
  if (ceiling && transport) {
    const serial = 1 / (1 / ceiling.msgsPerSec + 1 / transport.msgsPerSec);
    console.log(`crypto and transport on one thread, one after the other, would give ≤ ${serial.toFixed(0)} msgs/s (1 / (1/ceiling + 1/transport))`);
  }
  if (pushcart) console.log(`Pushcart peak RSS: ${pushcart.peakRssMiB.toFixed(0)} MiB = ${((pushcart.peakRssMiB * MiB) / 1e6).toFixed(0)} MB (target < 300 MB)`);
  console.log(
    `process peak RSS over the whole run: ${((process.resourceUsage().maxRSS * 1024) / MiB).toFixed(0)} MiB` +
      (run.mockMaxRssBytes ? `; mock push child: ${(run.mockMaxRssBytes / MiB).toFixed(0)} MiB` : ''),
  );
  if (run.problems > 0) console.log(`warnings/errors logged by the server code: ${run.problems}`);
  console.log(
    `RESULT ${JSON.stringify({
      n: options.n,
      db: run.databaseKind,
      mock: options.mockWhere,
      encryptionThreads: run.encryptionPool?.size ?? 0,
      overrides: overrides(options),
      ...Object.fromEntries([...results].map(([name, f]) => [
          name,
          {
            msgsPerSec: Math.round(f.msgsPerSec),
            seconds: +(f.wallMs / 1000).toFixed(2),
            cpuMicrosPerMsg: Math.round(f.cpuMicrosPerMsg),
            startRssMiB: Math.round(f.startRssMiB),
            peakRssMiB: Math.round(f.peakRssMiB),
            postgresCpuPct: Math.round(f.postgresCpuPct),
            otherCpuPct: Math.round(f.otherCpuPct),
            stealPct: Math.round(f.stealPct),
          },
        ])),
    })}`,
  );
}
