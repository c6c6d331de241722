/**
 * Dashboard sessions: the cookie carries a random token, the database only its SHA-256, so a copy
 * of the database (a backup, a replica) signs nobody in. A session ends after 12 hours unused or
 * 14 days after it began, whichever comes first, or when its user signs out (here or everywhere)
 * or changes the password.
 */
import { deleteSessionByTokenHash, deleteSessionsOfUser, findLiveSession, insertSession, touchSession, type LiveSession, type SessionLifetime, type SessionRow } from '../db/sessions.ts';
import type { Db } from '../db/database.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from '../time.ts';
import { isWellFormedToken, newSecretToken, tokenHash } from './tokens.ts';

export const SESSION_IDLE_TIMEOUT_MS = 12 * HOUR_MS;
export const SESSION_MAX_AGE_MS = 14 * DAY_MS;
/** `last_seen_at` is written at most this often per session: a page and its requests cost one write. */
export const SESSION_TOUCH_INTERVAL_MS = MINUTE_MS;

export const SESSION_LIFETIME: SessionLifetime = { idleMs: SESSION_IDLE_TIMEOUT_MS, absoluteMs: SESSION_MAX_AGE_MS };

/**
 * On https the cookie takes the `__Host-` prefix (RFC 6265bis §4.1.3.2): the browser then accepts
 * it only with `Secure`, `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it.
 * Plain http (a local trial) cannot use the prefix.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-pushcart-session' : 'pushcart-session';
}

/** Whether the cookie gets `Secure` (and the `__Host-` prefix): when the dashboard's public URL is https. */
export function sessionCookieSecure(publicUrl: string): boolean {
  return new URL(publicUrl).protocol === 'https:';
}

/** The attributes the session cookie is set with (in the shape of Hono's `setCookie` options). */
export function sessionCookieOptions(secure: boolean): {
  httpOnly: true;
  secure: boolean;
  sameSite: 'Lax';
  path: '/';
  maxAge: number;
} {
  // The browser may keep it for the absolute limit; the idle limit is the server's to enforce.
  return { httpOnly: true, secure, sameSite: 'Lax', path: '/', maxAge: SESSION_MAX_AGE_MS / SECOND_MS };
}

export interface StartedSession {
  /** For the cookie only: never stored, never logged. */
  token: string;
  session: SessionRow;
}

export async function startSession(db: Db, user: { userId: string; userAgent?: string | null }, now: Date): Promise<StartedSession> {
  const token = newSecretToken();
  const session = await insertSession(db, { tokenHash: await tokenHash(token), userId: user.userId, userAgent: user.userAgent ?? null }, now);
  return { token, session };
}

/**
 * The live session a cookie's token opens at `now`, and its user; undefined for a missing, malformed,
 * unknown, signed-out or expired one. Records the use (at most once a minute).
 */
export async function resolveSession(db: Db, token: string | undefined, now: Date): Promise<LiveSession | undefined> {
  if (token === undefined || !isWellFormedToken(token)) return undefined;
  const live = await findLiveSession(db, await tokenHash(token), now, SESSION_LIFETIME);
  if (!live) return undefined;
  await touchSession(db, live.session.id, now, SESSION_TOUCH_INTERVAL_MS);
  return live;
}

/** Signs out this one session; false when it had already ended. */
export async function endSession(db: Db, token: string): Promise<boolean> {
  if (!isWellFormedToken(token)) return false;
  return deleteSessionByTokenHash(db, await tokenHash(token));
}

/** Signs the user out everywhere; returns how many sessions ended. */
export async function endAllSessions(db: Db, userId: string): Promise<number> {
  return deleteSessionsOfUser(db, userId);
}
