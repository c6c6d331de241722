import { describe, expect, it } from 'vitest';
import { browserHeaders, SHOP_ORIGIN } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';

const world = routeTestWorld();

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { Authorization: `Bearer ${world.site.secretKey}`, 'Content-Type': 'application/json' }) {
  const response = await world.app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as any };
}

describe('the catalogue feed', () => {
  it('PUT stores a product; a later PUT with only some fields keeps the others', async () => {
    const created = await call('PUT', '/v1/products/sku-1', { name: 'Lamp', url: `${SHOP_ORIGIN}/p/sku-1`, image: 'https://cdn.shop.example/lamp.jpg', price: 30, currency: 'EUR' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ id: 'sku-1', name: 'Lamp', price: 30, inStock: true, notificationsQueued: [] });
    const updated = await call('PUT', '/v1/products/sku-1', { inStock: false });
    expect(updated.body).toMatchObject({ name: 'Lamp', price: 30, currency: 'EUR', image: 'https://cdn.shop.example/lamp.jpg', inStock: false });
    expect((await call('GET', '/v1/products/sku-1')).body).toMatchObject({ price: 30, inStock: false, priceSource: 'feed' });
  });

  it('POST /v1/products/batch stores many at once and refuses the same id twice', async () => {
    const products = Array.from({ length: 50 }, (_, i) => ({ id: `batch-${i}`, name: `Item ${i}`, price: i + 1, currency: 'EUR' }));
    const stored = await call('POST', '/v1/products/batch', { products });
    expect(stored.status).toBe(200);
    expect(stored.body.stored).toBe(50);
    expect((await call('GET', '/v1/products/batch-49')).body).toMatchObject({ name: 'Item 49', price: 50 });
    const twice = await call('POST', '/v1/products/batch', { products: [products[0], products[0]] });
    expect(twice.status).toBe(400);
    expect(twice.body.error.message).toContain('each id at most once');
  });

  it('refuses bad products with every field named, and the publishable key', async () => {
    const bad = await call('PUT', '/v1/products/sku-2', { name: '', price: -1, currency: 'euro', url: 'javascript:alert(1)' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['currency', 'name', 'price', 'url']);
    const browser = await call('PUT', '/v1/products/sku-2', { name: 'Lamp' }, browserHeaders(world.site));
    expect(browser.status).toBe(403);
    expect((await call('GET', '/v1/products/nope')).status).toBe(404);
  });
});
