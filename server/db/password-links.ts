import type { Selectable } from 'kysely';
import type { Db, PasswordLinkPurpose, PasswordLinksTable } from './database.ts';

export type PasswordLinkRow = Selectable<PasswordLinksTable>;
export type PasswordLinkSummary = Omit<PasswordLinkRow, 'token_hash'>;

const SUMMARY_COLUMNS = ['id', 'user_id', 'purpose', 'created_by', 'created_at', 'expires_at', 'used_at', 'revoked_at'] as const;

/**
 * Stores a new link for a user and withdraws every earlier unused one, in one transaction: only the
 * newest link a person was given works, so an older one found in a chat log or a terminal's
 * scroll-back is worthless.
 */
export async function replacePasswordLink(
  db: Db,
  link: { tokenHash: string; userId: string; purpose: PasswordLinkPurpose; createdBy: string | null; expiresAt: Date },
  now: Date,
): Promise<PasswordLinkSummary> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable('password_links')
      .set({ revoked_at: now })
      .where('user_id', '=', link.userId)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .execute();
    return trx
      .insertInto('password_links')
      .values({
        token_hash: link.tokenHash,
        user_id: link.userId,
        purpose: link.purpose,
        created_by: link.createdBy,
        created_at: now,
        expires_at: link.expiresAt,
      })
      .returning(SUMMARY_COLUMNS)
      .executeTakeFirstOrThrow();
  });
}

/** The link if it can still be used at `now` (to show the password form), without using it. */
export async function findUsablePasswordLink(db: Db, tokenHash: string, now: Date): Promise<PasswordLinkSummary | undefined> {
  return db
    .selectFrom('password_links')
    .select(SUMMARY_COLUMNS)
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/**
 * Uses a link, once (one conditional UPDATE: of two racing requests exactly one gets the row).
 * Pass the transaction the new password is written in.
 */
export async function consumePasswordLink(db: Db, tokenHash: string, now: Date): Promise<PasswordLinkSummary | undefined> {
  return db
    .updateTable('password_links')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(SUMMARY_COLUMNS)
    .executeTakeFirst();
}

/** Housekeeping: drops links that expired before `now` (used or not, none can be used again); returns how many. */
export async function deleteExpiredPasswordLinks(db: Db, now: Date): Promise<number> {
  const result = await db.deleteFrom('password_links').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
