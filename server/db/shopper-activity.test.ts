import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILL_SHOPPER_ACTIVITY } from '../../migrations/2026-11-29T0700-shopper-activity.ts';
import { migrations } from '../../migrations/index.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { DAY_MS } from '../time.ts';
import type { Db } from './database.ts';
import { insertEvents, type NewEvent } from './events.ts';
import { migrateToLatest } from './migrate.ts';
import { upsertSubscriptions, type SubscriptionInput } from './subscriptions.ts';

// The shopper's activity kept on each subscription (migrations/2026-11-29T0700-shopper-activity.ts),
// which segments read instead of the events: written by the real writers (insertEvents,
// upsertSubscriptions) and compared with what the events themselves say.

const AT = new Date('2026-11-29T12:00:00Z');
const daysAgo = (days: number) => new Date(AT.getTime() - days * DAY_MS);

let database: TestDatabase;
let site: CreatedSite;
let other: CreatedSite;

beforeAll(async () => {
  database = await createTestDatabase();
  site = await testSite(database.db);
  other = await testSite(database.db, ['https://other.example']);
});
afterAll(async () => database?.destroy());

const subscription = (siteId: string, name: string, externalUserId: string | null = null): SubscriptionInput => ({
  siteId,
  endpoint: `https://fcm.googleapis.com/fcm/send/${name}-${siteId}`,
  p256dh: 'p',
  auth: 'a',
  vapidPublicKey: 'k',
  visitorId: `v-${name}`,
  externalUserId,
  locale: null,
  timeZone: null,
  userAgentFamily: null,
});

const event = (siteId: string, type: string, who: { v?: string; u?: string }, properties: Record<string, unknown>, at: Date): NewEvent => ({
  siteId,
  source: who.u ? 'server' : 'browser',
  type,
  visitorId: who.v ?? null,
  externalUserId: who.u ?? null,
  properties,
  clientEventId: null,
  at,
});

interface Activity {
  viewed: string | null;
  carted: string | null;
  checkout: string | null;
  ordered: string | null;
  orders: number;
  value: number;
}

async function activityOf(db: Db, siteId: string, name: string): Promise<Activity> {
  const row = await db
    .selectFrom('subscriptions')
    .select(['last_viewed_at', 'last_carted_at', 'last_checkout_at', 'last_ordered_at', 'orders_count', 'orders_value'])
    .where('site_id', '=', siteId)
    .where('visitor_id', '=', `v-${name}`)
    .executeTakeFirstOrThrow();
  return {
    viewed: row.last_viewed_at?.toISOString() ?? null,
    carted: row.last_carted_at?.toISOString() ?? null,
    checkout: row.last_checkout_at?.toISOString() ?? null,
    ordered: row.last_ordered_at?.toISOString() ?? null,
    orders: row.orders_count,
    value: Number(row.orders_value),
  };
}

const NOTHING: Activity = { viewed: null, carted: null, checkout: null, ordered: null, orders: 0, value: 0 };

describe("a subscription's shopper activity", () => {
  it('is brought along from before the subscription, moves forward only, and ignores empty carts and other sites', async () => {
    const { db } = database;
    await insertEvents(db, [
      event(site.id, 'product_viewed', { v: 'v-ann' }, { productId: 'p1' }, daysAgo(9)),
      event(site.id, 'cart_updated', { v: 'v-ann' }, { cartId: 'c1', items: [{ productId: 'p1', quantity: 1 }] }, daysAgo(8)),
    ]);
    await upsertSubscriptions(db, [subscription(site.id, 'ann'), subscription(other.id, 'ann')], AT);
    expect(await activityOf(db, site.id, 'ann')).toEqual({ ...NOTHING, viewed: daysAgo(9).toISOString(), carted: daysAgo(8).toISOString() });

    await insertEvents(db, [
      // Newer view, then an older one stored later (a retried batch): the newer stays.
      event(site.id, 'product_viewed', { v: 'v-ann' }, { productId: 'p2' }, daysAgo(2)),
      event(site.id, 'product_viewed', { v: 'v-ann' }, { productId: 'p3' }, daysAgo(5)),
      // A cart emptied is no "carted".
      event(site.id, 'cart_updated', { v: 'v-ann' }, { cartId: 'c1', items: [{ productId: 'p1', quantity: 0 }] }, daysAgo(1)),
      event(site.id, 'checkout_started', { v: 'v-ann' }, { cartId: 'c1' }, daysAgo(3)),
      // The same visitor id on another site is another shopper.
      event(other.id, 'product_viewed', { v: 'v-ann' }, { productId: 'p9' }, daysAgo(0)),
    ]);
    await insertEvents(db, [event(site.id, 'product_viewed', { v: 'v-ann' }, { productId: 'p4' }, daysAgo(7))]);
    expect(await activityOf(db, site.id, 'ann')).toEqual({
      ...NOTHING,
      viewed: daysAgo(2).toISOString(),
      carted: daysAgo(8).toISOString(),
      checkout: daysAgo(3).toISOString(),
    });
    expect(await activityOf(db, other.id, 'ann')).toEqual({ ...NOTHING, viewed: daysAgo(0).toISOString() });
  });

  it('counts each order once when the page and the backend both report it, with the larger value, and a value that is no number as an order only', async () => {
    const { db } = database;
    await upsertSubscriptions(db, [subscription(site.id, 'bob', 'u-bob')], AT);
    await insertEvents(db, [
      event(site.id, 'order_completed', { v: 'v-bob' }, { orderId: 'o1', value: 30 }, daysAgo(6)),
      event(site.id, 'order_completed', { u: 'u-bob' }, { orderId: 'o1', value: 31.5 }, daysAgo(6)),
    ]);
    expect(await activityOf(db, site.id, 'bob')).toMatchObject({ ordered: daysAgo(6).toISOString(), orders: 1, value: 31.5 });
    await insertEvents(db, [event(site.id, 'order_completed', { u: 'u-bob' }, { orderId: 'o2', value: 'lots' }, daysAgo(4))]);
    await insertEvents(db, [event(site.id, 'order_completed', { u: 'u-bob' }, { orderId: 'o3', value: 10 }, daysAgo(5))]);
    expect(await activityOf(db, site.id, 'bob')).toMatchObject({ ordered: daysAgo(4).toISOString(), orders: 3, value: 41.5 });
  });

  it("is read afresh when the shop identifies the subscriber: the user's history from other browsers joins it", async () => {
    const { db } = database;
    await upsertSubscriptions(db, [subscription(site.id, 'cat')], AT);
    await insertEvents(db, [
      event(site.id, 'product_viewed', { v: 'v-cat-laptop' }, { productId: 'p1' }, daysAgo(1)),
      event(site.id, 'order_completed', { u: 'u-cat' }, { orderId: 'c-1', value: 12 }, daysAgo(20)),
    ]);
    expect(await activityOf(db, site.id, 'cat')).toEqual(NOTHING);
    // The same endpoint posted again, now vouched for as u-cat.
    await upsertSubscriptions(db, [subscription(site.id, 'cat', 'u-cat')], AT);
    expect(await activityOf(db, site.id, 'cat')).toEqual({ ...NOTHING, ordered: daysAgo(20).toISOString(), orders: 1, value: 12 });
  });

  it('matches what the events say after concurrent batches naming the same shoppers in different orders', async () => {
    const { db } = database;
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const names = Array.from({ length: 12 }, (_, i) => `r${i}`);
    await upsertSubscriptions(db, names.slice(0, 6).map((name, i) => subscription(site.id, name, i % 2 === 0 ? `u-${name}` : null)), AT);
    const types = ['product_viewed', 'cart_updated', 'checkout_started', 'order_completed'] as const;
    const all: NewEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const name = names[Math.floor(random() * names.length)]!;
      const type = types[Math.floor(random() * types.length)]!;
      const byUser = random() < 0.3;
      const at = new Date(AT.getTime() - Math.floor(random() * 30 * DAY_MS));
      const properties =
        type === 'cart_updated'
          ? { cartId: `c-${name}`, items: [{ productId: 'p', quantity: random() < 0.3 ? 0 : 2 }] }
          : type === 'order_completed'
            ? { orderId: `o-${name}-${Math.floor(random() * 4)}`, value: Math.floor(random() * 100) }
            : { productId: 'p' };
      all.push(event(site.id, type, byUser ? { u: `u-${name}` } : { v: `v-${name}` }, properties, at));
    }
    // Eight batches at once, each in its own order; half the subscribers arrive midway.
    const batches = Array.from({ length: 8 }, (_, b) => all.filter((_, i) => i % 8 === b).sort(() => random() - 0.5));
    await Promise.all([
      ...batches.map((batch) => insertEvents(db, batch)),
      upsertSubscriptions(db, names.slice(6).map((name, i) => subscription(site.id, name, i % 2 === 0 ? `u-${name}` : null)), AT),
    ]);

    const expectEveryoneAsTheEventsSay = async (when: string) => {
    for (const [index, name] of names.entries()) {
      const keys = { v: `v-${name}`, u: (index < 6 ? index : index - 6) % 2 === 0 ? `u-${name}` : undefined };
      const mine = all.filter((e) => e.visitorId === keys.v || (keys.u !== undefined && e.externalUserId === keys.u));
      const latest = (test: (e: NewEvent) => boolean) => {
        const times = mine.filter(test).map((e) => e.at.getTime());
        return times.length === 0 ? null : new Date(Math.max(...times)).toISOString();
      };
      const orders = new Map<string, number>();
      for (const e of mine.filter((e) => e.type === 'order_completed')) {
        const id = e.properties.orderId as string;
        orders.set(id, Math.max(orders.get(id) ?? 0, e.properties.value as number));
      }
      expect(await activityOf(db, site.id, name), `${name} ${when}`).toEqual({
        viewed: latest((e) => e.type === 'product_viewed'),
        carted: latest((e) => e.type === 'cart_updated' && (e.properties.items as Array<{ quantity: number }>)[0]!.quantity > 0),
        checkout: latest((e) => e.type === 'checkout_started'),
        ordered: latest((e) => e.type === 'order_completed'),
        orders: orders.size,
        value: [...orders.values()].reduce((sum, value) => sum + value, 0),
      });
    }
    };
    await expectEveryoneAsTheEventsSay('as the triggers keep it');
    // The migration's fill for rows already there, run over the same rows, computes the same.
    await FILL_SHOPPER_ACTIVITY.execute(db);
    await expectEveryoneAsTheEventsSay('as the fill computes it');
  });

  /** Transactions of this database waiting for an advisory lock. */
  const waitingForShopperLocks = async (db: Db) =>
    (
      await sql<{ waiting: number }>`select count(*)::int as waiting from pg_locks
        where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`.execute(db)
    ).rows[0]!.waiting;

  it("waits, when subscribing, for the shopper's events being stored at that moment, and then sees them", async () => {
    const { db } = database;
    const storing = await db.startTransaction().execute();
    await insertEvents(storing, [event(site.id, 'product_viewed', { v: 'v-fay' }, { productId: 'p' }, daysAgo(1))]);
    const subscribing = upsertSubscriptions(db, [subscription(site.id, 'fay')], AT);
    await expect.poll(() => waitingForShopperLocks(db)).toBe(1);
    await storing.commit().execute();
    await subscribing;
    expect(await activityOf(db, site.id, 'fay')).toEqual({ ...NOTHING, viewed: daysAgo(1).toISOString() });
  });

  it('makes events stored while their shopper is subscribing wait for the subscription, and then update it', async () => {
    const { db } = database;
    const subscribing = await db.startTransaction().execute();
    await upsertSubscriptions(subscribing, [subscription(site.id, 'gus')], AT);
    const storing = insertEvents(db, [event(site.id, 'checkout_started', { v: 'v-gus' }, {}, daysAgo(1))]);
    await expect.poll(() => waitingForShopperLocks(db)).toBe(1);
    await subscribing.commit().execute();
    await storing;
    expect(await activityOf(db, site.id, 'gus')).toEqual({ ...NOTHING, checkout: daysAgo(1).toISOString() });
  });

  it('is kept by a statement naming more shoppers than it locks one by one (an import locks the site instead)', async () => {
    const { db } = database;
    await upsertSubscriptions(db, [subscription(site.id, 'imp-7')], AT);
    const imported = Array.from({ length: 1_500 }, (_, i) => event(site.id, 'product_viewed', { v: `v-imp-${i}` }, { productId: 'p' }, daysAgo(i % 20)));
    await insertEvents(db, imported);
    expect(await activityOf(db, site.id, 'imp-7')).toEqual({ ...NOTHING, viewed: daysAgo(7).toISOString() });
  });

  it('is filled for the subscriptions and events that were there before the migration', async () => {
    const own = await createTestDatabase();
    try {
      const { db } = own;
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('2026-11-29T0660-occasions')).error).toBeUndefined();
      const before = await testSite(db);
      // As the code of that time wrote them (upsertSubscriptions now takes the shoppers' locks the migration brings).
      for (const row of [subscription(before.id, 'dee', 'u-dee'), subscription(before.id, 'eli')]) {
        await db
          .insertInto('subscriptions')
          .values({ site_id: row.siteId, endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth, vapid_public_key: row.vapidPublicKey, visitor_id: row.visitorId, external_user_id: row.externalUserId ?? null })
          .execute();
      }
      await insertEvents(db, [
        event(before.id, 'product_viewed', { v: 'v-dee' }, { productId: 'p1' }, daysAgo(3)),
        event(before.id, 'order_completed', { u: 'u-dee' }, { orderId: 'd-1', value: 40 }, daysAgo(2)),
      ]);
      await migrateToLatest(db);
      expect(await activityOf(db, before.id, 'dee')).toEqual({ ...NOTHING, viewed: daysAgo(3).toISOString(), ordered: daysAgo(2).toISOString(), orders: 1, value: 40 });
      expect(await activityOf(db, before.id, 'eli')).toEqual(NOTHING);
    } finally {
      await own.destroy();
    }
  });
});
