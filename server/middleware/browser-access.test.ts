import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { parseConfig } from '../config.ts';
import { ApiError, errorResponse } from '../errors.ts';
import { memoryLogger } from '../logger.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { browserHeaders, browserSubscription, SHOP_ORIGIN, testApp, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { browserAccess } from './browser-access.ts';
import { createRateLimiters } from './rate-limit.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

describe('browserAccess', () => {
  it("lets the shop's page read Retry-After on an error answer, so the snippet can wait as long as the server asks", async () => {
    const site = await testSite(database.db);
    const config = parseConfig({});
    const deps: AppDeps = { config, db: database.db, logger: memoryLogger(), clientIp: () => '198.51.100.7' };
    const limiters = createRateLimiters({ perIp: config.rateLimitPerIp, perSite: config.rateLimitPerSite }, Date.now);
    const app = new Hono<AppEnv>()
      .use('/v1/outage', browserAccess(deps, limiters, { keyFrom: 'header' }))
      .post('/v1/outage', () => {
        throw new ApiError('storage_unavailable', 'The database is unavailable; try again shortly', { retryAfterSeconds: 7 });
      })
      .onError((error, c) => errorResponse(c, error as ApiError));

    const response = await app.request('/v1/outage', { method: 'POST', headers: browserHeaders(site), body: '{}' });
    expect(response.status).toBe(503);
    expect(response.headers.get('Retry-After')).toBe('7');
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
    // Retry-After is not a CORS-safelisted response header: a cross-origin page sees it only when exposed.
    expect(response.headers.get('Access-Control-Expose-Headers') ?? '').toMatch(/(^|,\s*)Retry-After(\s*,|$)/i);
  });
});

/** A clock that never moves: no bucket refills between two requests of a test. */
const frozenClock = () => 1_800_000_000_000;
const OTHER_ORIGIN = 'https://elsewhere.example';

/** What a cross-origin page needs to read an error and wait as long as it asks (Fetch standard, CORS check). */
async function expectReadableError(response: Response, status: number, origin: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('Access-Control-Allow-Origin')).toBe(origin);
  expect(response.headers.get('Vary') ?? '').toMatch(/(^|,\s*)Origin(\s*,|$)/i);
  expect(response.headers.get('Retry-After')).toMatch(/^[1-9]\d*$/);
  expect(response.headers.get('Access-Control-Expose-Headers') ?? '').toMatch(/(^|,\s*)Retry-After(\s*,|$)/i);
  const body = (await response.json()) as { error: { code: string; requestId: string } };
  expect(body.error.code).toBe(status === 429 ? 'rate_limited' : 'storage_unavailable');
  expect(body.error.requestId).toBe(response.headers.get('X-Request-Id'));
}

describe('refusals a shop page can read', () => {
  const siteConfig = (app: ReturnType<typeof testApp>['app'], site: CreatedSite, peer: string, origin = SHOP_ORIGIN) =>
    app.request(`/v1/sites/${site.publishableKey}/config`, { headers: { Origin: origin, 'X-Test-Client-Ip': peer } });

  it("carries the request's Origin on a 429 from the per-address limit, while a success goes only to the site's origins", async () => {
    const site = await testSite(database.db);
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { perIp: { capacity: 1, refillPerSecond: 0.1 } } });
    const allowed = await siteConfig(app, site, '203.0.113.1');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
    await expectReadableError(await siteConfig(app, site, '203.0.113.1'), 429, SHOP_ORIGIN);

    // Another origin: refused and granted nothing once its origin is checked; the 429 comes before that check.
    const foreign = await siteConfig(app, site, '203.0.113.2', OTHER_ORIGIN);
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('Access-Control-Allow-Origin')).toBeNull();
    await expectReadableError(await siteConfig(app, site, '203.0.113.2', OTHER_ORIGIN), 429, OTHER_ORIGIN);
  });

  it("carries the request's Origin on a 429 from the per-site limit, on a path-keyed and a header-keyed route", async () => {
    const site = await testSite(database.db);
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { perSite: { capacity: 1, refillPerSecond: 0.1 } } });
    expect((await siteConfig(app, site, '203.0.113.1')).status).toBe(200);
    await expectReadableError(await siteConfig(app, site, '203.0.113.2'), 429, SHOP_ORIGIN);
    const subscribe = async () =>
      app.request('/v1/subscriptions', {
        method: 'POST',
        headers: { ...browserHeaders(site), 'X-Test-Client-Ip': '203.0.113.3' },
        body: JSON.stringify({ subscription: await browserSubscription(), visitorId: 'visitor-cors-429' }),
      });
    await expectReadableError(await subscribe(), 429, SHOP_ORIGIN);
  });

  it('carries it on a 429 from the per-address limit of the service-worker routes, and grants nothing to an origin a route refused', async () => {
    const site = await testSite(database.db);
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { perIp: { capacity: 1, refillPerSecond: 0.1 } } });
    const subscription = await browserSubscription();
    const subscribed = await app.request('/v1/subscriptions', {
      method: 'POST',
      headers: { ...browserHeaders(site), 'X-Test-Client-Ip': '203.0.113.10' },
      body: JSON.stringify({ subscription, visitorId: 'visitor-cors-renew' }),
    });
    expect(subscribed.status).toBe(201);
    const renew = async (origin: string) =>
      app.request('/v1/subscriptions/renew', {
        method: 'POST',
        headers: { Origin: origin, 'Content-Type': 'application/json', 'X-Test-Client-Ip': '203.0.113.4' },
        body: JSON.stringify({ oldEndpoint: subscription.endpoint, subscription: await browserSubscription() }),
      });
    const refused = await renew(OTHER_ORIGIN);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBeNull();
    await expectReadableError(await renew(SHOP_ORIGIN), 429, SHOP_ORIGIN);

    const report = () =>
      app.request('/v1/interactions', {
        method: 'POST',
        headers: { Origin: SHOP_ORIGIN, 'Content-Type': 'application/json', 'X-Test-Client-Ip': '203.0.113.11' },
        body: JSON.stringify({ token: `1.${'0'.repeat(32)}`, type: 'shown' }),
      });
    expect((await report()).status).toBe(401);
    await expectReadableError(await report(), 429, SHOP_ORIGIN);
  });

  it('answers a throttled preflight so that the browser sends the request and sees its 429', async () => {
    const site = await testSite(database.db);
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { perIp: { capacity: 1, refillPerSecond: 0.1 } } });
    const preflight = (path: string) =>
      app.request(path, {
        method: 'OPTIONS',
        headers: { Origin: SHOP_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type', 'X-Test-Client-Ip': '203.0.113.5' },
      });
    expect((await preflight('/v1/subscriptions')).status).toBe(204);
    for (const path of ['/v1/subscriptions', '/v1/interactions']) {
      const throttled = await preflight(path);
      // A preflight answered with anything but 2xx is a network error to the page (Fetch standard, CORS-preflight fetch).
      expect(throttled.status).toBe(204);
      expect(throttled.headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
      expect(throttled.headers.get('Access-Control-Allow-Headers') ?? '').toMatch(/authorization/i);
      // Not checked against any site, so not to be cached.
      expect(throttled.headers.get('Access-Control-Max-Age')).toBe('0');
    }
    const subscribe = await app.request('/v1/subscriptions', {
      method: 'POST',
      headers: { ...browserHeaders(site), 'X-Test-Client-Ip': '203.0.113.5' },
      body: JSON.stringify({ subscription: await browserSubscription(), visitorId: 'visitor-cors-preflight' }),
    });
    await expectReadableError(subscribe, 429, SHOP_ORIGIN);
  });

  it("carries the request's Origin on a 503 from the key lookup and from a service-worker route", async () => {
    const memory = await createTestDatabase();
    const site = await testSite(memory.db);
    const { app } = testApp(memory.db, { now: frozenClock });
    await memory.destroy();
    await expectReadableError(await siteConfig(app, site, '203.0.113.6'), 503, SHOP_ORIGIN);
    const subscribe = await app.request('/v1/subscriptions', {
      method: 'POST',
      headers: browserHeaders(site),
      body: JSON.stringify({ subscription: await browserSubscription(), visitorId: 'visitor-cors-503' }),
    });
    await expectReadableError(subscribe, 503, SHOP_ORIGIN);
    const report = await app.request('/v1/interactions', {
      method: 'POST',
      headers: { Origin: SHOP_ORIGIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: `1.${'0'.repeat(32)}`, type: 'shown' }),
    });
    await expectReadableError(report, 503, SHOP_ORIGIN);
  });

  it('answers a preflight it cannot check during an outage, so that the browser sends the request and sees its 503', async () => {
    const memory = await createTestDatabase();
    const { app } = testApp(memory.db, { now: frozenClock });
    await memory.destroy();
    for (const path of ['/v1/subscriptions', '/v1/interactions']) {
      const preflight = await app.request(path, {
        method: 'OPTIONS',
        headers: { Origin: SHOP_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
      expect(preflight.headers.get('Access-Control-Max-Age')).toBe('0');
    }
  });
});
