import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright-core';

/**
 * Real Chromium for the browser tests: Debian's package, driven by playwright-core,
 * which downloads nothing. `.ci/run` installs the package; the tests skip, saying why, without it.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a headless run on a closed network (headless comes from the launch option): no sandbox in containers, no GPU, no network chatter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `${CHROMIUM_PATH} not found (apt-get install chromium; .ci/run installs it)`;
}

/** Screenshots and other artefacts: PUSHCART_TEST_ARTIFACTS, else a folder under node_modules (gitignored). */
export async function artifactsDir(): Promise<string> {
  const dir =
    process.env.PUSHCART_TEST_ARTIFACTS ||
    fileURLToPath(new URL('../../node_modules/.cache/pushcart-artifacts/', import.meta.url));
  await mkdir(dir, { recursive: true });
  return dir;
}

export interface ChromiumProfile {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * A persistent context on a fresh profile: push and notifications need one (an incognito context
 * has no push). Permissions start as a new profile's: `default`.
 */
export async function launchChromium(options: { locale?: string; timezoneId?: string } = {}): Promise<ChromiumProfile> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'pushcart-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1024, height: 720 },
      ...options,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      context,
      page,
      close: async () => {
        await context.close().catch(() => {});
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Messages of type `error` and uncaught exceptions of a page, as text, from now on. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/**
 * Pushes through the DevTools Protocol: `ServiceWorker.deliverPushMessage` hands `data` to the
 * registration's `push` handler exactly as a push service's message would arrive (Chromium cannot
 * reach a real push service here).
 *
 * `deliver` resolves once every showNotification() the worker started has settled. Reading
 * getNotifications() earlier is not only premature but destructive: Chromium drops from its
 * notification database any stored notification the platform does not list as displayed yet, so
 * a read racing the display loses the notification for good (reproduced outside this project: a
 * bare worker polled in a tight loop under CPU load lost 5 of 180 notifications; reading only
 * after showNotification() had resolved lost none of 225). The count is kept by wrapping
 * ServiceWorkerRegistration.prototype.showNotification in the worker; the wrapper only observes.
 */
export async function devtoolsPush(context: BrowserContext, page: Page, worker: Worker, origin: string, scope = `${origin}/`) {
  await worker.evaluate(() => {
    const g = globalThis as any;
    if (g.__pushcartTestShows) return;
    const shows = { started: 0, settled: 0 };
    g.__pushcartTestShows = shows;
    const proto = g.ServiceWorkerRegistration.prototype;
    const showNotification = proto.showNotification;
    proto.showNotification = function (...args: unknown[]) {
      shows.started++;
      const result = showNotification.apply(this, args);
      const settled = () => {
        shows.settled++;
      };
      result.then(settled, settled);
      return result;
    };
  });
  const shows = (): Promise<{ started: number; settled: number }> => worker.evaluate(() => ({ ...(globalThis as any).__pushcartTestShows }));

  const cdp = await context.newCDPSession(page);
  const registrations = new Map<string, string>();
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: updated }) => {
    for (const registration of updated) {
      if (registration.isDeleted) registrations.delete(registration.scopeURL);
      else registrations.set(registration.scopeURL, registration.registrationId);
    }
  });
  await cdp.send('ServiceWorker.enable');
  const registrationId = async (): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const id = registrations.get(scope);
      if (id !== undefined) return id;
      if (Date.now() > deadline) throw new Error(`no service worker registration for ${scope}; seen: ${[...registrations.keys()].join(', ') || 'none'}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return {
    registrationId,
    /** Delivers one push message and waits until the notifications it showed are displayed. */
    async deliver(data: string): Promise<void> {
      const before = await shows();
      await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: await registrationId(), data });
      const deadline = Date.now() + 10_000;
      for (;;) {
        const now = await shows();
        if (now.settled > before.settled && now.started === now.settled) return;
        if (Date.now() > deadline) {
          throw new Error(`the service worker showed no notification for push ${JSON.stringify(data.slice(0, 60))} within 10 s (showNotification calls: ${JSON.stringify(now)})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}

export interface ShownNotification {
  title: string;
  body: string;
  icon: string;
  image: string;
  badge: string;
  tag: string;
  timestamp: number;
  requireInteraction: boolean;
  actions: Array<{ action: string; title: string }>;
  data: unknown;
}

/**
 * What the shopper sees: `registration.getNotifications()`, read from the page. By default from the
 * registration controlling the page; `scope` names another one (the dashboard's test-push worker,
 * whose scope leaves out the page that registered it).
 */
export function shownNotifications(page: Page, scope?: string): Promise<ShownNotification[]> {
  return page.evaluate(async (scope) => {
    // Runs in the page; the server project compiles without the DOM library, hence `any`.
    const g = globalThis as any;
    const registration = scope ? await g.navigator.serviceWorker.getRegistration(scope) : await g.navigator.serviceWorker.ready;
    if (!registration) throw new Error(`no service worker registration for ${scope}`);
    const list: any[] = await registration.getNotifications();
    return list.map((n) => ({
      title: n.title,
      body: n.body,
      icon: n.icon,
      image: n.image,
      badge: n.badge,
      tag: n.tag,
      timestamp: n.timestamp,
      requireInteraction: n.requireInteraction,
      actions: (n.actions ?? []).map((a: any) => ({ action: a.action, title: a.title })),
      data: n.data,
    }));
  }, scope);
}

/** The site's service worker as Playwright sees it (DevTools stays attached, so it is not stopped while idle). */
export async function serviceWorkerOf(context: BrowserContext, url: string): Promise<Worker> {
  return context.serviceWorkers().find((worker) => worker.url() === url) ?? (await context.waitForEvent('serviceworker', { predicate: (worker) => worker.url() === url, timeout: 10_000 }));
}

/**
 * Dispatches `notificationclick` / `notificationclose` for the notification with `tag` inside the
 * service worker, as Chromium does when the shopper clicks or closes it (no DevTools method does
 * that). A script-made ExtendableEvent refuses waitUntil(), so the event gets one that collects
 * the promises, and this resolves when they settle: what the browser would keep the worker alive for.
 * Resolves with the URLs passed to clients.openWindow and the URLs of the tabs focused (recorded,
 * not done: a script-made event carries no user activation, so Chromium would refuse both).
 */
export function dispatchNotificationEvent(
  worker: Worker,
  type: 'notificationclick' | 'notificationclose',
  tag: string,
  action?: string,
): Promise<{ waitUntilCalls: number; openedWindows: string[]; focusedTabs: string[]; found: boolean }> {
  return worker.evaluate(
    async ({ type, tag, action }) => {
      const g = globalThis as any;
      const [notification] = await g.registration.getNotifications({ tag });
      if (!notification) return { waitUntilCalls: 0, openedWindows: [], focusedTabs: [], found: false };
      const openedWindows: string[] = [];
      const focusedTabs: string[] = [];
      const openWindow = g.clients.openWindow;
      const focus = g.WindowClient.prototype.focus;
      g.clients.openWindow = async (url: string) => {
        openedWindows.push(url);
        return null;
      };
      g.WindowClient.prototype.focus = async function () {
        focusedTabs.push(this.url);
        return this;
      };
      try {
        const event = new g.NotificationEvent(type, { notification, action: action ?? '' });
        const pending: Promise<unknown>[] = [];
        Object.defineProperty(event, 'waitUntil', { value: (promise: Promise<unknown>) => pending.push(promise) });
        g.dispatchEvent(event);
        await Promise.allSettled(pending);
        return { waitUntilCalls: pending.length, openedWindows, focusedTabs, found: true };
      } finally {
        g.clients.openWindow = openWindow;
        g.WindowClient.prototype.focus = focus;
      }
    },
    { type, tag, action },
  );
}

/** Closes every notification of the registration (programmatic close fires no notificationclose). */
export function closeAllNotifications(worker: Worker): Promise<number> {
  return worker.evaluate(async () => {
    const g = globalThis as any;
    const list: any[] = await g.registration.getNotifications();
    for (const notification of list) notification.close();
    return list.length;
  });
}
