import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { parseConfig } from '../config.ts';
import { ApiError, errorResponse } from '../errors.ts';
import { memoryLogger } from '../logger.ts';
import { browserHeaders, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
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
