// The delivery health page in real Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// a demo shop with a month of sample data and pushes in trouble (a push service's 429, a failing
// service with markup in its error, quiet hours, the frequency cap), and a brand-new shop that is
// all good. axe-core finds no serious or critical violation, nothing scrolls sideways at 390 px,
// no error or CSP violation; screenshots at 1280 and 390 px go to the test artifacts
// (dashboard/health-*.png).
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSession } from '../accounts/sessions.ts';
import { createApp } from '../app.ts';
import { parseConfig } from '../config.ts';
import type { DeliveryStatus } from '../db/database.ts';
import { upsertMembership } from '../db/memberships.ts';
import { markDemoSite } from '../db/sites.ts';
import { insertUser } from '../db/users.ts';
import { seedDemoData, seededRandom } from '../demo/demo-data.ts';
import { memoryLogger } from '../logger.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { artifactsDir, chromiumMissing, launchChromium, type ChromiumProfile } from '../testing/browser-chromium.ts';
import { checkDashboardPage, serveApp, watchDashboardPage } from '../testing/dashboard-page-checks.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

const missing = chromiumMissing();
if (missing) console.warn(`delivery health browser tests skipped: ${missing}`);

const NOW = new Date(Date.UTC(2030, 2, 20, 15, 30, 0));
const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

let database: TestDatabase;
let server: Server;
let origin: string;
let demo: CreatedSite;
let fresh: CreatedSite;
let browser: ChromiumProfile;
let page: Page;
let shotsDir: string;
let axeSource: string;
const problems: string[] = [];

async function startServer(): Promise<void> {
  ({ server, origin } = await serveApp((origin) => createApp({ config: parseConfig({ PUSHCART_PUBLIC_URL: origin }), db: database.db, logger: memoryLogger(), clientIp: () => '127.0.0.1', now: () => NOW.getTime() })));
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

async function checkPage(name: string): Promise<void> {
  await checkDashboardPage({ page, shotsDir, axeSource, problems }, name);
}

describe.skipIf(missing !== undefined)('the delivery health page in Chromium', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    await startServer();
    demo = await createSite(database.db, { name: 'Demo <b>shop</b> & “friends”', origins: [origin] }, undefined);
    await markDemoSite(database.db, demo.id);
    expect((await seedDemoData(database.db, demo.id, NOW, seededRandom(11))).outcome).toBe('seeded');
    await delivery(demo.id, 'web.push.apple.com', { status: 'queued', updatedMs: -60_000, dueMs: 4 * 60_000, lastStatus: 429, lastError: 'push_host_backoff: too many requests (429)' });
    await delivery(demo.id, 'fcm.googleapis.com', {
      status: 'failed',
      updatedMs: -2 * HOUR,
      lastStatus: 403,
      lastError: 'failed_after_attempts: gave up after 5 attempts; the last: <script>document.title="owned"</script> a-very-long-unbroken-error-detail-from-the-push-service-that-must-wrap',
    });
    await delivery(demo.id, 'updates.push.services.mozilla.com', { status: 'queued', updatedMs: -HOUR, dueMs: HOUR, lastStatus: 502, lastError: 'push_error: bad gateway' });
    await delivery(demo.id, 'fcm.googleapis.com', { status: 'queued', updatedMs: -HOUR, dueMs: 15 * HOUR, lastError: 'quiet_hours: deferred' });
    await delivery(demo.id, 'fcm.googleapis.com', { status: 'suppressed', updatedMs: -3 * HOUR, lastError: 'frequency_cap: over the cap' });
    fresh = await createSite(database.db, { name: 'Brand-new shop', origins: ['https://new.example'] }, undefined);
    const user = await insertUser(database.db, { email: 'owner@shop.example', name: 'Olga Owner', passwordHash: null }, NOW);
    await upsertMembership(database.db, { userId: user!.id, siteId: demo.id, role: 'owner' }, NOW);
    await upsertMembership(database.db, { userId: user!.id, siteId: fresh.id, role: 'viewer' }, NOW);
    const session = await startSession(database.db, { userId: user!.id }, NOW);

    shotsDir = join(await artifactsDir(), 'dashboard');
    await mkdir(shotsDir, { recursive: true });
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    browser = await launchChromium({ timezoneId: 'UTC' });
    page = browser.page;
    await browser.context.addCookies([{ name: 'pushcart-session', value: session.token, url: origin, httpOnly: true, sameSite: 'Lax' }]);
    await watchDashboardPage(browser.context, page, problems, { statusPagesExpected: false });
  });

  afterAll(async () => {
    await browser?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await database?.destroy();
  });

  it('a shop in trouble: the problems first, reached from the shop’s navigation', async () => {
    await page.goto(`${origin}/dashboard/sites/${demo.id}/overview`);
    await page.getByRole('navigation', { name: 'Shop sections' }).getByRole('link', { name: 'Delivery health' }).click();
    await page.waitForURL(`${origin}/dashboard/sites/${demo.id}/health`);
    expect(await page.locator('h1').textContent()).toBe('Delivery health');
    expect(await page.locator('#health-summary-title').textContent()).toBe('Needs attention');
    const titles = await page.locator('.health-summary .health-finding h3').allTextContents();
    expect(titles.slice(0, 2)).toEqual(['Apple web push (web.push.apple.com) is holding us back', 'Google FCM (fcm.googleapis.com) is failing']);
    expect(await page.title()).not.toBe('owned');
    expect(await page.locator('.health-summary').textContent()).toContain('<script>document.title="owned"</script>');
    expect(await page.locator('.subnav a[aria-current="page"]').textContent()).toBe('Delivery health');
    expect(await page.locator('#expiry-title + .lede + .health-reading').textContent()).toMatch(/expire a week|Not enough subscribers/);
    await checkPage('health-trouble');
  });

  it('a brand-new shop: all good', async () => {
    await page.goto(`${origin}/dashboard/sites/${fresh.id}/health`);
    expect(await page.locator('#health-summary-title').textContent()).toBe('All good');
    await checkPage('health-all-good');
  });
});
