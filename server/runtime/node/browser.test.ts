// Issue #4's browser tests: the snippet, the service worker and the server in real Chromium
// (Debian's /usr/bin/chromium driven by playwright-core, which downloads no browser). Push is the one thing
// Chromium cannot do here: PushManager.subscribe is stubbed with REAL subscriptions at the strict
// mock push service (server/testing/browser-push-stub.ts), and what the mock decrypts is handed to
// the service worker through the DevTools Protocol.
//
// The tests run in order and share one shopper's browser: the opt-in of the first makes the
// subscription the later ones push to and renew. A newcomer's browser then checks the demo page
// itself, and a third one a shop on another origin than the push host (the README's install).
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  artifactsDir,
  chromiumMissing,
  closeAllNotifications,
  collectPageErrors,
  devtoolsPush,
  dispatchNotificationEvent,
  launchChromium,
  serviceWorkerOf,
  shownNotifications,
  type ChromiumProfile,
} from '../../testing/browser-chromium.ts';
import { BrowserPushStub } from '../../testing/browser-push-stub.ts';
import { createSite } from '../../sites/create-site.ts';
import { setEngagement } from '../../testing/fixtures.ts';
import { startBrowserShop, startOtherOriginShop, type BrowserShop } from '../../testing/browser-shop.ts';
import { startMockPushService, type MockPushService } from '../../testing/mock-push-service.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.ts';

const missing = chromiumMissing();
if (missing) console.warn(`browser tests skipped: ${missing}`);

const DAY_MS = 86_400_000;
const WAIT_MS = 10_000;
/** The site's prompt rule for these tests: the soft prompt from the second page view on. */
const SETTINGS = { prompt: { trigger: 'page_views', pageViews: 2, snoozeDays: 7 } };
const SHOPPER = { locale: 'de-DE', timezoneId: 'Europe/Berlin' };

let database: TestDatabase;
let mock: MockPushService;
let shop: BrowserShop;
let shopper: ChromiumProfile;
let stub: BrowserPushStub;
let shopperErrors: string[];
let devtools: { worker: Worker; push: Awaited<ReturnType<typeof devtoolsPush>> } | undefined;

/** The soft prompt's dialog, inside the shadow root of #pushcart-prompt (Playwright's CSS pierces open shadow roots). */
const prompt = (page: Page) => page.locator('#pushcart-prompt [role=dialog]');

/**
 * Opens /demo and waits until the snippet has booted (config fetched, service worker ready,
 * subscription re-synced): it then counts the page view and decides about the prompt in the same
 * step, so after this "no prompt" is final. Returns the page-view count the snippet stored.
 */
async function loadShop(page: Page): Promise<number> {
  const views = () => page.evaluate(() => Number((globalThis as any).localStorage.getItem('pushcart:views') ?? 0));
  const before = page.url().startsWith(shop.origin) ? await views() : 0;
  await page.goto(`${shop.origin}/demo`);
  try {
    await page.waitForFunction((expected) => (globalThis as any).localStorage.getItem('pushcart:views') === String(expected), before + 1, { timeout: WAIT_MS });
  } catch (error) {
    const seen = await page.evaluate(() => ({ views: (globalThis as any).localStorage.getItem('pushcart:views'), state: (globalThis as any).pushcart?.state }));
    throw new Error(`the snippet did not finish booting (expected page view ${before + 1}): ${JSON.stringify(seen)}`, { cause: error });
  }
  return before + 1;
}

async function subscriptionRows() {
  return database.db.selectFrom('subscriptions').selectAll().where('site_id', '=', shop.site.id).execute();
}

/** The shopper's subscription from the opt-in test, or a clear failure when that test did not get there. */
async function shopperSubscription() {
  const rows = (await subscriptionRows()).filter((row) => row.endpoint === stub.current?.endpoint);
  if (rows.length !== 1 || !stub.current) throw new Error('no stored subscription: this test needs the opt-in test before it to pass');
  return { row: rows[0]!, mockSubscription: stub.current };
}

/** Sends through the API (secret key) and returns the decrypted payload the mock received for the shopper. */
async function sendToShopper(content: Record<string, unknown>) {
  const { row, mockSubscription } = await shopperSubscription();
  const before = mock.accepted;
  const sent = await shop.api('POST', '/v1/notifications', { ...content, to: { subscriptionIds: [row.id] } });
  expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  expect(sent.body.audience).toBe(1);
  await mock.waitForReceived(before + 1, WAIT_MS);
  const message = mock.received.find((m) => m.subscriptionId === mockSubscription.id && JSON.parse(m.payload).id === sent.body.id);
  expect(message, 'the mock push service decrypted a message for the shopper').toBeDefined();
  return { id: sent.body.id as string, payload: message!.payload, parsed: JSON.parse(message!.payload) };
}

/** The shop's service worker and the DevTools push channel to it, once it is registered. */
async function shopWorker() {
  if (!devtools) {
    const worker = await serviceWorkerOf(shopper.context, `${shop.origin}/pushcart-sw.js`);
    devtools = { worker, push: await devtoolsPush(shopper.context, shopper.page, worker, shop.origin) };
  }
  return devtools;
}

async function counts(notificationId: string, secretKey?: string) {
  const response = await shop.api('GET', `/v1/notifications/${notificationId}`, undefined, secretKey);
  expect(response.status).toBe(200);
  return response.body.counts as Record<string, number>;
}

describe.skipIf(missing !== undefined)('in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    [database, mock] = await Promise.all([createTestDatabase(), startMockPushService()]);
    shop = await startBrowserShop(database.db, mock, SETTINGS);
    shopper = await launchChromium(SHOPPER);
    stub = new BrowserPushStub(mock);
    await stub.install(shopper.context);
    // Records whether Notification.requestPermission() ran inside a user activation (a click).
    await shopper.context.addInitScript(() => {
      const g = globalThis as any;
      const original = g.Notification?.requestPermission;
      if (!original) return;
      g.__permissionRequests = [];
      g.Notification.requestPermission = function (...args: unknown[]) {
        g.__permissionRequests.push({ userActivation: g.navigator.userActivation?.isActive === true });
        return original.apply(this, args);
      };
    });
    shopperErrors = collectPageErrors(shopper.page);
    if (process.env.PUSHCART_BROWSER_DEBUG) {
      // Page and service-worker consoles on stdout, for reading a failure.
      shopper.page.on('console', (message) => console.log(`page ${message.type()}: ${message.text()}`));
      shopper.context.on('serviceworker', (sw) => sw.on('console', (message) => console.log(`service worker ${message.type()}: ${message.text()}`)));
    }
  }, 120_000);

  afterAll(async () => {
    await shopper?.close();
    await shop?.close();
    await mock?.close();
    await database?.destroy();
    const serverErrors = shop?.logger.entries.filter((entry) => entry.level === 'error') ?? [];
    if (serverErrors.length > 0) console.warn('server errors during the browser tests:', JSON.stringify(serverErrors, null, 2));
  }, 60_000);

  it('shows the soft prompt on the configured page view, snoozes it on "Later", and on "Allow" stores the subscription with locale and time zone', async () => {
    const page = shopper.page;

    expect(await loadShop(page)).toBe(1);
    expect(await prompt(page).count(), 'no prompt on the first page view').toBe(0);

    expect(await loadShop(page)).toBe(2);
    await prompt(page).waitFor({ state: 'visible', timeout: WAIT_MS });
    // Localised for the de-DE browser, accessible as a dialog, and holding the focus.
    expect(await prompt(page).getAttribute('role')).toBe('dialog');
    expect(await prompt(page).locator('h2').textContent()).toBe('Angebote und Warenkorb-Erinnerungen erhalten?');
    expect(await prompt(page).locator('.pushcart-later').textContent()).toBe('Später');
    expect(await prompt(page).locator('.pushcart-allow').textContent()).toBe('Erlauben');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.shadowRoot?.activeElement?.className)).toBe('y pushcart-allow');
    expect(await page.evaluate(() => (globalThis as any).Notification.permission)).toBe('default');

    await prompt(page).locator('.pushcart-later').click();
    await prompt(page).waitFor({ state: 'detached', timeout: WAIT_MS });
    expect(await loadShop(page)).toBe(3);
    expect(await prompt(page).count(), 'snoozed: no prompt on the next page view').toBe(0);

    // The snooze (7 days) has passed: the prompt is back.
    await shopper.context.clock.setFixedTime(Date.now() + 8 * DAY_MS);
    expect(await loadShop(page)).toBe(4);
    await prompt(page).waitFor({ state: 'visible', timeout: WAIT_MS });
    expect(await page.evaluate(() => (globalThis as any).__permissionRequests.length), 'no browser prompt before the click').toBe(0);

    // Headless Chromium answers Notification.requestPermission() with "denied" without showing
    // anything (checked by hand), so the shopper's "Allow" in the browser's own prompt is played
    // by granting the permission just before the click; the snippet still reads "default" from
    // its page load (it showed the soft prompt) and asks the browser from inside the click.
    await shopper.context.grantPermissions(['notifications'], { origin: shop.origin });
    const subscribedEvent = page.evaluate(
      () => new Promise((resolve) => (globalThis as any).addEventListener('pushcart:subscribed', (event: any) => resolve(event.detail), { once: true })),
    );
    await prompt(page).locator('.pushcart-allow').click();
    const detail = (await subscribedEvent) as { endpoint: string };
    await prompt(page).waitFor({ state: 'detached', timeout: WAIT_MS });

    expect(await page.evaluate(() => (globalThis as any).__permissionRequests)).toEqual([{ userActivation: true }]);
    expect(stub.subscribeCalls).toEqual([{ applicationServerKey: shop.site.vapidPublicKey, userVisibleOnly: true }]);
    expect(detail.endpoint).toBe(stub.current!.endpoint);
    expect(await page.evaluate(() => (globalThis as any).pushcart.state)).toBe('subscribed');

    const rows = await subscriptionRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      endpoint: stub.current!.endpoint,
      p256dh: stub.current!.keys.p256dh,
      auth: stub.current!.keys.auth,
      vapid_public_key: shop.site.vapidPublicKey,
      locale: 'de-DE',
      time_zone: 'Europe/Berlin',
      status: 'active',
    });
    expect(rows[0]!.visitor_id).toBe(await page.evaluate(() => (globalThis as any).localStorage.getItem('pushcart:visitor')));

    // The next page load re-syncs the same subscription: no second one, still one row.
    expect(await loadShop(page)).toBe(5);
    expect(stub.subscribeCalls).toHaveLength(1);
    expect(await subscriptionRows()).toHaveLength(1);
    expect(shopperErrors).toEqual([]);
  });

  it('shows a push sent through the API, decrypted by the mock and delivered over DevTools, with title, body, image, actions and tag; the same tag again leaves one notification', async () => {
    const { push } = await shopWorker();

    const content = {
      title: 'Die blauen Sneaker sind im Preis gesunken',
      body: 'Jetzt 69 € statt 89 €',
      url: `${shop.origin}/demo`,
      icon: `${shop.origin}/demo/icon.png`,
      image: `${shop.origin}/demo/sneakers.png`,
      actions: [
        { action: 'buy', title: 'Kaufen', url: `${shop.origin}/demo#cart` },
        { action: 'later', title: 'Später' },
      ],
    };
    const sent = await sendToShopper(content);
    expect(sent.parsed).toMatchObject({ title: content.title, tag: sent.id, report: { url: `${shop.origin}/v1/interactions` } });

    await push.deliver(sent.payload);
    const [shown, ...others] = await shownNotifications(shopper.page);
    expect(others).toEqual([]);
    expect(shown).toMatchObject({
      title: content.title,
      body: content.body,
      icon: content.icon,
      image: content.image,
      tag: sent.id,
      actions: [
        { action: 'buy', title: 'Kaufen' },
        { action: 'later', title: 'Später' },
      ],
    });
    await expect.poll(() => counts(sent.id), { timeout: WAIT_MS }).toMatchObject({ sent: 1, shown: 1 });

    // The same delivery again (push is at-least-once): it replaces the first on screen.
    await push.deliver(sent.payload);
    const afterDuplicate = await shownNotifications(shopper.page);
    expect(afterDuplicate.map((n) => n.tag)).toEqual([sent.id]);
    expect(afterDuplicate[0]!.timestamp, 'the second delivery replaced the first').toBeGreaterThan(shown!.timestamp);
    // Its second "shown" report is a replay: refused, the figure stays 1.
    expect((await counts(sent.id)).shown).toBe(1);
  });

  it('records "clicked" with the action clicked, "dismissed" on close, and "shown" on display', async () => {
    const { worker, push } = await shopWorker();
    const offer = await sendToShopper({
      title: 'Der Schal ist wieder da',
      body: 'Nur noch drei Stück',
      url: `${shop.origin}/demo`,
      actions: [
        { action: 'buy', title: 'Kaufen', url: `${shop.origin}/demo#cart` },
        { action: 'later', title: 'Später' },
      ],
    });
    await push.deliver(offer.payload);
    expect((await shownNotifications(shopper.page)).map((n) => n.tag)).toContain(offer.id);
    await expect.poll(() => counts(offer.id), { timeout: WAIT_MS }).toMatchObject({ shown: 1, clicked: 0 });

    const click = await dispatchNotificationEvent(worker, 'notificationclick', offer.id, 'buy');
    expect(click).toMatchObject({ found: true, waitUntilCalls: 1 });
    // The action's own URL; no tab shows it (the shopper's is on /demo), so a new one opens.
    expect(click).toMatchObject({ openedWindows: [`${shop.origin}/demo#cart`], focusedTabs: [] });
    await expect.poll(() => counts(offer.id), { timeout: WAIT_MS }).toMatchObject({ shown: 1, clicked: 1, dismissed: 0 });
    const clicks = await database.db.selectFrom('interactions').select(['type', 'action']).where('notification_id', '=', offer.id).where('type', '=', 'clicked').execute();
    expect(clicks).toEqual([{ type: 'clicked', action: 'buy' }]);
    expect((await shownNotifications(shopper.page)).map((n) => n.tag), 'a click closes the notification').not.toContain(offer.id);

    const reminder = await sendToShopper({ title: 'Ihr Warenkorb wartet', body: 'Die Sneaker sind noch da.', url: `${shop.origin}/demo` });
    await push.deliver(reminder.payload);
    expect((await shownNotifications(shopper.page)).map((n) => n.tag)).toContain(reminder.id);
    await expect.poll(() => counts(reminder.id), { timeout: WAIT_MS }).toMatchObject({ shown: 1 });
    const close = await dispatchNotificationEvent(worker, 'notificationclose', reminder.id);
    expect(close).toMatchObject({ found: true, waitUntilCalls: 1, openedWindows: [], focusedTabs: [] });
    await expect.poll(() => counts(reminder.id), { timeout: WAIT_MS }).toMatchObject({ shown: 1, clicked: 0, dismissed: 1 });
  });

  it('shows a notification even for a push it cannot read', async () => {
    const { worker, push } = await shopWorker();
    for (const data of ['not json', '{"hello":"world"}', '']) {
      await closeAllNotifications(worker);
      await expect.poll(() => shownNotifications(shopper.page), { timeout: WAIT_MS }).toHaveLength(0);
      await push.deliver(data);
      const shown = await shownNotifications(shopper.page);
      expect(shown, `a notification for ${JSON.stringify(data)}`).toHaveLength(1);
      const [fallback] = shown;
      expect(fallback!.title).not.toBe('');
      expect(fallback!.body).not.toBe('');
    }
    await closeAllNotifications(worker);
  });

  it('pushsubscriptionchange: the service worker subscribes again and the server holds the new endpoint, not the old', async () => {
    const { row } = await shopperSubscription();
    const { worker } = await shopWorker();
    const change = await stub.changeSubscription(worker);
    expect(change.waitUntilCalls).toBe(1);
    expect(change.subscribeCalls).toEqual([{ userVisibleOnly: true, applicationServerKey: shop.site.vapidPublicKey }]);

    const rows = await subscriptionRows();
    expect(rows.map((r) => r.endpoint)).toEqual([change.next.endpoint]);
    expect(rows[0]).toMatchObject({ id: row.id, p256dh: change.next.keys.p256dh, auth: change.next.keys.auth, status: 'active', locale: 'de-DE' });

    // A push now goes to the new endpoint, encrypted to the new keys (the mock decrypts it).
    const sent = await sendToShopper({ title: 'Nach dem Wechsel', body: 'Neue Adresse', url: `${shop.origin}/demo` });
    expect(JSON.parse(sent.payload).title).toBe('Nach dem Wechsel');
    expect(mock.received.filter((m) => m.subscriptionId === change.old.id).map((m) => JSON.parse(m.payload).id)).not.toContain(sent.id);

    // Pages see the new subscription too, and their re-sync does not bring the old endpoint back.
    await loadShop(shopper.page);
    expect((await subscriptionRows()).map((r) => r.endpoint)).toEqual([change.next.endpoint]);
  });

  describe('a newcomer on the demo shop', () => {
    let newcomer: ChromiumProfile;
    let errors: string[];

    beforeAll(async () => {
      newcomer = await launchChromium({ locale: 'en-US', timezoneId: 'America/New_York' });
      await new BrowserPushStub(mock).install(newcomer.context);
      // Counts service worker registrations the page asks for.
      await newcomer.context.addInitScript(() => {
        const container = (globalThis as any).navigator.serviceWorker;
        if (!container) return;
        const register = container.register.bind(container);
        (globalThis as any).__registerCalls = [];
        container.register = (...args: unknown[]) => {
          (globalThis as any).__registerCalls.push(String(args[0]));
          return register(...args);
        };
      });
      errors = collectPageErrors(newcomer.page);
    }, 60_000);
    afterAll(async () => newcomer?.close());

    it('has no console errors on /demo, and the snippet pasted twice registers one service worker', async () => {
      const page = newcomer.page;
      // The tag pasted twice (say, once by hand and once by a tag manager).
      await page.route(`${shop.origin}/demo`, async (route) => {
        const response = await route.fetch();
        const html = await response.text();
        const tag = /<script async src="[^"]+\/pushcart\.js" data-site="[^"]+"><\/script>/.exec(html)?.[0];
        if (!tag) return route.abort();
        await route.fulfill({ response, body: html.replace(tag, `${tag}\n${tag}`) });
      });
      const configRequests: string[] = [];
      const onRequest = (request: { url(): string }) => {
        if (/\/v1\/sites\/[^/]+\/config(\?|$)/.test(request.url())) configRequests.push(request.url());
      };
      page.on('request', onRequest);

      expect(await loadShop(page)).toBe(1);
      await page.unroute(`${shop.origin}/demo`);
      page.off('request', onRequest);
      expect(await page.locator('script[src$="/pushcart.js"]').count(), 'both tags are on the page').toBe(2);
      expect(await page.evaluate(() => (globalThis as any).__registerCalls)).toEqual([`${shop.origin}/pushcart-sw.js`]);
      expect(await page.evaluate(async () => (await (globalThis as any).navigator.serviceWorker.getRegistrations()).length)).toBe(1);
      expect(configRequests).toHaveLength(1);
      expect(await page.evaluate(() => (globalThis as any).pushcart.state)).toBe('default');
      expect(errors).toEqual([]);
    });

    it('has no console errors and no failed requests while shopping on /demo (add to cart, checkout)', async () => {
      const page = newcomer.page;
      errors.length = 0;
      const answers: string[] = [];
      const onResponse = (response: { status(): number; request(): { method(): string }; url(): string }) => {
        answers.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
      };
      page.on('response', onResponse);
      // Each click tracks one event (cart_updated, cart_updated, order_completed).
      const tracked = (n: number) => expect.poll(() => answers.filter((a) => a.endsWith(' /v1/events')).length, { timeout: WAIT_MS }).toBe(n);
      await page.locator('[data-add="sneaker-blue"]').click();
      await tracked(1);
      await page.locator('[data-add="scarf-rust"]').click();
      await tracked(2);
      expect(await page.locator('#cart-items').textContent()).toBe('Blue sneakers, Rust wool scarf');
      await page.locator('#checkout').click();
      await tracked(3);
      expect(await page.locator('#status').textContent()).toBe('Thank you for your order!');
      page.off('response', onResponse);
      expect(answers.filter((answer) => !/^2\d\d /.test(answer))).toEqual([]);
      // Chromium logs a failed request on the console a moment after its answer.
      await page.waitForTimeout(200);
      expect(errors).toEqual([]);
    });

    it('keeps screenshots of the demo page and the soft prompt as test artefacts', async () => {
      const page = newcomer.page;
      errors.length = 0;
      const dir = await artifactsDir();
      const demoShot = join(dir, 'demo-page.png');
      const promptShot = join(dir, 'soft-prompt.png');
      const promptOnPageShot = join(dir, 'soft-prompt-on-demo-page.png');
      const narrowShot = join(dir, 'demo-page-390px.png');
      await Promise.all([demoShot, promptShot, promptOnPageShot, narrowShot].map((file) => rm(file, { force: true })));

      // The site's rule shows the prompt from the second page view on; the shop's own "Get deals"
      // button (pushcart.optIn()) shows it too, and leaves an open prompt as it is.
      await loadShop(page);
      await page.locator('#opt-in').click();
      await prompt(page).waitFor({ state: 'visible', timeout: WAIT_MS });
      expect(await prompt(page).locator('.pushcart-allow').textContent()).toBe('Allow');
      expect(await prompt(page).locator('.pushcart-later').textContent()).toBe('Later');
      // The entry animation is 0.28 s; let it finish so the picture shows the resting state.
      await page.waitForTimeout(400);
      await prompt(page).screenshot({ path: promptShot });
      await page.screenshot({ path: promptOnPageShot });
      await prompt(page).locator('.pushcart-later').click();
      await prompt(page).waitFor({ state: 'detached', timeout: WAIT_MS });
      await page.screenshot({ path: demoShot, fullPage: true });
      // A phone's width: the buttons wrap and the cards stack, nothing may be cut off.
      const desktop = page.viewportSize();
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: narrowShot, fullPage: true });
      expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      if (desktop) await page.setViewportSize(desktop);

      const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      for (const file of [demoShot, promptShot, promptOnPageShot, narrowShot]) {
        const bytes = await readFile(file);
        expect(bytes.subarray(0, 8).equals(pngSignature), `${file} is a PNG`).toBe(true);
        expect(bytes.length).toBeGreaterThan(1_000);
      }
      console.log(`browser test artefacts:\n  ${demoShot}\n  ${narrowShot}\n  ${promptShot}\n  ${promptOnPageShot}`);
      expect(errors).toEqual([]);
    });
  });
  describe('a shop on another origin, installed as the README says', () => {
    let otherShop: Awaited<ReturnType<typeof startOtherOriginShop>>;
    let otherSite: Awaited<ReturnType<typeof createSite>>;
    let visitor: ChromiumProfile;
    let visitorStub: BrowserPushStub;
    let errors: string[];

    beforeAll(async () => {
      otherShop = await startOtherOriginShop(shop.origin);
      otherSite = await createSite(database.db, { name: 'Another shop', origins: [otherShop.origin] }, undefined);
      await setEngagement(database.db, otherSite.id, { quietHours: false });
      otherShop.setPublishableKey(otherSite.publishableKey);
      visitor = await launchChromium({ locale: 'fr-FR', timezoneId: 'Europe/Paris' });
      visitorStub = new BrowserPushStub(mock);
      await visitorStub.install(visitor.context);
      errors = collectPageErrors(visitor.page);
    }, 60_000);
    afterAll(async () => {
      await visitor?.close();
      await otherShop?.close();
    });

    it('subscribes, shows a push and reports it, every call crossing origins (CORS)', async () => {
      const page = visitor.page;
      // A shopper who allowed notifications earlier: the page load's re-sync subscribes by itself.
      await visitor.context.grantPermissions(['notifications'], { origin: otherShop.origin });
      await page.goto(`${otherShop.origin}/`);
      await page.waitForFunction(() => (globalThis as any).pushcart?.state === 'subscribed', undefined, { timeout: WAIT_MS });
      const rows = await database.db.selectFrom('subscriptions').selectAll().where('site_id', '=', otherSite.id).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ endpoint: visitorStub.current!.endpoint, locale: 'fr-FR', time_zone: 'Europe/Paris', vapid_public_key: otherSite.vapidPublicKey });

      const before = mock.accepted;
      const sent = await shop.api(
        'POST',
        '/v1/notifications',
        { title: 'Nouveautés', body: 'La collection d’automne est là', url: `${otherShop.origin}/`, to: { subscriptionIds: [rows[0]!.id] } },
        otherSite.secretKey,
      );
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
      await mock.waitForReceived(before + 1, WAIT_MS);
      const message = mock.received.find((m) => m.subscriptionId === visitorStub.current!.id);
      expect(message).toBeDefined();

      const worker = await serviceWorkerOf(visitor.context, `${otherShop.origin}/pushcart-sw.js`);
      const push = await devtoolsPush(visitor.context, page, worker, otherShop.origin);
      await push.deliver(message!.payload);
      expect((await shownNotifications(page)).map((n) => n.title)).toEqual(['Nouveautés']);
      // The report crossed origins from the shop's service worker to the push host.
      await expect.poll(() => counts(sent.body.id, otherSite.secretKey), { timeout: WAIT_MS }).toMatchObject({ shown: 1 });
      const click = await dispatchNotificationEvent(worker, 'notificationclick', sent.body.id);
      // The shopper's tab already shows the notification's URL: it is focused, no second one opens.
      expect(click).toMatchObject({ found: true, focusedTabs: [`${otherShop.origin}/`], openedWindows: [] });
      await expect.poll(() => counts(sent.body.id, otherSite.secretKey), { timeout: WAIT_MS }).toMatchObject({ shown: 1, clicked: 1 });
      expect(errors).toEqual([]);
    });

    it('pushcart.tag() and untag() change the subscription’s tags across origins, and reject with the server’s refusal for a key the site does not list', async () => {
      const page = visitor.page;
      const settings = await shop.api('PATCH', '/v1/settings', { browserTagKeys: ['size', 'newsletter'] }, otherSite.secretKey);
      expect(settings.status, JSON.stringify(settings.body)).toBe(200);
      const tags = async () => (await database.db.selectFrom('subscriptions').select('tags').where('site_id', '=', otherSite.id).executeTakeFirstOrThrow()).tags;
      const errorsBefore = errors.length;

      const outcome = await page.evaluate(async () => {
        const pushcart = (globalThis as any).pushcart;
        await pushcart.tag('size', 'M');
        await pushcart.tag('newsletter', true);
        await pushcart.untag('newsletter');
        // Queued through push(), nobody listening: its refusal must not reach the page as an error.
        pushcart.push(['tag', 'plan', 'queued']);
        return pushcart.tag('plan', 'vip').then(
          () => 'resolved',
          (error: { code: string; message: string; status: number }) => ({ code: error.code, status: error.status, message: error.message }),
        );
      });
      expect(outcome).toEqual({ code: 'key_not_allowed', status: 403, message: expect.stringContaining('"plan"') });
      expect(await tags()).toEqual({ size: 'M' });
      // Chromium logs each refused request; nothing else (no unhandled rejection) may appear.
      expect(errors.slice(errorsBefore).filter((error) => !error.includes('status of 403'))).toEqual([]);
    });
  });
});
