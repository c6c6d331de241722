import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_FIELD_NAME } from '../accounts/csrf.ts';
import type { Role } from '../db/database.ts';
import { recordOriginRefused, recordOriginSeen } from '../db/origins-seen.ts';
import { findSiteById, updateSiteSettings } from '../db/sites.ts';
import { createSite } from '../sites/create-site.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { csrfTokenIn, TestBrowser, signedInBrowser, dashboardMember } from './test-client.ts';

// 11:30 in Berlin (UTC+1 in January).
const NOW = new Date(Date.UTC(2030, 0, 15, 10, 30, 0));
const berlin = (hours: number, minutes: number) => new Date(Date.UTC(2030, 0, 15, hours - 1, minutes));
const SHOP = 'https://shop.example';
const SECOND = 'https://second.example';
const HOSTILE = 'https://x.example"><script>alert(1)</script>';

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];
let site: { id: string };
const users = { owner: '', viewer: '' };

function member(email: string, role: Role): Promise<string> {
  return dashboardMember(database.db, email, [[site.id, role]], NOW);
}

function signedIn(userId: string): Promise<TestBrowser> {
  return signedInBrowser(app, database.db, userId, NOW);
}

const unescapeHtml = (text: string) =>
  text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');

/** The section of the page between the check's heading and the next card. */
function checkSection(page: string): string {
  const start = page.indexOf('<h2 id="check-title">');
  expect(start, 'the page has an installation check').toBeGreaterThan(0);
  return page.slice(start, page.indexOf('</section>', start));
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime() }).app;
  site = await createSite(database.db, { name: 'Shop <b>A</b>', origins: [SHOP, SECOND] }, undefined);
  const settings = readSiteSettings((await findSiteById(database.db, site.id))!.settings);
  await updateSiteSettings(database.db, site.id, { ...settings, engagement: { ...settings.engagement, defaultTimeZone: 'Europe/Berlin' } });
  users.owner = await member('owner@shop.example', 'owner');
  users.viewer = await member('viewer@shop.example', 'viewer');

  const allowed = { id: site.id, allowedOrigins: [SHOP, SECOND] };
  await recordOriginSeen(database.db, site.id, SHOP, 'config', berlin(11, 2));
  await recordOriginSeen(database.db, site.id, SHOP, 'subscription', berlin(10, 58));
  const notAllowed = (origin: string) => ({ request: 'config' as const, code: 'origin_not_allowed', detail: `Origin ${origin} is not one of this site’s origins` });
  await recordOriginRefused(database.db, allowed, 'https://www.shop.example', notAllowed('https://www.shop.example'), berlin(10, 40));
  await recordOriginRefused(database.db, allowed, HOSTILE, notAllowed(HOSTILE), berlin(10, 41));
});
afterAll(async () => database?.destroy());

describe('the install page’s installation check', () => {
  it('says per origin what was seen, in the site’s time zone, and what is wrong where nothing came', async () => {
    const page = await (await signedIn(users.owner)).get(`/dashboard/sites/${site.id}/install`);
    expect(page.status).toBe(200);
    const section = unescapeHtml(checkSection(page.body));
    expect(section).toContain('Times are in Europe/Berlin');
    expect(section).toContain('Seen from https://shop.example at 11:02 (config), last subscription 10:58.');
    expect(section).toContain('No request from https://second.example yet.');
    expect(section).toContain('the script tag is not on the shop’s pages');
    expect(section).toContain('https://www.shop.example tried at 10:40 but isn’t allowed.');
    expect(section).toContain('add exactly https://www.shop.example to the allowed origins');
  });

  it('escapes an origin a stranger sent, everywhere it appears', async () => {
    const page = await (await signedIn(users.owner)).get(`/dashboard/sites/${site.id}/install`);
    expect(page.body).not.toContain('<script>alert(1)</script>');
    expect(page.body).toContain('https://x.example&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; tried at 10:41 but isn’t allowed.');
    // It is no plain origin: no button offers to add it.
    expect(page.body).not.toContain('Add https://x.example&quot;');
  });

  it('lets an owner add a refused origin with one button, posting the install form', async () => {
    const browser = await signedIn(users.owner);
    const page = await browser.get(`/dashboard/sites/${site.id}/install`);
    const form = /<form method="post" action="([^"]+)" class="check-add">([\s\S]*?)<\/form>/.exec(page.body);
    expect(form, 'an add form').not.toBeNull();
    expect(form![2]).toContain('Add https://www.shop.example to the allowed origins');
    const field = (name: string) => unescapeHtml(new RegExp(`name="${name}" value="([^"]*)"`).exec(form![2]!)![1]!);
    expect(field('name')).toBe('Shop <b>A</b>');
    const response = await browser.post(form![1]!, { [CSRF_FIELD_NAME]: csrfTokenIn(form![2]!), name: field('name'), origins: field('origins') });
    expect(response.status).toBe(303);
    const stored = await findSiteById(database.db, site.id);
    expect(stored!.allowed_origins).toEqual([SHOP, SECOND, 'https://www.shop.example']);
    expect(stored!.name).toBe('Shop <b>A</b>');

    // Now allowed, it is listed among the allowed origins, as not yet seen getting through.
    const after = unescapeHtml(checkSection((await browser.get(`/dashboard/sites/${site.id}/install`)).body));
    expect(after).toContain('No request from https://www.shop.example yet.');
    expect(after).not.toContain('https://www.shop.example tried at');
  });

  it('shows a viewer the check without the button', async () => {
    const page = await (await signedIn(users.viewer)).get(`/dashboard/sites/${site.id}/install`);
    expect(page.status).toBe(200);
    expect(unescapeHtml(checkSection(page.body))).toContain('Seen from https://shop.example at 11:02 (config)');
    expect(page.body).not.toContain('class="check-add"');
  });
});
