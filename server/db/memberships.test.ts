import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { normalizeEmail } from '../accounts/email.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { addMembership, changeMembership, findSiteForMember, listSitesOfMember, upsertMembership } from './memberships.ts';
import { insertSite } from './sites.ts';
import { countUsers, insertUser, listUsersOfSite } from './users.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));

let database: TestDatabase;
let siteA: string;
let siteB: string;
let alice: string;
let bob: string;
let carol: string;

async function site(name: string): Promise<string> {
  const row = await insertSite(database.db, {
    name,
    allowed_origins: [`https://${name.toLowerCase()}.example`],
    publishable_key: `pk_${crypto.randomUUID()}`,
    vapid_public_key: 'public',
    vapid_private_key: 'private',
  });
  return row.id;
}

async function user(email: string): Promise<string> {
  return (await insertUser(database.db, { email: normalizeEmail(email)! }, NOW))!.id;
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());
beforeEach(async () => {
  await database.db.deleteFrom('users').execute();
  await database.db.deleteFrom('sites').execute();
  siteA = await site('Alpha');
  siteB = await site('Beta');
  alice = await user('alice@shop.example');
  bob = await user('bob@shop.example');
  carol = await user('carol@shop.example');
});

describe('users', () => {
  it('are unique by email, whatever its case once normalised', async () => {
    expect(await insertUser(database.db, { email: normalizeEmail('ALICE@Shop.Example')! }, NOW)).toBeUndefined();
    expect(await countUsers(database.db)).toBe(3);
  });

  it('keep markup in their names as text', async () => {
    const id = (await insertUser(database.db, { email: 'dave@shop.example', name: '<script>alert(1)</script>' }, NOW))!.id;
    await upsertMembership(database.db, { userId: id, siteId: siteA, role: 'viewer' }, NOW);
    const listed = await listUsersOfSite(database.db, siteA);
    expect(listed.find((u) => u.id === id)?.name).toBe('<script>alert(1)</script>');
  });
});

describe('a site', () => {
  it('is reachable only through a membership, with its role', async () => {
    await upsertMembership(database.db, { userId: alice, siteId: siteA, role: 'owner' }, NOW);
    await upsertMembership(database.db, { userId: bob, siteId: siteB, role: 'editor' }, NOW);
    expect(await findSiteForMember(database.db, alice, siteA)).toMatchObject({ site: { id: siteA, name: 'Alpha' }, role: 'owner' });
    expect(await findSiteForMember(database.db, alice, siteB)).toBeUndefined();
    expect(await findSiteForMember(database.db, bob, siteA)).toBeUndefined();
    expect(await findSiteForMember(database.db, carol, siteA)).toBeUndefined();
    expect(await findSiteForMember(database.db, alice, 'not-a-uuid')).toBeUndefined();
    expect(await listSitesOfMember(database.db, alice)).toEqual([{ siteId: siteA, name: 'Alpha', role: 'owner' }]);
    expect(await listSitesOfMember(database.db, carol)).toEqual([]);
  });

  it('lists its people owners first, and nobody from other sites', async () => {
    await upsertMembership(database.db, { userId: carol, siteId: siteA, role: 'viewer' }, NOW);
    await upsertMembership(database.db, { userId: bob, siteId: siteA, role: 'owner' }, NOW);
    await upsertMembership(database.db, { userId: alice, siteId: siteA, role: 'editor' }, NOW);
    await upsertMembership(database.db, { userId: alice, siteId: siteB, role: 'owner' }, NOW);
    const people = await listUsersOfSite(database.db, siteA);
    expect(people.map((p) => [p.email, p.role])).toEqual([
      ['bob@shop.example', 'owner'],
      ['alice@shop.example', 'editor'],
      ['carol@shop.example', 'viewer'],
    ]);
    expect(people[0]).not.toHaveProperty('password_hash');
  });

  it('refuses a role outside the closed set', async () => {
    await expect(
      database.db.insertInto('memberships').values({ user_id: alice, site_id: siteA, role: 'admin' as 'owner', created_at: NOW }).execute(),
    ).rejects.toThrow();
  });
});

describe('changing a membership', () => {
  it('changes a role or removes a member', async () => {
    await upsertMembership(database.db, { userId: alice, siteId: siteA, role: 'owner' }, NOW);
    await upsertMembership(database.db, { userId: bob, siteId: siteA, role: 'viewer' }, NOW);
    expect(await changeMembership(database.db, siteA, bob, 'editor')).toBe('changed');
    expect((await findSiteForMember(database.db, bob, siteA))?.role).toBe('editor');
    expect(await changeMembership(database.db, siteA, bob, undefined)).toBe('changed');
    expect(await findSiteForMember(database.db, bob, siteA)).toBeUndefined();
    expect(await changeMembership(database.db, siteA, bob, undefined)).toBe('not_found');
    expect(await changeMembership(database.db, siteB, alice, 'viewer')).toBe('not_found');
  });

  it('never leaves a site without an owner', async () => {
    await upsertMembership(database.db, { userId: alice, siteId: siteA, role: 'owner' }, NOW);
    expect(await changeMembership(database.db, siteA, alice, 'editor')).toBe('last_owner');
    expect(await changeMembership(database.db, siteA, alice, undefined)).toBe('last_owner');
    expect(await changeMembership(database.db, siteA, alice, 'owner')).toBe('changed');
    await upsertMembership(database.db, { userId: bob, siteId: siteA, role: 'owner' }, NOW);
    expect(await changeMembership(database.db, siteA, alice, 'viewer')).toBe('changed');
    expect(await changeMembership(database.db, siteA, bob, 'viewer')).toBe('last_owner');
  });

  it('lets only one of two owners demoting each other at once succeed', async () => {
    await upsertMembership(database.db, { userId: alice, siteId: siteA, role: 'owner' }, NOW);
    await upsertMembership(database.db, { userId: bob, siteId: siteA, role: 'owner' }, NOW);
    const results = await Promise.all([changeMembership(database.db, siteA, alice, 'viewer'), changeMembership(database.db, siteA, bob, 'viewer')]);
    expect(results.sort()).toEqual(['changed', 'last_owner']);
    const owners = await database.db.selectFrom('memberships').select('user_id').where('site_id', '=', siteA).where('role', '=', 'owner').execute();
    expect(owners).toHaveLength(1);
  });

  it('adding keeps an existing member’s role', async () => {
    await upsertMembership(database.db, { userId: alice, siteId: siteA, role: 'owner' }, NOW);
    expect(await addMembership(database.db, { userId: alice, siteId: siteA, role: 'viewer' }, NOW)).toEqual({ role: 'owner', added: false });
    expect(await addMembership(database.db, { userId: bob, siteId: siteA, role: 'viewer' }, NOW)).toEqual({ role: 'viewer', added: true });
  });

  it('ends with the site or the user', async () => {
    await upsertMembership(database.db, { userId: alice, siteId: siteA, role: 'owner' }, NOW);
    await upsertMembership(database.db, { userId: bob, siteId: siteB, role: 'owner' }, NOW);
    await database.db.deleteFrom('sites').where('id', '=', siteA).execute();
    await database.db.deleteFrom('users').where('id', '=', bob).execute();
    expect(await database.db.selectFrom('memberships').selectAll().execute()).toEqual([]);
  });
});
