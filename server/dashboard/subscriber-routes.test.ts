import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_FIELD_NAME, csrfTokenFor } from '../accounts/csrf.ts';
import { startSession } from '../accounts/sessions.ts';
import type { Db, Role } from '../db/database.ts';
import { upsertMembership } from '../db/memberships.ts';
import { insertUser } from '../db/users.ts';
import { memoryLogger } from '../logger.ts';
import { createSite } from '../sites/create-site.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { ACTIVE_COUNT_CAP, SUBSCRIBERS_PAGE_SIZE } from './subscriber-routes.ts';
import { TestBrowser } from './test-client.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const SESSION_COOKIE = 'pushcart-session';
const MARKUP = '<img src=x onerror=alert(1)>"\'&';
const ESCAPED_MARKUP = '&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;';

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];
const logger = memoryLogger();

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: 'http://localhost:8787' }, logger }).app;
});
afterAll(async () => database?.destroy());

/** A shop with an owner, an editor and a viewer, each with a browser signed in. */
async function shop(options: { timeZone?: string } = {}) {
  const site = await createSite(database.db, { name: 'Lamp <b>shop</b>', origins: ['https://lamps.example'] }, undefined);
  if (options.timeZone) {
    await database.db.updateTable('sites').set({ settings: JSON.stringify({ engagement: { defaultTimeZone: options.timeZone } }) }).where('id', '=', site.id).execute();
  }
  const browsers = {} as Record<Role, TestBrowser>;
  for (const role of ['owner', 'editor', 'viewer'] as const) {
    const user = (await insertUser(database.db, { email: `${role}-${crypto.randomUUID()}@shop.example`, name: null, passwordHash: null }, NOW))!;
    await upsertMembership(database.db, { userId: user.id, siteId: site.id, role }, NOW);
    const browser = new TestBrowser(app);
    browser.cookies.set(SESSION_COOKIE, (await startSession(database.db, { userId: user.id }, NOW)).token);
    browsers[role] = browser;
  }
  return { site, ...browsers, list: `/dashboard/sites/${site.id}/subscribers` };
}

interface Stored {
  visitorId: string;
  externalUserId?: string | null;
  createdAt?: Date;
  status?: 'active' | 'expired' | 'unsubscribed';
  locale?: string | null;
  browser?: string | null;
  tags?: Record<string, unknown>;
}

async function store(db: Db, siteId: string, subscriptions: Stored[]): Promise<string[]> {
  const rows = await db
    .insertInto('subscriptions')
    .values(
      subscriptions.map((s) => ({
        site_id: siteId,
        endpoint: `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`,
        p256dh: 'BPublicKeyOfTheBrowser',
        auth: 'AuthSecretOfTheBrowser',
        vapid_public_key: 'BVapid',
        visitor_id: s.visitorId,
        external_user_id: s.externalUserId ?? null,
        locale: s.locale ?? 'en-GB',
        time_zone: 'Europe/London',
        user_agent_family: s.browser === undefined ? 'chrome' : s.browser,
        tags: JSON.stringify(s.tags ?? {}),
        status: s.status ?? 'active',
        created_at: s.createdAt ?? NOW,
        updated_at: NOW,
        last_seen_at: NOW,
      })),
    )
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

/** A push to `subscriptionId` with the delivery as the worker left it. */
async function push(db: Db, siteId: string, subscriptionId: string, title: string, delivery: { status: 'sent' | 'failed' | 'queued'; lastError?: string; lastStatus?: number }) {
  const notification = await db
    .insertInto('notifications')
    .values({ site_id: siteId, kind: 'marketing', content: JSON.stringify({ title, body: 'Body', url: 'https://lamps.example/sale' }), audience: JSON.stringify({ all: true }), ttl_seconds: 3600, created_at: NOW })
    .returning('id')
    .executeTakeFirstOrThrow();
  const row = await db
    .insertInto('deliveries')
    .values({
      notification_id: notification.id,
      subscription_id: subscriptionId,
      endpoint: 'https://fcm.googleapis.com/fcm/send/x',
      report_token: crypto.randomUUID(),
      status: delivery.status,
      attempts: 1,
      due_at: NOW,
      last_status: delivery.lastStatus ?? null,
      last_error: delivery.lastError ?? null,
      sent_at: delivery.status === 'sent' ? NOW : null,
      created_at: NOW,
      updated_at: NOW,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { notificationId: notification.id, deliveryId: row.id };
}

/** The href of the link with this text, as a browser would follow it. */
function linkHref(page: string, text: string): string | undefined {
  const match = new RegExp(`<a [^>]*href="([^"]+)"[^>]*>${text}</a>`).exec(page);
  return match?.[1]?.replaceAll('&amp;', '&');
}

/** The visitor ids of the list's rows, in order. */
function listedVisitors(page: string): string[] {
  return [...page.matchAll(/<th scope="row" class="mono id-cell"><a href="[^"]+">([^<]*)<\/a><\/th>/g)].map((match) => match[1]!);
}

describe('the subscriber list', () => {
  it('pages through 30 subscribers newest first with links that work without script, keeping the filters', async () => {
    const { site, viewer, list } = await shop();
    await store(
      database.db,
      site.id,
      Array.from({ length: 30 }, (_, i) => ({ visitorId: `pager-${String(i).padStart(2, '0')}`, createdAt: new Date(NOW.getTime() - (30 - i) * 60_000) })),
    );
    await store(database.db, site.id, [{ visitorId: 'other-visitor', createdAt: NOW }]);
    const newestFirst = Array.from({ length: 30 }, (_, i) => `pager-${String(29 - i).padStart(2, '0')}`);

    const first = await viewer.get(`${list}?search=pager-`);
    expect(first.status).toBe(200);
    expect(listedVisitors(first.body)).toEqual(newestFirst.slice(0, SUBSCRIBERS_PAGE_SIZE));
    expect(linkHref(first.body, '← Newer')).toBeUndefined();
    const older = linkHref(first.body, 'Older →')!;
    expect(older).toMatch(/^\/dashboard\/sites\/[0-9a-f-]+\/subscribers\?search=pager-&after=/);

    const second = await viewer.get(older);
    expect(listedVisitors(second.body)).toEqual(newestFirst.slice(SUBSCRIBERS_PAGE_SIZE));
    expect(linkHref(second.body, 'Older →')).toBeUndefined();
    const newer = linkHref(second.body, '← Newer')!;
    expect(newer).toContain('search=pager-&before=');

    const back = await viewer.get(newer);
    expect(listedVisitors(back.body)).toEqual(newestFirst.slice(0, SUBSCRIBERS_PAGE_SIZE));
    expect(linkHref(back.body, '← Newer')).toBeUndefined();
    expect(linkHref(back.body, 'Older →')).toBe(older);

    // Without the filter the other visitor leads, and a cursor the server did not make starts over.
    expect(listedVisitors((await viewer.get(list)).body)[0]).toBe('other-visitor');
    const forged = await viewer.get(`${list}?after=bm90LWEtY3Vyc29y`);
    expect(forged.status).toBe(200);
    expect(listedVisitors(forged.body)[0]).toBe('other-visitor');
  });

  it('counts the active subscriptions and filters by status, browser, language and tag', async () => {
    const { site, viewer, list } = await shop();
    await store(database.db, site.id, [
      { visitorId: 'v-active-de', locale: 'de-DE', tags: { plan: 'vip' } },
      { visitorId: 'v-active-fr', locale: 'fr', browser: 'firefox', tags: { plan: 3 } },
      { visitorId: 'v-expired', status: 'expired' },
      { visitorId: 'v-gone', status: 'unsubscribed', browser: 'safari' },
    ]);
    const all = await viewer.get(list);
    expect(all.body).toContain('<strong class="count">2</strong> active subscriptions');
    expect(listedVisitors(all.body).sort()).toEqual(['v-active-de', 'v-active-fr', 'v-expired', 'v-gone']);

    expect(listedVisitors((await viewer.get(`${list}?status=expired`)).body)).toEqual(['v-expired']);
    expect(listedVisitors((await viewer.get(`${list}?browser=safari`)).body)).toEqual(['v-gone']);
    expect(listedVisitors((await viewer.get(`${list}?locale=de`)).body)).toEqual(['v-active-de']);
    expect(listedVisitors((await viewer.get(`${list}?tag=plan%3Avip`)).body)).toEqual(['v-active-de']);
    expect(listedVisitors((await viewer.get(`${list}?tag=plan%3A3`)).body)).toEqual(['v-active-fr']);

    const none = await viewer.get(`${list}?search=nobody`);
    expect(listedVisitors(none.body)).toEqual([]);
    expect(none.body).toContain('No subscriber matches these filters');
    expect(none.body).toContain('value="nobody"');

    // A filter that cannot be read is said in words and left out, not a broken page.
    const badTag = await viewer.get(`${list}?tag=novalue&status=bogus`);
    expect(badTag.status).toBe(200);
    expect(badTag.body).toContain('A tag filter is a key and a value with a colon between them');
    expect(listedVisitors(badTag.body)).toHaveLength(4);
  });

  it('stops counting at its cap, so a large shop’s page does bounded work', async () => {
    const { site, viewer, list } = await shop();
    await sql`insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, created_at, updated_at, last_seen_at)
      select ${site.id}::uuid, 'https://fcm.googleapis.com/fcm/send/cap-' || g, 'p', 'a', 'v', 'cap-' || g, ${NOW}, ${NOW}, ${NOW}
      from generate_series(1, ${ACTIVE_COUNT_CAP}) g`.execute(database.db);
    expect((await viewer.get(list)).body).toContain(`<strong class="count">10,000</strong> active subscriptions`);
    await store(database.db, site.id, [{ visitorId: 'one-more' }]);
    const page = await viewer.get(list);
    expect(page.body).toContain('More than <strong class="count">10,000</strong> active subscriptions');
    expect(listedVisitors(page.body)).toHaveLength(SUBSCRIBERS_PAGE_SIZE);
  });

  it('says to install the snippet when no one has subscribed yet', async () => {
    const { site, viewer, list } = await shop();
    const page = await viewer.get(list);
    expect(page.status).toBe(200);
    expect(page.body).toContain('No subscribers yet');
    expect(page.body).toContain(`<a class="button" href="/dashboard/sites/${site.id}/install">Install the snippet</a>`);
    expect(page.body).toContain('<strong class="count">0</strong> active subscriptions');
    // The section is marked in the navigation.
    expect(page.body).toContain(`<a href="/dashboard/sites/${site.id}/subscribers" aria-current="page">Subscribers</a>`);
  });
});

describe('a subscriber’s page', () => {
  it('escapes markup in ids, tags, event names and push titles', async () => {
    const { site, owner, list } = await shop();
    const [id] = await store(database.db, site.id, [{ visitorId: `v${MARKUP}`, externalUserId: `u${MARKUP}`, tags: { [`k${MARKUP}`]: `t${MARKUP}` } }]);
    await database.db
      .insertInto('events')
      .values({ site_id: site.id, source: 'browser', type: `e${MARKUP}`, visitor_id: `v${MARKUP}`, external_user_id: null, properties: JSON.stringify({ name: `p${MARKUP}` }), client_event_id: null, created_at: NOW })
      .execute();
    await push(database.db, site.id, id!, `title${MARKUP}`, { status: 'failed', lastError: `push_rejected: 403 ${MARKUP}`, lastStatus: 403 });

    const pages = [await owner.get(list), await owner.get(`${list}/${id}`), await owner.get(`${list}/${id}/erase`)];
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(page.body).not.toContain('<img src=x');
      expect(page.body).toContain(`v${ESCAPED_MARKUP}`);
      expect(page.body).toContain('Lamp &lt;b&gt;shop&lt;/b&gt;');
    }
    expect(pages[0]!.body).toContain(`u${ESCAPED_MARKUP}`);
    expect(pages[0]!.body).toContain(`k${ESCAPED_MARKUP}: t${ESCAPED_MARKUP}`);
    for (const text of [`e${ESCAPED_MARKUP}`, `title${ESCAPED_MARKUP}`, `403 ${ESCAPED_MARKUP}`, `p${ESCAPED_MARKUP}`]) expect(pages[1]!.body).toContain(text);
  });

  it('shows the shopper’s subscriptions, pushes with the reason in words, clicks, orders and events, in the shop’s time zone', async () => {
    const { site, viewer, list } = await shop({ timeZone: 'Europe/Berlin' });
    const [laptop, phone] = await store(database.db, site.id, [
      { visitorId: 'anna-laptop', externalUserId: 'user-anna', createdAt: new Date(NOW.getTime() - 86_400_000) },
      { visitorId: 'anna-phone', externalUserId: 'user-anna', browser: 'safari' },
      { visitorId: 'ben-laptop', externalUserId: 'user-ben' },
    ]);
    const sale = await push(database.db, site.id, laptop!, 'Lamps 20% off', { status: 'sent' });
    await push(database.db, site.id, phone!, 'Lamps 20% off again', { status: 'failed', lastError: 'push_rejected: 403 from web.push.apple.com', lastStatus: 403 });
    await push(database.db, site.id, phone!, 'Evening lamp deal', { status: 'queued', lastError: 'quiet_hours: until 09:00 Europe/Berlin' });
    await database.db.insertInto('interactions').values({ delivery_id: sale.deliveryId, notification_id: sale.notificationId, type: 'clicked', action: '', created_at: NOW }).execute();
    await database.db
      .insertInto('conversions')
      .values({ site_id: site.id, delivery_id: sale.deliveryId, notification_id: sale.notificationId, order_id: 'order-77', value: '30.00', currency: 'EUR', source: 'server', created_at: NOW })
      .execute();
    await database.db
      .insertInto('events')
      .values({ site_id: site.id, source: 'server', type: 'order_completed', visitor_id: null, external_user_id: 'user-anna', properties: JSON.stringify({ orderId: 'order-77', value: 30, currency: 'EUR' }), client_event_id: null, created_at: NOW })
      .execute();

    const page = await viewer.get(`${list}/${phone}`);
    expect(page.status).toBe(200);
    const body = page.body;
    expect(body).toContain('anna-laptop');
    expect(body).toContain('<li class="mono">user-anna</li>');
    expect(body).not.toContain('ben-laptop');
    expect(body).toContain('The push service refused it.');
    expect(body).toContain('push_rejected: 403 from web.push.apple.com (HTTP 403)');
    expect(body).toContain('Held for the shopper’s quiet hours');
    expect(body).toMatch(/<td>Lamps 20% off<\/td>[\s\S]*?Sent/);
    expect(body).toContain('order-77');
    expect(body).toContain('€30.00');
    expect(body).toContain('Yes: Lamps 20% off');
    expect(body).toContain('order_completed');
    // 09:00 UTC is 10:00 in Berlin in January, and the page says which zone it uses.
    expect(body).toContain(`<time datetime="${NOW.toISOString()}">15 Jan 2030, 10:00</time>`);
    expect(body).toContain('the shop’s time zone, Europe/Berlin');
    // A viewer reads but is offered neither export nor erase.
    expect(body).not.toContain('/export');
    expect(body).not.toContain('Erase this shopper');
  });

  it('answers 404 for an id that is not one of the shop’s subscribers', async () => {
    const { viewer, list } = await shop();
    const other = await shop();
    const [elsewhere] = await store(database.db, other.site.id, [{ visitorId: 'other-shop-visitor' }]);
    for (const id of [elsewhere, crypto.randomUUID(), 'not-a-uuid']) {
      const page = await viewer.get(`${list}/${id}`);
      expect(page.status, id).toBe(404);
      expect(page.body).not.toContain('other-shop-visitor');
    }
  });
});

describe('erase and export', () => {
  it('an owner erases a shopper after ticking the confirmation, and sees what was erased', async () => {
    const { site, owner, list } = await shop();
    const [laptop, phone, ben] = await store(database.db, site.id, [
      { visitorId: 'erase-laptop', externalUserId: 'erase-user' },
      { visitorId: 'erase-phone', externalUserId: 'erase-user' },
      { visitorId: 'keep-ben' },
    ]);
    await database.db
      .insertInto('events')
      .values(['erase-laptop', 'erase-phone'].map((visitorId) => ({ site_id: site.id, source: 'browser' as const, type: 'page_viewed', visitor_id: visitorId, external_user_id: null, properties: '{}', client_event_id: null, created_at: NOW })))
      .execute();
    const sent = await push(database.db, site.id, laptop!, 'Hello', { status: 'sent' });

    const detail = await owner.get(`${list}/${phone}`);
    expect(detail.body).toContain(`href="${list}/${phone}/erase"`);
    const confirm = await owner.get(`${list}/${phone}/erase`);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('I understand that this erases the shopper’s data for good');

    const unticked = await owner.submit(`${list}/${phone}/erase`, {});
    expect(unticked.status).toBe(422);
    expect(unticked.body).toContain('Nothing was erased: tick the box');
    expect(await database.db.selectFrom('subscriptions').select('id').where('site_id', '=', site.id).execute()).toHaveLength(3);

    const erased = await owner.submit(`${list}/${phone}/erase`, { understood: 'yes' });
    expect(erased.status).toBe(200);
    expect(erased.body).toContain('Shopper erased');
    expect(erased.body).toContain('<dt>Subscriptions deleted</dt><dd>2</dd>');
    expect(erased.body).toContain('<dt>Events deleted</dt><dd>2</dd>');
    expect(erased.body).toContain('<dt>Pushes kept as anonymous counts</dt><dd>1</dd>');
    const left = await database.db.selectFrom('subscriptions').select('id').where('site_id', '=', site.id).execute();
    expect(left.map((row) => row.id)).toEqual([ben]);
    const delivery = await database.db.selectFrom('deliveries').select(['subscription_id', 'endpoint']).where('id', '=', sent.deliveryId).executeTakeFirstOrThrow();
    expect(delivery).toEqual({ subscription_id: null, endpoint: '' });
    expect((await owner.get(`${list}/${phone}`)).status).toBe(404);
    // The log names the counts, never the ids.
    const line = logger.entries.find((entry) => entry.message === 'shopper erased' && entry.fields.siteId === site.id);
    expect(line?.fields).toMatchObject({ subscriptions: 2, events: 2 });
    expect(JSON.stringify(line)).not.toContain('erase-user');
  });

  it('an owner downloads the shopper’s data as a JSON attachment', async () => {
    const { site, owner, list } = await shop();
    const [laptop] = await store(database.db, site.id, [
      { visitorId: 'export-laptop', externalUserId: 'export-user', tags: { plan: 'vip' } },
      { visitorId: 'export-phone', externalUserId: 'export-user' },
      { visitorId: 'someone-else' },
    ]);
    const response = await owner.submit(`${list}/${laptop}`, {}, { action: `${list}/${laptop}/export` });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Disposition')).toBe(`attachment; filename="shopper-${laptop}.json"`);
    expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const exported = JSON.parse(response.body);
    expect(exported.exportedAt).toBe(NOW.toISOString());
    expect(exported.shopper).toEqual({ visitorIds: ['export-laptop', 'export-phone'], externalUserIds: ['export-user'] });
    expect(exported.subscriptions.map((s: { visitorId: string }) => s.visitorId).sort()).toEqual(['export-laptop', 'export-phone']);
    expect(response.body).not.toContain('BPublicKeyOfTheBrowser');
    expect(response.body).not.toContain('someone-else');
  });

  it('viewers and editors see no erase or export, and are refused both with nothing changed', async () => {
    const { site, owner, editor, viewer, list } = await shop();
    const [id] = await store(database.db, site.id, [{ visitorId: 'guarded-visitor' }]);
    expect((await owner.get(`${list}/${id}`)).body).toContain('Download their data (JSON)');
    for (const browser of [editor, viewer]) {
      const detail = await browser.get(`${list}/${id}`);
      expect(detail.status).toBe(200);
      expect(detail.body).not.toContain('Download their data');
      expect(detail.body).not.toContain('/erase');
      const confirm = await browser.get(`${list}/${id}/erase`);
      expect(confirm.status).toBe(403);
      expect(confirm.body).toContain('cannot erase or export a shopper’s data');
      const csrf = await csrfTokenFor(browser.cookies.get(SESSION_COOKIE)!);
      for (const action of ['erase', 'export']) {
        const refused = await browser.post(`${list}/${id}/${action}`, { [CSRF_FIELD_NAME]: csrf, understood: 'yes' });
        expect(refused.status, action).toBe(403);
        expect(refused.headers.get('Content-Disposition')).toBeNull();
        expect(refused.body).not.toContain('guarded-visitor');
      }
    }
    expect(await database.db.selectFrom('subscriptions').select('id').where('id', '=', id!).executeTakeFirst()).toBeDefined();
  });
});

describe('the welcome on a subscriber’s page', () => {
  it('shows the welcome code this subscription was given, and none for one that got no welcome', async () => {
    const s = await shop();
    await database.db.updateTable('sites').set({ settings: JSON.stringify({ welcome: { enabled: true, codeMode: 'list' } }) }).where('id', '=', s.site.id).execute();
    const [welcomed, skipped] = await store(database.db, s.site.id, [{ visitorId: 'v-welcomed' }, { visitorId: 'v-skipped' }]);
    // The insert trigger scheduled both; one was sent with its code, the other skipped.
    await database.db.updateTable('welcome_pushes').set({ state: 'sent', due_at: null, code: 'FIRST-7F3K', updated_at: NOW }).where('subscription_id', '=', welcomed!).execute();
    await database.db.updateTable('welcome_pushes').set({ state: 'skipped', due_at: null, updated_at: NOW }).where('subscription_id', '=', skipped!).execute();
    const page = await s.viewer.get(`${s.list}/${welcomed}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Welcome code: <span class="mono">FIRST-7F3K</span>');
    const other = await s.viewer.get(`${s.list}/${skipped}`);
    expect(other.body).toContain('Welcome push: not sent');
    expect(other.body).not.toContain('Welcome code:');
  });
});
