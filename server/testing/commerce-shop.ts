import { expect } from 'vitest';
import { parseConfig } from '../config.ts';
import type { Db } from '../db/database.ts';
import { createDeliverer, deliverBatch } from '../delivery/delivery-engine.ts';
import { memoryLogger } from '../logger.ts';
import { nodePushTransport } from '../runtime/node/push-transport.ts';
import { browserHeaders, SHOP_ORIGIN, testApp, testSite } from './fixtures.ts';
import type { MockPushService } from './mock-push-service.ts';

/** What the service worker receives, as the strict mock push service decrypted it. */
export interface ReceivedPayload {
  id: string;
  title: string;
  body: string;
  url: string;
  image?: string;
  tag: string;
  report: { url: string; token: string };
}

/**
 * A shop for trigger tests: its API on a clock the test moves by hand, shoppers subscribed at the
 * mock push service with real keys, and a delivery worker that pushes to the mock.
 */
export async function commerceShop(db: Db, mock: MockPushService, options: { startMs: number; closers: Array<() => Promise<void>> }) {
  const publicUrl = 'https://push.shop.example';
  const env = { PUSHCART_PUSH_HOSTS: mock.host, PUSHCART_PUBLIC_URL: publicUrl };
  const config = parseConfig(env);
  const site = await testSite(db, [SHOP_ORIGIN]);
  const clock = { nowMs: options.startMs };
  const now = () => clock.nowMs;
  const { app } = testApp(db, { env, now, rateLimits: { perIp: { capacity: 100_000, refillPerSecond: 1_000 } } });
  const push = nodePushTransport({ ca: mock.ca, timeoutMs: 5_000 });
  options.closers.push(push.close);
  const deliverer = createDeliverer({ db, config, logger: memoryLogger(), transport: push.transport, now, random: () => 0.5 });
  const secret = { Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' };

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = secret) {
    const response = await app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
  }

  async function settings(patch: Record<string, unknown>) {
    const answer = await call('PATCH', '/v1/settings', patch);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }

  /** Feeds one product (a rain jacket unless told otherwise); returns the notifications queued. */
  async function feed(product: Record<string, unknown>, id = 'jacket'): Promise<string[]> {
    const answer = await call('PUT', `/v1/products/${id}`, { name: 'Rain jacket', url: `${SHOP_ORIGIN}/p/${id}`, currency: 'EUR', ...product });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.notificationsQueued as string[];
  }

  async function shopper(name: string, locale = 'en-US', timeZone = 'Europe/Berlin') {
    const subscription = await mock.subscribe({ applicationServerKey: site.vapidPublicKey });
    const visitorId = `visitor-${name}-${crypto.randomUUID().slice(0, 8)}`;
    const response = await call(
      'POST',
      '/v1/subscriptions',
      { subscription: { endpoint: subscription.endpoint, keys: subscription.keys }, visitorId, locale, timeZone },
      browserHeaders(site),
    );
    expect(response.status).toBe(201);
    const event = async (type: string, properties: Record<string, unknown>) => {
      const answer = await call('POST', '/v1/events', { type, visitorId, properties }, browserHeaders(site));
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    };
    const views = (price: number, id = 'jacket') => event('product_viewed', { productId: id, name: 'Rain jacket', price, currency: 'EUR', url: `${SHOP_ORIGIN}/p/${id}` });
    const pushes = () => mock.received.filter((m) => m.subscriptionId === subscription.id).map((m) => JSON.parse(m.payload) as ReceivedPayload);
    return { name, visitorId, subscriptionId: response.body.id as string, event, views, pushes };
  }

  /** The delivery worker, until nothing more is due now. */
  async function deliver() {
    while ((await deliverBatch(deliverer)) > 0);
  }

  return { site, clock, call, settings, feed, shopper, deliver, secret, app };
}
