import type { Selectable } from 'kysely';
import type { Db, InvitesTable, Role } from './database.ts';
import { isUuid } from './sites.ts';

export type InviteRow = Selectable<InvitesTable>;
export type InviteSummary = Omit<InviteRow, 'token_hash'>;

const SUMMARY_COLUMNS = ['id', 'site_id', 'email', 'role', 'created_by', 'created_at', 'expires_at', 'used_at', 'used_by', 'revoked_at'] as const;

export async function insertInvite(
  db: Db,
  invite: { tokenHash: string; siteId: string; email: string; role: Role; createdBy: string | null; expiresAt: Date },
  now: Date,
): Promise<InviteSummary> {
  return db
    .insertInto('invites')
    .values({
      token_hash: invite.tokenHash,
      site_id: invite.siteId,
      email: invite.email,
      role: invite.role,
      created_by: invite.createdBy,
      created_at: now,
      expires_at: invite.expiresAt,
    })
    .returning(SUMMARY_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** The invite behind a link if it can still be used at `now` (to show its form), without using it. */
export async function findUsableInvite(db: Db, tokenHash: string, now: Date): Promise<InviteSummary | undefined> {
  return db
    .selectFrom('invites')
    .select(SUMMARY_COLUMNS)
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/**
 * Uses an invite, once: one UPDATE marks it used only while it is unused, unrevoked and unexpired,
 * so of two requests racing with the same link exactly one gets the row (the other waits for the
 * row lock, re-checks `used_at`, and matches nothing). Pass the transaction the membership is
 * written in, so a failure after this rolls the use back too.
 */
export async function consumeInvite(db: Db, tokenHash: string, now: Date): Promise<InviteSummary | undefined> {
  return db
    .updateTable('invites')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(SUMMARY_COLUMNS)
    .executeTakeFirst();
}

export async function setInviteUsedBy(db: Db, inviteId: string, userId: string): Promise<void> {
  await db.updateTable('invites').set({ used_by: userId }).where('id', '=', inviteId).execute();
}

/** Invites of a site still waiting at `now`, newest first (the Users page). */
export async function listPendingInvites(db: Db, siteId: string, now: Date): Promise<InviteSummary[]> {
  if (!isUuid(siteId)) return [];
  return db
    .selectFrom('invites')
    .select(SUMMARY_COLUMNS)
    .where('site_id', '=', siteId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

/** Withdraws an unused invite of this site; false when there is none to withdraw. */
export async function revokeInvite(db: Db, siteId: string, inviteId: string, now: Date): Promise<boolean> {
  if (!isUuid(siteId) || !isUuid(inviteId)) return false;
  const result = await db
    .updateTable('invites')
    .set({ revoked_at: now })
    .where('id', '=', inviteId)
    .where('site_id', '=', siteId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Housekeeping: drops invites that expired before `now`, used or not (none can be used again; who
 * joined stays in the membership); returns how many.
 */
export async function deleteExpiredInvites(db: Db, now: Date): Promise<number> {
  const result = await db.deleteFrom('invites').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
