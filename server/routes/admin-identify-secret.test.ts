import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSite } from '../sites/create-site.ts';
import { identifySecret } from '../sites/identity-signature.ts';
import { ADMIN_TOKEN, testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

const MASTER_KEY = 'a'.repeat(43);
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

describe('GET /v1/admin/sites/{id}/identify-secret', () => {
  it('shows the site’s identify secret to the admin, and when old signatures stop counting', async () => {
    const site = await createSite(database.db, { name: 'Shop', origins: ['https://shop.example'] }, MASTER_KEY);
    const { app } = testApp(database.db, { env: { PUSHCART_MASTER_KEY: MASTER_KEY } });
    const response = await app.request(`/v1/admin/sites/${site.id}/identify-secret`, { headers: admin });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ siteId: site.id, identifySecret: await identifySecret(MASTER_KEY, site.id), legacyAcceptedUntil: null });
    expect((await app.request(`/v1/admin/sites/${site.id}/identify-secret`)).status).toBe(401);
  });

  it('has none to show without a master key: 404 in the error shape, saying why', async () => {
    const site = await createSite(database.db, { name: 'Shop', origins: ['https://shop.example'] }, undefined);
    const { app } = testApp(database.db);
    const response = await app.request(`/v1/admin/sites/${site.id}/identify-secret`, { headers: admin });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error).toMatchObject({ code: 'not_found', requestId: expect.any(String) });
    expect(body.error.message).toMatch(/PUSHCART_MASTER_KEY/);
  });
});
