import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingDue, runBackgroundRound } from '../background/background-round.ts';
import { parseConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import { createDeliverer } from '../delivery/delivery-engine.ts';
import { memoryLogger } from '../logger.ts';
import { createNodeMetrics, type NodeMetrics } from '../runtime/node/node-metrics.ts';
import { nodePushTransport } from '../runtime/node/push-transport.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { ADMIN_TOKEN, browserHeaders, queueTestSend, SHOP_ORIGIN, testApp, testSite } from '../testing/fixtures.ts';
import { startMockPushService, type MockPushService } from '../testing/mock-push-service.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef-scraper';
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The text exposition format parsed back (Prometheus, "Text-based format"): every sample as
 * `name{label="value",…}` → value, labels sorted by name, and each metric family's TYPE.
 */
function parseExposition(text: string): { samples: Map<string, number>; types: Map<string, string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels = [...(sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => `${name}="${value}"`).sort();
    samples.set(labels.length > 0 ? `${sample[1]}{${labels.join(',')}}` : sample[1]!, Number(sample[3]));
  }
  return { samples, types };
}

/** A sample's key as `parseExposition` writes it. */
const key = (name: string, labels: Record<string, string> = {}) => {
  const parts = Object.entries(labels).map(([label, value]) => `${label}="${value}"`).sort();
  return parts.length > 0 ? `${name}{${parts.join(',')}}` : name;
};

let database: TestDatabase;
let mock: MockPushService;
let site: CreatedSite;

beforeAll(async () => {
  [database, mock] = await Promise.all([createTestDatabase(), startMockPushService()]);
  site = await testSite(database.db);
});
afterAll(async () => {
  await mock?.close();
  await database?.destroy();
});

/** An app whose recorder is a Node registry, as the Node entry builds it. */
function metricsApp(env: Record<string, string> = { PUSHCART_METRICS_TOKEN: METRICS_TOKEN }, options: { now?: () => number; metrics?: NodeMetrics } = {}) {
  const metrics = options.metrics ?? createNodeMetrics({ pool: () => ({ totalCount: 3, idleCount: 2, waitingCount: 0, max: 10 }) });
  const { app } = testApp(database.db, { env, metrics, ...(options.now ? { now: options.now } : {}) });
  return { app, metrics };
}

async function scrape(app: ReturnType<typeof metricsApp>['app'], token = METRICS_TOKEN) {
  const response = await app.request('/metrics', { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toBe(PROMETHEUS_TEXT);
  return parseExposition(await response.text());
}

describe('GET /metrics access', () => {
  it('refuses a request without the token, or with a wrong one, with 401 in the error shape', async () => {
    const { app } = metricsApp();
    const attempts: Array<Record<string, string>> = [{}, { Authorization: 'Bearer not-the-metrics-token-at-all' }, { Authorization: `Bearer ${METRICS_TOKEN}x` }];
    for (const headers of attempts) {
      const response = await app.request('/metrics', { headers });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error.code).toBe('admin_token_required');
      expect(body.error.message).toContain('PUSHCART_METRICS_TOKEN');
      expect(body.error.requestId).not.toBe('');
    }
  });

  it('takes the admin token only while PUSHCART_METRICS_TOKEN is unset', async () => {
    const own = metricsApp({ PUSHCART_METRICS_TOKEN: METRICS_TOKEN });
    expect((await own.app.request('/metrics', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(401);
    const fallback = metricsApp({});
    await scrape(fallback.app, ADMIN_TOKEN);
  });

  it('is off, 404 in the error shape, when neither token is set', async () => {
    const { app } = metricsApp({ PUSHCART_ADMIN_TOKEN: '' });
    const response = await app.request('/metrics', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: 'not_found' });
    expect(body.error.message).toContain('PUSHCART_METRICS_TOKEN');
  });

  it('answers 404 where the runtime keeps no registry to serve (Workers: the counters are logged)', async () => {
    const { app } = testApp(database.db, { env: { PUSHCART_METRICS_TOKEN: METRICS_TOKEN } });
    const response = await app.request('/metrics', { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('log');
  });

  it('answers a scanner that keeps guessing with 429, and still lets the right token through from that address', async () => {
    const metrics = createNodeMetrics();
    const { app } = testApp(database.db, { env: { PUSHCART_METRICS_TOKEN: METRICS_TOKEN }, metrics, rateLimits: { failedAuth: { capacity: 2, refillPerSecond: 0.001 } } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await app.request('/metrics', { headers: { Authorization: 'Bearer wrong-token-wrong-token-wrong' } })).status);
    expect(statuses).toEqual([401, 401, 429]);
    const { samples } = await scrape(app);
    expect(samples.get(key('pushcart_rate_limited_total', { bucket: 'failed_auth' }))).toBe(1);
  });
});

describe('GET /metrics in the Prometheus text format', () => {
  it('serves the pool, the event loop, Node’s process metrics and every Pushcart family with its type', async () => {
    const { app } = metricsApp();
    const { samples, types } = await scrape(app);
    expect(samples.get('pushcart_db_pool_connections')).toBe(3);
    expect(samples.get('pushcart_db_pool_idle_connections')).toBe(2);
    expect(samples.get('pushcart_db_pool_waiting_requests')).toBe(0);
    expect(samples.get('pushcart_db_pool_max_connections')).toBe(10);
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(types.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
    expect(types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(types.get('pushcart_deliveries_total')).toBe('counter');
    expect(types.get('pushcart_push_send_duration_seconds')).toBe('histogram');
    expect(types.get('pushcart_events_ingested_total')).toBe('counter');
    expect(types.get('pushcart_rate_limited_total')).toBe('counter');
    expect(types.get('pushcart_trigger_runs_total')).toBe('counter');
    expect(types.get('pushcart_queue_due_deliveries')).toBe('gauge');
    expect(types.get('pushcart_queue_oldest_due_age_seconds')).toBe('gauge');
  });

  it('reads the queue depth and the oldest due age from the outbox at scrape time', async () => {
    const queuedAtMs = Date.UTC(2026, 10, 29, 12, 0, 0);
    const other = await testSite(database.db);
    const subscribe = (visitor: string) =>
      database.db
        .insertInto('subscriptions')
        .values({ site_id: other.id, endpoint: `https://fcm.googleapis.com/fcm/send/${visitor}`, p256dh: 'p', auth: 'a', vapid_public_key: other.vapidPublicKey, visitor_id: visitor })
        .execute();
    await subscribe('queue-visitor-1');
    await subscribe('queue-visitor-2');
    const notificationId = await queueTestSend(database.db, other.id, queuedAtMs);
    try {
      const { app } = metricsApp(undefined, { now: () => queuedAtMs + 90_000 });
      const { samples } = await scrape(app);
      expect(samples.get('pushcart_queue_due_deliveries')).toBe(2);
      expect(samples.get('pushcart_queue_oldest_due_age_seconds')).toBe(90);
      // Before they fall due, none is.
      const early = metricsApp(undefined, { now: () => queuedAtMs - 1_000 });
      const before = await scrape(early.app);
      expect(before.samples.get('pushcart_queue_due_deliveries')).toBe(0);
      expect(before.samples.get('pushcart_queue_oldest_due_age_seconds')).toBe(0);
    } finally {
      await database.db.deleteFrom('deliveries').where('notification_id', '=', notificationId).execute();
    }
  });

  it('still serves the rest when the database does not answer, leaving the queue gauges out', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 2_000 });
    const downDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      const metrics = createNodeMetrics({ pool: () => ({ totalCount: 0, idleCount: 0, waitingCount: 4, max: 10 }) });
      const { app, logger } = testApp(downDb, { env: { PUSHCART_METRICS_TOKEN: METRICS_TOKEN }, metrics });
      const { samples, types } = await scrape(app);
      expect(samples.get('pushcart_db_pool_waiting_requests')).toBe(4);
      expect(types.get('pushcart_queue_due_deliveries')).toBe('gauge');
      expect(samples.has('pushcart_queue_due_deliveries')).toBe(false);
      expect(samples.has('pushcart_queue_oldest_due_age_seconds')).toBe(false);
      expect(logger.entries.some((entry) => entry.message.startsWith('queue gauges left out'))).toBe(true);
    } finally {
      await downDb.destroy();
    }
  });

  it('counts events stored, by known type or custom, and not a retried eventId again', async () => {
    const { app } = metricsApp();
    const post = (body: Record<string, unknown>) =>
      app.request('/v1/events', { method: 'POST', headers: browserHeaders(site), body: JSON.stringify({ visitorId: 'events-visitor', ...body }) });
    expect((await post({ type: 'product_viewed', properties: { productId: 'p-1', price: 10, currency: 'EUR', url: `${SHOP_ORIGIN}/p/1` } })).status).toBe(202);
    expect((await post({ type: 'wishlist_added', eventId: 'e-1' })).status).toBe(202);
    expect((await post({ type: 'wishlist_added', eventId: 'e-1' })).status).toBe(202);
    const server = await app.request('/v1/events', {
      method: 'POST',
      headers: { Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'order_completed', externalUserId: 'user-1', properties: { orderId: 'o-1', value: 10, currency: 'EUR' } }),
    });
    expect(server.status).toBe(202);
    const { samples } = await scrape(app);
    expect(samples.get(key('pushcart_events_ingested_total', { type: 'product_viewed', source: 'browser' }))).toBe(1);
    expect(samples.get(key('pushcart_events_ingested_total', { type: 'custom', source: 'browser' }))).toBe(1);
    expect(samples.get(key('pushcart_events_ingested_total', { type: 'order_completed', source: 'server' }))).toBe(1);
  });

  it('counts rate-limit refusals by bucket', async () => {
    const metrics = createNodeMetrics();
    const { app } = testApp(database.db, { env: { PUSHCART_METRICS_TOKEN: METRICS_TOKEN }, metrics, rateLimits: { perIp: { capacity: 1, refillPerSecond: 0.001 } } });
    const config = () => app.request(`/v1/sites/${site.publishableKey}/config`, { headers: { Origin: SHOP_ORIGIN } });
    expect((await config()).status).toBe(200);
    expect((await config()).status).toBe(429);
    expect((await config()).status).toBe(429);
    const { samples } = await scrape(app);
    expect(samples.get(key('pushcart_rate_limited_total', { bucket: 'per_ip' }))).toBe(2);
  });
});

describe('GET /metrics after real deliveries', () => {
  it('counts deliveries by push service, outcome and reason, times each send, and counts trigger runs', async () => {
    const env = { PUSHCART_METRICS_TOKEN: METRICS_TOKEN, PUSHCART_PUSH_HOSTS: mock.host, PUSHCART_PUBLIC_URL: 'https://push.shop.example' };
    const metrics = createNodeMetrics();
    const clock = { nowMs: Date.now() };
    const { app } = metricsApp(env, { now: () => clock.nowMs, metrics });
    const deliverySite = await testSite(database.db);
    const subscribe = async (mode?: 'gone') => {
      const subscription = await mock.subscribe({ applicationServerKey: deliverySite.vapidPublicKey, ...(mode ? { mode } : {}) });
      const response = await app.request('/v1/subscriptions', {
        method: 'POST',
        headers: browserHeaders(deliverySite),
        body: JSON.stringify({ subscription: { endpoint: subscription.endpoint, keys: subscription.keys }, visitorId: `v-${subscription.id}`.slice(0, 64) }),
      });
      expect(response.status).toBe(201);
    };
    await subscribe();
    await subscribe();
    await subscribe('gone');
    await queueTestSend(database.db, deliverySite.id, clock.nowMs);

    const push = nodePushTransport({ ca: mock.ca, timeoutMs: 5_000 });
    try {
      const deliverer = createDeliverer({ db: database.db, config: parseConfig(env), logger: memoryLogger(), transport: push.transport, now: () => clock.nowMs, metrics });
      const report = await runBackgroundRound(deliverer, { budget: { timeMs: 60_000, pushes: 1_000 }, timetable: everythingDue() });
      expect(report.claimed).toBe(3);
    } finally {
      await push.close();
    }
    expect(mock.received).toHaveLength(2);

    const { samples } = await scrape(app);
    const service = { push_service: mock.host };
    expect(samples.get(key('pushcart_deliveries_total', { ...service, outcome: 'sent', reason: 'none' }))).toBe(2);
    expect(samples.get(key('pushcart_deliveries_total', { ...service, outcome: 'expired', reason: 'subscription_gone' }))).toBe(1);
    expect(samples.get(key('pushcart_push_send_duration_seconds_count', service))).toBe(3);
    expect(samples.get(key('pushcart_push_send_duration_seconds_bucket', { ...service, le: '+Inf' }))).toBe(3);
    expect(samples.get(key('pushcart_push_send_duration_seconds_sum', service))).toBeGreaterThan(0);
    expect(samples.get(key('pushcart_trigger_runs_total', { trigger: 'cart_reminders' }))).toBe(1);
    expect(samples.get(key('pushcart_trigger_notifications_total', { trigger: 'cart_reminders' }))).toBe(0);
    // Sent and expired: nothing is due any more.
    expect(samples.get('pushcart_queue_due_deliveries')).toBe(0);
  });
});
