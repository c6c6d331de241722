import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CSRF_FIELD_NAME, csrfTokenFor } from '../accounts/csrf.ts';
import { describeAuditEntry, recordAudit } from '../audit/audit-log.ts';
import { listAuditEntries } from '../db/audit-log.ts';
import type { Role } from '../db/database.ts';
import { upsertMembership } from '../db/memberships.ts';
import { listSecretKeys } from '../db/secret-keys.ts';
import { findUserByEmail, insertUser } from '../db/users.ts';
import { hashSecretKey } from '../sites/api-keys.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { csrfTokenIn, TestBrowser, signedInBrowser } from './test-client.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const PUBLIC_URL = 'http://localhost:8787';
const SESSION_COOKIE = 'pushcart-session';
const PASSWORD = 'correct horse battery staple';

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: PUBLIC_URL } }).app;
});
afterAll(async () => database?.destroy());

/** A fresh shop per test with an owner (named with markup), an editor and a viewer. */
interface Shop {
  site: CreatedSite;
  owner: string;
  editor: string;
  viewer: string;
}
let shop: Shop;
let counter = 0;

async function addMember(email: string, siteId: string, role: Role, name: string | null = null): Promise<string> {
  const existing = await findUserByEmail(database.db, email);
  const userId = existing?.id ?? (await insertUser(database.db, { email, name }, NOW))!.id;
  await upsertMembership(database.db, { userId, siteId, role }, NOW);
  return userId;
}

beforeEach(async () => {
  counter += 1;
  const site = await createSite(database.db, { name: `Shop <b>${counter}</b>`, origins: ['https://shop.example'] }, undefined);
  shop = {
    site,
    owner: await addMember(`owner${counter}@shop.example`, site.id, 'owner', '<i>Ana</i>'),
    editor: await addMember(`editor${counter}@shop.example`, site.id, 'editor'),
    viewer: await addMember(`viewer${counter}@shop.example`, site.id, 'viewer'),
  };
});

function signedIn(userId: string): Promise<TestBrowser> {
  return signedInBrowser(app, database.db, userId, NOW);
}

async function csrf(browser: TestBrowser): Promise<string> {
  return csrfTokenFor(browser.cookies.get(SESSION_COOKIE)!);
}

const base = () => `/dashboard/sites/${shop.site.id}`;

async function auditWords(siteId = shop.site.id): Promise<string[]> {
  return (await listAuditEntries(database.db, siteId, { limit: 100 })).map((row) => describeAuditEntry(row));
}

/** Everything the keys and team forms could change, to show a refused form changed none of it. */
async function shopState(siteId = shop.site.id) {
  const [keys, members, invites, audit] = await Promise.all([
    listSecretKeys(database.db, siteId),
    database.db.selectFrom('memberships').select(['user_id', 'role']).where('site_id', '=', siteId).orderBy('user_id').execute(),
    database.db.selectFrom('invites').select(['id', 'revoked_at']).where('site_id', '=', siteId).orderBy('id').execute(),
    listAuditEntries(database.db, siteId, { limit: 100 }),
  ]);
  return { keys, members, invites, audit: audit.length };
}

function apiSettings(key: string) {
  return app.request('/v1/settings', { headers: { Authorization: `Bearer ${key}` } });
}

describe('keys', () => {
  it('an owner sees the publishable key and the secret keys by prefix, never a whole secret key', async () => {
    const owner = await signedIn(shop.owner);
    const page = await owner.get(`${base()}/keys`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(shop.site.publishableKey);
    expect(page.body).toContain(`${shop.site.secretKey.slice(0, 11)}…`);
    expect(page.body).not.toContain(shop.site.secretKey);
    expect(page.body).toContain('data-copy-target="publishable-key"');
    expect(page.body).toContain('>Keys</a>');
    expect(page.body).toContain('>Audit log</a>');
  });

  it('a new key is shown whole once, in the answer to its POST, never stored and never shown again', async () => {
    const owner = await signedIn(shop.owner);
    const created = await owner.submit(`${base()}/keys`, { name: 'backend <api>' });
    expect(created.status).toBe(200);
    expect(created.headers.get('Cache-Control')).toBe('no-store');
    expect(created.headers.get('Referrer-Policy')).toBe('no-referrer');
    const secretKey = /<code>(sk_[A-Za-z0-9_-]{43})<\/code>/.exec(created.body)?.[1];
    expect(secretKey).toBeDefined();
    expect(created.body).toContain('it is shown only this once');
    expect(created.body).toContain('data-copy-target="new-secret-key"');
    expect(created.body).toContain('backend &lt;api&gt;');

    // Only its hash is stored, and it works at once.
    const stored = await database.db.selectFrom('secret_keys').selectAll().where('site_id', '=', shop.site.id).where('name', '=', 'backend <api>').executeTakeFirstOrThrow();
    expect(stored.key_hash).toBe(await hashSecretKey(secretKey!));
    expect(JSON.stringify(stored)).not.toContain(secretKey!);
    expect((await apiSettings(secretKey!)).status).toBe(200);

    // The page of keys lists it by name and prefix only.
    const list = await owner.get(`${base()}/keys`);
    expect(list.body).toContain('backend &lt;api&gt;');
    expect(list.body).toContain(`${secretKey!.slice(0, 11)}…`);
    expect(list.body).not.toContain(secretKey!);

    // The same form sent again (a reload of the answer) makes no second key and shows none.
    const again = await owner.post(`${base()}/keys`, { [CSRF_FIELD_NAME]: await csrf(owner), name: 'backend <api>' });
    expect(again.status).toBe(422);
    expect(again.body).toContain('A live key is already called “backend &lt;api&gt;”');
    expect(again.body).not.toMatch(/sk_[A-Za-z0-9_-]{43}/);
    expect((await listSecretKeys(database.db, shop.site.id)).filter((key) => key.name === 'backend <api>')).toHaveLength(1);
    expect(await auditWords()).toEqual([`<i>Ana</i> created the secret key 'backend <api>' (${secretKey!.slice(0, 11)}…)`]);
  });

  it('refuses a key without a name or with a too long one, in words', async () => {
    const owner = await signedIn(shop.owner);
    const before = await shopState();
    const empty = await owner.submit(`${base()}/keys`, { name: '   ' });
    expect(empty.status).toBe(422);
    expect(empty.body).toContain('Give the key a name');
    const long = await owner.submit(`${base()}/keys`, { name: 'x'.repeat(61) });
    expect(long.status).toBe(422);
    expect(long.body).toContain('at most 60 characters, it has 61');
    expect(await shopState()).toEqual(before);
  });

  it('revokes a key after a confirmation page; requests with it are refused at once', async () => {
    const owner = await signedIn(shop.owner);
    const [key] = await listSecretKeys(database.db, shop.site.id);
    const confirm = await owner.get(`${base()}/keys/revoke?key=${key!.id}`);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('cannot be undone');
    expect(confirm.body).toContain(`name="key" value="${key!.id}"`);
    const revoked = await owner.post(`${base()}/keys/revoke`, { [CSRF_FIELD_NAME]: csrfTokenIn(confirm.body), key: key!.id });
    expect(revoked.status).toBe(303);
    expect(revoked.location).toBe(`${base()}/keys?revoked=${key!.id}`);
    expect((await owner.get(revoked.location!)).body).toContain(`Revoked the key ${key!.prefix}…: requests with it are refused`);
    expect((await apiSettings(shop.site.secretKey)).status).toBe(401);
    // A revoked key has no confirmation page, and revoking it again records nothing more.
    expect((await owner.get(`${base()}/keys/revoke?key=${key!.id}`)).location).toBe(`${base()}/keys`);
    await owner.post(`${base()}/keys/revoke`, { [CSRF_FIELD_NAME]: await csrf(owner), key: key!.id });
    expect(await auditWords()).toEqual([`<i>Ana</i> revoked the secret key ${key!.prefix}…`]);
  });

  it('another shop’s key cannot be revoked from this shop', async () => {
    const other = await createSite(database.db, { name: 'Other', origins: ['https://other.example'] }, undefined);
    const [otherKey] = await listSecretKeys(database.db, other.id);
    const owner = await signedIn(shop.owner);
    const response = await owner.post(`${base()}/keys/revoke`, { [CSRF_FIELD_NAME]: await csrf(owner), key: otherKey!.id });
    expect(response.status).toBe(404);
    expect((await apiSettings(other.secretKey)).status).toBe(200);
  });

  it('an editor and a viewer get 403 for the keys and audit pages, and no link to them', async () => {
    for (const userId of [shop.editor, shop.viewer]) {
      const browser = await signedIn(userId);
      for (const path of ['keys', 'keys/revoke', 'audit', 'team/remove']) {
        const response = await browser.get(`${base()}/${path}`);
        expect(response.status, path).toBe(403);
        expect(response.body).not.toContain(shop.site.publishableKey);
      }
      const install = await browser.get(`${base()}/install`);
      expect(install.body).not.toContain('>Keys</a>');
      expect(install.body).not.toContain('>Audit log</a>');
      expect(install.body).toContain('>Team</a>');
    }
  });
});

describe('team', () => {
  it('every member may read the team; only an owner sees the controls and the invites', async () => {
    const owner = await (await signedIn(shop.owner)).get(`${base()}/team`);
    expect(owner.status).toBe(200);
    expect(owner.body).toContain('&lt;i&gt;Ana&lt;/i&gt;');
    expect(owner.body).not.toContain('<i>Ana</i>');
    expect(owner.body).toContain(`editor${counter}@shop.example`);
    expect(owner.body).toContain('name="role"');
    expect(owner.body).toContain('Invite someone');
    for (const userId of [shop.editor, shop.viewer]) {
      const page = await (await signedIn(userId)).get(`${base()}/team`);
      expect(page.status).toBe(200);
      expect(page.body).toContain(`owner${counter}@shop.example`);
      expect(page.body).not.toContain('name="role"');
      expect(page.body).not.toContain('Invite someone');
      expect(page.body).toContain('can see the team but not change it');
    }
  });

  it('an editor and a viewer cannot change roles, remove, invite or withdraw, and nothing changes', async () => {
    const owner = await signedIn(shop.owner);
    await owner.submit(`${base()}/team`, { email: 'pending@shop.example', role: 'viewer' }, { action: `${base()}/team/invite` });
    const [invite] = await database.db.selectFrom('invites').select('id').where('site_id', '=', shop.site.id).execute();
    const before = await shopState();
    for (const userId of [shop.editor, shop.viewer]) {
      const browser = await signedIn(userId);
      const token = await csrf(browser);
      const attempts: Array<[string, Record<string, string>]> = [
        ['team/role', { user: userId, role: 'owner' }],
        ['team/role', { user: shop.owner, role: 'viewer' }],
        ['team/remove', { user: shop.owner }],
        ['team/invite', { email: 'sneaky@shop.example', role: 'owner' }],
        ['team/invites/revoke', { invite: invite!.id }],
        ['keys', { name: 'sneaky' }],
        ['keys/revoke', { key: (await listSecretKeys(database.db, shop.site.id))[0]!.id }],
      ];
      for (const [path, form] of attempts) {
        const response = await browser.post(`${base()}/${path}`, { [CSRF_FIELD_NAME]: token, ...form });
        expect(response.status, path).toBe(403);
        expect(response.body).toContain('Nothing was changed');
      }
    }
    expect(await shopState()).toEqual(before);
  });

  it('invites by email and role: the link is shown once, opens in another browser, and joins with that role', async () => {
    const owner = await signedIn(shop.owner);
    const response = await owner.submit(`${base()}/team`, { email: ' New.Person@Shop.Example ', role: 'editor' }, { action: `${base()}/team/invite` });
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const url = /<code>(http:\/\/localhost:8787\/dashboard\/invite\/[A-Za-z0-9_-]{43})<\/code>/.exec(response.body)?.[1];
    expect(url).toBeDefined();
    expect(response.body).toContain('data-copy-target="invite-link"');
    const team = await owner.get(`${base()}/team`);
    expect(team.body).toContain('new.person@shop.example');
    expect(team.body).not.toContain(url!);

    const path = new URL(url!).pathname;
    const stranger = new TestBrowser(app);
    const joined = await stranger.submit(path, { name: 'Newcomer', password: PASSWORD, confirm: PASSWORD });
    expect(joined.status).toBe(303);
    const user = await findUserByEmail(database.db, 'new.person@shop.example');
    const membership = await database.db.selectFrom('memberships').select('role').where('site_id', '=', shop.site.id).where('user_id', '=', user!.id).executeTakeFirst();
    expect(membership?.role).toBe('editor');
    expect(await auditWords()).toEqual(['Newcomer joined the shop as an editor', '<i>Ana</i> invited new.person@shop.example as an editor']);
  });

  it('refuses an invite for a member or a non-address, keeping what was typed', async () => {
    const owner = await signedIn(shop.owner);
    const before = await shopState();
    const member = await owner.submit(`${base()}/team`, { email: `Viewer${counter}@shop.example`, role: 'owner' }, { action: `${base()}/team/invite` });
    expect(member.status).toBe(422);
    expect(member.body).toContain('is already a member (viewer)');
    const bad = await owner.submit(`${base()}/team`, { email: 'not an email', role: 'viewer' }, { action: `${base()}/team/invite` });
    expect(bad.status).toBe(422);
    expect(bad.body).toContain('is not an email address');
    expect(bad.body).toContain('value="not an email"');
    expect(await shopState()).toEqual(before);
  });

  it('withdraws a pending invite: its link stops working', async () => {
    const owner = await signedIn(shop.owner);
    const made = await owner.submit(`${base()}/team`, { email: 'later@shop.example', role: 'viewer' }, { action: `${base()}/team/invite` });
    const path = new URL(/<code>([^<]+)<\/code>/.exec(made.body)![1]!).pathname;
    const [invite] = await database.db.selectFrom('invites').select('id').where('site_id', '=', shop.site.id).execute();
    const withdrawn = await owner.submit(`${base()}/team`, { invite: invite!.id }, { action: `${base()}/team/invites/revoke` });
    expect(withdrawn.location).toBe(`${base()}/team?done=withdrawn`);
    expect((await new TestBrowser(app).get(path)).status).toBe(404);
    expect((await owner.get(`${base()}/team`)).body).not.toContain('later@shop.example');
    expect(await auditWords()).toEqual(['<i>Ana</i> withdrew the invite for later@shop.example', '<i>Ana</i> invited later@shop.example as a viewer']);
  });

  it('the only owner cannot be made an editor or removed; with a second owner, both work', async () => {
    const owner = await signedIn(shop.owner);
    const before = await shopState();
    const demote = await owner.submit(`${base()}/team`, { user: shop.owner, role: 'editor' }, { action: `${base()}/team/role` });
    expect(demote.status).toBe(422);
    expect(demote.body).toContain('is the only owner of');
    expect(demote.body).toContain('a shop must keep at least one owner');
    const remove = await owner.submit(`${base()}/team`, { user: shop.owner }, { action: `${base()}/team/remove` });
    expect(remove.status).toBe(422);
    expect(remove.body).toContain('is the only owner of');
    expect(await shopState()).toEqual(before);

    const promote = await owner.submit(`${base()}/team`, { user: shop.editor, role: 'owner' }, { action: `${base()}/team/role` });
    expect(promote.location).toBe(`${base()}/team?done=role`);
    const confirm = await owner.get(`${base()}/team/remove?user=${shop.viewer}`);
    expect(confirm.body).toContain(`viewer${counter}@shop.example will no longer be able to open this shop`);
    const removed = await owner.post(`${base()}/team/remove`, { [CSRF_FIELD_NAME]: csrfTokenIn(confirm.body), user: shop.viewer });
    expect(removed.location).toBe(`${base()}/team?done=removed`);
    expect((await (await signedIn(shop.viewer)).get(`${base()}/team`)).status).toBe(404);
    const selfDemote = await owner.submit(`${base()}/team`, { user: shop.owner, role: 'viewer' }, { action: `${base()}/team/role` });
    expect(selfDemote.status).toBe(303);
    expect(await auditWords()).toEqual([
      `<i>Ana</i> made owner${counter}@shop.example a viewer (was an owner)`,
      `<i>Ana</i> removed viewer${counter}@shop.example (viewer) from the shop`,
      `<i>Ana</i> made editor${counter}@shop.example an owner (was an editor)`,
    ]);
  });
});

describe('audit log page', () => {
  it('shows each kind of change in words, escaped, newest first, to an owner', async () => {
    const owner = await signedIn(shop.owner);
    await owner.submit(`${base()}/install`, { name: 'Renamed <shop>', origins: 'https://shop.example\nhttps://www.shop.example' });
    await owner.submit(`${base()}/keys`, { name: 'erp' });
    const page = await owner.get(`${base()}/audit`);
    expect(page.status).toBe(200);
    const words = [...page.body.matchAll(/<span class="audit-words">([^<]*)<\/span>/g)].map((match) => match[1]);
    expect(words[0]).toMatch(/^&lt;i&gt;Ana&lt;\/i&gt; created the secret key &#39;erp&#39; \(sk_[A-Za-z0-9_-]{8}…\)$/);
    expect(words[1]).toBe('&lt;i&gt;Ana&lt;/i&gt; renamed the shop from “Shop &lt;b&gt;' + counter + '&lt;/b&gt;” to “Renamed &lt;shop&gt;” and allowed https://www.shop.example');
    expect(page.body).toContain('2030-01-15 09:00 UTC');
    expect(page.body).not.toContain('Older entries');
  });

  it('pages back through older entries with a cursor link', async () => {
    const owner = await signedIn(shop.owner);
    for (let i = 0; i < 51; i += 1) {
      await recordAudit(database.db, shop.site.id, { kind: 'admin_token' }, { action: 'member_invited', email: `p${i}@shop.example`, role: 'viewer' }, new Date(NOW.getTime() + i * 1000));
    }
    const first = await owner.get(`${base()}/audit`);
    expect(first.body).toContain('the admin token invited p50@shop.example');
    expect(first.body).not.toContain('invited p0@shop.example');
    const older = /href="([^"]*audit\?before=[^"]+)">Older entries/.exec(first.body)?.[1];
    expect(older).toBeDefined();
    const second = await owner.get(older!);
    expect(second.status).toBe(200);
    expect(second.body).toContain('Older changes');
    expect(second.body).toContain('the admin token invited p0@shop.example as a viewer');
    expect(second.body).not.toContain('invited p1@shop.example');
    expect(second.body).not.toContain('Older entries');
  });

  it('is another shop’s 404', async () => {
    const other = await createSite(database.db, { name: 'Elsewhere', origins: ['https://elsewhere.example'] }, undefined);
    const owner = await signedIn(shop.owner);
    for (const path of ['audit', 'keys', 'team']) expect((await owner.get(`/dashboard/sites/${other.id}/${path}`)).status).toBe(404);
  });
});
