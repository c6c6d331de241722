import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertCart } from '../db/carts.ts';
import { memoryLogger } from '../logger.ts';
import { browserSubscription, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { runTriggerWorker } from './trigger-worker.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

describe('runTriggerWorker', () => {
  it('fires due cart reminders on its own, reports them, keeps going after a failed scan, and stops on abort', async () => {
    const site = await testSite(database.db);
    const subscription = await browserSubscription();
    await database.db
      .insertInto('subscriptions')
      .values({ site_id: site.id, endpoint: subscription.endpoint, p256dh: subscription.keys.p256dh, auth: subscription.keys.auth, vapid_public_key: site.vapidPublicKey, visitor_id: 'visitor-loop-1' })
      .execute();
    const startMs = Date.parse('2026-11-23T11:00:00Z');
    const items = [{ productId: 'p1', name: 'Mug', price: 9, quantity: 1 }];
    await upsertCart(database.db, { siteId: site.id, cartId: 'loop-cart', visitorId: 'visitor-loop-1', externalUserId: null, items, total: 9, currency: 'EUR', url: `${SHOP_ORIGIN}/cart` }, new Date(startMs), [60, 1440]);

    const clock = { nowMs: startMs + 61 * 60_000 };
    const logger = memoryLogger();
    const queued: string[][] = [];
    const stop = new AbortController();
    let calls = 0;
    const running = runTriggerWorker(
      {
        db: database.db,
        logger,
        publicUrl: 'https://push.shop.example',
        now: () => {
          // The first scan fails (say the database blipped); the loop must survive it.
          if (++calls === 1) throw new Error('clock exploded');
          return clock.nowMs;
        },
        intervalMs: 20,
        onQueued: (ids) => {
          queued.push(ids);
          stop.abort();
        },
      },
      stop.signal,
    );
    await running;
    expect(queued).toHaveLength(1);
    expect(queued[0]).toHaveLength(1);
    expect(logger.entries.some((entry) => entry.message === 'cart reminder scan failed')).toBe(true);
    const notification = await database.db.selectFrom('notifications').selectAll().where('id', '=', queued[0]![0]!).executeTakeFirstOrThrow();
    expect(notification).toMatchObject({ source: 'cart_reminder', trigger_key: 'loop-cart' });
  });
});
