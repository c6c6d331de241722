import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryStatus, Role } from '../db/database.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { TestBrowser, signedInBrowser, dashboardMember } from './test-client.ts';

// 10:00 UTC on 24 March 2030: 11:00 in Berlin.
const NOW = new Date(Date.UTC(2030, 2, 24, 10, 0, 0));
const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];
let troubled: CreatedSite;
let calm: CreatedSite;
const members: Record<'owner' | 'viewer', string> = { owner: '', viewer: '' };

function signedIn(userId: string): Promise<TestBrowser> {
  return signedInBrowser(app, database.db, userId, NOW);
}

function member(email: string, sites: Array<[string, Role]>): Promise<string> {
  return dashboardMember(database.db, email, sites, NOW);
}

async function delivery(siteId: string, host: string, row: { status: DeliveryStatus; updatedMs: number; dueMs?: number; lastStatus?: number; lastError: string }) {
  const subscription = await database.db
    .insertInto('subscriptions')
    .values({ site_id: siteId, endpoint: `https://${host}/p/${crypto.randomUUID()}`, p256dh: 'B', auth: 'a', vapid_public_key: 'B', visitor_id: crypto.randomUUID(), created_at: at(-90 * 24 * HOUR), updated_at: at(-90 * 24 * HOUR), last_seen_at: NOW })
    .returning('id')
    .executeTakeFirstOrThrow();
  const notification = await database.db
    .insertInto('notifications')
    .values({ site_id: siteId, kind: 'marketing', content: JSON.stringify({ title: 't', body: 'b', url: 'https://shop.example/' }), audience: '{}', ttl_seconds: 86_400, created_at: at(-24 * HOUR) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await database.db
    .insertInto('deliveries')
    .values({
      notification_id: notification.id,
      subscription_id: subscription.id,
      endpoint: `https://${host}/p/${crypto.randomUUID()}`,
      report_token: 'r',
      status: row.status,
      due_at: at(row.dueMs ?? row.updatedMs),
      last_status: row.lastStatus ?? null,
      last_error: row.lastError,
      created_at: at(-24 * HOUR),
      updated_at: at(row.updatedMs),
    })
    .execute();
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: 'http://localhost:8787' } }).app;
  troubled = await createSite(database.db, { name: 'Troubled <b>shop</b>', origins: ['https://troubled.example'] }, undefined);
  calm = await createSite(database.db, { name: 'Calm shop', origins: ['https://calm.example'] }, undefined);
  // The shop's zone, as PATCH /v1/settings would store it.
  await sql`update sites set settings = settings || jsonb_build_object('engagement', coalesce(settings->'engagement', '{}'::jsonb) || '{"defaultTimeZone":"Europe/Berlin"}'::jsonb)
    where id = ${troubled.id}`.execute(database.db);
  await delivery(troubled.id, 'fcm.googleapis.com', {
    status: 'failed',
    updatedMs: -HOUR,
    lastStatus: 403,
    lastError: 'failed_after_attempts: <img src=x onerror=alert(1)> forbidden',
  });
  await delivery(troubled.id, 'web.push.apple.com', { status: 'queued', updatedMs: -60_000, dueMs: 5 * 60_000, lastStatus: 429, lastError: 'push_host_backoff: too many requests (429)' });
  await delivery(troubled.id, 'fcm.googleapis.com', { status: 'queued', updatedMs: -HOUR, dueMs: 20 * HOUR, lastError: 'quiet_hours: deferred' });
  await delivery(troubled.id, 'fcm.googleapis.com', { status: 'suppressed', updatedMs: -2 * HOUR, lastError: 'frequency_cap: 3 marketing pushes' });
  members.owner = await member('owner@shop.example', [[troubled.id, 'owner'], [calm.id, 'owner']]);
  members.viewer = await member('viewer@shop.example', [[troubled.id, 'viewer']]);
});
afterAll(async () => database?.destroy());

describe('the delivery health page', () => {
  it('says what is wrong, problems first, with times in the shop’s zone and the stored error escaped', async () => {
    const page = await (await signedIn(members.viewer)).get(`/dashboard/sites/${troubled.id}/health`);
    expect(page.status).toBe(200);
    const body = page.body;
    expect(body).toContain('<h2 id="health-summary-title">Needs attention</h2>');
    expect(body).toContain('2 problems, below.');
    // The hostile detail is text, never markup.
    expect(body).not.toContain('<img src=x');
    expect(body).toContain('&lt;img src=x onerror=alert(1)&gt; forbidden');
    expect(body).not.toContain('<b>shop</b>');
    expect(body).toContain('Troubled &lt;b&gt;shop&lt;/b&gt;');
    // Apple's backoff comes before FCM's failure, and both before the rules at work.
    const backoff = body.indexOf('Apple web push (web.push.apple.com) is holding us back');
    const failing = body.indexOf('Google FCM (fcm.googleapis.com) is failing');
    const quiet = body.indexOf('Waiting for quiet hours to end');
    expect(backoff).toBeGreaterThan(0);
    expect(failing).toBeGreaterThan(backoff);
    expect(quiet).toBeGreaterThan(failing);
    expect(body).toContain('1 push waits until today 11:05 because the push service asked us to slow down (HTTP 429, too many requests).');
    expect(body).toContain('1 push waits for the subscriber’s quiet hours to end, until tomorrow 07:00.');
    expect(body).toContain('The frequency cap held back 1 push in the last 24 hours and 1 push in the last 7 days');
    expect(body).toContain('Times in Europe/Berlin.');
    expect(body).toContain('aria-current="page">Delivery health</a>');
  });

  it('says all good for a shop with nothing wrong, and shows the eight weeks of expiry', async () => {
    const page = await (await signedIn(members.owner)).get(`/dashboard/sites/${calm.id}/health`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h2 id="health-summary-title">All good</h2>');
    expect(page.body).toContain('No push service is failing or holding us back.');
    expect(page.body).toContain('Nothing waits for quiet hours, and no push was skipped in the last 7 days.');
    expect(page.body).toContain('Not enough subscribers yet to judge: 0 expired over 8 weeks.');
    expect(page.body.match(/<tr><th scope="row">/g)).toHaveLength(8);
    expect(page.body).toContain('<th scope="row">27 Jan 2030</th>');
  });

  it('is not shown to a member of another shop (404)', async () => {
    const page = await (await signedIn(members.viewer)).get(`/dashboard/sites/${calm.id}/health`);
    expect(page.status).toBe(404);
    expect(page.body).not.toContain('Calm shop');
  });
});
