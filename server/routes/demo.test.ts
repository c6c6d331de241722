import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markDemoSite } from '../db/sites.ts';
import { createSite } from '../sites/create-site.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

const DEMO_ORIGIN = 'http://localhost:8787';
const MiB = 1024 * 1024;

/** A body of `bytes` zeros that counts how much of it was read. */
function countedBody(bytes: number) {
  const chunk = new Uint8Array(64 * 1024);
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= bytes) return controller.close();
      counter.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, counter };
}

const testPush = (app: ReturnType<typeof testApp>['app'], origin: string, visitorId = 'visitor-nobody', ip = '198.51.100.1') =>
  app.request('/demo/test-push', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin, 'X-Test-Client-Ip': ip },
    body: JSON.stringify({ visitorId }),
  });

describe('/demo', () => {
  it('is off unless the dev server turns it on', async () => {
    const { app } = testApp(database.db);
    expect((await app.request('/demo')).status).toBe(404);
  });

  it('is absent, page and test push, while no site is marked as the demo — even for a site on the demo origin', async () => {
    await createSite(database.db, { name: 'A real shop', origins: [DEMO_ORIGIN] }, undefined);
    const { app } = testApp(database.db, { demo: true });
    const page = await app.request('/demo');
    expect(page.status).toBe(404);
    const push = await testPush(app, DEMO_ORIGIN);
    expect(push.status).toBe(404);
    const body = (await push.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe('not_found');
    expect(body.error.requestId).not.toBe('');
  });

  it('installs the snippet exactly as the README says, for the site marked as the demo', async () => {
    const site = await createSite(database.db, { name: 'Demo', origins: [DEMO_ORIGIN] }, undefined);
    await markDemoSite(database.db, site.id);
    const { app } = testApp(database.db, { demo: true });
    const response = await app.request('/demo');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain(`<script async src="http://localhost:8787/pushcart.js" data-site="${site.publishableKey}"></script>`);
    expect(html.match(/data-add="/g)).toHaveLength(3);
    expect(html).toContain('id="checkout"');
  });

  it('sends a test push only to the visitor asking, only from the demo site’s origins, and not too often', async () => {
    const { app } = testApp(database.db, { demo: true });
    expect((await testPush(app, 'https://evil.example')).status).toBe(403);
    const response = await testPush(app, DEMO_ORIGIN, 'visitor-asking');
    expect(response.status).toBe(202);
    expect(((await response.json()) as { audience: number }).audience).toBe(0);

    // A burst of three per visitor, then a 429 in the error shape with Retry-After.
    expect((await testPush(app, DEMO_ORIGIN, 'visitor-asking')).status).toBe(202);
    expect((await testPush(app, DEMO_ORIGIN, 'visitor-asking')).status).toBe(202);
    const refused = await testPush(app, DEMO_ORIGIN, 'visitor-asking');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // Another visitor from another address still may.
    expect((await testPush(app, DEMO_ORIGIN, 'visitor-other', '203.0.113.9')).status).toBe(202);
  });

  it('counts an address before looking anything up: a flood with a forged Origin is cut off at 10', async () => {
    const { app } = testApp(database.db, { demo: true });
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await testPush(app, 'https://evil.example', `visitor-flood-${i}`, '192.0.2.66')).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(403));
    expect(statuses[10]).toBe(429);
  });

  it('refuses a 64 MiB body before reading it, declared or streamed', async () => {
    const { app } = testApp(database.db, { demo: true });
    const streamed = countedBody(64 * MiB);
    const response = await app.request('/demo/test-push', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: DEMO_ORIGIN },
      body: streamed.stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(streamed.counter.pulled).toBeLessThan(MiB);

    const declared = countedBody(64 * MiB);
    const byLength = await app.request('/demo/test-push', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: DEMO_ORIGIN, 'Content-Length': String(64 * MiB) },
      body: declared.stream,
      duplex: 'half',
    } as RequestInit);
    expect(byLength.status).toBe(413);
    expect(declared.counter.pulled).toBeLessThan(MiB);
  });
});
