import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackgroundWorker } from '../../background/background-worker.ts';
import { parseConfig } from '../../config.ts';
import { memoryLogger } from '../../logger.ts';
import { browserSubscription, queueTestSend, testSite } from '../../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.ts';
import { announceWork, listenForWork } from './work-notifications.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

describe('work announced through Postgres', () => {
  it('reaches every listener, each on its own connection', async () => {
    const heard: string[] = [];
    const logger = memoryLogger();
    const listeners = ['a', 'b'].map((name) => listenForWork(database.connectionString, () => heard.push(name), logger));
    try {
      await Promise.all(listeners.map((listener) => listener.ready));
      // Each says once that it started listening: work may have been queued before.
      expect(heard.sort()).toEqual(['a', 'b']);
      await announceWork(database.db, logger);
      await expect.poll(() => heard.length).toBe(4);
      expect(heard.sort()).toEqual(['a', 'a', 'b', 'b']);
    } finally {
      await Promise.all(listeners.map((listener) => listener.close()));
    }
  });

  it('wakes an idle worker at once: a send from another process goes out long before its idle poll', async () => {
    const site = await testSite(database.db);
    const { endpoint, keys } = await browserSubscription();
    await database.db
      .insertInto('subscriptions')
      .values({ site_id: site.id, endpoint, p256dh: keys.p256dh, auth: keys.auth, vapid_public_key: site.vapidPublicKey, visitor_id: 'v1' })
      .execute();
    const logger = memoryLogger();
    const sent: string[] = [];
    const worker = new BackgroundWorker({
      db: database.db,
      config: parseConfig({ PUSHCART_PUBLIC_URL: 'https://push.example' }),
      logger,
      transport: { send: async (request) => (sent.push(request.url), { kind: 'sent', status: 201 }) },
      // Far longer than this test may take: only the announcement can wake it.
      settings: { idlePollMs: 600_000 },
    });
    const listener = listenForWork(database.connectionString, () => worker.wake(), logger);
    const stop = new AbortController();
    const running = worker.run(stop.signal);
    try {
      await listener.ready;
      // Let the worker finish its first round and go idle.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await queueTestSend(database.db, site.id, Date.now());
      await announceWork(database.db, logger);
      await expect.poll(() => sent, { timeout: 20_000 }).toEqual([endpoint]);
    } finally {
      stop.abort();
      await listener.close();
      await running;
    }
  });

  it('an announcement that cannot be made is a warning, never an error for the sender', async () => {
    const logger = memoryLogger();
    const broken = { ...database.db, executeQuery: () => Promise.reject(new Error('connection refused')) } as unknown as typeof database.db;
    await expect(announceWork(broken, logger)).resolves.toBeUndefined();
    expect(logger.entries.map((entry) => [entry.level, entry.message])).toEqual([['warn', 'could not announce queued work to other workers']]);
  });
});
