// The shop owner's first run, end to end, as two people would live it in real Chromium (Debian's
// /usr/bin/chromium driven by playwright-core): `pushcart start` on an empty database prints a
// one-time link → the owner sets a password → the install page shows the tag, and the owner adds
// the shop's origin → a shopper on the shop's own origin allows notifications and the subscription
// arrives → the installation check and the overview count it → the owner edits a template and its
// preview follows → the owner allows test pushes in their own browser, sends one, and it shows
// (the template's text too). Pushcart runs as the real command in a child process, trusting the
// strict mock push service as an operator would (NODE_EXTRA_CA_CERTS); both browsers subscribe
// at that mock (browser-push-stub.ts), and what it decrypts is handed to the service worker over
// the DevTools Protocol, since Chromium cannot reach a real push service here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushPayload } from '../../service-worker/src/contract.ts';
import { artifactsDir, chromiumMissing, collectPageErrors, devtoolsPush, launchChromium, serviceWorkerOf, shownNotifications, type ChromiumProfile } from '../testing/browser-chromium.ts';
import { BrowserPushStub } from '../testing/browser-push-stub.ts';
import { startOtherOriginShop } from '../testing/browser-shop.ts';
import { checkDashboardPage, watchDashboardPage } from '../testing/dashboard-page-checks.ts';
import { freePort } from '../testing/free-port.ts';
import { startMockPushService, type MockPushService } from '../testing/mock-push-service.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';

const missing = chromiumMissing();
if (missing) console.warn(`first-run journey skipped: ${missing}`);

const BIN = fileURLToPath(new URL('../runtime/node/pushcart.mjs', import.meta.url));
const PASSWORD = 'a calm and long passphrase';
const WAIT_MS = 15_000;

let database: TestDatabase;
let mock: MockPushService;
let pushcart: ChildProcess | undefined;
let shop: Awaited<ReturnType<typeof startOtherOriginShop>> | undefined;
let owner: ChromiumProfile | undefined;
let shopper: ChromiumProfile | undefined;
let shotsDir: string;
let axeSource: string;
/** What `pushcart start` printed, line by line. */
const printed: string[] = [];

/** Starts the real command on the test database and resolves with its public URL and the printed one-time link. */
async function startPushcart(): Promise<{ origin: string; link: string }> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const { DATABASE_URL: _unused, ...env } = process.env;
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...env,
      DATABASE_URL: database.connectionString,
      PORT: String(port),
      PUSHCART_PUBLIC_URL: origin,
      PUSHCART_PUSH_HOSTS: mock.host,
      NODE_EXTRA_CA_CERTS: mock.caPath,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  pushcart = child;
  let buffered = '';
  const link = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no one-time link printed within 60 s:\n${printed.join('\n')}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`pushcart start exited (${code}):\n${printed.join('\n')}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        printed.push(line);
        const match = new RegExp(`^  (${origin}/dashboard/password/[A-Za-z0-9_-]{43})$`).exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      }
    });
  });
  child.stderr!.on('data', (chunk: Buffer) => printed.push(...chunk.toString('utf8').trimEnd().split('\n')));
  return { origin, link: await link };
}

/** Every page is looked at: screenshots at 1280 and 390 px, axe-core, no sideways scroll, no CSP violation or error. */
async function checkPage(page: Page, problems: string[], name: string) {
  await checkDashboardPage({ page, shotsDir, axeSource, problems }, name);
}

describe.skipIf(missing !== undefined)('first run, end to end', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    [database, mock] = await Promise.all([createTestDatabase(), startMockPushService()]);
    shotsDir = join(await artifactsDir(), 'first-run');
    await mkdir(shotsDir, { recursive: true });
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  }, 60_000);

  afterAll(async () => {
    await owner?.close();
    await shopper?.close();
    await shop?.close();
    if (pushcart && pushcart.exitCode === null) {
      const exited = new Promise<void>((resolve) => pushcart!.once('exit', () => resolve()));
      pushcart.kill('SIGTERM');
      await exited;
    }
    await mock?.close();
    await database?.destroy();
  }, 60_000);

  it('printed link → password → install → a shopper subscribes → counted → template edited with its preview → a test push shown', async () => {
    const { origin, link } = await startPushcart();
    const tagLine = printed.find((line) => line.includes('/pushcart.js" data-site="'));
    expect(tagLine, printed.join('\n')).toBeDefined();

    // --- the owner, in their own browser ---
    owner = await launchChromium({ locale: 'en-GB', timezoneId: 'Europe/Amsterdam' });
    const page = owner.page;
    const problems: string[] = [];
    await watchDashboardPage(owner.context, page, problems, { statusPagesExpected: false });
    const ownerPush = new BrowserPushStub(mock);
    await ownerPush.install(owner.context);

    await page.goto(link);
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Save password and sign in' }).click();
    await page.waitForURL(/\/dashboard\/sites\/[0-9a-f-]{36}\/overview$/);
    const siteId = /\/sites\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    const sitePath = `${origin}/dashboard/sites/${siteId}`;

    await page.getByRole('link', { name: 'Install', exact: true }).click();
    await page.waitForURL(`${sitePath}/install`);
    const tag = (await page.locator('#install-script-tag').textContent())!;
    // The page shows the very tag `pushcart start` printed.
    expect(tagLine).toContain(tag);
    const publishableKey = /data-site="(pk_[\w-]+)"/.exec(tag)![1]!;

    // The shop lives on its own origin; the owner allows it.
    shop = await startOtherOriginShop(origin);
    shop.setPublishableKey(publishableKey);
    const origins = page.getByLabel('Origins, one per line');
    await origins.fill(`${await origins.inputValue()}\n${shop.origin}`);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved. The new origins apply to the next request.').waitFor();

    // --- a shopper, in another browser, on the shop ---
    shopper = await launchChromium({ locale: 'de-DE', timezoneId: 'Europe/Berlin' });
    const shopperErrors = collectPageErrors(shopper.page);
    const shopperPush = new BrowserPushStub(mock);
    await shopperPush.install(shopper.context);
    const prompt = shopper.page.locator('#pushcart-prompt [role=dialog]');
    // The default rule: the soft prompt from the second page view on.
    await shopper.page.goto(`${shop.origin}/`);
    await shopper.page.waitForFunction(() => (globalThis as any).localStorage.getItem('pushcart:views') === '1', undefined, { timeout: WAIT_MS });
    await shopper.page.goto(`${shop.origin}/`);
    await prompt.waitFor({ state: 'visible', timeout: WAIT_MS });
    // Headless Chromium shows no permission bubble: the shopper's "Allow" in it is this grant, made
    // just before the click, so the snippet still asks the browser from inside the click.
    await shopper.context.grantPermissions(['notifications'], { origin: shop.origin });
    await prompt.locator('.pushcart-allow').click();
    await prompt.waitFor({ state: 'detached', timeout: WAIT_MS });
    // The browser's subscribe() settles after the prompt has gone: wait for it, then for the server to store it.
    await expect.poll(() => shopperPush.current?.endpoint, { timeout: WAIT_MS }).toBeDefined();
    const shopperEndpoint = shopperPush.current!.endpoint;
    await expect
      .poll(() => database.db.selectFrom('subscriptions').select(['endpoint', 'status']).where('site_id', '=', siteId).execute(), { timeout: WAIT_MS })
      .toEqual([{ endpoint: shopperEndpoint, status: 'active' }]);
    expect(shopperErrors).toEqual([]);

    // --- back to the owner: the check saw it, the overview counts it ---
    await page.reload();
    await expect
      .poll(async () => (await page.locator('.check-list').textContent())?.replace(/\s+/g, ' '), { timeout: WAIT_MS })
      .toMatch(new RegExp(`Seen from ${shop.origin.replace(/[.]/g, '\\.')} at .* \\(config\\), last subscription`));
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    await page.waitForURL(`${sitePath}/overview`);
    const active = page.locator('.stat-tile', { hasText: 'Active subscribers now' }).locator('.stat-value');
    expect(await active.textContent()).toBe('1');
    await checkPage(page, problems, 'overview');

    // --- a template, edited with its live preview ---
    await page.goto(`${sitePath}/templates/price_drop/en`);
    await page.getByLabel('Title').fill('Now only {{price.new}}: journey test');
    const previewTitle = page.locator('#notification-preview .toast.win .n-title');
    await expect.poll(() => previewTitle.textContent(), { timeout: WAIT_MS }).toBe('Now only $69.00: journey test');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved. The next pushes use this text.').waitFor();
    await checkPage(page, problems, 'template-saved');

    // --- a test push to the owner's own browser ---
    await page.goto(`${sitePath}/install#test-push`);
    await owner.context.grantPermissions(['notifications'], { origin });
    await page.getByRole('button', { name: 'Allow test pushes in this browser' }).click();
    await page.getByText('This browser is set up for test pushes.').waitFor({ timeout: WAIT_MS });
    expect(ownerPush.subscribeCalls).toEqual([{ applicationServerKey: expect.any(String), userVisibleOnly: true }]);
    const scope = `${sitePath}/test-push/`;
    const worker = await serviceWorkerOf(owner.context, `${origin}/pushcart-sw.js`);
    const channel = await devtoolsPush(owner.context, page, worker, origin, scope);

    const before = mock.received.length;
    await page.getByRole('button', { name: 'Send a test push' }).click();
    await page.getByText('Sent to 1 browser').waitFor({ timeout: WAIT_MS });
    expect(mock.received.length).toBe(before + 1);
    const installPush = mock.received.at(-1)!;
    expect(installPush.endpoint).toBe(ownerPush.current!.endpoint);
    await channel.deliver(installPush.payload);
    const shown = await shownNotifications(page, scope);
    expect(shown.map((notification) => notification.title)).toEqual(['Test push from Demo shop']);
    // This browser knows it is set up.
    await page.getByText('This browser receives test pushes.').waitFor({ timeout: WAIT_MS });
    expect(await page.locator('button[data-test-push-enable]').textContent()).toBe('Set up this browser again');
    await checkPage(page, problems, 'install-test-push');

    // The template's text as the owner will see it, from the editor.
    await page.goto(`${sitePath}/templates/price_drop/en`);
    await page.getByRole('button', { name: 'Send to my browsers' }).click();
    await page.getByText('Sent: accepted by').waitFor({ timeout: WAIT_MS });
    const templatePush = mock.received.at(-1)!;
    expect((JSON.parse(templatePush.payload) as PushPayload).title).toBe('Now only $69.00: journey test');
    await channel.deliver(templatePush.payload);
    // The same tag replaces the first test push: one notification, the template's.
    const after = await shownNotifications(page, scope);
    expect(after.map((notification) => [notification.title, notification.body])).toEqual([['Now only $69.00: journey test', expect.stringContaining('$89.00')]]);

    // The owner's browser is no subscriber: still one, the shopper.
    expect(await database.db.selectFrom('subscriptions').select('id').where('site_id', '=', siteId).execute()).toHaveLength(1);
  });
});
