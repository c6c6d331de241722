import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CSRF_FIELD_NAME } from '../accounts/csrf.ts';
import { startSession } from '../accounts/sessions.ts';
import type { ClientScripts } from '../client-bundle.ts';
import type { Role } from '../db/database.ts';
import { upsertMembership } from '../db/memberships.ts';
import { findSiteById } from '../db/sites.ts';
import { insertUser } from '../db/users.ts';
import { buildClientBundles } from '../runtime/node/client-bundles.ts';
import { createSite } from '../sites/create-site.ts';
import { readSiteSettings, siteSettingsSchema } from '../sites/site-settings.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { PREVIEW_FRAME_CSP, PROMPT_PAGE_CSP } from './csp.ts';
import { csrfTokenIn, TestBrowser } from './test-client.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const PUBLIC_URL = 'http://localhost:8787';

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];
let scripts: ClientScripts;
let appWithScripts: ReturnType<typeof testApp>['app'];
let site: { id: string };
const users: Record<Role, string> = { owner: '', editor: '', viewer: '' };

async function signedIn(role: Role, on = app): Promise<TestBrowser> {
  const browser = new TestBrowser(on);
  browser.cookies.set('pushcart-session', (await startSession(database.db, { userId: users[role] }, NOW)).token);
  return browser;
}

async function storedPrompt() {
  return readSiteSettings((await findSiteById(database.db, site.id))!.settings).prompt;
}

const pagePath = () => `/dashboard/sites/${site.id}/prompt`;

/** The whole form as a browser posts it, the stored English texts edited and French added. */
function fullForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    trigger: 'seconds',
    pageViews: '3',
    delaySeconds: '20',
    snoozeDays: '14',
    accent: '#0f766e',
    background: '#fffdf8',
    text: '#1a1a1a',
    radius: '8',
    position: 'bottom-left',
    logoUrl: 'https://cdn.shop.example/logo.png',
    'texts.en.title': 'Never miss a price drop',
    'texts.en.body': 'A note when your cart gets cheaper.',
    'texts.en.allow': 'Turn on',
    'texts.en.later': 'Not now',
    newLocale: 'fr',
    'new.title': 'Ne manquez aucune baisse de prix',
    'new.body': 'Un message quand votre panier baisse.',
    'new.allow': 'Activer',
    'new.later': 'Plus tard',
    intent: 'save',
    ...overrides,
  };
}

const STORED_EN = { title: 'Hear about deals?', body: 'Only prices and your cart.', allow: 'Yes please', later: 'Later' };

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: PUBLIC_URL } }).app;
  scripts = await buildClientBundles();
  appWithScripts = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: PUBLIC_URL }, clientScripts: scripts }).app;
  site = await createSite(database.db, { name: 'Prompt shop', origins: ['https://shop.example'] }, undefined);
  for (const role of ['owner', 'editor', 'viewer'] as const) {
    const user = await insertUser(database.db, { email: `${role}@shop.example` }, NOW);
    await upsertMembership(database.db, { userId: user!.id, siteId: site.id, role }, NOW);
    users[role] = user!.id;
  }
});
afterAll(async () => database?.destroy());

beforeEach(async () => {
  // Every test starts from the same stored prompt: English texts of the shop's own, the default theme.
  const settings = siteSettingsSchema.parse({ prompt: { texts: { en: STORED_EN } } });
  await database.db.updateTable('sites').set({ settings: JSON.stringify(settings) as never }).where('id', '=', site.id).execute();
});

describe('the prompt page', () => {
  it('shows the stored settings in the form, the fallbacks as placeholders, and two preview frames', async () => {
    const page = await (await signedIn('editor')).get(pagePath());
    expect(page.status).toBe(200);
    expect(page.headers.get('Content-Security-Policy')).toBe(PROMPT_PAGE_CSP);
    expect(page.body).toContain('<input type="radio" id="f-trigger-page-views" name="trigger" value="page_views" checked>');
    expect(page.body).toMatch(/name="texts\.en\.title"[^>]*value="Hear about deals\?"/);
    expect(page.body).toMatch(/name="accent"[^>]*value="#2557d6"/);
    // An empty French text would show the built-in French… there is none, so English; German is built in.
    expect(page.body).toContain('shop’s default language (English (en))');
    expect(page.body).toMatch(/<iframe data-prompt-frame="desktop" src="\/dashboard\/sites\/[^"]+\/prompt\/preview\?view=desktop&amp;title=Hear\+about\+deals%3F/);
    expect(page.body).toContain('data-prompt-frame="phone"');
    expect(page.body).toContain('aria-current="page">Prompt</a>');
    // Without built client scripts (this app) the page names no preview script; the frames still draw.
    expect(page.body).not.toContain('prompt-preview.');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(page.body).not.toMatch(/<style|<[^>]*\s(?:style|on[a-z]+)=/i);
  });

  it('loads the preview bundled with the client scripts, served under its hash as both runtimes build it', async () => {
    const page = await (await signedIn('viewer', appWithScripts)).get(pagePath());
    const name = /src="\/dashboard\/assets\/(prompt-preview\.[0-9a-f]{16}\.js)"/.exec(page.body)?.[1];
    expect(name).toBe(`prompt-preview.${scripts.promptPreview.etag.slice(1, 17)}.js`);
    const asset = await appWithScripts.request(`/dashboard/assets/${name}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('ETag')).toBe(scripts.promptPreview.etag);
    expect(await asset.text()).toBe(scripts.promptPreview.body);
    expect((await appWithScripts.request(`/dashboard/assets/${name}`, { headers: { 'If-None-Match': scripts.promptPreview.etag } })).status).toBe(304);
    // An app without the scripts has no such asset.
    expect((await app.request(`/dashboard/assets/${name}`)).status).toBe(404);
  });

  it('saves what an editor posts and says so after the redirect', async () => {
    const browser = await signedIn('editor');
    const response = await browser.submit(pagePath(), fullForm());
    expect(response.status).toBe(303);
    expect(response.location).toBe(`${pagePath()}?saved`);
    const prompt = await storedPrompt();
    expect(prompt).toMatchObject({
      trigger: 'seconds',
      pageViews: 3,
      delaySeconds: 20,
      snoozeDays: 14,
      theme: { accent: '#0f766e', background: '#fffdf8', text: '#1a1a1a', radius: 8, position: 'bottom-left', logoUrl: 'https://cdn.shop.example/logo.png' },
      texts: {
        en: { title: 'Never miss a price drop', body: 'A note when your cart gets cheaper.', allow: 'Turn on', later: 'Not now' },
        fr: { title: 'Ne manquez aucune baisse de prix', body: 'Un message quand votre panier baisse.', allow: 'Activer', later: 'Plus tard' },
      },
    });
    const after = await browser.get(response.location!);
    expect(after.body).toContain('Saved. Shops show the new prompt within five minutes.');
    expect(after.body).toMatch(/name="texts\.fr\.title"[^>]*value="Ne manquez aucune baisse de prix"/);

    // An empty logo field takes the logo away; the rest stays as it is.
    const keepFrench = { 'texts.fr.title': 'Ne manquez rien', 'texts.fr.body': 'Un message quand votre panier baisse.', 'texts.fr.allow': 'Activer', 'texts.fr.later': 'Plus tard' };
    const emptyNew = { newLocale: '', 'new.title': '', 'new.body': '', 'new.allow': '', 'new.later': '' };
    expect((await browser.submit(pagePath(), fullForm({ logoUrl: '', ...keepFrench, ...emptyNew }))).status).toBe(303);
    const again = await storedPrompt();
    expect(again.theme.logoUrl).toBeUndefined();
    expect(again.texts.fr?.title).toBe('Ne manquez rien');
    expect(again.theme.accent).toBe('#0f766e');
  });

  it('refuses a colour that is no colour and a text too faint to read, in words beside the field, storing nothing', async () => {
    const browser = await signedIn('owner');
    const before = await storedPrompt();
    const cases: Array<{ form: Record<string, string>; field: string; says: string }> = [
      { form: { accent: '#12' }, field: 'f-accent', says: 'Must be a colour as #rgb or #rrggbb, e.g. #2557d6.' },
      { form: { background: 'red; } body { display: none' }, field: 'f-background', says: 'Must be a colour as #rgb or #rrggbb' },
      { form: { text: '#bbbbbb', background: '#ffffff' }, field: 'f-text', says: 'Text #bbbbbb on background #ffffff has a contrast of 1.9:1; at least 4.5:1 is needed to be readable (WCAG 2.2, 1.4.3).' },
      { form: { radius: '40' }, field: 'f-radius', says: 'Too big' },
      { form: { snoozeDays: 'soon' }, field: 'f-snoozeDays', says: 'Write a whole number, such as 3.' },
      { form: { logoUrl: 'http://cdn.shop.example/logo.png' }, field: 'f-logoUrl', says: 'Must be an https URL' },
      { form: { 'texts.en.allow': '' }, field: 'f-texts-en-allow', says: 'Write the Allow button’s label: a language is shown with all four texts.' },
      { form: { newLocale: 'not a locale!' }, field: 'f-newLocale', says: 'Invalid locale' },
      { form: { newLocale: '' }, field: 'f-newLocale', says: 'Name the language of these texts' },
      { form: { newLocale: 'EN' }, field: 'f-newLocale', says: 'repeats' },
    ];
    for (const { form, field, says } of cases) {
      const response = await browser.submit(pagePath(), fullForm(form));
      expect(response.status, says).toBe(422);
      expect(response.body).toContain('Nothing was saved.');
      const error = new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(response.body)?.[1] ?? '';
      expect(error.replaceAll('&#39;', "'"), says).toContain(says.replace(/\.$/, ''));
      expect(response.body, says).toMatch(new RegExp(`id="${field}"[^>]*aria-invalid="true"`));
      // The form keeps what was typed.
      expect(response.body).toContain('value="Ne manquez aucune baisse de prix"');
    }
    expect(await storedPrompt()).toEqual(before);
  });

  it('previews the posted values without saving them, for browsers without scripts', async () => {
    const browser = await signedIn('editor');
    const before = await storedPrompt();
    const response = await browser.submit(pagePath(), fullForm({ intent: 'preview', 'texts.en.title': 'Just looking' }));
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/data-prompt-frame="desktop" src="[^"]*title=Just\+looking[^"]*accent=%230f766e/);
    expect(response.body).not.toContain('Saved.');
    expect(await storedPrompt()).toEqual(before);
  });

  it('is read-only for a viewer, whose post is refused and changes nothing', async () => {
    const browser = await signedIn('viewer');
    const page = await browser.get(pagePath());
    expect(page.status).toBe(200);
    expect(page.body).toContain('<fieldset class="read-only" disabled>');
    expect(page.body).not.toContain('method="post" action="/dashboard/sites');
    expect(page.body).toContain('can see the prompt but not change it');
    const before = await storedPrompt();
    // The page has no form to post; the session's token is taken from the account page's.
    const refused = await browser.submit('/dashboard/account', fullForm(), { action: pagePath() });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('cannot change the soft prompt');
    expect(await storedPrompt()).toEqual(before);
  });

  it('renders markup in stored texts and posted values as text, in the page, its frames and their stylesheet', async () => {
    const evil = '<script>alert(1)</script>"\'&';
    const settings = siteSettingsSchema.parse({ prompt: { texts: { en: { title: evil, body: `<img src=x onerror=alert(2)>`, allow: '<b>Yes</b>', later: '</textarea>' } } } });
    await database.db.updateTable('sites').set({ settings: JSON.stringify(settings) as never }).where('id', '=', site.id).execute();
    const browser = await signedIn('editor');
    const page = await browser.get(pagePath());
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"');
    expect(page.body).toContain('&lt;/textarea&gt;');

    const frameSrc = /data-prompt-frame="desktop" src="([^"]+)"/.exec(page.body)![1]!.replaceAll('&amp;', '&');
    const frame = await browser.get(frameSrc);
    expect(frame.status).toBe(200);
    expect(frame.headers.get('Content-Security-Policy')).toBe(PREVIEW_FRAME_CSP);
    expect(frame.body).toContain('<h2 id="static-title">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;</h2>');
    expect(frame.body).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(frame.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(frame.body).not.toMatch(/<style|<[^>]*\s(?:style|on[a-z]+)=/i);

    // The frame's stylesheet takes only checked values: anything else is the stored theme.
    const css = await browser.get(`${pagePath()}/preview.css?accent=${encodeURIComponent('red;}body{display:none')}&radius=${encodeURIComponent('5px;x')}&text=%23abc`);
    expect(css.status).toBe(200);
    expect(css.headers.get('Content-Type')).toBe('text/css; charset=utf-8');
    expect(css.body).toContain(':root{--a:#2557d6;--o:#ffffff;--bg:#ffffff;--fg:#abc;--r:16px}');
    expect(css.body).not.toContain('red;');
    expect(css.body).not.toContain('5px;x');
  });

  it('frames only its own pages: the frame may be framed by the dashboard, the page may frame only the dashboard', () => {
    expect(PROMPT_PAGE_CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; frame-src 'self'",
    );
    expect(PREVIEW_FRAME_CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    );
  });
});

describe('removing a language’s texts', () => {
  const removePath = (locale: string) => `${pagePath()}/remove?locale=${encodeURIComponent(locale)}`;
  const FRENCH = { title: 'Des offres ?', body: 'Seulement les prix et votre panier.', allow: 'Oui', later: 'Plus tard' };

  beforeEach(async () => {
    const settings = siteSettingsSchema.parse({ prompt: { texts: { en: STORED_EN, fr: FRENCH, 'de-AT': { ...FRENCH, title: 'Angebote?' } } } });
    await database.db.updateTable('sites').set({ settings: JSON.stringify(settings) as never }).where('id', '=', site.id).execute();
    await database.db.deleteFrom('audit_log').where('site_id', '=', site.id).execute();
  });

  async function auditRows() {
    return database.db.selectFrom('audit_log').select(['actor_kind', 'actor_id', 'action', 'details']).where('site_id', '=', site.id).execute();
  }

  it('asks first, then removes only that language, records who did it, and says so on the prompt page', async () => {
    const browser = await signedIn('editor');
    const page = await browser.get(pagePath());
    // A link per language the shop added; none for the default one, which says why.
    expect(page.body).toContain(`href="${removePath('fr')}"`);
    expect(page.body).toContain(`href="${pagePath()}/remove?locale=de-AT"`);
    expect(page.body).not.toContain(`href="${removePath('en')}"`);
    expect(page.body).toContain('The default language’s texts cannot be removed: shoppers whose language has no texts see these.');

    const confirm = await browser.get(removePath('fr'));
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Remove the texts for French (fr)?');
    expect(confirm.body).toContain('<input type="hidden" name="locale" value="fr">');
    // Only looking at the question changes nothing.
    expect(Object.keys((await storedPrompt()).texts).sort()).toEqual(['de-AT', 'en', 'fr']);

    const removed = await browser.submit(removePath('fr'), { locale: 'fr' }, { action: `${pagePath()}/remove` });
    expect(removed.status).toBe(303);
    expect(removed.location).toBe(`${pagePath()}?removed=fr`);
    const prompt = await storedPrompt();
    expect(prompt.texts).toEqual({ en: STORED_EN, 'de-AT': { ...FRENCH, title: 'Angebote?' } });
    expect(await auditRows()).toEqual([{ actor_kind: 'user', actor_id: users.editor, action: 'settings_changed', details: { sections: ['prompt'] } }]);

    const after = await browser.get(removed.location!);
    expect(after.body).toContain('Removed the texts for French (fr).');
    expect(after.body).not.toContain('name="texts.fr.title"');
    // The notice is only for a language that is really gone.
    expect((await browser.get(`${pagePath()}?removed=en`)).body).not.toContain('Removed the texts');

    // Sent again (a reload of the answer): nothing left to remove, nothing recorded.
    const again = await browser.post(`${pagePath()}/remove`, { locale: 'fr', [CSRF_FIELD_NAME]: csrfTokenIn(after.body) });
    expect(again.status).toBe(404);
    expect(again.body).toContain('The prompt has no texts of its own for fr. Nothing was changed.');
    expect(await auditRows()).toHaveLength(1);
    // And its page sends the owner back to the prompt.
    expect((await browser.get(removePath('fr'))).location).toBe(pagePath());
  });

  it('takes the language tag in any case, as the texts are keyed', async () => {
    const browser = await signedIn('owner');
    const removed = await browser.submit(removePath('de-AT'), { locale: 'de-at' }, { action: `${pagePath()}/remove` });
    expect(removed.status).toBe(303);
    expect(Object.keys((await storedPrompt()).texts).sort()).toEqual(['en', 'fr']);
  });

  it('keeps the default language’s texts, and says why, on the page and when posted anyway', async () => {
    const browser = await signedIn('owner');
    const page = await browser.get(removePath('en'));
    expect(page.status).toBe(200);
    expect(page.body).toContain('English (en) is the shop’s default language');
    expect(page.body).toContain('every shopper whose language has no texts of its own sees them');
    expect(page.body).not.toContain('action="/dashboard/sites');
    const before = await storedPrompt();
    const posted = await browser.submit(removePath('fr'), { locale: 'en' }, { action: `${pagePath()}/remove` });
    expect(posted.status).toBe(422);
    expect(posted.body).toContain('English (en) is the shop’s default language');
    expect(await storedPrompt()).toEqual(before);
    expect(await auditRows()).toEqual([]);
  });

  it('is refused to a viewer, who sees no link, and changes nothing', async () => {
    const browser = await signedIn('viewer');
    expect((await browser.get(pagePath())).body).not.toContain('/prompt/remove');
    const page = await browser.get(removePath('fr'));
    expect(page.status).toBe(403);
    expect(page.body).toContain('cannot change the soft prompt');
    const before = await storedPrompt();
    const refused = await browser.submit('/dashboard/account', { locale: 'fr' }, { action: `${pagePath()}/remove` });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('cannot change the soft prompt');
    expect(await storedPrompt()).toEqual(before);
    expect(await auditRows()).toEqual([]);
  });
});
