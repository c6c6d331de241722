import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { migrations } from '../../../migrations/index.ts';
import { parseConfig } from '../../config.ts';
import { memoryLogger } from '../../logger.ts';
import { reachablePostgresUrl } from '../../testing/test-database.ts';
import { DataDirBusyError, openDatabase } from './database.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('./pushcart.mjs', import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pushcart-test-'));
  dirs.push(dir);
  return dir;
}

async function pushcart(args: string[], env: Record<string, string>) {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...inherited, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

// Each command is a fresh Node process opening PGlite from disk: seconds each, more under load.
describe('pushcart CLI on the embedded database', { timeout: 180_000 }, () => {
  it('creates a site as JSON, rotates and revokes keys', async () => {
    const env = { PUSHCART_DATA_DIR: tempDataDir() };
    const created = await pushcart(['site', 'create', '--name', 'Shop', '--origin', 'https://shop.example', '--origin', 'https://www.shop.example', '--json'], env);
    expect(created.code).toBe(0);
    const site = JSON.parse(created.stdout) as Record<string, string>;
    expect(Object.keys(site).sort()).toEqual(['id', 'publishableKey', 'secretKey', 'vapidPublicKey']);
    expect(site.publishableKey).toMatch(/^pk_/);
    expect(site.secretKey).toMatch(/^sk_/);

    const added = JSON.parse((await pushcart(['key', 'create', '--site', site.id!, '--json'], env)).stdout) as { id: string; secretKey: string };
    expect(added.secretKey).toMatch(/^sk_/);
    const revoked = await pushcart(['key', 'revoke', '--site', site.id!, '--key', site.secretKey!.slice(0, 11), '--json'], env);
    expect(revoked.code).toBe(0);
    const keys = JSON.parse((await pushcart(['key', 'list', '--site', site.id!, '--json'], env)).stdout) as Array<{ id: string; revoked_at: string | null }>;
    expect(keys.map((key) => key.revoked_at === null)).toEqual([false, true]);
    expect(JSON.stringify(keys)).not.toContain(added.secretKey);
  });

  it('explains bad input in one line with exit code 2', async () => {
    const result = await pushcart(['site', 'create', '--name', 'Shop', '--origin', 'shop.example'], { PUSHCART_DATA_DIR: tempDataDir() });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^pushcart: --origin: must be an origin/);
  });

  it('fails at start with one line naming a bad setting', async () => {
    const result = await pushcart(['site', 'list'], { PUSHCART_DATA_DIR: tempDataDir(), PUSHCART_VAPID_SUBJECT: 'ops@shop.example' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('PUSHCART_VAPID_SUBJECT');
  });

  it('tells a second process that the data dir is in use, without touching it', async () => {
    const dataDir = tempDataDir();
    const held = await openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), memoryLogger());
    try {
      await expect(openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), memoryLogger())).rejects.toBeInstanceOf(DataDirBusyError);
      const result = await pushcart(['site', 'list'], { PUSHCART_DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/in use by another Pushcart process \(pid \d+\)/);
      expect(result.stderr).toMatch(/DATABASE_URL/);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await held.close();
    }
    expect((await pushcart(['site', 'list', '--json'], { PUSHCART_DATA_DIR: dataDir })).code).toBe(0);
  });

  it('takes over a lock left by a process that died', async () => {
    const dataDir = tempDataDir();
    writeFileSync(join(dataDir, 'pushcart.lock'), '2147483646'); // no such pid
    const database = await openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), memoryLogger());
    await database.close();
  });
});

const serverUrl = await reachablePostgresUrl();
if (!serverUrl) console.warn('cli migrate on Postgres: skipped — no Postgres server reachable (set DATABASE_URL)');

describe.skipIf(!serverUrl)('pushcart migrate on Postgres', { timeout: 120_000 }, () => {
  it('is safe from two processes at once: both succeed, each migration applied once', async () => {
    const name = `pushcart_migrate_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(serverUrl!);
    url.pathname = `/${name}`;
    try {
      const results = await Promise.all([1, 2].map(() => pushcart(['migrate'], { DATABASE_URL: url.toString() })));
      expect(results.map((r) => r.code)).toEqual([0, 0]);
      expect(results.map((r) => r.stdout).join('')).toMatch(/Applied: /);
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      const applied = await client.query('select name from kysely_migration');
      await client.end();
      expect(applied.rows.map((row) => row.name)).toEqual(Object.keys(migrations));
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
