import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudienceResolver } from '../background/audience-resolver.ts';
import { countSegment } from '../db/segments.ts';
import { findSiteById } from '../db/sites.ts';
import { reportUrl } from '../notifications/payload.ts';
import { send } from '../notifications/send.ts';
import { segmentDefinitionSchema } from '../segments/segment-rules.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { browserSubscription, SHOP_ORIGIN, testApp, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

// A fixed instant: "within N days" counts back from it.
const NOW = new Date('2030-06-01T09:00:00Z');
const NOW_MS = NOW.getTime();
const DAY_MS = 86_400_000;

let database: TestDatabase;
let site: CreatedSite;
let other: CreatedSite;
let app: ReturnType<typeof testApp>['app'];

/**
 * 40 active subscriptions `v1`…`v40` (and one unsubscribed, `v41`): every third speaks de-DE, every
 * fifth has a user id `u<g>`; every fourth viewed `shoes-<g>` 3 days ago, by visitor id when
 * even, else by user id — so both keys count.
 */
beforeAll(async () => {
  database = await createTestDatabase();
  site = await testSite(database.db);
  other = await testSite(database.db, ['https://other.example']);
  app = testApp(database.db, { now: () => NOW_MS, rateLimits: { perIp: { capacity: 10_000, refillPerSecond: 1_000 } } }).app;
  const { keys } = await browserSubscription();
  await sql`insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, external_user_id, locale, status, created_at, updated_at, last_seen_at)
    select ${site.id}, 'https://fcm.googleapis.com/fcm/send/' || gen_random_uuid(), ${keys.p256dh}, ${keys.auth}, ${site.vapidPublicKey}, 'v' || g,
      case when g % 5 = 0 then 'u' || g end, case when g % 3 = 0 then 'de-DE' else 'en-US' end,
      case when g = 41 then 'unsubscribed' else 'active' end, ${NOW}, ${NOW}, ${NOW}
    from generate_series(1, 41) g`.execute(database.db);
  await sql`insert into events (site_id, source, type, visitor_id, external_user_id, properties, created_at)
    select ${site.id}, 'server', 'product_viewed', case when g % 8 = 0 then 'v' || g end, case when g % 8 <> 0 then 'u' || g end,
      jsonb_build_object('productId', 'shoes-' || g, 'price', 10, 'currency', 'EUR', 'url', 'https://shop.example/p'), ${new Date(NOW_MS - 3 * DAY_MS)}
    from generate_series(4, 40, 4) g`.execute(database.db);
});
afterAll(async () => database?.destroy());

function call(method: string, path: string, body?: unknown, key = site.secretKey) {
  return app.request(path, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

const GERMAN = { match: 'all', rules: [{ type: 'language', values: ['de'] }] };
/** Viewed a shoe in the last 7 days (by visitor or user id) or speaks German; and has no tag `excluded` (none has). */
const SHOPPERS = {
  match: 'all',
  rules: [
    { match: 'any', rules: [{ type: 'product', action: 'viewed', productIdPrefix: 'shoes-', days: 7 }, { type: 'language', values: ['de'] }] },
    { type: 'tag', key: 'excluded', op: 'exists', negate: true },
  ],
};

async function deliveriesOf(notificationId: string): Promise<number> {
  const row = await database.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<string>().as('count')).where('notification_id', '=', notificationId).executeTakeFirstOrThrow();
  return Number(row.count);
}

describe('/v1/segments', () => {
  it('saves, lists, reads, renames, redefines and deletes a segment', async () => {
    const created = await call('POST', '/v1/segments', { name: 'German speakers', definition: GERMAN });
    expect(created.status).toBe(201);
    const segment = (await created.json()) as { id: string; name: string; definition: unknown; description: string; createdAt: string };
    expect(segment).toMatchObject({ name: 'German speakers', definition: GERMAN, description: 'Subscribers who speak de (any region)', createdAt: NOW.toISOString() });

    const listed = (await (await call('GET', '/v1/segments')).json()) as { segments: Array<{ id: string }> };
    expect(listed.segments.map((s) => s.id)).toContain(segment.id);
    expect((await call('GET', `/v1/segments/${segment.id}`)).status).toBe(200);

    const renamed = await call('PATCH', `/v1/segments/${segment.id}`, { name: 'Deutsch', definition: SHOPPERS });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ id: segment.id, name: 'Deutsch', definition: SHOPPERS });

    expect((await call('DELETE', `/v1/segments/${segment.id}`)).status).toBe(204);
    expect((await call('GET', `/v1/segments/${segment.id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/segments/${segment.id}`)).status).toBe(404);
  });

  it('refuses unknown fields (in the body and in a rule), bad rules, and a name the site has in another case', async () => {
    const extra = await call('POST', '/v1/segments', { name: 'x', definition: GERMAN, colour: 'red' });
    expect(extra.status).toBe(400);
    expect((await errorOf(extra)).code).toBe('validation_failed');
    expect((await call('POST', '/v1/segments', { name: 'x', definition: { match: 'all', rules: [{ type: 'language', values: ['de'], extra: 1 }] } })).status).toBe(400);
    expect((await call('POST', '/v1/segments', { name: 'x', definition: { match: 'all', rules: [{ type: 'product', action: 'viewed', days: 0 }] } })).status).toBe(400);
    expect((await call('POST', '/v1/segments/count', { definition: GERMAN, name: 'x' })).status).toBe(400);

    expect((await call('POST', '/v1/segments', { name: 'VIP', definition: GERMAN })).status).toBe(201);
    const taken = await call('POST', '/v1/segments', { name: 'vip', definition: GERMAN });
    expect(taken.status).toBe(400);
    expect((await errorOf(taken)).message).toMatch(/already has a segment called/);
  });

  it('keeps each site’s segments to itself, and needs the secret key', async () => {
    const created = (await (await call('POST', '/v1/segments', { name: 'Mine', definition: GERMAN })).json()) as { id: string };
    expect((await call('GET', `/v1/segments/${created.id}`, undefined, other.secretKey)).status).toBe(404);
    expect((await call('GET', `/v1/segments/${created.id}/count`, undefined, other.secretKey)).status).toBe(404);
    expect((await call('PATCH', `/v1/segments/${created.id}`, { name: 'Theirs' }, other.secretKey)).status).toBe(404);
    expect((await call('GET', '/v1/segments/not-a-uuid')).status).toBe(404);
    expect((await call('GET', '/v1/segments', undefined, site.publishableKey)).status).toBe(403);
    expect((await app.request('/v1/segments')).status).toBe(401);
  });

  it('counts a saved segment and an unsaved definition: active subscribers only, and says when it is everyone', async () => {
    const created = (await (await call('POST', '/v1/segments', { name: 'Shoppers', definition: SHOPPERS })).json()) as { id: string };
    const counted = await call('GET', `/v1/segments/${created.id}/count`);
    expect(counted.status).toBe(200);
    // German: 3, 6, …, 39 (13); viewed a shoe: by visitor id 8, 16, 24, 32, 40, by user id 20 (u4,
    // u12, … are nobody's); both: 24. 13 + 6 - 1.
    expect(await counted.json()).toMatchObject({ matching: 18, active: 40, matchesEveryone: false });
    const everyone = await call('POST', '/v1/segments/count', { definition: { match: 'all', rules: [{ type: 'subscribed', op: 'within_days', days: 1 }] } });
    expect(await everyone.json()).toMatchObject({ matching: 40, active: 40, matchesEveryone: true, description: 'Subscribers who subscribed in the last 1 day' });
  });
});

describe('sending to a segment', () => {
  const message = (to: unknown) => ({ title: 'Shoe sale', url: `${SHOP_ORIGIN}/sale`, to });

  it('to.segment writes exactly the deliveries the count said', async () => {
    const expected = await countSegment(database.db, site.id, segmentDefinitionSchema.parse(SHOPPERS), NOW);
    const response = await call('POST', '/v1/notifications', message({ segment: SHOPPERS }));
    expect(response.status).toBe(202);
    const sent = (await response.json()) as { id: string; audience: number; resolving: boolean };
    expect(sent).toMatchObject({ audience: expected.matching, resolving: false });
    expect(await deliveriesOf(sent.id)).toBe(expected.matching);
    expect(expected.matching).toBe(18);
  });

  it('to.segmentId sends to the saved rules, stored inline; another site’s segment is a 404; a segment with another selector a 400', async () => {
    const created = (await (await call('POST', '/v1/segments', { name: 'Deutsch', definition: GERMAN })).json()) as { id: string };
    const response = await call('POST', '/v1/notifications', message({ segmentId: created.id }));
    expect(response.status).toBe(202);
    const sent = (await response.json()) as { id: string; audience: number };
    expect(sent.audience).toBe(13);
    const stored = await database.db.selectFrom('notifications').select('audience').where('id', '=', sent.id).executeTakeFirstOrThrow();
    expect(stored.audience).toEqual({ segmentId: created.id, segment: GERMAN });

    const theirs = (await (await call('POST', '/v1/segments', { name: 'Theirs', definition: GERMAN }, other.secretKey)).json()) as { id: string };
    const notFound = await call('POST', '/v1/notifications', message({ segmentId: theirs.id }));
    expect(notFound.status).toBe(404);
    expect(await errorOf(notFound)).toMatchObject({ code: 'not_found' });
    expect((await call('POST', '/v1/notifications', message({ segment: GERMAN, tags: { plan: 'gold' } }))).status).toBe(400);
    expect((await call('POST', '/v1/notifications', message({ segment: GERMAN, segmentId: created.id }))).status).toBe(400);
  });

  it('written in chunks (a small first chunk, then the workers’ chunks), the audience is still exactly the count', async () => {
    const def = segmentDefinitionSchema.parse(SHOPPERS);
    const expected = await countSegment(database.db, site.id, def, NOW);
    const siteRow = (await findSiteById(database.db, site.id))!;
    const sent = await send(
      { db: database.db, now: NOW, reportUrl: reportUrl('https://push.example'), firstChunk: 3 },
      {
        site: siteRow,
        source: 'api',
        kind: 'marketing',
        content: { title: 'Shoe sale', body: '', url: `${SHOP_ORIGIN}/sale` },
        to: { by: 'selectors', selectors: { segment: def } },
        ttlSeconds: 3600,
        urgency: 'normal',
        whenTooLarge: 'refuse',
      },
    );
    expect(sent.resolving).toBe(true);
    // The workers resolve later than the send: "within 7 days" still counts back from the send.
    await startAudienceResolver(database.db, { now: () => NOW_MS + 6 * DAY_MS, deadlineMs: Number.POSITIVE_INFINITY, chunk: 4 }).done;
    const row = await database.db.selectFrom('notifications').select(['resolve_state', 'audience_size']).where('id', '=', sent.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ resolve_state: 'done', audience_size: expected.matching });
    expect(await deliveriesOf(sent.id)).toBe(expected.matching);
  });
});
