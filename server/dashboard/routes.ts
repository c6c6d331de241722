/**
 * The shop owner's dashboard at /dashboard: server-rendered pages that work without JavaScript
 * (forms post normally), on Node and Workers alike (nothing here touches a runtime API).
 *
 * Every response carries a strict Content-Security-Policy (no inline script or style; the one
 * stylesheet and script are served from /dashboard/assets/). Every POST is refused when the
 * browser says it comes from another site (Fetch Metadata, else Origin), then needs the form's
 * CSRF token: derived from the session for signed-in forms, from a form cookie for the forms
 * before sign-in (sign-in, password links, invites), so none of them can be submitted by a page
 * elsewhere. A site is only ever loaded through the signed-in user's membership
 * (`findSiteForMember`): another shop's id is a 404, whatever it is.
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { CSRF_FIELD_NAME, csrfTokenFor, isCrossSiteRequest, verifyCsrfToken } from '../accounts/csrf.ts';
import { acceptInvite, usableInvite, usablePasswordLink, usePasswordLink } from '../accounts/links.ts';
import { LoginRateLimiter, type LoginRateLimitSettings } from '../accounts/login-rate-limit.ts';
import type { PasswordHashOptions } from '../accounts/password.ts';
import { can } from '../accounts/roles.ts';
import { recordAudit, userActor } from '../audit/audit-log.ts';
import { endAllSessions, endSession, resolveSession, sessionCookieName, sessionCookieOptions, sessionCookieSecure, startSession } from '../accounts/sessions.ts';
import { signIn } from '../accounts/sign-in.ts';
import { isWellFormedToken, newSecretToken } from '../accounts/tokens.ts';
import { findSiteForMember, listSitesOfMember } from '../db/memberships.ts';
import type { LiveSession } from '../db/sessions.ts';
import { listSessionsOfUser } from '../db/sessions.ts';
import { originsSeenOfSite } from '../db/origins-seen.ts';
import { findSiteById, updateSiteInstall } from '../db/sites.ts';
import { forgetCachedSites } from '../sites/site-lookup-cache.ts';
import { isStorageUnavailable } from '../db/storage-errors.ts';
import { findUserById } from '../db/users.ts';
import { describeError } from '../logger.ts';
import { installSnippet } from '../sites/install-snippet.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { bundledAsset, dashboardAssets, etagMatches, ASSET_MAX_AGE_SECONDS } from './assets/assets.ts';
import { installCheck } from './install-check.ts';
import { installFormProblems } from './install-form.ts';
import { DASHBOARD_CSP } from './csp.ts';
import { installChange, registerTeamRoutes } from './team-routes.ts';
import { DASHBOARD_PATH, siteHomePath, type Html, type SignedInChrome } from './layout.ts';
import { deadLinkPage, invitePage, messagePage, passwordPage, signInPage, tooManyAttemptsPage, type InviteForm } from './pages/auth-pages.ts';
import { accountPage, installPage, siteListPage } from './pages/site-pages.ts';
import { subscriberPages } from './subscriber-routes.ts';
import { automationRoutes } from './automation-routes.ts';
import { campaignRoutes } from './campaign-routes.ts';
import { segmentRoutes } from './segment-routes.ts';
import { registerPromptRoutes } from './prompt-routes.ts';
import { overviewRoutes } from './overview-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { listTestDevices } from '../db/test-devices.ts';
import { testPushNoticeOf } from './pages/test-push-section.ts';
import { createOwnTestPush, registerTestPushRoutes } from './test-push-routes.ts';


export interface DashboardOptions {
  /** Sign-in limits; the defaults of server/accounts/login-rate-limit.ts otherwise. */
  loginLimits?: LoginRateLimitSettings;
  password?: PasswordHashOptions;
}

export interface DashboardEnv {
  Variables: AppEnv['Variables'] & {
    /** The signed-in session and its cookie's token, when there is one. */
    live: LiveSession | undefined;
    sessionToken: string | undefined;
  };
}

export type DashboardContext = Context<DashboardEnv>;

/** What a page file registered from here needs of this file's helpers. */
export interface DashboardKit {
  page(c: DashboardContext, body: Html, status?: 200 | 403 | 404 | 422 | 429 | 500 | 503): Promise<Response>;
  message(c: DashboardContext, status: 403 | 404 | 500 | 503, heading: string, text: string, link?: { href: string; label: string }): Promise<Response>;
  toSignIn(c: DashboardContext): Response;
  chromeFor(live: LiveSession, token: string): Promise<{ sites: Awaited<ReturnType<typeof listSitesOfMember>>; chrome: SignedInChrome }>;
}

/** Why a POST is refused before its handler runs, as a page. */
export type Refusal = { status: 403; heading: string; text: string };

export function dashboardRoutes(deps: AppDeps, options: DashboardOptions = {}) {
  const clock = deps.now ?? Date.now;
  const now = () => new Date(clock());
  const limiter = new LoginRateLimiter(clock, options.loginLimits);
  const secure = sessionCookieSecure(deps.config.publicUrl);
  const cookieName = sessionCookieName(secure);
  // The forms before sign-in tie their token to this cookie (RFC 6265bis §4.1.3.2 prefix as the session's).
  const formCookieName = secure ? '__Host-pushcart-form' : 'pushcart-form';
  const dashboardOrigin = new URL(deps.config.publicUrl).origin;
  const publicUrl = deps.config.publicUrl;
  // The prompt page's preview script, bundled with the client scripts (absent where they are not built).
  const promptPreview = deps.clientScripts ? bundledAsset('prompt-preview', deps.clientScripts.promptPreview) : undefined;

  async function page(c: DashboardContext, body: Html, status: 200 | 403 | 404 | 422 | 429 | 500 | 503 = 200) {
    return c.html(await body, status);
  }

  async function message(c: DashboardContext, status: 403 | 404 | 500 | 503, heading: string, text: string, link: { href: string; label: string } = { href: DASHBOARD_PATH, label: 'Go to the dashboard' }) {
    const assets = await dashboardAssets();
    return page(c, messagePage({ assets, title: heading, heading, body: html`<p>${text}</p><p><a class="button secondary" href="${link.href}">${link.label}</a></p>` }), status);
  }

  function setSessionCookie(c: DashboardContext, token: string) {
    setCookie(c, cookieName, token, sessionCookieOptions(secure));
  }

  function clearSessionCookie(c: DashboardContext) {
    deleteCookie(c, cookieName, { path: '/', secure });
  }

  /** The token for a form shown before sign-in, made from the form cookie (set now if missing). */
  async function anonymousFormToken(c: DashboardContext): Promise<string> {
    let secret = getCookie(c, formCookieName);
    if (secret === undefined || !isWellFormedToken(secret)) {
      secret = newSecretToken();
      // A browser-session cookie: it only has to outlive the form it was made for.
      setCookie(c, formCookieName, secret, { httpOnly: true, secure, sameSite: 'Strict', path: '/' });
    }
    return csrfTokenFor(secret);
  }

  function crossSite(c: DashboardContext): Refusal | undefined {
    if (!isCrossSiteRequest({ secFetchSite: c.req.header('Sec-Fetch-Site'), origin: c.req.header('Origin') }, dashboardOrigin)) return undefined;
    return { status: 403, heading: 'Request refused', text: 'This form was sent from another website, so it was not accepted. Open the dashboard and try again from there.' };
  }

  const expiredForm: Refusal = {
    status: 403,
    heading: 'The form expired',
    text: 'This form is no longer valid (it may be from before you signed in or out). Go back, reload the page and send it again.',
  };

  async function formBody(c: DashboardContext): Promise<Record<string, string>> {
    const parsed = await c.req.parseBody();
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') fields[key] = value;
    return fields;
  }

  /** Checks a POST of a signed-in form: same site, a live session, its CSRF token. */
  async function signedInPost(c: DashboardContext): Promise<{ refusal: Refusal } | { live: LiveSession; token: string; fields: Record<string, string> }> {
    const refused = crossSite(c);
    if (refused) return { refusal: refused };
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) {
      return { refusal: { status: 403, heading: 'You are signed out', text: 'Your session has ended, so nothing was changed. Sign in and try again.' } };
    }
    const fields = await formBody(c);
    if (!(await verifyCsrfToken(token, fields[CSRF_FIELD_NAME]))) return { refusal: expiredForm };
    return { live, token, fields };
  }

  /** Checks a POST of a form shown before sign-in: same site, the form cookie's CSRF token. */
  async function anonymousPost(c: DashboardContext): Promise<{ refusal: Refusal } | { fields: Record<string, string> }> {
    const refused = crossSite(c);
    if (refused) return { refusal: refused };
    const fields = await formBody(c);
    const secret = getCookie(c, formCookieName);
    if (secret === undefined || !isWellFormedToken(secret) || !(await verifyCsrfToken(secret, fields[CSRF_FIELD_NAME]))) {
      return {
        refusal: {
          ...expiredForm,
          text: 'This form is no longer valid, or your browser did not send its cookie. Reload the page (cookies must be allowed for this site) and send it again.',
        },
      };
    }
    return { fields };
  }

  function refuse(c: DashboardContext, refusal: Refusal) {
    return message(c, refusal.status, refusal.heading, refusal.text);
  }

  /** Where to go after signing in: only a dashboard page of this origin (no open redirect). */
  function safeNext(next: string | undefined): string | undefined {
    if (!next || !next.startsWith(`${DASHBOARD_PATH}/`) || next.startsWith('//') || next.includes('\\')) return undefined;
    try {
      const url = new URL(next, dashboardOrigin);
      if (url.origin !== dashboardOrigin || !url.pathname.startsWith(`${DASHBOARD_PATH}/`)) return undefined;
      return `${url.pathname}${url.search}`;
    } catch {
      return undefined;
    }
  }

  function toSignIn(c: DashboardContext) {
    const next = safeNext(c.req.path + (new URL(c.req.url).search || ''));
    return c.redirect(`${DASHBOARD_PATH}/login${next ? `?next=${encodeURIComponent(next)}` : ''}`, 303);
  }

  async function chromeFor(live: LiveSession, token: string) {
    const sites = await listSitesOfMember(deps.db, live.user.id);
    return { sites, chrome: { user: live.user, csrfToken: await csrfTokenFor(token), siteCount: sites.length } };
  }

  function clientAddress(c: DashboardContext): string | undefined {
    return deps.clientIp?.(c as unknown as Context<AppEnv>);
  }

  async function renderInstall(
    c: DashboardContext,
    live: LiveSession,
    token: string,
    member: NonNullable<Awaited<ReturnType<typeof findSiteForMember>>>,
    extra: { form?: { name: string; originsText: string; errors: string[] }; saved?: boolean } = {},
  ) {
    const [assets, { chrome }, seen, devices] = await Promise.all([
      dashboardAssets(),
      chromeFor(live, token),
      originsSeenOfSite(deps.db, member.site.id),
      listTestDevices(deps.db, member.site.id, live.user.id),
    ]);
    const timeZone = readSiteSettings(member.site.settings).engagement.defaultTimeZone;
    const check = installCheck({
      allowedOrigins: member.site.allowed_origins,
      seen,
      now: now(),
      timeZone,
      serviceWorkerPath: installSnippet(publicUrl, member.site.publishable_key).serviceWorkerPath,
    });
    const testNotice = testPushNoticeOf((name) => c.req.query(name));
    return page(
      c,
      installPage({
        check,
        assets,
        chrome: { ...chrome, site: { id: member.site.id, name: member.site.name, role: member.role } },
        publicUrl,
        publishableKey: member.site.publishable_key,
        origins: member.site.allowed_origins,
        canEdit: can(member.role, 'edit_install'),
        testPush: {
          assets,
          siteId: member.site.id,
          siteName: member.site.name,
          vapidPublicKey: member.site.vapid_public_key,
          csrfToken: chrome.csrfToken,
          canSend: can(member.role, 'send'),
          available: deps.pushTransport !== undefined,
          devices: devices.map((device) => ({ id: device.id, userAgent: device.user_agent, addedAt: device.created_at, lastSentAt: device.last_sent_at, lastOutcome: device.last_outcome })),
          ...(testNotice ? { notice: testNotice } : {}),
          now: now(),
          timeZone,
        },
        ...extra,
      }),
      extra.form ? 422 : 200,
    );
  }

  const app = new Hono<DashboardEnv>();

  app.use(async (c, next) => {
    await next();
    const headers = c.res.headers;
    // A page that frames its preview, or is such a frame, set its own (prompt-routes.ts).
    if (!headers.has('Content-Security-Policy')) headers.set('Content-Security-Policy', DASHBOARD_CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    if (!headers.has('Referrer-Policy')) headers.set('Referrer-Policy', 'same-origin');
    if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store');
  });

  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const asset = (await dashboardAssets()).byName.get(name) ?? (promptPreview?.name === name ? promptPreview : undefined);
    if (!asset) return c.text('Not found', 404);
    c.header('ETag', asset.etag);
    c.header('Cache-Control', `public, max-age=${ASSET_MAX_AGE_SECONDS}, immutable`);
    if (etagMatches(c.req.header('If-None-Match'), asset.etag)) return c.body(null, 304);
    c.header('Content-Type', asset.contentType);
    return c.body(asset.body);
  });

  // Every page but the assets learns who is signed in.
  app.use(async (c, next) => {
    if (c.req.path.startsWith(`${DASHBOARD_PATH}/assets/`)) return next();
    const token = getCookie(c, cookieName);
    const live = await resolveSession(deps.db, token, now());
    c.set('live', live);
    c.set('sessionToken', live ? token : undefined);
    await next();
  });

  // Pages holding a one-time token in their URL never pass it on in a Referer (RFC 9110 §10.1.3).
  app.use('/password/*', async (c, next) => {
    await next();
    c.res.headers.set('Referrer-Policy', 'no-referrer');
  });
  app.use('/invite/*', async (c, next) => {
    await next();
    c.res.headers.set('Referrer-Policy', 'no-referrer');
  });

  app.get('/', async (c) => {
    const live = c.get('live');
    if (!live) return toSignIn(c);
    const sites = await listSitesOfMember(deps.db, live.user.id);
    if (sites.length === 1) return c.redirect(siteHomePath(sites[0]!.siteId), 303);
    return c.redirect(`${DASHBOARD_PATH}/sites`, 303);
  });

  app.get('/sites', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const [assets, { sites, chrome }] = await Promise.all([dashboardAssets(), chromeFor(live, token)]);
    return page(c, siteListPage({ assets, chrome, sites }));
  });

  app.get('/login', async (c) => {
    if (c.get('live')) return c.redirect(safeNext(c.req.query('next')) ?? DASHBOARD_PATH, 303);
    const signedOut = c.req.query('signed-out');
    const [assets, csrfToken] = await Promise.all([dashboardAssets(), anonymousFormToken(c)]);
    return page(
      c,
      signInPage({
        assets,
        csrfToken,
        ...(safeNext(c.req.query('next')) ? { next: safeNext(c.req.query('next'))! } : {}),
        ...(signedOut === 'everywhere'
          ? { message: 'You have been signed out on every browser and device.' }
          : signedOut !== undefined
            ? { message: 'You have been signed out.' }
            : {}),
      }),
    );
  });

  app.post('/login', async (c) => {
    const checked = await anonymousPost(c);
    if ('refusal' in checked) return refuse(c, checked.refusal);
    const email = checked.fields.email ?? '';
    const password = checked.fields.password ?? '';
    const next = safeNext(checked.fields.next);
    const result = await signIn(
      deps.db,
      { email, password, address: clientAddress(c), userAgent: c.req.header('User-Agent')?.slice(0, 500) ?? null },
      now(),
      { limiter, ...(options.password ? { password: options.password } : {}) },
    );
    const assets = await dashboardAssets();
    if (result.outcome === 'rate_limited') {
      c.header('Retry-After', String(result.retryAfterSeconds));
      return page(c, tooManyAttemptsPage({ assets, retryAfterSeconds: result.retryAfterSeconds }), 429);
    }
    if (result.outcome === 'invalid_credentials') {
      return page(
        c,
        signInPage({ assets, csrfToken: await anonymousFormToken(c), email, ...(next ? { next } : {}), error: 'That email and password do not match an account. Check both and try again.' }),
        422,
      );
    }
    const previous = c.get('sessionToken');
    if (previous !== undefined) await endSession(deps.db, previous);
    setSessionCookie(c, result.token);
    deps.logger.log('info', 'dashboard sign-in', { userId: result.user.id, requestId: c.get('requestId') });
    return c.redirect(next ?? DASHBOARD_PATH, 303);
  });

  app.post('/sign-out', async (c) => {
    const checked = await signedInPost(c);
    if ('refusal' in checked) return refuse(c, checked.refusal);
    await endSession(deps.db, checked.token);
    clearSessionCookie(c);
    return c.redirect(`${DASHBOARD_PATH}/login?signed-out`, 303);
  });

  app.post('/sign-out-everywhere', async (c) => {
    const checked = await signedInPost(c);
    if ('refusal' in checked) return refuse(c, checked.refusal);
    const ended = await endAllSessions(deps.db, checked.live.user.id);
    clearSessionCookie(c);
    deps.logger.log('info', 'dashboard signed out everywhere', { userId: checked.live.user.id, sessions: ended, requestId: c.get('requestId') });
    return c.redirect(`${DASHBOARD_PATH}/login?signed-out=everywhere`, 303);
  });

  app.get('/account', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const [assets, { chrome }, sessions] = await Promise.all([dashboardAssets(), chromeFor(live, token), listSessionsOfUser(deps.db, live.user.id)]);
    return page(
      c,
      accountPage({
        assets,
        chrome,
        sessions: sessions.map((session) => ({ userAgent: session.user_agent, lastSeenAt: session.last_seen_at, current: session.id === live.session.id })),
      }),
    );
  });

  // --- one-time password links ---

  async function renderPassword(c: DashboardContext, token: string, error?: string) {
    const link = await usablePasswordLink(deps.db, token, now());
    const assets = await dashboardAssets();
    const user = link ? await findUserById(deps.db, link.user_id) : undefined;
    if (!link || !user) return page(c, deadLinkPage(assets, 'password'), 404);
    return page(
      c,
      passwordPage({
        assets,
        csrfToken: await anonymousFormToken(c),
        action: `${DASHBOARD_PATH}/password/${token}`,
        purpose: link.purpose,
        email: user.email,
        ...(error ? { error } : {}),
      }),
      error ? 422 : 200,
    );
  }

  app.get('/password/:token', (c) => renderPassword(c, c.req.param('token')));

  app.post('/password/:token', async (c) => {
    const token = c.req.param('token');
    const checked = await anonymousPost(c);
    if ('refusal' in checked) return refuse(c, checked.refusal);
    const password = checked.fields.password ?? '';
    if (password !== (checked.fields.confirm ?? '')) return renderPassword(c, token, 'The two passwords are not the same. Type the new password twice.');
    const result = await usePasswordLink(deps.db, { token, password }, now(), options.password);
    if (result.outcome === 'invalid_link') return page(c, deadLinkPage(await dashboardAssets(), 'password'), 404);
    if (result.outcome === 'invalid_password') return renderPassword(c, token, result.problem.message);
    // usePasswordLink ended every session of this user; one signed in as someone else ends here too.
    const previous = c.get('sessionToken');
    if (previous !== undefined) await endSession(deps.db, previous);
    const started = await startSession(deps.db, { userId: result.userId, userAgent: c.req.header('User-Agent')?.slice(0, 500) ?? null }, now());
    setSessionCookie(c, started.token);
    deps.logger.log('info', 'dashboard password set from a link', { userId: result.userId, requestId: c.get('requestId') });
    return c.redirect(DASHBOARD_PATH, 303);
  });

  // --- invites ---

  async function renderInvite(c: DashboardContext, token: string, extra: { error?: string; name?: string; status?: 200 | 422 } = {}) {
    const invite = await usableInvite(deps.db, token, now());
    const assets = await dashboardAssets();
    // The invite's token is what grants a look at the site's name here, before any membership.
    const site = invite ? await findSiteById(deps.db, invite.site_id) : undefined;
    if (!invite || !site) return page(c, deadLinkPage(assets, 'invite'), 404);
    const live = c.get('live');
    const form: InviteForm = live?.user.email === invite.email ? { kind: 'signed_in' } : invite.accountExists ? { kind: 'existing_account' } : { kind: 'new_account' };
    return page(
      c,
      invitePage({
        assets,
        csrfToken: await anonymousFormToken(c),
        action: `${DASHBOARD_PATH}/invite/${token}`,
        siteName: site.name,
        role: invite.role,
        email: invite.email,
        form,
        ...(extra.error ? { error: extra.error } : {}),
        ...(extra.name ? { name: extra.name } : {}),
      }),
      extra.status ?? 200,
    );
  }

  app.get('/invite/:token', (c) => renderInvite(c, c.req.param('token')));

  app.post('/invite/:token', async (c) => {
    const token = c.req.param('token');
    const checked = await anonymousPost(c);
    if ('refusal' in checked) return refuse(c, checked.refusal);
    const invite = await usableInvite(deps.db, token, now());
    if (!invite) return page(c, deadLinkPage(await dashboardAssets(), 'invite'), 404);
    const live = c.get('live');
    const siteHome = siteHomePath;
    const userAgent = c.req.header('User-Agent')?.slice(0, 500) ?? null;

    if (live?.user.email === invite.email) {
      const accepted = await acceptInvite(deps.db, { token }, now(), options.password);
      if (accepted.outcome !== 'accepted') return page(c, deadLinkPage(await dashboardAssets(), 'invite'), 404);
      return c.redirect(siteHome(accepted.siteId), 303);
    }

    if (invite.accountExists) {
      // The account's owner proves it is theirs with its password, limited as every sign-in is.
      const result = await signIn(
        deps.db,
        { email: invite.email, password: checked.fields.password ?? '', address: clientAddress(c), userAgent },
        now(),
        { limiter, ...(options.password ? { password: options.password } : {}) },
      );
      if (result.outcome === 'rate_limited') {
        c.header('Retry-After', String(result.retryAfterSeconds));
        return page(c, tooManyAttemptsPage({ assets: await dashboardAssets(), retryAfterSeconds: result.retryAfterSeconds }), 429);
      }
      if (result.outcome === 'invalid_credentials') return renderInvite(c, token, { error: 'That is not the password of this account.', status: 422 });
      const previous = c.get('sessionToken');
      if (previous !== undefined) await endSession(deps.db, previous);
      setSessionCookie(c, result.token);
      const accepted = await acceptInvite(deps.db, { token }, now(), options.password);
      if (accepted.outcome !== 'accepted') return page(c, deadLinkPage(await dashboardAssets(), 'invite'), 404);
      return c.redirect(siteHome(accepted.siteId), 303);
    }

    const password = checked.fields.password ?? '';
    const name = (checked.fields.name ?? '').trim().slice(0, 200);
    if (password !== (checked.fields.confirm ?? '')) return renderInvite(c, token, { error: 'The two passwords are not the same. Type the new password twice.', name, status: 422 });
    const accepted = await acceptInvite(deps.db, { token, password, name: name === '' ? null : name }, now(), options.password);
    if (accepted.outcome === 'invalid_link') return page(c, deadLinkPage(await dashboardAssets(), 'invite'), 404);
    if (accepted.outcome === 'invalid_password') return renderInvite(c, token, { error: accepted.problem.message, name, status: 422 });
    // The account appeared meanwhile: the form asks for its password instead.
    if (accepted.outcome === 'password_required') return renderInvite(c, token, { status: 422, error: 'This email has an account now: sign in with its password to join.' });
    const previous = c.get('sessionToken');
    if (previous !== undefined) await endSession(deps.db, previous);
    const started = await startSession(deps.db, { userId: accepted.userId, userAgent }, now());
    setSessionCookie(c, started.token);
    return c.redirect(siteHome(accepted.siteId), 303);
  });

  // --- a site's pages ---

  app.get('/sites/:siteId/install', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await findSiteForMember(deps.db, live.user.id, c.req.param('siteId'));
    if (!member) return message(c, 404, 'Page not found', 'There is no such shop among yours.');
    return renderInstall(c, live, token, member, { saved: c.req.query('saved') !== undefined });
  });

  app.post('/sites/:siteId/install', async (c) => {
    const checked = await signedInPost(c);
    if ('refusal' in checked) return refuse(c, checked.refusal);
    const member = await findSiteForMember(deps.db, checked.live.user.id, c.req.param('siteId'));
    if (!member) return message(c, 404, 'Page not found', 'There is no such shop among yours.');
    if (!can(member.role, 'edit_install')) {
      return message(c, 403, 'Not allowed', `Your role on ${member.site.name} (${member.role}) cannot change the install. Nothing was changed.`, {
        href: `${DASHBOARD_PATH}/sites/${member.site.id}/install`,
        label: 'Back to the install page',
      });
    }
    const name = checked.fields.name ?? '';
    const originsText = checked.fields.origins ?? '';
    const parsed = installFormProblems(name, originsText);
    if ('errors' in parsed) return renderInstall(c, checked.live, checked.token, member, { form: { name, originsText, errors: parsed.errors } });
    await deps.db.transaction().execute(async (trx) => {
      await updateSiteInstall(trx, member.site.id, parsed.value);
      await recordAudit(trx, member.site.id, userActor(checked.live.user), installChange(member.site, parsed.value), now());
    });
    // "The new origins apply to the next request": the browser routes' cached site goes.
    forgetCachedSites();
    deps.logger.log('info', 'site install changed', { siteId: member.site.id, userId: checked.live.user.id, requestId: c.get('requestId') });
    return c.redirect(`${DASHBOARD_PATH}/sites/${member.site.id}/install?saved`, 303);
  });

  const ownTestPush = createOwnTestPush(deps);
  subscriberPages(app, deps, { now, page, message, refuse, signedInPost, toSignIn, chromeFor });
  automationRoutes(app, deps, { now, publicUrl, page, message, refuse, signedInPost, toSignIn, chromeFor, ownTestPush });
  campaignRoutes(app, deps, { now, publicUrl, page, message, refuse, signedInPost, toSignIn, chromeFor, ownTestPush });
  segmentRoutes(app, deps, { now, publicUrl, page, message, refuse, signedInPost, toSignIn, chromeFor });
  registerTestPushRoutes(app, deps, { now, publicUrl, page, message, refuse, signedInPost, toSignIn, chromeFor, ownTestPush });
  registerTeamRoutes(app, deps, { now, publicUrl, page, message, refuse, signedInPost, toSignIn, chromeFor });
  registerPromptRoutes(app, deps, { now, publicUrl, page, message, refuse, signedInPost, toSignIn, chromeFor, promptPreview });
  overviewRoutes(app, deps, { page, message, toSignIn, chromeFor });
  healthRoutes(app, deps, { page, message, toSignIn, chromeFor });

  app.all('*', (c) => {
    // `/dashboard/` and the like: the address without the slash, if it is a page, answers.
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && c.req.path.endsWith('/')) {
      return c.redirect(`${c.req.path.replace(/\/+$/, '')}${new URL(c.req.url).search}`, 301);
    }
    return message(c, 404, 'Page not found', 'There is no dashboard page at this address.');
  });

  app.onError(async (error, c) => {
    if (isStorageUnavailable(error)) {
      deps.logger.log('error', 'storage unavailable', { requestId: c.get('requestId'), ...describeError(error) });
      c.header('Retry-After', '5');
      return message(c, 503, 'Try again shortly', 'The database cannot be reached right now. Nothing was changed; try again in a few seconds.');
    }
    deps.logger.log('error', 'unhandled error', { requestId: c.get('requestId'), ...describeError(error) });
    return message(c, 500, 'Something went wrong', 'The page could not be shown. Nothing was changed; try again, and tell whoever runs Pushcart if it keeps happening.');
  });

  return app;
}
