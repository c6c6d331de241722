import { AUDIT_RETENTION_DAYS } from '../audit/audit-log.ts';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { upsertCart } from '../db/carts.ts';
import { IDEMPOTENCY_RETENTION_SECONDS } from '../db/idempotency-keys.ts';
import { insertUser } from '../db/users.ts';
import { createDeliverer, type DeliverySettings } from '../delivery/delivery-engine.ts';
import { memoryLogger } from '../logger.ts';
import type { PushTransport } from '../push/fetch-transport.ts';
import type { PushRequest } from '../push/push-request.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { browserSubscription, queueTestSend, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { CARTS_PER_SCAN } from '../triggers/due-triggers.ts';
import { everythingDue, HOUSEKEEPING_EVERY_MS, runBackgroundRound } from './background-round.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());
afterEach(async () => {
  await database.db.deleteFrom('deliveries').execute();
  await database.db.deleteFrom('notifications').execute();
  await database.db.deleteFrom('carts').execute();
  await database.db.deleteFrom('idempotency_keys').execute();
});

const MINUTE_MS = 60_000;
const UNLIMITED = { timeMs: Number.POSITIVE_INFINITY, pushes: Number.POSITIVE_INFINITY };

/** A push service that accepts everything and remembers what it got; `onSend` may move the clock. */
function acceptingTransport(onSend: () => void = () => {}): PushTransport & { received: PushRequest[] } {
  const received: PushRequest[] = [];
  return {
    received,
    async send(request) {
      received.push(request);
      onSend();
      return { kind: 'sent', status: 201 };
    },
  };
}

/** A fixed clock the test moves by hand, a site, and a deliverer on both. */
async function world(options: { settings?: Partial<DeliverySettings>; onSend?: (clock: { nowMs: number }) => void } = {}) {
  const clock = { nowMs: Date.now() };
  const site = await testSite(database.db);
  const transport = acceptingTransport(() => options.onSend?.(clock));
  const logger = memoryLogger();
  const deliverer = createDeliverer({
    db: database.db,
    config: parseConfig({ PUSHCART_PUBLIC_URL: 'https://push.shop.example' }),
    logger,
    transport,
    now: () => clock.nowMs,
    random: () => 0.5,
    ...(options.settings ? { settings: options.settings } : {}),
  });
  return { clock, site, transport, logger, deliverer };
}

async function subscribe(site: CreatedSite, visitorId: string): Promise<string> {
  const subscription = await browserSubscription();
  const row = await database.db
    .insertInto('subscriptions')
    .values({ site_id: site.id, endpoint: subscription.endpoint, p256dh: subscription.keys.p256dh, auth: subscription.keys.auth, vapid_public_key: site.vapidPublicKey, visitor_id: visitorId })
    .returning('endpoint')
    .executeTakeFirstOrThrow();
  return row.endpoint;
}


async function storeIdempotencyKey(site: CreatedSite, key: string, createdAtMs: number): Promise<void> {
  await database.db
    .insertInto('idempotency_keys')
    .values({ site_id: site.id, key, request_hash: 'hash', response_status: 202, response_body: '{}', created_at: new Date(createdAtMs) })
    .execute();
}

async function idempotencyKeysLeft(site: CreatedSite): Promise<string[]> {
  const rows = await database.db.selectFrom('idempotency_keys').select('key').where('site_id', '=', site.id).orderBy('key').execute();
  return rows.map((row) => row.key);
}

async function deliveryStatuses(notificationIds: string[]): Promise<string[]> {
  const rows = await database.db.selectFrom('deliveries').select('status').where('notification_id', 'in', notificationIds).execute();
  return rows.map((row) => row.status).sort();
}

describe('runBackgroundRound', () => {
  it('in one round: fires due cart reminders past a full scan page, delivers them and what the API queued, and purges expired idempotency keys', async () => {
    const { clock, site, transport, deliverer } = await world();
    const reminderEndpoint = await subscribe(site, 'round-visitor-last');
    const cartCount = CARTS_PER_SCAN + 5;
    const openedAtMs = clock.nowMs;
    for (let i = 0; i < cartCount; i++) {
      // The last cart falls due last, so it is on the second page of the scan.
      await upsertCart(
        database.db,
        {
          siteId: site.id,
          cartId: `round-cart-${String(i).padStart(3, '0')}`,
          visitorId: i === cartCount - 1 ? 'round-visitor-last' : `round-visitor-${i}`,
          externalUserId: null,
          items: [{ productId: 'p1', name: 'Mug', price: 9, quantity: 1 }],
          total: 9,
          currency: 'EUR',
          url: `${SHOP_ORIGIN}/cart`,
        },
        new Date(openedAtMs + i),
        [60, 1440],
      );
    }
    clock.nowMs = openedAtMs + 61 * MINUTE_MS;
    const sendId = await queueTestSend(database.db, site.id, clock.nowMs);
    const retentionMs = IDEMPOTENCY_RETENTION_SECONDS * 1000;
    await storeIdempotencyKey(site, 'expired', clock.nowMs - retentionMs - MINUTE_MS);
    await storeIdempotencyKey(site, 'kept', clock.nowMs - retentionMs + MINUTE_MS);

    const report = await runBackgroundRound(deliverer, { budget: UNLIMITED, timetable: everythingDue() });

    expect(report).toMatchObject({ cartReminders: { carts: cartCount, queued: 1 }, purgedIdempotencyKeys: 1, stoppedBy: 'idle', moreDue: false });
    const reminded = await database.db.selectFrom('carts').select('cart_id').where('site_id', '=', site.id).where('reminders_sent', '=', 1).execute();
    expect(reminded).toHaveLength(cartCount);
    const reminder = await database.db.selectFrom('notifications').select('id').where('site_id', '=', site.id).where('source', '=', 'cart_reminder').executeTakeFirstOrThrow();
    expect(await deliveryStatuses([reminder.id, sendId])).toEqual(['sent', 'sent']);
    // The subscriber got two pushes: the API send and the reminder of the cart on the second page.
    expect(transport.received.map((request) => request.url)).toEqual([reminderEndpoint, reminderEndpoint]);
    expect(await idempotencyKeysLeft(site)).toEqual(['kept']);
  });

  it('stops claiming at its push budget and says more is due; the next round sends the rest', async () => {
    const { clock, site, transport, deliverer } = await world({ settings: { batchSize: 2 } });
    await subscribe(site, 'budget-visitor');
    const sends = [];
    for (let i = 0; i < 5; i++) sends.push(await queueTestSend(database.db, site.id, clock.nowMs));

    const first = await runBackgroundRound(deliverer, { budget: { timeMs: Number.POSITIVE_INFINITY, pushes: 4 }, timetable: everythingDue(), lanes: 1 });
    expect(first).toMatchObject({ claimed: 4, batches: 2, stoppedBy: 'push_budget', moreDue: true });
    expect(transport.received).toHaveLength(4);

    const second = await runBackgroundRound(deliverer, { budget: { timeMs: Number.POSITIVE_INFINITY, pushes: 4 }, timetable: everythingDue(), lanes: 1 });
    expect(second).toMatchObject({ claimed: 1, stoppedBy: 'idle', moreDue: false });
    expect(await deliveryStatuses(sends)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
  });

  it('lanes side by side share one push budget', async () => {
    const { clock, site, transport, deliverer } = await world({ settings: { batchSize: 1 } });
    await subscribe(site, 'lanes-visitor');
    for (let i = 0; i < 6; i++) await queueTestSend(database.db, site.id, clock.nowMs);

    const report = await runBackgroundRound(deliverer, { budget: { timeMs: Number.POSITIVE_INFINITY, pushes: 4 }, timetable: everythingDue(), lanes: 3 });

    expect(report).toMatchObject({ claimed: 4, stoppedBy: 'push_budget', moreDue: true });
    expect(transport.received).toHaveLength(4);
  });

  it('a lane that finds the outbox empty ends the round as idle, though other lanes stopped at the budget', async () => {
    const { clock, site, deliverer } = await world({ settings: { batchSize: 1 } });
    await subscribe(site, 'idle-lanes-visitor');
    await queueTestSend(database.db, site.id, clock.nowMs);

    // Two lanes claim side by side, one gets the push and the other nothing; the third never gets
    // budget to claim, nor does the first after its push.
    const report = await runBackgroundRound(deliverer, { budget: { timeMs: Number.POSITIVE_INFINITY, pushes: 2 }, timetable: everythingDue(), lanes: 3 });

    expect(report).toMatchObject({ claimed: 1, stoppedBy: 'idle', moreDue: false });
  });

  it('a round that could claim nothing within its budget does not say more is due', async () => {
    const { clock, site, transport, deliverer } = await world({ settings: { batchSize: 10 } });
    await subscribe(site, 'tiny-budget-visitor');
    await queueTestSend(database.db, site.id, clock.nowMs);

    const report = await runBackgroundRound(deliverer, { budget: { timeMs: Number.POSITIVE_INFINITY, pushes: 5 }, timetable: everythingDue(), lanes: 1 });

    // Else whoever runs rounds back to back would start empty rounds without end.
    expect(report).toMatchObject({ claimed: 0, stoppedBy: 'push_budget', moreDue: false });
    expect(transport.received).toEqual([]);
  });

  it('starts no new batch once its time budget is spent, and says more is due', async () => {
    // Every push takes a second on the test's clock.
    const { clock, site, transport, deliverer } = await world({ settings: { batchSize: 1 }, onSend: (c) => (c.nowMs += 1_000) });
    await subscribe(site, 'time-visitor');
    for (let i = 0; i < 5; i++) await queueTestSend(database.db, site.id, clock.nowMs);

    const report = await runBackgroundRound(deliverer, { budget: { timeMs: 2_500, pushes: Number.POSITIVE_INFINITY }, timetable: everythingDue(), lanes: 1 });

    expect(report).toMatchObject({ claimed: 3, batches: 3, stoppedBy: 'time_budget', moreDue: true, elapsedMs: 3_000 });
    expect(transport.received).toHaveLength(3);
  });

  it('runs housekeeping when its timetable says so, not every round', async () => {
    const { clock, site, deliverer } = await world();
    const retentionMs = IDEMPOTENCY_RETENTION_SECONDS * 1000;
    const timetable = everythingDue();

    await storeIdempotencyKey(site, 'first', clock.nowMs - retentionMs - MINUTE_MS);
    expect(await runBackgroundRound(deliverer, { budget: UNLIMITED, timetable })).toMatchObject({ purgedIdempotencyKeys: 1 });

    // Expired by the next round, but housekeeping is not due again yet.
    await storeIdempotencyKey(site, 'second', clock.nowMs - retentionMs - MINUTE_MS);
    clock.nowMs += MINUTE_MS;
    expect(await runBackgroundRound(deliverer, { budget: UNLIMITED, timetable })).toMatchObject({ purgedIdempotencyKeys: null });
    expect(await idempotencyKeysLeft(site)).toEqual(['second']);

    clock.nowMs += HOUSEKEEPING_EVERY_MS;
    expect(await runBackgroundRound(deliverer, { budget: UNLIMITED, timetable })).toMatchObject({ purgedIdempotencyKeys: 1 });
    expect(await idempotencyKeysLeft(site)).toEqual([]);
  });

  it('purges dashboard sessions past their idle or absolute limit and expired password links and invites, used or not, on its own clock', async () => {
    const { clock, site, deliverer } = await world();
    // A fixed moment, far from the wall clock: the purge must go by the round's clock.
    const nowMs = Date.UTC(2031, 5, 10, 8, 0, 0);
    clock.nowMs = nowMs;
    const at = (offsetMs: number) => new Date(nowMs + offsetMs);
    const HOUR = 60 * MINUTE_MS;
    const DAY = 24 * HOUR;
    const user = (await insertUser(database.db, { email: `purge-${site.id}@shop.example` }, at(-30 * DAY)))!;
    const session = (label: string, createdMs: number, lastSeenMs: number) => ({
      token_hash: `session-${label}-${site.id}`,
      user_id: user.id,
      created_at: at(createdMs),
      last_seen_at: at(lastSeenMs),
      user_agent: label,
    });
    await database.db
      .insertInto('sessions')
      .values([
        session('live', -13 * DAY, -11 * HOUR),
        session('idle', -1 * DAY, -12 * HOUR - MINUTE_MS),
        session('too-old', -14 * DAY - MINUTE_MS, -MINUTE_MS),
      ])
      .execute();
    const link = (label: string, expiresMs: number, usedMs: number | null) => ({
      token_hash: `link-${label}-${site.id}`,
      user_id: user.id,
      purpose: 'set' as const,
      created_by: null,
      created_at: at(expiresMs - DAY),
      expires_at: at(expiresMs),
      used_at: usedMs === null ? null : at(usedMs),
      revoked_at: null,
    });
    await database.db
      .insertInto('password_links')
      .values([link('waiting', HOUR, null), link('expired', -MINUTE_MS, null), link('used-then-expired', -MINUTE_MS, -2 * HOUR)])
      .execute();
    const invite = (label: string, expiresMs: number, usedMs: number | null) => ({
      token_hash: `invite-${label}-${site.id}`,
      site_id: site.id,
      email: `${label}@shop.example`,
      role: 'viewer' as const,
      created_by: user.id,
      created_at: at(expiresMs - 7 * DAY),
      expires_at: at(expiresMs),
      used_at: usedMs === null ? null : at(usedMs),
      used_by: null,
      revoked_at: null,
    });
    await database.db
      .insertInto('invites')
      .values([invite('pending', DAY, null), invite('expired', -MINUTE_MS, null), invite('used-then-expired', -MINUTE_MS, -3 * DAY)])
      .execute();

    // The audit log keeps AUDIT_RETENTION_DAYS: one entry a day past it goes, one a day short of it stays.
    const auditEntry = (label: string, ageMs: number) => ({
      site_id: site.id,
      at: at(-ageMs),
      actor_kind: 'admin_token' as const,
      actor_id: null,
      actor_label: 'admin token',
      action: 'settings_changed',
      target: label,
      details: JSON.stringify({ sections: [] }),
    });
    await database.db
      .insertInto('audit_log')
      .values([auditEntry('past-retention', (AUDIT_RETENTION_DAYS + 1) * DAY), auditEntry('within-retention', (AUDIT_RETENTION_DAYS - 1) * DAY)])
      .execute();

    const report = await runBackgroundRound(deliverer, { budget: UNLIMITED, timetable: everythingDue() });

    expect(report.purgedDashboardRecords).toEqual({ sessions: 2, passwordLinks: 2, invites: 2, auditEntries: 1 });
    const auditLeft = await database.db.selectFrom('audit_log').select('target').where('site_id', '=', site.id).execute();
    expect(auditLeft).toEqual([{ target: 'within-retention' }]);
    const sessionsLeft = await database.db.selectFrom('sessions').select('user_agent').where('user_id', '=', user.id).execute();
    expect(sessionsLeft).toEqual([{ user_agent: 'live' }]);
    const linksLeft = await database.db.selectFrom('password_links').select('token_hash').where('user_id', '=', user.id).execute();
    expect(linksLeft).toEqual([{ token_hash: `link-waiting-${site.id}` }]);
    const invitesLeft = await database.db.selectFrom('invites').select('email').where('site_id', '=', site.id).execute();
    expect(invitesLeft).toEqual([{ email: 'pending@shop.example' }]);
  });

  it('a failing delivery batch fails the round after the cart scan and the purge have run', async () => {
    const { clock, site, deliverer } = await world();
    await storeIdempotencyKey(site, 'old', clock.nowMs - IDEMPOTENCY_RETENTION_SECONDS * 1000 - MINUTE_MS);
    await subscribe(site, 'failing-visitor');
    await queueTestSend(database.db, site.id, clock.nowMs);
    // The outbox refuses every write, the claim included (say Postgres lost its disk for it).
    await sql`create or replace function pushcart_test_refuse() returns trigger language plpgsql as $$ begin raise exception 'outbox unavailable'; end $$`.execute(database.db);
    await sql`create trigger pushcart_test_refuse before update on deliveries for each row execute function pushcart_test_refuse()`.execute(database.db);
    try {
      await expect(runBackgroundRound(deliverer, { budget: UNLIMITED, timetable: everythingDue() })).rejects.toThrow(/outbox unavailable/);
    } finally {
      await sql`drop trigger if exists pushcart_test_refuse on deliveries`.execute(database.db);
      await sql`drop function if exists pushcart_test_refuse()`.execute(database.db);
    }
    expect(await idempotencyKeysLeft(site)).toEqual([]);
  });
});
