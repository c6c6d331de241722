/**
 * The links a person opens to get into the dashboard, and what the first start and the CLI call to
 * make them: no mail server is assumed, so the link is printed (or shown) and handed over.
 */
import { addUserToSite, createPasswordLink, type AddUserToSiteResult } from '../accounts/links.ts';
import type { AuditActor } from '../audit/audit-log.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { findUserByEmail } from '../db/users.ts';
import type { Db, Role } from '../db/database.ts';
import { DASHBOARD_PATH } from './layout.ts';

export function passwordLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${DASHBOARD_PATH}/password/${token}`;
}

export function inviteLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${DASHBOARD_PATH}/invite/${token}`;
}

export function signInUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${DASHBOARD_PATH}/login`;
}

export type DashboardUserLink =
  /** The account has no password yet: `url` sets it (once, within 24 hours) and signs in. */
  | { outcome: 'password_link'; userId: string; url: string; expiresAt: Date }
  /** The account already has a password: it signs in at `url`. */
  | { outcome: 'has_password'; userId: string; url: string }
  | { outcome: 'invalid_email' }
  | { outcome: 'last_owner' };

/**
 * What `pushcart user create --email … --site … --role …` does: the account (made if new), its
 * membership (recorded in the audit log as `actor`'s, when given), and the link to print.
 */
export async function createDashboardUserLink(
  db: Db,
  input: { siteId: string; email: string; role: Role; name?: string | null; now: Date; publicUrl: string; actor?: AuditActor },
): Promise<DashboardUserLink> {
  const added: AddUserToSiteResult = await addUserToSite(db, { email: input.email, siteId: input.siteId, role: input.role, name: input.name ?? null, actor: input.actor }, input.now);
  if (added.outcome !== 'added') return { outcome: added.outcome };
  if (added.passwordLink) {
    return { outcome: 'password_link', userId: added.user.id, url: passwordLinkUrl(input.publicUrl, added.passwordLink.token), expiresAt: added.passwordLink.link.expires_at };
  }
  return { outcome: 'has_password', userId: added.user.id, url: signInUrl(input.publicUrl) };
}

/**
 * What `npm start` on an empty database does after creating the demo site: its owner account and
 * the one-time link to set the password, to print beside the install tag.
 */
export async function createFirstOwnerLink(
  db: Db,
  input: { siteId: string; email: string; now: Date; publicUrl: string },
): Promise<DashboardUserLink> {
  return createDashboardUserLink(db, { ...input, role: 'owner' });
}

/**
 * What `pushcart user reset-password --email …` (and later the Users page) does for a forgotten
 * password: a one-time link, valid for an hour, that replaces the password and signs out every
 * session of that account. Any earlier unused link of theirs stops working.
 */
export async function createPasswordResetLink(
  db: Db,
  input: { email: string; now: Date; publicUrl: string; createdBy?: string | null },
): Promise<{ outcome: 'reset_link'; userId: string; url: string; expiresAt: Date } | { outcome: 'no_such_user' }> {
  const email = normalizeEmail(input.email);
  const user = email === undefined ? undefined : await findUserByEmail(db, email);
  if (!user) return { outcome: 'no_such_user' };
  const created = await createPasswordLink(db, { userId: user.id, purpose: 'reset', createdBy: input.createdBy ?? null }, input.now);
  return { outcome: 'reset_link', userId: user.id, url: passwordLinkUrl(input.publicUrl, created.token), expiresAt: created.link.expires_at };
}
