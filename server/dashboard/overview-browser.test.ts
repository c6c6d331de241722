// The overview page in real Chromium (Debian's /usr/bin/chromium driven by playwright-core), on a
// demo shop seeded with a month of sample data and on an empty shop: the charts are drawn (one
// drawing per width, the other hidden), the numbers open under "Show numbers", the range picker
// and its quick links work without JavaScript, axe-core finds no serious or critical violation,
// nothing scrolls sideways at 390 px, no error or CSP violation; screenshots at 1280 and 390 px
// go to the test artifacts (dashboard/overview-*.png).
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSession } from '../accounts/sessions.ts';
import { createApp } from '../app.ts';
import { parseConfig } from '../config.ts';
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
if (missing) console.warn(`overview browser tests skipped: ${missing}`);

const NOW = new Date(Date.UTC(2030, 2, 20, 15, 30, 0));

let database: TestDatabase;
let server: Server;
let origin: string;
let demo: CreatedSite;
let empty: CreatedSite;
let browser: ChromiumProfile;
let page: Page;
let shotsDir: string;
let axeSource: string;
const problems: string[] = [];

async function startServer(): Promise<void> {
  ({ server, origin } = await serveApp((origin) => createApp({ config: parseConfig({ PUSHCART_PUBLIC_URL: origin }), db: database.db, logger: memoryLogger(), clientIp: () => '127.0.0.1', now: () => NOW.getTime() })));
}

async function checkPage(name: string): Promise<void> {
  await checkDashboardPage({ page, shotsDir, axeSource, problems }, name);
}

/** The drawing of `chartId` that is shown at the current width: wide or narrow. */
async function visibleDrawing(chartId: string): Promise<string> {
  const shown = await page.locator(`#${chartId} svg.chart-svg:visible`).all();
  expect(shown).toHaveLength(1);
  return (await shown[0]!.getAttribute('class'))!;
}

describe.skipIf(missing !== undefined)('the overview in Chromium', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    await startServer();
    demo = await createSite(database.db, { name: 'Demo <b>shop</b> & “friends”', origins: [origin] }, undefined);
    await markDemoSite(database.db, demo.id);
    const seeded = await seedDemoData(database.db, demo.id, NOW, seededRandom(11));
    expect(seeded.outcome).toBe('seeded');
    empty = await createSite(database.db, { name: 'Brand-new shop', origins: ['https://new.example'] }, undefined);
    const user = await insertUser(database.db, { email: 'owner@shop.example', name: 'Olga Owner', passwordHash: null }, NOW);
    await upsertMembership(database.db, { userId: user!.id, siteId: demo.id, role: 'owner' }, NOW);
    await upsertMembership(database.db, { userId: user!.id, siteId: empty.id, role: 'viewer' }, NOW);
    const session = await startSession(database.db, { userId: user!.id }, NOW);

    shotsDir = join(await artifactsDir(), 'dashboard');
    await mkdir(shotsDir, { recursive: true });
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    browser = await launchChromium({ timezoneId: 'UTC' });
    page = browser.page;
    await browser.context.addCookies([{ name: 'pushcart-session', value: session.token, url: origin, httpOnly: true, sameSite: 'Lax' }]);
    await watchDashboardPage(browser.context, page, problems, { statusPagesExpected: true });
  });

  afterAll(async () => {
    await browser?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await database?.destroy();
  });

  it('draws the demo month: charts for each width, numbers on demand, the lift in words', async () => {
    await page.goto(`${origin}/dashboard/sites/${demo.id}`);
    await page.goto(`${origin}/dashboard/sites/${demo.id}/overview`);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(await page.title()).toBe('Overview · Demo <b>shop</b> & “friends” · Pushcart');
    expect(await page.locator('.subnav a').first().textContent()).toBe('Overview');
    expect(await page.locator('.subnav a[aria-current="page"]').textContent()).toBe('Overview');
    expect(await page.locator('.stat-tile .stat-value').first().textContent()).toMatch(/^\d{1},\d{3}$/);
    for (const chart of ['chart-subscribers', 'chart-funnel', 'chart-pushes', 'chart-clicks', 'chart-revenue', 'chart-lift']) expect(await visibleDrawing(chart)).toContain('chart-wide');
    expect(await page.getByRole('img', { name: /New, lost and net subscribers per day/ }).count()).toBe(1);
    await expect.poll(() => page.locator('.lift-item').first().textContent()).toMatch(/Cart reminders brought \d+ % more orders than the held-out group/);
    // The numbers are hidden until asked for, then a real table.
    const table = page.getByRole('table', { name: 'Subscribers per day' });
    expect(await table.isVisible()).toBe(false);
    await page.locator('#subscribers-title').locator('..').getByText('Show numbers').click();
    expect(await table.isVisible()).toBe(true);
    expect(await table.locator('tbody tr').count()).toBe(30);
    await checkPage('overview');

    await page.setViewportSize({ width: 390, height: 844 });
    for (const chart of ['chart-subscribers', 'chart-funnel', 'chart-pushes', 'chart-clicks', 'chart-revenue', 'chart-lift']) expect(await visibleDrawing(chart)).toContain('chart-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('changes the range with the quick links and the form, and says in words what is wrong', async () => {
    await page.goto(`${origin}/dashboard/sites/${demo.id}/overview`);
    await page.getByRole('link', { name: 'Last 7 days' }).click();
    await page.waitForURL(/from=2030-03-14&to=2030-03-20/);
    expect(await page.getByRole('link', { name: 'Last 7 days' }).getAttribute('aria-current')).toBe('true');
    expect(await page.locator('#chart-subscribers svg.chart-wide rect').count()).toBeGreaterThan(0);
    await checkPage('overview-7-days');

    await page.getByLabel('From', { exact: true }).fill('2030-03-19');
    await page.getByLabel('To', { exact: true }).fill('2030-03-01');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('The start date is after the end date.').waitFor();
    expect(await page.getByLabel('From', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await checkPage('overview-range-error');
  });

  it('an empty shop says what to do instead of drawing empty charts', async () => {
    await page.goto(`${origin}/dashboard/sites/${empty.id}/overview`);
    await page.getByRole('heading', { name: 'No figures yet' }).waitFor();
    expect(await page.locator('svg.chart-svg').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Install the snippet and the service worker' }).getAttribute('href')).toBe(`/dashboard/sites/${empty.id}/install`);
    await checkPage('overview-empty');
  });
});
