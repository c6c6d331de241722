import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserHeaders, browserSubscription, testApp, testSite } from './testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

describe('every response', () => {
  it('carries a request id, also on errors, and the error body repeats it', async () => {
    const { app } = testApp(database.db);
    const ok = await app.request('/healthz');
    expect(ok.headers.get('X-Request-Id')).toMatch(/\S{8,}/);
    const missing = await app.request('/nowhere');
    expect(missing.status).toBe(404);
    const body = (await missing.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body).toEqual({ error: { code: 'not_found', message: 'No route for GET /nowhere', requestId: missing.headers.get('X-Request-Id') } });
    expect(ok.headers.get('X-Request-Id')).not.toBe(missing.headers.get('X-Request-Id'));
  });

  it('is logged as one structured entry with method, path, status and duration', async () => {
    const { app, logger } = testApp(database.db);
    const response = await app.request('/healthz');
    const entry = logger.entries.find((e) => e.message === 'request');
    expect(entry?.fields).toMatchObject({ method: 'GET', path: '/healthz', status: 200, requestId: response.headers.get('X-Request-Id') });
    expect(typeof entry?.fields.durationMs).toBe('number');
  });
});

describe('rate limits on browser routes', () => {
  it('answers 429 with Retry-After once one address spends its burst, and lets it back after refill', async () => {
    let nowMs = 1_000_000;
    const site = await testSite(database.db);
    const { app } = testApp(database.db, {
      now: () => nowMs,
      rateLimits: { perIp: { capacity: 3, refillPerSecond: 0.5 } },
    });
    const get = (ip: string) => app.request(`/v1/sites/${site.publishableKey}/config`, { headers: { 'X-Test-Client-Ip': ip } });
    for (let i = 0; i < 3; i++) expect((await get('203.0.113.7')).status).toBe(200);
    const limited = await get('203.0.113.7');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('2');
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect((await get('203.0.113.8')).status).toBe(200); // another address is unaffected
    nowMs += 2_000;
    expect((await get('203.0.113.7')).status).toBe(200);
  });

  it('limits one publishable key across many addresses', async () => {
    const site = await testSite(database.db);
    const { app } = testApp(database.db, { rateLimits: { perSite: { capacity: 2, refillPerSecond: 0.1 } } });
    const post = async (ip: string) =>
      app.request('/v1/subscriptions', {
        method: 'POST',
        headers: { ...browserHeaders(site), 'X-Test-Client-Ip': ip },
        body: JSON.stringify({ subscription: await browserSubscription(), visitorId: 'visitor-limit' }),
      });
    expect((await post('192.0.2.1')).status).toBe(201);
    expect((await post('192.0.2.2')).status).toBe(201);
    const limited = await post('192.0.2.3');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
  });
});

describe('GET /v1/sites/{publishableKey}/config', () => {
  it('gives the VAPID public key and prompt settings, and no secret', async () => {
    const site = await testSite(database.db);
    const { app } = testApp(database.db);
    const response = await app.request(`/v1/sites/${site.publishableKey}/config`, { headers: { Origin: 'https://shop.example' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.example');
    const body = (await response.json()) as { vapidPublicKey: string; prompt: { trigger: string } };
    expect(body.vapidPublicKey).toBe(site.vapidPublicKey);
    expect(body.prompt.trigger).toBe('page_views');
    expect(JSON.stringify(body)).not.toMatch(/sk_|private/i);
  });

  it('refuses a secret key in the path and an origin the site does not list', async () => {
    const site = await testSite(database.db);
    const { app } = testApp(database.db);
    expect((await app.request(`/v1/sites/${site.secretKey}/config`)).status).toBe(403);
    const foreign = await app.request(`/v1/sites/${site.publishableKey}/config`, { headers: { Origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});
