import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateToLatest } from '../db/migrate.ts';
import { startEmbeddedPostgres, stopEmbeddedPostgres } from '../runtime/node/embedded-postgres.ts';
import { TEMPLATE_DATABASE } from './test-database.ts';

const PREFIX = 'pushcart-test-postgres-';

/**
 * Vitest global setup: without DATABASE_URL, one embedded Postgres for the whole run, in a fresh
 * directory, with a template database migrated once; each test file copies it
 * (`createTestDatabase`). Durability is off: a crash loses only a throwaway cluster.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.DATABASE_URL) {
    project.provide('embeddedPostgresUrl', undefined);
    return undefined;
  }
  await removeLeftovers();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  chmodSync(dir, 0o711); // as root, Postgres runs as another user that must enter it
  writeFileSync(join(dir, 'runner-pid'), String(process.pid));
  const embedded = await startEmbeddedPostgres(join(dir, 'data'), {
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  const url = new URL(embedded.connectionString);
  url.searchParams.delete('application_name');
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`create database ${TEMPLATE_DATABASE}`).finally(() => admin.end());
  const templateUrl = new URL(url);
  templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
  const template = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: templateUrl.toString(), max: 1 }) }) });
  try {
    await migrateToLatest(template);
  } finally {
    await template.destroy(); // a template with a session open cannot be copied
  }
  project.provide('embeddedPostgresUrl', url.toString());
  return async () => {
    await stopEmbeddedPostgres(join(dir, 'data'));
    rmSync(dir, { recursive: true, force: true });
  };
}

/** A run killed before its teardown leaves its cluster running: stopped and removed by the next. */
async function removeLeftovers(): Promise<void> {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    let runner: number;
    try {
      runner = Number.parseInt(readFileSync(join(dir, 'runner-pid'), 'utf8'), 10);
    } catch {
      continue; // being set up by another run right now, or not ours
    }
    if (Number.isInteger(runner) && runner > 0 && isAlive(runner)) continue; // another run in progress
    await stopEmbeddedPostgres(join(dir, 'data'));
    rmSync(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
