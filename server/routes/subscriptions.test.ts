import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSubscriptionByEndpoint } from '../db/subscriptions.ts';
import { browserHeaders, browserSubscription, countSubscriptions, SHOP_ORIGIN, testApp, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { encodeBase64Url } from '../push/base64url.ts';

let database: TestDatabase;
let site: CreatedSite;
let otherSite: CreatedSite;
let app: ReturnType<typeof testApp>['app'];

beforeAll(async () => {
  database = await createTestDatabase();
  site = await testSite(database.db);
  otherSite = await testSite(database.db, ['https://other.example']);
  // Generous limits: this file is about validation; rate limiting has its own test.
  app = testApp(database.db, { rateLimits: { perIp: { capacity: 10_000, refillPerSecond: 1_000 } } }).app;
});
afterAll(async () => database?.destroy());

async function subscribe(body: unknown, headers: Record<string, string> = browserHeaders(site)) {
  return app.request('/v1/subscriptions', {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function validBody(endpoint?: string) {
  return {
    subscription: await browserSubscription(endpoint),
    visitorId: 'visitor-0001',
    locale: 'de-DE',
    timeZone: 'Europe/Berlin',
  };
}

describe('POST /v1/subscriptions', () => {
  it('stores a valid subscription with locale, time zone and browser family', async () => {
    const body = await validBody();
    const response = await subscribe(body, {
      ...browserHeaders(site),
      'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    const row = await findSubscriptionByEndpoint(database.db, body.subscription.endpoint);
    expect(row).toMatchObject({
      id,
      site_id: site.id,
      p256dh: body.subscription.keys.p256dh,
      auth: body.subscription.keys.auth,
      vapid_public_key: site.vapidPublicKey,
      visitor_id: 'visitor-0001',
      locale: 'de-DE',
      time_zone: 'Europe/Berlin',
      user_agent_family: 'chrome',
      status: 'active',
    });
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
  });

  it('answers 200 with the same id when the endpoint is posted again, and re-activates it', async () => {
    const body = await validBody();
    const first = (await (await subscribe(body)).json()) as { id: string };
    await app.request('/v1/subscriptions', {
      method: 'DELETE',
      headers: browserHeaders(site),
      body: JSON.stringify({ endpoint: body.subscription.endpoint }),
    });
    const again = await subscribe({ ...body, timeZone: 'America/New_York' });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(first.id);
    const row = await findSubscriptionByEndpoint(database.db, body.subscription.endpoint);
    expect(row).toMatchObject({ status: 'active', time_zone: 'America/New_York' });
  });

  it('keeps exactly one row when 50 requests post one endpoint at once', async () => {
    const body = await validBody();
    const responses = await Promise.all(Array.from({ length: 50 }, () => subscribe(body)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 201)).toBe(true);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    const rows = await database.db.selectFrom('subscriptions').select('id').where('endpoint', '=', body.subscription.endpoint).execute();
    expect(rows).toHaveLength(1);
  });

  it('never hands an endpoint held by another site to this one', async () => {
    const body = await validBody();
    expect((await subscribe(body, browserHeaders(otherSite, 'https://other.example'))).status).toBe(201);
    const response = await subscribe(body);
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('endpoint_conflict');
    const row = await findSubscriptionByEndpoint(database.db, body.subscription.endpoint);
    expect(row?.site_id).toBe(otherSite.id);
  });
});

describe('POST /v1/subscriptions refuses bad input and stores nothing', () => {
  const badEndpoints: Array<[string, string]> = [
    ['http endpoint', 'http://fcm.googleapis.com/fcm/send/x'],
    ['cloud metadata address', 'https://169.254.169.254/latest/meta-data/'],
    ['loopback', 'https://127.0.0.1/x'],
    ['IPv6 loopback', 'https://[::1]/x'],
    ['unspecified address', 'https://0.0.0.0/x'],
    ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/x'],
    ['decimal loopback', 'https://2130706433/x'],
    ['hex shorthand loopback', 'https://0x7f.1/x'],
    ['carrier-grade NAT', 'https://100.64.0.1/x'],
    ['IP host with a push-service path', 'https://169.254.169.254/.apple.com/'],
    ['userinfo look-alike', 'https://fcm.googleapis.com@evil.example/'],
    ['suffix look-alike', 'https://fcm.googleapis.com.evil.example/'],
    ['fragment look-alike', 'https://evil.example#.googleapis.com/'],
    ['port 8443', 'https://fcm.googleapis.com:8443/fcm/send/x'],
    ['2,049-character endpoint', 'https://fcm.googleapis.com/fcm/send/' + 'a'.repeat(2049 - 'https://fcm.googleapis.com/fcm/send/'.length)],
  ];

  it.each(badEndpoints)('%s → 400 endpoint_not_allowed', async (_label, endpoint) => {
    const before = await countSubscriptions(database.db);
    const body = await validBody();
    const response = await subscribe({ ...body, subscription: { ...body.subscription, endpoint } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('endpoint_not_allowed');
    expect(await countSubscriptions(database.db)).toBe(before);
  });

  async function expectRefused(
    response: Response,
    status: number,
    code: string,
  ): Promise<{ error: { code: string; message: string; requestId: string; details?: Array<{ path: string; message: string }> } }> {
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { code: string; message: string; requestId: string; details?: Array<{ path: string; message: string }> } };
    expect(body.error.code).toBe(code);
    expect(body.error.requestId).toBe(response.headers.get('X-Request-Id'));
    return body;
  }

  it.each([
    ['64-byte p256dh', (keys: { p256dh: string; auth: string }) => ({ ...keys, p256dh: encodeBase64Url(new Uint8Array(64).fill(4)) })],
    [
      'p256dh off the curve',
      (keys: { p256dh: string; auth: string }) => {
        const raw = new Uint8Array(65).fill(7);
        raw[0] = 4;
        return { ...keys, p256dh: encodeBase64Url(raw) };
      },
    ],
    ['padded base64 p256dh', (keys: { p256dh: string; auth: string }) => ({ ...keys, p256dh: Buffer.from(Buffer.from(keys.p256dh, 'base64url')).toString('base64') })],
    ['15-byte auth', (keys: { p256dh: string; auth: string }) => ({ ...keys, auth: encodeBase64Url(new Uint8Array(15)) })],
  ])('%s → 400 validation_failed', async (_label, mutate) => {
    const before = await countSubscriptions(database.db);
    const body = await validBody();
    const response = await subscribe({ ...body, subscription: { ...body.subscription, keys: mutate(body.subscription.keys) } });
    await expectRefused(response, 400, 'validation_failed');
    expect(await countSubscriptions(database.db)).toBe(before);
  });

  it('a 9 KB body → 413 payload_too_large', async () => {
    const before = await countSubscriptions(database.db);
    const body = { ...(await validBody()), padding: 'x'.repeat(9 * 1024) };
    await expectRefused(await subscribe(body), 413, 'payload_too_large');
    expect(await countSubscriptions(database.db)).toBe(before);
  });

  it('a 9 KB body sent without Content-Length (chunked) → 413', async () => {
    const text = JSON.stringify({ ...(await validBody()), padding: 'x'.repeat(9 * 1024) });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    });
    const response = await app.request('/v1/subscriptions', {
      method: 'POST',
      headers: browserHeaders(site),
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectRefused(response, 413, 'payload_too_large');
  });

  it('a tags field → 400 validation_failed pointing to POST /v1/subscriptions/tags, nothing stored', async () => {
    const before = await countSubscriptions(database.db);
    const response = await subscribe({ ...(await validBody()), tags: { plan: 'vip' } });
    const error = await expectRefused(response, 400, 'validation_failed');
    expect(error.error.details).toEqual([{ path: 'tags', message: expect.stringContaining('POST /v1/subscriptions/tags') }]);
    expect(await countSubscriptions(database.db)).toBe(before);
  });

  it('an unknown top-level field → 400 naming it; an unknown field inside the browser’s subscription is accepted', async () => {
    const body = await validBody();
    const extraAtTop = await subscribe({ ...body, colour: 'blue' });
    const error = await expectRefused(extraAtTop, 400, 'validation_failed');
    expect(error.error.details).toEqual([{ path: 'colour', message: 'unknown key' }]);
    // Browsers may add members to PushSubscriptionJSON (and its keys) in later versions.
    const extended = { ...body.subscription, futureMember: { a: 1 }, keys: { ...body.subscription.keys, futureKey: 'x' } };
    const accepted = await subscribe({ ...body, subscription: extended });
    expect(accepted.status).toBe(201);
    const row = await findSubscriptionByEndpoint(database.db, body.subscription.endpoint);
    expect(row).toMatchObject({ p256dh: body.subscription.keys.p256dh, auth: body.subscription.keys.auth });
  });

  it('malformed JSON → 400 invalid_json', async () => {
    await expectRefused(await subscribe('{"subscription": '), 400, 'invalid_json');
  });

  it('a bad IANA time zone → 400 validation_failed naming the field', async () => {
    const before = await countSubscriptions(database.db);
    const body = await subscribe({ ...(await validBody()), timeZone: 'Mars/Olympus_Mons' });
    const error = await expectRefused(body, 400, 'validation_failed');
    expect(error.error.message).toContain('timeZone');
    expect(await countSubscriptions(database.db)).toBe(before);
  });

  it('an unknown publishable key → 401 invalid_key', async () => {
    await expectRefused(await subscribe(await validBody(), browserHeaders({ publishableKey: 'pk_unknownunknownunknown' })), 401, 'invalid_key');
  });

  it('no key → 401 invalid_key', async () => {
    const headers = browserHeaders(site);
    delete (headers as Record<string, string | undefined>).Authorization;
    await expectRefused(await subscribe(await validBody(), headers), 401, 'invalid_key');
  });

  it('a secret key on a browser route → 403 key_not_allowed', async () => {
    await expectRefused(await subscribe(await validBody(), browserHeaders({ publishableKey: site.secretKey })), 403, 'key_not_allowed');
  });

  it('an Origin not on the site’s list → 403 origin_not_allowed, with no CORS grant', async () => {
    const before = await countSubscriptions(database.db);
    const response = await subscribe(await validBody(), browserHeaders(site, 'https://evil.example'));
    await expectRefused(response, 403, 'origin_not_allowed');
    expect(response.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect(await countSubscriptions(database.db)).toBe(before);
  });

  it('another site’s origin with this site’s key → 403 origin_not_allowed', async () => {
    await expectRefused(await subscribe(await validBody(), browserHeaders(site, 'https://other.example')), 403, 'origin_not_allowed');
  });

  it('no Origin header on a POST → 403 origin_not_allowed', async () => {
    const headers = browserHeaders(site);
    delete (headers as Record<string, string | undefined>).Origin;
    await expectRefused(await subscribe(await validBody(), headers), 403, 'origin_not_allowed');
  });

  it('a visitorId that is not an opaque token → 400', async () => {
    await expectRefused(await subscribe({ ...(await validBody()), visitorId: 'someone@example.com' }), 400, 'validation_failed');
  });
});

describe('CORS preflight', () => {
  it('grants a site’s own origin and nothing else', async () => {
    const preflight = (origin: string) =>
      app.request('/v1/subscriptions', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
      });
    const allowed = await preflight(SHOP_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
    expect(allowed.headers.get('Access-Control-Allow-Headers')).toMatch(/Authorization/);
    const refused = await preflight('https://evil.example');
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});

describe('DELETE /v1/subscriptions', () => {
  it('marks the subscription unsubscribed, and 404s for an endpoint the site does not have', async () => {
    const body = await validBody();
    await subscribe(body);
    const response = await app.request('/v1/subscriptions', {
      method: 'DELETE',
      headers: browserHeaders(site),
      body: JSON.stringify({ endpoint: body.subscription.endpoint }),
    });
    expect(response.status).toBe(200);
    expect((await findSubscriptionByEndpoint(database.db, body.subscription.endpoint))?.status).toBe('unsubscribed');

    const missing = await app.request('/v1/subscriptions', {
      method: 'DELETE',
      headers: browserHeaders(site),
      body: JSON.stringify({ endpoint: 'https://fcm.googleapis.com/fcm/send/never-seen' }),
    });
    expect(missing.status).toBe(404);
  });

  it('cannot unsubscribe another site’s subscriber', async () => {
    const body = await validBody();
    await subscribe(body, browserHeaders(otherSite, 'https://other.example'));
    const response = await app.request('/v1/subscriptions', {
      method: 'DELETE',
      headers: browserHeaders(site),
      body: JSON.stringify({ endpoint: body.subscription.endpoint }),
    });
    expect(response.status).toBe(404);
    expect((await findSubscriptionByEndpoint(database.db, body.subscription.endpoint))?.status).toBe('active');
  });
});

describe('POST /v1/subscriptions/renew (pushsubscriptionchange)', () => {
  async function renew(body: unknown, origin = SHOP_ORIGIN) {
    return app.request('/v1/subscriptions/renew', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: origin },
      body: JSON.stringify(body),
    });
  }

  it('swaps the old endpoint for the new one in the same row', async () => {
    const body = await validBody();
    const { id } = (await (await subscribe(body)).json()) as { id: string };
    const renewed = await browserSubscription();
    const response = await renew({ oldEndpoint: body.subscription.endpoint, subscription: renewed });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { id: string }).id).toBe(id);
    expect(await findSubscriptionByEndpoint(database.db, body.subscription.endpoint)).toBeUndefined();
    expect(await findSubscriptionByEndpoint(database.db, renewed.endpoint)).toMatchObject({ id, p256dh: renewed.keys.p256dh, status: 'active', time_zone: 'Europe/Berlin' });
  });

  it('refuses an unknown old endpoint, another site’s origin, and a new endpoint off the push services', async () => {
    const body = await validBody();
    await subscribe(body);
    expect((await renew({ oldEndpoint: 'https://fcm.googleapis.com/fcm/send/never', subscription: await browserSubscription() })).status).toBe(404);
    expect((await renew({ oldEndpoint: body.subscription.endpoint, subscription: await browserSubscription() }, 'https://other.example')).status).toBe(403);
    const evil = await renew({ oldEndpoint: body.subscription.endpoint, subscription: await browserSubscription('https://169.254.169.254/x') });
    expect(evil.status).toBe(400);
    expect((await findSubscriptionByEndpoint(database.db, body.subscription.endpoint))?.status).toBe('active');
  });
});

describe('identify: externalUserId with the shop backend’s signature', () => {
  it('links the external user id only with a valid signature', async () => {
    const { identitySignature } = await import('../sites/identity-signature.ts');
    const { hashSecretKey } = await import('../sites/api-keys.ts');
    const signature = await identitySignature(await hashSecretKey(site.secretKey), 'customer-42');
    const body = await validBody();
    const forged = await subscribe({ ...body, externalUserId: 'customer-42', signature: await identitySignature(await hashSecretKey('sk_guess'), 'customer-42') });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    expect(await findSubscriptionByEndpoint(database.db, body.subscription.endpoint)).toBeUndefined();
    const otherUser = await subscribe({ ...body, externalUserId: 'customer-43', signature });
    expect(otherUser.status).toBe(403);

    expect((await subscribe({ ...body, externalUserId: 'customer-42', signature })).status).toBe(201);
    expect((await findSubscriptionByEndpoint(database.db, body.subscription.endpoint))?.external_user_id).toBe('customer-42');
    // A later plain re-sync keeps the identity.
    expect((await subscribe(body)).status).toBe(200);
    expect((await findSubscriptionByEndpoint(database.db, body.subscription.endpoint))?.external_user_id).toBe('customer-42');
  });
});
