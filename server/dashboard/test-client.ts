/**
 * For the dashboard's route tests: a browser-like client over `app.request` that keeps cookies,
 * reads the CSRF token out of a page, and posts forms as a browser would.
 */
import { CSRF_FIELD_NAME } from '../accounts/csrf.ts';
import { sessionCookieName, startSession } from '../accounts/sessions.ts';
import type { Db, Role } from '../db/database.ts';
import { upsertMembership } from '../db/memberships.ts';
import { insertUser } from '../db/users.ts';

interface RequestApp {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

export interface PageResponse {
  status: number;
  headers: Headers;
  body: string;
  location: string | null;
}

/** The `_csrf` value of the first form on a page. */
export function csrfTokenIn(page: string): string {
  const match = new RegExp(`name="${CSRF_FIELD_NAME}" value="([^"]+)"`).exec(page);
  if (!match) throw new Error(`no ${CSRF_FIELD_NAME} field in the page:\n${page.slice(0, 500)}`);
  return match[1]!;
}

export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly app: RequestApp) {}

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async send(method: string, path: string, init: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<PageResponse> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0) headers.Cookie = this.cookieHeader();
    if (init.form) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const response = await this.app.request(path, {
      method,
      headers,
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: response.status, headers: response.headers, body: await response.text(), location: response.headers.get('Location') };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.send('GET', path, headers ? { headers } : {});
  }

  post(path: string, form: Record<string, string>, headers?: Record<string, string>) {
    return this.send('POST', path, { form, ...(headers ? { headers } : {}) });
  }

  /** Opens `pagePath`, then posts its form with the page's CSRF token and `form`. */
  async submit(pagePath: string, form: Record<string, string>, options: { action?: string; headers?: Record<string, string> } = {}): Promise<PageResponse> {
    const page = await this.get(pagePath);
    if (page.status !== 200) throw new Error(`${pagePath} answered ${page.status}, not a form`);
    return this.post(options.action ?? pagePath, { [CSRF_FIELD_NAME]: csrfTokenIn(page.body), ...form }, options.headers);
  }
}

/**
 * A browser signed in as `userId` by a session started directly (signing in has tests of its own),
 * its cookie named as the app names it (`__Host-` when the public URL is https).
 */
export async function signedInBrowser(app: RequestApp, db: Db, userId: string, at: Date, options: { secure?: boolean } = {}): Promise<TestBrowser> {
  const browser = new TestBrowser(app);
  const { token } = await startSession(db, { userId }, at);
  browser.cookies.set(sessionCookieName(options.secure ?? false), token);
  return browser;
}

/** A new dashboard user (no password) with a role on each site given; returns the user's id. */
export async function dashboardMember(db: Db, email: string, roles: Array<[siteId: string, role: Role]>, at: Date): Promise<string> {
  const user = await insertUser(db, { email, name: null, passwordHash: null }, at);
  for (const [siteId, role] of roles) await upsertMembership(db, { userId: user!.id, siteId, role }, at);
  return user!.id;
}
