/**
 * The soft prompt's page, `/dashboard/sites/:siteId/prompt`: read by every member, changed by
 * those who may `edit_prompt`, through `changeSiteSettings` (the validation of PATCH /v1/settings),
 * and its two preview frames, `…/prompt/preview` (HTML) and `…/prompt/preview.css` (its theme).
 *
 * The page frames its own previews and the frames load the shop's logo, which may live on any
 * https host: these three answers carry their own Content-Security-Policy, the dashboard's with
 * only that let in (`frame-src 'self'` on the page; `frame-ancestors 'self'` and https images on a
 * frame), and the dashboard's middleware leaves a policy already set in place.
 *
 * A language's texts are removed on a page of their own, `…/prompt/remove?locale=fr`, which asks
 * first (a link and a confirming form work without scripts, and a removal cannot be undone
 * there); the default language's cannot be removed, and that page says why.
 */
import type { Hono } from 'hono';
import type { AppDeps } from '../app-env.ts';
import { can } from '../accounts/roles.ts';
import { findSiteForMember } from '../db/memberships.ts';
import type { LiveSession } from '../db/sessions.ts';
import { ApiError } from '../errors.ts';
import { userActor } from '../audit/audit-log.ts';
import { changeSiteSettings, removePromptLocale } from '../settings/change-settings.ts';
import { promptForLocale } from '../routes/site-config.ts';
import { readSiteSettings, type SiteSettings } from '../sites/site-settings.ts';
import { previewFromQuery } from '../sites/prompt-look.ts';
import { dashboardAssets, type DashboardAsset } from './assets/assets.ts';
import { DASHBOARD_PATH, type Html } from './layout.ts';
import { errorsFromIssues, fallbackTexts, formFromPost, formFromSettings, patchFromForm, previewLocale, previewPromptOf, type FieldErrors, type PromptFormValues } from './prompt-form.ts';
import { previewFrameCss, previewFramePage, promptPage, removeLocalePage, PREVIEW_VIEWS, type PreviewView } from './pages/prompt-pages.ts';
import { canonicalLocale } from '../validation.ts';
import { PREVIEW_FRAME_CSP, PROMPT_PAGE_CSP } from './csp.ts';
import type { DashboardContext, DashboardEnv, Refusal } from './routes.ts';

type Member = NonNullable<Awaited<ReturnType<typeof findSiteForMember>>>;

/** What routes.ts lends its pages: rendering, refusals, the checked POST, the top bar. */
export interface PromptPageKit {
  now: () => Date;
  publicUrl: string;
  page: (c: DashboardContext, body: Html, status?: 200 | 403 | 404 | 422) => Promise<Response>;
  message: (c: DashboardContext, status: 403 | 404, heading: string, text: string, link?: { href: string; label: string }) => Promise<Response>;
  refuse: (c: DashboardContext, refusal: Refusal) => Promise<Response>;
  signedInPost: (c: DashboardContext) => Promise<{ refusal: Refusal } | { live: LiveSession; token: string; fields: Record<string, string> }>;
  toSignIn: (c: DashboardContext) => Response;
  chromeFor: (live: LiveSession, token: string) => Promise<{ chrome: { user: LiveSession['user']; csrfToken: string; siteCount: number } }>;
  /** The bundled preview script, when the client scripts are built (not in route tests without them). */
  promptPreview: DashboardAsset | undefined;
}

export function registerPromptRoutes(app: Hono<DashboardEnv>, deps: AppDeps, kit: PromptPageKit): void {
  const notFound = (c: DashboardContext) => kit.message(c, 404, 'Page not found', 'There is no such shop among yours.');
  const refuseEdit = (c: DashboardContext, member: Member) =>
    kit.message(c, 403, 'Not allowed', `Your role on ${member.site.name} (${member.role}) cannot change the soft prompt. Nothing was changed.`, {
      href: `${DASHBOARD_PATH}/sites/${member.site.id}/prompt`,
      label: 'Back to the prompt page',
    });

  async function render(
    c: DashboardContext,
    live: LiveSession,
    token: string,
    member: Member,
    state: { form?: PromptFormValues; errors?: FieldErrors; saved?: boolean; removed?: string; status?: 200 | 422 } = {},
  ) {
    const settings = readSiteSettings(member.site.settings);
    const form = state.form ?? formFromSettings(settings);
    const [assets, { chrome }] = await Promise.all([dashboardAssets(), kit.chromeFor(live, token)]);
    const locales = new Set([settings.defaultLocale, ...form.texts.map((entry) => entry.locale), ...(form.added.locale ? [form.added.locale] : [])]);
    const response = await kit.page(
      c,
      promptPage({
        assets,
        chrome: { ...chrome, site: { id: member.site.id, name: member.site.name, role: member.role } },
        form,
        errors: state.errors ?? {},
        fallbacks: Object.fromEntries([...locales].map((locale) => [locale, fallbackTexts(settings, locale)])),
        defaultLocale: settings.defaultLocale,
        canEdit: can(member.role, 'edit_prompt'),
        ...(state.saved ? { saved: true } : {}),
        ...(state.removed ? { removed: state.removed } : {}),
        preview: { prompt: previewPromptOf(form, settings), locale: previewLocale(form, settings) },
        previewScript: kit.promptPreview,
      }),
      state.status ?? 200,
    );
    response.headers.set('Content-Security-Policy', PROMPT_PAGE_CSP);
    return response;
  }

  app.get('/sites/:siteId/prompt', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return kit.toSignIn(c);
    const member = await findSiteForMember(deps.db, live.user.id, c.req.param('siteId'));
    if (!member) return notFound(c);
    // Said only of a language the shop has no texts for (any other value in the address is ignored).
    const removed = canonicalLocale(c.req.query('removed') ?? '');
    const gone = removed !== undefined && !Object.hasOwn(readSiteSettings(member.site.settings).prompt.texts, removed);
    return render(c, live, token, member, { saved: c.req.query('saved') !== undefined, ...(gone ? { removed } : {}) });
  });

  app.post('/sites/:siteId/prompt', async (c) => {
    const checked = await kit.signedInPost(c);
    if ('refusal' in checked) return kit.refuse(c, checked.refusal);
    const member = await findSiteForMember(deps.db, checked.live.user.id, c.req.param('siteId'));
    if (!member) return notFound(c);
    if (!can(member.role, 'edit_prompt')) return refuseEdit(c, member);
    const settings = readSiteSettings(member.site.settings);
    const form = formFromPost(checked.fields, settings);
    // "Preview without saving": the page again, its frames drawn from what was posted (no script needed).
    if (checked.fields.intent === 'preview') return render(c, checked.live, checked.token, member, { form });
    const parsed = patchFromForm(form);
    if ('errors' in parsed) return render(c, checked.live, checked.token, member, { form, errors: parsed.errors, status: 422 });
    try {
      await changeSiteSettings(deps.db, member.site, parsed.patch, { publicUrl: kit.publicUrl, actor: userActor(checked.live.user), now: kit.now() });
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'validation_failed') throw error;
      const details = error.options.details;
      const issues = Array.isArray(details) ? (details as Array<{ path: string; message: string }>) : [{ path: '', message: error.message }];
      return render(c, checked.live, checked.token, member, { form, errors: errorsFromIssues(issues, form), status: 422 });
    }
    deps.logger.log('info', 'site prompt changed', { siteId: member.site.id, userId: checked.live.user.id, requestId: c.get('requestId') });
    return c.redirect(`${DASHBOARD_PATH}/sites/${member.site.id}/prompt?saved`, 303);
  });

  /** The locale a removal names, as the texts are keyed (`de-at` → `de-AT`). */
  const localeParam = (value: string | undefined) => {
    const trimmed = (value ?? '').trim();
    return canonicalLocale(trimmed) ?? trimmed;
  };

  async function renderRemoval(c: DashboardContext, live: LiveSession, token: string, member: Member, locale: string, status: 200 | 422 = 200) {
    const settings = readSiteSettings(member.site.settings);
    const [assets, { chrome }] = await Promise.all([dashboardAssets(), kit.chromeFor(live, token)]);
    return kit.page(
      c,
      removeLocalePage({
        assets,
        chrome: { ...chrome, site: { id: member.site.id, name: member.site.name, role: member.role } },
        locale,
        defaultLocale: settings.defaultLocale,
        otherLocales: Object.keys(settings.prompt.texts).filter((other) => other !== locale),
      }),
      status,
    );
  }

  app.get('/sites/:siteId/prompt/remove', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return kit.toSignIn(c);
    const member = await findSiteForMember(deps.db, live.user.id, c.req.param('siteId'));
    if (!member) return notFound(c);
    if (!can(member.role, 'edit_prompt')) return refuseEdit(c, member);
    const locale = localeParam(c.req.query('locale'));
    // No such texts (removed already, or a made-up address): the prompt page shows what there is.
    if (!Object.hasOwn(readSiteSettings(member.site.settings).prompt.texts, locale)) return c.redirect(`${DASHBOARD_PATH}/sites/${member.site.id}/prompt`, 303);
    return renderRemoval(c, live, token, member, locale);
  });

  app.post('/sites/:siteId/prompt/remove', async (c) => {
    const checked = await kit.signedInPost(c);
    if ('refusal' in checked) return kit.refuse(c, checked.refusal);
    const member = await findSiteForMember(deps.db, checked.live.user.id, c.req.param('siteId'));
    if (!member) return notFound(c);
    if (!can(member.role, 'edit_prompt')) return refuseEdit(c, member);
    const locale = localeParam(checked.fields.locale);
    // The default language's texts stay: its page says why (removePromptLocale refuses it too).
    if (locale === readSiteSettings(member.site.settings).defaultLocale) return renderRemoval(c, checked.live, checked.token, member, locale, 422);
    try {
      await removePromptLocale(deps.db, member.site, locale, { actor: userActor(checked.live.user), now: kit.now() });
    } catch (error) {
      // Removed already (a form sent twice), or never there.
      if (!(error instanceof ApiError) || error.code !== 'not_found') throw error;
      return kit.message(c, 404, 'No such texts', `The prompt has no texts of its own for ${locale}. Nothing was changed.`, {
        href: `${DASHBOARD_PATH}/sites/${member.site.id}/prompt`,
        label: 'Back to the prompt page',
      });
    }
    deps.logger.log('info', 'site prompt texts removed', { siteId: member.site.id, locale, userId: checked.live.user.id, requestId: c.get('requestId') });
    return c.redirect(`${DASHBOARD_PATH}/sites/${member.site.id}/prompt?removed=${encodeURIComponent(locale)}`, 303);
  });

  /** The prompt a frame draws: its query's values, the stored prompt where one is missing or not valid. */
  async function framePrompt(c: DashboardContext): Promise<{ settings: SiteSettings; member: Member } | Response> {
    const live = c.get('live');
    if (!live) return kit.toSignIn(c);
    const member = await findSiteForMember(deps.db, live.user.id, c.req.param('siteId') ?? '');
    if (!member) return notFound(c);
    return { settings: readSiteSettings(member.site.settings), member };
  }

  app.get('/sites/:siteId/prompt/preview', async (c) => {
    const found = await framePrompt(c);
    if (found instanceof Response) return found;
    const stored = promptForLocale(found.settings, found.settings.defaultLocale);
    const url = new URL(c.req.url);
    const prompt = previewFromQuery(url.searchParams, { texts: stored.texts, theme: stored.theme });
    const viewText = url.searchParams.get('view') ?? '';
    const view: PreviewView = viewText in PREVIEW_VIEWS ? (viewText as PreviewView) : 'desktop';
    // The stylesheet needs only the theme (the texts are in the page).
    const styleQuery = new URLSearchParams();
    for (const key of ['accent', 'background', 'text', 'radius']) {
      const value = url.searchParams.get(key);
      if (value !== null) styleQuery.set(key, value);
    }
    const response = await kit.page(
      c,
      previewFramePage({ view, prompt, stylesheet: `${DASHBOARD_PATH}/sites/${found.member.site.id}/prompt/preview.css?${styleQuery.toString()}`, previewScript: kit.promptPreview }),
    );
    response.headers.set('Content-Security-Policy', PREVIEW_FRAME_CSP);
    return response;
  });

  app.get('/sites/:siteId/prompt/preview.css', async (c) => {
    const found = await framePrompt(c);
    if (found instanceof Response) return found;
    const stored = promptForLocale(found.settings, found.settings.defaultLocale);
    const prompt = previewFromQuery(new URL(c.req.url).searchParams, { texts: stored.texts, theme: stored.theme });
    c.header('Content-Type', 'text/css; charset=utf-8');
    return c.body(previewFrameCss(prompt));
  });
}
