import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSegment } from '../db/segments.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { describeSegment, segmentCondition, segmentDefinitionSchema, type SegmentDefinition } from './segment-rules.ts';

/** The fixed clock every "within N days" counts back from. */
const AT = new Date('2026-11-29T12:00:00Z');
const daysAgo = (days: number) => new Date(AT.getTime() - days * 86_400_000);
const hoursAgo = (hours: number) => new Date(AT.getTime() - hours * 3_600_000);

let database: TestDatabase;
let site: CreatedSite;
let other: CreatedSite;

/**
 * The population (visitor id `v-<name>`):
 * - anna: tags plan=gold, vip=true; de-AT, Europe/Vienna, Chrome; subscribed 100 d ago, seen 2 d ago;
 *   viewed shoes-1 3 d ago; clicked a push 5 d ago.
 * - ben (user u-ben): plan=free; de-DE, Europe/Berlin, Firefox; subscribed 10 d, seen 40 d ago;
 *   carted hat-1 2 d ago (by user id, cart still open); orders o1 (30, reported by page and
 *   backend) and o2 (50) 20 d ago.
 * - cleo: en-IN, Asia/Calcutta (the legacy name browsers report), Safari; subscribed 1 d, seen 1 d;
 *   viewed shirt-9 40 d ago; checkout 5 d ago then ordered 4 d ago; watches shoes-2 since 1 d;
 *   got a marketing push 2 h ago.
 * - dan: no locale, zone or browser; subscribed 60 d, seen 8 d ago; ordered cart-d (shoes-7, 500)
 *   10 d ago, then started a checkout 3 d ago; got a transactional push 1 h ago; clicked 400 d ago.
 * - eve: unsubscribed (never counted), plan=gold.
 * On another site: a subscriber with dan's visitor id who viewed shoes-1 yesterday.
 */
beforeAll(async () => {
  database = await createTestDatabase();
  site = await testSite(database.db);
  other = await testSite(database.db, ['https://other.example']);
  const { db } = database;
  const subscribe = async (siteId: string, name: string, fields: Record<string, unknown>) => {
    const row = await db
      .insertInto('subscriptions')
      .values({
        site_id: siteId,
        endpoint: `https://fcm.googleapis.com/fcm/send/${name}-${siteId}`,
        p256dh: 'p',
        auth: 'a',
        vapid_public_key: 'k',
        visitor_id: `v-${name}`,
        ...fields,
      } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  };
  const event = (siteId: string, type: string, who: { v?: string; u?: string }, properties: Record<string, unknown>, at: Date) =>
    db
      .insertInto('events')
      .values({ site_id: siteId, source: who.u ? 'server' : 'browser', type, visitor_id: who.v ?? null, external_user_id: who.u ?? null, properties: JSON.stringify(properties), created_at: at })
      .execute();

  const anna = await subscribe(site.id, 'anna', {
    tags: JSON.stringify({ plan: 'gold', vip: true }),
    locale: 'de-AT',
    time_zone: 'Europe/Vienna',
    user_agent_family: 'Chrome',
    created_at: daysAgo(100),
    last_seen_at: daysAgo(2),
  });
  await subscribe(site.id, 'ben', {
    external_user_id: 'u-ben',
    tags: JSON.stringify({ plan: 'free' }),
    locale: 'de-DE',
    time_zone: 'Europe/Berlin',
    user_agent_family: 'Firefox',
    created_at: daysAgo(10),
    last_seen_at: daysAgo(40),
  });
  const cleo = await subscribe(site.id, 'cleo', { locale: 'en-IN', time_zone: 'Asia/Calcutta', user_agent_family: 'Safari', created_at: daysAgo(1), last_seen_at: daysAgo(1) });
  const dan = await subscribe(site.id, 'dan', { created_at: daysAgo(60), last_seen_at: daysAgo(8) });
  await subscribe(site.id, 'eve', { status: 'unsubscribed', tags: JSON.stringify({ plan: 'gold' }), created_at: daysAgo(5), last_seen_at: daysAgo(1) });
  await subscribe(other.id, 'dan', { created_at: daysAgo(5), last_seen_at: daysAgo(1) });

  await event(site.id, 'product_viewed', { v: 'v-anna' }, { productId: 'shoes-1', price: 50, currency: 'EUR', url: 'https://shop.example/shoes-1' }, daysAgo(3));
  await event(site.id, 'product_viewed', { v: 'v-cleo' }, { productId: 'shirt-9', price: 20, currency: 'EUR', url: 'https://shop.example/shirt-9' }, daysAgo(40));
  await event(other.id, 'product_viewed', { v: 'v-dan' }, { productId: 'shoes-1', price: 50, currency: 'EUR', url: 'https://other.example/shoes-1' }, daysAgo(1));

  const cartItem = (productId: string, quantity = 1) => ({ productId, name: productId, price: 30, quantity });
  await event(site.id, 'cart_updated', { u: 'u-ben' }, { cartId: 'cart-b', items: [cartItem('hat-1'), cartItem('scarf-2', 0)], total: 30, currency: 'EUR', url: 'https://shop.example/cart' }, daysAgo(2));
  await db
    .insertInto('carts')
    .values([
      { site_id: site.id, cart_id: 'cart-b', visitor_id: null, external_user_id: 'u-ben', items: JSON.stringify([cartItem('hat-1')]), item_count: 1, total: 30, currency: 'EUR', url: 'https://shop.example/cart', status: 'open', active_at: daysAgo(2), created_at: daysAgo(2) },
      { site_id: site.id, cart_id: 'cart-d', visitor_id: 'v-dan', external_user_id: null, items: JSON.stringify([cartItem('shoes-7')]), item_count: 1, total: 500, currency: 'EUR', url: 'https://shop.example/cart', status: 'ordered', active_at: daysAgo(10), created_at: daysAgo(11) },
    ])
    .execute();
  await event(site.id, 'order_completed', { u: 'u-ben' }, { orderId: 'o1', value: 30, currency: 'EUR' }, daysAgo(20));
  await event(site.id, 'order_completed', { v: 'v-ben' }, { orderId: 'o1', value: 30, currency: 'EUR' }, daysAgo(20));
  await event(site.id, 'order_completed', { u: 'u-ben' }, { orderId: 'o2', value: 50, currency: 'EUR' }, daysAgo(20));
  await event(site.id, 'checkout_started', { v: 'v-cleo' }, {}, daysAgo(5));
  await event(site.id, 'order_completed', { v: 'v-cleo' }, { orderId: 'o3', value: 20, currency: 'EUR' }, daysAgo(4));
  await event(site.id, 'order_completed', { v: 'v-dan' }, { orderId: 'o4', value: 500, currency: 'EUR', cartId: 'cart-d' }, daysAgo(10));
  await event(site.id, 'checkout_started', { v: 'v-dan' }, {}, daysAgo(3));
  await db.insertInto('watches').values({ site_id: site.id, visitor_id: 'v-cleo', product_id: 'shoes-2', kind: 'back_in_stock', price: null, created_at: daysAgo(1), updated_at: daysAgo(1) }).execute();

  const notification = async (kind: 'marketing' | 'transactional', at: Date) => {
    const row = await db
      .insertInto('notifications')
      .values({ site_id: site.id, kind, content: JSON.stringify({ title: 't', body: '', url: 'https://shop.example/', tag: 'x' }), audience: JSON.stringify({ all: true }), ttl_seconds: 3600, created_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  };
  const delivery = async (notificationId: string, subscriptionId: string, at: Date, clickedAt?: Date) => {
    const row = await db
      .insertInto('deliveries')
      .values({ notification_id: notificationId, subscription_id: subscriptionId, endpoint: 'e', report_token: crypto.randomUUID(), status: 'sent', sent_at: at, due_at: at, created_at: at, updated_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (clickedAt) await db.insertInto('interactions').values({ delivery_id: row.id, notification_id: notificationId, type: 'clicked', action: null, created_at: clickedAt }).execute();
  };
  await delivery(await notification('marketing', daysAgo(5)), anna, daysAgo(5), daysAgo(5));
  await delivery(await notification('marketing', daysAgo(400)), dan, daysAgo(400), daysAgo(400));
  await delivery(await notification('marketing', hoursAgo(2)), cleo, hoursAgo(2));
  await delivery(await notification('transactional', hoursAgo(1)), dan, hoursAgo(1));
});
afterAll(async () => database?.destroy());

/** The names (visitor id less `v-`) of the site's active subscriptions the definition matches. */
async function who(input: unknown): Promise<string[]> {
  const def = segmentDefinitionSchema.parse(input);
  const rows = await database.db
    .selectFrom('subscriptions as s')
    .select('s.visitor_id')
    .where('s.site_id', '=', site.id)
    .where('s.status', '=', 'active')
    .where(segmentCondition(def, AT, site.id))
    .execute();
  const names = rows.map((row) => row.visitor_id.slice(2)).sort();
  // The condition without the site id (following s.site_id) and the count agree with it.
  const unscoped = await database.db
    .selectFrom('subscriptions as s')
    .select('s.visitor_id')
    .where('s.site_id', '=', site.id)
    .where('s.status', '=', 'active')
    .where(segmentCondition(def, AT))
    .execute();
  expect(unscoped.map((row) => row.visitor_id.slice(2)).sort()).toEqual(names);
  expect((await countSegment(database.db, site.id, def, AT)).matching).toBe(names.length);
  return names;
}

const one = (rule: Record<string, unknown>) => ({ match: 'all', rules: [rule] });
const not = (rule: Record<string, unknown>) => one({ ...rule, negate: true });
const EVERYONE = ['anna', 'ben', 'cleo', 'dan'];

describe('segment rules against a seeded population', () => {
  it('tag equals (string and boolean values) and exists', async () => {
    expect(await who(one({ type: 'tag', key: 'plan', op: 'equals', value: 'gold' }))).toEqual(['anna']);
    expect(await who(not({ type: 'tag', key: 'plan', op: 'equals', value: 'gold' }))).toEqual(['ben', 'cleo', 'dan']);
    expect(await who(one({ type: 'tag', key: 'vip', op: 'equals', value: true }))).toEqual(['anna']);
    expect(await who(one({ type: 'tag', key: 'vip', op: 'equals', value: 'true' }))).toEqual([]);
    expect(await who(one({ type: 'tag', key: 'plan', op: 'exists' }))).toEqual(['anna', 'ben']);
    expect(await who(not({ type: 'tag', key: 'plan', op: 'exists' }))).toEqual(['cleo', 'dan']);
  });

  it('locale (canonical spelling) and language (any region); a subscriber without a locale is "not"', async () => {
    expect(await who(one({ type: 'locale', values: ['de-at'] }))).toEqual(['anna']);
    expect(await who(not({ type: 'locale', values: ['de-AT'] }))).toEqual(['ben', 'cleo', 'dan']);
    expect(await who(one({ type: 'language', values: ['DE'] }))).toEqual(['anna', 'ben']);
    expect(await who(not({ type: 'language', values: ['de'] }))).toEqual(['cleo', 'dan']);
  });

  it('time zone, and country through its zones (legacy names included)', async () => {
    expect(await who(one({ type: 'time_zone', values: ['Europe/Berlin'] }))).toEqual(['ben']);
    expect(await who(one({ type: 'country', values: ['IN'] }))).toEqual(['cleo']);
    expect(await who(one({ type: 'country', values: ['at', 'DE'] }))).toEqual(['anna', 'ben']);
    expect(await who(not({ type: 'country', values: ['IN'] }))).toEqual(['anna', 'ben', 'dan']);
  });

  it('browser family', async () => {
    expect(await who(one({ type: 'browser', values: ['Firefox', 'Safari'] }))).toEqual(['ben', 'cleo']);
    expect(await who(not({ type: 'browser', values: ['Firefox'] }))).toEqual(['anna', 'cleo', 'dan']);
  });

  it('subscribed before / after an instant, and within N days', async () => {
    const fiftyDaysAgo = daysAgo(50).toISOString();
    expect(await who(one({ type: 'subscribed', op: 'before', at: fiftyDaysAgo }))).toEqual(['anna', 'dan']);
    expect(await who(one({ type: 'subscribed', op: 'after', at: fiftyDaysAgo }))).toEqual(['ben', 'cleo']);
    expect(await who(one({ type: 'subscribed', op: 'within_days', days: 30 }))).toEqual(['ben', 'cleo']);
  });

  it('last seen within / not within N days', async () => {
    expect(await who(one({ type: 'last_seen', op: 'within_days', days: 7 }))).toEqual(['anna', 'cleo']);
    expect(await who(not({ type: 'last_seen', op: 'within_days', days: 7 }))).toEqual(['ben', 'dan']);
  });

  it('viewed a product, one by id or by id prefix, within N days; another site’s events do not count', async () => {
    expect(await who(one({ type: 'product', action: 'viewed', days: 30 }))).toEqual(['anna']);
    expect(await who(one({ type: 'product', action: 'viewed', productIdPrefix: 'shoes-', days: 30 }))).toEqual(['anna']);
    expect(await who(one({ type: 'product', action: 'viewed', productId: 'shoes-1', days: 2 }))).toEqual([]);
    expect(await who(one({ type: 'product', action: 'viewed', productIdPrefix: 'shirt', days: 60 }))).toEqual(['cleo']);
    // `_` in a prefix is a character, not LIKE's wildcard.
    expect(await who(one({ type: 'product', action: 'viewed', productIdPrefix: 'sh_es', days: 60 }))).toEqual([]);
    expect(await who(not({ type: 'product', action: 'viewed', days: 30 }))).toEqual(['ben', 'cleo', 'dan']);
  });

  it('carted (recorded under the external user id only), with quantity above zero', async () => {
    expect(await who(one({ type: 'product', action: 'carted', days: 7 }))).toEqual(['ben']);
    expect(await who(one({ type: 'product', action: 'carted', productIdPrefix: 'hat-', days: 7 }))).toEqual(['ben']);
    expect(await who(one({ type: 'product', action: 'carted', productId: 'scarf-2', days: 7 }))).toEqual([]);
    expect(await who(one({ type: 'product', action: 'carted', days: 1 }))).toEqual([]);
  });

  it('watched and ordered a product (an order’s products are its cart’s)', async () => {
    expect(await who(one({ type: 'product', action: 'watched', productIdPrefix: 'shoes', days: 7 }))).toEqual(['cleo']);
    expect(await who(one({ type: 'product', action: 'ordered', productId: 'shoes-7', days: 30 }))).toEqual(['dan']);
    expect(await who(one({ type: 'product', action: 'ordered', productIdPrefix: 'shoes-', days: 5 }))).toEqual([]);
    expect(await who(one({ type: 'product', action: 'ordered', days: 30 }))).toEqual(['ben', 'cleo', 'dan']);
    expect(await who(one({ type: 'product', action: 'ordered', days: 15 }))).toEqual(['cleo', 'dan']);
  });

  it('clicked within N days, ever, and never', async () => {
    expect(await who(one({ type: 'clicked', op: 'within_days', days: 30 }))).toEqual(['anna']);
    expect(await who(one({ type: 'clicked', op: 'ever' }))).toEqual(['anna', 'dan']);
    expect(await who(not({ type: 'clicked', op: 'ever' }))).toEqual(['ben', 'cleo']);
  });

  it('almost buyers: an open cart, or a checkout with no order after it', async () => {
    expect(await who(one({ type: 'almost_buyer', days: 7 }))).toEqual(['ben', 'dan']);
    expect(await who(one({ type: 'almost_buyer', days: 1 }))).toEqual([]);
    expect(await who(not({ type: 'almost_buyer', days: 7 }))).toEqual(['anna', 'cleo']);
  });

  it('orders at least N and spent at least X count each order once across both ids', async () => {
    expect(await who(one({ type: 'orders', op: 'at_least', count: 2 }))).toEqual(['ben']);
    expect(await who(one({ type: 'orders', op: 'at_least', count: 3 }))).toEqual([]);
    expect(await who(not({ type: 'orders', op: 'at_least', count: 1 }))).toEqual(['anna']);
    // ben's o1 was reported twice (page and backend): 30 + 50, not 110.
    expect(await who(one({ type: 'spent', op: 'at_least', amount: 100 }))).toEqual(['dan']);
    expect(await who(one({ type: 'spent', op: 'at_least', amount: 80 }))).toEqual(['ben', 'dan']);
    // At least 0 still means someone who ordered (cleo, ben, dan), not everyone.
    expect(await who(one({ type: 'spent', op: 'at_least', amount: 0 }))).toEqual(['ben', 'cleo', 'dan']);
    expect(await who(not({ type: 'spent', op: 'at_least', amount: 0 }))).toEqual(['anna']);
  });

  it('received a marketing push (sent) within N hours; a transactional one does not count', async () => {
    expect(await who(one({ type: 'received_marketing', hours: 24 }))).toEqual(['cleo']);
    expect(await who(one({ type: 'received_marketing', hours: 1 }))).toEqual([]);
    expect(await who(not({ type: 'received_marketing', hours: 24 }))).toEqual(['anna', 'ben', 'dan']);
  });

  it('all / any, and a nested group (with a negated rule inside)', async () => {
    expect(await who({ match: 'all', rules: [{ type: 'language', values: ['de'] }, { type: 'tag', key: 'plan', op: 'exists' }] })).toEqual(['anna', 'ben']);
    expect(await who({ match: 'any', rules: [{ type: 'country', values: ['IN'] }, { type: 'browser', values: ['Firefox'] }] })).toEqual(['ben', 'cleo']);
    const nested = {
      match: 'any',
      rules: [
        { type: 'tag', key: 'plan', op: 'equals', value: 'gold' },
        { match: 'all', rules: [{ type: 'orders', op: 'at_least', count: 1 }, { type: 'almost_buyer', days: 7, negate: true }] },
      ],
    };
    expect(await who(nested)).toEqual(['anna', 'cleo']);
    expect(await who({ match: 'all', rules: [{ type: 'subscribed', op: 'within_days', days: 3650 }] })).toEqual(EVERYONE);
  });

  it('counts the active subscriptions and says when a segment matches everyone', async () => {
    const def = segmentDefinitionSchema.parse(one({ type: 'subscribed', op: 'within_days', days: 3650 }));
    expect(await countSegment(database.db, site.id, def, AT)).toEqual({ matching: 4, active: 4, matchesEveryone: true });
    const gold = segmentDefinitionSchema.parse(one({ type: 'tag', key: 'plan', op: 'equals', value: 'gold' }));
    expect(await countSegment(database.db, site.id, gold, AT)).toEqual({ matching: 1, active: 4, matchesEveryone: false });
  });
});

describe('segmentDefinitionSchema', () => {
  const problems = (input: unknown) => {
    const result = segmentDefinitionSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
  };

  it('refuses unknown fields, at the top, in a group and in a rule', () => {
    expect(problems({ match: 'all', rules: [{ type: 'browser', values: ['Chrome'] }], extra: 1 })).not.toEqual([]);
    expect(problems(one({ type: 'browser', values: ['Chrome'], colour: 'red' }))).not.toEqual([]);
    expect(problems({ match: 'all', rules: [{ match: 'any', rules: [{ type: 'browser', values: ['Chrome'] }], note: 'x' }] })).not.toEqual([]);
  });

  it('nests groups one level only', () => {
    const inner = { match: 'any', rules: [{ type: 'browser', values: ['Chrome'] }] };
    expect(problems({ match: 'all', rules: [inner] })).toEqual([]);
    expect(problems({ match: 'all', rules: [{ match: 'any', rules: [inner] }] })).not.toEqual([]);
  });

  it('keeps to the bounds: 1..20 entries, days 1..3650, hours 1..720, real countries, one of id or prefix', () => {
    expect(problems({ match: 'all', rules: [] })).not.toEqual([]);
    expect(problems({ match: 'all', rules: Array.from({ length: 21 }, () => ({ type: 'browser', values: ['Chrome'] })) })).not.toEqual([]);
    expect(problems(one({ type: 'last_seen', op: 'within_days', days: 0 }))).not.toEqual([]);
    expect(problems(one({ type: 'last_seen', op: 'within_days', days: 3651 }))).not.toEqual([]);
    expect(problems(one({ type: 'last_seen', op: 'within_days', days: 3650 }))).toEqual([]);
    expect(problems(one({ type: 'received_marketing', hours: 721 }))).not.toEqual([]);
    expect(problems(one({ type: 'country', values: ['XX'] }))).not.toEqual([]);
    expect(problems(one({ type: 'time_zone', values: ['Mars/Olympus'] }))).not.toEqual([]);
    expect(problems(one({ type: 'product', action: 'viewed', productId: 'a', productIdPrefix: 'a', days: 1 }))).not.toEqual([]);
    expect(problems(one({ type: 'subscribed', op: 'before', at: 'yesterday' }))).not.toEqual([]);
    expect(problems(one({ type: 'clicked', op: 'within_days' }))).not.toEqual([]);
  });
});

describe('describeSegment', () => {
  it('says the rules in plain words', () => {
    const def = segmentDefinitionSchema.parse({
      match: 'all',
      rules: [
        { type: 'language', values: ['de'] },
        { match: 'any', rules: [{ type: 'product', action: 'viewed', productIdPrefix: 'shoes-', days: 30 }, { type: 'almost_buyer', days: 7 }] },
        { type: 'clicked', op: 'ever', negate: true },
      ],
    }) as SegmentDefinition;
    expect(describeSegment(def)).toBe(
      'Subscribers who speak de (any region), (viewed a product whose id starts with “shoes-” in the last 30 days or are almost buyers (carted or started checkout in the last 7 days without ordering since)) and never clicked a push',
    );
  });
});
