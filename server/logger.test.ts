import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError, jsonLogger, redactSecrets } from './logger.ts';
import { testApp, testSite } from './testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

const SECRET_KEY = 'sk_Q2x1ZXNzLXRoaXMtaXMtYS1zZWNyZXQta2V5LXZhbHVl';
const FCM_ENDPOINT = 'https://fcm.googleapis.com/fcm/send/dX9kLmB3cR4:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx';

describe('log redaction', () => {
  it('keeps a secret key’s listed prefix only, in a logged request path', async () => {
    const lines: string[] = [];
    const { app } = testApp(database.db, { logger: jsonLogger((line) => lines.push(line)) });
    const response = await app.request(`/v1/sites/${SECRET_KEY}/config`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    const logged = lines.join('\n');
    expect(logged).toContain('"path":"/v1/sites/sk_Q2x1ZXNz…[redacted]/config"');
    expect(logged).not.toContain(SECRET_KEY.slice(11));
  });

  it('never logs the token of a one-time password or invite link a request came to', async () => {
    const lines: string[] = [];
    const { app } = testApp(database.db, { logger: jsonLogger((line) => lines.push(line)) });
    // 43 base64url characters, as the links carry; one without a digit too, which the capability rule would miss.
    const tokens = ['Zm9vYmFyLXRoaXMtaXMtYS1vbmUtdGltZS10b2tlbjE', 'OnlyLettersAndDashes-noDigitsAtAll_ButLongToo'];
    for (const token of tokens) {
      expect((await app.request(`/dashboard/password/${token}`)).status).toBe(404);
      expect((await app.request(`/dashboard/invite/${token}`)).status).toBe(404);
    }
    const logged = lines.join('\n');
    for (const token of tokens) expect(logged).not.toContain(token);
    expect(logged).toContain('"path":"/dashboard/password/[redacted]"');
    expect(logged).toContain('"path":"/dashboard/invite/[redacted]"');
  });

  it('takes one-time link tokens out of full and URL-encoded links, and leaves the other dashboard paths alone', () => {
    const token = 'OnlyLettersAndDashes-noDigitsAtAll_ButLongToo';
    expect(redactSecrets(`opened https://push.example.com/dashboard/password/${token}?x=1 then`)).toBe('opened https://push.example.com/dashboard/password/[redacted]?x=1 then');
    expect(redactSecrets(`next=%2Fdashboard%2Finvite%2F${token}&a=b`)).toBe('next=%2Fdashboard%2Finvite%2F[redacted]&a=b');
    const ordinary = 'GET /dashboard/login then /dashboard/sites/0d2c1c5e-0b1e-4c51-9a3e-3e1f8d1c2b3a/install';
    expect(redactSecrets(ordinary)).toBe(ordinary);
  });

  it('takes push endpoints, report tokens and bearer credentials out of logged errors', () => {
    const lines: string[] = [];
    const logger = jsonLogger((line) => lines.push(line));
    const token = `123456.${'0123456789abcdef'.repeat(2)}`;
    logger.log('error', 'push failed', {
      ...describeError(new Error(`connect ECONNREFUSED for ${FCM_ENDPOINT}?x=1 with "Bearer ${SECRET_KEY}" and token ${token}`)),
    });
    const [line] = lines;
    expect(line).not.toContain('APA91bHun4MxP5egoKMwt2KZFBaFUH');
    expect(line).not.toContain(SECRET_KEY.slice(11));
    expect(line).not.toContain('0123456789abcdef0123456789abcdef');
    expect(line).toContain('https://fcm.googleapis.com/[redacted]');
    expect(line).toContain('[redacted token]');
    // Still one valid JSON object.
    expect(JSON.parse(line!)).toMatchObject({ level: 'error', msg: 'push failed' });
  });

  it('finds keys after an escaped newline, an underscore or URL encoding, and identify secrets too', () => {
    const identify = 'pcid_aGVsbG8td29ybGQtdGhpcy1pcy1zZWNyZXQ';
    for (const text of [`line1\\n${SECRET_KEY}`, `a_${SECRET_KEY}`, `key%3D${SECRET_KEY}`, `Authorization: Bearer%20${SECRET_KEY}`, `secret ${identify}`]) {
      const redacted = redactSecrets(text);
      expect(redacted).not.toContain(SECRET_KEY.slice(11));
      expect(redacted).not.toContain(identify.slice(13));
    }
  });

  it('leaves ordinary paths, ids and URLs readable', () => {
    const text =
      'GET /v1/notifications/7 from https://shop.example/cart/42 and https://shop.example/products/blue-sneakers-limited-edition took 12.5 ms at 2026-11-29T10:00:00.000Z pk_public';
    expect(redactSecrets(text)).toBe(text);
  });
});
