import { inject } from 'vitest';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Db } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { guardPoolErrors } from '../db/pg-pool-errors.ts';

export interface TestDatabase {
  db: Db;
  kind: 'embedded' | 'postgres';
  /** A URL to this test's own database (other processes, a worker, a proxy). */
  connectionString: string;
  destroy(): Promise<void>;
}

/** Made and migrated once per run by the global setup (embedded-postgres-setup.ts); copied per test file. */
export const TEMPLATE_DATABASE = 'pushcart_template';

/**
 * A fresh, migrated database per test file, so parallel test files never see each other's rows.
 * When DATABASE_URL is set: a new database created on that server (running the real migrations)
 * and dropped afterwards. Otherwise: a copy of the template database the global setup migrated on
 * the run's embedded Postgres — tens of milliseconds, where migrating each copy takes seconds.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) return createPostgresTestDatabase(serverUrl);
  return createPostgresTestDatabase(embeddedServerUrl(), { template: TEMPLATE_DATABASE });
}

function embeddedServerUrl(): string {
  const url = inject('embeddedPostgresUrl');
  if (!url) throw new Error('No test database: the global setup (server/testing/embedded-postgres-setup.ts) started no embedded Postgres');
  return url;
}

/** The local Postgres tried when DATABASE_URL is unset and no embedded one runs. */
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A Postgres server for the tests that need a server process of their own (workers, a proxy in
 * front of it): DATABASE_URL, else the run's embedded Postgres, else the local Postgres if it
 * answers, else undefined (the caller skips, saying why).
 */
export async function reachablePostgresUrl(): Promise<string | undefined> {
  const candidate = process.env.DATABASE_URL || inject('embeddedPostgresUrl') || LOCAL_POSTGRES_URL;
  const client = new pg.Client({ connectionString: candidate, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
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

export async function createPostgresTestDatabase(serverUrl: string, options: { template?: string } = {}): Promise<TestDatabase> {
  const name = `pushcart_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    // file_copy: for a database this small, copying its files beats writing them through the WAL.
    await admin.query(options.template ? `create database ${name} template ${options.template} strategy file_copy` : `create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const connectionString = url.toString();
  // A test that takes the server away sees the failure through its queries; the events are noise.
  const pool = guardPoolErrors(new pg.Pool({ connectionString, max: 10 }), () => {});
  const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  if (!options.template) await migrateToLatest(db);
  return {
    db,
    kind: options.template ? 'embedded' : 'postgres',
    connectionString,
    destroy: async () => {
      await db.destroy();
      // Kysely leaves a pool it never used open; a test that destroys the database to see the app
      // without one must find it closed, not reopened on a dropped database.
      if (!pool.ended) await pool.end();
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

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's embedded Postgres (maintenance database), when DATABASE_URL is unset. */
    embeddedPostgresUrl: string | undefined;
  }
}
