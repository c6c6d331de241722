import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { consumeInvite, listPendingInvites, revokeInvite } from '../db/invites.ts';
import { consumePasswordLink, deleteExpiredPasswordLinks } from '../db/password-links.ts';
import { insertSite } from '../db/sites.ts';
import { findUserByEmail, insertUser } from '../db/users.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { DAY_MS, HOUR_MS, SECOND_MS } from '../time.ts';
import { LoginRateLimiter } from './login-rate-limit.ts';
import { CLI_ACTOR } from '../audit/audit-log.ts';
import { hashPassword } from './password.ts';
import { resolveSession, startSession } from './sessions.ts';
import { signIn } from './sign-in.ts';
import {
  INVITE_TTL_MS,
  PASSWORD_RESET_LINK_TTL_MS,
  PASSWORD_SET_LINK_TTL_MS,
  acceptInvite,
  addUserToSite,
  createInvite,
  createPasswordLink,
  usableInvite,
  usablePasswordLink,
  usePasswordLink,
} from './links.ts';
import { tokenHash } from './tokens.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const at = (ms: number) => new Date(NOW.getTime() + ms);
const PASSWORD = 'a long enough password';

let database: TestDatabase;
let siteId: string;
let ownerId: string;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());
beforeEach(async () => {
  await database.db.deleteFrom('users').execute();
  await database.db.deleteFrom('sites').execute();
  siteId = (
    await insertSite(database.db, {
      name: 'Shop',
      allowed_origins: ['https://shop.example'],
      publishable_key: `pk_${crypto.randomUUID()}`,
      vapid_public_key: 'public',
      vapid_private_key: 'private',
    })
  ).id;
  ownerId = (await insertUser(database.db, { email: 'owner@shop.example', passwordHash: await hashPassword(PASSWORD) }, NOW))!.id;
  await database.db.insertInto('memberships').values({ user_id: ownerId, site_id: siteId, role: 'owner', created_at: NOW }).execute();
});

async function roleOf(email: string): Promise<string | undefined> {
  const row = await database.db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select('role')
    .where('users.email', '=', email)
    .where('memberships.site_id', '=', siteId)
    .executeTakeFirst();
  return row?.role;
}

async function inviteFor(email: string, role: 'owner' | 'editor' | 'viewer' = 'editor') {
  const result = await createInvite(database.db, { siteId, email, role, createdBy: ownerId }, NOW);
  if (result.outcome !== 'created') throw new Error('invite not created');
  return result;
}

describe('invites', () => {
  it('store only the hash of the link’s token, and expire after 7 days', async () => {
    const { token, invite } = await inviteFor(' New@Shop.Example ');
    expect(invite.email).toBe('new@shop.example');
    expect(invite.expires_at).toEqual(at(7 * DAY_MS));
    expect(INVITE_TTL_MS).toBe(7 * DAY_MS);
    const stored = await database.db.selectFrom('invites').select('token_hash').executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(await tokenHash(token));
    expect(await usableInvite(database.db, token, at(INVITE_TTL_MS - SECOND_MS))).toMatchObject({ email: 'new@shop.example', accountExists: false });
    expect(await usableInvite(database.db, token, at(INVITE_TTL_MS))).toBeUndefined();
    expect(await acceptInvite(database.db, { token, password: PASSWORD }, at(INVITE_TTL_MS))).toEqual({ outcome: 'invalid_link' });
  });

  it('refuse to invite something that is not an email address', async () => {
    expect(await createInvite(database.db, { siteId, email: 'not an email', role: 'viewer', createdBy: ownerId }, NOW)).toEqual({ outcome: 'invalid_email' });
  });

  it('make a new account with the invited role, which can then sign in', async () => {
    const { token } = await inviteFor('new@shop.example', 'editor');
    expect(await acceptInvite(database.db, { token }, NOW)).toEqual({ outcome: 'password_required' });
    expect((await acceptInvite(database.db, { token, password: 'short' }, NOW)).outcome).toBe('invalid_password');
    const accepted = await acceptInvite(database.db, { token, password: PASSWORD, name: 'Nina' }, NOW);
    expect(accepted).toMatchObject({ outcome: 'accepted', siteId, role: 'editor', createdUser: true });
    expect(await roleOf('new@shop.example')).toBe('editor');
    expect((await findUserByEmail(database.db, 'new@shop.example'))?.name).toBe('Nina');
    const signedIn = await signIn(database.db, { email: 'new@shop.example', password: PASSWORD, address: undefined }, NOW, {
      limiter: new LoginRateLimiter(() => NOW.getTime()),
    });
    expect(signedIn.outcome).toBe('signed_in');
  });

  it('work once', async () => {
    const { token } = await inviteFor('new@shop.example');
    expect((await acceptInvite(database.db, { token, password: PASSWORD }, NOW)).outcome).toBe('accepted');
    expect(await acceptInvite(database.db, { token, password: PASSWORD }, NOW)).toEqual({ outcome: 'invalid_link' });
    expect(await usableInvite(database.db, token, NOW)).toBeUndefined();
  });

  it('used twice at the same moment let exactly one use through', async () => {
    const { token } = await inviteFor('new@shop.example');
    const hash = await tokenHash(token);
    const uses = await Promise.all(Array.from({ length: 8 }, () => consumeInvite(database.db, hash, NOW)));
    expect(uses.filter((use) => use !== undefined)).toHaveLength(1);

    const second = await inviteFor('other@shop.example');
    const accepts = await Promise.all([
      acceptInvite(database.db, { token: second.token, password: PASSWORD }, NOW),
      acceptInvite(database.db, { token: second.token, password: PASSWORD }, NOW),
    ]);
    expect(accepts.map((result) => result.outcome).sort()).toEqual(['accepted', 'invalid_link']);
    expect(await database.db.selectFrom('users').select('id').where('email', '=', 'other@shop.example').execute()).toHaveLength(1);
  });

  it('add an existing account without touching its password, and never demote a member', async () => {
    const viewerInvite = await inviteFor('owner@shop.example', 'viewer');
    const accepted = await acceptInvite(database.db, { token: viewerInvite.token, password: 'an attacker’s password' }, NOW);
    expect(accepted).toMatchObject({ outcome: 'accepted', userId: ownerId, role: 'owner', createdUser: false });
    expect(await roleOf('owner@shop.example')).toBe('owner');
    const signedIn = await signIn(database.db, { email: 'owner@shop.example', password: PASSWORD, address: undefined }, NOW, {
      limiter: new LoginRateLimiter(() => NOW.getTime()),
    });
    expect(signedIn.outcome).toBe('signed_in');
  });

  it('can be withdrawn before use, and are listed while pending', async () => {
    const { token, invite } = await inviteFor('new@shop.example');
    await inviteFor('later@shop.example');
    expect((await listPendingInvites(database.db, siteId, NOW)).map((i) => i.email).sort()).toEqual(['later@shop.example', 'new@shop.example']);
    expect(await revokeInvite(database.db, siteId, invite.id, NOW)).toBe(true);
    expect(await revokeInvite(database.db, siteId, invite.id, NOW)).toBe(false);
    expect(await acceptInvite(database.db, { token, password: PASSWORD }, NOW)).toEqual({ outcome: 'invalid_link' });
    expect((await listPendingInvites(database.db, siteId, NOW)).map((i) => i.email)).toEqual(['later@shop.example']);
  });

  it('of one site cannot be withdrawn through another', async () => {
    const { invite } = await inviteFor('new@shop.example');
    const otherSite = await insertSite(database.db, {
      name: 'Other',
      allowed_origins: ['https://other.example'],
      publishable_key: `pk_${crypto.randomUUID()}`,
      vapid_public_key: 'public',
      vapid_private_key: 'private',
    });
    expect(await revokeInvite(database.db, otherSite.id, invite.id, NOW)).toBe(false);
  });
});

describe('password links', () => {
  it('reset a password, within an hour, and end every session of the user', async () => {
    const session = await startSession(database.db, { userId: ownerId }, NOW);
    const { token, link } = await createPasswordLink(database.db, { userId: ownerId, purpose: 'reset', createdBy: null }, NOW);
    expect(link.expires_at).toEqual(at(HOUR_MS));
    expect(PASSWORD_RESET_LINK_TTL_MS).toBe(HOUR_MS);
    expect(await usablePasswordLink(database.db, token, at(HOUR_MS))).toBeUndefined();
    expect(await usePasswordLink(database.db, { token, password: 'a brand new password' }, at(HOUR_MS))).toEqual({ outcome: 'invalid_link' });

    const result = await usePasswordLink(database.db, { token, password: 'a brand new password' }, at(HOUR_MS - SECOND_MS));
    expect(result).toEqual({ outcome: 'password_set', userId: ownerId, sessionsEnded: 1 });
    expect(await resolveSession(database.db, session.token, at(HOUR_MS - SECOND_MS))).toBeUndefined();
    const limiter = new LoginRateLimiter(() => NOW.getTime());
    expect((await signIn(database.db, { email: 'owner@shop.example', password: 'a brand new password', address: undefined }, NOW, { limiter })).outcome).toBe('signed_in');
    expect((await signIn(database.db, { email: 'owner@shop.example', password: PASSWORD, address: undefined }, NOW, { limiter })).outcome).toBe('invalid_credentials');
  });

  it('work once', async () => {
    const { token } = await createPasswordLink(database.db, { userId: ownerId, purpose: 'reset', createdBy: null }, NOW);
    expect((await usePasswordLink(database.db, { token, password: 'a brand new password' }, NOW)).outcome).toBe('password_set');
    expect(await usePasswordLink(database.db, { token, password: 'yet another password' }, NOW)).toEqual({ outcome: 'invalid_link' });
  });

  it('used twice at the same moment let exactly one use through', async () => {
    const { token } = await createPasswordLink(database.db, { userId: ownerId, purpose: 'reset', createdBy: null }, NOW);
    const hash = await tokenHash(token);
    const uses = await Promise.all(Array.from({ length: 8 }, () => consumePasswordLink(database.db, hash, NOW)));
    expect(uses.filter((use) => use !== undefined)).toHaveLength(1);

    const second = await createPasswordLink(database.db, { userId: ownerId, purpose: 'reset', createdBy: null }, NOW);
    const results = await Promise.all([
      usePasswordLink(database.db, { token: second.token, password: 'first racing password' }, NOW),
      usePasswordLink(database.db, { token: second.token, password: 'second racing password' }, NOW),
    ]);
    expect(results.map((result) => result.outcome).sort()).toEqual(['invalid_link', 'password_set']);
  });

  it('stop working when a newer one is made for the same user', async () => {
    const first = await createPasswordLink(database.db, { userId: ownerId, purpose: 'reset', createdBy: null }, NOW);
    const second = await createPasswordLink(database.db, { userId: ownerId, purpose: 'reset', createdBy: null }, NOW);
    expect(await usablePasswordLink(database.db, first.token, NOW)).toBeUndefined();
    expect(await usePasswordLink(database.db, { token: first.token, password: 'a brand new password' }, NOW)).toEqual({ outcome: 'invalid_link' });
    expect((await usePasswordLink(database.db, { token: second.token, password: 'a brand new password' }, NOW)).outcome).toBe('password_set');
  });

  it('say what is wrong with a password that is too long, and stay usable', async () => {
    const { token } = await createPasswordLink(database.db, { userId: ownerId, purpose: 'reset', createdBy: null }, NOW);
    const result = await usePasswordLink(database.db, { token, password: 'x'.repeat(1025) }, NOW);
    expect(result).toEqual({
      outcome: 'invalid_password',
      problem: { code: 'password_too_long', message: 'The password is too long: at most 1024 bytes, it has 1025.' },
    });
    expect(await usablePasswordLink(database.db, token, NOW)).toBeDefined();
  });

  it('past their expiry are swept by housekeeping, used or not, and the live ones kept', async () => {
    const otherId = (await insertUser(database.db, { email: 'other@shop.example' }, NOW))!.id;
    await createPasswordLink(database.db, { userId: ownerId, purpose: 'reset', createdBy: null }, NOW);
    const live = await createPasswordLink(database.db, { userId: otherId, purpose: 'set', createdBy: null }, NOW);
    expect(await deleteExpiredPasswordLinks(database.db, at(HOUR_MS))).toBe(1);
    const left = await database.db.selectFrom('password_links').select('id').execute();
    expect(left.map((row) => row.id)).toEqual([live.link.id]);
  });

  it('refuse tokens that are malformed or unknown', async () => {
    expect(await usePasswordLink(database.db, { token: 'nope', password: PASSWORD }, NOW)).toEqual({ outcome: 'invalid_link' });
    expect(await usePasswordLink(database.db, { token: 'A'.repeat(43), password: PASSWORD }, NOW)).toEqual({ outcome: 'invalid_link' });
  });
});

describe('adding a user to a site (first start, `user create`)', () => {
  it('makes the account without a password and a 24-hour link to set one', async () => {
    const result = await addUserToSite(database.db, { email: 'New@Shop.Example', siteId, role: 'viewer' }, NOW);
    expect(result).toMatchObject({ outcome: 'added', createdUser: true, role: 'viewer', user: { email: 'new@shop.example' } });
    if (result.outcome !== 'added') return;
    expect(result.user).not.toHaveProperty('password_hash');
    expect(result.passwordLink?.link).toMatchObject({ purpose: 'set', expires_at: at(PASSWORD_SET_LINK_TTL_MS) });
    expect(PASSWORD_SET_LINK_TTL_MS).toBe(24 * HOUR_MS);
    expect(await roleOf('new@shop.example')).toBe('viewer');
    const set = await usePasswordLink(database.db, { token: result.passwordLink!.token, password: PASSWORD }, NOW);
    expect(set.outcome).toBe('password_set');
  });

  it('run again before the password is set, gives a fresh link and voids the old one', async () => {
    const first = await addUserToSite(database.db, { email: 'new@shop.example', siteId, role: 'editor' }, NOW);
    const again = await addUserToSite(database.db, { email: 'new@shop.example', siteId, role: 'editor' }, NOW);
    if (first.outcome !== 'added' || again.outcome !== 'added') throw new Error('not added');
    expect(again.createdUser).toBe(false);
    expect(await usablePasswordLink(database.db, first.passwordLink!.token, NOW)).toBeUndefined();
    expect(await usablePasswordLink(database.db, again.passwordLink!.token, NOW)).toBeDefined();
  });

  it('gives no link to an account that has a password, and changes its role as asked', async () => {
    await addUserToSite(database.db, { email: 'new@shop.example', siteId, role: 'viewer' }, NOW);
    await database.db.updateTable('users').set({ password_hash: await hashPassword(PASSWORD) }).where('email', '=', 'new@shop.example').execute();
    const result = await addUserToSite(database.db, { email: 'new@shop.example', siteId, role: 'editor' }, NOW);
    expect(result).toMatchObject({ outcome: 'added', createdUser: false, role: 'editor' });
    expect(result.outcome === 'added' && result.passwordLink).toBeUndefined();
    expect(await roleOf('new@shop.example')).toBe('editor');
  });

  it('refuses to demote a site’s only owner', async () => {
    expect(await addUserToSite(database.db, { email: 'owner@shop.example', siteId, role: 'viewer' }, NOW)).toEqual({ outcome: 'last_owner' });
    expect(await roleOf('owner@shop.example')).toBe('owner');
  });

  it('with an actor, records a membership added or a role changed, and nothing when nothing changed', async () => {
    const audit = () =>
      database.db.selectFrom('audit_log').select(['actor_kind', 'action', 'target', 'details']).where('site_id', '=', siteId).where('actor_kind', '=', 'cli').orderBy('id').execute();
    const before = (await audit()).length;
    await addUserToSite(database.db, { email: 'Cli@Shop.Example', siteId, role: 'viewer', actor: CLI_ACTOR }, NOW);
    await addUserToSite(database.db, { email: 'cli@shop.example', siteId, role: 'viewer', actor: CLI_ACTOR }, NOW);
    await addUserToSite(database.db, { email: 'cli@shop.example', siteId, role: 'editor', actor: CLI_ACTOR }, NOW);
    expect(await addUserToSite(database.db, { email: 'owner@shop.example', siteId, role: 'viewer', actor: CLI_ACTOR }, NOW)).toEqual({ outcome: 'last_owner' });
    // Without an actor (the first start's owner), no row.
    await addUserToSite(database.db, { email: 'quiet@shop.example', siteId, role: 'viewer' }, NOW);
    expect((await audit()).slice(before)).toEqual([
      { actor_kind: 'cli', action: 'member_added', target: 'cli@shop.example', details: { email: 'cli@shop.example', role: 'viewer' } },
      { actor_kind: 'cli', action: 'member_role_changed', target: 'cli@shop.example', details: { email: 'cli@shop.example', from: 'viewer', to: 'editor' } },
    ]);
  });
});
