import { describe, expect, it } from 'vitest';
import { browserHeaders, SHOP_ORIGIN } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';

const world = routeTestWorld({ rateLimits: { perIp: { capacity: 10_000, refillPerSecond: 1_000 } } });

const post = (path: string, body: unknown, headers: Record<string, string>) =>
  world.app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
const serverHeaders = () => ({ Authorization: `Bearer ${world.site.secretKey}`, 'Content-Type': 'application/json' });

const cartUpdated = {
  cartId: 'cart-1',
  items: [{ productId: 'sku-1', name: 'Blue sneakers', price: 89, quantity: 1, colour: 'blue' }],
  total: 89,
  currency: 'EUR',
  url: `${SHOP_ORIGIN}/cart`,
};

describe('POST /v1/events', () => {
  it('stores a browser event by visitor, keeping unknown fields', async () => {
    const response = await post('/v1/events', { type: 'cart_updated', visitorId: 'visitor-events', properties: cartUpdated }, browserHeaders(world.site));
    expect(response.status).toBe(202);
    const row = await world.database.db.selectFrom('events').selectAll().where('visitor_id', '=', 'visitor-events').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ site_id: world.site.id, source: 'browser', type: 'cart_updated' });
    expect((row.properties as typeof cartUpdated).items[0]).toMatchObject({ colour: 'blue' });
  });

  it('stores a server event by external user id, once per event id', async () => {
    const event = { type: 'order_completed', externalUserId: 'customer-42', eventId: 'order-1001', properties: { orderId: '1001', value: 89, currency: 'EUR' } };
    expect(((await (await post('/v1/events', event, serverHeaders())).json()) as { stored: boolean }).stored).toBe(true);
    expect(((await (await post('/v1/events', event, serverHeaders())).json()) as { duplicate: boolean }).duplicate).toBe(true);
    const rows = await world.database.db.selectFrom('events').select('id').where('client_event_id', '=', 'order-1001').execute();
    expect(rows).toHaveLength(1);
  });

  it.each([
    ['a cart item without a price', { type: 'cart_updated', visitorId: 'visitor-events', properties: { ...cartUpdated, items: [{ productId: 'x', name: 'x', quantity: 1 }] } }],
    ['a lower-case currency', { type: 'product_viewed', visitorId: 'visitor-events', properties: { productId: 'x', price: 1, currency: 'eur', url: `${SHOP_ORIGIN}/p` } }],
    ['a javascript: product URL', { type: 'product_viewed', visitorId: 'visitor-events', properties: { productId: 'x', price: 1, currency: 'EUR', url: 'javascript:alert(1)' } }],
    ['a malformed type', { type: 'Drop Table', visitorId: 'visitor-events', properties: {} }],
    ['no visitor', { type: 'wishlist_added', properties: {} }],
  ])('refuses %s with 400 and stores nothing', async (_label, body) => {
    const before = (await world.database.db.selectFrom('events').select('id').execute()).length;
    expect((await post('/v1/events', body, browserHeaders(world.site))).status).toBe(400);
    expect((await world.database.db.selectFrom('events').select('id').execute()).length).toBe(before);
  });

  it('lets only the shop’s backend name an external user', async () => {
    const response = await post('/v1/events', { type: 'wishlist_added', visitorId: 'visitor-events', externalUserId: 'someone-else' }, browserHeaders(world.site));
    expect(response.status).toBe(403);
  });
});

describe('POST /v1/watches', () => {
  it('records a watch once per visitor, product and kind, keeping the newest target', async () => {
    const watch = { visitorId: 'visitor-watch', productId: 'sku-9', kind: 'price_drop', price: 79 };
    expect((await post('/v1/watches', watch, browserHeaders(world.site))).status).toBe(201);
    expect((await post('/v1/watches', { ...watch, price: 69 }, browserHeaders(world.site))).status).toBe(201);
    const rows = await world.database.db.selectFrom('watches').selectAll().where('visitor_id', '=', 'visitor-watch').execute();
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.price)).toBe(69);
    expect((await post('/v1/watches', { ...watch, kind: 'cheaper' }, browserHeaders(world.site))).status).toBe(400);
  });
});
