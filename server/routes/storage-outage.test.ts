import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../runtime/node/database.ts';
import { browserHeaders, browserSubscription, countSubscriptions, testApp, testSite } from '../testing/fixtures.ts';
import { TcpProxy } from '../testing/tcp-proxy.ts';
import { createPostgresTestDatabase, createTestDatabase, reachablePostgresUrl, type TestDatabase } from '../testing/test-database.ts';
import { memoryLogger } from '../logger.ts';

const serverUrl = await reachablePostgresUrl();
if (!serverUrl) console.warn('storage-outage: skipped — no Postgres server reachable (set DATABASE_URL)');

describe.skipIf(!serverUrl)('when Postgres goes away and comes back', () => {
  let database: TestDatabase;
  const proxy = new TcpProxy('127.0.0.1', 0);
  let proxied: ReturnType<typeof openPostgres>;

  beforeAll(async () => {
    database = await createPostgresTestDatabase(serverUrl!);
    const target = new URL(database.connectionString!);
    Object.assign(proxy, { targetHost: target.hostname, targetPort: Number(target.port || 5432) });
    await proxy.start();
    const viaProxy = new URL(database.connectionString!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    proxied = openPostgres(viaProxy.toString(), memoryLogger());
  });
  afterAll(async () => {
    await proxied?.close();
    await proxy.stop();
    await database?.destroy();
  });

  it('answers 503 in the error shape while it is down, and 2xx again without a restart', async () => {
    const site = await testSite(database.db);
    const { app, logger } = testApp(proxied.db);
    const post = async () =>
      app.request('/v1/subscriptions', {
        method: 'POST',
        headers: browserHeaders(site),
        body: JSON.stringify({ subscription: await browserSubscription(), visitorId: 'visitor-outage' }),
      });

    expect((await app.request('/healthz')).status).toBe(200);
    expect((await post()).status).toBe(201);

    await proxy.stop();
    for (const response of [await app.request('/healthz'), await post()]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('Retry-After')).not.toBeNull();
      const body = (await response.json()) as { error: { code: string; requestId: string } };
      expect(body.error.code).toBe('storage_unavailable');
      expect(body.error.requestId).toBe(response.headers.get('X-Request-Id'));
    }
    expect(logger.entries.some((entry) => entry.message === 'storage unavailable')).toBe(true);

    await proxy.start();
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await post()).status).toBe(201);
    expect(await countSubscriptions(database.db, site.id)).toBe(2);
  });
});

describe('when the database has been closed', () => {
  it('answers 503, never 2xx', async () => {
    const memory = await createTestDatabase();
    const { app } = testApp(memory.db);
    expect((await app.request('/healthz')).status).toBe(200);
    await memory.destroy();
    const response = await app.request('/healthz');
    expect(response.status).toBe(503);
  });
});
