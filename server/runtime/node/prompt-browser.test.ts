// The soft prompt as a shop themed it, in real Chromium (as browser.test.ts: Debian's chromium
// driven by playwright-core, PushManager.subscribe stubbed with real subscriptions at the mock push
// service): its look at desktop and phone widths (screenshots kept as test artefacts), its
// keyboard behaviour, and the funnel steps the snippet reports arriving in the daily counters.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, chromiumMissing, collectPageErrors, launchChromium, type ChromiumProfile } from '../../testing/browser-chromium.ts';
import { BrowserPushStub } from '../../testing/browser-push-stub.ts';
import { startBrowserShop, type BrowserShop } from '../../testing/browser-shop.ts';
import { startMockPushService, type MockPushService } from '../../testing/mock-push-service.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.ts';
import { promptFunnel, type PromptFunnelStep } from '../../db/prompt-funnel.ts';
import { localDays } from '../../stats/local-days.ts';
import { DAY_MS } from '../../time.ts';

const missing = chromiumMissing();
if (missing) console.warn(`prompt browser tests skipped: ${missing}`);

const WAIT_MS = 10_000;
const LOGO_URL = 'https://cdn.shop.example/logo.svg';
const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 44 44"><rect width="44" height="44" rx="10" fill="#0f766e"/>' +
  '<path d="M12 16h3l3 12h11l3-9H17" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/>' +
  '<circle cx="19" cy="32" r="1.8" fill="#fff"/><circle cx="28" cy="32" r="1.8" fill="#fff"/></svg>';
const TEXTS = {
  title: 'Never miss a price drop',
  body: 'Get a note when something in your cart gets cheaper or is back in stock. No spam, turn it off any time.',
  allow: 'Turn on',
  later: 'Not now',
};
const SETTINGS = {
  prompt: {
    trigger: 'page_views',
    pageViews: 1,
    theme: { accent: '#0f766e', background: '#ffffff', text: '#1f2328', radius: 14, position: 'bottom-right', logoUrl: LOGO_URL },
    texts: { en: TEXTS },
  },
};

const DARK_SETTINGS = {
  prompt: {
    trigger: 'page_views',
    pageViews: 1,
    theme: { accent: '#fbbf24', background: '#111827', text: '#f3f4f6', radius: 24, position: 'center', logoUrl: LOGO_URL },
    texts: { en: TEXTS },
  },
};

let database: TestDatabase;
let mock: MockPushService;
let shop: BrowserShop;
/** A second shop (its own origin, so its own storage and permission) with a dark theme in the centre. */
let darkShop: BrowserShop;
let shopper: ChromiumProfile;
let errors: string[];

const dialog = (page: Page) => page.locator('#pushcart-prompt [role=dialog]');

/** The site's funnel summed over the days around now (the server's clock is the real one here). */
async function funnel(): Promise<Record<PromptFunnelStep, number>> {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const days = await promptFunnel(database.db, shop.site.id, localDays(day(Date.now() - DAY_MS), day(Date.now() + DAY_MS), 'UTC'));
  const total = {} as Record<PromptFunnelStep, number>;
  for (const { day: _, ...counts } of days) {
    for (const [step, count] of Object.entries(counts)) total[step as PromptFunnelStep] = (total[step as PromptFunnelStep] ?? 0) + count;
  }
  return total;
}

const NONE = { prompt_shown: 0, prompt_accepted: 0, prompt_postponed: 0, permission_granted: 0, permission_denied: 0, permission_dismissed: 0, push_subscribed: 0 };

async function openShop(page: Page, origin = shop.origin): Promise<void> {
  await page.goto(`${origin}/demo`);
  await dialog(page).waitFor({ state: 'visible', timeout: WAIT_MS });
  // Let the entry animation (0.28 s) finish, so pictures show the resting state.
  await page.waitForTimeout(400);
}

describe.skipIf(missing !== undefined)('the themed soft prompt in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    [database, mock] = await Promise.all([createTestDatabase(), startMockPushService()]);
    shop = await startBrowserShop(database.db, mock, SETTINGS);
    darkShop = await startBrowserShop(database.db, mock, DARK_SETTINGS);
    shopper = await launchChromium({ locale: 'en-US', timezoneId: 'Europe/London' });
    await new BrowserPushStub(mock).install(shopper.context);
    // The shop's logo on its CDN (https, another host than the shop), answered here.
    await shopper.context.route(LOGO_URL, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_SVG }));
    errors = collectPageErrors(shopper.page);
  }, 120_000);

  afterAll(async () => {
    await shopper?.close();
    await shop?.close();
    await darkShop?.close();
    await mock?.close();
    await database?.destroy();
  }, 60_000);

  it('looks as themed at 1280 px: logo, texts, two buttons, focus on Allow and no ring around the card; Escape counts as "later"', async () => {
    const page = shopper.page;
    await page.setViewportSize({ width: 1280, height: 800 });
    await openShop(page);

    // An accessible dialog named and described by its texts.
    expect(await page.getByRole('dialog', { name: TEXTS.title }).count()).toBe(1);
    expect(await dialog(page).evaluate((card: any) => card.getRootNode().getElementById(card.getAttribute('aria-describedby')).textContent)).toBe(TEXTS.body);
    expect(await dialog(page).locator('.pushcart-allow').textContent()).toBe(TEXTS.allow);
    expect(await dialog(page).locator('.pushcart-later').textContent()).toBe(TEXTS.later);
    expect(await dialog(page).locator('img').evaluate((img: any) => img.complete && img.naturalWidth > 0), 'the logo loaded').toBe(true);

    // The focus is on the primary button, the ring on it, none on the card.
    const looks = await dialog(page).evaluate((card: any) => {
      const style = (element: any) => (globalThis as any).getComputedStyle(element);
      const allow = card.querySelector('.pushcart-allow');
      return {
        focused: card.getRootNode().activeElement === allow,
        cardOutline: style(card).outlineStyle,
        allowBackground: style(allow).backgroundColor,
        radius: style(card).borderTopLeftRadius,
        animation: style(card).animationName,
        box: card.getBoundingClientRect().toJSON(),
      };
    });
    expect(looks).toMatchObject({ focused: true, cardOutline: 'none', allowBackground: 'rgb(15, 118, 110)', radius: '14px', animation: 'i' });
    // Bottom right, 20 px from the edges.
    expect(looks.box.right).toBeCloseTo(1280 - 20, 0);
    expect(looks.box.bottom).toBeCloseTo(800 - 20, 0);
    // Tab stays within the two buttons.
    await page.keyboard.press('Tab');
    expect(await dialog(page).evaluate((card: any) => card.getRootNode().activeElement?.textContent)).toBe(TEXTS.later);
    await page.keyboard.press('Tab');
    expect(await dialog(page).evaluate((card: any) => card.getRootNode().activeElement?.textContent)).toBe(TEXTS.allow);

    const dir = await artifactsDir();
    const shots = { card: join(dir, 'themed-prompt-1280.png'), page: join(dir, 'themed-prompt-on-page-1280.png') };
    await Promise.all(Object.values(shots).map((file) => rm(file, { force: true })));
    await dialog(page).screenshot({ path: shots.card });
    await page.screenshot({ path: shots.page });

    await page.keyboard.press('Escape');
    await dialog(page).waitFor({ state: 'detached', timeout: WAIT_MS });
    await expect.poll(funnel, { timeout: WAIT_MS }).toEqual({ ...NONE, prompt_shown: 1, prompt_postponed: 1 });
    console.log(`prompt artefacts:\n  ${shots.card}\n  ${shots.page}`);
    expect(errors).toEqual([]);
  });

  it('is a full-width sheet along the bottom at 390 px, and "Allow" counts shown → accepted → granted → subscribed', async () => {
    const page = shopper.page;
    await page.setViewportSize({ width: 390, height: 844 });
    // The "later" of the test before snoozes the prompt: this shopper comes back after the snooze.
    await page.evaluate(() => (globalThis as any).localStorage.removeItem('pushcart:snooze'));
    await openShop(page);
    const box = await dialog(page).evaluate((card: any) => card.getBoundingClientRect().toJSON());
    expect(box).toMatchObject({ left: 0, right: 390, bottom: 844 });
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const shot = join(await artifactsDir(), 'themed-prompt-390.png');
    await rm(shot, { force: true });
    await page.screenshot({ path: shot });
    console.log(`prompt artefact:\n  ${shot}`);

    // Headless Chromium denies requestPermission() without asking (browser.test.ts): the
    // shopper's "Allow" in the browser's own prompt is played by granting it before the click.
    await shopper.context.grantPermissions(['notifications'], { origin: shop.origin });
    const subscribed = page.evaluate(
      () => new Promise((resolve) => (globalThis as any).addEventListener('pushcart:subscribed', resolve, { once: true })),
    );
    await dialog(page).locator('.pushcart-allow').click();
    await subscribed;
    await expect
      .poll(funnel, { timeout: WAIT_MS })
      .toEqual({ ...NONE, prompt_shown: 2, prompt_postponed: 1, prompt_accepted: 1, permission_granted: 1, push_subscribed: 1 });
    expect(errors).toEqual([]);
  });

  it('takes a dark theme in the centre: its colours, the label colour that reads on a light accent, centred', async () => {
    // A newcomer's browser: the push stub holds one subscription per browser, not per origin.
    await shopper.close();
    shopper = await launchChromium({ locale: 'en-US', timezoneId: 'Europe/London' });
    await new BrowserPushStub(mock).install(shopper.context);
    await shopper.context.route(LOGO_URL, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_SVG }));
    errors = collectPageErrors(shopper.page);
    const page = shopper.page;
    await page.setViewportSize({ width: 1280, height: 800 });
    // This shopper asked for reduced motion: the card appears without its entry animation.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await openShop(page, darkShop.origin);
    expect(await dialog(page).evaluate((card: any) => (globalThis as any).getComputedStyle(card).animationName)).toBe('none');
    const looks = await dialog(page).evaluate((card: any) => {
      const style = (element: any) => (globalThis as any).getComputedStyle(element);
      const allow = card.querySelector('.pushcart-allow');
      return { background: style(card).backgroundColor, color: style(card).color, allow: [style(allow).backgroundColor, style(allow).color], box: card.getBoundingClientRect().toJSON() };
    });
    expect(looks).toMatchObject({ background: 'rgb(17, 24, 39)', color: 'rgb(243, 244, 246)', allow: ['rgb(251, 191, 36)', 'rgb(17, 17, 17)'] });
    expect((looks.box.left + looks.box.right) / 2).toBeCloseTo(640, 0);
    expect((looks.box.top + looks.box.bottom) / 2).toBeCloseTo(400, 0);
    const shot = join(await artifactsDir(), 'themed-prompt-dark-center-1280.png');
    await rm(shot, { force: true });
    await page.screenshot({ path: shot });
    console.log(`prompt artefact:\n  ${shot}`);
    // A page's own --pushcart-* properties on :root (the earlier way to theme) still win.
    await page.evaluate(() => (globalThis as any).document.documentElement.style.setProperty('--pushcart-accent', '#ff0000'));
    expect(await dialog(page).locator('.pushcart-allow').evaluate((allow: any) => (globalThis as any).getComputedStyle(allow).backgroundColor)).toBe('rgb(255, 0, 0)');
    await dialog(page).locator('.pushcart-later').click();
    await dialog(page).waitFor({ state: 'detached', timeout: WAIT_MS });
    expect(errors).toEqual([]);
  });
});
