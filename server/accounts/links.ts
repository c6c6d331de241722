/**
 * One-time links, since no mail server is assumed: an owner (or the CLI, or the first start) makes
 * a link and hands it over. An invite adds a person to a site with a role; a password link lets a
 * person set a first password or replace a forgotten one. Each is a random token in the link and a
 * SHA-256 in the database, expires, and works once: using one is a single conditional UPDATE,
 * inside the same transaction as what it grants, so two uses at once cannot both succeed.
 */
import { recordAudit, type AuditActor } from '../audit/audit-log.ts';
import type { Db, PasswordLinkPurpose, Role } from '../db/database.ts';
import { consumeInvite, findUsableInvite, insertInvite, setInviteUsedBy, type InviteSummary } from '../db/invites.ts';
import { addMembership, changeMembership } from '../db/memberships.ts';
import { consumePasswordLink, findUsablePasswordLink, replacePasswordLink, type PasswordLinkSummary } from '../db/password-links.ts';
import { deleteSessionsOfUser } from '../db/sessions.ts';
import { findUserByEmail, insertUser, setPasswordHash, type UserSummary } from '../db/users.ts';
import { DAY_MS, HOUR_MS } from '../time.ts';
import { normalizeEmail } from './email.ts';
import { hashPassword, passwordProblem, type PasswordHashOptions, type PasswordProblem } from './password.ts';
import { isWellFormedToken, newSecretToken, tokenHash } from './tokens.ts';

/** An invite waits a week: long enough to reach someone on holiday, short enough not to linger. */
export const INVITE_TTL_MS = 7 * DAY_MS;
/** A reset is asked for by someone at the screen now. */
export const PASSWORD_RESET_LINK_TTL_MS = HOUR_MS;
/**
 * A first password's link (the first start, `user create`) is printed in an operator's terminal
 * and may be passed on to the owner later that day.
 */
export const PASSWORD_SET_LINK_TTL_MS = 24 * HOUR_MS;

export function passwordLinkTtlMs(purpose: PasswordLinkPurpose): number {
  return purpose === 'set' ? PASSWORD_SET_LINK_TTL_MS : PASSWORD_RESET_LINK_TTL_MS;
}

export type CreateInviteResult = { outcome: 'created'; token: string; invite: InviteSummary } | { outcome: 'invalid_email' };

export async function createInvite(
  db: Db,
  input: { siteId: string; email: string; role: Role; createdBy: string | null },
  now: Date,
): Promise<CreateInviteResult> {
  const email = normalizeEmail(input.email);
  if (email === undefined) return { outcome: 'invalid_email' };
  const token = newSecretToken();
  const invite = await insertInvite(
    db,
    { tokenHash: await tokenHash(token), siteId: input.siteId, email, role: input.role, createdBy: input.createdBy, expiresAt: new Date(now.getTime() + INVITE_TTL_MS) },
    now,
  );
  return { outcome: 'created', token, invite };
}

/** The invite a link stands for, if it can still be used: what its page shows before accepting. */
export async function usableInvite(db: Db, token: string, now: Date): Promise<(InviteSummary & { accountExists: boolean }) | undefined> {
  if (!isWellFormedToken(token)) return undefined;
  const invite = await findUsableInvite(db, await tokenHash(token), now);
  if (!invite) return undefined;
  const user = await findUserByEmail(db, invite.email);
  return { ...invite, accountExists: user !== undefined };
}

export type AcceptInviteResult =
  | { outcome: 'accepted'; userId: string; siteId: string; role: Role; createdUser: boolean }
  /** Unknown, used, withdrawn or expired: one answer for all. */
  | { outcome: 'invalid_link' }
  /** The invited email has no account yet, so accepting has to set its password. */
  | { outcome: 'password_required' }
  | { outcome: 'invalid_password'; problem: PasswordProblem };

/**
 * Accepts an invite: the invited email's account (made now, with `password`, if there is none)
 * becomes a member of the site with the invited role. A person already a member keeps their role:
 * an invite never demotes anyone. Accepting does not sign in; the route then signs in as usual
 * (a person with an existing account proves it with that account's password).
 */
export async function acceptInvite(
  db: Db,
  input: { token: string; password?: string; name?: string | null },
  now: Date,
  options: PasswordHashOptions = {},
): Promise<AcceptInviteResult> {
  if (!isWellFormedToken(input.token)) return { outcome: 'invalid_link' };
  const hash = await tokenHash(input.token);
  const pending = await findUsableInvite(db, hash, now);
  if (!pending) return { outcome: 'invalid_link' };
  const existing = await findUserByEmail(db, pending.email);
  let passwordHash: string | undefined;
  if (!existing) {
    if (input.password === undefined) return { outcome: 'password_required' };
    const problem = passwordProblem(input.password);
    if (problem) return { outcome: 'invalid_password', problem };
    // Hashed before the transaction: 600,000 iterations should not hold row locks.
    passwordHash = await hashPassword(input.password, options);
  }
  return db.transaction().execute(async (trx) => {
    const invite = await consumeInvite(trx, hash, now);
    if (!invite) return { outcome: 'invalid_link' } as const;
    // The account may have appeared since the check above; a password given for it then is not used.
    const created = passwordHash === undefined ? undefined : await insertUser(trx, { email: invite.email, name: input.name ?? null, passwordHash }, now);
    const user = created ?? (await findUserByEmail(trx, invite.email));
    if (!user) return { outcome: 'password_required' } as const;
    const membership = await addMembership(trx, { userId: user.id, siteId: invite.site_id, role: invite.role }, now);
    await setInviteUsedBy(trx, invite.id, user.id);
    if (membership.added) await recordAudit(trx, invite.site_id, { kind: 'user', id: user.id, email: user.email, name: user.name }, { action: 'member_joined', email: user.email, role: membership.role }, now);
    return { outcome: 'accepted', userId: user.id, siteId: invite.site_id, role: membership.role, createdUser: created !== undefined } as const;
  });
}

export interface CreatedPasswordLink {
  token: string;
  link: PasswordLinkSummary;
}

/** Makes a password link for a user; every earlier unused one of theirs stops working. */
export async function createPasswordLink(
  db: Db,
  input: { userId: string; purpose: PasswordLinkPurpose; createdBy: string | null },
  now: Date,
): Promise<CreatedPasswordLink> {
  const token = newSecretToken();
  const link = await replacePasswordLink(
    db,
    {
      tokenHash: await tokenHash(token),
      userId: input.userId,
      purpose: input.purpose,
      createdBy: input.createdBy,
      expiresAt: new Date(now.getTime() + passwordLinkTtlMs(input.purpose)),
    },
    now,
  );
  return { token, link };
}

/** The link, if it can still be used: its page shows the form only then. */
export async function usablePasswordLink(db: Db, token: string, now: Date): Promise<PasswordLinkSummary | undefined> {
  if (!isWellFormedToken(token)) return undefined;
  return findUsablePasswordLink(db, await tokenHash(token), now);
}

export type UsePasswordLinkResult =
  | { outcome: 'password_set'; userId: string; sessionsEnded: number }
  | { outcome: 'invalid_link' }
  | { outcome: 'invalid_password'; problem: PasswordProblem };

/**
 * Sets the password a link allows and ends every session of that user: whoever knew the old
 * password, or held a session, is out.
 */
export async function usePasswordLink(
  db: Db,
  input: { token: string; password: string },
  now: Date,
  options: PasswordHashOptions = {},
): Promise<UsePasswordLinkResult> {
  if (!isWellFormedToken(input.token)) return { outcome: 'invalid_link' };
  const problem = passwordProblem(input.password);
  if (problem) return { outcome: 'invalid_password', problem };
  const hash = await tokenHash(input.token);
  // A dead link is answered without spending a password hash on it.
  if (!(await findUsablePasswordLink(db, hash, now))) return { outcome: 'invalid_link' };
  const passwordHash = await hashPassword(input.password, options);
  return db.transaction().execute(async (trx) => {
    const link = await consumePasswordLink(trx, hash, now);
    if (!link) return { outcome: 'invalid_link' } as const;
    await setPasswordHash(trx, link.user_id, passwordHash, now);
    const sessionsEnded = await deleteSessionsOfUser(trx, link.user_id);
    return { outcome: 'password_set', userId: link.user_id, sessionsEnded } as const;
  });
}

export type AddUserToSiteResult =
  | {
      outcome: 'added';
      user: UserSummary;
      createdUser: boolean;
      role: Role;
      /** A link to set the first password, when the account has none yet. */
      passwordLink?: CreatedPasswordLink;
    }
  | { outcome: 'invalid_email' }
  /** The user is the site's only owner and `role` would demote them. */
  | { outcome: 'last_owner' };

/**
 * What the first start and `pushcart user create --email … --site … --role …` do: the account
 * (made without a password if new), its membership with `role`, and — while it has no password —
 * a fresh link to set one. With an `actor`, a membership added or a role changed is recorded in
 * the audit log in the same transaction as the change (`member_added`, `member_role_changed`, as
 * the Team page records its own); the account itself belongs to no site, so it has no row.
 */
export async function addUserToSite(
  db: Db,
  input: { email: string; siteId: string; role: Role; name?: string | null; createdBy?: string | null; actor?: AuditActor },
  now: Date,
): Promise<AddUserToSiteResult> {
  const email = normalizeEmail(input.email);
  if (email === undefined) return { outcome: 'invalid_email' };
  const created = await insertUser(db, { email, name: input.name ?? null }, now);
  let user: UserSummary;
  let hasPassword = false;
  if (created) {
    user = created;
  } else {
    const row = await findUserByEmail(db, email);
    if (!row) throw new Error(`the account for ${email} vanished while it was being added to a site`);
    const { password_hash: passwordHash, ...summary } = row;
    user = summary;
    hasPassword = passwordHash !== null;
  }
  const { actor } = input;
  const membership = await db.transaction().execute(async (trx) => {
    const result = await addMembership(trx, { userId: user.id, siteId: input.siteId, role: input.role }, now);
    if (result.added && actor) await recordAudit(trx, input.siteId, actor, { action: 'member_added', email: user.email, role: result.role }, now);
    return result;
  });
  if (!membership.added && membership.role !== input.role) {
    const record = actor ? (trx: Db) => recordAudit(trx, input.siteId, actor, { action: 'member_role_changed', email: user.email, from: membership.role, to: input.role }, now) : undefined;
    if ((await changeMembership(db, input.siteId, user.id, input.role, record)) === 'last_owner') return { outcome: 'last_owner' };
  }
  const passwordLink = hasPassword ? undefined : await createPasswordLink(db, { userId: user.id, purpose: 'set', createdBy: input.createdBy ?? null }, now);
  return { outcome: 'added', user, createdUser: created !== undefined, role: input.role, ...(passwordLink ? { passwordLink } : {}) };
}
