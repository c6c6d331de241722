import type { Selectable } from 'kysely';
import type { Db, Role, UsersTable } from './database.ts';
import { isUuid } from './sites.ts';

export type UserRow = Selectable<UsersTable>;
/** A user as pages and other users may see it: never the password hash. */
export type UserSummary = Omit<UserRow, 'password_hash'>;

const SUMMARY_COLUMNS = ['id', 'email', 'name', 'password_changed_at', 'last_sign_in_at', 'created_at'] as const;

/**
 * Adds a user; `email` must already be normalised (server/accounts/email.ts). Returns undefined
 * when that email has an account already (the unique constraint decides, so two at once cannot
 * both create one).
 */
export async function insertUser(
  db: Db,
  user: { email: string; name?: string | null; passwordHash?: string | null },
  now: Date,
): Promise<UserSummary | undefined> {
  return db
    .insertInto('users')
    .values({
      email: user.email,
      name: user.name ?? null,
      password_hash: user.passwordHash ?? null,
      password_changed_at: user.passwordHash ? now : null,
      created_at: now,
    })
    .onConflict((oc) => oc.column('email').doNothing())
    .returning(SUMMARY_COLUMNS)
    .executeTakeFirst();
}

/** By normalised email, with the password hash: for signing in. */
export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  if (!isUuid(id)) return undefined;
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A new password (set, changed or reset): stamps when, which is what ends older sessions' claim. */
export async function setPasswordHash(db: Db, userId: string, passwordHash: string, now: Date): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash, password_changed_at: now }).where('id', '=', userId).execute();
}

/**
 * The same password hashed at today's cost, replacing `expected` only if it is still stored: a
 * password changed meanwhile is never overwritten by the rehash of the old one.
 */
export async function replacePasswordHash(db: Db, userId: string, expected: string, passwordHash: string): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ password_hash: passwordHash })
    .where('id', '=', userId)
    .where('password_hash', '=', expected)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function recordSignIn(db: Db, userId: string, now: Date): Promise<void> {
  await db.updateTable('users').set({ last_sign_in_at: now }).where('id', '=', userId).execute();
}

export async function setUserName(db: Db, userId: string, name: string | null): Promise<void> {
  await db.updateTable('users').set({ name }).where('id', '=', userId).execute();
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The people of one site with their roles (the Users page), owners first, then by email. */
export async function listUsersOfSite(db: Db, siteId: string): Promise<Array<UserSummary & { role: Role }>> {
  if (!isUuid(siteId)) return [];
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(SUMMARY_COLUMNS.map((column) => `users.${column}` as const))
    .select('memberships.role')
    .where('memberships.site_id', '=', siteId)
    .orderBy((eb) => eb.case().when('memberships.role', '=', 'owner').then(0).when('memberships.role', '=', 'editor').then(1).else(2).end())
    .orderBy('users.email')
    .execute();
}

export interface UserListing extends UserSummary {
  hasPassword: boolean;
  memberships: Array<{ siteId: string; siteName: string; role: Role }>;
}

/**
 * Every account with whether it has a password and its roles (`pushcart user list`), by email;
 * with `siteId`, only the people of that site. Never the password hash itself.
 */
export async function listUsersWithMemberships(db: Db, siteId?: string): Promise<UserListing[]> {
  if (siteId !== undefined && !isUuid(siteId)) return [];
  let users = db
    .selectFrom('users')
    .select(SUMMARY_COLUMNS.map((column) => `users.${column}` as const))
    .select((eb) => eb('users.password_hash', 'is not', null).as('has_password'))
    .orderBy('users.email');
  if (siteId !== undefined) {
    users = users.where((eb) => eb.exists(eb.selectFrom('memberships').select('memberships.user_id').whereRef('memberships.user_id', '=', 'users.id').where('memberships.site_id', '=', siteId)));
  }
  const rows = await users.execute();
  if (rows.length === 0) return [];
  const memberships = await db
    .selectFrom('memberships')
    .innerJoin('sites', 'sites.id', 'memberships.site_id')
    .select(['memberships.user_id', 'memberships.site_id', 'sites.name', 'memberships.role'])
    .where('memberships.user_id', 'in', rows.map((row) => row.id))
    .orderBy('sites.name')
    .orderBy('sites.id')
    .execute();
  return rows.map(({ has_password: hasPassword, ...user }) => ({
    ...user,
    hasPassword: Boolean(hasPassword),
    memberships: memberships.filter((row) => row.user_id === user.id).map((row) => ({ siteId: row.site_id, siteName: row.name, role: row.role })),
  }));
}
