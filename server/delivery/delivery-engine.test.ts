import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../config.ts';
import { claimDeliveries } from '../db/deliveries.ts';
import { memoryLogger } from '../logger.ts';
import type { PushTransport } from '../push/fetch-transport.ts';
import type { PushEncryptor } from '../push/push-encryptor.ts';
import { createEncryptionPool, EncryptionUnavailableError, type EncryptionPool } from '../runtime/node/encryption-pool.ts';
import { nodePushTransport } from '../runtime/node/push-transport.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { SHOP_ORIGIN, testApp, testSite } from '../testing/fixtures.ts';
import { startMockPushService, type FaultMode, type MockPushService } from '../testing/mock-push-service.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { createDeliverer, deliverBatch, type DeliverySettings } from './delivery-engine.ts';

let database: TestDatabase;
let mockA: MockPushService;
let mockB: MockPushService;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  [database, mockA, mockB] = await Promise.all([createTestDatabase(), startMockPushService(), startMockPushService()]);
});
afterAll(async () => {
  await Promise.all([mockA?.close(), mockB?.close()]);
  await database?.destroy();
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  // Each test starts from an empty outbox.
  await database.db.deleteFrom('deliveries').execute();
  await database.db.deleteFrom('notifications').execute();
  mockA.setHostMode('ok');
  mockB.setHostMode('ok');
});

/** A world for one test: a site, its subscribers at the mocks, the API and a deliverer with a clock it controls. */
async function world(
  options: {
    settings?: Partial<DeliverySettings>;
    timeoutMs?: number;
    transport?: (inner: PushTransport) => PushTransport;
    encryptor?: PushEncryptor;
    /** More push services than the two shared ones, allowed and trusted for this world. */
    extraMocks?: MockPushService[];
  } = {},
) {
  const mocks = [mockA, mockB, ...(options.extraMocks ?? [])];
  const env = { PUSHCART_PUSH_HOSTS: mocks.map((m) => m.host).join(','), PUSHCART_PUBLIC_URL: 'https://push.shop.example' };
  const config = parseConfig(env);
  const site = await testSite(database.db);
  const clock = { nowMs: Date.now() };
  const { app } = testApp(database.db, { env, now: () => clock.nowMs, rateLimits: { perIp: { capacity: 100_000, refillPerSecond: 1_000 } } });
  const push = nodePushTransport({ ca: mocks.map((m) => m.ca).join('\n'), timeoutMs: options.timeoutMs ?? 5_000 });
  closers.push(push.close);
  const logger = memoryLogger();
  const deliverer = createDeliverer({
    db: database.db,
    config,
    logger,
    transport: options.transport ? options.transport(push.transport) : push.transport,
    now: () => clock.nowMs,
    random: () => 0.5,
    settings: { retryBaseMs: 1_000, ...options.settings },
    ...(options.encryptor ? { encryptor: options.encryptor } : {}),
  });

  async function subscriber(mock: MockPushService, mode?: FaultMode) {
    const subscription = await mock.subscribe({ applicationServerKey: site.vapidPublicKey, ...(mode ? { mode } : {}) });
    const response = await app.request('/v1/subscriptions', {
      method: 'POST',
      headers: { Authorization: `Bearer ${site.publishableKey}`, Origin: SHOP_ORIGIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ subscription: { endpoint: subscription.endpoint, keys: subscription.keys }, visitorId: `visitor-${subscription.id}`.slice(0, 64) }),
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    return { ...subscription, subscriptionId: id };
  }

  async function send(extra: Record<string, unknown> = {}) {
    const response = await app.request('/v1/notifications', {
      method: 'POST',
      headers: { Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Price drop', body: 'Now €79', url: `${SHOP_ORIGIN}/p/1`, to: { all: true }, ...extra }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string; audience: number }).id;
  }

  async function deliveries(notificationId: string) {
    return database.db.selectFrom('deliveries').selectAll().where('notification_id', '=', notificationId).orderBy('id').execute();
  }

  async function counts(notificationId: string) {
    const response = await app.request(`/v1/notifications/${notificationId}`, { headers: { Authorization: `Bearer ${site.secretKey}` } });
    return ((await response.json()) as { counts: Record<string, number> }).counts;
  }

  async function status(notificationId: string) {
    const response = await app.request(`/v1/notifications/${notificationId}`, { headers: { Authorization: `Bearer ${site.secretKey}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as { counts: Record<string, number>; problems: ProblemSummary[] };
  }

  async function patchSettings(settings: unknown) {
    const response = await app.request('/v1/settings', {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(settings),
    });
    expect(response.status).toBe(200);
  }

  return { site, clock, deliverer, logger, subscriber, send, deliveries, counts, status, patchSettings, config };
}

async function subscriptionStatus(id: string) {
  const row = await database.db.selectFrom('subscriptions').select(['status', 'endpoint']).where('id', '=', id).executeTakeFirstOrThrow();
  return row.status;
}

describe('end to end', () => {
  it('the mock decrypts exactly the payload expected, with TTL, Urgency and Topic', async () => {
    const w = await world();
    const alice = await w.subscriber(mockA);
    const bob = await w.subscriber(mockB);
    const id = await w.send({
      icon: 'https://cdn.shop.example/icon.png',
      image: 'https://cdn.shop.example/shoe.jpg',
      actions: [{ action: 'buy', title: 'Buy now', url: `${SHOP_ORIGIN}/checkout` }],
      requireInteraction: true,
      ttl: 3600,
      urgency: 'high',
      topic: 'price-drop-1',
    });
    expect(await deliverBatch(w.deliverer)).toBe(2);

    const rows = await w.deliveries(id);
    expect(rows.map((row) => row.status)).toEqual(['sent', 'sent']);
    for (const [mock, subscriber] of [[mockA, alice], [mockB, bob]] as const) {
      const message = mock.received.find((m) => m.subscriptionId === subscriber.id)!;
      const row = rows.find((r) => r.subscription_id === subscriber.subscriptionId)!;
      expect(JSON.parse(message.payload)).toEqual({
        v: 1,
        id,
        title: 'Price drop',
        body: 'Now €79',
        icon: 'https://cdn.shop.example/icon.png',
        image: 'https://cdn.shop.example/shoe.jpg',
        url: `${SHOP_ORIGIN}/p/1`,
        actions: [{ action: 'buy', title: 'Buy now', url: `${SHOP_ORIGIN}/checkout` }],
        tag: id,
        requireInteraction: true,
        report: { url: 'https://push.shop.example/v1/interactions', token: `${row.id}.${row.report_token}` },
      });
      expect(message).toMatchObject({ ttl: 3600, urgency: 'high', topic: 'price-drop-1', httpVersion: '2.0' });
      expect(message.vapid).toMatchObject({ aud: mock.origin, sub: w.config.vapidSubject, k: w.site.vapidPublicKey });
    }
    expect(await w.counts(id)).toMatchObject({ queued: 0, sent: 2 });
    // The subscription's last success is its deliveries' latest sent_at; its own row is not rewritten per push.
    expect(rows.every((row) => row.sent_at?.getTime() === w.clock.nowMs)).toBe(true);
    const subscription = await database.db.selectFrom('subscriptions').select('last_success_at').where('id', '=', alice.subscriptionId).executeTakeFirstOrThrow();
    expect(subscription.last_success_at).toBeNull();
  });

  it('signs the VAPID JWT once per push-service origin, not per message', async () => {
    const w = await world();
    for (let i = 0; i < 20; i++) await w.subscriber(i % 2 ? mockA : mockB);
    await w.send();
    expect(await deliverBatch(w.deliverer)).toBe(20);
    expect(w.deliverer.vapidCache.signings).toBe(2);
    await w.send();
    await deliverBatch(w.deliverer);
    expect(w.deliverer.vapidCache.signings).toBe(2);
  });

  it('skips a subscriber who opted out after the send was queued', async () => {
    const w = await world();
    const alice = await w.subscriber(mockA);
    const id = await w.send();
    await database.db.updateTable('subscriptions').set({ status: 'unsubscribed' }).where('id', '=', alice.subscriptionId).execute();
    await deliverBatch(w.deliverer);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'suppressed', last_error: 'subscription_inactive: the subscription is unsubscribed' });
    expect(mockA.received.some((m) => m.subscriptionId === alice.id)).toBe(false);
  });
});

describe('outcomes', () => {
  it.each([
    ['gone', 410],
    ['not_found', 404],
  ] as const)('%s → delivery expired, subscription expired, no retry', async (mode, status) => {
    const w = await world();
    const sub = await w.subscriber(mockA, mode);
    const id = await w.send();
    await deliverBatch(w.deliverer);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'expired', last_status: status });
    expect(await subscriptionStatus(sub.subscriptionId)).toBe('expired');
    w.clock.nowMs += 24 * 3600_000;
    expect(await deliverBatch(w.deliverer)).toBe(0);
  });

  it('a 410 for an endpoint the subscription has since renewed leaves the subscription active', async () => {
    let renew: (() => Promise<void>) | undefined;
    const w = await world({
      transport: (inner) => ({
        async send(request) {
          await renew?.(); // the browser renews while our request is in flight
          return inner.send(request);
        },
      }),
    });
    const sub = await w.subscriber(mockA, 'gone');
    renew = async () => {
      await database.db.updateTable('subscriptions').set({ endpoint: `${mockA.origin}/push/renewed-${sub.id}` }).where('id', '=', sub.subscriptionId).execute();
    };
    await w.send();
    await deliverBatch(w.deliverer);
    expect(await subscriptionStatus(sub.subscriptionId)).toBe('active');
  });

  it('413 → failed payload_too_large', async () => {
    const w = await world();
    await w.subscriber(mockA, 'too_large');
    const id = await w.send();
    await deliverBatch(w.deliverer);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'failed', last_status: 413, last_error: expect.stringMatching(/^payload_too_large: /) });
    expect(await w.counts(id)).toMatchObject({ failed: 1, queued: 0 });
  });

  it.each([400, 401, 403])('%i → failed, subscription kept', async (status) => {
    const w = await world();
    const sub = await w.subscriber(mockA, { status });
    const id = await w.send();
    await deliverBatch(w.deliverer);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'failed', last_status: status });
    expect(await subscriptionStatus(sub.subscriptionId)).toBe('active');
  });

  it('a redirect is refused, never followed', async () => {
    const w = await world();
    await w.subscriber(mockA, { status: 307 });
    const id = await w.send();
    const requestsBefore = mockA.requests;
    await deliverBatch(w.deliverer);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'failed', last_status: 307, last_error: 'push_rejected: redirect refused' });
    expect(mockA.requests - requestsBefore).toBe(1);
  });

  it('re-checks the endpoint policy before sending: a host no longer allowed gets nothing', async () => {
    const w = await world();
    const sub = await w.subscriber(mockB);
    const id = await w.send();
    const strict = createDeliverer({
      ...w.deliverer.deps,
      config: parseConfig({ PUSHCART_PUSH_HOSTS: mockA.host }),
    });
    const requestsBefore = mockB.requests;
    await deliverBatch(strict);
    const [row] = await w.deliveries(id);
    expect(row!.status).toBe('failed');
    expect(row!.last_error).toMatch(/^endpoint_not_allowed/);
    expect(mockB.requests).toBe(requestsBefore);
    expect(await subscriptionStatus(sub.subscriptionId)).toBe('active');
  });

  it.each([
    ['seconds', () => '30', 30_000],
    ['an HTTP-date', () => new Date(Date.now() + 45_000).toUTCString(), 45_000],
  ])('429 with Retry-After in %s backs off that host only; the other host keeps flowing', async (_label, retryAfter, expectedMs) => {
    const w = await world();
    w.clock.nowMs = Date.now();
    const slow = [await w.subscriber(mockA), await w.subscriber(mockA)];
    const fast = await w.subscriber(mockB);
    mockA.setHostMode({ status: 429, retryAfter: retryAfter() });
    const id = await w.send();
    await deliverBatch(w.deliverer);
    const rows = await w.deliveries(id);
    const fastRow = rows.find((r) => r.subscription_id === fast.subscriptionId)!;
    expect(fastRow.status).toBe('sent');
    for (const sub of slow) {
      const row = rows.find((r) => r.subscription_id === sub.subscriptionId)!;
      expect(row.status).toBe('queued');
      expect(row.attempts).toBe(0); // throttling is not the delivery's failure
      expect(Math.abs(row.due_at.getTime() - (w.clock.nowMs + expectedMs))).toBeLessThan(1_500);
    }
    // Before the pause ends nothing is claimed for that host; after it, the deliveries go.
    mockA.setHostMode('ok');
    w.clock.nowMs += expectedMs - 5_000;
    expect(await deliverBatch(w.deliverer)).toBe(0);
    w.clock.nowMs += 6_000;
    await deliverBatch(w.deliverer);
    expect((await w.deliveries(id)).every((r) => r.status === 'sent')).toBe(true);
  });

  it('503 without Retry-After holds the host for the default backoff', async () => {
    const w = await world({ settings: { hostGates: { maxInFlightPerHost: 10, breakerThreshold: 50, breakerWindowMs: 60_000, breakerOpenMs: 300_000, defaultHostBackoffMs: 20_000 } } });
    await w.subscriber(mockA, 'unavailable');
    const id = await w.send();
    await deliverBatch(w.deliverer);
    const [row] = await w.deliveries(id);
    expect(row).toMatchObject({ status: 'queued', last_status: 503 });
    expect(row!.due_at.getTime()).toBe(w.clock.nowMs + 20_000);
  });

  it('500s retry with growing backoff, then fail after maxAttempts (dead letter, counted)', async () => {
    const w = await world({ settings: { maxAttempts: 3 } });
    await w.subscriber(mockA, { status: 500 });
    const id = await w.send();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await deliverBatch(w.deliverer)).toBe(1);
      const [row] = await w.deliveries(id);
      expect(row!.attempts).toBe(attempt);
      if (attempt < 3) {
        expect(row!.status).toBe('queued');
        delays.push(row!.due_at.getTime() - w.clock.nowMs);
        w.clock.nowMs = row!.due_at.getTime();
      } else {
        expect(row).toMatchObject({ status: 'failed', last_status: 500 });
        expect(row!.last_error).toBe('failed_after_attempts: gave up after 3 attempts; the last: push service error 500');
      }
    }
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    w.clock.nowMs += 24 * 3600_000;
    expect(await deliverBatch(w.deliverer)).toBe(0);
    expect(await w.counts(id)).toMatchObject({ failed: 1, queued: 0 });
  });

  it('a hanging host is aborted at the timeout and retried', async () => {
    const w = await world({ timeoutMs: 300 });
    await w.subscriber(mockA, 'hang');
    const id = await w.send();
    const started = performance.now();
    await deliverBatch(w.deliverer);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'queued', last_error: 'push_error: timed out', attempts: 1 });
  });

  it('a reset connection is retried', async () => {
    const w = await world();
    await w.subscriber(mockA, 'reset');
    const id = await w.send();
    await deliverBatch(w.deliverer);
    const [row] = await w.deliveries(id);
    expect(row).toMatchObject({ status: 'queued', attempts: 1 });
    expect(row!.last_error).toMatch(/^push_error: network error/);
  });

  it('a burst of 403 opens the host circuit with an alert; the rest wait, nothing is deleted', async () => {
    const w = await world({
      settings: { batchSize: 5, hostGates: { maxInFlightPerHost: 1, breakerThreshold: 3, breakerWindowMs: 60_000, breakerOpenMs: 600_000, defaultHostBackoffMs: 10_000 } },
    });
    const subs = [];
    for (let i = 0; i < 8; i++) subs.push(await w.subscriber(mockA));
    mockA.setHostMode({ status: 403 });
    const id = await w.send();
    await deliverBatch(w.deliverer);
    await deliverBatch(w.deliverer);
    const rows = await w.deliveries(id);
    expect(rows.filter((r) => r.status === 'failed').length).toBe(3);
    expect(rows.filter((r) => r.status === 'queued').length).toBe(5);
    expect(w.logger.entries.some((e) => e.level === 'error' && e.message.startsWith('ALERT push host circuit open'))).toBe(true);
    for (const sub of subs) expect(await subscriptionStatus(sub.subscriptionId)).toBe('active');
  });

  it('1,000 hanging requests end in timeouts, not EMFILE, on a bounded number of connections', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const w = await world({
      timeoutMs: 500,
      settings: { batchSize: 1_000 },
      transport: (inner) => ({
        async send(request) {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          try {
            return await inner.send(request);
          } finally {
            inFlight--;
          }
        },
      }),
    });
    const connectionsBefore = mockA.connections;
    const subs = await Promise.all(Array.from({ length: 1_000 }, () => mockA.subscribe({ applicationServerKey: w.site.vapidPublicKey })));
    // Inserted directly: 1,000 API calls would only slow the test down.
    await database.db
      .insertInto('subscriptions')
      .values(subs.map((s) => ({ site_id: w.site.id, endpoint: s.endpoint, p256dh: s.keys.p256dh, auth: s.keys.auth, vapid_public_key: w.site.vapidPublicKey, visitor_id: `v-${s.id}`.slice(0, 64) })))
      .execute();
    mockA.setHostMode('hang');
    const id = await w.send();
    expect(await deliverBatch(w.deliverer)).toBe(1_000);
    const rows = await w.deliveries(id);
    expect(rows).toHaveLength(1_000);
    expect(new Set(rows.map((r) => r.last_error))).toEqual(new Set(['push_error: timed out']));
    expect(mockA.connections - connectionsBefore).toBeLessThanOrEqual(4);
    // The per-host bound (200 by default) holds, and HTTP/2 really multiplexes them on few sockets.
    expect(maxInFlight).toBe(200);
    expect(mockA.maxInFlight).toBeGreaterThan(50);
  }, 60_000);
});

describe('leases and duplicates', () => {
  it('a lapsed lease (the worker died) is claimed again, and the re-sent push carries the same tag', async () => {
    const w = await world({ settings: { leaseMs: 30_000 } });
    const sub = await w.subscriber(mockA);
    const id = await w.send();
    // A worker claims and "dies": it never sends or records.
    const lost = await claimDeliveries(database.db, { leaseId: 'dead-worker:1', limit: 10, nowMs: w.clock.nowMs, leaseMs: 30_000 });
    expect(lost).toHaveLength(1);
    expect(await deliverBatch(w.deliverer)).toBe(0); // still leased
    w.clock.nowMs += 30_001;
    expect(await deliverBatch(w.deliverer)).toBe(1);
    const [row] = await w.deliveries(id);
    expect(row).toMatchObject({ status: 'sent', attempts: 2 });
    const message = mockA.received.filter((m) => m.subscriptionId === sub.id).at(-1)!;
    expect(JSON.parse(message.payload).tag).toBe(id);
  });

  it('a TTL that ran out while waiting → suppressed with the reason, never sent late', async () => {
    const w = await world();
    await w.subscriber(mockA);
    const id = await w.send({ ttl: 60 });
    w.clock.nowMs += 61_000;
    await deliverBatch(w.deliverer);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'suppressed' });
    expect((await w.deliveries(id))[0]!.last_error).toMatch(/^ttl_elapsed/);
  });
});

describe('encryption off the event loop', () => {
  let pool: EncryptionPool;
  beforeAll(() => {
    pool = createEncryptionPool({ size: 2, chunkJobs: 7 });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('with the worker-thread pool, every subscriber gets exactly its own payload, decrypted by the mock', async () => {
    const w = await world({ encryptor: pool });
    const subscribers = [];
    for (let i = 0; i < 120; i++) subscribers.push(await w.subscriber(i % 3 ? mockA : mockB));
    const id = await w.send({ ttl: 600, urgency: 'low', topic: 'restock' });
    expect(await deliverBatch(w.deliverer)).toBe(120);

    const rows = await w.deliveries(id);
    expect(rows.every((row) => row.status === 'sent')).toBe(true);
    for (const subscriber of subscribers) {
      const mock = subscriber.endpoint.startsWith(mockA.origin) ? mockA : mockB;
      const message = mock.received.find((m) => m.subscriptionId === subscriber.id)!;
      const row = rows.find((r) => r.subscription_id === subscriber.subscriptionId)!;
      expect(message).toMatchObject({ ttl: 600, urgency: 'low', topic: 'restock' });
      expect(JSON.parse(message.payload)).toMatchObject({ id, title: 'Price drop', report: { token: `${row.id}.${row.report_token}` } });
    }
    expect(w.deliverer.vapidCache.signings).toBe(2);
  });

  it.each([
    ['the in-thread encryptor', () => undefined],
    ['the worker-thread pool', () => pool],
  ])('with %s, a subscription with a bad p256dh fails alone as build_failed', async (_label, encryptor) => {
    const w = await world({ encryptor: encryptor() });
    const good = [await w.subscriber(mockA), await w.subscriber(mockB)];
    const broken = await w.subscriber(mockA);
    // The API validates keys, so only a row written some other way can hold one that is not a P-256 point.
    await database.db.updateTable('subscriptions').set({ p256dh: 'BAAA' }).where('id', '=', broken.subscriptionId).execute();
    const id = await w.send();
    expect(await deliverBatch(w.deliverer)).toBe(3);

    const rows = await w.deliveries(id);
    const brokenRow = rows.find((r) => r.subscription_id === broken.subscriptionId)!;
    expect(brokenRow.status).toBe('failed');
    expect(brokenRow.last_error).toMatch(/^build_failed: .*p256dh/);
    for (const sub of good) expect(rows.find((r) => r.subscription_id === sub.subscriptionId)!.status).toBe('sent');
    expect(mockA.received.some((m) => m.subscriptionId === broken.id)).toBe(false);
  });

  it('an encryptor that fails as a whole (a thread died) reschedules the chunk, counting the attempt', async () => {
    let failures = 0;
    const dying: PushEncryptor = {
      encrypt: async (jobs) => {
        if (failures++ === 0) throw new EncryptionUnavailableError('encryption thread exited with code 1');
        return pool.encrypt(jobs);
      },
    };
    const w = await world({ encryptor: dying });
    await w.subscriber(mockA);
    const id = await w.send();
    await deliverBatch(w.deliverer);
    const [row] = await w.deliveries(id);
    expect(row).toMatchObject({ status: 'queued', attempts: 1, last_error: 'encryption_unavailable: encryption thread exited with code 1' });
    expect(row!.due_at.getTime()).toBeGreaterThan(w.clock.nowMs);
    expect(w.logger.entries.some((e) => e.level === 'error' && e.message === 'encryption failed')).toBe(true);

    w.clock.nowMs = row!.due_at.getTime();
    expect(await deliverBatch(w.deliverer)).toBe(1);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'sent', attempts: 2 });
  });
});

/** One entry of `problems` in `GET /v1/notifications/{id}`. */
interface ProblemSummary {
  reason: string;
  status: string;
  count: number;
  example: { deliveryId: string; subscriptionId: string; attempts: number; lastStatus: number | null; lastError: string; until?: string };
}

describe('results recorded as they arrive', () => {
  it('a hanging host holds only its own deliveries: a 429 elsewhere is queued for its Retry-After and healthy pushes are sent while the hang is still open', async () => {
    const hangingService = await startMockPushService();
    closers.push(() => hangingService.close());
    // A timeout far beyond the test's patience: what is asserted happens while the request hangs.
    const w = await world({ extraMocks: [hangingService], timeoutMs: 120_000 });
    const hanging = await w.subscriber(hangingService, 'hang');
    const throttled = await w.subscriber(mockB, { status: 429, retryAfter: '30' });
    const healthy = [await w.subscriber(mockA), await w.subscriber(mockA), await w.subscriber(mockA)];
    const id = await w.send();

    const batch = deliverBatch(w.deliverer);
    await vi.waitFor(
      async () => {
        expect(hangingService.hanging).toBe(1);
        const rows = await w.deliveries(id);
        const row = (subscriptionId: string) => rows.find((r) => r.subscription_id === subscriptionId)!;
        for (const sub of healthy) expect(row(sub.subscriptionId)).toMatchObject({ status: 'sent', leased_by: null });
        expect(row(throttled.subscriptionId)).toMatchObject({ status: 'queued', last_status: 429, attempts: 0, leased_by: null });
        expect(row(throttled.subscriptionId).due_at.getTime()).toBe(w.clock.nowMs + 30_000);
        expect(row(hanging.subscriptionId).status).toBe('sending');
      },
      { timeout: 15_000, interval: 50 },
    );

    // The hanging host goes away: its delivery alone is retried later, and the batch reports its size.
    await hangingService.close();
    expect(await batch).toBe(5);
    const rows = await w.deliveries(id);
    expect(rows.find((r) => r.subscription_id === hanging.subscriptionId)).toMatchObject({ status: 'queued', attempts: 1, leased_by: null });
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(3);
  }, 30_000);

  it('a gone subscription is expired without waiting for a hanging host', async () => {
    const hangingService = await startMockPushService();
    closers.push(() => hangingService.close());
    const w = await world({ extraMocks: [hangingService], timeoutMs: 120_000 });
    await w.subscriber(hangingService, 'hang');
    const gone = await w.subscriber(mockA, 'gone');
    await w.send();
    const batch = deliverBatch(w.deliverer);
    await vi.waitFor(
      async () => {
        expect(hangingService.hanging).toBe(1);
        expect(await subscriptionStatus(gone.subscriptionId)).toBe('expired');
      },
      { timeout: 15_000, interval: 50 },
    );
    await hangingService.close();
    await batch;
  }, 30_000);

  it('results whose write fails stay leased (the lease lapse retries them), are logged, and fail the batch', async () => {
    const w = await world({ settings: { leaseMs: 30_000 } });
    await w.subscriber(mockA);
    const id = await w.send();
    // The outbox refuses this worker's writes from the moment the push is on its way.
    const failing = createDeliverer({
      ...w.deliverer.deps,
      transport: {
        async send(request) {
          const outcome = await w.deliverer.deps.transport.send(request);
          await sql`create or replace function pushcart_test_refuse() returns trigger language plpgsql as $$ begin raise exception 'outbox unavailable'; end $$`.execute(database.db);
          await sql`create trigger pushcart_test_refuse before update on deliveries for each row execute function pushcart_test_refuse()`.execute(database.db);
          return outcome;
        },
      },
    });
    closers.push(async () => {
      await sql`drop trigger if exists pushcart_test_refuse on deliveries`.execute(database.db);
      await sql`drop function if exists pushcart_test_refuse()`.execute(database.db);
    });
    await expect(deliverBatch(failing)).rejects.toThrow(/outbox unavailable/);
    expect(w.logger.entries.some((e) => e.level === 'error' && e.message === 'delivery results not recorded' && e.fields.deliveries === 1)).toBe(true);
    await sql`drop trigger pushcart_test_refuse on deliveries`.execute(database.db);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'sending', attempts: 1 });
    w.clock.nowMs += 30_001;
    expect(await deliverBatch(w.deliverer)).toBe(1);
    expect((await w.deliveries(id))[0]).toMatchObject({ status: 'sent', attempts: 2 });
  });
});

describe('why a push did not go', () => {
  it('GET /v1/notifications/{id} sums up deferred by quiet hours, capped, failed after N attempts and expired, with one example each', async () => {
    const w = await world({ settings: { maxAttempts: 2 } });
    // Quiet hours from the current UTC hour for two hours: the clock is inside them for a subscriber
    // in UTC, and twelve hours away from them for one in UTC+12 (the site's default).
    const hour = new Date(w.clock.nowMs).getUTCHours();
    const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    await w.patchSettings({
      engagement: { quietHours: { enabled: true, start: hh(hour), end: hh(hour + 2) }, frequencyCap: { marketingPer24h: 1 }, defaultTimeZone: 'Etc/GMT-12' },
    });
    const sleeping = await w.subscriber(mockA);
    await database.db.updateTable('subscriptions').set({ time_zone: 'UTC' }).where('id', '=', sleeping.subscriptionId).execute();
    const capped = await w.subscriber(mockA);
    const broken = await w.subscriber(mockA, { status: 500 });
    const gone = await w.subscriber(mockB, 'gone');
    const fine = await w.subscriber(mockB);

    // The capped subscriber already had its one marketing push today.
    await w.send({ to: { subscriptionIds: [capped.subscriptionId] } });
    await deliverBatch(w.deliverer);
    w.clock.nowMs += 1_000;

    const id = await w.send();
    expect(await deliverBatch(w.deliverer)).toBe(5);
    const retry = (await w.deliveries(id)).find((r) => r.subscription_id === broken.subscriptionId)!;
    w.clock.nowMs = retry.due_at.getTime();
    expect(await deliverBatch(w.deliverer)).toBe(1);

    const rows = await w.deliveries(id);
    const row = (subscriptionId: string) => rows.find((r) => r.subscription_id === subscriptionId)!;
    expect(row(fine.subscriptionId).status).toBe('sent');
    const quietEnd = row(sleeping.subscriptionId).due_at.toISOString();
    const { counts, problems } = await w.status(id);
    expect(counts).toMatchObject({ queued: 1, sent: 1, failed: 1, expired: 1, suppressed: 1 });
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          reason: 'quiet_hours',
          status: 'queued',
          count: 1,
          example: expect.objectContaining({ deliveryId: String(row(sleeping.subscriptionId).id), subscriptionId: sleeping.subscriptionId, until: quietEnd, lastError: expect.stringMatching(/^quiet_hours: /) }),
        },
        {
          reason: 'frequency_cap',
          status: 'suppressed',
          count: 1,
          example: expect.objectContaining({ deliveryId: String(row(capped.subscriptionId).id), lastError: expect.stringMatching(/^frequency_cap: /) }),
        },
        {
          reason: 'failed_after_attempts',
          status: 'failed',
          count: 1,
          example: expect.objectContaining({ deliveryId: String(row(broken.subscriptionId).id), attempts: 2, lastStatus: 500, lastError: expect.stringMatching(/^failed_after_attempts: .*500/) }),
        },
        {
          reason: 'subscription_gone',
          status: 'expired',
          count: 1,
          example: expect.objectContaining({ deliveryId: String(row(gone.subscriptionId).id), lastStatus: 410 }),
        },
      ]),
    );
    // The time is given only where the delivery will go again.
    expect(problems.filter((p) => p.example.until !== undefined).map((p) => p.reason)).toEqual(['quiet_hours']);
    expect(new Date(quietEnd).getUTCHours()).toBe((hour + 2) % 24);
  });

  it('many failures of one kind in a batch are one log line with the count and an example, not one per push', async () => {
    const w = await world({ settings: { maxAttempts: 1 } });
    for (let i = 0; i < 6; i++) await w.subscriber(mockA, { status: 400 });
    for (let i = 0; i < 3; i++) await w.subscriber(mockB, { status: 500 });
    await w.subscriber(mockB);
    await w.send();
    expect(await deliverBatch(w.deliverer)).toBe(10);

    const failures = w.logger.entries.filter((e) => e.level === 'error');
    expect(failures).toHaveLength(2);
    expect(failures.map((e) => e.message)).toEqual(['deliveries failed', 'deliveries failed']);
    const byReason = new Map(failures.map((e) => [e.fields.reason, e.fields]));
    expect(byReason.get('push_rejected')).toMatchObject({ count: 6, example: { lastStatus: 400, lastError: 'push_rejected: push service refused with 400' } });
    expect(byReason.get('failed_after_attempts')).toMatchObject({ count: 3, example: { lastStatus: 500 } });
  });
});
