import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Db } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openMemoryDatabase } from '../runtime/node/database.ts';

export interface TestDatabase {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** For Postgres: a URL to this test's own database (other processes, a worker, a proxy). */
  connectionString: string | undefined;
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database per test file: in-memory PGlite by default, or — when DATABASE_URL is
 * set — a new database created on that server and dropped afterwards, so parallel test files
 * never see each other's rows. Runs the real migrations either way.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const memory = await openMemoryDatabase();
    await migrateToLatest(memory.db);
    return { db: memory.db, kind: 'pglite', connectionString: undefined, destroy: memory.close };
  }
  const name = `pushcart_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const connectionString = url.toString();
  const pool = new pg.Pool({ connectionString, max: 10 });
  pool.on('error', () => {}); // a test that stops the server sees its own errors through queries
  const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db);
  return {
    db,
    kind: 'postgres',
    connectionString,
    destroy: async () => {
      await db.destroy();
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      try {
        await dropper.query(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
