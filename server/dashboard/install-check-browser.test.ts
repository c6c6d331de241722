// The install page's installation check in real Chromium: requests from the shop's origins go
// through the app (a config fetched, a subscription, refusals), then the signed-in owner reads what
// they left on the install page and adds a refused origin with its button. Checked as every
// dashboard page is: axe-core (no serious or critical violation), no console error or CSP
// violation, no sideways scroll at 390 px, screenshots at 1280 and 390 px (dashboard/).
import { serve } from '@hono/node-server';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

const missing = chromiumMissing();
if (missing) console.warn(`installation check browser tests skipped: ${missing}`);

const NOW = new Date(Date.UTC(2030, 0, 15, 10, 30, 0));
const WIDTHS = [1280, 390] as const;
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
  let ready: App | undefined;
  server = serve({
    fetch: (request, env) => (ready ? ready.fetch(request, env) : new Response('starting', { status: 503 })),
    port: 0,
    hostname: '127.0.0.1',
  }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', resolve);
    server.once('error', reject);
  });
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  app = createApp({ config: parseConfig({ PUSHCART_PUBLIC_URL: origin }), db: database.db, logger: memoryLogger(), clientIp: () => '127.0.0.1', now: () => NOW.getTime() });
  ready = app;
}

async function checkPage(name: string): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    await page.screenshot({ path: join(shotsDir, `${name}-${width}.png`), fullPage: true });
    const scrollWidth = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number);
    expect(scrollWidth, `${name} at ${width} px scrolls sideways`).toBeLessThanOrEqual(width);
    await page.evaluate(axeSource);
    const { rulesRun, violations } = await page.evaluate(async () => {
      const result = await (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] });
      return {
        rulesRun: result.passes.length + result.violations.length + result.incomplete.length,
        violations: result.violations.map((violation: any) => ({ id: violation.id, impact: violation.impact, help: violation.help })),
      };
    });
    expect(rulesRun, `${name}: axe rules applied`).toBeGreaterThan(10);
    expect(violations.filter((violation: any) => violation.impact === 'serious' || violation.impact === 'critical'), `${name} at ${width} px`).toEqual([]);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  expect(await page.evaluate(() => (globalThis as any).__cspViolations as string[])).toEqual([]);
  expect(problems, `${name}: errors in the page`).toEqual([]);
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
    await browser.context.addInitScript(() => {
      const g = globalThis as any;
      g.__cspViolations = [];
      g.document.addEventListener('securitypolicyviolation', (event: any) => g.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`));
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console.error: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
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
