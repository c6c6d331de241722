import { beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database.ts';
import { browserHeaders, browserSubscription, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';
import type { CreatedSite } from '../sites/create-site.ts';

const LOTS = { capacity: 100_000, refillPerSecond: 100_000 };
const CLOCK_MS = Date.parse('2026-11-20T12:00:00Z');
const world = routeTestWorld({ now: () => CLOCK_MS, rateLimits: { perIp: LOTS, perSite: LOTS, perSecretKey: LOTS, admin: LOTS } });

const secretHeaders = (site: { secretKey: string } = world.site) => ({ Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' });

async function post(path: string, body: unknown, headers: Record<string, string>) {
  const response = await world.app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const backendTags = (body: unknown, site?: { secretKey: string }) => post('/v1/subscribers/tags', body, secretHeaders(site));
const browserTags = (body: unknown, site: { publishableKey: string } = world.site, origin = SHOP_ORIGIN) => post('/v1/subscriptions/tags', body, browserHeaders(site, origin));

/** A subscription stored as the shop's backend would find it; its id. */
async function storeSubscription(db: Db, siteId: string, fields: { visitorId: string; externalUserId?: string; status?: 'active' | 'expired' | 'unsubscribed'; tags?: Record<string, unknown>; endpoint?: string }) {
  const row = await db
    .insertInto('subscriptions')
    .values({
      site_id: siteId,
      endpoint: fields.endpoint ?? `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`,
      p256dh: 'BPublicKeyOfTheBrowser',
      auth: 'AuthSecretOfTheBrowser',
      vapid_public_key: 'BVapid',
      visitor_id: fields.visitorId,
      external_user_id: fields.externalUserId ?? null,
      tags: JSON.stringify(fields.tags ?? {}),
      status: fields.status ?? 'active',
      created_at: new Date(CLOCK_MS),
      updated_at: new Date(CLOCK_MS),
      last_seen_at: new Date(CLOCK_MS),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function tagsOf(id: string): Promise<Record<string, unknown>> {
  const row = await world.database.db.selectFrom('subscriptions').select('tags').where('id', '=', id).executeTakeFirstOrThrow();
  return row.tags;
}

const manyTags = (count: number, prefix = 'k') => Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, i]));

describe('POST /v1/subscribers/tags', () => {
  it('sets keys and removes others, keeping the rest, on one subscription by id', async () => {
    const id = await storeSubscription(world.database.db, world.site.id, { visitorId: 'tags-by-id-01', tags: { plan: 'basic', beta: true, visits: 3 } });
    const { status, body } = await backendTags({ subscriptionId: id, set: { plan: 'vip', firstName: 'Anna', score: 4.5 }, remove: ['beta', 'never-had-it'] });
    expect(status).toBe(200);
    expect(body).toEqual({ updated: 1 });
    expect(await tagsOf(id)).toEqual({ plan: 'vip', firstName: 'Anna', score: 4.5, visits: 3 });
  });

  it('changes every subscription of a user id, active or not, and none of another site', async () => {
    const other = await testSite(world.database.db, ['https://other-tags.example']);
    const mine = [
      await storeSubscription(world.database.db, world.site.id, { visitorId: 'tags-user-v1', externalUserId: 'user-tags-1' }),
      await storeSubscription(world.database.db, world.site.id, { visitorId: 'tags-user-v2', externalUserId: 'user-tags-1', status: 'unsubscribed' }),
    ];
    const theirs = await storeSubscription(world.database.db, other.id, { visitorId: 'tags-user-v3', externalUserId: 'user-tags-1' });
    const { status, body } = await backendTags({ externalUserId: 'user-tags-1', set: { plan: 'vip' } });
    expect(status).toBe(200);
    expect(body).toEqual({ updated: 2 });
    for (const id of mine) expect(await tagsOf(id)).toEqual({ plan: 'vip' });
    expect(await tagsOf(theirs)).toEqual({});
  });

  it('changes every subscription of a visitor id', async () => {
    const ids = [
      await storeSubscription(world.database.db, world.site.id, { visitorId: 'tags-visitor-1', tags: { size: 'M' } }),
      await storeSubscription(world.database.db, world.site.id, { visitorId: 'tags-visitor-1', tags: { size: 'L', colour: 'red' } }),
    ];
    const { body } = await backendTags({ visitorId: 'tags-visitor-1', remove: ['size'] });
    expect(body).toEqual({ updated: 2 });
    expect(await tagsOf(ids[0]!)).toEqual({});
    expect(await tagsOf(ids[1]!)).toEqual({ colour: 'red' });
  });

  it('composes two changes racing on one subscription (each key of both is kept)', async () => {
    const id = await storeSubscription(world.database.db, world.site.id, { visitorId: 'tags-race-001' });
    const changes = Array.from({ length: 10 }, (_, i) => backendTags({ subscriptionId: id, set: { [`key${i}`]: i } }));
    expect((await Promise.all(changes)).map((answer) => answer.status)).toEqual(Array(10).fill(200));
    expect(await tagsOf(id)).toEqual(manyTags(10, 'key'));
  });

  it('answers 404 when nothing matches (an unknown id, another site’s subscription)', async () => {
    const other = await testSite(world.database.db, ['https://other-tags-404.example']);
    const theirs = await storeSubscription(world.database.db, other.id, { visitorId: 'tags-theirs-1' });
    for (const target of [{ subscriptionId: crypto.randomUUID() }, { subscriptionId: theirs }, { externalUserId: 'nobody-at-all' }, { visitorId: 'nobody-at-all' }]) {
      const { status, body } = await backendTags({ ...target, set: { plan: 'vip' } });
      expect(status, JSON.stringify(target)).toBe(404);
      expect(body.error.code).toBe('not_found');
    }
    expect(await tagsOf(theirs)).toEqual({});
  });

  it('refuses a change that would leave a subscription with more than 50 tags, naming the limit, and changes no row', async () => {
    const full = await storeSubscription(world.database.db, world.site.id, { visitorId: 'tags-limit-01', externalUserId: 'user-limit', tags: manyTags(49) });
    const roomy = await storeSubscription(world.database.db, world.site.id, { visitorId: 'tags-limit-02', externalUserId: 'user-limit' });
    const over = await backendTags({ externalUserId: 'user-limit', set: { a: 1, b: 2 } });
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('at most 50 tags per subscription') });
    expect(over.body.error.details).toEqual([{ path: 'set', message: expect.stringContaining(`subscription ${full} would hold 51 tags`) }]);
    expect(await tagsOf(full)).toEqual(manyTags(49));
    expect(await tagsOf(roomy)).toEqual({});
    // Exactly 50 is allowed; so is replacing a key when at 50, and removing one to make room.
    expect((await backendTags({ externalUserId: 'user-limit', set: { a: 1 } })).status).toBe(200);
    expect((await backendTags({ subscriptionId: full, set: { a: 'again' } })).status).toBe(200);
    expect((await backendTags({ subscriptionId: full, set: { c: 3 }, remove: ['k0'] })).status).toBe(200);
    expect(Object.keys(await tagsOf(full))).toHaveLength(50);
  });

  it.each([
    ['no target', { set: { plan: 'vip' } }, ''],
    ['two targets', { visitorId: 'tags-visitor-1', externalUserId: 'user-tags-1', set: { plan: 'vip' } }, ''],
    ['nothing to change', { visitorId: 'tags-visitor-1' }, 'set'],
    ['empty set and remove', { visitorId: 'tags-visitor-1', set: {}, remove: [] }, 'set'],
    ['a key both set and removed', { visitorId: 'tags-visitor-1', set: { plan: 'vip' }, remove: ['plan'] }, 'remove'],
    ['an empty key', { visitorId: 'tags-visitor-1', set: { '': 'x' } }, 'set.'],
    ['a 65-character key', { visitorId: 'tags-visitor-1', set: { ['k'.repeat(65)]: 'x' } }, `set.${'k'.repeat(65)}`],
    ['a key with a control character', { visitorId: 'tags-visitor-1', set: { 'plan\u0007': 'x' } }, 'set.plan\u0007'],
    ['a key with a line break', { visitorId: 'tags-visitor-1', remove: ['plan\n'] }, 'remove.0'],
    ['a 201-character value', { visitorId: 'tags-visitor-1', set: { note: 'x'.repeat(201) } }, 'set.note'],
    ['a null value', { visitorId: 'tags-visitor-1', set: { plan: null } }, 'set.plan'],
    ['an object value', { visitorId: 'tags-visitor-1', set: { plan: { tier: 1 } } }, 'set.plan'],
    ['51 tags at once', { visitorId: 'tags-visitor-1', set: manyTags(51) }, 'set'],
    ['a subscription id that is no UUID', { subscriptionId: 'sub-1', set: { plan: 'vip' } }, 'subscriptionId'],
    ['an unknown field', { visitorId: 'tags-visitor-1', set: { plan: 'vip' }, tags: { plan: 'vip' } }, 'tags'],
  ])('refuses %s with 400 naming the field', async (_label, body, path) => {
    const { status, body: answer } = await backendTags(body);
    expect(status).toBe(400);
    expect(answer.error.code).toBe('validation_failed');
    expect(answer.error.details.map((detail: { path: string }) => detail.path)).toContain(path);
  });

  it('says why a key is refused', async () => {
    const { body } = await backendTags({ visitorId: 'tags-visitor-1', set: { ['k'.repeat(65)]: 'x', 'a\u0007': 'y' } });
    expect(body.error.details.map((detail: { message: string }) => detail.message)).toEqual(['key must be 1 to 64 characters', 'key must not contain control characters']);
  });

  it('keeps the limits at their edges: a 64-character key, a 200-character value', async () => {
    const id = await storeSubscription(world.database.db, world.site.id, { visitorId: 'tags-edges-01' });
    const set = { ['k'.repeat(64)]: 'v'.repeat(200), zero: 0, no: false, 'mit Leerzeichen und ü': '✓' };
    expect((await backendTags({ subscriptionId: id, set })).status).toBe(200);
    expect(await tagsOf(id)).toEqual(set);
  });

  it('refuses a publishable key', async () => {
    const { status } = await post('/v1/subscribers/tags', { visitorId: 'tags-visitor-1', set: { plan: 'vip' } }, browserHeaders(world.site));
    expect(status).toBe(403);
  });
});

describe('POST /v1/subscriptions/tags', () => {
  let site: CreatedSite;
  beforeAll(async () => {
    site = await testSite(world.database.db, [SHOP_ORIGIN]);
    const settings = await world.app.request('/v1/settings', { method: 'PATCH', headers: secretHeaders(site), body: JSON.stringify({ browserTagKeys: ['newsletter', 'size'] }) });
    expect(settings.status).toBe(200);
    expect(((await settings.json()) as { browserTagKeys: string[] }).browserTagKeys).toEqual(['newsletter', 'size']);
  });

  /** A browser subscribed through the API, as the snippet does; its endpoint and id. */
  async function subscribed(visitorId: string) {
    const subscription = await browserSubscription();
    const response = await world.app.request('/v1/subscriptions', { method: 'POST', headers: browserHeaders(site), body: JSON.stringify({ subscription, visitorId }) });
    expect(response.status).toBe(201);
    return { endpoint: subscription.endpoint, id: ((await response.json()) as { id: string }).id };
  }

  it('sets and removes the listed keys on the visitor’s subscriptions, answering with CORS for the shop', async () => {
    const first = await subscribed('browser-tags-01');
    const second = await subscribed('browser-tags-01');
    const set = await browserTags({ visitorId: 'browser-tags-01', set: { newsletter: true, size: 'M' } }, site);
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ updated: 2 });
    expect(set.headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
    const removed = await browserTags({ visitorId: 'browser-tags-01', remove: ['size'] }, site);
    expect(removed.body).toEqual({ updated: 2 });
    expect(await tagsOf(first.id)).toEqual({ newsletter: true });
    expect(await tagsOf(second.id)).toEqual({ newsletter: true });
  });

  it('changes only the subscription with the endpoint, when one is given', async () => {
    const first = await subscribed('browser-tags-02');
    const second = await subscribed('browser-tags-02');
    const { body } = await browserTags({ visitorId: 'browser-tags-02', endpoint: second.endpoint, set: { size: 'L' } }, site);
    expect(body).toEqual({ updated: 1 });
    expect(await tagsOf(first.id)).toEqual({});
    expect(await tagsOf(second.id)).toEqual({ size: 'L' });
  });

  it('refuses a key the site does not list with 403 key_not_allowed naming it, and changes nothing', async () => {
    const { id } = await subscribed('browser-tags-03');
    for (const body of [{ set: { newsletter: true, plan: 'vip' } }, { remove: ['plan'] }]) {
      const { status, body: answer, headers } = await browserTags({ visitorId: 'browser-tags-03', ...body }, site);
      expect(status).toBe(403);
      expect(answer.error).toMatchObject({ code: 'key_not_allowed', message: expect.stringContaining('"plan"') });
      // The page can read why.
      expect(headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
    }
    expect(await tagsOf(id)).toEqual({});
  });

  it('refuses every key on a site that lists none (the default)', async () => {
    const { status, body } = await browserTags({ visitorId: 'browser-tags-04', set: { newsletter: true } });
    expect(status).toBe(403);
    expect(body.error.code).toBe('key_not_allowed');
  });

  it('answers 404 for a visitor without a subscription on the site', async () => {
    const { status, body } = await browserTags({ visitorId: 'browser-tags-none', set: { size: 'S' } }, site);
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 'not_found', message: expect.stringContaining('subscribe first') });
  });

  it('keeps the limits: values, key count, unknown fields', async () => {
    await subscribed('browser-tags-05');
    for (const [body, path] of [
      [{ visitorId: 'browser-tags-05', set: { size: 'x'.repeat(201) } }, 'set.size'],
      [{ visitorId: 'browser-tags-05' }, 'set'],
      [{ visitorId: 'browser-tags-05', set: { size: 'M' }, externalUserId: 'user-1' }, 'externalUserId'],
      [{ set: { size: 'M' } }, 'visitorId'],
    ] as const) {
      const { status, body: answer } = await browserTags(body, site);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(answer.error.details.map((detail: { path: string }) => detail.path)).toContain(path);
    }
  });

  it('refuses a page on another origin and a secret key', async () => {
    const foreign = await browserTags({ visitorId: 'browser-tags-01', set: { size: 'S' } }, site, 'https://evil.example');
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('origin_not_allowed');
    const secret = await post('/v1/subscriptions/tags', { visitorId: 'browser-tags-01', set: { size: 'S' } }, { ...secretHeaders(site), Origin: SHOP_ORIGIN });
    expect(secret.status).toBe(403);
    expect(secret.body.error.code).toBe('key_not_allowed');
  });

  it('answers the CORS preflight for the shop’s origin', async () => {
    const response = await world.app.request('/v1/subscriptions/tags', {
      method: 'OPTIONS',
      headers: { Origin: SHOP_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
    expect(response.headers.get('Access-Control-Allow-Methods')).toContain('POST');
  });
});

describe('the site setting browserTagKeys', () => {
  it.each([
    ['21 keys', Array.from({ length: 21 }, (_, i) => `key${i}`), 'at most 20 keys'],
    ['a repeated key', ['size', 'size'], 'each key at most once'],
    ['an empty key', [''], 'must be 1 to 64 characters'],
  ])('refuses %s', async (_label, keys, message) => {
    const response = await world.app.request('/v1/settings', { method: 'PATCH', headers: secretHeaders(), body: JSON.stringify({ browserTagKeys: keys }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(message);
  });
});
