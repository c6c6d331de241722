import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_FIELD_NAME } from '../../accounts/csrf.ts';
import { hashPassword } from '../../accounts/password.ts';
import { MAX_REQUEST_BODY_BYTES, type App } from '../../app.ts';
import type { ClientScripts } from '../../client-bundle.ts';
import { dashboardAssets, type DashboardAssets } from '../../dashboard/assets/assets.ts';
import { upsertMembership } from '../../db/memberships.ts';
import { markDemoSite } from '../../db/sites.ts';
import { insertUser } from '../../db/users.ts';
import { createSite, type CreatedSite } from '../../sites/create-site.ts';
import type { PushTransport } from '../../push/fetch-transport.ts';
import { ADMIN_TOKEN, browserHeaders, browserSubscription, SHOP_ORIGIN, testApp, testSite } from '../../testing/fixtures.ts';
import type { TestDatabase } from '../../testing/test-database.ts';
import { buildClientBundles } from '../node/client-bundles.ts';
import { createNodeMetrics } from '../node/node-metrics.ts';
import {
  createPostgresTestDatabase,
  postgresProblem,
  redactedPostgresServer,
  startWorkerUnderTest,
  WORKER_START_TIMEOUT_MS,
  type WorkerUnderTest,
} from './worker-under-test.ts';

/**
 * One request table, run against the Node app and against the Worker under workerd, over one
 * Postgres database: each answer must match in status, headers and body. What a shop installs
 * (`/pushcart.js`, `/pushcart-sw.js`), the demo shop and the API must not depend on where Pushcart
 * is deployed.
 *
 * Both sides run in this Node process: the test drives workerd over HTTP (wrangler's programmatic
 * API, with wrangler.toml's [build] step writing the scripts the Worker imports), and builds the
 * Node side in-process as the Node entry does — `createApp` with the client scripts bundled by
 * `buildClientBundles()` and the demo on — through the route tests' fixture (`testApp`). The
 * fixture's only difference from the Node entry is where the client address comes from (a test
 * header instead of a socket peer); every request sends the same address both ways.
 */

const PUBLIC_URL = 'https://push.shop.example';
const PUBLIC_ORIGIN = new URL(PUBLIC_URL).origin;
const VAPID_SUBJECT = 'mailto:ops@shop.example';
/** The same configuration on both sides: environment on Node, vars on the Worker. */
const CONFIG_VARS = {
  PUSHCART_PUBLIC_URL: PUBLIC_URL,
  PUSHCART_VAPID_SUBJECT: VAPID_SUBJECT,
  PUSHCART_ADMIN_TOKEN: ADMIN_TOKEN,
};
/** A documentation address (RFC 5737): the Worker reads it from CF-Connecting-IP, the Node fixture from its test header. */
const CLIENT_ADDRESS = '198.51.100.7';

/**
 * Headers that say how the bytes travelled, not what was answered: the in-process Node app leaves
 * framing to the HTTP server, workerd frames and dates its answers itself. Every other header must
 * be the same on both sides, present or absent.
 */
const TRANSPORT_HEADERS = new Set([
  'content-length',
  'date',
  'transfer-encoding',
  'connection',
  'keep-alive',
  // workerd compresses for a client that accepts gzip; miniflare's local proxy passes that on as
  // mf-content-encoding, and fetch decodes it. The bodies compared are the decoded ones.
  'content-encoding',
  'mf-content-encoding',
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const problem = await postgresProblem();
if (problem) {
  // Never a silent pass: say why, and let vitest count it as skipped.
  console.warn(`SKIPPED Node/Workers parity test: no Postgres at ${redactedPostgresServer} (${problem}). Set DATABASE_URL to a reachable server to run it.`);
}

interface World {
  site: CreatedSite;
  scripts: ClientScripts;
  dashboard: DashboardAssets;
}

/** A dashboard owner of the test site; the Worker checks the password Node hashed (one shared database). */
const OWNER_EMAIL = 'owner@shop.example';
const OWNER_PASSWORD = 'correct horse battery staple';

/** Plain strings only, so one request fits both Node's fetch types and miniflare's. */
interface RowRequest {
  path: string;
  init?: { method?: string; headers?: Record<string, string>; body?: string };
}

/** One side (Node or the Worker), for a row that must make requests of its own first (a form's cookie and token). */
type Side = (path: string, init?: RowRequest['init']) => Promise<Response>;

interface ParityRow {
  name: string;
  /** Called once per side, so a write (a new subscription) is a fresh one on each. */
  request: (world: World, side: Side) => Promise<RowRequest> | RowRequest;
  /** What both must answer: a row where both sides fail alike is still a failure. */
  status: number;
  /** JSON fields generated per request (a new row's id), compared as "a UUID" rather than by value. */
  generatedIds?: readonly string[];
}

interface Observed {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * A Set-Cookie line with its value left out and its attributes in order: a session or form cookie
 * is random per response, but its name and attributes (HttpOnly, Secure, SameSite, Path, Max-Age)
 * are what must not depend on the runtime.
 */
function cookieShape(setCookie: string): string {
  const [pair = '', ...attributes] = setCookie.split(';').map((part) => part.trim());
  const name = pair.slice(0, pair.indexOf('='));
  return [`${name}=<value>`, ...attributes.sort()].join('; ');
}

/** A dashboard page's CSRF token is made from a random cookie (or session) of its own on each side. */
function withoutCsrfToken(html: string): string {
  return html.replaceAll(new RegExp(`name="${CSRF_FIELD_NAME}" value="[^"]+"`, 'g'), `name="${CSRF_FIELD_NAME}" value="<token>"`);
}

/**
 * Each side signs in on its own a moment apart, so "last signed in" on the team page is that
 * side's own sign-in: the instant is left out, the markup around it stays compared.
 */
function withoutSignInInstant(html: string): string {
  return html.replace(/Last signed in <time datetime="[^"]+">[^<]+<\/time>/g, 'Last signed in <time datetime="<instant>"><instant></time>');
}

function csrfTokenIn(html: string): string {
  const token = new RegExp(`name="${CSRF_FIELD_NAME}" value="([^"]+)"`).exec(html)?.[1];
  if (!token) throw new Error(`no CSRF field in:\n${html.slice(0, 300)}`);
  return token;
}

/** The `name=value` pairs a browser would send back from a response's Set-Cookie lines. */
function cookiesFrom(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .join('; ');
}

/** The sign-in form's cookie and token, fetched from `side` as a browser would before posting it. */
async function signInForm(side: Side): Promise<{ cookie: string; token: string }> {
  const page = await side('/dashboard/login');
  expect(page.status).toBe(200);
  return { cookie: cookiesFrom(page), token: csrfTokenIn(await page.text()) };
}

/** A sign-in form post as the browser sends it from the dashboard's own page. */
async function signInPost(side: Side, password: string): Promise<RowRequest> {
  const form = await signInForm(side);
  return {
    path: '/dashboard/login',
    init: {
      method: 'POST',
      headers: { Cookie: form.cookie, Origin: PUBLIC_ORIGIN, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ [CSRF_FIELD_NAME]: form.token, email: OWNER_EMAIL, password }).toString(),
    },
  };
}

async function observe(response: Response, row: ParityRow): Promise<Observed> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!TRANSPORT_HEADERS.has(name) && name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies.map(cookieShape).join(' | ');
  const text = await response.text();
  let body: unknown = headers['content-type']?.startsWith('text/html') ? withoutSignInInstant(withoutCsrfToken(text)) : text;
  if (headers['content-type']?.startsWith('application/json')) {
    const json = JSON.parse(text) as Record<string, unknown>;
    for (const field of row.generatedIds ?? []) {
      expect(json[field], `${row.name}: ${field}`).toMatch(UUID);
      json[field] = '<generated uuid>';
    }
    body = json;
  }
  return { status: response.status, headers, body };
}

/**
 * Every request carries a request id of its own, which both sides must echo in the header and in
 * error bodies, and the client address each side reads.
 */
function withRequestId(row: ParityRow, init: RowRequest['init']): NonNullable<RowRequest['init']> {
  return {
    ...init,
    headers: {
      ...init?.headers,
      'X-Request-Id': `parity-${row.name.replace(/[^\w]+/g, '-')}`,
      'CF-Connecting-IP': CLIENT_ADDRESS,
      'X-Test-Client-Ip': CLIENT_ADDRESS,
    },
  };
}

const preflight = {
  Origin: SHOP_ORIGIN,
  'Access-Control-Request-Method': 'POST',
  'Access-Control-Request-Headers': 'authorization, content-type',
};

const ROWS: ParityRow[] = [
  { name: 'snippet', request: () => ({ path: '/pushcart.js' }), status: 200 },
  {
    name: 'snippet revalidated with its ETag',
    request: ({ scripts }) => ({ path: '/pushcart.js', init: { headers: { 'If-None-Match': scripts.snippet.etag } } }),
    status: 304,
  },
  { name: 'snippet with a stale ETag', request: () => ({ path: '/pushcart.js', init: { headers: { 'If-None-Match': '"stale"' } } }), status: 200 },
  { name: 'versioned snippet', request: ({ scripts }) => ({ path: `/pushcart.${scripts.snippet.version}.js` }), status: 200 },
  { name: 'unknown snippet version', request: () => ({ path: '/pushcart.0000000000.js' }), status: 404 },
  { name: 'service worker', request: () => ({ path: '/pushcart-sw.js' }), status: 200 },
  {
    name: 'service worker revalidated, its ETag in a list',
    request: ({ scripts }) => ({ path: '/pushcart-sw.js', init: { headers: { 'If-None-Match': `"other", ${scripts.serviceWorker.etag}` } } }),
    status: 304,
  },
  { name: 'demo shop', request: () => ({ path: '/demo' }), status: 200 },
  {
    name: 'demo test push to a visitor with no subscription',
    request: () => ({
      path: '/demo/test-push',
      init: { method: 'POST', headers: { Origin: PUBLIC_ORIGIN, 'Content-Type': 'application/json' }, body: JSON.stringify({ visitorId: 'visitor-parity-demo-0001' }) },
    }),
    status: 202,
    generatedIds: ['id'],
  },
  { name: 'health', request: () => ({ path: '/healthz' }), status: 200 },
  { name: 'OpenAPI document', request: () => ({ path: '/openapi.json' }), status: 200 },
  { name: 'API reference page', request: () => ({ path: '/docs' }), status: 200 },
  {
    name: 'site config',
    request: ({ site }) => ({ path: `/v1/sites/${site.publishableKey}/config`, init: { headers: { Origin: SHOP_ORIGIN } } }),
    status: 200,
  },
  { name: 'site config preflight', request: ({ site }) => ({ path: `/v1/sites/${site.publishableKey}/config`, init: { method: 'OPTIONS', headers: preflight } }), status: 204 },
  { name: 'subscription preflight', request: () => ({ path: '/v1/subscriptions', init: { method: 'OPTIONS', headers: preflight } }), status: 204 },
  {
    name: 'subscription preflight from a foreign origin',
    request: () => ({ path: '/v1/subscriptions', init: { method: 'OPTIONS', headers: { ...preflight, Origin: 'https://elsewhere.example' } } }),
    status: 204,
  },
  {
    name: 'new subscription',
    request: async ({ site }) => ({
      path: '/v1/subscriptions',
      init: {
        method: 'POST',
        headers: browserHeaders(site),
        body: JSON.stringify({ subscription: await browserSubscription(), visitorId: 'visitor-parity-0001', timeZone: 'Europe/Berlin' }),
      },
    }),
    status: 201,
    generatedIds: ['id'],
  },
  {
    name: 'subscription that fails validation',
    request: ({ site }) => ({
      path: '/v1/subscriptions',
      init: { method: 'POST', headers: browserHeaders(site), body: JSON.stringify({ subscription: { endpoint: 'http://example.com/' }, visitorId: 'x' }) },
    }),
    status: 400,
  },
  {
    name: 'subscription body over the size limit',
    request: ({ site }) => ({
      path: '/v1/subscriptions',
      init: { method: 'POST', headers: browserHeaders(site), body: JSON.stringify({ visitorId: 'visitor-parity-0002', padding: 'x'.repeat(MAX_REQUEST_BODY_BYTES) }) },
    }),
    status: 413,
  },
  {
    name: 'product viewed in the browser',
    request: ({ site }) => ({
      path: '/v1/events',
      init: {
        method: 'POST',
        headers: browserHeaders(site),
        body: JSON.stringify({ type: 'product_viewed', visitorId: 'visitor-parity-0001', properties: { productId: 'kettle', price: 19, currency: 'EUR', url: `${SHOP_ORIGIN}/p/kettle` } }),
      },
    }),
    status: 202,
  },
  {
    name: 'send to a visitor with no subscription',
    request: ({ site }) => ({
      path: '/v1/notifications',
      init: {
        method: 'POST',
        headers: { Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: 'Hello', body: 'Nobody is listening', url: `${SHOP_ORIGIN}/`, to: { visitorIds: ['visitor-parity-nobody'] } }),
      },
    }),
    status: 202,
    generatedIds: ['id'],
  },
  {
    name: 'status of an unknown notification',
    request: ({ site }) => ({ path: '/v1/notifications/00000000-0000-4000-8000-000000000000', init: { headers: { Authorization: `Bearer ${site.secretKey}` } } }),
    status: 404,
  },
  {
    name: 'event body that is not JSON',
    request: ({ site }) => ({ path: '/v1/events', init: { method: 'POST', headers: browserHeaders(site), body: '{"visitorId":' } }),
    status: 400,
  },
  {
    name: 'send with a publishable key',
    request: ({ site }) => ({
      path: '/v1/notifications',
      init: { method: 'POST', headers: { Authorization: `Bearer ${site.publishableKey}`, 'Content-Type': 'application/json' }, body: '{}' },
    }),
    // A publishable key is public: it can never send.
    status: 403,
  },
  { name: 'admin API with a wrong token', request: () => ({ path: '/v1/admin/sites', init: { headers: { Authorization: 'Bearer wrong' } } }), status: 401 },
  // With the right token they differ on purpose: Node serves its registry, a Worker logs its counters (404).
  { name: 'metrics without the token', request: () => ({ path: '/metrics' }), status: 401 },
  { name: 'metrics with a wrong token', request: () => ({ path: '/metrics', init: { headers: { Authorization: 'Bearer wrong' } } }), status: 401 },
  { name: 'unknown path', request: () => ({ path: '/nothing-here' }), status: 404 },
  // The dashboard: the same pages, cookies and refusals on both runtimes.
  { name: 'dashboard, signed out', request: () => ({ path: '/dashboard' }), status: 303 },
  { name: 'dashboard sign-in page', request: () => ({ path: '/dashboard/login' }), status: 200 },
  { name: 'dashboard stylesheet', request: ({ dashboard }) => ({ path: `/dashboard/assets/${dashboard.css.name}` }), status: 200 },
  {
    name: 'dashboard stylesheet revalidated with its ETag',
    request: ({ dashboard }) => ({ path: `/dashboard/assets/${dashboard.css.name}`, init: { headers: { 'If-None-Match': dashboard.css.etag } } }),
    status: 304,
  },
  { name: 'dashboard script', request: ({ dashboard }) => ({ path: `/dashboard/assets/${dashboard.js.name}` }), status: 200 },
  { name: 'dashboard sign-in with a wrong password', request: (_world, side) => signInPost(side, 'not the password at all'), status: 422 },
  {
    name: 'dashboard sign-in form posted without its cookie',
    request: async (_world, side) => {
      const post = await signInPost(side, OWNER_PASSWORD);
      const { Cookie: _dropped, ...headers } = post.init!.headers!;
      return { ...post, init: { ...post.init, headers } };
    },
    status: 403,
  },
  {
    name: 'dashboard sign-in posted from another site',
    request: async (_world, side) => {
      const post = await signInPost(side, OWNER_PASSWORD);
      return { ...post, init: { ...post.init, headers: { ...post.init!.headers, Origin: 'https://elsewhere.example', 'Sec-Fetch-Site': 'cross-site' } } };
    },
    status: 403,
  },
  { name: 'dashboard sign-in with the right password', request: (_world, side) => signInPost(side, OWNER_PASSWORD), status: 303 },
  // Every page of a shop, signed in as its owner: the dashboard runs on Workers as on Node.
  ...['install', 'overview', 'subscribers', 'health', 'automations', 'templates', 'templates/price_drop/de', 'prompt', 'keys', 'team', 'audit'].map(
    (page): ParityRow => ({
      name: `dashboard ${page} page, signed in`,
      request: async ({ site }, side) => {
        const post = await signInPost(side, OWNER_PASSWORD);
        const signedIn = await side(post.path, post.init);
        expect(signedIn.status).toBe(303);
        return { path: `/dashboard/sites/${site.id}/${page}`, init: { headers: { Cookie: cookiesFrom(signedIn) } } };
      },
      status: 200,
    }),
  ),
];

describe.skipIf(problem !== undefined)('Node and Workers answer alike', () => {
  let database: TestDatabase;
  let worker: WorkerUnderTest | undefined;
  let nodeApp: App;
  let world: World;

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    const site = await testSite(database.db);
    // The demo shows the site marked as the demo and listing the public URL's origin, as `npm start` makes it.
    const demo = await createSite(database.db, { name: 'Demo shop', origins: [PUBLIC_ORIGIN] }, undefined);
    await markDemoSite(database.db, demo.id);
    const owner = await insertUser(database.db, { email: OWNER_EMAIL, passwordHash: await hashPassword(OWNER_PASSWORD) }, new Date());
    await upsertMembership(database.db, { userId: owner!.id, siteId: site.id, role: 'owner' }, new Date());
    const scripts = await buildClientBundles();
    world = { site, scripts, dashboard: await dashboardAssets() };
    // A transport as the Node entry passes one (the install page says whether test pushes can go); nothing is sent here.
    const transport: PushTransport = { send: () => Promise.reject(new Error('the parity table sends no push')) };
    nodeApp = testApp(database.db, { env: CONFIG_VARS, clientScripts: scripts, demo: true, pushTransport: transport, metrics: createNodeMetrics() }).app;
    worker = await startWorkerUnderTest({
      database,
      bindings: Object.fromEntries(Object.entries(CONFIG_VARS).map(([name, value]) => [name, { type: 'plain_text' as const, value }])),
    });
  }, WORKER_START_TIMEOUT_MS);

  afterAll(async () => {
    await worker?.dispose();
    await database?.destroy();
  }, WORKER_START_TIMEOUT_MS);

  it.each(ROWS)('$name', async (row) => {
    const onNodeSide: Side = async (path, init) => nodeApp.request(path, withRequestId(row, init));
    // Miniflare's fetch follows redirects unless told not to; the answer itself is compared, as app.request gives it.
    const onWorkerSide: Side = async (path, init) => (await worker!.call(path, { ...withRequestId(row, init), redirect: 'manual' })) as unknown as Response;
    const onNode = await row.request(world, onNodeSide);
    const node = await observe(await onNodeSide(onNode.path, onNode.init), row);
    const onWorker = await row.request(world, onWorkerSide);
    const workers = await observe(await onWorkerSide(onWorker.path, onWorker.init), row);
    expect(node.status, 'Node').toBe(row.status);
    expect(workers).toEqual(node);
  });

  it('serves the bundles Node builds: the same bytes and ETags, the snippet at its versioned URL', async () => {
    const { scripts } = world;
    const snippet = await worker!.call('/pushcart.js');
    expect(await snippet.text()).toBe(scripts.snippet.body);
    expect(snippet.headers.get('ETag')).toBe(scripts.snippet.etag);
    const serviceWorker = await worker!.call('/pushcart-sw.js');
    expect(await serviceWorker.text()).toBe(scripts.serviceWorker.body);
    expect(serviceWorker.headers.get('ETag')).toBe(scripts.serviceWorker.etag);
    const demo = await (await worker!.call('/demo')).text();
    // The demo page installs the snippet from the public URL, as the README tells a shop to.
    expect(demo).toContain(`src="${PUBLIC_URL}/pushcart.js"`);
  });
});
