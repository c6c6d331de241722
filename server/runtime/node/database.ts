import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../../config.ts';
import type { Database, Db } from '../../db/database.ts';
import { guardPoolErrors } from '../../db/pg-pool-errors.ts';
import { pgliteDialect } from '../../db/pglite-dialect.ts';
import type { Logger } from '../../logger.ts';
import { describeError } from '../../logger.ts';

/** How long to wait for a Postgres connection before answering 503, rather than hanging the request. */
const CONNECT_TIMEOUT_MS = 5_000;
const POOL_SIZE = 10;

export interface OpenDatabase {
  db: Db;
  kind: 'pglite' | 'postgres';
  describe: string;
  close(): Promise<void>;
}

/** Raised when another process holds the embedded data dir; its message is the whole story for an operator. */
export class DataDirBusyError extends Error {
  override readonly name = 'DataDirBusyError';
}

/** Postgres when DATABASE_URL is set, otherwise embedded PGlite under PUSHCART_DATA_DIR. */
export async function openDatabase(config: Config, logger: Logger): Promise<OpenDatabase> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, logger);
  return openEmbedded(config.dataDir);
}

export function openPostgres(connectionString: string, logger: Logger): OpenDatabase {
  const pool = guardPoolErrors(
    new pg.Pool({ connectionString, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }),
    (error) => logger.log('warn', 'postgres connection lost', describeError(error)),
  );
  const url = new URL(connectionString);
  return {
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    kind: 'postgres',
    describe: `Postgres at ${url.hostname}:${url.port || 5432}${url.pathname}`,
    close: () => pool.end(),
  };
}

async function openEmbedded(dataDir: string): Promise<OpenDatabase> {
  const root = resolve(dataDir);
  mkdirSync(root, { recursive: true });
  const releaseLock = lockDataDir(root);
  try {
    const client = await PGlite.create({ dataDir: resolve(root, 'pgdata') });
    const db = new Kysely<Database>({ dialect: pgliteDialect(client) });
    return {
      db,
      kind: 'pglite',
      describe: `embedded PGlite in ${root}`,
      close: async () => {
        await db.destroy();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/** An in-memory PGlite, for tests and benchmarks. */
export async function openMemoryDatabase(): Promise<OpenDatabase> {
  const client = await PGlite.create();
  const db = new Kysely<Database>({ dialect: pgliteDialect(client) });
  return { db, kind: 'pglite', describe: 'in-memory PGlite', close: () => db.destroy() };
}

/**
 * PGlite is a single Postgres backend: two processes writing one data dir corrupt it. A lock file
 * holding the owner's pid keeps it to one; a lock left by a process that died is taken over.
 */
function lockDataDir(root: string): () => void {
  const lockPath = resolve(root, 'pushcart.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        rmSync(lockPath, { force: true });
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new DataDirBusyError(
          `The embedded database in ${root} is in use by another Pushcart process (pid ${owner}). ` +
            `Stop that process first, or use the admin HTTP API of the running server (/v1/admin/…), ` +
            `or set DATABASE_URL to a Postgres server, which many processes can share.`,
        );
      }
      rmSync(lockPath, { force: true }); // stale: its owner is gone
    }
  }
  throw new DataDirBusyError(`Could not lock the embedded database in ${root}; another process keeps taking it.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
