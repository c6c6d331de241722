import { beforeAll, describe, expect, it } from 'vitest';
import { browserHeaders, browserSubscription, SHOP_ORIGIN } from '../testing/fixtures.ts';
import { databaseFingerprint } from '../testing/database-fingerprint.ts';
import { routeTestWorld } from '../testing/route-test.ts';

const world = routeTestWorld({ rateLimits: { perIp: { capacity: 10_000, refillPerSecond: 1_000 } } });

const secretHeaders = () => ({ Authorization: `Bearer ${world.site.secretKey}`, 'Content-Type': 'application/json' });

/** Sends a raw body (JSON text written by hand, so keys such as `__proto__` arrive as sent). */
async function call(method: string, path: string, body: string | undefined, headers: Record<string, string> = secretHeaders()) {
  const response = await world.app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, body: (await response.json()) as any };
}

/** Sends the request and expects a 400 in the error shape, naming `path` when given, with nothing stored. */
async function expectRefused(method: string, path: string, body: string | undefined, options: { headers?: Record<string, string>; naming?: string } = {}) {
  const before = await databaseFingerprint(world.database.db);
  const answer = await call(method, path, body, options.headers);
  expect(answer.status, JSON.stringify(answer.body)).toBe(400);
  expect(answer.body.error).toMatchObject({ code: 'validation_failed', requestId: expect.stringMatching(/.+/) });
  if (options.naming !== undefined) expect(answer.body.error.message).toContain(options.naming);
  expect(await databaseFingerprint(world.database.db)).toEqual(before);
  return answer.body.error as { message: string; details?: Array<{ path: string; message: string }> };
}

/** Event properties holding arrays nested `depth` deep, written as text: JSON.stringify itself recurses. */
function deepEvent(depth: number): string {
  return `{"type":"custom_thing","visitorId":"visitor-hostile","properties":{"list":${'['.repeat(depth)}"leaf"${']'.repeat(depth)}}}`;
}

const product = { name: 'Lamp', url: `${SHOP_ORIGIN}/p/lamp`, price: 30, currency: 'EUR' };

describe('text Postgres cannot store is refused, naming the field', () => {
  it.each([
    ['a NUL in an event property', { type: 'custom_thing', visitorId: 'visitor-hostile', properties: { note: 'a\u0000b' } }, 'properties.note'],
    ['a NUL in a nested event property key', { type: 'custom_thing', visitorId: 'visitor-hostile', properties: { deep: { ['k\u0000']: 1 } } }, 'properties.deep'],
    ['a lone surrogate in an event property', { type: 'custom_thing', visitorId: 'visitor-hostile', properties: { note: 'x\ud800' } }, 'properties.note'],
    ['a lone surrogate in a cart item name', { type: 'cart_updated', visitorId: 'visitor-hostile', properties: { cartId: 'c1', items: [{ productId: 'p1', name: '\udc00', price: 1, quantity: 1 }], total: 1, currency: 'EUR', url: `${SHOP_ORIGIN}/cart` } }, 'properties.items.0.name'],
  ])('%s', async (_name, body, path) => {
    await expectRefused('POST', '/v1/events', JSON.stringify(body), { headers: browserHeaders(world.site), naming: path });
  });

  it('a NUL in a watch productId', async () => {
    await expectRefused('POST', '/v1/watches', JSON.stringify({ visitorId: 'visitor-hostile', productId: 'sku\u0000', kind: 'back_in_stock' }), { headers: browserHeaders(world.site), naming: 'productId' });
  });

  it('a NUL or a lone surrogate in a product name, a product id in the path or in a batch', async () => {
    await expectRefused('PUT', '/v1/products/sku-1', JSON.stringify({ ...product, name: 'La\u0000mp' }), { naming: 'name' });
    await expectRefused('PUT', '/v1/products/sku-1', JSON.stringify({ ...product, name: 'La\ud800mp' }), { naming: 'name' });
    await expectRefused('PUT', '/v1/products/sku%00', JSON.stringify(product), { naming: 'id' });
    await expectRefused('POST', '/v1/products/batch', JSON.stringify({ products: [{ id: 'sku\u0000', ...product }] }), { naming: 'products.0.id' });
  });

  it('a NUL in a notification title', async () => {
    await expectRefused('POST', '/v1/notifications', JSON.stringify({ title: 'Sale\u0000', url: `${SHOP_ORIGIN}/`, to: { all: true } }), { naming: 'title' });
  });
});

describe('free-form JSON has a depth limit', () => {
  it.each([32, 5_000, 10_000])('event properties with arrays %i levels deep are refused', async (depth) => {
    const error = await expectRefused('POST', '/v1/events', deepEvent(depth), { headers: browserHeaders(world.site) });
    expect(error.message).toMatch(/deep/);
  });

  it('properties a few levels deep are stored', async () => {
    const response = await call('POST', '/v1/events', deepEvent(10), browserHeaders(world.site));
    expect(response.status).toBe(202);
  });
});

describe('money has sane bounds', () => {
  it.each([
    ['a product price of 1e308', () => call('PUT', '/v1/products/sku-money', JSON.stringify({ ...product, price: 1e308 })), 'price'],
    ['a product price with more decimals than any currency has', () => call('PUT', '/v1/products/sku-money', JSON.stringify({ ...product, price: 19.999999 })), 'price'],
    ['a cart total of 1e308', () => call('POST', '/v1/events', JSON.stringify({ type: 'order_completed', visitorId: 'visitor-hostile', properties: { orderId: 'o1', value: 1e308, currency: 'EUR' } }), browserHeaders(world.site)), 'properties.value'],
    ['a watch target of 1e308', () => call('POST', '/v1/watches', JSON.stringify({ visitorId: 'visitor-hostile', productId: 'sku-money', kind: 'price_drop', price: 1e308 }), browserHeaders(world.site)), 'price'],
  ])('%s is refused', async (_name, send, field) => {
    const before = await databaseFingerprint(world.database.db);
    const answer = await send();
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain(field);
    expect(await databaseFingerprint(world.database.db)).toEqual(before);
  });

  it('a large real price and a sum with binary rounding noise are accepted', async () => {
    expect((await call('PUT', '/v1/products/sku-dong', JSON.stringify({ ...product, price: 45_990_000, currency: 'VND' }))).status).toBe(200);
    const noisy = await call('PUT', '/v1/products/sku-noise', JSON.stringify({ ...product, price: 0.1 + 0.2 }));
    expect(noisy.status).toBe(200);
    expect(noisy.body.price).toBe(0.3);
  });
});

describe('paths and query strings', () => {
  it('a product id with broken percent-encoding is refused, not stored raw', async () => {
    await expectRefused('PUT', '/v1/products/%E0%A4%A', JSON.stringify(product), { naming: 'percent-encoding' });
    await expectRefused('PUT', '/v1/products/%ED%A0%80', JSON.stringify(product), { naming: 'percent-encoding' });
  });

  it('a product id with a percent sign, properly encoded, is stored as the shop wrote it', async () => {
    const answer = await call('PUT', '/v1/products/50%25-off', JSON.stringify(product));
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe('50%-off');
  });

  it('a NUL or broken percent-encoding in a publishable key in the path is refused before the key is looked up', async () => {
    await expectRefused('GET', '/v1/sites/pk_%00/config', undefined, { headers: { Origin: SHOP_ORIGIN }, naming: 'publishableKey' });
    await expectRefused('GET', '/v1/sites/pk_%ED%A0%80/config', undefined, { headers: { Origin: SHOP_ORIGIN }, naming: 'percent-encoding' });
  });

  it('a NUL in a notification id or a stats date is refused', async () => {
    await expectRefused('GET', '/v1/notifications/abc%00', undefined);
    await expectRefused('GET', '/v1/stats?from=2026-11-01%00', undefined);
  });
});

describe('interaction tokens', () => {
  it('a delivery id beyond a Postgres bigint is refused as invalid input, not a server error', async () => {
    await expectRefused('POST', '/v1/interactions', JSON.stringify({ token: `9999999999999999999.${'a'.repeat(32)}`, type: 'shown' }), {
      headers: { 'Content-Type': 'application/json', Origin: SHOP_ORIGIN },
      naming: 'token',
    });
  });

  it('the largest bigint is a well-formed token that simply matches no delivery', async () => {
    const answer = await call('POST', '/v1/interactions', JSON.stringify({ token: `9223372036854775807.${'a'.repeat(32)}`, type: 'shown' }), { 'Content-Type': 'application/json', Origin: SHOP_ORIGIN });
    expect(answer.status).toBe(401);
  });
});

describe('PATCH /v1/settings is validated whole', () => {
  it.each([
    ['an unknown section', '{"foo":1}', 'foo'],
    ['an unknown field in a section', '{"engagement":{"quietHour":{"enabled":false}}}', 'engagement.quietHour'],
    ['an unknown field two levels down', '{"engagement":{"quietHours":{"enabeld":false}}}', 'engagement.quietHours.enabeld'],
    ['an unknown field in a template', '{"templates":{"price_drop":{"de":{"title":"x","body":"y","icon":"z"}}}}', 'templates.price_drop.de.icon'],
  ])('%s is a 400 naming the key', async (_name, body, path) => {
    const error = await expectRefused('PATCH', '/v1/settings', body, { naming: path });
    expect(error.details).toEqual([{ path, message: 'unknown key' }]);
  });
});

describe('prototype keys never reach stored objects', () => {
  it.each([
    ['PATCH', '/v1/settings', '{"prompt":{"__proto__":{"title":"Injected"}}}', '__proto__'],
    ['PATCH', '/v1/settings', '{"engagement":{"constructor":{"prototype":{"polluted":true}}}}', 'constructor'],
    ['PUT', '/v1/products/sku-proto', `{"name":"Lamp","price":3,"__proto__":{"inStock":false}}`, '__proto__'],
    ['POST', '/v1/notifications', `{"title":"Hi","url":"${SHOP_ORIGIN}/","to":{"all":true},"__proto__":{"kind":"transactional"}}`, '__proto__'],
  ])('%s %s %s', async (method, path, body, key) => {
    await expectRefused(method, path, body, { naming: key });
  });

  it('in event properties too', async () => {
    await expectRefused('POST', '/v1/events', '{"type":"custom_thing","visitorId":"visitor-hostile","properties":{"a":{"__proto__":{"x":1}}}}', { headers: browserHeaders(world.site), naming: 'properties.a' });
  });
});

describe('an audience that would mean everyone by accident is refused', () => {
  let subscriptionId: string;
  beforeAll(async () => {
    const response = await call('POST', '/v1/subscriptions', JSON.stringify({ subscription: await browserSubscription(), visitorId: 'visitor-audience' }), browserHeaders(world.site));
    subscriptionId = response.body.id;
    await world.database.db.updateTable('subscriptions').set({ tags: JSON.stringify({ plan: 'vip' }) }).where('id', '=', subscriptionId).execute();
  });
  const send = (to: string) => `{"title":"Sale","url":"${SHOP_ORIGIN}/","to":${to}}`;

  it.each([
    ['an empty tag filter', '{"tags":{}}'],
    ['a tag filter of a prototype key', '{"tags":{"__proto__":"x"}}'],
    ['a tag filter with an empty key', '{"tags":{"":"x"}}'],
    ['all: false', '{"all":false}'],
    ['an empty selector next to a real one', '{"visitorIds":["visitor-audience"],"tags":{}}'],
  ])('%s', async (_name, to) => {
    await expectRefused('POST', '/v1/notifications', send(to), { naming: 'to' });
  });

  it('a real tag filter still reaches only the tagged subscriber', async () => {
    const answer = await call('POST', '/v1/notifications', send('{"tags":{"plan":"vip"}}'));
    expect(answer.status).toBe(202);
    expect(answer.body.audience).toBe(1);
  });
});
