import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config.ts';
import { memoryLogger } from '../logger.ts';
import { nodePushTransport } from '../runtime/node/push-transport.ts';
import { createSite } from '../sites/create-site.ts';
import { SHOP_ORIGIN, setEngagement, testApp } from '../testing/fixtures.ts';
import { startMockPushService, type MockPushService } from '../testing/mock-push-service.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { createDeliverer, deliverBatch, KEY_UNAVAILABLE_HOLD_MS } from './delivery-engine.ts';

const MASTER_KEY = 'm'.repeat(43);
const WRONG_MASTER_KEY = 'w'.repeat(43);

let database: TestDatabase;
let mock: MockPushService;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  [database, mock] = await Promise.all([createTestDatabase(), startMockPushService()]);
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await mock?.close();
  await database?.destroy();
});

/** A site whose VAPID key is sealed with MASTER_KEY, three subscribers at the mock, and one send queued to them. */
async function sealedSiteWithQueuedSend() {
  const env = { PUSHCART_PUSH_HOSTS: mock.host, PUSHCART_PUBLIC_URL: 'https://push.shop.example', PUSHCART_MASTER_KEY: MASTER_KEY };
  const site = await createSite(database.db, { name: 'Sealed shop', origins: [SHOP_ORIGIN] }, MASTER_KEY);
  await setEngagement(database.db, site.id, { quietHours: false });
  const clock = { nowMs: Date.now() };
  const { app } = testApp(database.db, { env, now: () => clock.nowMs, rateLimits: { perIp: { capacity: 100_000, refillPerSecond: 1_000 } } });
  for (let i = 0; i < 3; i++) {
    const subscription = await mock.subscribe({ applicationServerKey: site.vapidPublicKey });
    const response = await app.request('/v1/subscriptions', {
      method: 'POST',
      headers: { Authorization: `Bearer ${site.publishableKey}`, Origin: SHOP_ORIGIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ subscription: { endpoint: subscription.endpoint, keys: subscription.keys }, visitorId: `visitor-${subscription.id}`.slice(0, 64) }),
    });
    expect(response.status).toBe(201);
  }
  const sent = await app.request('/v1/notifications', {
    method: 'POST',
    headers: { Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Back in stock', body: 'The blue one', url: `${SHOP_ORIGIN}/p/1`, to: { all: true } }),
  });
  expect(sent.status).toBe(202);
  const { id } = (await sent.json()) as { id: string };
  return { site, clock, notificationId: id, env };
}

function delivererWith(config: Config, clock: { nowMs: number }) {
  const push = nodePushTransport({ ca: mock.ca, timeoutMs: 5_000 });
  closers.push(push.close);
  const logger = memoryLogger();
  const deliverer = createDeliverer({ db: database.db, config, logger, transport: push.transport, now: () => clock.nowMs, random: () => 0.5 });
  return { deliverer, logger };
}

async function deliveriesOf(notificationId: string) {
  return database.db.selectFrom('deliveries').selectAll().where('notification_id', '=', notificationId).execute();
}

describe('a VAPID key that cannot be opened at send time', () => {
  for (const [situation, masterKey] of [
    ['no master key', undefined],
    ['a wrong master key', WRONG_MASTER_KEY],
  ] as const) {
    it(`with ${situation}: the deliveries stay queued, no attempt spent, one log line per site; the right key sends them`, async () => {
      const world = await sealedSiteWithQueuedSend();
      const misconfigured = delivererWith(parseConfig({ ...world.env, PUSHCART_MASTER_KEY: masterKey }), world.clock);
      const before = mock.received.length;

      expect(await deliverBatch(misconfigured.deliverer)).toBe(3);
      const held = await deliveriesOf(world.notificationId);
      expect(held.map((row) => row.status)).toEqual(['queued', 'queued', 'queued']);
      for (const row of held) {
        expect(row.attempts).toBe(0);
        expect(row.last_error).toMatch(/^vapid_key_unavailable: .*PUSHCART_MASTER_KEY/);
        expect(row.due_at.getTime()).toBe(world.clock.nowMs + KEY_UNAVAILABLE_HOLD_MS);
      }

      // Due again a little later, still held: the log says it once for the site, not per push or per round.
      world.clock.nowMs += KEY_UNAVAILABLE_HOLD_MS / 2;
      await database.db.updateTable('deliveries').set({ due_at: new Date(world.clock.nowMs) }).where('notification_id', '=', world.notificationId).execute();
      expect(await deliverBatch(misconfigured.deliverer)).toBe(3);
      const lines = misconfigured.logger.entries.filter((entry) => entry.level === 'error');
      expect(lines).toHaveLength(1);
      expect(lines[0]!.fields).toMatchObject({ siteId: world.site.id });
      expect(String(lines[0]!.fields.error)).toMatch(/PUSHCART_MASTER_KEY/);
      expect((await deliveriesOf(world.notificationId)).every((row) => row.status === 'queued' && row.attempts === 0)).toBe(true);
      expect(mock.received.length).toBe(before);

      // The operator fixes the setting: once due, they go out, as if nothing had happened.
      world.clock.nowMs += KEY_UNAVAILABLE_HOLD_MS;
      const fixed = delivererWith(parseConfig(world.env), world.clock);
      expect(await deliverBatch(fixed.deliverer)).toBe(3);
      expect((await deliveriesOf(world.notificationId)).map((row) => row.status)).toEqual(['sent', 'sent', 'sent']);
      expect(mock.received.length).toBe(before + 3);
    });
  }
});
