import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { identifySecret } from '../../sites/identity-signature.ts';
import { storedKeyForm } from '../../sites/vapid-private-key.ts';
import { openDatabase } from './database.ts';
import { usablePasswordLink } from '../../accounts/links.ts';
import { testApp } from '../../testing/fixtures.ts';
import { freePort } from '../../testing/free-port.ts';

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

// Each command is a fresh Node process, most starting the embedded Postgres: about a second each, more under load.
describe('pushcart CLI on the embedded database', { timeout: 180_000 }, () => {
  it('creates a site as JSON, rotates and revokes keys', async () => {
    const env = { PUSHCART_DATA_DIR: tempDataDir() };
    const created = await pushcart(['site', 'create', '--name', 'Shop', '--origin', 'https://shop.example', '--origin', 'https://www.shop.example', '--json'], env);
    expect(created.code).toBe(0);
    const site = JSON.parse(created.stdout) as Record<string, string>;
    expect(Object.keys(site).sort()).toEqual(['id', 'publishableKey', 'scriptTag', 'secretKey', 'serviceWorkerFile', 'vapidPublicKey']);
    expect(site.scriptTag).toBe(`<script async src="http://localhost:8787/pushcart.js" data-site="${site.publishableKey}"></script>`);
    expect(site.publishableKey).toMatch(/^pk_/);
    expect(site.secretKey).toMatch(/^sk_/);

    const added = JSON.parse((await pushcart(['key', 'create', '--site', site.id!, '--json'], env)).stdout) as { id: string; secretKey: string };
    expect(added.secretKey).toMatch(/^sk_/);
    const revoked = await pushcart(['key', 'revoke', '--site', site.id!, '--key', site.secretKey!.slice(0, 11), '--json'], env);
    expect(revoked.code).toBe(0);
    const keys = JSON.parse((await pushcart(['key', 'list', '--site', site.id!, '--json'], env)).stdout) as Array<Record<string, unknown>>;
    // camelCase, as the HTTP API and `site list --json`.
    expect(Object.keys(keys[0]!).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'prefix', 'revokedAt']);
    expect(keys.map((key) => key.revokedAt === null)).toEqual([false, true]);
    expect(JSON.stringify(keys)).not.toContain(added.secretKey);

    // Both changes are in the site's audit log, by the command line; revoking again changes nothing and adds no row.
    expect((await pushcart(['key', 'revoke', '--site', site.id!, '--key', site.secretKey!.slice(0, 11)], env)).code).toBe(0);
    const database = await openDatabase(parseConfig(env), memoryLogger());
    try {
      const rows = await database.db.selectFrom('audit_log').select(['actor_kind', 'actor_id', 'actor_label', 'action', 'target']).where('site_id', '=', site.id!).orderBy('id').execute();
      const revokedId = keys.find((key) => key.revokedAt !== null)!.id;
      expect(rows).toEqual([
        { actor_kind: 'cli', actor_id: null, actor_label: 'the command line', action: 'key_created', target: added.id },
        { actor_kind: 'cli', actor_id: null, actor_label: 'the command line', action: 'key_revoked', target: revokedId },
      ]);
    } finally {
      await database.close();
    }
  });

  it('prints the install tag as npm start does, and --demo makes the site the demo shop', async () => {
    const dataDir = tempDataDir();
    const created = await pushcart(['site', 'create', '--name', 'Local shop', '--origin', 'http://localhost:8787', '--demo'], { PUSHCART_DATA_DIR: dataDir });
    expect(created.code).toBe(0);
    const publishableKey = created.stdout.match(/publishable key: (pk_[\w-]+)/)?.[1];
    expect(created.stdout).toContain(`  <script async src="http://localhost:8787/pushcart.js" data-site="${publishableKey}"></script>`);
    expect(created.stdout).toContain(`  importScripts('http://localhost:8787/pushcart-sw.js');`);
    const database = await openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), memoryLogger());
    try {
      const rows = await database.db.selectFrom('sites').select(['publishable_key', 'demo']).execute();
      expect(rows).toEqual([{ publishable_key: publishableKey, demo: true }]);
    } finally {
      await database.close();
    }
  });

  it('send queues from a message file without following (--no-follow --json); stats prints the funnels as JSON; a bad message is one line, exit 2', async () => {
    const env = { PUSHCART_DATA_DIR: tempDataDir() };
    const site = JSON.parse((await pushcart(['site', 'create', '--name', 'Shop', '--origin', 'https://shop.example', '--json'], env)).stdout) as { id: string };
    const dir = tempDataDir();
    const file = join(dir, 'message.json');
    writeFileSync(file, JSON.stringify({ title: 'Spring sale', body: '20 % off', url: 'https://shop.example/sale', to: { all: true } }));
    const sent = await pushcart(['send', '--site', site.id, '--file', file, '--no-follow', '--json'], env);
    expect(sent.code, sent.stderr).toBe(0);
    // No subscriber yet: nothing to send, so it is complete at once.
    expect(JSON.parse(sent.stdout)).toMatchObject({ status: 'completed', audience: 0, progress: { resolving: false, total: 0 } });
    const stats = await pushcart(['stats', '--site', site.id, '--json'], env);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ activeNow: 0, triggers: {} });
    const refused = await pushcart(['send', '--site', site.id, '--title', 'Hi', '--url', 'https://elsewhere.example/', '--all'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^pushcart: url: must be on one of the site's origins/);
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

  it('shares the embedded Postgres of a running process: a command uses it and leaves it running', async () => {
    const dataDir = tempDataDir();
    const held = await openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), memoryLogger(), { server: true });
    const postmaster = postmasterPid(dataDir);
    try {
      const created = await pushcart(['site', 'create', '--name', 'Shared', '--origin', 'https://shared.example', '--json'], { PUSHCART_DATA_DIR: dataDir });
      expect(created.code).toBe(0);
      const site = JSON.parse(created.stdout) as { id: string };
      expect(await held.db.selectFrom('sites').select('id').execute()).toEqual([{ id: site.id }]);
      expect(postmasterPid(dataDir)).toBe(postmaster);
      expect(isAlive(postmaster)).toBe(true);
    } finally {
      await held.close();
    }
    expect(isAlive(postmaster)).toBe(false); // its owner stopped it
    // With nothing running, a command starts it for its duration and stops it after.
    expect(JSON.parse((await pushcart(['site', 'list', '--json'], { PUSHCART_DATA_DIR: dataDir })).stdout)).toHaveLength(1);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('starts after its Postgres was killed, over a postmaster.pid naming a dead pid or one now used by another process', async () => {
    const dataDir = tempDataDir();
    expect((await pushcart(['site', 'create', '--name', 'Shop', '--origin', 'https://shop.example'], { PUSHCART_DATA_DIR: dataDir })).code).toBe(0);
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    for (const stalePid of [2147483646, process.pid]) {
      const held = await openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), memoryLogger());
      const postmaster = postmasterPid(dataDir);
      process.kill(postmaster, 'SIGKILL');
      while (isAlive(postmaster)) await new Promise((resolve) => setTimeout(resolve, 20));
      await held.close().catch(() => {});
      const lines = readFileSync(pidFile, 'utf8').split('\n');
      writeFileSync(pidFile, [String(stalePid), ...lines.slice(1)].join('\n'));
      const listed = await pushcart(['site', 'list', '--json'], { PUSHCART_DATA_DIR: dataDir });
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout)).toHaveLength(1);
    }
  });

  it('recovers after the server was killed: the next command uses the Postgres it left and stops it, the next start runs', async () => {
    const dataDir = tempDataDir();
    const env = { PUSHCART_DATA_DIR: dataDir, PORT: String(await freePort()) };
    const killed = await startServer(env);
    const postmaster = postmasterPid(dataDir);
    killed.kill('SIGKILL');
    await new Promise((resolve) => killed.once('exit', resolve));
    expect(isAlive(postmaster)).toBe(true); // its own process group: it outlives the server

    const listed = await pushcart(['site', 'list', '--json'], { PUSHCART_DATA_DIR: dataDir });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveLength(1); // the demo site the killed server made
    expect(isAlive(postmaster)).toBe(false); // its owner is gone, nobody else uses it: stopped

    const again = await startServer(env);
    const exited = new Promise<number | null>((resolve) => again.once('exit', resolve));
    again.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('user create prints a one-time link that opens the password form; reset-password replaces it; user list shows the roles; mistakes are one line, exit 2', async () => {
    const dataDir = tempDataDir();
    const env = { PUSHCART_DATA_DIR: dataDir, PUSHCART_PUBLIC_URL: 'https://push.shop.example' };
    const site = JSON.parse((await pushcart(['site', 'create', '--name', 'Shop', '--origin', 'https://shop.example', '--json'], env)).stdout) as { id: string };

    const created = await pushcart(['user', 'create', '--email', ' Maria@Shop.Example ', '--site', site.id, '--role', 'owner', '--name', 'Maria'], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`maria@shop.example is owner of Shop (${site.id}). One-time link to set the password (until `);
    const setToken = created.stdout.match(/^  https:\/\/push\.shop\.example\/dashboard\/password\/([A-Za-z0-9_-]{43})$/m)?.[1];
    expect(setToken).toBeDefined();
    const editor = await pushcart(['user', 'create', '--email', 'bob@shop.example', '--site', site.id, '--role', 'editor', '--json'], env);
    expect(editor.code, editor.stderr).toBe(0);
    expect(JSON.parse(editor.stdout)).toMatchObject({ siteId: site.id, role: 'editor', hasPassword: false, url: expect.stringMatching(/^https:\/\/push\.shop\.example\/dashboard\/password\//) });

    for (const [args, message] of [
      [['--email', 'maria', '--site', site.id, '--role', 'viewer'], /^pushcart: --email: "maria" is not an email address$/],
      [['--email', 'maria@shop.example', '--site', site.id, '--role', 'viewer'], /^pushcart: maria@shop\.example is the only owner of Shop \([0-9a-f-]{36}\); make someone else owner first/],
      [['--email', 'carla@shop.example', '--site', site.id, '--role', 'admin'], /^pushcart: --role must be one of owner, editor, viewer$/],
      [['--email', 'carla@shop.example', '--role', 'viewer'], /^pushcart: --site SITE_ID is required/],
    ] as const) {
      const refused = await pushcart(['user', 'create', ...args], env);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr.trim()).toMatch(message);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    }
    const nobody = await pushcart(['user', 'reset-password', '--email', 'nobody@shop.example'], env);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr.trim()).toBe('pushcart: No dashboard account has the email nobody@shop.example (see: pushcart user list)');

    const askedAtMs = Date.now();
    const reset = await pushcart(['user', 'reset-password', '--email', 'maria@shop.example', '--json'], env);
    expect(reset.code, reset.stderr).toBe(0);
    const resetLink = JSON.parse(reset.stdout) as { url: string; expiresAt: string };
    // An hour from when it was made (the process ran between these two readings of the clock).
    expect(Date.parse(resetLink.expiresAt)).toBeGreaterThanOrEqual(askedAtMs + 3_600_000 - 1_000);
    expect(Date.parse(resetLink.expiresAt)).toBeLessThanOrEqual(Date.now() + 3_600_000);
    const resetToken = resetLink.url.slice(resetLink.url.lastIndexOf('/') + 1);

    const listed = await pushcart(['user', 'list', '--site', site.id], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split('\n')).toEqual([
      `bob@shop.example  editor of Shop (${site.id})  no password yet`,
      `maria@shop.example (Maria)  owner of Shop (${site.id})  no password yet`,
    ]);
    const listedJson = JSON.parse((await pushcart(['user', 'list', '--json'], env)).stdout) as Array<Record<string, unknown>>;
    expect(listedJson.map((user) => [user.email, user.hasPassword, user.memberships])).toEqual([
      ['bob@shop.example', false, [{ siteId: site.id, siteName: 'Shop', role: 'editor' }]],
      ['maria@shop.example', false, [{ siteId: site.id, siteName: 'Shop', role: 'owner' }]],
    ]);
    expect(JSON.stringify(listedJson)).not.toContain('pbkdf2');
    // Run again with another role: the role changes (and is recorded below).
    expect((await pushcart(['user', 'create', '--email', 'bob@shop.example', '--site', site.id, '--role', 'viewer'], env)).code).toBe(0);

    // The links work against the server on this database: the newest one opens the password form,
    // the one it replaced no longer does.
    const database = await openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), memoryLogger());
    try {
      expect(await usablePasswordLink(database.db, setToken!, new Date())).toBeUndefined();
      expect(await usablePasswordLink(database.db, resetToken, new Date())).toMatchObject({ purpose: 'reset' });
      const { app } = testApp(database.db, { env: { PUSHCART_PUBLIC_URL: 'https://push.shop.example' } });
      const form = await app.request(`/dashboard/password/${resetToken}`);
      expect(form.status).toBe(200);
      expect(await form.text()).toContain('maria@shop.example');
      expect((await app.request(`/dashboard/password/${setToken}`)).status).toBe(404);
      // The members added and the role changed are in the site's audit log, by the command line; the
      // refused commands and the password links (an account's, not a site's) left no row.
      const rows = await database.db.selectFrom('audit_log').select(['actor_kind', 'actor_label', 'action', 'details']).where('site_id', '=', site.id).orderBy('id').execute();
      expect(rows).toEqual([
        { actor_kind: 'cli', actor_label: 'the command line', action: 'member_added', details: { email: 'maria@shop.example', role: 'owner' } },
        { actor_kind: 'cli', actor_label: 'the command line', action: 'member_added', details: { email: 'bob@shop.example', role: 'editor' } },
        { actor_kind: 'cli', actor_label: 'the command line', action: 'member_role_changed', details: { email: 'bob@shop.example', from: 'editor', to: 'viewer' } },
      ]);
    } finally {
      await database.close();
    }
  });

  it('says in one line what to do with a data dir made by PGlite', async () => {
    const dataDir = tempDataDir();
    mkdirSync(join(dataDir, 'pgdata'));
    writeFileSync(join(dataDir, 'pgdata', 'PG_VERSION'), '17\n');
    const result = await pushcart(['site', 'list'], { PUSHCART_DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^pushcart: .* made by PGlite .*move that directory aside .*DATABASE_URL/);
  });
});

/** `pushcart start` as a child process, once it has printed its install instructions. */
async function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [BIN, 'start'], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Try it in the demo shop')) resolve(); // printed after the demo site is made
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`pushcart start exited (${code}): ${output}`)));
  });
  return child;
}

function postmasterPid(dataDir: string): number {
  return Number.parseInt(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8'), 10);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const MASTER_KEY = 'c'.repeat(64);
const WRONG_MASTER_KEY = 'd'.repeat(64);

/** The stored forms of the sites' VAPID private keys in a data dir no process holds. */
async function storedKeyForms(dataDir: string) {
  const database = await openDatabase(parseConfig({ PUSHCART_DATA_DIR: dataDir }), memoryLogger());
  try {
    const rows = await database.db.selectFrom('sites').select('vapid_private_key').orderBy('created_at').execute();
    return rows.map((row) => storedKeyForm(row.vapid_private_key));
  } finally {
    await database.close();
  }
}

describe('pushcart and the master key', { timeout: 240_000 }, () => {
  it('refuses to start, work or create a site without the master key, or with a wrong one, once keys are sealed: one line, exit 1', async () => {
    const dataDir = tempDataDir();
    const created = await pushcart(['site', 'create', '--name', 'Shop', '--origin', 'https://shop.example', '--json'], {
      PUSHCART_DATA_DIR: dataDir,
      PUSHCART_MASTER_KEY: MASTER_KEY,
    });
    expect(created.code).toBe(0);
    for (const [args, masterKey, reason] of [
      [['worker'], undefined, /PUSHCART_MASTER_KEY: not set, but 1 site stores its VAPID private key sealed/],
      [['worker'], WRONG_MASTER_KEY, /PUSHCART_MASTER_KEY: it does not open the VAPID private key of site/],
      [['start'], undefined, /PUSHCART_MASTER_KEY: not set/],
      [['site', 'create', '--name', 'Two', '--origin', 'https://two.example'], undefined, /PUSHCART_MASTER_KEY: not set/],
    ] as const) {
      const result = await pushcart([...args], { PUSHCART_DATA_DIR: dataDir, PORT: String(await freePort()), ...(masterKey ? { PUSHCART_MASTER_KEY: masterKey } : {}) });
      expect(result.code, `${args.join(' ')} with ${masterKey ? 'a wrong' : 'no'} master key`).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(reason);
    }
    expect(await storedKeyForms(dataDir)).toEqual(['sealed_v2']);
  });

  it('keys seal seals keys stored before the master key was set, once; site identify-secret prints the identify secret', async () => {
    const dataDir = tempDataDir();
    const created = await pushcart(['site', 'create', '--name', 'Shop', '--origin', 'https://shop.example', '--json'], { PUSHCART_DATA_DIR: dataDir });
    expect(created.code).toBe(0);
    const site = JSON.parse(created.stdout) as { id: string };
    expect(await storedKeyForms(dataDir)).toEqual(['clear']);

    const refused = await pushcart(['keys', 'seal'], { PUSHCART_DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^pushcart: .*PUSHCART_MASTER_KEY: not set/);

    const sealed = await pushcart(['keys', 'seal', '--json'], { PUSHCART_DATA_DIR: dataDir, PUSHCART_MASTER_KEY: MASTER_KEY });
    expect(sealed.code).toBe(0);
    expect(JSON.parse(sealed.stdout)).toEqual({ sealed: 1, upgraded: 0, alreadySealed: 0 });
    expect(await storedKeyForms(dataDir)).toEqual(['sealed_v2']);
    const again = await pushcart(['keys', 'seal'], { PUSHCART_DATA_DIR: dataDir, PUSHCART_MASTER_KEY: MASTER_KEY });
    expect(again.stdout).toMatch(/Sealed 0 keys stored in clear; bound 0 keys to their site; 1 already sealed\./);

    const secret = await pushcart(['site', 'identify-secret', '--site', site.id, '--json'], { PUSHCART_DATA_DIR: dataDir, PUSHCART_MASTER_KEY: MASTER_KEY });
    expect(secret.code).toBe(0);
    const shown = JSON.parse(secret.stdout) as { siteId: string; identifySecret: string; legacyAcceptedUntil: string | null };
    expect(shown.siteId).toBe(site.id);
    expect(shown.identifySecret).toBe(await identifySecret(MASTER_KEY, site.id));
    // A site made without a master key: its shop's old signatures have a transition period, started at the first start with the key.
    expect(Date.parse(shown.legacyAcceptedUntil!)).toBeGreaterThan(Date.now());
    const withoutKey = await pushcart(['site', 'identify-secret', '--site', site.id], { PUSHCART_DATA_DIR: dataDir, PUSHCART_MASTER_KEY: '' });
    expect(withoutKey.code).toBe(1);
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
