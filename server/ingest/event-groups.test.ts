import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database.ts';
import { findSiteById, type SiteRow } from '../db/sites.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { browserHeaders, SHOP_ORIGIN, testApp, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { writeEventGroup, type GroupedEvent } from './event-groups.ts';

const NOW_MS = Date.parse('2026-11-20T10:00:00Z');
const now = () => NOW_MS;

/** Counts the one-statement group writes, and refuses everything but reads while `refusing` (a database gone away). */
class StatementWatch implements KyselyPlugin {
  groupStatements = 0;
  refusing = false;
  transformQuery(args: PluginTransformQueryArgs) {
    const node = args.node;
    if (node.kind === 'RawNode' && node.sqlFragments.join('').includes('inserted as (')) this.groupStatements++;
    if (this.refusing && node.kind !== 'SelectQueryNode') {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    }
    return node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

let database: TestDatabase;
let db: Db;
let created: CreatedSite;
let site: SiteRow;
const watch = new StatementWatch();
let app: ReturnType<typeof testApp>['app'];

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  created = await testSite(db);
  site = (await findSiteById(db, created.id))!;
  app = testApp(db.withPlugin(watch), { now, rateLimits: { perIp: { capacity: 100_000, refillPerSecond: 1_000 } } }).app;
});
afterAll(async () => database?.destroy());

const post = (body: unknown) => app.request('/v1/events', { method: 'POST', headers: browserHeaders(created), body: JSON.stringify(body) });
const viewed = (productId: string, price: number) => ({ productId, price, currency: 'EUR', url: `${SHOP_ORIGIN}/products/${productId}`, name: `Product ${productId}` });

async function countRows(table: 'events' | 'product_interest', where: (query: any) => any = (query) => query): Promise<number> {
  const row = await where(db.selectFrom(table).select((eb: any) => eb.fn.countAll().as('count'))).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** A browser event as the route hands it to the group. */
function grouped(type: string, visitorId: string, options: { eventId?: string; view?: { productId: string; price: number }; atMs?: number } = {}): GroupedEvent {
  const properties = options.view ? viewed(options.view.productId, options.view.price) : {};
  return {
    site,
    event: { siteId: site.id, source: 'browser', type, visitorId, externalUserId: null, properties, clientEventId: options.eventId ?? null, at: new Date(options.atMs ?? NOW_MS) },
    effect: options.view
      ? { kind: 'browser_view', view: { siteId: site.id, product: { ...viewed(options.view.productId, options.view.price) }, shopper: `v:${visitorId}` } }
      : { kind: 'stored_only' },
  };
}

describe('events written in groups', () => {
  it('stores each of many concurrent events exactly once, answering each stored or duplicate, in fewer statements than events', async () => {
    const before = watch.groupStatements;
    const views = Array.from({ length: 40 }, (_, i) => ({ type: 'product_viewed', visitorId: `concurrent-${i}`, properties: viewed(`sku-${i % 7}`, 10 + (i % 7)) }));
    // Each id twice: one of the two is the retry.
    const retried = Array.from({ length: 10 }, (_, i) => ({ type: 'wishlist_added', visitorId: `concurrent-${i}`, eventId: `concurrent-event-${i}`, properties: { i } }));
    const responses = await Promise.all([...views, ...retried, ...retried].map((body) => post(body)));
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 202));
    const answers = (await Promise.all(responses.map((response) => response.json()))) as Array<{ stored: boolean; duplicate: boolean }>;
    expect(answers.slice(0, 40).every((answer) => answer.stored && !answer.duplicate)).toBe(true);
    for (let i = 0; i < 10; i++) {
      const pair = [answers[40 + i]!, answers[50 + i]!];
      expect(pair.filter((answer) => answer.stored)).toHaveLength(1);
      expect(pair.filter((answer) => answer.duplicate)).toHaveLength(1);
    }
    expect(await countRows('events', (q) => q.where('visitor_id', 'like', 'concurrent-%'))).toBe(50);
    expect(await countRows('events', (q) => q.where('client_event_id', 'like', 'concurrent-event-%'))).toBe(10);
    expect(watch.groupStatements - before).toBeLessThan(60);
  });

  it('stores an eventId sent twice in one group once, and answers a later group’s retry as a duplicate', async () => {
    const first = await writeEventGroup(
      db,
      [grouped('wishlist_added', 'retry-a', { eventId: 'retry-1' }), grouped('wishlist_added', 'retry-a', { eventId: 'retry-1' }), grouped('wishlist_added', 'retry-a')],
      { publicUrl: 'https://push.example' },
    );
    expect(first.map((outcome) => outcome.isNew)).toEqual([true, false, true]);
    const again = await writeEventGroup(db, [grouped('wishlist_added', 'retry-a', { eventId: 'retry-1' }), grouped('wishlist_added', 'retry-a', { eventId: 'retry-2' })], {
      publicUrl: 'https://push.example',
    });
    expect(again.map((outcome) => outcome.isNew)).toEqual([false, true]);
    expect(await countRows('events', (q) => q.where('client_event_id', '=', 'retry-1'))).toBe(1);
  });

  it('does the same in a group whose views change a product (written in a transaction)', async () => {
    // Introduced at 50 by one view; then the group reports 40 twice under one event id: a retry, so no second shopper confirms it.
    await writeEventGroup(db, [grouped('product_viewed', 'locking-a', { view: { productId: 'locking-sku', price: 50 } })], { publicUrl: 'https://push.example' });
    const outcomes = await writeEventGroup(
      db,
      [
        grouped('product_viewed', 'locking-b', { eventId: 'locking-1', view: { productId: 'locking-sku', price: 40 } }),
        grouped('product_viewed', 'locking-c', { eventId: 'locking-1', view: { productId: 'locking-sku', price: 40 } }),
      ],
      { publicUrl: 'https://push.example' },
    );
    expect(outcomes.map((outcome) => outcome.isNew)).toEqual([true, false]);
    const product = await db.selectFrom('products').selectAll().where('product_id', '=', 'locking-sku').executeTakeFirstOrThrow();
    expect({ price: Number(product.price), pending: Number(product.pending_price), by: product.pending_price_shopper }).toEqual({ price: 50, pending: 40, by: 'v:locking-b' });
    expect(await countRows('product_interest', (q) => q.where('product_id', '=', 'locking-sku'))).toBe(2);
  });

  it('learns a price confirmed within one group as one view at a time would, measuring the drop after the views before it are remembered', async () => {
    await writeEventGroup(db, [grouped('product_viewed', 'first', { view: { productId: 'scarf', price: 120 } })], { publicUrl: 'https://push.example' });
    const outcomes = await writeEventGroup(
      db,
      [
        // Sees 120 for the first time in this group: on record before the drop to 96 is measured.
        grouped('product_viewed', 'newcomer', { view: { productId: 'scarf', price: 120 } }),
        grouped('product_viewed', 'second', { view: { productId: 'scarf', price: 96 } }),
        // The same shopper again confirms nothing.
        grouped('product_viewed', 'second', { view: { productId: 'scarf', price: 96 } }),
        grouped('product_viewed', 'third', { view: { productId: 'scarf', price: 96 } }),
      ],
      { publicUrl: 'https://push.example' },
    );
    expect(outcomes.map((outcome) => outcome.isNew)).toEqual([true, true, true, true]);
    const product = await db.selectFrom('products').selectAll().where('product_id', '=', 'scarf').executeTakeFirstOrThrow();
    expect({ price: Number(product.price), pending: product.pending_price }).toEqual({ price: 96, pending: null });
    const alerted = await db.selectFrom('price_alerts').select('shopper').where('product_id', '=', 'scarf').orderBy('shopper').execute();
    expect(alerted.map((row) => row.shopper)).toEqual(['v:first', 'v:newcomer']);
  });

  it('rewrites a shopper’s interest row for a new price at once, for the same price only once the last view is 10 minutes old', async () => {
    const view = (price: number, atMs: number) => writeEventGroup(db, [grouped('product_viewed', 'repeat-viewer', { view: { productId: 'repeat-sku', price }, atMs })], { publicUrl: 'https://push.example' });
    const seen = async () => {
      const row = await db.selectFrom('product_interest').select(['price', 'seen_at']).where('product_id', '=', 'repeat-sku').executeTakeFirstOrThrow();
      return { price: Number(row.price), seenAt: row.seen_at.toISOString() };
    };
    await view(30, NOW_MS);
    await view(30, NOW_MS + 599_000);
    expect(await seen()).toEqual({ price: 30, seenAt: new Date(NOW_MS).toISOString() });
    await view(30, NOW_MS + 600_000);
    expect(await seen()).toEqual({ price: 30, seenAt: new Date(NOW_MS + 600_000).toISOString() });
    // The product is browser-learned at 30, so a view at 25 goes through the locking path: it is remembered there too.
    await view(25, NOW_MS + 601_000);
    expect(await seen()).toEqual({ price: 25, seenAt: new Date(NOW_MS + 601_000).toISOString() });
  });

  it('answers every request of a group the database refused with 503 storage_unavailable, none 2xx, and stores nothing', async () => {
    const before = await countRows('events');
    watch.refusing = true;
    let responses: Response[];
    try {
      responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) => post(i % 2 ? { type: 'product_viewed', visitorId: `refused-${i}`, properties: viewed('refused-sku', 5) } : { type: 'wishlist_added', visitorId: `refused-${i}` })),
      );
    } finally {
      watch.refusing = false;
    }
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 503));
    for (const response of responses) {
      const body = (await response.json()) as { error: { code: string; requestId: string } };
      expect(body.error.code).toBe('storage_unavailable');
      expect(body.error.requestId).toBe(response.headers.get('X-Request-Id'));
    }
    expect(await countRows('events')).toBe(before);
  });

  it('stores a flash of views of one product by many shoppers, one interest row per shopper at the price seen, and leaves the product as it was', async () => {
    const shoppers = 100;
    const responses = await Promise.all(
      Array.from({ length: 300 }, (_, i) => post({ type: 'product_viewed', visitorId: `flash-shopper-${i % shoppers}`, properties: viewed('flash-sku', 49.99) })),
    );
    const statuses = await Promise.all(responses.map(async (response) => `${response.status} ${response.status === 202 ? '' : await response.text()}`));
    expect(statuses.filter((status) => status !== '202 ')).toEqual([]);
    expect(await countRows('events', (q) => q.where('visitor_id', 'like', 'flash-%'))).toBe(300);
    const interest = await db.selectFrom('product_interest').select(['shopper', 'price', 'via']).where('product_id', '=', 'flash-sku').execute();
    expect(interest).toHaveLength(shoppers);
    expect(new Set(interest.map((row) => `${Number(row.price)} ${row.via}`))).toEqual(new Set(['49.99 viewed']));
    const product = await db.selectFrom('products').selectAll().where('product_id', '=', 'flash-sku').executeTakeFirstOrThrow();
    expect({ price: Number(product.price), pending: product.pending_price, source: product.price_source }).toEqual({ price: 49.99, pending: null, source: 'browser' });
  });
});
