import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedSite } from '../sites/create-site.ts';
import { ADMIN_TOKEN, testApp, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

let database: TestDatabase;
let site: CreatedSite;
beforeAll(async () => {
  database = await createTestDatabase();
  site = await testSite(database.db);
});
afterAll(async () => database?.destroy());

/** A clock that never moves: no bucket refills between two requests of a test. */
const frozenClock = () => 1_800_000_000_000;

async function expectRateLimited(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  const retryAfter = response.headers.get('Retry-After');
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
  expect(body.error.code).toBe('rate_limited');
  expect(body.error.message).not.toBe('');
  expect(body.error.requestId).toBe(response.headers.get('X-Request-Id'));
}

function siteConfigFrom(app: ReturnType<typeof testApp>['app'], peer: string, headers: Record<string, string> = {}) {
  return app.request(`/v1/sites/${site.publishableKey}/config`, { headers: { 'X-Test-Client-Ip': peer, ...headers } });
}

describe('a site flooded from a few addresses', () => {
  it('stops the flood per address, so a new shopper from another address still gets through', async () => {
    const { app } = testApp(database.db, {
      now: frozenClock,
      env: { PUSHCART_RATE_LIMIT_PER_IP: '5/1', PUSHCART_RATE_LIMIT_PER_SITE: '20/1' },
    });
    const flooders = ['203.0.113.1', '203.0.113.2', '203.0.113.3'];
    for (const address of flooders) {
      for (let i = 0; i < 5; i++) expect((await siteConfigFrom(app, address)).status).toBe(200);
      for (let i = 0; i < 25; i++) expect((await siteConfigFrom(app, address)).status).toBe(429);
    }
    await expectRateLimited(await siteConfigFrom(app, flooders[0]!));

    expect((await siteConfigFrom(app, '198.51.100.50')).status).toBe(200);
  });

  it('charges the site only for requests its per-address limit let through', async () => {
    const { app } = testApp(database.db, {
      now: frozenClock,
      env: { PUSHCART_RATE_LIMIT_PER_IP: '2/1', PUSHCART_RATE_LIMIT_PER_SITE: '10/1' },
    });
    // 50 requests from one address: 2 reach the site's budget, 48 are refused before it.
    for (let i = 0; i < 50; i++) await siteConfigFrom(app, '203.0.113.9');
    // So 8 of the site's 10 are left for everyone else, one request each from new addresses.
    for (let n = 1; n <= 8; n++) expect((await siteConfigFrom(app, `198.51.100.${n}`)).status).toBe(200);
    await expectRateLimited(await siteConfigFrom(app, '198.51.100.9'));
  });
});

describe('client address behind a reverse proxy', () => {
  const proxied = () =>
    testApp(database.db, {
      now: frozenClock,
      env: { PUSHCART_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8', PUSHCART_RATE_LIMIT_PER_IP: '2/1' },
    }).app;

  it('gives each shopper behind a trusted proxy their own budget, read from X-Forwarded-For', async () => {
    const app = proxied();
    const viaProxy = (client: string) => siteConfigFrom(app, '10.0.0.5', { 'X-Forwarded-For': client });
    expect((await viaProxy('203.0.113.1')).status).toBe(200);
    expect((await viaProxy('203.0.113.1')).status).toBe(200);
    await expectRateLimited(await viaProxy('203.0.113.1'));
    expect((await viaProxy('203.0.113.2')).status).toBe(200);
    // The same shopper through another proxy hop shares the same budget.
    await expectRateLimited(await siteConfigFrom(app, 'fd00::1', { 'X-Forwarded-For': '203.0.113.1, 10.1.1.1' }));
  });

  it('reads RFC 7239 Forwarded from a trusted proxy', async () => {
    const app = proxied();
    const viaProxy = (forwarded: string) => siteConfigFrom(app, '10.0.0.5', { Forwarded: forwarded });
    expect((await viaProxy('for="[2001:db8:cafe::17]:4711"')).status).toBe(200);
    expect((await viaProxy('for="[2001:db8:cafe::18]"')).status).toBe(200);
    await expectRateLimited(await viaProxy('for="[2001:db8:cafe::19]";proto=https'));
    expect((await viaProxy('for=192.0.2.60;proto=http;by=10.0.0.5')).status).toBe(200);
  });

  it('ignores forwarding headers from a peer that is not a trusted proxy', async () => {
    const app = proxied();
    for (const spoofed of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
      const response = await siteConfigFrom(app, '198.51.100.7', { 'X-Forwarded-For': spoofed, Forwarded: `for=${spoofed}` });
      if (spoofed === '192.0.2.3') await expectRateLimited(response);
      else expect(response.status).toBe(200);
    }
  });

  it('does not believe left-most entries a client wrote itself before the trusted proxy appended its address', async () => {
    const app = proxied();
    for (const spoofed of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
      const response = await siteConfigFrom(app, '10.0.0.5', { 'X-Forwarded-For': `${spoofed}, 198.51.100.8` });
      if (spoofed === '192.0.2.3') await expectRateLimited(response);
      else expect(response.status).toBe(200);
    }
  });

  it('keys IPv6 shoppers by their /64, since one household or device holds a whole /64', async () => {
    const app = proxied();
    expect((await siteConfigFrom(app, '2001:db8:1:2::1')).status).toBe(200);
    expect((await siteConfigFrom(app, '2001:db8:1:2:ffff:ffff:ffff:ffff')).status).toBe(200);
    await expectRateLimited(await siteConfigFrom(app, '2001:db8:1:2:abcd::1'));
    expect((await siteConfigFrom(app, '2001:db8:1:3::1')).status).toBe(200);
  });
});

describe('a site flooded from many IPv6 /64s', () => {
  it('stops a flood spread over one /48, while shoppers from another /48 and from IPv4 still get through', async () => {
    const { app } = testApp(database.db, {
      now: frozenClock,
      env: { PUSHCART_RATE_LIMIT_PER_IP: '2/1', PUSHCART_RATE_LIMIT_PER_SITE: '100/1' },
    });
    // 200 /64s of 2001:db8:bad::/48, each within its own /64 budget: 400 requests.
    let admitted = 0;
    for (let subnet = 0; subnet < 200; subnet++) {
      for (let i = 0; i < 2; i++) if ((await siteConfigFrom(app, `2001:db8:bad:${subnet.toString(16)}::${i + 1}`)).status === 200) admitted++;
    }
    // The /48 as a whole gets 16 /64s' worth.
    expect(admitted).toBe(32);
    await expectRateLimited(await siteConfigFrom(app, '2001:db8:bad:ffff::1'));

    expect((await siteConfigFrom(app, '2001:db8:600d:1::1')).status).toBe(200);
    expect((await siteConfigFrom(app, '198.51.100.60')).status).toBe(200);
  });
});

describe('secret-key routes', () => {
  it('limit each secret key, answering 429 with Retry-After in the error shape', async () => {
    const { app } = testApp(database.db, { now: frozenClock, env: { PUSHCART_RATE_LIMIT_PER_SITE: '3/1' } });
    const whoAmI = (ip: string) => app.request('/v1/site', { headers: { Authorization: `Bearer ${site.secretKey}`, 'X-Test-Client-Ip': ip } });
    for (let i = 0; i < 3; i++) expect((await whoAmI(`198.51.100.${i + 1}`)).status).toBe(200);
    await expectRateLimited(await whoAmI('198.51.100.4'));
  });

  it('answer an address that keeps presenting unknown keys with 429 instead of 401', async () => {
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { failedAuth: { capacity: 3, refillPerSecond: 0.01 } } });
    const whoAmI = (key: string, ip: string) => app.request('/v1/site', { headers: { Authorization: `Bearer ${key}`, 'X-Test-Client-Ip': ip } });
    for (let i = 0; i < 3; i++) expect((await whoAmI(`sk_guess${i}`, '203.0.113.66')).status).toBe(401);
    await expectRateLimited(await whoAmI('sk_guess3', '203.0.113.66'));
    expect((await whoAmI('sk_guess4', '203.0.113.67')).status).toBe(401);
  });

  it('count wrong keys sent all at once: the wait that follows grows with them', async () => {
    const failedAuth = { capacity: 3, refillPerSecond: 0.01 };
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { failedAuth } });
    const whoAmI = (key: string) => app.request('/v1/site', { headers: { Authorization: `Bearer ${key}`, 'X-Test-Client-Ip': '203.0.113.80' } });
    await Promise.all(Array.from({ length: 12 }, (_, i) => whoAmI(`sk_parallel${i}`)));
    const limited = await whoAmI('sk_after_the_burst');
    await expectRateLimited(limited.clone());
    // Longer than after the burst alone: the guesses beyond it were charged too (up to one burst more).
    const waitAfterBurstAloneSeconds = 1 / failedAuth.refillPerSecond;
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(waitAfterBurstAloneSeconds);
  });

  it('never hold back a backend sending many requests at once with its right key', async () => {
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { failedAuth: { capacity: 2, refillPerSecond: 0.01 } } });
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => app.request('/v1/site', { headers: { Authorization: `Bearer ${site.secretKey}`, 'X-Test-Client-Ip': '203.0.113.82' } })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(30).fill(200));
  });

  it('do not count a right key against its address', async () => {
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { failedAuth: { capacity: 2, refillPerSecond: 0.01 } } });
    const whoAmI = (key: string) => app.request('/v1/site', { headers: { Authorization: `Bearer ${key}`, 'X-Test-Client-Ip': '203.0.113.81' } });
    for (let i = 0; i < 5; i++) expect((await whoAmI(site.secretKey)).status).toBe(200);
    expect((await whoAmI('sk_wrong1')).status).toBe(401);
    expect((await whoAmI('sk_wrong2')).status).toBe(401);
    await expectRateLimited(await whoAmI('sk_wrong3'));
  });
});

describe('admin routes', () => {
  it('are limited per address', async () => {
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { admin: { capacity: 2, refillPerSecond: 0.5 } } });
    const list = (ip: string) => app.request('/v1/admin/sites', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'X-Test-Client-Ip': ip } });
    expect((await list('198.51.100.1')).status).toBe(200);
    expect((await list('198.51.100.1')).status).toBe(200);
    const limited = await list('198.51.100.1');
    await expectRateLimited(limited.clone());
    expect(limited.headers.get('Retry-After')).toBe('2');
    expect((await list('198.51.100.2')).status).toBe(200);
  });

  it('answer an address that keeps guessing the admin token with 429 instead of 401', async () => {
    const { app } = testApp(database.db, { now: frozenClock, rateLimits: { failedAuth: { capacity: 2, refillPerSecond: 0.01 } } });
    const list = (token: string) => app.request('/v1/admin/sites', { headers: { Authorization: `Bearer ${token}`, 'X-Test-Client-Ip': '203.0.113.70' } });
    expect((await list('wrong-token-wrong-token-1')).status).toBe(401);
    expect((await list('wrong-token-wrong-token-2')).status).toBe(401);
    await expectRateLimited(await list('wrong-token-wrong-token-3'));
  });
});

describe('wrong keys from a shared address', () => {
  it('never lock out the right secret key or admin token from that address (behind a proxy, everyone shares one)', async () => {
    const { app } = testApp(database.db, { now: frozenClock });
    const shared = '203.0.113.90';
    const whoAmI = (key: string) => app.request('/v1/site', { headers: { Authorization: `Bearer ${key}`, 'X-Test-Client-Ip': shared } });
    const listSites = (token: string) => app.request('/v1/admin/sites', { headers: { Authorization: `Bearer ${token}`, 'X-Test-Client-Ip': shared } });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await whoAmI(`sk_wrong${i}`)).status, (await listSites(`wrong-admin-token-${i}-0123456789`)).status);
    // 20 wrong keys or tokens in a burst answer 401, the rest 429.
    expect(statuses).toEqual([...Array(20).fill(401), ...Array(30).fill(429)]);

    expect((await whoAmI(site.secretKey)).status).toBe(200);
    expect((await listSites(ADMIN_TOKEN)).status).toBe(200);
    await expectRateLimited(await whoAmI('sk_wrong_again'));
    await expectRateLimited(await listSites('wrong-admin-token-again-0123456789'));
  });
});
