// The delivery health page in real Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// a demo shop with a month of sample data and pushes in trouble (a push service's 429, a failing
// service with markup in its error, quiet hours, the frequency cap), and a brand-new shop that is
// all good. axe-core finds no serious or critical violation, nothing scrolls sideways at 390 px,
// no error or CSP violation; screenshots at 1280 and 390 px go to the test artifacts
// (dashboard/health-*.png).
import { describe, expect, it } from 'vitest';
import type { DeliveryStatus } from '../db/database.ts';
import { upsertMembership } from '../db/memberships.ts';
import { markDemoSite } from '../db/sites.ts';
import { seedDemoData, seededRandom } from '../demo/demo-data.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { addMember, useDashboardBrowser } from '../testing/dashboard-browser-session.ts';

const missing = chromiumMissing();
if (missing) console.warn(`delivery health browser tests skipped: ${missing}`);

const NOW = new Date(Date.UTC(2030, 2, 20, 15, 30, 0));
const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

let demo: CreatedSite;
let fresh: CreatedSite;

const dashboard = useDashboardBrowser({
  shots: 'dashboard',
  statusPagesExpected: false,
  app: () => ({ now: () => NOW.getTime() }),
  chromium: { timezoneId: 'UTC' },
  async setUp({ db, origin }) {
    demo = await createSite(db, { name: 'Demo <b>shop</b> & “friends”', origins: [origin] }, undefined);
    await markDemoSite(db, demo.id);
    expect((await seedDemoData(db, demo.id, NOW, seededRandom(11))).outcome).toBe('seeded');
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
    fresh = await createSite(db, { name: 'Brand-new shop', origins: ['https://new.example'] }, undefined);
    const owner = await addMember(db, demo.id, { email: 'owner@shop.example', name: 'Olga Owner', role: 'owner' }, NOW);
    await upsertMembership(db, { userId: owner, siteId: fresh.id, role: 'viewer' }, NOW);
    return { signedIn: owner };
  },
});

async function delivery(siteId: string, host: string, row: { status: DeliveryStatus; updatedMs: number; dueMs?: number; lastStatus?: number; lastError: string }) {
  const subscription = await dashboard.db
    .insertInto('subscriptions')
    .values({ site_id: siteId, endpoint: `https://${host}/p/${crypto.randomUUID()}`, p256dh: 'B', auth: 'a', vapid_public_key: 'B', visitor_id: crypto.randomUUID(), created_at: at(-90 * 24 * HOUR), updated_at: at(-90 * 24 * HOUR), last_seen_at: NOW })
    .returning('id')
    .executeTakeFirstOrThrow();
  const notification = await dashboard.db
    .insertInto('notifications')
    .values({ site_id: siteId, kind: 'marketing', content: JSON.stringify({ title: 't', body: 'b', url: 'https://shop.example/' }), audience: '{}', ttl_seconds: 86_400, created_at: at(-24 * HOUR) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await dashboard.db
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

describe.skipIf(missing !== undefined)('the delivery health page in Chromium', { timeout: 180_000 }, () => {
  it('a shop in trouble: the problems first, reached from the shop’s navigation', async () => {
    const { page, origin, checkPage } = dashboard;
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
    const { page, origin, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${fresh.id}/health`);
    expect(await page.locator('#health-summary-title').textContent()).toBe('All good');
    await checkPage('health-all-good');
  });
});
