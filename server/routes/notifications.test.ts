import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startAudienceResolver } from '../background/audience-resolver.ts';
import { FIRST_CHUNK_SUBSCRIPTIONS } from '../db/notifications.ts';
import { PRIORITY } from '../delivery/engagement-rules.ts';
import { MAX_PAYLOAD_BYTES } from '../notifications/payload.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { browserHeaders, browserSubscription, SHOP_ORIGIN, testApp, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

let database: TestDatabase;
let site: CreatedSite;
let app: ReturnType<typeof testApp>['app'];
const queued: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  site = await testSite(database.db);
  app = testApp(database.db, {
    rateLimits: { perIp: { capacity: 10_000, refillPerSecond: 1_000 } },
    onNotificationQueued: (id) => void queued.push(id),
  }).app;
});
afterAll(async () => database?.destroy());

async function subscribe(forSite: CreatedSite, visitorId: string, origin = SHOP_ORIGIN): Promise<string> {
  const response = await app.request('/v1/subscriptions', {
    method: 'POST',
    headers: browserHeaders(forSite, origin),
    body: JSON.stringify({ subscription: await browserSubscription(), visitorId }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

function send(body: unknown, headers: Record<string, string> = {}, key = site.secretKey) {
  return app.request('/v1/notifications', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

const message = (to: unknown, extra: Record<string, unknown> = {}) => ({
  title: 'Your cart misses you',
  body: 'The blue sneakers are still there',
  url: `${SHOP_ORIGIN}/cart`,
  to,
  ...extra,
});

async function deliveriesOf(id: string): Promise<string[]> {
  const rows = await database.db.selectFrom('deliveries').select('subscription_id').where('notification_id', '=', id).execute();
  return rows.map((row) => row.subscription_id ?? '(erased)').sort();
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe('POST /v1/notifications audiences', () => {
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    alice = await subscribe(site, 'visitor-alice');
    bob = await subscribe(site, 'visitor-bob');
    carol = await subscribe(site, 'visitor-carol');
    await database.db.updateTable('subscriptions').set({ external_user_id: 'user-42', tags: JSON.stringify({ plan: 'vip', lang: 'de' }) }).where('id', '=', bob).execute();
    await database.db.updateTable('subscriptions').set({ status: 'unsubscribed' }).where('id', '=', carol).execute();
    const other = await testSite(database.db, ['https://other.example']);
    await subscribe(other, 'visitor-other', 'https://other.example');
  });

  it('all: one delivery per active subscription of this site, none for opted-out or other sites', async () => {
    const response = await send(message({ all: true }));
    expect(response.status).toBe(202);
    const { id, audience } = (await response.json()) as { id: string; audience: number };
    expect(audience).toBe(2);
    expect(await deliveriesOf(id)).toEqual([alice, bob].sort());
    expect(queued).toContain(id);
  });

  it.each([
    ['subscriptionIds', () => ({ subscriptionIds: [alice] }), () => [alice]],
    ['externalUserIds', () => ({ externalUserIds: ['user-42'] }), () => [bob]],
    ['visitorIds', () => ({ visitorIds: ['visitor-alice', 'visitor-bob'] }), () => [alice, bob]],
    ['tags', () => ({ tags: { plan: 'vip' } }), () => [bob]],
    ['tags that nobody has', () => ({ tags: { plan: 'vip', lang: 'fr' } }), () => []],
    ['an opted-out subscription id', () => ({ subscriptionIds: [carol] }), () => []],
  ])('%s', async (_label, to, expected) => {
    const response = await send(message(to()));
    expect(response.status).toBe(202);
    const { id, audience } = (await response.json()) as { id: string; audience: number };
    expect(await deliveriesOf(id)).toEqual(expected().sort());
    expect(audience).toBe(expected().length);
  });

  it('queues a transactional send ahead of marketing ones: its deliveries carry the higher priority', async () => {
    const priorityOf = async (kind: string) => {
      const { id } = (await (await send(message({ all: true }, { kind }))).json()) as { id: string };
      const rows = await database.db.selectFrom('deliveries').select('priority').distinct().where('notification_id', '=', id).execute();
      return rows.map((row) => row.priority);
    };
    expect(await priorityOf('transactional')).toEqual([PRIORITY.transactional]);
    expect(await priorityOf('marketing')).toEqual([PRIORITY.campaign]);
  });

  it('reports status and counts', async () => {
    const { id } = (await (await send(message({ all: true }))).json()) as { id: string };
    const response = await app.request(`/v1/notifications/${id}`, { headers: { Authorization: `Bearer ${site.secretKey}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id,
      status: 'sending',
      audience: 2,
      counts: { queued: 2, sent: 0, failed: 0, expired: 0, suppressed: 0, shown: 0, clicked: 0, dismissed: 0, converted: 0 },
    });
    const other = await testSite(database.db, ['https://third.example']);
    const foreign = await app.request(`/v1/notifications/${id}`, { headers: { Authorization: `Bearer ${other.secretKey}` } });
    expect(foreign.status).toBe(404);
  });
});

describe('a send to a large audience', () => {
  let big: CreatedSite;
  const status = async (id: string, forSite = big) => {
    const response = await app.request(`/v1/notifications/${id}`, { headers: { Authorization: `Bearer ${forSite.secretKey}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as { status: string; audience: number; cancelledAt: string | null; progress: Record<string, unknown>; counts: Record<string, number> };
  };
  const cancel = (id: string, forSite = big) => app.request(`/v1/notifications/${id}/cancel`, { method: 'POST', headers: { Authorization: `Bearer ${forSite.secretKey}` } });

  beforeAll(async () => {
    big = await testSite(database.db, [SHOP_ORIGIN, 'https://big.example']);
    // More than the first chunk the request writes itself (FIRST_CHUNK_SUBSCRIPTIONS, 1,000).
    await sql`insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id)
      select ${big.id}, 'https://fcm.googleapis.com/fcm/send/' || gen_random_uuid(), 'B', 'a', ${big.vapidPublicKey}, 'v' || g
      from generate_series(1, 1500) g`.execute(database.db);
  });

  it('answers at once with an estimate, shows progress while the workers write the rest, then the exact audience', async () => {
    const response = await send(message({ all: true }), {}, big.secretKey);
    expect(response.status).toBe(202);
    const answer = (await response.json()) as { id: string; audience: number; resolving: boolean };
    expect(answer.resolving).toBe(true);
    // From the first 1,000 random ids of 1,500: off by a few per cent at most.
    expect(Math.abs(answer.audience - 1500)).toBeLessThan(400);
    expect(queued).toContain(answer.id);
    expect(await status(answer.id)).toMatchObject({
      status: 'sending',
      audience: FIRST_CHUNK_SUBSCRIPTIONS,
      progress: { resolving: true, resolved: FIRST_CHUNK_SUBSCRIPTIONS, total: answer.audience, sent: 0, etaSeconds: null },
    });

    await startAudienceResolver(database.db, { now: Date.now, deadlineMs: Number.POSITIVE_INFINITY }).done;
    expect(await status(answer.id)).toMatchObject({
      status: 'sending',
      audience: 1500,
      progress: { resolving: false, resolved: 1500, total: 1500, sent: 0, remaining: 1500, etaSeconds: null },
      counts: { queued: 1500 },
    });
  });

  it('is cancelled: its status says so at once, again changes nothing; one with nothing left stays completed', async () => {
    const { id } = (await (await send(message({ all: true }), {}, big.secretKey)).json()) as { id: string };
    const first = await cancel(id);
    expect(first.status).toBe(200);
    const cancelled = (await first.json()) as { status: string; cancelledAt: string; progress: { resolving: boolean; remaining: number } };
    expect(cancelled).toMatchObject({ status: 'cancelled', progress: { resolving: false, remaining: FIRST_CHUNK_SUBSCRIPTIONS } });
    expect(Date.parse(cancelled.cancelledAt)).not.toBeNaN();
    const again = (await (await cancel(id)).json()) as { cancelledAt: string };
    expect(again.cancelledAt).toBe(cancelled.cancelledAt);
    // No more of its audience is written.
    await startAudienceResolver(database.db, { now: Date.now, deadlineMs: Number.POSITIVE_INFINITY }).done;
    expect((await status(id)).audience).toBe(FIRST_CHUNK_SUBSCRIPTIONS);

    const small = (await (await send(message({ subscriptionIds: [await subscribe(big, 'small-one', 'https://big.example')] }), {}, big.secretKey)).json()) as { id: string };
    await database.db.updateTable('deliveries').set({ status: 'sent' }).where('notification_id', '=', small.id).execute();
    expect(await (await cancel(small.id)).json()).toMatchObject({ status: 'completed', cancelledAt: null });

    expect((await cancel(crypto.randomUUID())).status).toBe(404);
    expect((await cancel('not-an-id')).status).toBe(404);
    expect((await cancel(id, site)).status).toBe(404);
  });
});

describe('GET /v1/notifications/{id} problems', () => {
  async function notificationTo(count: number): Promise<{ id: string; deliveryIds: string[] }> {
    const visitors = await Promise.all(Array.from({ length: count }, (_, i) => subscribe(site, `visitor-problems-${crypto.randomUUID()}-${i}`)));
    const { id } = (await (await send(message({ subscriptionIds: visitors }))).json()) as { id: string };
    const rows = await database.db.selectFrom('deliveries').select('id').where('notification_id', '=', id).orderBy('id').execute();
    return { id, deliveryIds: rows.map((row) => String(row.id)) };
  }

  async function problemsOf(id: string) {
    const response = await app.request(`/v1/notifications/${id}`, { headers: { Authorization: `Bearer ${site.secretKey}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { problems: unknown[] }).problems;
  }

  it('is empty while every delivery is on its way or sent', async () => {
    const { id, deliveryIds } = await notificationTo(2);
    await database.db.updateTable('deliveries').set({ status: 'sent', last_status: 201 }).where('id', '=', deliveryIds[0]!).execute();
    expect(await problemsOf(id)).toEqual([]);
  });

  it('groups by reason code and status, counts each group and shows its first delivery, with when a waiting one goes', async () => {
    const { id, deliveryIds } = await notificationTo(6);
    const [first, second, third, fourth, fifth] = deliveryIds as [string, string, string, string, string];
    const morning = new Date('2031-03-04T08:00:00.000Z');
    await database.db
      .updateTable('deliveries')
      .set({ status: 'queued', due_at: morning, last_error: 'quiet_hours: 23:10 in Europe/Berlin is inside quiet hours 21:00–09:00; deferred until 09:00' })
      .where('id', 'in', [second, first])
      .execute();
    // A retry being sent right now still waits for the same reason: counted with the queued ones.
    await database.db.updateTable('deliveries').set({ status: 'sending', attempts: 2, last_status: 503, last_error: 'push_host_backoff: push service unavailable (503)' }).where('id', '=', third).execute();
    await database.db.updateTable('deliveries').set({ status: 'suppressed', last_error: 'quiet_hours: the TTL would elapse before quiet hours end' }).where('id', '=', fourth).execute();
    // Text without a reason code (written by an older version) is grouped as `other`, never dropped.
    await database.db.updateTable('deliveries').set({ status: 'failed', attempts: 5, last_status: 500, last_error: 'gave up after 5 attempts: push service error 500' }).where('id', '=', fifth).execute();

    const problems = await problemsOf(id);
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          reason: 'quiet_hours',
          status: 'queued',
          count: 2,
          example: {
            deliveryId: first,
            subscriptionId: expect.any(String),
            attempts: 0,
            lastStatus: null,
            lastError: expect.stringMatching(/^quiet_hours: 23:10/),
            until: morning.toISOString(),
          },
        },
        {
          reason: 'push_host_backoff',
          status: 'queued',
          count: 1,
          // Its due_at is only when the lease lapses, not when it goes again: no `until`.
          example: { deliveryId: third, subscriptionId: expect.any(String), attempts: 2, lastStatus: 503, lastError: 'push_host_backoff: push service unavailable (503)' },
        },
        { reason: 'quiet_hours', status: 'suppressed', count: 1, example: expect.not.objectContaining({ until: expect.anything() }) },
        { reason: 'other', status: 'failed', count: 1, example: expect.objectContaining({ deliveryId: fifth, attempts: 5, lastStatus: 500 }) },
      ]),
    );
    // The largest group first.
    expect(problems[0]).toMatchObject({ reason: 'quiet_hours', count: 2 });
  });
});

describe('POST /v1/notifications validation (nothing queued)', () => {
  async function expectNothingQueued(response: Response, status: number, code: string) {
    const before = await database.db.selectFrom('notifications').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
    expect(response.status).toBe(status);
    expect(await errorCode(response)).toBe(code);
    const after = await database.db.selectFrom('notifications').select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  }

  it('refuses a publishable key', async () => {
    await expectNothingQueued(await send(message({ all: true }), {}, site.publishableKey), 403, 'key_not_allowed');
  });

  it('counts bytes, not characters: 1,000 three-byte characters overflow, 1,000 ASCII do not', async () => {
    expect((await send(message({ all: true }, { body: 'a'.repeat(1000) }))).status).toBe(202);
    const response = await send(message({ all: true }, { title: '€'.repeat(400), body: '€'.repeat(1000) }));
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { code: string; message: string; details: { bytes: number; overflow: number } } };
    expect(body.error.code).toBe('payload_too_large');
    expect(body.error.details.bytes - body.error.details.overflow).toBe(MAX_PAYLOAD_BYTES);
    expect(body.error.message).toContain(`${body.error.details.overflow} over`);
  });

  it.each([
    ['a click URL off the site', { url: 'https://evil.example/cart' }],
    ['a javascript: URL', { url: 'javascript:alert(1)' }],
    ['an action URL off the site', { actions: [{ action: 'buy', title: 'Buy', url: 'https://evil.example/' }] }],
    ['three actions', { actions: [1, 2, 3].map((n) => ({ action: `a${n}`, title: `A${n}` })) }],
    ['a negative TTL', { ttl: -1 }],
    ['a TTL over 28 days', { ttl: 2_419_201 }],
    ['an unknown urgency', { urgency: 'urgent' }],
    ['a 33-character topic', { topic: 'a'.repeat(33) }],
    ['a topic outside base64url', { topic: 'cart reminder' }],
    ['an unknown field', { colour: 'red' }],
  ])('%s → 400', async (_label, extra) => {
    await expectNothingQueued(await send(message({ all: true }, extra)), 400, 'validation_failed');
  });

  it('refuses an empty audience and `all` mixed with selectors', async () => {
    await expectNothingQueued(await send(message({})), 400, 'validation_failed');
    await expectNothingQueued(await send(message({ all: true, visitorIds: ['x'] })), 400, 'validation_failed');
  });

  it('accepts TTL 0, every urgency and a 32-character topic', async () => {
    for (const urgency of ['very-low', 'low', 'normal', 'high']) {
      expect((await send(message({ all: true }, { ttl: 0, urgency, topic: 'A'.repeat(32) }))).status).toBe(202);
    }
  });
});

describe('Idempotency-Key', () => {
  async function notificationsWithTitle(title: string): Promise<number> {
    const rows = await database.db.selectFrom('notifications').select('id').where(sql<boolean>`content->>'title' = ${title}`).execute();
    return rows.length;
  }

  it('replays the first answer for the same key and body, and queues nothing twice', async () => {
    const body = message({ all: true }, { title: 'idempotent sequential' });
    const first = await send(body, { 'Idempotency-Key': 'order-1001-shipped' });
    const second = await send(body, { 'Idempotency-Key': 'order-1001-shipped' });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await second.json()).toEqual(await first.json());
    expect(await notificationsWithTitle('idempotent sequential')).toBe(1);
  });

  it('treats the same body in another key order as the same request', async () => {
    const body = message({ all: true }, { title: 'idempotent reordered' });
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    expect((await send(body, { 'Idempotency-Key': 'reordered' })).status).toBe(202);
    expect((await send(reordered, { 'Idempotency-Key': 'reordered' })).headers.get('Idempotent-Replayed')).toBe('true');
  });

  it('sends once when ten requests with one key race', async () => {
    const body = message({ all: true }, { title: 'idempotent race' });
    const responses = await Promise.all(Array.from({ length: 10 }, () => send(body, { 'Idempotency-Key': 'race-key' })));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
    const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id)));
    expect(ids.size).toBe(1);
    expect(await notificationsWithTitle('idempotent race')).toBe(1);
  });

  it('answers 409 for the same key with another body, and queues nothing', async () => {
    expect((await send(message({ all: true }, { title: 'first body' }), { 'Idempotency-Key': 'reused' })).status).toBe(202);
    const conflict = await send(message({ all: true }, { title: 'second body' }), { 'Idempotency-Key': 'reused' });
    expect(conflict.status).toBe(409);
    expect(await errorCode(conflict)).toBe('idempotency_conflict');
    expect(await notificationsWithTitle('second body')).toBe(0);
  });

  it('keeps keys apart per site', async () => {
    const other = await testSite(database.db, ['https://fourth.example']);
    const body = message({ all: true }, { title: 'per site', url: 'https://fourth.example/' });
    expect((await send({ ...body, url: `${SHOP_ORIGIN}/` }, { 'Idempotency-Key': 'shared-key' })).status).toBe(202);
    const response = await send(body, { 'Idempotency-Key': 'shared-key' }, other.secretKey);
    expect(response.status).toBe(202);
    expect(response.headers.get('Idempotent-Replayed')).toBeNull();
  });
});

describe('idempotency key retention', () => {
  it('purges keys older than the retention and keeps newer ones', async () => {
    const { purgeIdempotencyKeys, IDEMPOTENCY_RETENTION_SECONDS } = await import('../db/idempotency-keys.ts');
    expect((await send(message({ all: true }, { title: 'retention' }), { 'Idempotency-Key': 'retention-key' })).status).toBe(202);
    const nowMs = Date.now();
    expect(await purgeIdempotencyKeys(database.db, nowMs)).toBe(0);
    await purgeIdempotencyKeys(database.db, nowMs + (IDEMPOTENCY_RETENTION_SECONDS + 60) * 1000);
    const left = await database.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'retention-key').execute();
    expect(left).toHaveLength(0);
  });
});
