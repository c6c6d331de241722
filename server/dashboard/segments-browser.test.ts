// The segment builder in real Chromium (Debian's /usr/bin/chromium driven by playwright-core), as a
// shop owner uses it: build a segment from two rules and a nested group, watching the live count
// follow each change (and say so when the rules match every subscriber), add and remove rows in
// place, save it, then choose it in a campaign's composer and see the same count there and on the
// review. Every page is checked with axe-core (no serious or critical violation), must log no
// error and no CSP violation, must not scroll sideways at 390 px, and is photographed at 1280 and
// 390 px into the test artifacts (dashboard/).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countSegment } from '../db/segments.ts';
import { findSiteById, updateSiteSettings } from '../db/sites.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { addMember, useDashboardBrowser } from '../testing/dashboard-browser-session.ts';
import { cspViolations } from '../testing/dashboard-page-checks.ts';

const missing = chromiumMissing();
if (missing) console.warn(`segments browser tests skipped: ${missing}`);

const PASSWORD = 'correct horse battery staple';
const ZONE = 'Europe/Berlin';

let site: CreatedSite;

const dashboard = useDashboardBrowser({
  shots: 'dashboard',
  statusPagesExpected: true,
  async setUp({ db }) {
    site = await createSite(db, { name: 'Lamps <b>&</b> more', origins: ['https://shop.example'] }, undefined);
    const settings = readSiteSettings((await findSiteById(db, site.id))!.settings);
    await updateSiteSettings(db, site.id, {
      ...settings,
      engagement: { ...settings.engagement, defaultTimeZone: ZONE, quietHours: { ...settings.engagement.quietHours, enabled: false } },
    });
    await addMember(db, site.id, { email: 'owner@shop.example', name: 'Olga Owner', role: 'owner', password: PASSWORD });
    await subscribe({ plan: 'gold' }, 'de-DE', 'Chrome');
    await subscribe({ plan: 'gold' }, 'de-AT', 'Firefox');
    await subscribe({ plan: 'basic' }, 'fr-FR', 'Chrome');
    await subscribe({}, 'en-US', 'Safari');
    await subscribe({ plan: 'gold' }, 'en-GB', 'Chrome');
  },
});

async function subscribe(tags: Record<string, unknown>, locale: string, browserFamily: string): Promise<void> {
  const now = new Date();
  await dashboard.db
    .insertInto('subscriptions')
    .values({
      site_id: site.id,
      endpoint: `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`,
      p256dh: 'BPublicKeyOfTheBrowser',
      auth: 'AuthSecretOfTheBrowser',
      vapid_public_key: 'BVapid',
      visitor_id: crypto.randomUUID(),
      locale,
      time_zone: ZONE,
      user_agent_family: browserFamily,
      tags: JSON.stringify(tags),
      created_at: now,
      updated_at: now,
      last_seen_at: now,
    })
    .execute();
}

describe.skipIf(missing !== undefined)('the segment pages in Chromium', { timeout: 240_000 }, () => {
  it('an owner builds a segment with two rules and a group, watches the count, saves it and sends a campaign to it', async () => {
    const { db, page, origin, problems, shotsDir, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/login`);
    await page.getByLabel('Email').fill('owner@shop.example');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('heading', { name: 'Segments', level: 1 }).waitFor();
    await checkPage('segments-empty');

    await page.getByRole('link', { name: 'New segment', exact: true }).click();
    await page.getByRole('heading', { name: 'New segment', level: 1 }).waitFor();
    await page.evaluate(() => ((globalThis as any).__samePage = true));
    const count = page.locator('#segment-count-words');
    const everyone = page.locator('#segment-everyone');
    const words = page.locator('#segment-words');
    expect(await count.textContent()).toBe('Choose a rule to see how many subscribers match.');
    const row = (prefix: string) => page.locator(`li.rule-row[data-prefix="${prefix}"]`);

    // A rule every subscriber passes: the page says so.
    await page.getByLabel('Rule 1', { exact: true }).selectOption('clicked_never');
    await expect.poll(() => count.textContent()).toBe('5 of 5 active subscribers match now.');
    expect(await everyone.isVisible()).toBe(true);
    expect(await everyone.textContent()).toContain('This matches every subscriber.');

    // Rule 1: has the tag plan. Its inputs appear as its type is chosen.
    await page.getByLabel('Rule 1', { exact: true }).selectOption('tag_exists');
    expect(await row('rules.0').getByRole('textbox', { name: 'Value' }).count()).toBe(0);
    await row('rules.0').getByRole('textbox', { name: 'Tag' }).fill('plan');
    await expect.poll(() => count.textContent()).toBe('4 of 5 active subscribers match now.');
    expect(await everyone.isVisible()).toBe(false);
    // Rule 2: uses Chrome.
    await page.getByLabel('Rule 2', { exact: true }).selectOption('browser');
    await row('rules.1').getByRole('textbox', { name: 'Values, separated by commas' }).fill('Chrome');
    await expect.poll(() => count.textContent()).toBe('3 of 5 active subscribers match now.');
    // A group: speaks German or French.
    await page.getByRole('button', { name: 'Add a group (“any of these…”)' }).click();
    await page.getByLabel('Group 1, rule 1', { exact: true }).selectOption('language');
    await row('groups.0.rules.0').getByRole('textbox', { name: 'Values, separated by commas' }).fill('de');
    await expect.poll(() => count.textContent()).toBe('1 of 5 active subscribers matches now.');
    await page.getByLabel('Group 1, rule 2', { exact: true }).selectOption('language');
    await row('groups.0.rules.1').getByRole('textbox', { name: 'Values, separated by commas' }).fill('fr');
    await expect.poll(() => count.textContent()).toBe('2 of 5 active subscribers match now.');
    expect(await words.textContent()).toBe('Subscribers who have the tag “plan”, use Chrome and (speak de (any region) or speak fr (any region))');

    // A row added and removed in place: nothing reloads, the count stays.
    await page.getByRole('button', { name: 'Add a rule', exact: true }).click();
    expect(await page.locator('ol[data-rows="rules"] > li.rule-row').count()).toBe(4);
    await page.getByLabel('Rule 4', { exact: true }).selectOption('orders');
    await row('rules.3').getByRole('textbox', { name: 'At least' }).fill('1');
    await expect.poll(() => count.textContent()).toBe('0 of 5 active subscribers match now.');
    await row('rules.3').getByRole('button', { name: 'Remove' }).click();
    expect(await page.locator('ol[data-rows="rules"] > li.rule-row').count()).toBe(3);
    await expect.poll(() => count.textContent()).toBe('2 of 5 active subscribers match now.');
    expect(await page.evaluate(() => (globalThis as any).__samePage)).toBe(true);

    await page.getByLabel('Segment name').fill('German or French <Chrome> fans');
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await checkPage('segment-builder');

    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByText('Saved.', { exact: true }).waitFor();
    expect(await count.textContent()).toBe('2 of 5 active subscribers match now.');
    const stored = await db.selectFrom('segments').selectAll().executeTakeFirstOrThrow();
    expect(stored.definition).toEqual({
      match: 'all',
      rules: [
        { type: 'tag', key: 'plan', op: 'exists' },
        { type: 'browser', values: ['Chrome'] },
        { match: 'any', rules: [{ type: 'language', values: ['de'] }, { type: 'language', values: ['fr'] }] },
      ],
    });
    const counted = await countSegment(db, site.id, stored.definition as never, new Date());
    expect(counted.matching).toBe(2);
    await checkPage('segment-saved');

    await page.getByRole('link', { name: 'Segments', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Segments', level: 1 }).waitFor();
    expect(await page.locator('.segment-table tbody tr').count()).toBe(1);
    expect(await page.locator('.segment-table [data-figure="matching"]').textContent()).toBe('2');
    await checkPage('segments-list');

    // The composer offers it with its count; choosing it, the live count is the same.
    await page.getByRole('link', { name: 'Campaigns', exact: true }).first().click();
    await page.getByRole('link', { name: 'New campaign', exact: true }).click();
    await page.getByRole('heading', { name: 'New campaign', level: 1 }).waitFor();
    await page.getByLabel('Campaign name').fill('Chrome week');
    await page.getByLabel('Title', { exact: true }).fill('Hi {{firstName|there}}');
    await page.getByLabel('Opens', { exact: true }).fill('https://shop.example/sale');
    expect(await page.locator('[data-audience-part="rules"]').isVisible()).toBe(false);
    await page.getByLabel('A saved segment').check();
    expect(await page.locator('[data-audience-part="segment"]').isVisible()).toBe(true);
    await page.getByLabel('Segment', { exact: true }).selectOption({ label: 'German or French <Chrome> fans — 2 subscribers' });
    const audienceCount = page.locator('#audience-count');
    await expect.poll(() => audienceCount.textContent()).toBe('2 subscribers would get it now.');
    expect(await page.locator('#segment-words').textContent()).toContain('Subscribers who have the tag “plan”, use Chrome');
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await checkPage('campaign-composer-segment');
    // The audience card alone, readable in the artifacts (the composer is a long page).
    const audienceCard = page.locator('section[aria-labelledby="audience-title"]');
    await audienceCard.screenshot({ path: join(shotsDir, 'campaign-composer-audience-segment-1280.png') });

    // Rules written here: the same builder, inline, with the composer's count.
    await page.getByLabel('Rules written here').check();
    expect(await page.locator('[data-audience-part="rules"]').isVisible()).toBe(true);
    await page.getByLabel('Rule 1', { exact: true }).selectOption('language');
    await row('rules.0').getByRole('textbox', { name: 'Values, separated by commas' }).fill('en');
    await expect.poll(() => audienceCount.textContent()).toBe('2 subscribers would get it now.');
    await page.getByLabel('Rule 1', { exact: true }).selectOption('clicked_never');
    await expect.poll(() => audienceCount.textContent()).toBe('5 subscribers would get it now. This matches everyone.');
    await audienceCard.screenshot({ path: join(shotsDir, 'campaign-composer-audience-rules-1280.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await audienceCard.screenshot({ path: join(shotsDir, 'campaign-composer-audience-rules-390.png') });
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel('A saved segment').check();
    await expect.poll(() => audienceCount.textContent()).toBe('2 subscribers would get it now.');

    await page.getByRole('button', { name: 'Save and review' }).click();
    await page.getByText('Saved. Look it over below, then send or schedule it.').waitFor();
    expect(await page.locator('#review-count').textContent()).toBe('2 subscribers would get it now.');
    expect(await page.locator('.facts').textContent()).toContain('Segment “German or French <Chrome> fans”');
    await checkPage('campaign-review-segment');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
