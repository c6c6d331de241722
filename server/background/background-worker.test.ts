import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../config.ts';
import { upsertCart } from '../db/carts.ts';
import { memoryLogger } from '../logger.ts';
import type { PushTransport } from '../push/fetch-transport.ts';
import type { PushRequest } from '../push/push-request.ts';
import { browserSubscription, queueTestSend, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { BackgroundWorker, type BackgroundWorkerDeps } from './background-worker.ts';

// Counts the worker's pauses, so a test knows when it is asleep rather than guessing with a delay.
const pauses = vi.hoisted(() => ({ count: 0 }));
vi.mock('../sleep.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../sleep.ts')>();
  return {
    sleep: (...args: Parameters<typeof actual.sleep>) => {
      pauses.count++;
      return actual.sleep(...args);
    },
  };
});

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

const running: Array<{ stop: AbortController; done: Promise<void> }> = [];
afterEach(async () => {
  for (const { stop, done } of running.splice(0)) {
    stop.abort();
    await done;
  }
});

/** Far longer than any test waits: whatever goes out did not wait for the idle poll. */
const IDLE_POLL_NEVER_MS = 60 * 60_000;
/** How long a test waits for a push that should go out at once, on a busy machine. */
const PROMPTLY_MS = 10_000;

async function world(overrides: Partial<BackgroundWorkerDeps> = {}) {
  const nowMs = Date.now();
  const site = await testSite(database.db);
  const subscription = await browserSubscription();
  await database.db
    .insertInto('subscriptions')
    .values({ site_id: site.id, endpoint: subscription.endpoint, p256dh: subscription.keys.p256dh, auth: subscription.keys.auth, vapid_public_key: site.vapidPublicKey, visitor_id: `visitor-${site.id}` })
    .execute();
  const received: PushRequest[] = [];
  const transport: PushTransport = {
    async send(request) {
      received.push(request);
      return { kind: 'sent', status: 201 };
    },
  };
  const logger = memoryLogger();
  const worker = new BackgroundWorker({
    db: database.db,
    config: parseConfig({ PUSHCART_PUBLIC_URL: 'https://push.shop.example' }),
    logger,
    transport,
    now: () => nowMs,
    cadence: { scheduledWorkEveryMs: IDLE_POLL_NEVER_MS, housekeepingEveryMs: IDLE_POLL_NEVER_MS },
    ...overrides,
    settings: { idlePollMs: IDLE_POLL_NEVER_MS, ...overrides.settings },
  });
  function start(): void {
    const stop = new AbortController();
    running.push({ stop, done: worker.run(stop.signal) });
  }
  /** How many pushes went to this world's subscriber. */
  const pushes = () => received.filter((request) => request.url === subscription.endpoint).length;
  return { site, nowMs, worker, logger, start, pushes, visitorId: `visitor-${site.id}` };
}


describe('BackgroundWorker', { timeout: 3 * PROMPTLY_MS }, () => {
  it('sends what was queued while it idled as soon as wake() is called, not after the idle poll', async () => {
    const w = await world();
    const pausesBefore = pauses.count;
    w.start();
    // Its first round finds nothing and the worker settles into its (hour-long) pause.
    await vi.waitFor(() => expect(pauses.count).toBe(pausesBefore + 1), { timeout: PROMPTLY_MS, interval: 20 });
    await queueTestSend(database.db, w.site.id, w.nowMs);
    w.worker.wake();
    await vi.waitFor(() => expect(w.pushes()).toBe(1), { timeout: PROMPTLY_MS, interval: 20 });
  });

  it('goes on with the next round at once when a round stopped at its budget', async () => {
    const w = await world({ settings: { batchSize: 1 }, budget: { timeMs: Number.POSITIVE_INFINITY, pushes: 1 } });
    for (let i = 0; i < 3; i++) await queueTestSend(database.db, w.site.id, w.nowMs);
    w.start();
    // One push per round, and no wake-up: only rounds that follow each other send all three.
    await vi.waitFor(() => expect(w.pushes()).toBe(3), { timeout: PROMPTLY_MS, interval: 20 });
  });

  it('fires due cart reminders on its own and delivers them', async () => {
    const w = await world();
    await upsertCart(
      database.db,
      { siteId: w.site.id, cartId: 'worker-cart', visitorId: w.visitorId, externalUserId: null, items: [{ productId: 'p1', name: 'Mug', price: 9, quantity: 1 }], total: 9, currency: 'EUR', url: `${SHOP_ORIGIN}/cart` },
      new Date(w.nowMs - 2 * 60 * 60_000),
      [60, 1440],
    );
    w.start();
    await vi.waitFor(() => expect(w.pushes()).toBe(1), { timeout: PROMPTLY_MS, interval: 20 });
    const notification = await database.db.selectFrom('notifications').select(['source', 'trigger_key']).where('site_id', '=', w.site.id).executeTakeFirstOrThrow();
    expect(notification).toEqual({ source: 'cart_reminder', trigger_key: 'worker-cart' });
  });
});
