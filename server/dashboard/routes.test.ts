import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_FIELD_NAME, csrfTokenFor } from '../accounts/csrf.ts';
import { createInvite } from '../accounts/links.ts';
import { hashPassword } from '../accounts/password.ts';
import { resolveSession, startSession } from '../accounts/sessions.ts';
import type { Role } from '../db/database.ts';
import { upsertMembership } from '../db/memberships.ts';
import { findSiteById } from '../db/sites.ts';
import { findUserByEmail, insertUser } from '../db/users.ts';
import { parseConfig } from '../config.ts';
import { memoryLogger } from '../logger.ts';
import { createSite } from '../sites/create-site.ts';
import { installSnippet } from '../sites/install-snippet.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { dashboardAssets } from './assets/assets.ts';
import { createFirstOwnerLink } from './links.ts';
import { DASHBOARD_CSP, PREVIEW_FRAME_CSP, PROMPT_PAGE_CSP } from './csp.ts';
import { dashboardRoutes } from './routes.ts';
import { csrfTokenIn, TestBrowser, signedInBrowser } from './test-client.ts';
import { Hono } from 'hono';
import { gzipSync } from 'node:zlib';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const PASSWORD = 'correct horse battery staple';
const PUBLIC_URL = 'http://localhost:8787';
const SESSION_COOKIE = 'pushcart-session';

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];
let siteA: { id: string; publishableKey: string };
let siteB: { id: string; publishableKey: string };
let passwordHash: string;
const users: Record<'ownerA' | 'editorA' | 'viewerA' | 'ownerB', string> = { ownerA: '', editorA: '', viewerA: '', ownerB: '' };

async function addMember(email: string, siteId: string, role: Role, options: { name?: string; passwordHash?: string } = {}): Promise<string> {
  const existing = await findUserByEmail(database.db, email);
  const userId = existing?.id ?? (await insertUser(database.db, { email, name: options.name ?? null, passwordHash: options.passwordHash ?? null }, NOW))!.id;
  await upsertMembership(database.db, { userId, siteId, role }, NOW);
  return userId;
}

/** A browser already signed in as `userId` (the session made directly: no password to hash). */
function signedIn(userId: string): Promise<TestBrowser> {
  return signedInBrowser(app, database.db, userId, NOW);
}

async function siteState(siteId: string) {
  const site = await findSiteById(database.db, siteId);
  // The settings too: a refused prompt form must leave them as they were; and no test browser added.
  const devices = await database.db.selectFrom('test_devices').select((eb) => eb.fn.countAll<string>().as('count')).where('site_id', '=', siteId).executeTakeFirstOrThrow();
  // And the campaigns as they were: none added, changed, sent or cancelled.
  const campaigns = await database.db.selectFrom('campaigns').select(['id', 'name', 'status', 'definition', 'updated_at']).where('site_id', '=', siteId).orderBy('id').execute();
  // And the segments: none added, changed or deleted.
  const segments = await database.db.selectFrom('segments').select(['id', 'name', 'definition', 'updated_at']).where('site_id', '=', siteId).orderBy('id').execute();
  const sends = await database.db.selectFrom('notifications').select((eb) => eb.fn.countAll<string>().as('count')).where('site_id', '=', siteId).executeTakeFirstOrThrow();
  return { name: site?.name, origins: site?.allowed_origins, settings: site?.settings, devices: Number(devices.count), campaigns, segments, sends: Number(sends.count) };
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: PUBLIC_URL } }).app;
  siteA = await createSite(database.db, { name: 'Shop A', origins: ['https://a.example'] }, undefined);
  siteB = await createSite(database.db, { name: 'Shop B', origins: ['https://b.example'] }, undefined);
  passwordHash = await hashPassword(PASSWORD);
  users.ownerA = await addMember('owner-a@shop.example', siteA.id, 'owner', { passwordHash });
  users.editorA = await addMember('editor-a@shop.example', siteA.id, 'editor');
  users.viewerA = await addMember('viewer-a@shop.example', siteA.id, 'viewer');
  users.ownerB = await addMember('owner-b@shop.example', siteB.id, 'owner');
});
afterAll(async () => database?.destroy());

/**
 * Every route of the dashboard, by what guards it. The first test checks this table against the
 * router itself, so a route added without an entry here fails.
 */
type RouteKind = 'public page' | 'public form' | 'signed-in page' | 'signed-in form' | 'site page' | 'site form';
const ROUTES: Array<{
  method: 'GET' | 'POST';
  pattern: string;
  kind: RouteKind;
  path: (site: string) => string;
  form?: (site: string) => Record<string, string>;
  /** For a site form: the roles it refuses and the words of the refusal (the install's otherwise). */
  refused?: { roles: Role[]; text: string };
  /** The page's own Content-Security-Policy, where it is not the dashboard's. */
  csp?: string;
}> = [
  { method: 'GET', pattern: '/dashboard/assets/:name', kind: 'public page', path: () => '/dashboard/assets/none.css' },
  { method: 'GET', pattern: '/dashboard', kind: 'signed-in page', path: () => '/dashboard' },
  { method: 'GET', pattern: '/dashboard/sites', kind: 'signed-in page', path: () => '/dashboard/sites' },
  { method: 'GET', pattern: '/dashboard/login', kind: 'public page', path: () => '/dashboard/login' },
  { method: 'POST', pattern: '/dashboard/login', kind: 'public form', path: () => '/dashboard/login', form: () => ({ email: 'owner-a@shop.example', password: PASSWORD }) },
  { method: 'POST', pattern: '/dashboard/sign-out', kind: 'signed-in form', path: () => '/dashboard/sign-out', form: () => ({}) },
  { method: 'POST', pattern: '/dashboard/sign-out-everywhere', kind: 'signed-in form', path: () => '/dashboard/sign-out-everywhere', form: () => ({}) },
  { method: 'GET', pattern: '/dashboard/account', kind: 'signed-in page', path: () => '/dashboard/account' },
  { method: 'GET', pattern: '/dashboard/password/:token', kind: 'public page', path: () => `/dashboard/password/${'x'.repeat(43)}` },
  { method: 'POST', pattern: '/dashboard/password/:token', kind: 'public form', path: () => `/dashboard/password/${'x'.repeat(43)}`, form: () => ({ password: PASSWORD, confirm: PASSWORD }) },
  { method: 'GET', pattern: '/dashboard/invite/:token', kind: 'public page', path: () => `/dashboard/invite/${'x'.repeat(43)}` },
  { method: 'POST', pattern: '/dashboard/invite/:token', kind: 'public form', path: () => `/dashboard/invite/${'x'.repeat(43)}`, form: () => ({ password: PASSWORD, confirm: PASSWORD }) },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/install', kind: 'site page', path: (site) => `/dashboard/sites/${site}/install` },
  {
    method: 'POST',
    pattern: '/dashboard/sites/:siteId/install',
    kind: 'site form',
    path: (site) => `/dashboard/sites/${site}/install`,
    form: () => ({ name: 'Renamed shop', origins: 'https://changed.example' }),
  },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/subscribers', kind: 'site page', path: (site) => `/dashboard/sites/${site}/subscribers` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/subscribers/:id', kind: 'site page', path: (site) => `/dashboard/sites/${site}/subscribers/${subscriberA}` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/subscribers/:id/erase', kind: 'site page', path: (site) => `/dashboard/sites/${site}/subscribers/${subscriberA}/erase` },
  {
    method: 'POST',
    pattern: '/dashboard/sites/:siteId/subscribers/:id/erase',
    kind: 'site form',
    path: (site) => `/dashboard/sites/${site}/subscribers/${subscriberA}/erase`,
    form: () => ({ understood: 'yes' }),
    refused: { roles: ['viewer', 'editor'], text: 'cannot erase or export a shopper’s data' },
  },
  {
    method: 'POST',
    pattern: '/dashboard/sites/:siteId/subscribers/:id/export',
    kind: 'site form',
    path: (site) => `/dashboard/sites/${site}/subscribers/${subscriberA}/export`,
    form: () => ({}),
    refused: { roles: ['viewer', 'editor'], text: 'cannot erase or export a shopper’s data' },
  },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/automations', kind: 'site page', path: (site) => `/dashboard/sites/${site}/automations` },
  {
    method: 'POST',
    pattern: '/dashboard/sites/:siteId/automations',
    kind: 'site form',
    path: (site) => `/dashboard/sites/${site}/automations`,
    form: () => ({ section: 'frequency-cap', 'engagement.frequencyCap.marketingPer24h': '7' }),
    refused: { roles: ['viewer'], text: 'cannot change the automations' },
  },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/templates', kind: 'site page', path: (site) => `/dashboard/sites/${site}/templates` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/templates/:key/:locale', kind: 'site page', path: (site) => `/dashboard/sites/${site}/templates/price_drop/de` },
  {
    method: 'POST',
    pattern: '/dashboard/sites/:siteId/templates/:key/:locale',
    kind: 'site form',
    path: (site) => `/dashboard/sites/${site}/templates/price_drop/de`,
    form: () => ({ intent: 'save', title: 'Jetzt {{price.new}}', body: 'Nur kurz.' }),
    refused: { roles: ['viewer'], text: 'cannot change the templates' },
  },
  // Test pushes to the user's own browsers (test-push-routes.ts); their effects are checked in test-push-routes.test.ts.
  {
    method: 'POST',
    pattern: '/dashboard/sites/:siteId/test-devices',
    kind: 'site form',
    path: (site) => `/dashboard/sites/${site}/test-devices`,
    form: () => ({ endpoint: 'https://fcm.googleapis.com/fcm/send/refused', p256dh: 'B', auth: 'a' }),
    refused: { roles: ['viewer'], text: 'cannot send test pushes' },
  },
  {
    method: 'POST',
    pattern: '/dashboard/sites/:siteId/test-devices/:deviceId/delete',
    kind: 'site form',
    path: (site) => `/dashboard/sites/${site}/test-devices/${crypto.randomUUID()}/delete`,
    form: () => ({}),
    refused: { roles: ['viewer'], text: 'cannot send test pushes' },
  },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/test-push', kind: 'site form', path: (site) => `/dashboard/sites/${site}/test-push`, form: () => ({}), refused: { roles: ['viewer'], text: 'cannot send test pushes' } },
  // Keys, Team and Audit log (team-routes.ts); their effects are checked in team-routes.test.ts.
  { method: 'GET', pattern: '/dashboard/sites/:siteId/keys', kind: 'site page', path: (site) => `/dashboard/sites/${site}/keys` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/keys', kind: 'site form', path: (site) => `/dashboard/sites/${site}/keys`, form: () => ({ name: 'refused key' }), refused: { roles: ['viewer', 'editor'], text: 'cannot see or change the secret keys' } },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/keys/revoke', kind: 'site page', path: (site) => `/dashboard/sites/${site}/keys/revoke` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/keys/revoke', kind: 'site form', path: (site) => `/dashboard/sites/${site}/keys/revoke`, form: () => ({ key: crypto.randomUUID() }), refused: { roles: ['viewer', 'editor'], text: 'cannot see or change the secret keys' } },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/team', kind: 'site page', path: (site) => `/dashboard/sites/${site}/team` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/team/role', kind: 'site form', path: (site) => `/dashboard/sites/${site}/team/role`, form: () => ({ user: users.viewerA, role: 'owner' }), refused: { roles: ['viewer', 'editor'], text: 'cannot change the team' } },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/team/remove', kind: 'site page', path: (site) => `/dashboard/sites/${site}/team/remove` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/team/remove', kind: 'site form', path: (site) => `/dashboard/sites/${site}/team/remove`, form: () => ({ user: users.viewerA }), refused: { roles: ['viewer', 'editor'], text: 'cannot change the team' } },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/team/invite', kind: 'site form', path: (site) => `/dashboard/sites/${site}/team/invite`, form: () => ({ email: 'refused@shop.example', role: 'owner' }), refused: { roles: ['viewer', 'editor'], text: 'cannot change the team' } },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/team/invites/revoke', kind: 'site form', path: (site) => `/dashboard/sites/${site}/team/invites/revoke`, form: () => ({ invite: crypto.randomUUID() }), refused: { roles: ['viewer', 'editor'], text: 'cannot change the team' } },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/audit', kind: 'site page', path: (site) => `/dashboard/sites/${site}/audit` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/prompt', kind: 'site page', path: (site) => `/dashboard/sites/${site}/prompt`, csp: PROMPT_PAGE_CSP },
  {
    method: 'POST',
    pattern: '/dashboard/sites/:siteId/prompt',
    kind: 'site form',
    path: (site) => `/dashboard/sites/${site}/prompt`,
    form: () => ({
      trigger: 'seconds', pageViews: '2', delaySeconds: '30', snoozeDays: '3', accent: '#0f766e', background: '#ffffff', text: '#111111', radius: '4', position: 'top', logoUrl: '',
      newLocale: 'fr', 'new.title': 'Titre', 'new.body': 'Texte', 'new.allow': 'Oui', 'new.later': 'Plus tard', intent: 'save',
    }),
    refused: { roles: ['viewer'], text: 'cannot change the soft prompt' },
  },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/prompt/remove', kind: 'site page', path: (site) => `/dashboard/sites/${site}/prompt/remove?locale=fr` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/prompt/remove', kind: 'site form', path: (site) => `/dashboard/sites/${site}/prompt/remove`, form: () => ({ locale: 'fr' }), refused: { roles: ['viewer'], text: 'cannot change the soft prompt' } },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/prompt/preview', kind: 'site page', path: (site) => `/dashboard/sites/${site}/prompt/preview?view=phone`, csp: PREVIEW_FRAME_CSP },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/prompt/preview.css', kind: 'site page', path: (site) => `/dashboard/sites/${site}/prompt/preview.css?accent=%23123456` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/overview', kind: 'site page', path: (site) => `/dashboard/sites/${site}/overview` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/overview', kind: 'site page', path: (site) => `/dashboard/sites/${site}/overview?from=2030-01-01&to=2030-01-07` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/health', kind: 'site page', path: (site) => `/dashboard/sites/${site}/health` },
  // Campaigns (campaign-routes.ts); their effects are checked in campaign-routes.test.ts.
  { method: 'GET', pattern: '/dashboard/sites/:siteId/campaigns', kind: 'site page', path: (site) => `/dashboard/sites/${site}/campaigns` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/campaigns/new', kind: 'site page', path: (site) => `/dashboard/sites/${site}/campaigns/new` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/campaigns/new', kind: 'site form', path: (site) => `/dashboard/sites/${site}/campaigns/new`, form: () => CAMPAIGN_FORM, refused: { roles: ['viewer'], text: 'cannot create or change campaigns' } },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/campaigns/audience-count', kind: 'site page', path: (site) => `/dashboard/sites/${site}/campaigns/audience-count?audience=tag&tagKey=plan&tagValue=gold` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/campaigns/:campaignId', kind: 'site page', path: (site) => `/dashboard/sites/${site}/campaigns/${campaignA}` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/campaigns/:campaignId/progress', kind: 'site page', path: (site) => `/dashboard/sites/${site}/campaigns/${campaignA}/progress` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/campaigns/:campaignId/edit', kind: 'site page', path: (site) => `/dashboard/sites/${site}/campaigns/${campaignA}/edit` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/campaigns/:campaignId/edit', kind: 'site form', path: (site) => `/dashboard/sites/${site}/campaigns/${campaignA}/edit`, form: () => ({ ...CAMPAIGN_FORM, name: 'Renamed' }), refused: { roles: ['viewer'], text: 'cannot create or change campaigns' } },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/campaigns/:campaignId/send', kind: 'site form', path: (site) => `/dashboard/sites/${site}/campaigns/${campaignA}/send`, form: () => ({ intent: 'now', confirmAudience: '1' }), refused: { roles: ['viewer'], text: 'cannot send, schedule or cancel campaigns' } },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/campaigns/:campaignId/cancel', kind: 'site page', path: (site) => `/dashboard/sites/${site}/campaigns/${campaignA}/cancel` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/campaigns/:campaignId/cancel', kind: 'site form', path: (site) => `/dashboard/sites/${site}/campaigns/${campaignA}/cancel`, form: () => ({}), refused: { roles: ['viewer'], text: 'cannot send, schedule or cancel campaigns' } },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/campaigns/:campaignId/winner', kind: 'site form', path: (site) => `/dashboard/sites/${site}/campaigns/${campaignA}/winner`, form: () => ({ variant: 'B' }), refused: { roles: ['viewer'], text: 'cannot send, schedule or cancel campaigns' } },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/campaigns/:campaignId/test', kind: 'site form', path: (site) => `/dashboard/sites/${site}/campaigns/${campaignA}/test`, form: () => ({}), refused: { roles: ['viewer'], text: 'cannot send, schedule or cancel campaigns' } },
  // Segments (segment-routes.ts); their effects are checked in segment-routes.test.ts.
  { method: 'GET', pattern: '/dashboard/sites/:siteId/segments', kind: 'site page', path: (site) => `/dashboard/sites/${site}/segments` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/segments/new', kind: 'site page', path: (site) => `/dashboard/sites/${site}/segments/new` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/segments/new', kind: 'site form', path: (site) => `/dashboard/sites/${site}/segments/new`, form: () => SEGMENT_FORM, refused: { roles: ['viewer'], text: 'cannot create, change or delete segments' } },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/segments/count', kind: 'site page', path: (site) => `/dashboard/sites/${site}/segments/count?match=all&rules.0.type=tag_exists&rules.0.key=plan` },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/segments/:segmentId/edit', kind: 'site page', path: (site) => `/dashboard/sites/${site}/segments/${segmentA}/edit` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/segments/:segmentId/edit', kind: 'site form', path: (site) => `/dashboard/sites/${site}/segments/${segmentA}/edit`, form: () => ({ ...SEGMENT_FORM, name: 'Renamed' }), refused: { roles: ['viewer'], text: 'cannot create, change or delete segments' } },
  { method: 'GET', pattern: '/dashboard/sites/:siteId/segments/:segmentId/delete', kind: 'site page', path: (site) => `/dashboard/sites/${site}/segments/${segmentA}/delete` },
  { method: 'POST', pattern: '/dashboard/sites/:siteId/segments/:segmentId/delete', kind: 'site form', path: (site) => `/dashboard/sites/${site}/segments/${segmentA}/delete`, form: () => ({}), refused: { roles: ['viewer'], text: 'cannot create, change or delete segments' } },
];

/** The composer's fields of a small valid campaign. */
const CAMPAIGN_FORM: Record<string, string> = { intent: 'save', name: 'Table campaign', title: 'Hello {{firstName|there}}', body: 'A sale', url: 'https://a.example/sale', audience: 'everyone', when: 'now', ttlHours: '24', urgency: 'normal' };

/** The builder's fields of a small valid segment. */
const SEGMENT_FORM: Record<string, string> = { intent: 'save', name: 'Table segment', match: 'all', 'rules.0.type': 'tag_exists', 'rules.0.key': 'plan' };

/** A segment of Shop A for the segment routes above; every refused form leaves it as it is. */
let segmentA = '';
beforeAll(async () => {
  const row = await database.db
    .insertInto('segments')
    .values({ site_id: siteA.id, name: 'Table segment', definition: JSON.stringify({ match: 'all', rules: [{ type: 'tag', key: 'plan', op: 'exists' }] }), created_at: NOW, updated_at: NOW })
    .returning('id')
    .executeTakeFirstOrThrow();
  segmentA = row.id;
});

/** A draft campaign of Shop A for the campaign routes above; every refused form leaves it as it is. */
let campaignA = '';
beforeAll(async () => {
  const row = await database.db
    .insertInto('campaigns')
    .values({
      site_id: siteA.id,
      name: 'Table campaign',
      definition: JSON.stringify({ name: 'Table campaign', content: { title: 'Hello', body: '', url: 'https://a.example/' }, ttl: 3600, urgency: 'normal', audience: { all: true } }),
      created_at: NOW,
      updated_at: NOW,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  campaignA = row.id;
});

/** A subscription of Shop A for the subscriber routes above; every test of the table leaves it in place. */
let subscriberA = '';
beforeAll(async () => {
  const row = await database.db
    .insertInto('subscriptions')
    .values({
      site_id: siteA.id,
      endpoint: `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`,
      p256dh: 'BPublicKeyOfTheBrowser',
      auth: 'AuthSecretOfTheBrowser',
      vapid_public_key: 'BVapid',
      visitor_id: 'table-visitor',
      created_at: NOW,
      updated_at: NOW,
      last_seen_at: NOW,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  subscriberA = row.id;
});
afterAll(async () => {
  // Nothing in the table may have erased it.
  if (subscriberA && database) expect(await database.db.selectFrom('subscriptions').select('id').where('id', '=', subscriberA).executeTakeFirst()).toBeDefined();
});
const SIGNED_IN_PAGES = ROUTES.filter((route) => route.kind === 'signed-in page' || route.kind === 'site page');
const SIGNED_IN_FORMS = ROUTES.filter((route) => route.kind === 'signed-in form' || route.kind === 'site form');
const ALL_FORMS = ROUTES.filter((route) => route.method === 'POST');

describe('every dashboard route', () => {
  it('is in the table these tests go through', () => {
    const router = dashboardRoutes({ config: parseConfig({}), db: database.db, logger: memoryLogger() });
    const handlers = new Set(router.routes.filter((route) => route.method !== 'ALL').map((route) => `${route.method} /dashboard${route.path === '/' ? '' : route.path}`));
    expect(handlers).toEqual(new Set(ROUTES.map((route) => `${route.method} ${route.pattern}`)));
  });

  it.each(SIGNED_IN_PAGES)('$method $pattern sends a signed-out visitor to sign-in, and back afterwards', async (route) => {
    const response = await new TestBrowser(app).get(route.path(siteA.id));
    expect(response.status).toBe(303);
    const location = new URL(response.location!, PUBLIC_URL);
    expect(location.pathname).toBe('/dashboard/login');
    expect(location.searchParams.get('next') ?? '/dashboard').toBe(route.path(siteA.id) === '/dashboard' ? '/dashboard' : route.path(siteA.id));
  });

  it.each(SIGNED_IN_FORMS)('$method $pattern is refused (403) when signed out, and changes nothing', async (route) => {
    const before = await siteState(siteA.id);
    const browser = new TestBrowser(app);
    const response = await browser.post(route.path(siteA.id), { ...route.form!(siteA.id), [CSRF_FIELD_NAME]: 'anything' });
    expect(response.status).toBe(403);
    expect(response.body).toContain('You are signed out');
    expect(await siteState(siteA.id)).toEqual(before);
  });

  it.each(SIGNED_IN_FORMS)('$method $pattern is refused (403) without the session’s CSRF token, or with another session’s', async (route) => {
    const browser = await signedIn(users.ownerA);
    const token = browser.cookies.get(SESSION_COOKIE)!;
    const otherSession = await startSession(database.db, { userId: users.ownerA }, NOW);
    const before = await siteState(siteA.id);
    for (const csrf of [undefined, '', 'forged', await csrfTokenFor(otherSession.token)]) {
      const form = { ...route.form!(siteA.id), ...(csrf === undefined ? {} : { [CSRF_FIELD_NAME]: csrf }) };
      const response = await browser.post(route.path(siteA.id), form);
      expect(response.status, `csrf ${csrf}`).toBe(403);
      expect(response.body).toContain('The form expired');
    }
    expect(await siteState(siteA.id)).toEqual(before);
    // The session itself is untouched: none of the refused sign-outs went through.
    expect(await resolveSession(database.db, token, NOW)).toBeDefined();
  });

  it.each(ROUTES.filter((route) => route.kind === 'public form'))('$method $pattern is refused (403) without the form cookie’s CSRF token', async (route) => {
    const browser = new TestBrowser(app);
    const other = new TestBrowser(app);
    await browser.get('/dashboard/login');
    const otherToken = csrfTokenIn((await other.get('/dashboard/login')).body);
    expect(browser.cookies.has('pushcart-form')).toBe(true);
    for (const csrf of [undefined, '', otherToken]) {
      const form = { ...route.form!(siteA.id), ...(csrf === undefined ? {} : { [CSRF_FIELD_NAME]: csrf }) };
      const response = await browser.post(route.path(siteA.id), form);
      expect(response.status, `csrf ${csrf}`).toBe(403);
      expect(response.body).toContain('The form expired');
      expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    }
  });

  it.each(ALL_FORMS)('$method $pattern refuses a cross-site form post (403) even with a valid token', async (route) => {
    const browser = await signedIn(users.ownerA);
    const token = browser.cookies.get(SESSION_COOKIE)!;
    const before = await siteState(siteA.id);
    const form = { ...route.form!(siteA.id), [CSRF_FIELD_NAME]: await csrfTokenFor(token) };
    const crossSiteHeaders: Array<Record<string, string>> = [
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site' },
      { Origin: 'https://evil.example' },
      { Origin: 'null' },
    ];
    for (const headers of crossSiteHeaders) {
      const response = await browser.post(route.path(siteA.id), form, headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(response.body).toContain('sent from another website');
    }
    expect(await siteState(siteA.id)).toEqual(before);
    expect(await resolveSession(database.db, token, NOW)).toBeDefined();
  });

  it.each(ROUTES.filter((route) => route.kind === 'site page' || route.kind === 'site form'))(
    '$method $pattern answers 404 to a user of another shop, and for an id that is no shop',
    async (route) => {
      const browser = await signedIn(users.ownerB);
      const csrf = await csrfTokenFor(browser.cookies.get(SESSION_COOKIE)!);
      const before = await siteState(siteA.id);
      for (const siteId of [siteA.id, crypto.randomUUID(), 'not-a-uuid']) {
        const response = route.method === 'GET' ? await browser.get(route.path(siteId)) : await browser.post(route.path(siteId), { ...route.form!(siteId), [CSRF_FIELD_NAME]: csrf });
        expect(response.status, siteId).toBe(404);
        expect(response.body).not.toContain('Shop A');
        expect(response.body).not.toContain(siteA.publishableKey);
      }
      expect(await siteState(siteA.id)).toEqual(before);
    },
  );

  it.each(ROUTES.filter((route) => route.kind === 'site form'))('$method $pattern is refused (403) to the roles it is not for', async (route) => {
    const before = await siteState(siteA.id);
    const refused = route.refused ?? { roles: ['viewer', 'editor'], text: 'cannot change the install' };
    const userOf: Record<Role, string> = { viewer: users.viewerA, editor: users.editorA, owner: users.ownerA };
    for (const role of refused.roles) {
      const browser = await signedIn(userOf[role]);
      const csrf = await csrfTokenFor(browser.cookies.get(SESSION_COOKIE)!);
      const response = await browser.post(route.path(siteA.id), { ...route.form!(siteA.id), [CSRF_FIELD_NAME]: csrf });
      expect(response.status, role).toBe(403);
      expect(response.body).toContain(refused.text);
    }
    expect(await siteState(siteA.id)).toEqual(before);
  });

  it.each(ROUTES.filter((route) => route.method === 'GET' && route.kind !== 'public page'))('$method $pattern has the strict CSP and no-store', async (route) => {
    const browser = await signedIn(users.ownerA);
    const response = await browser.get(route.path(siteA.id));
    expect([200, 303]).toContain(response.status);
    expect(response.headers.get('Content-Security-Policy')).toBe(route.csp ?? DASHBOARD_CSP);
    expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(response.headers.get('Referrer-Policy')).toBe('same-origin');
    expect(response.headers.get('Cache-Control')).toBe('no-store');
  });
});

describe('pages and headers', () => {
  it('the CSP is the strict one, and no page carries inline script, style or event handlers', async () => {
    expect(DASHBOARD_CSP).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    const owner = await signedIn(users.ownerA);
    const pages = [
      await new TestBrowser(app).get('/dashboard/login'),
      await owner.get(`/dashboard/sites/${siteA.id}/install`),
      await owner.get('/dashboard/account'),
      await owner.get('/dashboard/sites'),
      await owner.get('/dashboard/nowhere'),
    ];
    for (const page of pages) {
      expect(page.headers.get('Content-Security-Policy')).toBe(DASHBOARD_CSP);
      expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
      expect(page.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    }
  });

  it('serves the stylesheet and script under content-hashed names with an ETag, a year of cache and 304s', async () => {
    const assets = await dashboardAssets();
    const page = await new TestBrowser(app).get('/dashboard/login');
    for (const asset of [assets.css, assets.js]) {
      expect(page.body).toContain(`/dashboard/assets/${asset.name}`);
      const response = await app.request(`/dashboard/assets/${asset.name}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('ETag')).toBe(asset.etag);
      expect(response.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('Content-Type')).toBe(asset.contentType);
      expect(await response.text()).toBe(asset.body);
      const again = await app.request(`/dashboard/assets/${asset.name}`, { headers: { 'If-None-Match': asset.etag } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
    }
    expect(assets.js.name).toMatch(/^dashboard\.[0-9a-f]{16}\.js$/);
    // Each page's own scripts (the shared one and at most one page script) stay within 30 KB gzipped.
    expect(assets.pageScripts.size).toBeGreaterThan(0);
    for (const [stem, script] of assets.pageScripts) {
      expect(gzipSync(assets.js.body).length + gzipSync(script.body).length, stem).toBeLessThanOrEqual(30 * 1024);
    }
    expect((await app.request('/dashboard/assets/dashboard.0000000000000000.js')).status).toBe(404);
  });

  it('answers an unknown dashboard address with a 404 page, not JSON', async () => {
    const response = await new TestBrowser(app).get('/dashboard/no-such-page');
    expect(response.status).toBe(404);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(response.body).toContain('Page not found');
    expect((await new TestBrowser(app).get('/dashboard/')).location).toBe('/dashboard');
    expect((await new TestBrowser(app).get('/dashboard/login/?signed-out')).location).toBe('/dashboard/login?signed-out');
  });

  it('/dashboard opens the only shop of a user, and lists them when there are several', async () => {
    const single = await signedIn(users.viewerA);
    expect((await single.get('/dashboard')).location).toBe(`/dashboard/sites/${siteA.id}/overview`);
    const multiUser = await addMember('both@shop.example', siteA.id, 'viewer');
    await addMember('both@shop.example', siteB.id, 'editor');
    const several = await signedIn(multiUser);
    expect((await several.get('/dashboard')).location).toBe('/dashboard/sites');
    const list = await several.get('/dashboard/sites');
    expect(list.body).toContain(`/dashboard/sites/${siteA.id}/overview`);
    expect(list.body).toContain(`/dashboard/sites/${siteB.id}/overview`);
    const install = await several.get(`/dashboard/sites/${siteB.id}/install`);
    expect(install.body).toContain('Switch shop');
  });
});

describe('the install page', () => {
  it('shows the exact tag and service-worker line `npm start` prints, with copy buttons', async () => {
    const response = await (await signedIn(users.ownerA)).get(`/dashboard/sites/${siteA.id}/install`);
    expect(response.status).toBe(200);
    const install = installSnippet(PUBLIC_URL, siteA.publishableKey);
    const escapedTag = install.scriptTag.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
    expect(response.body).toContain(`<pre id="install-script-tag" tabindex="0"><code>${escapedTag}</code></pre>`);
    expect(response.body).toContain(install.serviceWorkerFile.replaceAll("'", '&#39;'));
    expect(response.body).toContain('data-copy-target="install-script-tag"');
    expect(response.body).toContain('data-copy-target="install-service-worker"');
    expect(response.body).toContain('data-sw');
    expect(response.body).toContain('name="origins"');
  });

  it('is read-only for a viewer: the origins are listed, no form', async () => {
    const response = await (await signedIn(users.viewerA)).get(`/dashboard/sites/${siteA.id}/install`);
    expect(response.status).toBe(200);
    expect(response.body).toContain('<li>https://a.example</li>');
    expect(response.body).not.toContain('name="origins"');
    expect(response.body).toContain('can see the install but not change it');
  });

  it('saves the name and origins an owner posts, normalised and without duplicates', async () => {
    const browser = await signedIn(users.ownerA);
    const response = await browser.submit(`/dashboard/sites/${siteA.id}/install`, {
      name: '  Shop A renamed ',
      origins: 'https://A.example\nhttps://www.a.example:443, https://a.example\n\nhttp://localhost:3000',
    });
    expect(response.status).toBe(303);
    expect(response.location).toBe(`/dashboard/sites/${siteA.id}/install?saved`);
    expect(await siteState(siteA.id)).toMatchObject({ name: 'Shop A renamed', origins: ['https://a.example', 'https://www.a.example', 'http://localhost:3000'] });
    const after = await browser.get(response.location!);
    expect(after.body).toContain('Saved.');
    await browser.submit(`/dashboard/sites/${siteA.id}/install`, { name: 'Shop A', origins: 'https://a.example' });
    expect(await siteState(siteA.id)).toMatchObject({ name: 'Shop A', origins: ['https://a.example'] });
  });

  it('refuses what the admin API refuses, says why in words, and keeps what was typed', async () => {
    const browser = await signedIn(users.ownerA);
    const before = await siteState(siteA.id);
    const cases: Array<{ form: Record<string, string>; says: string }> = [
      { form: { name: 'Shop A', origins: 'https://a.example/shop' }, says: '“https://a.example/shop” is not an origin' },
      { form: { name: 'Shop A', origins: 'ftp://a.example' }, says: '“ftp://a.example” is not an origin' },
      { form: { name: 'Shop A', origins: '  ' }, says: 'List at least one origin' },
      { form: { name: '   ', origins: 'https://a.example' }, says: 'Give the shop a name' },
      { form: { name: 'Shop A', origins: Array.from({ length: 51 }, (_, i) => `https://s${i}.example`).join('\n') }, says: 'at most 50 origins' },
    ];
    for (const { form, says } of cases) {
      const response = await browser.submit(`/dashboard/sites/${siteA.id}/install`, form);
      expect(response.status, says).toBe(422);
      expect(response.body).toContain(says);
      expect(response.body).toContain('The changes were not saved');
    }
    const kept = await browser.submit(`/dashboard/sites/${siteA.id}/install`, { name: 'Shop A', origins: 'https://a.example/shop' });
    expect(kept.body).toContain('>https://a.example/shop</textarea>');
    expect(await siteState(siteA.id)).toEqual(before);
  });
});

describe('escaping', () => {
  it('renders markup in a user’s name, a shop’s name and an origin as text', async () => {
    const evil = '<img src=x onerror=alert(1)>"\'&';
    const site = await createSite(database.db, { name: `<script>alert("shop")</script>`, origins: ['https://evil.example'] }, undefined);
    // Stored directly: the form would refuse such an origin, but a page must not trust what is stored.
    await database.db.updateTable('sites').set({ allowed_origins: ['https://evil.example', '<b>origin</b>'] }).where('id', '=', site.id).execute();
    const userId = await addMember('markup@shop.example', site.id, 'viewer', { name: evil });
    await addMember('markup@shop.example', siteA.id, 'viewer');
    const browser = await signedIn(userId);
    const pages = [await browser.get(`/dashboard/sites/${site.id}/install`), await browser.get('/dashboard/sites'), await browser.get('/dashboard/account')];
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(page.body).not.toContain('<script>alert');
      expect(page.body).not.toContain('<img src=x');
      expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    }
    expect(pages[0]!.body).toContain('&lt;script&gt;alert(&quot;shop&quot;)&lt;/script&gt;');
    expect(pages[0]!.body).toContain('<li>&lt;b&gt;origin&lt;/b&gt;</li>');
    expect(pages[0]!.body).not.toContain('<b>origin</b>');
    expect(pages[1]!.body).toContain('&lt;script&gt;alert(&quot;shop&quot;)&lt;/script&gt;');
  });
});

describe('signing in and out', () => {
  it('signs in with the right password: an HttpOnly, SameSite=Lax session cookie, then back to the page asked for', async () => {
    const browser = new TestBrowser(app);
    const next = `/dashboard/sites/${siteA.id}/install`;
    const response = await browser.submit(`/dashboard/login?next=${encodeURIComponent(next)}`, { email: ' Owner-A@Shop.Example ', password: PASSWORD, next }, { action: '/dashboard/login' });
    expect(response.status).toBe(303);
    expect(response.location).toBe(next);
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith(`${SESSION_COOKIE}=`))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    expect((await browser.get(next)).status).toBe(200);
    // Signed in, the sign-in page moves on.
    expect((await browser.get('/dashboard/login')).location).toBe('/dashboard');
  });

  it('answers a wrong password in words, and refuses a form without its cookie', async () => {
    const browser = new TestBrowser(app);
    const wrong = await browser.submit('/dashboard/login', { email: 'owner-a@shop.example', password: 'not the password' });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toContain('That email and password do not match an account');
    expect(wrong.body).toContain('value="owner-a@shop.example"');
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    const page = await new TestBrowser(app).get('/dashboard/login');
    const cookieless = await new TestBrowser(app).post('/dashboard/login', { [CSRF_FIELD_NAME]: csrfTokenIn(page.body), email: 'owner-a@shop.example', password: PASSWORD });
    expect(cookieless.status).toBe(403);
    expect(cookieless.headers.getSetCookie().some((line) => line.startsWith(`${SESSION_COOKIE}=`))).toBe(false);
  });

  it('never sends anyone to another site after signing in', async () => {
    for (const next of ['//evil.example/dashboard/x', 'https://evil.example/dashboard/', '/dashboard\\..\\x', '/elsewhere']) {
      const browser = new TestBrowser(app);
      const response = await browser.submit('/dashboard/login', { email: 'owner-a@shop.example', password: PASSWORD, next });
      expect(response.status).toBe(303);
      expect(response.location, next).toBe('/dashboard');
    }
  });

  it('answers 429 with Retry-After once the account’s attempts are spent, the right password too', async () => {
    const limitedApp = new Hono().route('/dashboard', dashboardRoutes(
      { config: parseConfig({ PUSHCART_PUBLIC_URL: PUBLIC_URL }), db: database.db, logger: memoryLogger(), now: () => NOW.getTime(), clientIp: () => '198.51.100.7' },
      { loginLimits: { perAccount: { capacity: 1, refillPerSecond: 1 / 60 }, perAddress: { capacity: 100, refillPerSecond: 1 } } },
    ));
    const browser = new TestBrowser(limitedApp);
    expect((await browser.submit('/dashboard/login', { email: 'owner-a@shop.example', password: 'wrong password 1' })).status).toBe(422);
    const limited = await browser.submit('/dashboard/login', { email: 'owner-a@shop.example', password: PASSWORD });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('60');
    expect(limited.body).toContain('Too many sign-in attempts');
    expect(limited.body).toContain('about 1 minute');
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
  });

  it('signs out this session only, or everywhere', async () => {
    const here = await signedIn(users.ownerA);
    const there = await signedIn(users.ownerA);
    const out = await here.submit('/dashboard/account', {}, { action: '/dashboard/sign-out' });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/dashboard/login?signed-out');
    expect(here.cookies.has(SESSION_COOKIE)).toBe(false);
    expect((await here.get(out.location!)).body).toContain('You have been signed out.');
    expect((await there.get('/dashboard/account')).status).toBe(200);

    const third = await signedIn(users.ownerA);
    const everywhere = await there.submit('/dashboard/account', {}, { action: '/dashboard/sign-out-everywhere' });
    expect(everywhere.location).toBe('/dashboard/login?signed-out=everywhere');
    expect((await there.get('/dashboard/account')).status).toBe(303);
    expect((await third.get('/dashboard/account')).status).toBe(303);
  });

  it('uses a Secure __Host- cookie when the public URL is https', async () => {
    const secureApp = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: 'https://push.example' } }).app;
    const browser = new TestBrowser(secureApp);
    const page = await browser.get('/dashboard/login');
    expect(page.headers.getSetCookie().join('\n')).toMatch(/^__Host-pushcart-form=[^;]+;.*Secure/m);
    const response = await browser.post('/dashboard/login', { [CSRF_FIELD_NAME]: csrfTokenIn(page.body), email: 'owner-a@shop.example', password: PASSWORD }, { 'Sec-Fetch-Site': 'same-origin', Origin: 'https://push.example' });
    expect(response.status).toBe(303);
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('__Host-pushcart-session='))!;
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).not.toMatch(/Domain=/i);
  });
});

describe('one-time links', () => {
  it('the first owner’s link sets the password, signs in, and works once; its page sends no Referer', async () => {
    const site = await createSite(database.db, { name: 'First shop', origins: ['https://first.example'] }, undefined);
    const link = await createFirstOwnerLink(database.db, { siteId: site.id, email: 'first@shop.example', now: NOW, publicUrl: `${PUBLIC_URL}/` });
    expect(link.outcome).toBe('password_link');
    if (link.outcome !== 'password_link') return;
    expect(link.url).toMatch(/^http:\/\/localhost:8787\/dashboard\/password\/[A-Za-z0-9_-]{43}$/);
    const path = new URL(link.url).pathname;
    const browser = new TestBrowser(app);
    const page = await browser.get(path);
    expect(page.status).toBe(200);
    expect(page.headers.get('Referrer-Policy')).toBe('no-referrer');
    expect(page.headers.get('Content-Security-Policy')).toBe(DASHBOARD_CSP);
    expect(page.body).toContain('Choose your password');
    expect(page.body).toContain('value="first@shop.example"');

    const mismatch = await browser.submit(path, { password: PASSWORD, confirm: `${PASSWORD}!` });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body).toContain('The two passwords are not the same');
    const short = await browser.submit(path, { password: 'short', confirm: 'short' });
    expect(short.status).toBe(422);
    expect(short.body).toContain('The password is too short: at least 10 characters, it has 5.');

    const set = await browser.submit(path, { password: PASSWORD, confirm: PASSWORD });
    expect(set.status).toBe(303);
    expect(set.location).toBe('/dashboard');
    expect(set.headers.get('Referrer-Policy')).toBe('no-referrer');
    const home = await browser.get('/dashboard');
    expect(home.location).toBe(`/dashboard/sites/${site.id}/overview`);
    expect((await browser.get(home.location!)).status).toBe(200);

    const again = await new TestBrowser(app).get(path);
    expect(again.status).toBe(404);
    expect(again.body).toContain('This link no longer works');
    const second = await createFirstOwnerLink(database.db, { siteId: site.id, email: 'first@shop.example', now: NOW, publicUrl: PUBLIC_URL });
    expect(second).toEqual({ outcome: 'has_password', userId: link.userId, url: 'http://localhost:8787/dashboard/login' });
  });

  it('an invite makes a new account a member with its role and signs it in', async () => {
    const created = await createInvite(database.db, { siteId: siteA.id, email: 'new-editor@shop.example', role: 'editor', createdBy: users.ownerA }, NOW);
    if (created.outcome !== 'created') throw new Error('invite not created');
    const path = `/dashboard/invite/${created.token}`;
    const browser = new TestBrowser(app);
    const page = await browser.get(path);
    expect(page.status).toBe(200);
    expect(page.headers.get('Referrer-Policy')).toBe('no-referrer');
    expect(page.body).toContain('Join Shop A');
    expect(page.body).toContain('as an editor');
    const accepted = await browser.submit(path, { name: 'New <Editor>', password: PASSWORD, confirm: PASSWORD });
    expect(accepted.status).toBe(303);
    expect(accepted.location).toBe(`/dashboard/sites/${siteA.id}/overview`);
    expect((await browser.get(accepted.location!)).status).toBe(200);
    const install = await browser.get(`/dashboard/sites/${siteA.id}/install`);
    expect(install.status).toBe(200);
    expect(install.body).toContain('New &lt;Editor&gt;');
    // An editor may not change the install: no form.
    expect(install.body).not.toContain('name="origins"');
    expect((await new TestBrowser(app).get(path)).status).toBe(404);
  });

  it('an invite for an existing account asks for its password before joining', async () => {
    const created = await createInvite(database.db, { siteId: siteB.id, email: 'owner-a@shop.example', role: 'viewer', createdBy: users.ownerB }, NOW);
    if (created.outcome !== 'created') throw new Error('invite not created');
    const path = `/dashboard/invite/${created.token}`;
    const browser = new TestBrowser(app);
    expect((await browser.get(path)).body).toContain('Sign in and join');
    const wrong = await browser.submit(path, { password: 'not the password' });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toContain('That is not the password of this account');
    expect((await browser.get(`/dashboard/sites/${siteB.id}/install`)).status).toBe(303);
    const joined = await browser.submit(path, { password: PASSWORD });
    expect(joined.location).toBe(`/dashboard/sites/${siteB.id}/overview`);
    expect((await browser.get(joined.location!)).status).toBe(200);
  });

  it('an invite for the signed-in person is accepted with one click', async () => {
    const created = await createInvite(database.db, { siteId: siteA.id, email: 'owner-b@shop.example', role: 'viewer', createdBy: users.ownerA }, NOW);
    if (created.outcome !== 'created') throw new Error('invite not created');
    const path = `/dashboard/invite/${created.token}`;
    const browser = await signedIn(users.ownerB);
    expect((await browser.get(`/dashboard/sites/${siteA.id}/install`)).status).toBe(404);
    const page = await browser.get(path);
    expect(page.body).toContain('Accept the invite');
    expect(page.body).not.toContain('name="password"');
    const accepted = await browser.submit(path, {});
    expect(accepted.location).toBe(`/dashboard/sites/${siteA.id}/overview`);
    expect((await browser.get(accepted.location!)).status).toBe(200);
    // Shop B is still theirs, so /dashboard now lists both.
    expect((await browser.get('/dashboard')).location).toBe('/dashboard/sites');
  });

  it('a dead or malformed link is a 404 page', async () => {
    for (const path of [`/dashboard/password/${'A'.repeat(43)}`, '/dashboard/password/short', `/dashboard/invite/${'A'.repeat(43)}`]) {
      const response = await new TestBrowser(app).get(path);
      expect(response.status, path).toBe(404);
      expect(response.body).toContain('This link no longer works');
    }
  });
});
