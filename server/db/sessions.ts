import type { Selectable } from 'kysely';
import type { Db, SessionsTable } from './database.ts';
import { isUuid } from './sites.ts';

export type SessionRow = Selectable<SessionsTable>;

/** How long a session lives: since its last use (idle) and since it began (absolute), in milliseconds. */
export interface SessionLifetime {
  idleMs: number;
  absoluteMs: number;
}

export async function insertSession(
  db: Db,
  session: { tokenHash: string; userId: string; userAgent?: string | null },
  now: Date,
): Promise<SessionRow> {
  return db
    .insertInto('sessions')
    .values({ token_hash: session.tokenHash, user_id: session.userId, created_at: now, last_seen_at: now, user_agent: session.userAgent ?? null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface LiveSession {
  session: SessionRow;
  user: { id: string; email: string; name: string | null };
}

/** The session with this token hash if it has neither idled out nor outlived its absolute limit at `now`. */
export async function findLiveSession(db: Db, tokenHash: string, now: Date, lifetime: SessionLifetime): Promise<LiveSession | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select(['users.email', 'users.name'])
    .where('sessions.token_hash', '=', tokenHash)
    .where('sessions.last_seen_at', '>', new Date(now.getTime() - lifetime.idleMs))
    .where('sessions.created_at', '>', new Date(now.getTime() - lifetime.absoluteMs))
    .executeTakeFirst();
  if (!row) return undefined;
  const { email, name, ...session } = row;
  return { session, user: { id: session.user_id, email, name } };
}

/** Records use, at most once per `resolutionMs`, so a page of requests costs one write, not one each. */
export async function touchSession(db: Db, sessionId: string, now: Date, resolutionMs: number): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ last_seen_at: now })
    .where('id', '=', sessionId)
    .where('last_seen_at', '<=', new Date(now.getTime() - resolutionMs))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteSessionByTokenHash(db: Db, tokenHash: string): Promise<boolean> {
  const result = await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Ends every session of a user, or every one but `exceptSessionId` (the one changing the password). */
export async function deleteSessionsOfUser(db: Db, userId: string, exceptSessionId?: string): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptSessionId !== undefined) query = query.where('id', '<>', exceptSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function listSessionsOfUser(db: Db, userId: string): Promise<Array<Omit<SessionRow, 'token_hash'>>> {
  if (!isUuid(userId)) return [];
  return db
    .selectFrom('sessions')
    .select(['id', 'user_id', 'created_at', 'last_seen_at', 'user_agent'])
    .where('user_id', '=', userId)
    .orderBy('last_seen_at', 'desc')
    .execute();
}

/** Housekeeping: drops sessions that can no longer be used at `now`; returns how many. */
export async function deleteExpiredSessions(db: Db, now: Date, lifetime: SessionLifetime): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) =>
      eb.or([
        eb('last_seen_at', '<=', new Date(now.getTime() - lifetime.idleMs)),
        eb('created_at', '<=', new Date(now.getTime() - lifetime.absoluteMs)),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
