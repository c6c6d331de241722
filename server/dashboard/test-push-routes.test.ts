import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_FIELD_NAME } from '../accounts/csrf.ts';
import { sessionCookieName, startSession } from '../accounts/sessions.ts';
import type { Role } from '../db/database.ts';
import { findSiteById } from '../db/sites.ts';
import { MAX_TEST_DEVICES_PER_MEMBER } from '../db/test-devices.ts';
import type { PushPayload } from '../../service-worker/src/contract.ts';
import { nodePushTransport } from '../runtime/node/push-transport.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { countSubscriptions, testApp } from '../testing/fixtures.ts';
import { startMockPushService, type MockPushService, type MockSubscription } from '../testing/mock-push-service.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { csrfTokenIn, TestBrowser, signedInBrowser, dashboardMember } from './test-client.ts';

// 10:00 UTC on 24 March 2030.
const NOW = new Date(Date.UTC(2030, 2, 24, 10, 0, 0));
const PUBLIC_URL = 'https://push.example';
const CHROME_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let database: TestDatabase;
let mock: MockPushService;
let push: ReturnType<typeof nodePushTransport>;
let app: ReturnType<typeof testApp>['app'];
let shop: CreatedSite;
let other: CreatedSite;
const users: Record<'owner' | 'editor' | 'viewer' | 'otherOwner', string> = { owner: '', editor: '', viewer: '', otherOwner: '' };

function member(email: string, siteId: string, role: Role): Promise<string> {
  return dashboardMember(database.db, email, [[siteId, role]], NOW);
}

function signedIn(userId: string): Promise<TestBrowser> {
  return signedInBrowser(app, database.db, userId, NOW, { secure: true });
}

const installPath = (siteId: string) => `/dashboard/sites/${siteId}/install`;

/** What the page script posts once the browser subscribed: the subscription, with the page's CSRF token. */
async function addBrowser(browser: TestBrowser, siteId: string, subscription: MockSubscription) {
  const page = await browser.get(installPath(siteId));
  return browser.post(`/dashboard/sites/${siteId}/test-devices`, { [CSRF_FIELD_NAME]: csrfTokenIn(page.body), endpoint: subscription.endpoint, ...subscription.keys }, { 'User-Agent': CHROME_ON_LINUX });
}

async function sendTest(browser: TestBrowser, siteId: string) {
  const page = await browser.get(installPath(siteId));
  return browser.post(`/dashboard/sites/${siteId}/test-push`, { [CSRF_FIELD_NAME]: csrfTokenIn(page.body) });
}

async function devicesOf(userId: string) {
  return database.db.selectFrom('test_devices').selectAll().where('user_id', '=', userId).execute();
}

beforeAll(async () => {
  [database, mock] = await Promise.all([createTestDatabase(), startMockPushService()]);
  push = nodePushTransport({ ca: mock.ca, timeoutMs: 5_000 });
  app = testApp(database.db, {
    now: () => NOW.getTime(),
    env: { PUSHCART_PUBLIC_URL: PUBLIC_URL, PUSHCART_PUSH_HOSTS: mock.host, PUSHCART_VAPID_SUBJECT: 'mailto:ops@push.example' },
    pushTransport: push.transport,
  }).app;
  shop = await createSite(database.db, { name: 'Shop <b>One</b>', origins: ['https://one.example'] }, undefined);
  other = await createSite(database.db, { name: 'Shop Two', origins: ['https://two.example'] }, undefined);
  users.owner = await member('owner@one.example', shop.id, 'owner');
  users.editor = await member('editor@one.example', shop.id, 'editor');
  users.viewer = await member('viewer@one.example', shop.id, 'viewer');
  users.otherOwner = await member('owner@two.example', other.id, 'owner');
});

afterAll(async () => {
  await push?.close();
  await mock?.close();
  await database?.destroy();
});

describe('send me a test push', () => {
  it('a browser the owner allowed gets the push at once, encrypted to it and signed with the shop’s VAPID key, and is no subscriber', async () => {
    const owner = await signedIn(users.owner);
    const empty = await owner.get(installPath(shop.id));
    expect(empty.body).toContain('Send me a test push');
    expect(empty.body).toContain('data-test-push-enable hidden');
    expect(empty.body).toContain(`data-vapid-key="${shop.vapidPublicKey}"`);
    expect(empty.body).not.toContain('>Send a test push<');

    const subscription = await mock.subscribe({ applicationServerKey: shop.vapidPublicKey });
    const added = await addBrowser(owner, shop.id, subscription);
    expect(added.status).toBe(303);
    expect(added.location).toBe(`${installPath(shop.id)}?test-device=added#test-push`);
    const listed = await owner.get(added.location!.split('#')[0]!);
    expect(listed.body).toContain('This browser is set up for test pushes');
    expect(listed.body).toContain('Chrome on Linux');
    expect(listed.body).toContain('>Send a test push<');

    const before = mock.received.length;
    const sent = await sendTest(owner, shop.id);
    expect(sent.status).toBe(303);
    expect(sent.location).toBe(`${installPath(shop.id)}?test-push=1.0.0#test-push`);
    expect(mock.received.length).toBe(before + 1);
    const received = mock.received.at(-1)!;
    expect(received.endpoint).toBe(subscription.endpoint);
    // The mock verified the JWT against the key the browser subscribed with, and decrypted the body.
    expect(received.vapid).toMatchObject({ aud: mock.origin, sub: 'mailto:ops@push.example', k: shop.vapidPublicKey });
    expect(received.urgency).toBe('high');
    const payload = JSON.parse(received.payload) as PushPayload;
    expect(payload).toMatchObject({ title: 'Test push from Shop <b>One</b>', url: `${PUBLIC_URL}${installPath(shop.id)}#test-push`, tag: 'pushcart-test', report: null });

    const after = await owner.get(`${installPath(shop.id)}?test-push=1.0.0`);
    expect(after.body).toContain('Sent to 1 browser');
    expect(after.body).toContain(`accepted by localhost (201)`);
    expect(after.body).toContain('Shop &lt;b&gt;One&lt;/b&gt;');
    // An owner's browser is in no audience and no count.
    expect(await countSubscriptions(database.db, shop.id)).toBe(0);
    expect(await database.db.selectFrom('notifications').select('id').where('site_id', '=', shop.id).execute()).toEqual([]);
  });

  it('a browser whose subscription the push service no longer knows is removed, and the owner is told', async () => {
    const editor = await signedIn(users.editor);
    const subscription = await mock.subscribe({ applicationServerKey: shop.vapidPublicKey, mode: 'gone' });
    expect((await addBrowser(editor, shop.id, subscription)).status).toBe(303);
    expect(await devicesOf(users.editor)).toHaveLength(1);
    const sent = await sendTest(editor, shop.id);
    expect(sent.location).toBe(`${installPath(shop.id)}?test-push=0.0.1#test-push`);
    expect(await devicesOf(users.editor)).toEqual([]);
    const page = await editor.get(`${installPath(shop.id)}?test-push=0.0.1`);
    expect(page.body).toContain('1 browser was removed');
  });

  it('a failed push keeps the browser and shows what the push service said', async () => {
    const editor = await signedIn(users.editor);
    const subscription = await mock.subscribe({ applicationServerKey: shop.vapidPublicKey, mode: { status: 400 } });
    await addBrowser(editor, shop.id, subscription);
    const sent = await sendTest(editor, shop.id);
    expect(sent.location).toBe(`${installPath(shop.id)}?test-push=0.1.0#test-push`);
    const page = await editor.get(`${installPath(shop.id)}?test-push=0.1.0`);
    expect(page.body).toContain('could not be reached');
    expect(page.body).toContain('localhost refused it: push service refused with 400');
    const [device] = await devicesOf(users.editor);
    // Removing it is a plain form; another member cannot remove it.
    const owner = await signedIn(users.owner);
    const notTheirs = await owner.post(`/dashboard/sites/${shop.id}/test-devices/${device!.id}/delete`, { [CSRF_FIELD_NAME]: csrfTokenIn((await owner.get(installPath(shop.id))).body) });
    expect(notTheirs.location).toContain('test-device=unknown');
    expect(await devicesOf(users.editor)).toHaveLength(1);
    const removed = await editor.post(`/dashboard/sites/${shop.id}/test-devices/${device!.id}/delete`, { [CSRF_FIELD_NAME]: csrfTokenIn(page.body) });
    expect(removed.location).toBe(`${installPath(shop.id)}?test-device=removed#test-push`);
    expect(await devicesOf(users.editor)).toEqual([]);
  });

  it('a browser that subscribed with a key the shop no longer has is removed without a request', async () => {
    const editor = await signedIn(users.editor);
    const subscription = await mock.subscribe({ applicationServerKey: shop.vapidPublicKey });
    await addBrowser(editor, shop.id, subscription);
    await database.db.updateTable('test_devices').set({ vapid_public_key: other.vapidPublicKey }).where('user_id', '=', users.editor).execute();
    const requests = mock.requests;
    const sent = await sendTest(editor, shop.id);
    expect(sent.location).toBe(`${installPath(shop.id)}?test-push=0.0.1#test-push`);
    expect(mock.requests).toBe(requests);
    expect(await devicesOf(users.editor)).toEqual([]);
  });

  it('refuses a subscription Pushcart would not send to, and more browsers than the bound', async () => {
    const owner = await signedIn(users.otherOwner);
    const page = await owner.get(installPath(other.id));
    const good = await mock.subscribe({ applicationServerKey: other.vapidPublicKey });
    for (const endpoint of ['https://evil.example/push/1', 'http://localhost/x', good.endpoint.replace('https://', 'https://user@')]) {
      const refused = await owner.post(`/dashboard/sites/${other.id}/test-devices`, { [CSRF_FIELD_NAME]: csrfTokenIn(page.body), endpoint, ...good.keys });
      expect(refused.status, endpoint).toBe(403);
      expect(refused.body).toContain('This browser was not added');
    }
    const badKeys = await owner.post(`/dashboard/sites/${other.id}/test-devices`, { [CSRF_FIELD_NAME]: csrfTokenIn(page.body), endpoint: good.endpoint, p256dh: 'AAAA', auth: good.keys.auth });
    expect(badKeys.status).toBe(403);
    expect(await devicesOf(users.otherOwner)).toEqual([]);

    for (let i = 0; i < MAX_TEST_DEVICES_PER_MEMBER; i++) {
      expect((await addBrowser(owner, other.id, await mock.subscribe({ applicationServerKey: other.vapidPublicKey }))).status).toBe(303);
    }
    // The same browser again updates its row; a new one past the bound is refused.
    expect((await addBrowser(owner, other.id, (await devicesOf(users.otherOwner)).map((d) => ({ id: '', endpoint: d.endpoint, keys: { p256dh: d.p256dh, auth: d.auth } }))[0]!)).status).toBe(303);
    const tooMany = await addBrowser(owner, other.id, good);
    expect(tooMany.status).toBe(403);
    expect(tooMany.body).toContain(`already have ${MAX_TEST_DEVICES_PER_MEMBER} browsers`);
    expect(await devicesOf(users.otherOwner)).toHaveLength(MAX_TEST_DEVICES_PER_MEMBER);
    await database.db.deleteFrom('test_devices').where('user_id', '=', users.otherOwner).execute();
  });

  it('a viewer sees the section without its controls; a member leaving the shop takes their browsers along', async () => {
    const viewer = await signedIn(users.viewer);
    const page = await viewer.get(installPath(shop.id));
    expect(page.body).toContain('Your role cannot send test pushes');
    expect(page.body).not.toContain('data-test-push-enable');

    const leaving = await member('leaving@one.example', shop.id, 'editor');
    await addBrowser(await signedIn(leaving), shop.id, await mock.subscribe({ applicationServerKey: shop.vapidPublicKey }));
    expect(await devicesOf(leaving)).toHaveLength(1);
    await database.db.deleteFrom('memberships').where('user_id', '=', leaving).execute();
    expect(await devicesOf(leaving)).toEqual([]);
  });

  it('the template editor sends the text as typed, unsaved, with the sample values, to the user’s browsers', async () => {
    const editor = await signedIn(users.editor);
    const editorPath = `/dashboard/sites/${shop.id}/templates/price_drop/en`;
    const none = await editor.submit(editorPath, { intent: 'test', title: 'Now {{price.new}}', body: 'Was {{price.old}}.' });
    expect(none.status).toBe(200);
    expect(none.body).toContain('No browser of yours is set up for test pushes');

    const subscription = await mock.subscribe({ applicationServerKey: shop.vapidPublicKey });
    await addBrowser(editor, shop.id, subscription);
    const before = mock.received.length;
    const sent = await editor.submit(editorPath, { intent: 'test', title: 'Now {{price.new}} <i>only</i>', body: 'Was {{price.old}}.', 'actions.0.title': 'Buy', 'actions.0.action': 'buy' });
    expect(sent.status).toBe(200);
    expect(sent.body).toContain('Sent: accepted by localhost (201)');
    // The form keeps what was typed.
    expect(sent.body).toContain('value="Now {{price.new}} &lt;i&gt;only&lt;/i&gt;"');
    expect(mock.received.length).toBe(before + 1);
    const payload = JSON.parse(mock.received.at(-1)!.payload) as PushPayload;
    expect(payload.title).toBe('Now $69.00 <i>only</i>');
    expect(payload.body).toBe('Was $89.00.');
    expect(payload.actions).toEqual([{ action: 'buy', title: 'Buy' }]);
    expect(payload.url).toBe(`${PUBLIC_URL}${editorPath}`);
    // Nothing was saved.
    const settings = (await findSiteById(database.db, shop.id))!.settings as { templates?: unknown };
    expect(settings.templates).toBeUndefined();

    const invalid = await editor.submit(editorPath, { intent: 'test', title: '', body: '' });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toContain('Nothing was sent');
    expect(mock.received.length).toBe(before + 1);
    await database.db.deleteFrom('test_devices').where('user_id', '=', users.editor).execute();
  });
});

describe('without a push transport', () => {
  it('says test pushes are not available and sends nothing', async () => {
    const bare = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: PUBLIC_URL, PUSHCART_PUSH_HOSTS: mock.host } }).app;
    const browser = new TestBrowser(bare);
    const { token } = await startSession(database.db, { userId: users.owner }, NOW);
    browser.cookies.set(sessionCookieName(true), token);
    const page = await browser.get(installPath(shop.id));
    expect(page.body).toContain('started without a push transport');
    const sent = await browser.post(`/dashboard/sites/${shop.id}/test-push`, { [CSRF_FIELD_NAME]: csrfTokenIn(page.body) });
    expect(sent.location).toBe(`${installPath(shop.id)}?test-push=unavailable#test-push`);
  });
});
