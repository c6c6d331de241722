import { resolve } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../../config.ts';
import type { Database, Db } from '../../db/database.ts';
import { guardPoolErrors } from '../../db/pg-pool-errors.ts';
import type { Logger } from '../../logger.ts';
import { describeError } from '../../logger.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import type { PoolStats } from './node-metrics.ts';

export { EmbeddedPostgresError } from './embedded-postgres.ts';

/** How long to wait for a Postgres connection before answering 503, rather than hanging the request. */
const CONNECT_TIMEOUT_MS = 5_000;
const POOL_SIZE = 10;

export interface OpenDatabase {
  db: Db;
  kind: 'embedded' | 'postgres';
  describe: string;
  /** The pool's connections and waiting queries now, for the metrics. */
  poolStats(): PoolStats;
  /** Where a process opens a connection of its own (LISTEN for work notifications). */
  connectionString: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /**
   * The server owns the embedded Postgres: it stops it when it stops, even one a CLI command had
   * started. Other processes stop it only when they started it and nobody else is using it.
   */
  server?: boolean;
  /** Say in the log when the embedded Postgres is started, found or stopped (long-running processes). */
  announce?: boolean;
}

/**
 * Postgres when DATABASE_URL is set, otherwise the embedded Postgres under PUSHCART_DATA_DIR:
 * the one already running there (the server's, while it runs), or one started for this process.
 */
export async function openDatabase(config: Config, logger: Logger, options: OpenDatabaseOptions = {}): Promise<OpenDatabase> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, logger);
  const embedded = await startEmbeddedPostgres(config.dataDir, {
    takeOwnership: options.server ?? false,
    ...(options.announce || options.server ? { log: (message: string, fields?: Record<string, unknown>) => logger.log('info', message, fields) } : {}),
  });
  try {
    const opened = openPostgres(embedded.connectionString, logger);
    return {
      db: opened.db,
      kind: 'embedded',
      describe: `embedded Postgres in ${resolve(config.dataDir)}`,
      poolStats: opened.poolStats,
      connectionString: opened.connectionString,
      close: async () => {
        await opened.close();
        await embedded.release();
      },
    };
  } catch (error) {
    await embedded.release();
    throw error;
  }
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
    poolStats: () => ({ totalCount: pool.totalCount, idleCount: pool.idleCount, waitingCount: pool.waitingCount, max: POOL_SIZE }),
    connectionString,
    close: () => pool.end(),
  };
}
