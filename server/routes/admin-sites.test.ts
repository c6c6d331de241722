import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db).app;
});
afterAll(async () => database?.destroy());

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };

async function createSiteViaApi(origins = ['https://shop.example']) {
  const response = await app.request('/v1/admin/sites', { method: 'POST', headers: admin, body: JSON.stringify({ name: 'Shop', origins }) });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; publishableKey: string; secretKey: string; vapidPublicKey: string };
}

function whoAmI(secretKey: string) {
  return app.request('/v1/site', { headers: { Authorization: `Bearer ${secretKey}` } });
}

describe('admin API', () => {
  it('refuses requests without the admin token', async () => {
    const response = await app.request('/v1/admin/sites', { headers: { Authorization: 'Bearer not-the-token-not-the-token' } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('admin_token_required');
  });

  it('is off when PUSHCART_ADMIN_TOKEN is unset', async () => {
    const { app: noAdmin } = testApp(database.db, { env: { PUSHCART_ADMIN_TOKEN: '' } });
    const response = await noAdmin.request('/v1/admin/sites', { headers: { Authorization: 'Bearer ' } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/PUSHCART_ADMIN_TOKEN/);
  });

  it('creates a site with keys and a VAPID key, normalising origins', async () => {
    const site = await createSiteViaApi(['https://Shop.Example:443/', 'http://localhost:8787']);
    expect(site.publishableKey).toMatch(/^pk_[A-Za-z0-9_-]{24}$/);
    expect(site.secretKey).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(site.vapidPublicKey, 'base64url')).toHaveLength(65);
    const stored = await database.db.selectFrom('sites').selectAll().where('id', '=', site.id).executeTakeFirstOrThrow();
    expect(stored.allowed_origins).toEqual(['https://shop.example', 'http://localhost:8787']);
  });

  it('refuses an origin with a path', async () => {
    const response = await app.request('/v1/admin/sites', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'Shop', origins: ['https://shop.example/store'] }),
    });
    expect(response.status).toBe(400);
  });

  it('stores no secret key in clear, only its SHA-256 and a visible prefix', async () => {
    const site = await createSiteViaApi();
    const dump = JSON.stringify([
      await database.db.selectFrom('secret_keys').selectAll().execute(),
      await database.db.selectFrom('sites').selectAll().execute(),
    ]);
    expect(dump).not.toContain(site.secretKey);
    const key = await database.db.selectFrom('secret_keys').selectAll().where('site_id', '=', site.id).executeTakeFirstOrThrow();
    expect(key.key_hash).toBe(createHashHex(site.secretKey));
    expect(site.secretKey.startsWith(key.prefix)).toBe(true);
    expect(key.prefix.length).toBeLessThan(site.secretKey.length / 2);
  });

  it('rotates: a new key works, the revoked one is refused on the very next request', async () => {
    const site = await createSiteViaApi();
    expect((await whoAmI(site.secretKey)).status).toBe(200);

    const created = await app.request(`/v1/admin/sites/${site.id}/keys`, { method: 'POST', headers: admin });
    expect(created.status).toBe(201);
    const newKey = (await created.json()) as { secretKey: string; id: string };
    expect((await whoAmI(newKey.secretKey)).status).toBe(200);

    const keys = (await (await app.request(`/v1/admin/sites/${site.id}/keys`, { headers: admin })).json()) as {
      data: Array<{ id: string; prefix: string; revokedAt: string | null }>;
    };
    const oldKey = keys.data.find((key) => site.secretKey.startsWith(key.prefix))!;
    expect(JSON.stringify(keys)).not.toContain(site.secretKey);

    const revoked = await app.request(`/v1/admin/sites/${site.id}/keys/${oldKey.id}`, { method: 'DELETE', headers: admin });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();

    const refused = await whoAmI(site.secretKey);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_key');
    expect((await whoAmI(newKey.secretKey)).status).toBe(200);
  });

  it('revokes a key by its visible prefix, and 404s for a key of another site', async () => {
    const site = await createSiteViaApi();
    const other = await createSiteViaApi();
    const prefix = site.secretKey.slice(0, 11);
    const wrongSite = await app.request(`/v1/admin/sites/${other.id}/keys/${prefix}`, { method: 'DELETE', headers: admin });
    expect(wrongSite.status).toBe(404);
    expect((await whoAmI(site.secretKey)).status).toBe(200);
    const response = await app.request(`/v1/admin/sites/${site.id}/keys/${prefix}`, { method: 'DELETE', headers: admin });
    expect(response.status).toBe(200);
    expect((await whoAmI(site.secretKey)).status).toBe(401);
  });

  it('a publishable key cannot use a secret-key route', async () => {
    const site = await createSiteViaApi();
    const response = await app.request('/v1/site', { headers: { Authorization: `Bearer ${site.publishableKey}` } });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('key_not_allowed');
  });

  it('404s in the error shape for a site id that is not a uuid', async () => {
    const response = await app.request('/v1/admin/sites/not-a-uuid', { headers: admin });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

function createHashHex(text: string): string {
  // node:crypto here on purpose: an independent SHA-256 from the WebCrypto one the server uses.
  return createHash('sha256').update(text).digest('hex');
}
