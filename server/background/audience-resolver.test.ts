import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { cancelNotification, claimResolvingNotification, resolveAudienceChunk } from '../db/notifications.ts';
import { findSiteById, type SiteRow } from '../db/sites.ts';
import { createDeliverer } from '../delivery/delivery-engine.ts';
import { memoryLogger } from '../logger.ts';
import type { PushTransport } from '../push/fetch-transport.ts';
import type { PushRequest } from '../push/push-request.ts';
import { reportUrl } from '../notifications/payload.ts';
import { send, type SendRequest } from '../notifications/send.ts';
import { browserSubscription, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { startAudienceResolver } from './audience-resolver.ts';
import { everythingDue, runBackgroundRound } from './background-round.ts';

// A fixed instant: every timestamp below is relative to it.
const NOW = new Date('2030-06-01T09:00:00Z');
const NOW_MS = NOW.getTime();
const UNLIMITED = { timeMs: Number.POSITIVE_INFINITY, pushes: Number.POSITIVE_INFINITY };

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());
afterEach(async () => {
  // Each test starts from an empty outbox: a round claims whatever is due.
  await database.db.deleteFrom('deliveries').execute();
  await database.db.deleteFrom('notifications').execute();
});

/**
 * A site with `n` active subscriptions (every other one tagged `vip`), written in one statement;
 * they share one browser key pair, which is all encryption needs of them here.
 */
async function siteWith(n: number): Promise<SiteRow> {
  const created = await testSite(database.db);
  const { keys } = await browserSubscription();
  await sql`insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, tags, created_at, updated_at, last_seen_at)
    select ${created.id}, 'https://fcm.googleapis.com/fcm/send/' || gen_random_uuid(), ${keys.p256dh}, ${keys.auth}, ${created.vapidPublicKey}, 'v' || g,
      case when g % 2 = 0 then '{"vip":"yes"}'::jsonb else '{}'::jsonb end, ${NOW}, ${NOW}, ${NOW}
    from generate_series(1, ${n}) g`.execute(database.db);
  return (await findSiteById(database.db, created.id))!;
}

function toEveryone(site: SiteRow, selectors: SendRequest['to'] = { by: 'selectors', selectors: { all: true } }): SendRequest {
  return {
    site,
    source: 'api',
    kind: 'marketing',
    content: { title: 'Summer sale', body: 'Everything 20 % off', url: `${SHOP_ORIGIN}/sale` },
    to: selectors,
    ttlSeconds: 86_400,
    urgency: 'normal',
    whenTooLarge: 'refuse',
  };
}

async function deliveriesOf(notificationId: string) {
  return database.db.selectFrom('deliveries').select(['subscription_id', 'status', 'last_error']).where('notification_id', '=', notificationId).execute();
}

async function notificationRow(id: string) {
  return database.db.selectFrom('notifications').select(['resolve_state', 'audience_size', 'scanned_count', 'resolve_cursor']).where('id', '=', id).executeTakeFirstOrThrow();
}

/** Resolves chunks until none is left, as the rounds' resolver would. */
async function resolveAll(chunk: number) {
  return startAudienceResolver(database.db, { now: () => NOW_MS, deadlineMs: Number.POSITIVE_INFINITY, chunk }).done;
}

/** A push service that fails the test if anything reaches it. */
const noPushAllowed: PushTransport = {
  send: (request: PushRequest) => Promise.reject(new Error(`no push may be sent here, got one to ${request.url}`)),
};

describe('an audience written in chunks', () => {
  it('answers after the first chunk with an estimate; the workers write the rest, one delivery per subscriber', async () => {
    const site = await siteWith(25);
    const sent = await send({ db: database.db, now: NOW, reportUrl: reportUrl('https://push.example'), firstChunk: 4 }, toEveryone(site));
    expect(sent.resolving).toBe(true);
    expect(sent.audience).toBeGreaterThanOrEqual(4);
    expect(await deliveriesOf(sent.id)).toHaveLength(4);
    expect(await notificationRow(sent.id)).toMatchObject({ resolve_state: 'resolving', audience_size: 4, scanned_count: 4 });

    const report = await resolveAll(6);
    // 21 left in chunks of 6: 6, 6, 6, 3 (the short one ends it).
    expect(report).toEqual({ chunks: 4, written: 21, moreDue: false });
    const rows = await deliveriesOf(sent.id);
    expect(rows).toHaveLength(25);
    expect(new Set(rows.map((row) => row.subscription_id)).size).toBe(25);
    expect(rows.every((row) => row.status === 'queued')).toBe(true);
    expect(await notificationRow(sent.id)).toMatchObject({ resolve_state: 'done', audience_size: 25, scanned_count: 25 });
  });

  it('a small audience is complete in the answer, exact', async () => {
    const site = await siteWith(3);
    const sent = await send({ db: database.db, now: NOW, reportUrl: reportUrl('https://push.example'), firstChunk: 4 }, toEveryone(site));
    expect(sent).toMatchObject({ audience: 3, resolving: false });
    expect(await notificationRow(sent.id)).toMatchObject({ resolve_state: 'done', audience_size: 3 });
  });

  it('a tag filter walks the same chunks and writes only the tagged', async () => {
    const site = await siteWith(30);
    const sent = await send({ db: database.db, now: NOW, reportUrl: reportUrl('https://push.example'), firstChunk: 5 }, toEveryone(site, { by: 'selectors', selectors: { tags: { vip: 'yes' } } }));
    expect(sent.resolving).toBe(true);
    await resolveAll(7);
    const rows = await deliveriesOf(sent.id);
    expect(rows).toHaveLength(15);
    const tagged = await database.db.selectFrom('subscriptions').select('id').where('site_id', '=', site.id).where(sql<boolean>`tags @> '{"vip":"yes"}'`).execute();
    expect(new Set(rows.map((row) => row.subscription_id))).toEqual(new Set(tagged.map((row) => row.id)));
    expect(await notificationRow(sent.id)).toMatchObject({ resolve_state: 'done', audience_size: 15, scanned_count: 30 });
  });

  it('a chunk that dies before its commit leaves nothing behind; the next worker goes on from the last commit', async () => {
    const site = await siteWith(12);
    const sent = await send({ db: database.db, now: NOW, reportUrl: reportUrl('https://push.example'), firstChunk: 5 }, toEveryone(site));
    const before = await notificationRow(sent.id);
    await expect(
      database.db.transaction().execute(async (trx) => {
        const notification = await claimResolvingNotification(trx);
        await resolveAudienceChunk(trx, notification!, 4);
        throw new Error('the worker died here');
      }),
    ).rejects.toThrow('the worker died here');
    expect(await notificationRow(sent.id)).toEqual(before);
    expect(await deliveriesOf(sent.id)).toHaveLength(5);

    // Two workers at once: one writes, the other finds the notification locked and skips it.
    const [a, b] = await Promise.all([resolveAll(3), resolveAll(3)]);
    expect(a.written + b.written).toBe(7);
    const rows = await deliveriesOf(sent.id);
    expect(rows).toHaveLength(12);
    expect(new Set(rows.map((row) => row.subscription_id)).size).toBe(12);
  });

  it('a round sends the first chunk while the resolver writes the rest, and ends with everything sent', async () => {
    const site = await siteWith(40);
    const sent = await send({ db: database.db, now: NOW, reportUrl: reportUrl('https://push.example'), firstChunk: 5 }, toEveryone(site));
    const received: PushRequest[] = [];
    const deliverer = createDeliverer({
      db: database.db,
      config: parseConfig({ PUSHCART_PUBLIC_URL: 'https://push.example' }),
      logger: memoryLogger(),
      transport: { send: async (request) => (received.push(request), { kind: 'sent', status: 201 }) },
      now: () => NOW_MS,
      random: () => 0.5,
      settings: { batchSize: 4 },
    });
    const report = await runBackgroundRound(deliverer, { budget: UNLIMITED, timetable: everythingDue(), lanes: 2, audienceChunk: 8 });
    expect(report).toMatchObject({ claimed: 40, audienceChunks: 5, audienceRowsWritten: 35, stoppedBy: 'idle', moreDue: false });
    expect(received).toHaveLength(40);
    expect((await deliveriesOf(sent.id)).every((row) => row.status === 'sent')).toBe(true);
  });

  it('cancelled mid-send: no more chunks, and what is still queued is suppressed as cancelled, never sent', async () => {
    const site = await siteWith(20);
    const sent = await send({ db: database.db, now: NOW, reportUrl: reportUrl('https://push.example'), firstChunk: 6 }, toEveryone(site));
    expect(await cancelNotification(database.db, site.id, sent.id, new Date(NOW_MS + 1_000))).toBe(true);
    // Cancelling again changes nothing.
    expect(await cancelNotification(database.db, site.id, sent.id, new Date(NOW_MS + 2_000))).toBe(false);
    expect(await notificationRow(sent.id)).toMatchObject({ resolve_state: 'cancelled', audience_size: 6 });

    const deliverer = createDeliverer({
      db: database.db,
      config: parseConfig({ PUSHCART_PUBLIC_URL: 'https://push.example' }),
      logger: memoryLogger(),
      transport: noPushAllowed,
      now: () => NOW_MS + 2_000,
      random: () => 0.5,
    });
    const report = await runBackgroundRound(deliverer, { budget: UNLIMITED, timetable: everythingDue(), audienceChunk: 8 });
    expect(report).toMatchObject({ claimed: 6, audienceChunks: 0 });
    const rows = await deliveriesOf(sent.id);
    expect(rows).toHaveLength(6);
    expect(rows.every((row) => row.status === 'suppressed' && row.last_error!.startsWith('cancelled: '))).toBe(true);
  });
});
