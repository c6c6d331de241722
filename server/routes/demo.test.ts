import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSite } from '../sites/create-site.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

describe('/demo', () => {
  it('is off unless the dev server turns it on', async () => {
    const { app } = testApp(database.db);
    expect((await app.request('/demo')).status).toBe(404);
  });

  it('installs the snippet exactly as the README says, for the site of its own origin', async () => {
    const site = await createSite(database.db, { name: 'Demo', origins: ['http://localhost:8787'] }, undefined);
    const { app } = testApp(database.db, { demo: true });
    const response = await app.request('/demo');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain(`<script async src="http://localhost:8787/pushcart.js" data-site="${site.publishableKey}"></script>`);
    expect(html.match(/data-add="/g)).toHaveLength(3);
    expect(html).toContain('id="checkout"');
  });

  it('sends a test push only to the visitor asking, and only from the demo origin', async () => {
    const { app } = testApp(database.db, { demo: true });
    const post = (origin: string) =>
      app.request('/demo/test-push', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin }, body: JSON.stringify({ visitorId: 'visitor-nobody' }) });
    expect((await post('https://evil.example')).status).toBe(403);
    const response = await post('http://localhost:8787');
    expect(response.status).toBe(202);
    expect(((await response.json()) as { audience: number }).audience).toBe(0);
  });
});
