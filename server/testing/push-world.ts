import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { everythingDue, runBackgroundRound } from '../background/background-round.ts';
import { parseConfig } from '../config.ts';
import type { Db } from '../db/database.ts';
import { findSiteById, updateSiteSettings, type SiteRow } from '../db/sites.ts';
import { createDeliverer, deliverBatch, type DeliverySettings } from '../delivery/delivery-engine.ts';
import { memoryLogger } from '../logger.ts';
import { nodePushTransport } from '../runtime/node/push-transport.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { browserHeaders, SHOP_ORIGIN, testApp, testSite } from './fixtures.ts';
import { startMockPushService, type MockPushService } from './mock-push-service.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

/** The push service's own public URL in these tests: the origin of the click reports' URLs. */
export const PUBLIC_URL = 'https://push.shop.example';

/** A background round's budget that never stops it early. */
const UNLIMITED = { timeMs: Number.POSITIVE_INFINITY, pushes: Number.POSITIVE_INFINITY };

/** What the service worker receives, as the strict mock push service decrypted it. */
export interface ReceivedPayload {
  id: string;
  title: string;
  body: string;
  url: string;
  image?: string;
  actions?: Array<{ action: string; title: string; url?: string }>;
  tag: string;
  report: { url: string; token: string };
}

export interface PushWorld {
  /** This file's own migrated database (filled once `beforeAll` has run). */
  readonly db: Db;
  /** The strict mock push service: it checks each push's VAPID signature and decrypts its payload. */
  readonly mock: MockPushService;
  /** A shop on this file's database, pushing to this file's mock push service. */
  shop(options: PushShopOptions): Promise<PushShop>;
}

export interface PushShopOptions {
  /** Where the shop's clock starts; the test moves `clock.nowMs` by hand from there. */
  startMs: number;
  /** The site's quiet hours (off unless asked for, as `testSite` makes them). */
  quietHours?: boolean;
  /** Top-level settings stored over the site's own before the shop opens (each key replaced whole). */
  settings?: Record<string, unknown>;
  /** The delivery worker's settings, where a test needs other than the defaults. */
  delivery?: Partial<DeliverySettings>;
}

export type PushShop = Awaited<ReturnType<typeof openShop>>;

/**
 * For one end-to-end test file: a migrated database and the strict mock push service, started
 * before the file's tests and stopped after them; each test's push connections are closed after it.
 * `emptyOutboxAfterEach`: each test starts with no notification queued, so that a push one test
 * deferred is not claimed by the next one's deliverer.
 */
export function usePushWorld(options: { emptyOutboxAfterEach?: boolean } = {}): PushWorld {
  let database: TestDatabase;
  let mock: MockPushService;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    [database, mock] = await Promise.all([createTestDatabase(), startMockPushService()]);
  });
  afterAll(async () => {
    await mock?.close();
    await database?.destroy();
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    if (options.emptyOutboxAfterEach) {
      await database.db.deleteFrom('deliveries').execute();
      await database.db.deleteFrom('notifications').execute();
    }
  });

  return {
    get db() {
      return database.db;
    },
    get mock() {
      return mock;
    },
    shop: (shopOptions) => openShop(database.db, mock, closers, shopOptions),
  };
}

/**
 * A shop for end-to-end tests: its API on a clock the test moves by hand, browsers subscribed at
 * the mock push service with real keys, and a delivery worker on the same clock pushing to the mock.
 */
async function openShop(db: Db, mock: MockPushService, closers: Array<() => Promise<void>>, options: PushShopOptions) {
  const env = { PUSHCART_PUSH_HOSTS: mock.host, PUSHCART_PUBLIC_URL: PUBLIC_URL };
  const config = parseConfig(env);
  const site = await testSite(db, [SHOP_ORIGIN], { quietHours: options.quietHours ?? false });
  if (options.settings) {
    const current = readSiteSettings((await findSiteById(db, site.id))?.settings);
    await updateSiteSettings(db, site.id, { ...current, ...options.settings });
  }
  const clock = { nowMs: options.startMs };
  const now = () => clock.nowMs;
  const { app } = testApp(db, { env, now, rateLimits: { perIp: { capacity: 100_000, refillPerSecond: 1_000 } } });
  const push = nodePushTransport({ ca: mock.ca, timeoutMs: 5_000 });
  closers.push(push.close);
  const deliverer = createDeliverer({ db, config, logger: memoryLogger(), transport: push.transport, now, random: () => 0.5, ...(options.delivery ? { settings: options.delivery } : {}) });
  const secret = { Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' };

  /** The API as the shop's backend calls it (secret key) unless other headers are given. */
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = secret) {
    const response = await app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
  }

  /** The site as stored now. */
  const siteRow = async (): Promise<SiteRow> => (await findSiteById(db, site.id))!;

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

  /**
   * A browser subscribed at the mock with real keys and posted to the API as the snippet posts it;
   * locale and zone only when given. `userId` links it to the shop's account, `tags` are stored on it.
   */
  async function subscriber(as: { visitorId?: string; locale?: string; timeZone?: string; userId?: string; tags?: Record<string, string> } = {}) {
    const subscription = await mock.subscribe({ applicationServerKey: site.vapidPublicKey });
    const visitorId = as.visitorId ?? `v-${subscription.id}`.slice(0, 64);
    const body = {
      subscription: { endpoint: subscription.endpoint, keys: subscription.keys },
      visitorId,
      ...(as.locale ? { locale: as.locale } : {}),
      ...(as.timeZone ? { timeZone: as.timeZone } : {}),
    };
    const response = await call('POST', '/v1/subscriptions', body, browserHeaders(site));
    expect(response.status).toBe(201);
    const subscriptionId = response.body.id as string;
    if (as.userId) await db.updateTable('subscriptions').set({ external_user_id: as.userId }).where('id', '=', subscriptionId).execute();
    if (as.tags) await db.updateTable('subscriptions').set({ tags: JSON.stringify(as.tags) }).where('id', '=', subscriptionId).execute();
    /** What this browser received, decrypted by the mock, oldest first. */
    const pushes = () => mock.received.filter((m) => m.subscriptionId === subscription.id).map((m) => JSON.parse(m.payload) as ReceivedPayload);
    /** A page load: the snippet posts the subscription again (last_seen_at). */
    const visit = async () => expect((await call('POST', '/v1/subscriptions', body, browserHeaders(site))).status).toBe(200);
    return { ...subscription, subscriptionId, visitorId, pushes, visit };
  }

  /** A named shopper's browser (en-US in Berlin unless told otherwise), with the events its pages send. */
  async function shopper(name: string, as: { locale?: string; timeZone?: string; userId?: string; visitorId?: string } = {}) {
    const browser = await subscriber({
      visitorId: as.visitorId ?? `visitor-${name}-${crypto.randomUUID().slice(0, 8)}`,
      locale: as.locale ?? 'en-US',
      timeZone: as.timeZone ?? 'Europe/Berlin',
      userId: as.userId,
    });
    const event = async (type: string, properties: Record<string, unknown>) => {
      const answer = await call('POST', '/v1/events', { type, visitorId: browser.visitorId, properties }, browserHeaders(site));
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    };
    const views = (price: number, id = 'jacket') => event('product_viewed', { productId: id, name: 'Rain jacket', price, currency: 'EUR', url: `${SHOP_ORIGIN}/p/${id}` });
    return { name, ...browser, event, views };
  }

  /** What the mock decrypted for this endpoint, oldest first. */
  const received = (endpoint: string): ReceivedPayload[] => mock.received.filter((p) => p.endpoint === endpoint).map((p) => JSON.parse(p.payload) as ReceivedPayload);

  /** The delivery worker, until nothing more is due now. */
  async function deliver() {
    while ((await deliverBatch(deliverer)) > 0);
  }

  /** Background rounds (due triggers, campaigns, delivery) until nothing more is due now, at most `rounds`. */
  async function runRounds(rounds = 6) {
    for (let i = 0; i < rounds; i++) {
      const report = await runBackgroundRound(deliverer, { budget: UNLIMITED, timetable: everythingDue(), audienceChunk: 3 });
      if (!report.moreDue && report.claimed === 0) return;
    }
  }

  /** The service worker's click report, with the token only the decrypted payload carried. */
  async function click(payload: { report: { token: string } }, action?: string) {
    const answer = await app.request('/v1/interactions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: SHOP_ORIGIN },
      body: JSON.stringify({ token: payload.report.token, type: 'clicked', ...(action ? { action } : {}) }),
    });
    expect(answer.status).toBe(204);
  }

  /** Browser activity of a visitor at these instants (page views, as the shop's pages report them): the history a best hour is picked from. */
  async function visits(visitorId: string, instants: string[]) {
    await db
      .insertInto('events')
      .values(instants.map((at) => ({ site_id: site.id, source: 'browser' as const, type: 'page_viewed', visitor_id: visitorId, external_user_id: null, properties: '{}', client_event_id: null, created_at: new Date(at) })))
      .execute();
  }

  /** This site's notifications from one source, oldest first. */
  async function notifications(source: string) {
    return db.selectFrom('notifications').selectAll().where('site_id', '=', site.id).where('source', '=', source).orderBy('created_at').execute();
  }

  return { site, siteRow, clock, now, app, deliverer, secret, call, settings, feed, subscriber, shopper, received, deliver, runRounds, click, visits, notifications };
}

/**
 * The morning after the night the clocks went back in Berlin (25 October 2026), with quiet hours
 * 21:00–09:00 in each shopper's zone: nothing has arrived yet; at 07:59 UTC still nothing; at
 * 09:00 CET (08:00 UTC) the Berlin shopper's push and not yet the New York one's; at 09:00 EDT
 * (13:00 UTC) the New York shopper's. Each expected by its title.
 */
export async function expectQuietNightEndsInBerlinThenNewYork(
  s: PushShop,
  berlin: { pushes: () => ReceivedPayload[] },
  newYork: { pushes: () => ReceivedPayload[] },
  titles: { berlin: string; newYork: string },
): Promise<void> {
  expect([berlin.pushes().length, newYork.pushes().length]).toEqual([0, 0]);
  s.clock.nowMs = Date.parse('2026-10-25T07:59:00Z');
  await s.deliver();
  expect(berlin.pushes()).toHaveLength(0);
  s.clock.nowMs = Date.parse('2026-10-25T08:00:00Z');
  await s.deliver();
  expect(berlin.pushes().map((p) => p.title)).toEqual([titles.berlin]);
  expect(newYork.pushes()).toHaveLength(0);
  s.clock.nowMs = Date.parse('2026-10-25T13:00:00Z');
  await s.deliver();
  expect(newYork.pushes().map((p) => p.title)).toEqual([titles.newYork]);
}
