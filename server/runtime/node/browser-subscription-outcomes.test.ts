// The snippet's state and events after each answer the server can give to a subscription, and
// after a browser whose pushManager.subscribe() never settles, in real Chromium (Debian's
// /usr/bin/chromium driven by playwright-core, as in browser.test.ts). `subscribed` must mean the
// server stored the subscription: a refusal leaves the state as it was and fires `error` with the
// server's code, a 503 or 429 is tried again after Retry-After, and the demo page says what happened.
//
// Each case gets its own fresh browser profile (its own permission, storage and subscription).
// Refusals that need no faking are the server's own (a push host it does not allow, an origin the
// site does not list); a 503 or 429 is played by answering the request in the browser, exactly as
// the server's error handler answers it, and then letting the next request through to the server.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page, Request, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, chromiumMissing, collectPageErrors, launchChromium, type ChromiumProfile } from '../../testing/browser-chromium.ts';
import { BrowserPushStub } from '../../testing/browser-push-stub.ts';
import { startBrowserShop, type BrowserShop } from '../../testing/browser-shop.ts';
import { startMockPushService, type MockPushService } from '../../testing/mock-push-service.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.ts';
import { createSite } from '../../sites/create-site.ts';

const missing = chromiumMissing();
if (missing) console.warn(`browser tests skipped: ${missing}`);

const WAIT_MS = 10_000;
/** The prompt never shows by itself here: every shopper has granted the permission already. */
const SETTINGS = { prompt: { trigger: 'page_views', pageViews: 100, snoozeDays: 7 } };

interface RecordedEvent {
  type: string;
  detail: any;
  /** `pushcart.state` when the event fired. */
  state: string;
  /** The demo page's status line once every listener of the event had run. */
  pushStatus?: string;
}

interface Shopper {
  profile: ChromiumProfile;
  page: Page;
  stub: BrowserPushStub;
  /** `POST /v1/subscriptions` requests the page made. */
  posts: Request[];
  warnings: string[];
  /** Console errors and uncaught exceptions, except Chromium's own line for each refused request. */
  errors(): string[];
}

let database: TestDatabase;
let mock: MockPushService;
let shop: BrowserShop;
let shopper: Shopper | undefined;

/**
 * A shopper who allowed notifications on an earlier visit: the snippet's page-load re-sync
 * subscribes and posts by itself. Every `pushcart:*` event is recorded in `__pushcartEvents`.
 */
async function openShopper(options: { neverSettlingSubscribe?: boolean; subscribeDelayMs?: number } = {}): Promise<Shopper> {
  const profile = await launchChromium({ locale: 'en-GB', timezoneId: 'Europe/London' });
  const stub = new BrowserPushStub(mock);
  await stub.install(profile.context);
  await profile.context.grantPermissions(['notifications'], { origin: shop.origin });
  await profile.context.addInitScript(() => {
    const g = globalThis as any;
    g.__pushcartEvents = [];
    for (const type of ['subscribed', 'unsubscribed', 'permission', 'error']) {
      g.addEventListener(`pushcart:${type}`, (event: any) => {
        const recorded: Record<string, unknown> = { type, detail: event.detail, state: g.pushcart?.state };
        g.__pushcartEvents.push(recorded);
        // Runs once the dispatch is over, after the page's own listeners (registered later) too.
        g.queueMicrotask(() => (recorded.pushStatus = g.document.getElementById('push-status')?.textContent));
      });
    }
  });
  if (options.neverSettlingSubscribe) {
    // Chromium without a reachable push service: subscribe() neither resolves nor rejects.
    await profile.context.addInitScript(() => {
      const g = globalThis as any;
      if (g.PushManager) g.PushManager.prototype.subscribe = () => new Promise(() => {});
    });
  }
  if (options.subscribeDelayMs !== undefined) {
    // A push service that answers, but only after the snippet's timeout.
    await profile.context.addInitScript((delayMs) => {
      const g = globalThis as any;
      if (!g.PushManager) return;
      const subscribe = g.PushManager.prototype.subscribe;
      g.PushManager.prototype.subscribe = function (...args: unknown[]) {
        return new Promise((resolve) => g.setTimeout(resolve, delayMs)).then(() => subscribe.apply(this, args));
      };
    }, options.subscribeDelayMs);
  }
  const page = profile.page;
  const posts: Request[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/v1/subscriptions') posts.push(request);
  });
  const warnings: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
  });
  const errors = collectPageErrors(page);
  shopper = { profile, page, stub, posts, warnings, errors: () => errors.filter((text) => !text.includes('Failed to load resource: the server responded')) };
  return shopper;
}

const events = (page: Page): Promise<RecordedEvent[]> => page.evaluate(() => (globalThis as any).__pushcartEvents);
const stateOf = (page: Page): Promise<string> => page.evaluate(() => (globalThis as any).pushcart.state);
const pushStatus = (page: Page) => page.locator('#push-status').textContent();

/** Waits until the page has recorded `count` events of `type`, and returns them. */
async function waitForEvents(page: Page, type: string, count = 1): Promise<RecordedEvent[]> {
  try {
    await page.waitForFunction(
      ({ type, count }) => (globalThis as any).__pushcartEvents.filter((event: { type: string }) => event.type === type).length >= count,
      { type, count },
      { timeout: WAIT_MS },
    );
  } catch (error) {
    throw new Error(`no ${count}× "${type}" event; seen: ${JSON.stringify(await events(page))}`, { cause: error });
  }
  return (await events(page)).filter((event) => event.type === type);
}

/** Serves /demo with the snippet's tag changed by `edit` (the tag is the one line the README gives). */
async function editDemoTag(page: Page, edit: (tag: string) => string): Promise<void> {
  await page.route(`${shop.origin}/demo`, async (route) => {
    const response = await route.fetch();
    const html = await response.text();
    const tag = /<script async src="[^"]+\/pushcart\.js" data-site="[^"]+"><\/script>/.exec(html)?.[0];
    if (!tag) return route.abort();
    await route.fulfill({ response, body: html.replace(tag, edit(tag)) });
  });
}

/** Answers the next `times` subscription posts as the server's error handler would, then lets them through. */
async function answerSubscriptionPosts(page: Page, times: number, status: number, code: string, message: string, retryAfterSeconds: number): Promise<void> {
  let answered = 0;
  await page.route(`${shop.origin}/v1/subscriptions`, async (route: Route) => {
    if (route.request().method() !== 'POST' || answered >= times) return route.continue();
    answered++;
    await route.fulfill({
      status,
      headers: { 'Content-Type': 'application/json', 'Retry-After': String(retryAfterSeconds) },
      body: JSON.stringify({ error: { code, message, requestId: `req-${answered}` } }),
    });
  });
}

async function storedRows(endpoint: string | undefined) {
  if (endpoint === undefined) return [];
  return database.db.selectFrom('subscriptions').select(['id', 'status', 'site_id']).where('endpoint', '=', endpoint).execute();
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = join(await artifactsDir(), name);
  await rm(file, { force: true });
  await page.locator('header').screenshot({ path: file });
  expect((await readFile(file)).length).toBeGreaterThan(1_000);
  console.log(`browser test artefact: ${file}`);
}

describe.skipIf(missing !== undefined)('the snippet reports what the server stored, in Chromium', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    [database, mock] = await Promise.all([createTestDatabase(), startMockPushService()]);
    shop = await startBrowserShop(database.db, mock, SETTINGS);
  }, 120_000);

  afterEach(async () => {
    await shopper?.profile.close();
    shopper = undefined;
  });

  afterAll(async () => {
    await shop?.close();
    await mock?.close();
    await database?.destroy();
  }, 60_000);

  it('400 endpoint_not_allowed: stays unsubscribed, fires error with the code, keeps the browser subscription, and posts it again only when asked', async () => {
    const { page, stub, posts, errors } = await openShopper();
    // The browser's push service is one this server does not allow: the server itself refuses it.
    await page.route(`${shop.origin}/v1/subscriptions`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const body = route.request().postDataJSON();
      body.subscription.endpoint = 'https://push.unknown-vendor.example/send/abc';
      await route.continue({ postData: JSON.stringify(body) });
    });
    await page.goto(`${shop.origin}/demo`);

    const [refusal] = await waitForEvents(page, 'error');
    expect(refusal!.detail).toMatchObject({ code: 'endpoint_not_allowed', status: 400 });
    expect(refusal!.detail.message).toMatch(/not a known push service/);
    expect(refusal!.detail.retryInSeconds, 'a refusal is not retried in this page').toBeUndefined();
    expect(refusal!.state).toBe('unsubscribed');
    expect(await stateOf(page)).toBe('unsubscribed');
    expect((await events(page)).map((event) => event.type)).toEqual(['error']);
    expect(posts).toHaveLength(1);
    expect(await storedRows(stub.current?.endpoint)).toEqual([]);
    // Kept in the browser, so a later attempt posts the same subscription without asking again.
    expect(stub.current, 'the browser subscription is kept').toBeDefined();
    expect(stub.unsubscribed).toEqual([]);
    await expect.poll(() => pushStatus(page), { timeout: WAIT_MS }).toMatch(/refused/i);
    await expect.poll(() => pushStatus(page), { timeout: WAIT_MS }).toContain('endpoint_not_allowed');
    await screenshot(page, 'push-status-refused.png');

    // The next page view does not post again (the refusal holds for a day) but says so again.
    await page.goto(`${shop.origin}/demo`);
    const [held] = await waitForEvents(page, 'error');
    expect(held!.detail).toMatchObject({ code: 'endpoint_not_allowed', status: 400 });
    expect(await stateOf(page)).toBe('unsubscribed');
    expect(posts).toHaveLength(1);
    expect(stub.subscribeCalls).toHaveLength(1);

    // The operator allowed the host (here: the rewrite is gone) and the shop's button calls optIn():
    // the kept subscription is posted at once and stored.
    await page.unroute(`${shop.origin}/v1/subscriptions`);
    await page.locator('#opt-in').click();
    const [subscribed] = await waitForEvents(page, 'subscribed');
    expect(subscribed!.detail).toEqual({ endpoint: stub.current!.endpoint });
    expect(await stateOf(page)).toBe('subscribed');
    expect(posts).toHaveLength(2);
    expect(stub.subscribeCalls).toHaveLength(1);
    expect(await storedRows(stub.current!.endpoint)).toMatchObject([{ status: 'active', site_id: shop.site.id }]);
    await expect.poll(() => pushStatus(page), { timeout: WAIT_MS }).toMatch(/notifications are on/i);
    expect(errors()).toEqual([]);
  });

  it('403 origin_not_allowed: stays unsubscribed and fires error with the code and the server message', async () => {
    // A site that does not list this page's origin (say the shop moved from www. to the bare domain).
    const elsewhere = await createSite(database.db, { name: 'Shop that lists another origin', origins: ['https://elsewhere.example'] }, undefined);
    const { page, stub, posts } = await openShopper();
    await editDemoTag(page, (tag) => tag.replace(`data-site="${shop.site.publishableKey}"`, `data-site="${elsewhere.publishableKey}"`));
    await page.goto(`${shop.origin}/demo`);

    const [refusal] = await waitForEvents(page, 'error');
    expect(refusal!.detail).toMatchObject({ code: 'origin_not_allowed', status: 403 });
    expect(refusal!.detail.message).toContain(shop.origin);
    expect(refusal!.state).toBe('unsubscribed');
    expect(await stateOf(page)).toBe('unsubscribed');
    expect((await events(page)).map((event) => event.type)).not.toContain('subscribed');
    expect(posts).toHaveLength(1);
    expect(await storedRows(stub.current?.endpoint)).toEqual([]);
    await expect.poll(() => pushStatus(page), { timeout: WAIT_MS }).toContain('origin_not_allowed');
  });

  it('403 invalid_signature on identify: fires error with the code, then stores the subscription without the user id', async () => {
    const { page, stub, posts, errors } = await openShopper();
    // The shop's backend signed with the wrong key: the page identifies with a signature the server refuses.
    await editDemoTag(page, (tag) => `<script>pushcart.push(['identify', 'customer-7', '${'0'.repeat(64)}']);</script>\n${tag}`);
    await page.goto(`${shop.origin}/demo`);

    const [subscribed] = await waitForEvents(page, 'subscribed');
    expect(subscribed!.detail).toEqual({ endpoint: stub.current!.endpoint });
    const recorded = await events(page);
    expect(recorded.map((event) => event.type)).toEqual(['error', 'subscribed']);
    expect(recorded[0]!.detail).toMatchObject({ code: 'invalid_signature', status: 403 });
    expect(recorded[0]!.state, 'not stored yet when the identity was refused').toBe('unsubscribed');
    expect(await stateOf(page)).toBe('subscribed');
    expect(posts.map((post) => post.postDataJSON().externalUserId)).toEqual(['customer-7', undefined]);
    const rows = await database.db.selectFrom('subscriptions').select(['status', 'external_user_id']).where('endpoint', '=', stub.current!.endpoint).execute();
    expect(rows).toEqual([{ status: 'active', external_user_id: null }]);
    expect(errors()).toEqual([]);
  });

  it('an unknown publishable key: the config is refused, and error says so instead of silence', async () => {
    const { page, posts } = await openShopper();
    await editDemoTag(page, (tag) => tag.replace(`data-site="${shop.site.publishableKey}"`, 'data-site="pk_live_doesnotexist0000000000"'));
    await page.goto(`${shop.origin}/demo`);

    const [refusal] = await waitForEvents(page, 'error');
    expect(refusal!.detail).toMatchObject({ code: 'invalid_key', status: 401 });
    expect(await stateOf(page)).toBe('unsubscribed');
    expect(posts).toEqual([]);
    await expect.poll(() => pushStatus(page), { timeout: WAIT_MS }).toContain('invalid_key');
  });

  it('503 storage_unavailable: fires error saying when it retries, retries after Retry-After, then is subscribed and stored', async () => {
    const { page, stub, posts, errors } = await openShopper();
    await answerSubscriptionPosts(page, 1, 503, 'storage_unavailable', 'The database is unavailable; retry later', 1);
    await page.goto(`${shop.origin}/demo`);

    const [outage] = await waitForEvents(page, 'error');
    expect(outage!.detail).toMatchObject({ code: 'storage_unavailable', status: 503, retryInSeconds: 1 });
    expect(outage!.state).toBe('unsubscribed');
    expect(outage!.pushStatus).toMatch(/not subscribed yet: .*storage_unavailable.*trying again in 1 s/i);

    const [subscribed] = await waitForEvents(page, 'subscribed');
    expect(subscribed!.detail).toEqual({ endpoint: stub.current!.endpoint });
    expect(await stateOf(page)).toBe('subscribed');
    expect((await events(page)).map((event) => event.type)).toEqual(['error', 'subscribed']);
    expect(posts, 'one refused post, one retry').toHaveLength(2);
    expect(stub.subscribeCalls, 'the same browser subscription is posted again').toHaveLength(1);
    expect(await storedRows(stub.current!.endpoint)).toMatchObject([{ status: 'active', site_id: shop.site.id }]);
    await expect.poll(() => pushStatus(page), { timeout: WAIT_MS }).toMatch(/notifications are on/i);
    expect(errors()).toEqual([]);
  });

  it('503 again and again: retries a bounded number of times in the page, then stops and says so', async () => {
    const { page, stub, posts } = await openShopper();
    await answerSubscriptionPosts(page, 100, 503, 'storage_unavailable', 'The database is unavailable; retry later', 1);
    await page.goto(`${shop.origin}/demo`);

    // Four posts in all; the last error carries no retry: this page has given up.
    const outages = await waitForEvents(page, 'error', 4);
    expect(outages.map((event) => event.detail.retryInSeconds)).toEqual([1, 1, 1, undefined]);
    expect(outages.every((event) => event.detail.code === 'storage_unavailable')).toBe(true);
    expect(posts).toHaveLength(4);
    expect(await stateOf(page)).toBe('unsubscribed');
    expect(await storedRows(stub.current?.endpoint)).toEqual([]);
    await expect.poll(() => pushStatus(page), { timeout: WAIT_MS }).toContain('storage_unavailable');
    // Still kept in the browser: a later page view posts it again.
    expect(stub.current).toBeDefined();
  });

  it('429 rate_limited: stays unsubscribed, honours Retry-After, then is subscribed and stored', async () => {
    const { page, stub, posts } = await openShopper();
    await answerSubscriptionPosts(page, 1, 429, 'rate_limited', 'Too many requests from this address', 2);
    await page.goto(`${shop.origin}/demo`);

    const [limited] = await waitForEvents(page, 'error');
    expect(limited!.detail).toMatchObject({ code: 'rate_limited', status: 429, retryInSeconds: 2 });
    expect(limited!.state).toBe('unsubscribed');
    expect(limited!.pushStatus).toMatch(/trying again in 2 s/i);
    await screenshot(page, 'push-status-will-retry.png');

    await waitForEvents(page, 'subscribed');
    expect(await stateOf(page)).toBe('subscribed');
    expect(posts).toHaveLength(2);
    expect(await storedRows(stub.current!.endpoint)).toMatchObject([{ status: 'active' }]);
  });

  it('429 with a long Retry-After: the next page view does not post before it is over, and says when it will', async () => {
    const { page, posts } = await openShopper();
    await answerSubscriptionPosts(page, 1, 429, 'rate_limited', 'Too many requests for this site key', 120);
    await page.goto(`${shop.origin}/demo`);
    const [limited] = await waitForEvents(page, 'error');
    expect(limited!.detail).toMatchObject({ code: 'rate_limited', retryInSeconds: 120 });

    await page.goto(`${shop.origin}/demo`);
    const [held] = await waitForEvents(page, 'error');
    expect(held!.detail).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(held!.detail.retryInSeconds).toBeGreaterThan(0);
    expect(held!.detail.retryInSeconds).toBeLessThanOrEqual(120);
    expect(held!.state).toBe('unsubscribed');
    expect(posts, 'the second page view waits instead of posting').toHaveLength(1);
  });

  it('a pushManager.subscribe() that never settles times out: one console warning, an error event, nothing posted', async () => {
    const { page, posts, warnings, errors } = await openShopper({ neverSettlingSubscribe: true });
    // A one-second timeout for the test; the default is far longer.
    await editDemoTag(page, (tag) => tag.replace('data-site=', 'data-subscribe-timeout="1" data-site='));
    await page.goto(`${shop.origin}/demo`);

    const [timeout] = await waitForEvents(page, 'error');
    expect(timeout!.detail).toMatchObject({ code: 'subscribe_timeout' });
    expect(timeout!.detail.message).toMatch(/push service/);
    expect(timeout!.state).toBe('unsubscribed');
    expect(await stateOf(page)).toBe('unsubscribed');
    expect(posts).toEqual([]);
    expect(warnings.filter((text) => text.startsWith('Pushcart'))).toHaveLength(1);
    await expect.poll(() => pushStatus(page), { timeout: WAIT_MS }).toMatch(/did not finish subscribing/i);
    await screenshot(page, 'push-status-timed-out.png');
    expect(errors()).toEqual([]);
  });

  it('a pushManager.subscribe() that settles only after the timeout: error first, then the late subscription is stored', async () => {
    const { page, stub, posts, warnings } = await openShopper({ subscribeDelayMs: 2_000 });
    await editDemoTag(page, (tag) => tag.replace('data-site=', 'data-subscribe-timeout="1" data-site='));
    await page.goto(`${shop.origin}/demo`);

    const [subscribed] = await waitForEvents(page, 'subscribed');
    const recorded = await events(page);
    expect(recorded.map((event) => event.type)).toEqual(['error', 'subscribed']);
    expect(recorded[0]!.detail).toMatchObject({ code: 'subscribe_timeout' });
    expect(subscribed!.detail).toEqual({ endpoint: stub.current!.endpoint });
    expect(await stateOf(page)).toBe('subscribed');
    expect(posts).toHaveLength(1);
    expect(warnings.filter((text) => text.startsWith('Pushcart'))).toHaveLength(1);
    expect(await storedRows(stub.current!.endpoint)).toMatchObject([{ status: 'active' }]);
  });
});
