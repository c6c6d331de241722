/**
 * `npm start` on a fresh data dir: time until /healthz answers, then memory once idle, summed over
 * every process it runs (npm, node, the embedded Postgres and its backends), beside a bare
 * `node -e` HTTP server measured in the same run. Linux only (reads /proc).
 *
 *   npx tsx bench/startup.ts [--idle-seconds=15]
 *
 * RSS counts a page shared by several processes (Postgres's shared buffers, libraries) once in
 * each; PSS divides it among them, so the PSS sum is what the processes together take.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const idleSeconds = Number(process.argv.find((arg) => arg.startsWith('--idle-seconds='))?.split('=')[1] ?? 15);

interface ProcessMemory {
  pid: number;
  name: string;
  rssKiB: number;
  pssKiB: number;
}

function children(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  return byParent;
}

function tree(pid: number): number[] {
  const byParent = children();
  const all: number[] = [];
  const walk = (p: number) => {
    all.push(p);
    for (const child of byParent.get(p) ?? []) walk(child);
  };
  walk(pid);
  return all;
}

function memoryOf(pid: number): ProcessMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (text: string, name: string) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const name = cmdline.slice(0, 3).join(' ').replace(root, '').slice(0, 70);
    return { pid, name, rssKiB: field(status, 'VmRSS'), pssKiB: field(rollup, 'Pss') };
  } catch {
    return undefined;
  }
}

function measureTree(pid: number): ProcessMemory[] {
  return tree(pid).map(memoryOf).filter((m): m is ProcessMemory => m !== undefined);
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before answering`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function report(label: string, processes: ProcessMemory[]): { rss: number; pss: number } {
  const rss = processes.reduce((sum, p) => sum + p.rssKiB, 0);
  const pss = processes.reduce((sum, p) => sum + p.pssKiB, 0);
  console.log(`${label}: ${processes.length} processes, RSS ${mib(rss)} MiB summed, PSS ${mib(pss)} MiB summed`);
  for (const p of processes) console.log(`  ${String(p.pid).padStart(7)}  RSS ${mib(p.rssKiB).padStart(6)}  PSS ${mib(p.pssKiB).padStart(6)}  ${p.name}`);
  return { rss, pss };
}

async function stop(child: ChildProcess, pid: number): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(pid, 'SIGTERM');
  await exited;
}

// Baseline: a bare Node HTTP server.
{
  const port = await freePort();
  const bare = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`], { stdio: 'ignore' });
  await waitForHttp(`http://127.0.0.1:${port}/`, bare, 10_000);
  await sleep(1_000);
  report('baseline: bare `node -e` HTTP server', measureTree(bare.pid!));
  await stop(bare, bare.pid!);
}

// npm start, twice on one fresh data dir: the first start runs initdb.
const dataDir = mkdtempSync(join(tmpdir(), 'pushcart-bench-startup-'));
try {
  for (const run of ['first start (fresh data dir)', 'second start (same data dir)']) {
    const port = await freePort();
    const started = performance.now();
    const npm = spawn('npm', ['start'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: '', PUSHCART_DATA_DIR: dataDir, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, npm, 60_000);
    const readyMs = performance.now() - started;
    console.log(`\nnpm start, ${run}: /healthz answered after ${(readyMs / 1000).toFixed(2)} s`);
    await sleep(idleSeconds * 1000);
    const { rss, pss } = report(`npm start idle for ${idleSeconds} s`, measureTree(npm.pid!));
    const server = tree(npm.pid!).find((pid) => memoryOf(pid)?.name.startsWith('node server/runtime/node/pushcart.mjs'));
    console.log(`RESULT ${run}: ready ${(readyMs / 1000).toFixed(2)} s; idle RSS ${mib(rss)} MiB, PSS ${mib(pss)} MiB (all processes)`);
    await stop(npm, server ?? npm.pid!);
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
