import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config.ts';
import { memoryLogger } from '../../logger.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { createSite } from '../../sites/create-site.ts';
import { openDatabase } from './database.ts';
import { startNodeServer } from './entry-node.ts';
import { freePort } from '../../testing/free-port.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pushcart-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', { timeout: 120_000 }, () => {
  it('on an empty database creates one demo site and its owner, and prints the tag, the service-worker line and a password link that opens the form', async () => {
    const port = await freePort();
    const config = parseConfig({ PUSHCART_DATA_DIR: dataDir, PORT: String(port) });
    const lines: string[] = [];
    const server = await startNodeServer(config, memoryLogger(), (line) => lines.push(line));
    let publishableKey: string;
    let postmaster = 0;
    try {
      const output = lines.join('\n');
      const tag = output.match(/<script async src="http:\/\/localhost:(\d+)\/pushcart\.js" data-site="(pk_[\w-]+)"><\/script>/);
      expect(tag?.[1]).toBe(String(port));
      publishableKey = tag![2]!;
      expect(output).toContain(`importScripts('http://localhost:${port}/pushcart-sw.js');`);
      expect(output).toMatch(/secret key, shown only this once: sk_[\w-]{43}/);

      // Beside the tag: the owner account and the one-time link that sets its password.
      expect(output).toContain('Dashboard: created the owner account owner@localhost.invalid (PUSHCART_OWNER_EMAIL)');
      const link = output.match(new RegExp(`^  http://localhost:${port}/dashboard/password/([A-Za-z0-9_-]{43})$`, 'm'));
      expect(link).not.toBeNull();
      const passwordPage = await fetch(`http://127.0.0.1:${port}/dashboard/password/${link![1]}`);
      expect(passwordPage.status).toBe(200);
      const form = await passwordPage.text();
      expect(form).toContain('owner@localhost.invalid');
      expect(form).toContain('name="password" type="password" autocomplete="new-password"');

      expect(output).toContain(`embedded Postgres in ${dataDir}`);
      // The embedded Postgres: reachable on loopback only (no Unix socket), behind a password only its owner can read.
      const pidFile = readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n');
      postmaster = Number(pidFile[0]);
      expect(pidFile[5]).toBe('127.0.0.1');
      expect(pidFile[4]).toBe('');
      expect(statSync(join(dataDir, 'postgres-password')).mode & 0o777).toBe(0o600);
      // Nor does it inherit the server's environment (PUSHCART_MASTER_KEY, DATABASE_URL…).
      if (existsSync(`/proc/${postmaster}/environ`)) {
        const names = readFileSync(`/proc/${postmaster}/environ`, 'utf8').split('\0').filter(Boolean).map((entry) => entry.split('=')[0]);
        expect(names.every((name) => ['PATH', 'LC_ALL', 'TZ', 'PGDATA', 'PG_GRANDPARENT_PID', 'PGSYSCONFDIR', 'PGLOCALEDIR'].includes(name!))).toBe(true);
      }

      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      // The demo site is real: its config is served, and only for its own origin.
      const siteConfig = await fetch(`http://127.0.0.1:${port}/v1/sites/${publishableKey}/config`, {
        headers: { Origin: `http://localhost:${port}` },
      });
      expect(siteConfig.status).toBe(200);
      // The site npm start made is the demo: /demo is served for it.
      expect((await fetch(`http://127.0.0.1:${port}/demo`)).status).toBe(200);

      // Headers over Node's limit are refused in the error shape with a request id, not a bare 431.
      const tooLarge = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { 'X-Padding': 'x'.repeat(20_000) } });
      expect(tooLarge.status).toBe(431);
      const refusal = (await tooLarge.json()) as { error: { code: string; message: string; requestId: string } };
      expect(refusal.error.code).toBe('headers_too_large');
      expect(refusal.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(tooLarge.headers.get('X-Request-Id')).toBe(refusal.error.requestId);

      // Not HTTP at all: the same shape, 400 malformed_request.
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString()));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'malformed_request' } });
    } finally {
      await server.close();
    }
    // Stopped with the server.
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(() => process.kill(postmaster, 0)).toThrow();

    const again: string[] = [];
    const restarted = await startNodeServer(config, memoryLogger(), (line) => again.push(line));
    await restarted.close();
    expect(again.join('\n')).toContain(`data-site="${publishableKey}"`);
    expect(again.join('\n')).not.toMatch(/Created a demo site|sk_/);
    // Later starts name the sign-in page, and never print a new link by themselves; while nobody
    // has set a password they say how to get one.
    expect(again).toContain(`Dashboard: http://localhost:${config.port}/dashboard/login`);
    expect(again.join('\n')).not.toContain('/dashboard/password/');
    expect(again.join('\n')).toMatch(/Nobody has set a password yet; .*npx pushcart user create --email owner@localhost\.invalid --site [0-9a-f-]{36} --role owner/);
  });

  it('on a database with shops but no dashboard account (made before the dashboard) makes no account itself, and says how to make the first owner', async () => {
    const upgraded = mkdtempSync(join(tmpdir(), 'pushcart-upgrade-'));
    try {
      const config = parseConfig({ PUSHCART_DATA_DIR: upgraded, PORT: String(await freePort()) });
      const before = await openDatabase(config, memoryLogger());
      let siteId: string;
      try {
        await migrateToLatest(before.db);
        siteId = (await createSite(before.db, { name: 'Shop', origins: ['https://shop.example'] }, undefined)).id;
      } finally {
        await before.close();
      }
      const lines: string[] = [];
      const server = await startNodeServer(config, memoryLogger(), (line) => lines.push(line));
      await server.close();
      expect(lines).toContain(`Dashboard: http://localhost:${config.port}/dashboard/login`);
      expect(lines).toContain(`  No dashboard account yet; make the first owner with: npx pushcart user create --email you@shop.example --site ${siteId} --role owner`);
      expect(lines.join('\n')).not.toContain('/dashboard/password/');
      const after = await openDatabase(config, memoryLogger());
      try {
        expect(await after.db.selectFrom('users').select('email').execute()).toEqual([]);
      } finally {
        await after.close();
      }
    } finally {
      rmSync(upgraded, { recursive: true, force: true });
    }
  });
});
