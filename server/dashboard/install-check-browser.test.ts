// The install page's installation check in real Chromium: requests from the shop's origins go
// through the app (a config fetched, a subscription, refusals), then the signed-in owner reads what
// they left on the install page and adds a refused origin with its button. Checked as every
// dashboard page is: axe-core (no serious or critical violation), no console error or CSP
// violation, no sideways scroll at 390 px, screenshots at 1280 and 390 px (dashboard/).
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSession } from '../accounts/sessions.ts';
import { createApp, type App } from '../app.ts';
import { parseConfig } from '../config.ts';
import { upsertMembership } from '../db/memberships.ts';
import { insertUser } from '../db/users.ts';
import { memoryLogger } from '../logger.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { artifactsDir, chromiumMissing, launchChromium, type ChromiumProfile } from '../testing/browser-chromium.ts';
import { browserHeaders, browserSubscription } from '../testing/fixtures.ts';
import { checkDashboardPage, serveApp, watchDashboardPage } from '../testing/dashboard-page-checks.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

const missing = chromiumMissing();
if (missing) console.warn(`installation check browser tests skipped: ${missing}`);

const NOW = new Date(Date.UTC(2030, 0, 15, 10, 30, 0));
const SHOP = 'https://shop.example';
const STAGING = 'http://staging.shop.example';
const UNSEEN = 'https://another-shop-with-a-long-name.example';
const HOSTILE = 'https://x.example"><img src=x onerror=alert(1)>';

let database: TestDatabase;
let server: Server;
let origin: string;
let app: App;
let site: CreatedSite;
let browser: ChromiumProfile;
let page: Page;
let shotsDir: string;
let axeSource: string;
const problems: string[] = [];

async function startServer(): Promise<void> {
  ({ server, origin } = await serveApp((origin) => (app = createApp({ config: parseConfig({ PUSHCART_PUBLIC_URL: origin }), db: database.db, logger: memoryLogger(), clientIp: () => '127.0.0.1', now: () => NOW.getTime() }))));
}

async function checkPage(name: string): Promise<void> {
  await checkDashboardPage({ page, shotsDir, axeSource, problems }, name);
}

describe.skipIf(missing !== undefined)('the installation check in Chromium', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    await startServer();
    site = await createSite(database.db, { name: 'Check <i>shop</i>', origins: [SHOP, STAGING, UNSEEN] }, undefined);
    shotsDir = join(await artifactsDir(), 'dashboard');
    await mkdir(shotsDir, { recursive: true });
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    browser = await launchChromium();
    page = browser.page;
    await watchDashboardPage(browser.context, page, problems, { statusPagesExpected: false });
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });

    // What the shop's pages would send: the config from two origins, a subscription from one,
    // and config requests from origins the site does not list.
    const config = (from: string) => app.request(`/v1/sites/${site.publishableKey}/config`, { headers: { Origin: from } });
    expect((await config(SHOP)).status).toBe(200);
    expect((await config(STAGING)).status).toBe(200);
    const subscribed = await app.request('/v1/subscriptions', {
      method: 'POST',
      headers: browserHeaders(site, SHOP),
      body: JSON.stringify({ subscription: await browserSubscription(), visitorId: 'visitor-0001' }),
    });
    expect(subscribed.status).toBe(201);
    expect((await config('https://www.shop.example')).status).toBe(403);
    expect((await config(HOSTILE)).status).toBe(403);

    const user = await insertUser(database.db, { email: 'owner@shop.example', name: null, passwordHash: null }, NOW);
    await upsertMembership(database.db, { userId: user!.id, siteId: site.id, role: 'owner' }, NOW);
    const { token } = await startSession(database.db, { userId: user!.id }, NOW);
    await browser.context.addCookies([{ name: 'pushcart-session', value: token, url: origin, httpOnly: true, sameSite: 'Lax' }]);
  });

  afterAll(async () => {
    await browser?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await database?.destroy();
  });

  it('says per origin what arrived and what is wrong, and adds a refused origin with one button', async () => {
    await page.goto(`${origin}/dashboard/sites/${site.id}/install`);
    const check = page.locator('section', { has: page.getByRole('heading', { name: 'Installation check' }) });
    await check.waitFor();
    const text = (await check.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain(`Seen from ${SHOP} at 10:30 (config), last subscription 10:30.`);
    expect(text).toContain(`Seen from ${STAGING} at 10:30 (config), but no subscription has arrived from it yet.`);
    expect(text).toContain('Push needs https');
    expect(text).toContain(`No request from ${UNSEEN} yet.`);
    expect(text).toContain('https://www.shop.example tried at 10:30 but isn’t allowed.');
    expect(text).toContain(`${HOSTILE} tried at 10:30 but isn’t allowed.`);
    expect(text).toContain('No browser on a shop page sends an origin like this');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await checkPage('install-check');
    await page.setViewportSize({ width: 390, height: 844 });
    await check.screenshot({ path: join(shotsDir, 'install-check-section-390.png') });
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.getByRole('button', { name: 'Add https://www.shop.example to the allowed origins' }).click();
    await page.getByText('Saved.').waitFor();
    const row = await database.db.selectFrom('sites').select(['allowed_origins', 'name']).where('id', '=', site.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ allowed_origins: [SHOP, STAGING, UNSEEN, 'https://www.shop.example'], name: 'Check <i>shop</i>' });
    expect((await check.innerText()).replace(/\s+/g, ' ')).toContain('No request from https://www.shop.example yet.');
    await checkPage('install-check-added');
  });
});
