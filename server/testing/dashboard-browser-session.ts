import { mkdir, readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { hashPassword } from '../accounts/password.ts';
import { sessionCookieName, sessionCookieSecure, startSession } from '../accounts/sessions.ts';
import { createApp, type App, type AppDeps } from '../app.ts';
import { parseConfig } from '../config.ts';
import type { Db, Role } from '../db/database.ts';
import { upsertMembership } from '../db/memberships.ts';
import { insertUser } from '../db/users.ts';
import { memoryLogger } from '../logger.ts';
import { artifactsDir, chromiumMissing, launchChromium, type ChromiumProfile } from './browser-chromium.ts';
import { checkDashboardPage, serveApp, watchDashboardPage } from './dashboard-page-checks.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

/** Set-up and teardown get this long: a migrated database, the app and Chromium on a busy 2-core machine. */
const SET_UP_TIMEOUT_MS = 120_000;

export interface DashboardBrowserOptions {
  /** The folder under the test artifacts the screenshots go to, e.g. `dashboard`. */
  shots: string;
  /** Whether a page answered with an error status on purpose is expected (see watchDashboardPage). */
  statusPagesExpected: boolean;
  /**
   * What the app gets besides its public URL, the file's database, a memory logger and 127.0.0.1
   * as every client's address: a fixed clock (`now`, also the clock the session starts by), the
   * built client scripts.
   */
  app?: () => Partial<AppDeps> | Promise<Partial<AppDeps>>;
  /** Chromium's locale and time zone, where the pages show dates. */
  chromium?: { locale?: string; timezoneId?: string };
  /** The page may use the clipboard (the copy buttons). */
  clipboard?: boolean;
  /** Run after each resize, before the screenshot (see PageUnderCheck). */
  afterResize?: (page: Page) => Promise<void>;
  /**
   * The file's own data, once the app is served and before Chromium starts. Returns the user to
   * sign in by a session cookie; nothing where the test signs in through the pages itself.
   */
  setUp(world: { db: Db; origin: string; app: App }): Promise<{ signedIn?: string } | void>;
}

export interface DashboardBrowser {
  /** The file's own migrated database. */
  readonly db: Db;
  /** Where the app is served: `http://localhost:<port>`. */
  readonly origin: string;
  readonly app: App;
  readonly browser: ChromiumProfile;
  readonly page: Page;
  readonly shotsDir: string;
  /** Console errors, page errors and dialogs in the current browser (CSP violations: `cspViolations`). */
  readonly problems: readonly string[];
  /** checkDashboardPage on the current page: screenshots `<name>-1280.png` and `<name>-390.png`. */
  checkPage(name: string): Promise<void>;
  /** Closes the browser and opens a fresh profile, signed in as no one (someone else's browser); returns its page. */
  reopenBrowser(): Promise<Page>;
}

/**
 * For one dashboard browser-test file: a migrated database, the app served on a free port, the
 * file's data (`setUp`), then Chromium on a fresh profile, watched for errors and CSP violations,
 * signed in where asked; all of it closed after the file's tests. Where Chromium is missing it
 * registers nothing (the file's `describe.skipIf` skips the tests).
 */
export function useDashboardBrowser(options: DashboardBrowserOptions): DashboardBrowser {
  let database: TestDatabase;
  let server: Server | undefined;
  let origin: string;
  let app: App;
  let browser: ChromiumProfile | undefined;
  let shotsDir: string;
  let axeSource: string;
  const problems: string[] = [];

  async function openBrowser(): Promise<ChromiumProfile> {
    const opened = await launchChromium(options.chromium);
    browser = opened;
    if (options.clipboard) await opened.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    await watchDashboardPage(opened.context, opened.page, problems, { statusPagesExpected: options.statusPagesExpected });
    // A dashboard page never opens a dialog: one would be markup someone typed, run.
    opened.page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    return opened;
  }

  if (!chromiumMissing()) {
    beforeAll(async () => {
      database = await createTestDatabase();
      const extra = (await options.app?.()) ?? {};
      ({ server, origin } = await serveApp((origin) => (app = createApp({ config: parseConfig({ PUSHCART_PUBLIC_URL: origin }), db: database.db, logger: memoryLogger(), clientIp: () => '127.0.0.1', ...extra }))));
      const { signedIn } = (await options.setUp({ db: database.db, origin, app })) ?? {};
      shotsDir = join(await artifactsDir(), options.shots);
      await mkdir(shotsDir, { recursive: true });
      axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
      const opened = await openBrowser();
      if (signedIn) {
        // A session made here: signing in through the pages is dashboard-browser.test.ts's subject.
        const { token } = await startSession(database.db, { userId: signedIn }, new Date((extra.now ?? Date.now)()));
        await opened.context.addCookies([{ name: sessionCookieName(sessionCookieSecure(origin)), value: token, url: origin, httpOnly: true, sameSite: 'Lax' }]);
      }
    }, SET_UP_TIMEOUT_MS);

    afterAll(async () => {
      await browser?.close();
      if (server) {
        const closing = server;
        closing.closeAllConnections();
        await new Promise<void>((resolve) => closing.close(() => resolve()));
      }
      await database?.destroy();
    }, SET_UP_TIMEOUT_MS);
  }

  return {
    get db() {
      return database.db;
    },
    get origin() {
      return origin;
    },
    get app() {
      return app;
    },
    get browser() {
      return browser!;
    },
    get page() {
      return browser!.page;
    },
    get shotsDir() {
      return shotsDir;
    },
    problems,
    async checkPage(name) {
      const page = browser!.page;
      await checkDashboardPage({ page, shotsDir, axeSource, problems, afterResize: options.afterResize && (() => options.afterResize!(page)) }, name);
    },
    async reopenBrowser() {
      await browser?.close();
      problems.length = 0;
      return (await openBrowser()).page;
    },
  };
}

/** A user of the site with `role`; with a password where the test signs in through the sign-in form. */
export async function addMember(db: Db, siteId: string, member: { email: string; name?: string | null; role: Role; password?: string }, now = new Date()): Promise<string> {
  const user = await insertUser(db, { email: member.email, name: member.name, passwordHash: member.password === undefined ? null : await hashPassword(member.password) }, now);
  await upsertMembership(db, { userId: user!.id, siteId, role: member.role }, now);
  return user!.id;
}
