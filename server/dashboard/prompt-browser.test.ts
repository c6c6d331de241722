// The soft prompt page in real Chromium (Debian's /usr/bin/chromium driven by playwright-core): the
// preview frames draw the snippet's own prompt, follow the form as the owner types (a colour, a
// title), the page saves, and a text too faint for its background is refused beside its field.
// Every state is checked with axe-core (no serious or critical violation), must log no error and
// no Content-Security-Policy violation (in the page or its frames), must not scroll sideways at
// 390 px, and is photographed at 1280 and 390 px into the test artifacts (dashboard/).
import type { Frame } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { findSiteById } from '../db/sites.ts';
import { buildClientBundles } from '../runtime/node/client-bundles.ts';
import { changeSiteSettings } from '../settings/change-settings.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { readSiteSettings, type SiteSettingsPatch } from '../sites/site-settings.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { addMember, useDashboardBrowser } from '../testing/dashboard-browser-session.ts';

const missing = chromiumMissing();
if (missing) console.warn(`prompt page browser tests skipped: ${missing}`);

const PASSWORD = 'a calm and long passphrase';
const EMAIL = 'editor@shop.example';

let site: CreatedSite;

const dashboard = useDashboardBrowser({
  shots: 'dashboard',
  statusPagesExpected: true,
  app: async () => ({ clientScripts: await buildClientBundles() }),
  // The frames are scaled to the room they have once the script has measured it.
  afterResize: (page) => page.waitForTimeout(150),
  async setUp({ db, origin }) {
    site = await createSite(db, { name: 'Prompt <b>test</b> shop', origins: ['https://shop.example'] }, undefined);
    const stored = await findSiteById(db, site.id);
    await changeSiteSettings(
      db,
      stored!,
      {
        prompt: {
          texts: {
            en: { title: 'Hear about price drops?', body: 'One note when something in your cart gets cheaper. No spam, ever.', allow: 'Turn on', later: 'Not now' },
            fr: { title: 'Des baisses de prix ?', body: 'Un message quand votre panier baisse.', allow: 'Activer', later: 'Plus tard' },
          },
        },
      } as SiteSettingsPatch,
      { publicUrl: origin, actor: undefined, now: new Date() },
    );
    await addMember(db, site.id, { email: EMAIL, name: 'Eddie <i>Editor</i>', role: 'editor', password: PASSWORD });
  },
});

function previewFrame(view: 'desktop' | 'phone'): Frame {
  const frame = dashboard.page.frames().find((candidate) => new URL(candidate.url()).pathname.endsWith('/prompt/preview') && new URL(candidate.url()).searchParams.get('view') === view);
  if (!frame) throw new Error(`no ${view} preview frame`);
  return frame;
}

/** What the snippet's prompt in a frame shows: its title and the Allow button's colours (locators pierce its open shadow root). */
async function drawnPrompt(view: 'desktop' | 'phone') {
  const frame = previewFrame(view);
  const allow = frame.locator('#pushcart-prompt .pushcart-allow');
  return {
    title: await frame.locator('#pushcart-prompt h2').textContent({ timeout: 5000 }),
    allowBackground: await allow.evaluate((button) => (globalThis as any).getComputedStyle(button).backgroundColor as string),
    // The layout width, not getBoundingClientRect's: the card's entry animation scales it for a moment.
    cardWidth: await frame.locator('#pushcart-prompt .c').evaluate((card) => (card as any).offsetWidth as number),
    staticLeft: await frame.locator('#static-prompt').count(),
  };
}

describe.skipIf(missing !== undefined)('the soft prompt page in Chromium', { timeout: 120_000 }, () => {
  it('previews the real prompt live on a desktop and a phone, saves, and refuses a faint text beside its field', async () => {
    const { db, page, origin, problems, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/login`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/dashboard\/sites\//);
    await page.goto(`${origin}/dashboard/sites/${site.id}/prompt`);
    await page.getByRole('heading', { name: 'Soft prompt', level: 1 }).waitFor();

    // The snippet's prompt replaced the server's drawing in both frames, in the stored theme.
    await expect.poll(async () => (await drawnPrompt('desktop')).title).toBe('Hear about price drops?');
    const desktop = await drawnPrompt('desktop');
    const phone = await drawnPrompt('phone');
    expect(desktop).toMatchObject({ allowBackground: 'rgb(37, 87, 214)', staticLeft: 0, cardWidth: 384 });
    // The phone frame is 390 px wide, so the snippet's own phone layout applies: a full-width sheet.
    expect(phone).toMatchObject({ title: 'Hear about price drops?', allowBackground: 'rgb(37, 87, 214)', staticLeft: 0, cardWidth: 390 });
    await checkPage('prompt');

    // Typing changes both previews at once, and the focus stays where the owner types.
    const title = page.getByLabel('Title (English (en))');
    await title.fill('Never miss a <b>deal</b>');
    await page.getByLabel('Button colour', { exact: true }).fill('#0f766e');
    await expect.poll(async () => (await drawnPrompt('desktop')).title).toBe('Never miss a <b>deal</b>');
    await expect.poll(async () => (await drawnPrompt('phone')).allowBackground).toBe('rgb(15, 118, 110)');
    expect((await drawnPrompt('desktop')).allowBackground).toBe('rgb(15, 118, 110)');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('f-accent');
    await checkPage('prompt-typed');

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(`${origin}/dashboard/sites/${site.id}/prompt?saved`);
    await page.getByText('Saved. Shops show the new prompt').waitFor();
    const saved = readSiteSettings((await findSiteById(db, site.id))!.settings).prompt;
    expect(saved.theme.accent).toBe('#0f766e');
    expect(saved.texts.en?.title).toBe('Never miss a <b>deal</b>');
    await expect.poll(async () => (await drawnPrompt('desktop')).title).toBe('Never miss a <b>deal</b>');

    // A text colour too faint for the card: refused, said beside the field, nothing stored.
    await page.getByLabel('Text colour', { exact: true }).fill('#bbbbbb');
    await page.getByText('Text contrast 1.9:1: too faint').waitFor();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('#f-text-error').waitFor();
    expect(await page.locator('#f-text-error').textContent()).toContain('has a contrast of 1.9:1; at least 4.5:1 is needed');
    expect(await page.getByLabel('Text colour', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(readSiteSettings((await findSiteById(db, site.id))!.settings).prompt.theme.text).toBe(saved.theme.text);
    await checkPage('prompt-error');

    // Working on another language's texts previews those.
    await page.getByLabel('Title (new language)').fill('Ne manquez aucune baisse de prix');
    await expect.poll(async () => (await drawnPrompt('phone')).title).toBe('Ne manquez aucune baisse de prix');
    expect(await page.locator('#preview-locale').textContent()).toBe('the new language');
    expect(problems).toEqual([]);
  });

  it('removes a language’s texts after asking, and keeps the default language’s, saying why', async () => {
    const { db, page, origin, problems, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${site.id}/prompt`);
    await page.getByText('The default language’s texts cannot be removed').waitFor();
    await page.getByRole('link', { name: 'Remove French (fr) texts' }).click();
    await page.getByRole('heading', { name: 'Remove the texts for French (fr)?' }).waitFor();
    await checkPage('prompt-remove');
    // Cancel leaves them in place.
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.getByLabel('Title (French (fr))').waitFor();
    expect(readSiteSettings((await findSiteById(db, site.id))!.settings).prompt.texts.fr).toBeDefined();

    await page.getByRole('link', { name: 'Remove French (fr) texts' }).click();
    await page.getByRole('button', { name: 'Remove the French (fr) texts' }).click();
    await page.waitForURL(`${origin}/dashboard/sites/${site.id}/prompt?removed=fr`);
    await page.getByText('Removed the texts for French (fr).').waitFor();
    expect(await page.getByLabel('Title (French (fr))').count()).toBe(0);
    expect(Object.keys(readSiteSettings((await findSiteById(db, site.id))!.settings).prompt.texts)).toEqual(['en']);
    await checkPage('prompt-removed');

    // The default language's page says why its texts stay, and offers no button.
    await page.goto(`${origin}/dashboard/sites/${site.id}/prompt/remove?locale=en`);
    await page.getByRole('heading', { name: 'English (en) is the shop’s default language' }).waitFor();
    expect(await page.getByRole('button', { name: /Remove/ }).count()).toBe(0);
    await checkPage('prompt-remove-default');
    expect(problems).toEqual([]);
  });
});
