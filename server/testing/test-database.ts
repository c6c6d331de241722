import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Db } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { guardPoolErrors } from '../db/pg-pool-errors.ts';
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
  return createPostgresTestDatabase(serverUrl);
}

/** The local Postgres tried when DATABASE_URL is unset, for the few tests that need a server process. */
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** DATABASE_URL, else the local Postgres if it answers, else undefined (the caller skips, saying why). */
export async function reachablePostgresUrl(): Promise<string | undefined> {
  const candidate = process.env.DATABASE_URL || LOCAL_POSTGRES_URL;
  const client = new pg.Client({ connectionString: candidate, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return candidate;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createPostgresTestDatabase(serverUrl: string): Promise<TestDatabase> {
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
  // A test that takes the server away sees the failure through its queries; the events are noise.
  const pool = guardPoolErrors(new pg.Pool({ connectionString, max: 10 }), () => {});
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
