// The Keys, Team and Audit log pages in real Chromium (as dashboard-browser.test.ts): an owner
// creates a secret key, sees it once (a reload does not show it again), copies it and revokes it;
// invites a member and hands the link to a second, fresh browser profile, which joins; the audit
// log then says all of it in words. Every page is checked with axe-core (no serious or critical
// violation), logs no error or CSP violation, does not scroll sideways at 390 px, and is
// photographed at 1280 and 390 px into the test artifacts (dashboard-team/).
import { describe, expect, it } from 'vitest';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { addMember, useDashboardBrowser } from '../testing/dashboard-browser-session.ts';

const missing = chromiumMissing();
if (missing) console.warn(`team browser tests skipped: ${missing}`);

const PASSWORD = 'a calm and long passphrase';

let site: CreatedSite;
let inviteUrl: string;

const dashboard = useDashboardBrowser({
  shots: 'dashboard-team',
  statusPagesExpected: true,
  clipboard: true,
  async setUp({ db }) {
    site = await createSite(db, { name: 'Team test <shop>', origins: ['https://shop.example'] }, undefined);
    return { signedIn: await addMember(db, site.id, { email: 'owner@shop.example', name: 'Ana <Owner>', role: 'owner' }) };
  },
});

function apiStatus(secretKey: string): Promise<number> {
  return fetch(`${dashboard.origin}/v1/settings`, { headers: { Authorization: `Bearer ${secretKey}` } }).then((response) => response.status);
}

describe.skipIf(missing !== undefined)('keys, team and audit log in Chromium', { timeout: 120_000 }, () => {
  it('creates a secret key, shows it once with a copy button, and revokes it', async () => {
    const { page, origin, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${site.id}/keys`);
    await page.getByRole('heading', { name: 'Keys', level: 1 }).waitFor();
    expect(await page.locator('#publishable-key').textContent()).toBe(site.publishableKey);
    await checkPage('keys');

    await page.getByLabel('Name').fill('backend');
    await page.getByRole('button', { name: 'Create secret key' }).click();
    await page.getByRole('heading', { name: 'Your new secret key' }).waitFor();
    const secretKey = (await page.locator('#new-secret-key').textContent())!;
    expect(secretKey).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(await apiStatus(secretKey)).toBe(200);
    const copy = page.locator('button[data-copy-target="new-secret-key"]');
    await copy.waitFor({ state: 'visible' });
    await copy.click();
    await expect.poll(() => copy.textContent()).toBe('Copied');
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(secretKey);
    await checkPage('key-created');

    // A reload sends the form again: the answer refuses a second key of that name and shows no key.
    await page.reload();
    await page.getByText('A live key is already called “backend”').waitFor();
    expect(await page.content()).not.toContain(secretKey);
    await page.goto(`${origin}/dashboard/sites/${site.id}/keys`);
    expect(await page.content()).not.toContain(secretKey);

    await page.getByRole('link', { name: new RegExp(`Revoke backend ${secretKey.slice(0, 11)}`) }).click();
    await page.getByRole('heading', { name: 'Revoke a secret key' }).waitFor();
    await checkPage('key-revoke-confirm');
    await page.getByRole('button', { name: 'Revoke the key' }).click();
    await page.getByText(`Revoked the key “backend” (${secretKey.slice(0, 11)}…)`).waitFor();
    expect(await apiStatus(secretKey)).toBe(401);
    await checkPage('keys-revoked');
  });

  it('invites a member, keeps the last owner, and the link joins from a fresh browser', async () => {
    const { origin, checkPage } = dashboard;
    let { page } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${site.id}/team`);
    await page.getByRole('heading', { name: 'Team', level: 1 }).waitFor();
    await checkPage('team');

    await page.getByLabel('Role of owner@shop.example').selectOption('viewer');
    await page.getByRole('button', { name: 'Change the role of owner@shop.example' }).click();
    await page.getByText('a shop must keep at least one owner').waitFor();
    await checkPage('team-last-owner');

    await page.getByLabel('Email').fill('newcomer@shop.example');
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Make an invite link' }).click();
    await page.getByRole('heading', { name: 'Invite link for newcomer@shop.example' }).waitFor();
    inviteUrl = (await page.locator('#invite-link').textContent())!;
    expect(inviteUrl).toMatch(new RegExp(`^${origin}/dashboard/invite/[A-Za-z0-9_-]{43}$`));
    await checkPage('invite-created');

    await page.goto(`${origin}/dashboard/sites/${site.id}/team`);
    await page.getByText('newcomer@shop.example', { exact: true }).waitFor();
    await checkPage('team-pending-invite');

    await page.goto(`${origin}/dashboard/sites/${site.id}/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).first().waitFor();
    const words = await page.locator('.audit-words').allTextContents();
    expect(words[0]).toBe('Ana <Owner> invited newcomer@shop.example as a viewer');
    expect(words[1]).toMatch(/^Ana <Owner> revoked the secret key 'backend' \(sk_/);
    expect(words[2]).toMatch(/^Ana <Owner> created the secret key 'backend' \(sk_/);
    await checkPage('audit');

    // A second profile: no cookie of the owner's, as the invited person's own browser.
    page = await dashboard.reopenBrowser();
    await page.goto(inviteUrl);
    await page.getByRole('heading', { name: 'Join Team test <shop>' }).waitFor();
    await page.getByLabel('Your name').fill('Newcomer');
    await page.getByLabel('Choose a password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: /join/i }).click();
    await page.waitForURL(`${origin}/dashboard/sites/${site.id}/overview`);
    await page.goto(`${origin}/dashboard/sites/${site.id}/team`);
    await page.getByText('can see the team but not change it').waitFor();
    expect(await page.getByRole('link', { name: 'Keys' }).count()).toBe(0);
    await checkPage('team-viewer');
  });
});
