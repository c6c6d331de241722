// The dashboard in real Chromium (Debian's /usr/bin/chromium driven by playwright-core): the first
// owner's one-time link → a password → the install page with the tag → the copy button → sign out
// → sign in again. Every page is checked with axe-core (no serious or critical violation), must
// log no error and no Content-Security-Policy violation, must not scroll sideways at 390 px, and is
// photographed at 1280 and 390 px into the test artifacts (dashboard/).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createInvite } from '../accounts/links.ts';
import { upsertMembership } from '../db/memberships.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { installSnippet } from '../sites/install-snippet.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { useDashboardBrowser } from '../testing/dashboard-browser-session.ts';
import { cspViolations } from '../testing/dashboard-page-checks.ts';
import { createFirstOwnerLink } from './links.ts';

const missing = chromiumMissing();
if (missing) console.warn(`dashboard browser tests skipped: ${missing}`);

const PASSWORD = 'a calm and long passphrase';
const OWNER_EMAIL = 'owner@shop.example';

let site: CreatedSite;

const dashboard = useDashboardBrowser({
  shots: 'dashboard',
  statusPagesExpected: true,
  clipboard: true,
  // No one is signed in: the first owner comes in by the printed link.
  async setUp({ db }) {
    site = await createSite(db, { name: 'Browser test shop', origins: ['https://shop.example'] }, undefined);
  },
});

describe.skipIf(missing !== undefined)('the dashboard in Chromium', { timeout: 120_000 }, () => {
  it('from the printed link to a password, the install page and its copy button', async () => {
    const { db, page, origin, problems, checkPage } = dashboard;
    const link = await createFirstOwnerLink(db, { siteId: site.id, email: OWNER_EMAIL, now: new Date(), publicUrl: origin });
    if (link.outcome !== 'password_link') throw new Error(`no password link: ${link.outcome}`);

    await page.goto(link.url);
    await expect.poll(() => page.title()).toBe('Choose your password · Pushcart');
    await checkPage('password-link');

    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill('not the same password');
    await page.getByRole('button', { name: 'Save password and sign in' }).click();
    await page.getByText('The two passwords are not the same').waitFor();
    await checkPage('password-link-error');

    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save password and sign in' }).click();
    // The shop's home is its overview; the install page is one link away.
    await page.waitForURL(`${origin}/dashboard/sites/${site.id}/overview`);
    await page.getByRole('link', { name: 'Install', exact: true }).click();
    await page.waitForURL(`${origin}/dashboard/sites/${site.id}/install`);

    const install = installSnippet(origin, site.publishableKey);
    expect(await page.locator('#install-script-tag').textContent()).toBe(install.scriptTag);
    expect(await page.locator('#install-service-worker').textContent()).toBe(install.serviceWorkerFile);
    await checkPage('install');

    // The enhancement script ran under the CSP: it shows the copy buttons, and they copy.
    const copyTag = page.locator('button[data-copy-target="install-script-tag"]');
    await copyTag.waitFor({ state: 'visible' });
    await copyTag.click();
    await expect.poll(() => copyTag.textContent()).toBe('Copied');
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(install.scriptTag);
    await page.locator('button[data-copy-target="install-service-worker"]').click();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(install.serviceWorkerFile);
    await expect.poll(() => page.locator('#copy-status').textContent()).toBe('Copied to the clipboard');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('edits the allowed origins, saying in words what is wrong', async () => {
    const { db, page, checkPage } = dashboard;
    await page.getByLabel('Origins, one per line').fill('https://shop.example\nhttps://shop.example/checkout');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('The changes were not saved').waitFor();
    await checkPage('install-origins-error');
    await page.getByLabel('Origins, one per line').fill('https://shop.example\nhttps://www.shop.example');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    const row = await db.selectFrom('sites').select('allowed_origins').where('id', '=', site.id).executeTakeFirstOrThrow();
    expect(row.allowed_origins).toEqual(['https://shop.example', 'https://www.shop.example']);
    await checkPage('install-saved');
  });

  it('the account page, the shop list, a read-only install and an invite', async () => {
    const { db, page, origin, checkPage } = dashboard;
    await page.getByRole('link', { name: OWNER_EMAIL }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await checkPage('account');

    // A second shop, where the owner is only a viewer: a switcher and a read-only install.
    const other = await createSite(db, { name: 'Second <b>shop</b>', origins: ['https://second.example'] }, undefined);
    const owner = await db.selectFrom('users').select('id').where('email', '=', OWNER_EMAIL).executeTakeFirstOrThrow();
    await upsertMembership(db, { userId: owner.id, siteId: other.id, role: 'viewer' }, new Date());
    await page.goto(`${origin}/dashboard`);
    await page.waitForURL(`${origin}/dashboard/sites`);
    await checkPage('shop-list');
    await page.getByRole('link', { name: /Second <b>shop<\/b>/ }).click();
    await page.waitForURL(`${origin}/dashboard/sites/${other.id}/overview`);
    await page.getByRole('link', { name: 'Install', exact: true }).click();
    await page.getByText('can see the install but not change it').waitFor();
    expect(await page.getByLabel('Origins, one per line').count()).toBe(0);
    await checkPage('install-viewer');

    const invite = await createInvite(db, { siteId: site.id, email: 'new@shop.example', role: 'editor', createdBy: owner.id }, new Date());
    if (invite.outcome !== 'created') throw new Error('invite not created');
    await page.goto(`${origin}/dashboard/invite/${invite.token}`);
    await page.getByRole('heading', { name: 'Join Browser test shop' }).waitFor();
    await checkPage('invite');

    await page.goto(`${origin}/dashboard/password/${'A'.repeat(43)}`);
    await page.getByRole('heading', { name: 'This link no longer works' }).waitFor();
    await checkPage('dead-link');
    await page.goto(`${origin}/dashboard/nowhere`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await checkPage('not-found');
  });

  it('signs out, refuses a wrong password in words, and signs in again', async () => {
    const { page, origin, problems, shotsDir, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${site.id}/install`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${origin}/dashboard/login?signed-out`);
    await page.getByText('You have been signed out.').waitFor();
    await checkPage('sign-in');

    // Keyboard: the first Tab reaches the skip link, shown while focused; it leads to the content;
    // the next stops are the form's controls, each with a visible focus ring.
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    expect(await skip.evaluate((element) => element === (globalThis as any).document.activeElement)).toBe(true);
    expect((await skip.boundingBox())!.y).toBeGreaterThanOrEqual(0);
    await page.screenshot({ path: join(shotsDir, 'sign-in-skip-link-1280.png') });
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement.id)).toBe('main');
    await page.keyboard.press('Tab');
    const focused = page.locator(':focus');
    expect(await focused.getAttribute('id')).toBe('email');
    expect(await focused.evaluate((element) => (globalThis as any).getComputedStyle(element).outlineStyle)).toBe('solid');
    await page.screenshot({ path: join(shotsDir, 'sign-in-focus-1280.png') });

    await page.goto(`${origin}/dashboard/sites/${site.id}/install`);
    await page.waitForURL(/\/dashboard\/login\?next=/);
    await page.getByLabel('Email').fill(OWNER_EMAIL);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That email and password do not match an account').waitFor();
    await checkPage('sign-in-error');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${origin}/dashboard/sites/${site.id}/install`);
    expect(await page.locator('#install-script-tag').textContent()).toBe(installSnippet(origin, site.publishableKey).scriptTag);
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
