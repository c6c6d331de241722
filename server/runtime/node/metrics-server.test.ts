import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config.ts';
import { memoryLogger } from '../../logger.ts';
import { freePort } from '../../testing/free-port.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.ts';
import { startNodeServer } from './entry-node.ts';
import { serveMetrics } from './metrics-server.ts';
import { createNodeMetrics } from './node-metrics.ts';

const BIN = fileURLToPath(new URL('./pushcart.mjs', import.meta.url));
const METRICS_TOKEN = 'worker-metrics-token-0123456789abcdef';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

const scrape = (url: string, token = METRICS_TOKEN) => fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });

describe('a worker’s metrics port (serveMetrics)', () => {
  it('listens on 127.0.0.1 by default and serves GET /metrics with the token, nothing else', async () => {
    const config = parseConfig({ PUSHCART_METRICS_TOKEN: METRICS_TOKEN });
    const metrics = createNodeMetrics({ pool: () => ({ totalCount: 2, idleCount: 2, waitingCount: 0, max: 10 }) });
    metrics.deliveryOutcome('fcm.googleapis.com', 'sent', 'none');
    const server = await serveMetrics({ config, db: database.db, logger: memoryLogger(), metrics }, { port: 0 });
    try {
      expect(new URL(server.url).hostname).toBe('127.0.0.1');
      const answer = await scrape(server.url);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await answer.text();
      expect(text).toContain('pushcart_deliveries_total{push_service="fcm.googleapis.com",outcome="sent",reason="none"} 1');
      expect(text).toContain('\npushcart_queue_due_deliveries 0\n');
      expect(text).toContain('\npushcart_db_pool_connections 2\n');

      const wrong = await scrape(server.url, 'not-the-token-not-the-token');
      expect(wrong.status).toBe(401);
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('admin_token_required');
      const elsewhere = await fetch(`${server.url}/v1/admin/sites`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(elsewhere.status).toBe(404);
      expect(((await elsewhere.json()) as { error: { code: string; requestId: string } }).error).toMatchObject({ code: 'not_found' });
    } finally {
      await server.close();
    }
  });
});

describe('pushcart worker --metrics-port', { timeout: 120_000 }, () => {
  const children = new Set<ChildProcess>();
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  function env(extra: Record<string, string>) {
    const { DATABASE_URL: _unused, PUSHCART_ADMIN_TOKEN: _admin, PUSHCART_METRICS_TOKEN: _metrics, ...inherited } = process.env;
    return { ...inherited, DATABASE_URL: database.connectionString, ...extra };
  }

  it('serves the worker’s metrics on that port of 127.0.0.1 until it stops', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'worker', `--metrics-port=${port}`], { env: env({ PUSHCART_METRICS_TOKEN: METRICS_TOKEN }), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Ready once its start line is written (after the metrics port is listening).
    await new Promise<void>((resolve, reject) => {
      const check = () => (output.includes('"delivery worker started"') ? resolve() : undefined);
      child.stdout!.on('data', check);
      child.once('exit', () => reject(new Error(`the worker exited: ${output}`)));
      check();
    });
    const started = output.split('\n').find((line) => line.includes('"delivery worker started"'))!;
    expect(JSON.parse(started)).toMatchObject({ metrics: `http://127.0.0.1:${port}/metrics` });

    const answer = await scrape(`http://127.0.0.1:${port}`);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toContain('\npushcart_queue_due_deliveries 0\n');
    expect(text).toMatch(/\npushcart_db_pool_max_connections 10\n/);
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect((await scrape(`http://127.0.0.1:${port}`, 'wrong-token-wrong-token-wrong')).status).toBe(401);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    children.delete(child);
  });

  it('refuses --metrics-port without a token to protect it, before starting anything', async () => {
    const result = await promisify(execFile)(process.execPath, [BIN, 'worker', '--metrics-port=9464'], { env: env({}), timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--metrics-port: set PUSHCART_METRICS_TOKEN');
  });

  it('refuses a --metrics-port that is not a port', async () => {
    const result = await promisify(execFile)(process.execPath, [BIN, 'worker', '--metrics-port=http'], { env: env({ PUSHCART_METRICS_TOKEN: METRICS_TOKEN }), timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--metrics-port: "http" must be a port number');
  });
});

describe('npm start', { timeout: 120_000 }, () => {
  it('serves its API’s and its in-process worker’s metrics at /metrics on its own port, with its pool', async () => {
    const port = await freePort();
    const config = parseConfig({ DATABASE_URL: database.connectionString, PORT: String(port), PUSHCART_METRICS_TOKEN: METRICS_TOKEN });
    const server = await startNodeServer(config, memoryLogger(), () => {});
    try {
      const answer = await scrape(`http://127.0.0.1:${port}`);
      expect(answer.status).toBe(200);
      const text = await answer.text();
      expect(text).toContain('\npushcart_db_pool_max_connections 10\n');
      expect(text).toMatch(/\npushcart_db_pool_connections [1-9]\d*\n/);
      expect(text).toContain('\npushcart_queue_due_deliveries 0\n');
      expect(text).toContain('# TYPE pushcart_trigger_runs_total counter');
    } finally {
      await server.close();
    }
  });
});
