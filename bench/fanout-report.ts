/** What bench:fanout prints: the machine, each phase's figures, the ratios against the targets and a RESULT line. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { EncryptionPool } from '../server/runtime/node/encryption-pool.ts';
import { sql } from 'kysely';
import type { Db } from '../server/db/database.ts';
import { MiB, type CpuPerPush, type Figures } from './fanout-meter.ts';
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
  if (f.cpuPerPush) {
    const c = f.cpuPerPush;
    console.log(
      `           CPU per delivered push, POST to the last result written: this process ${c.thisProcessMicros.toFixed(0)} µs` +
        (c.workerProcesses ? `, ${c.workerProcesses} \`pushcart worker\` process(es) ${c.workerProcessesMicros.toFixed(0)} µs` : '') +
        `, Postgres ${c.postgresMicros.toFixed(0)} µs, total ${cpuTotal(c).toFixed(0)} µs`,
    );
  }
  for (const note of f.notes) console.log(`           ${note}`);
}

/** Pushcart's CPU per push: every Pushcart process and the Postgres backends serving them. */
export function cpuTotal(c: CpuPerPush): number {
  return c.thisProcessMicros + c.workerProcessesMicros + c.postgresMicros;
}

function configurationName(c: CpuPerPush): string {
  if (!c.inProcessWorker) return `${c.workerProcesses} \`pushcart worker\`${c.workerProcesses === 1 ? '' : 's'}`;
  return c.workerProcesses ? `in-process worker + ${c.workerProcesses} \`pushcart worker\`` : 'in-process worker';
}

/**
 * Issue 12's figure, one line per Pushcart configuration: CPU per delivered push summed over the
 * Pushcart processes and their Postgres backends, beside the floor, the ceiling and web-push of the
 * same run, with the two ratios and their goals (≤ 1.5× the floor, ≥ 3× less than web-push).
 */
export function printCpuPerPush(results: ReadonlyMap<string, Figures>): void {
  const floor = results.get('floor')?.cpuMicrosPerMsg;
  const ceiling = results.get('ceiling')?.cpuMicrosPerMsg;
  const webPush = results.get('web-push')?.cpuMicrosPerMsg;
  for (const [name, f] of results) {
    const c = f.cpuPerPush;
    if (!c) continue;
    const total = cpuTotal(c);
    const processes = c.thisProcessMicros + c.workerProcessesMicros;
    const parts = [
      `CPU/push ${name} (${configurationName(c)}): Pushcart processes ${processes.toFixed(0)} + Postgres ${c.postgresMicros.toFixed(0)} = ${total.toFixed(0)} µs`,
      floor !== undefined ? `floor ${floor.toFixed(0)}` : undefined,
      ceiling !== undefined ? `ceiling ${ceiling.toFixed(0)}` : undefined,
      webPush !== undefined ? `web-push ${webPush.toFixed(0)} µs` : undefined,
      floor !== undefined ? `Pushcart ÷ floor ${(total / floor).toFixed(2)}× (goal ≤ 1.5×: ${total <= 1.5 * floor ? 'met' : 'MISSED'})` : undefined,
      webPush !== undefined ? `web-push ÷ Pushcart ${(webPush / total).toFixed(2)}× (goal ≥ 3×: ${webPush >= 3 * total ? 'met' : 'MISSED'})` : undefined,
      `${f.msgsPerSec.toFixed(0)} msgs/s`,
    ];
    console.log(parts.filter((p) => p !== undefined).join(' | '));
  }
}

/** --pg-stat-statements: forget what the server counted so far (statements: all databases; functions: this one). */
export async function resetStatementStats(db: Db): Promise<void> {
  await sql`create extension if not exists pg_stat_statements`.execute(db);
  await sql`select pg_stat_statements_reset()`.execute(db);
  await sql`select pg_stat_reset()`.execute(db);
}

/**
 * --pg-stat-statements: where this database's backends spent their time since the reset, µs per
 * push: statements by execution time (with pg_stat_statements.track = all the statements run by
 * trigger functions are listed too, and their time is also inside the statement that fired them),
 * and the trigger functions (track_functions = 'pl'). Time, not CPU: on a busy machine a backend
 * waiting for a core counts too.
 */
export async function statementStats(db: Db, n: number): Promise<string[]> {
  // Function counters reach the view when a backend goes idle, at most every few seconds.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const statements = await sql<{ query: string; calls: string; exec_ms: number; plan_ms: number; rows: string; toplevel: boolean }>`
    select query, calls::text, total_exec_time as exec_ms, total_plan_time as plan_ms, rows::text, toplevel
    from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
    order by total_exec_time desc limit 20`.execute(db);
  const functions = await sql<{ funcname: string; calls: string; total_ms: number; self_ms: number }>`
    select funcname, calls::text, total_time as total_ms, self_time as self_ms from pg_stat_user_functions order by total_time desc`.execute(db);
  const perPush = (ms: number) => ((ms * 1000) / n).toFixed(1);
  const lines = ['pg_stat_statements (µs per push: execution + planning; calls; rows):'];
  for (const s of statements.rows) {
    lines.push(
      `  ${perPush(s.exec_ms + s.plan_ms).padStart(6)} µs  ${s.calls.padStart(6)} calls ${s.rows.padStart(7)} rows${s.toplevel ? '' : ' (nested)'}  ${s.query.replace(/\s+/g, ' ').slice(0, 150)}`,
    );
  }
  lines.push('pg_stat_user_functions (µs per push: total / self; calls):');
  for (const f of functions.rows) lines.push(`  ${perPush(f.total_ms).padStart(6)} / ${perPush(f.self_ms)} µs  ${f.calls.padStart(6)} calls  ${f.funcname}`);
  return lines;
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
  printCpuPerPush(results);
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
            ...(f.cpuPerPush
              ? {
                  cpuPerPush: {
                    thisProcess: Math.round(f.cpuPerPush.thisProcessMicros),
                    workerProcesses: Math.round(f.cpuPerPush.workerProcessesMicros),
                    postgres: Math.round(f.cpuPerPush.postgresMicros),
                    total: Math.round(cpuTotal(f.cpuPerPush)),
                  },
                }
              : {}),
          },
        ])),
    })}`,
  );
}
