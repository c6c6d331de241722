// The install page's installation check in real Chromium: requests from the shop's origins go
// through the app (a config fetched, a subscription, refusals), then the signed-in owner reads what
// they left on the install page and adds a refused origin with its button. Checked as every
// dashboard page is: axe-core (no serious or critical violation), no console error or CSP
// violation, no sideways scroll at 390 px, screenshots at 1280 and 390 px (dashboard/).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { addMember, useDashboardBrowser } from '../testing/dashboard-browser-session.ts';
import { browserHeaders, browserSubscription } from '../testing/fixtures.ts';

const missing = chromiumMissing();
if (missing) console.warn(`installation check browser tests skipped: ${missing}`);

const NOW = new Date(Date.UTC(2030, 0, 15, 10, 30, 0));
const SHOP = 'https://shop.example';
const STAGING = 'http://staging.shop.example';
const UNSEEN = 'https://another-shop-with-a-long-name.example';
const HOSTILE = 'https://x.example"><img src=x onerror=alert(1)>';

let site: CreatedSite;

const dashboard = useDashboardBrowser({
  shots: 'dashboard',
  statusPagesExpected: false,
  app: () => ({ now: () => NOW.getTime() }),
  async setUp({ db, app }) {
    site = await createSite(db, { name: 'Check <i>shop</i>', origins: [SHOP, STAGING, UNSEEN] }, undefined);

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

    return { signedIn: await addMember(db, site.id, { email: 'owner@shop.example', name: null, role: 'owner' }, NOW) };
  },
});

describe.skipIf(missing !== undefined)('the installation check in Chromium', { timeout: 120_000 }, () => {
  it('says per origin what arrived and what is wrong, and adds a refused origin with one button', async () => {
    const { db, page, origin, shotsDir, checkPage } = dashboard;
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
    const row = await db.selectFrom('sites').select(['allowed_origins', 'name']).where('id', '=', site.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ allowed_origins: [SHOP, STAGING, UNSEEN, 'https://www.shop.example'], name: 'Check <i>shop</i>' });
    expect((await check.innerText()).replace(/\s+/g, ' ')).toContain('No request from https://www.shop.example yet.');
    await checkPage('install-check-added');
  });
});
