import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingDue, runBackgroundRound } from '../background/background-round.ts';
import { parseConfig } from '../config.ts';
import { createDeliverer } from '../delivery/delivery-engine.ts';
import { memoryLogger } from '../logger.ts';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { DAY_MS } from '../time.ts';
import { lowestPriceBefore, purgePriceHistory, recordPriceChanges } from './price-history.ts';
import type { ProductChange } from './products.ts';

let database: TestDatabase;
let siteId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  siteId = (await testSite(database.db)).id;
});
afterAll(async () => {
  await database?.destroy();
});

/** The instant of the drop under test: a fixed clock, never the real date. */
const NOW = new Date('2026-11-23T11:00:00Z');
const daysBefore = (days: number, extraMs = 0) => new Date(NOW.getTime() - days * DAY_MS + extraMs);

async function seed(productId: string, history: Array<{ price: number; at: Date; currency?: string }>) {
  await database.db
    .insertInto('product_prices')
    .values(history.map((row) => ({ site_id: siteId, product_id: productId, price: row.price, currency: row.currency ?? 'EUR', changed_at: row.at })))
    .execute();
}

const lowest = (productId: string, priceBefore: number, currency: string | null = 'EUR') => lowestPriceBefore(database.db, { siteId, productId, currency, priceBefore }, NOW);

function change(productId: string, price: number | null, oldPrice: number | null): ProductChange {
  return { productId, name: productId, url: null, image: null, currency: 'EUR', price, inStock: true, oldPrice, wasInStock: oldPrice === null ? null : true, stock: null, oldStock: null };
}

describe('the lowest price of the 30 days before a drop', () => {
  it('counts a price set exactly 30 days before, and not the one it replaced at that instant', async () => {
    await seed('exact', [
      { price: 79, at: daysBefore(45) },
      { price: 99, at: daysBefore(30) },
    ]);
    expect(await lowest('exact', 99)).toBe(99);
  });

  it('counts a price still applied when the window opened: set one millisecond inside, the older one was applied in the window', async () => {
    await seed('inside', [
      { price: 79, at: daysBefore(45) },
      { price: 99, at: daysBefore(30, 1) },
    ]);
    expect(await lowest('inside', 99)).toBe(79);
  });

  it('after a temporary raise, is the price before the raise', async () => {
    await seed('raise', [
      { price: 79, at: daysBefore(60) },
      { price: 99, at: daysBefore(5) },
    ]);
    // 79 was applied from day −60 until day −5, so within the 30 days: the raise does not make 99 the reference.
    expect(await lowest('raise', 99)).toBe(79);
  });

  it('ignores lows older than the window and the change being made now', async () => {
    await seed('old-low', [
      { price: 49, at: daysBefore(90) },
      { price: 120, at: daysBefore(40) },
      { price: 110, at: daysBefore(10) },
      { price: 60, at: NOW },
    ]);
    expect(await lowest('old-low', 110)).toBe(110);
  });

  it('with no history, is the price just before', async () => {
    expect(await lowest('never-recorded', 99)).toBe(99);
  });

  it('compares prices in the same currency only', async () => {
    await seed('currency', [
      { price: 50, at: daysBefore(20), currency: 'USD' },
      { price: 95, at: daysBefore(10), currency: 'EUR' },
    ]);
    expect(await lowest('currency', 95)).toBe(95);
  });
});

describe('recording and purging the history', () => {
  it('writes one row per real change, a first price included, and nothing for a repeat or a missing price', async () => {
    const written = await recordPriceChanges(database.db, siteId, [change('rec-a', 99, null), change('rec-b', 50, 50), change('rec-c', null, null), change('rec-d', 40, 45)], NOW);
    expect(written).toBe(2);
    const rows = await database.db.selectFrom('product_prices').select(['product_id', 'price', 'changed_at']).where('site_id', '=', siteId).where('product_id', 'like', 'rec-%').orderBy('product_id').execute();
    expect(rows.map((row) => [row.product_id, Number(row.price), row.changed_at.toISOString()])).toEqual([
      ['rec-a', 99, NOW.toISOString()],
      ['rec-d', 40, NOW.toISOString()],
    ]);
  });

  it('purges rows older than 35 days but keeps the price still applied when the window opens', async () => {
    await seed('purge', [
      { price: 10, at: daysBefore(100) },
      { price: 20, at: daysBefore(50) },
      { price: 30, at: daysBefore(36) },
      { price: 40, at: daysBefore(20) },
    ]);
    await seed('purge-single', [{ price: 5, at: daysBefore(200) }]);
    await purgePriceHistory(database.db, NOW);
    const kept = await database.db.selectFrom('product_prices').select(['product_id', 'price']).where('site_id', '=', siteId).where('product_id', 'like', 'purge%').orderBy('product_id').orderBy('changed_at').execute();
    expect(kept.map((row) => [row.product_id, Number(row.price)])).toEqual([
      ['purge', 30],
      ['purge', 40],
      ['purge-single', 5],
    ]);
    // The answer is the same as before the purge: 30 was applied when the window opened.
    expect(await lowest('purge', 40)).toBe(30);
  });
});

describe('housekeeping', () => {
  it('the background round purges old price history and low-stock claims past any window', async () => {
    await seed('round', [
      { price: 10, at: daysBefore(50) },
      { price: 20, at: daysBefore(40) },
      { price: 30, at: daysBefore(1) },
    ]);
    await database.db
      .insertInto('low_stock_alerts')
      .values([
        { site_id: siteId, product_id: 'round', shopper: 'v:old', notified_at: daysBefore(91) },
        { site_id: siteId, product_id: 'round', shopper: 'v:recent', notified_at: daysBefore(89) },
      ])
      .execute();
    const deliverer = createDeliverer({
      db: database.db,
      config: parseConfig({ PUSHCART_PUBLIC_URL: 'https://push.shop.example' }),
      logger: memoryLogger(),
      transport: { send: async () => ({ kind: 'sent', status: 201 }) },
      now: () => NOW.getTime(),
      random: () => 0.5,
    });
    const report = await runBackgroundRound(deliverer, { budget: { timeMs: Number.POSITIVE_INFINITY, pushes: Number.POSITIVE_INFINITY }, timetable: everythingDue() });
    expect(report.purgedCatalogueHistory?.lowStockClaims).toBe(1);
    expect(report.purgedCatalogueHistory?.priceHistory).toBeGreaterThanOrEqual(1);
    const prices = await database.db.selectFrom('product_prices').select('price').where('site_id', '=', siteId).where('product_id', '=', 'round').orderBy('changed_at').execute();
    expect(prices.map((row) => Number(row.price))).toEqual([20, 30]);
    const claims = await database.db.selectFrom('low_stock_alerts').select('shopper').where('site_id', '=', siteId).execute();
    expect(claims).toEqual([{ shopper: 'v:recent' }]);
  });
});
