import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertCart } from '../db/carts.ts';
import { memoryLogger } from '../logger.ts';
import { browserSubscription, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { CARTS_PER_SCAN, fireDueTriggers } from './due-triggers.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

const MINUTE_MS = 60_000;
const ITEMS = [{ productId: 'p1', name: 'Mug', price: 9, quantity: 1 }];

/** Open carts whose first reminder step (60 minutes) is due at `startMs + 60 min`. */
async function openCarts(siteId: string, prefix: string, count: number, startMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await upsertCart(
      database.db,
      { siteId, cartId: `${prefix}-${i}`, visitorId: `${prefix}-visitor-${i}`, externalUserId: null, items: ITEMS, total: 9, currency: 'EUR', url: `${SHOP_ORIGIN}/cart` },
      new Date(startMs),
      [60, 1440],
    );
  }
}

async function remindedCarts(siteId: string, prefix: string): Promise<number> {
  const rows = await database.db.selectFrom('carts').select('cart_id').where('site_id', '=', siteId).where('cart_id', 'like', `${prefix}-%`).where('reminders_sent', '=', 1).execute();
  return rows.length;
}

describe('fireDueTriggers', () => {
  it('fires every due cart reminder, page after page, and queues a notification for a subscribed shopper', async () => {
    const site = await testSite(database.db);
    const subscription = await browserSubscription();
    await database.db
      .insertInto('subscriptions')
      .values({ site_id: site.id, endpoint: subscription.endpoint, p256dh: subscription.keys.p256dh, auth: subscription.keys.auth, vapid_public_key: site.vapidPublicKey, visitor_id: 'pages-visitor-0' })
      .execute();
    const startMs = Date.now();
    const cartCount = CARTS_PER_SCAN + 7;
    await openCarts(site.id, 'pages', cartCount, startMs);
    const clock = () => startMs + 61 * MINUTE_MS;

    const run = await fireDueTriggers({ db: database.db, logger: memoryLogger(), publicUrl: 'https://push.shop.example', now: clock }, { deadlineMs: Number.POSITIVE_INFINITY });

    expect(run).toMatchObject({ carts: cartCount, moreDue: false });
    expect(await remindedCarts(site.id, 'pages')).toBe(cartCount);
    expect(run.queued).toHaveLength(1);
    const notification = await database.db.selectFrom('notifications').selectAll().where('id', '=', run.queued[0]!).executeTakeFirstOrThrow();
    expect(notification).toMatchObject({ source: 'cart_reminder', trigger_key: 'pages-0' });
  });

  it('stops after a full page once the deadline has passed, and says more is due', async () => {
    const site = await testSite(database.db);
    const startMs = Date.now();
    await openCarts(site.id, 'deadline', CARTS_PER_SCAN + 3, startMs);
    const nowMs = startMs + 61 * MINUTE_MS;

    const run = await fireDueTriggers({ db: database.db, logger: memoryLogger(), publicUrl: 'https://push.shop.example', now: () => nowMs }, { deadlineMs: nowMs });

    expect(run).toMatchObject({ carts: CARTS_PER_SCAN, moreDue: true });
    expect(await remindedCarts(site.id, 'deadline')).toBe(CARTS_PER_SCAN);
  });

  it('logs a failed scan instead of throwing, so the rest of a round still runs', async () => {
    const logger = memoryLogger();
    const run = await fireDueTriggers(
      {
        db: database.db,
        logger,
        publicUrl: 'https://push.shop.example',
        now: () => {
          throw new Error('clock exploded');
        },
      },
      { deadlineMs: Number.POSITIVE_INFINITY },
    );
    expect(run).toEqual({ carts: 0, queued: [], moreDue: false });
    expect(logger.entries.some((entry) => entry.message === 'cart reminder scan failed')).toBe(true);
  });
});
