import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deleteExpiredSessions, listSessionsOfUser } from '../db/sessions.ts';
import { insertUser } from '../db/users.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { HOUR_MS, MINUTE_MS, SECOND_MS } from '../time.ts';
import {
  SESSION_IDLE_TIMEOUT_MS,
  SESSION_LIFETIME,
  SESSION_MAX_AGE_MS,
  endAllSessions,
  endSession,
  resolveSession,
  sessionCookieName,
  sessionCookieOptions,
  sessionCookieSecure,
  startSession,
} from './sessions.ts';
import { tokenHash } from './tokens.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const at = (ms: number) => new Date(NOW.getTime() + ms);

let database: TestDatabase;
let userId: string;
let otherUserId: string;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());
beforeEach(async () => {
  await database.db.deleteFrom('users').execute();
  userId = (await insertUser(database.db, { email: 'owner@shop.example' }, NOW))!.id;
  otherUserId = (await insertUser(database.db, { email: 'editor@shop.example' }, NOW))!.id;
});

async function lastSeen(sessionId: string): Promise<Date> {
  const row = await database.db.selectFrom('sessions').select('last_seen_at').where('id', '=', sessionId).executeTakeFirstOrThrow();
  return row.last_seen_at;
}

describe('sessions', () => {
  it('open with the token the cookie carries, and the database holds only its SHA-256', async () => {
    const { token, session } = await startSession(database.db, { userId, userAgent: 'Firefox' }, NOW);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await database.db.selectFrom('sessions').selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.token_hash).toBe(await tokenHash(token));
    expect(JSON.stringify(stored)).not.toContain(token);

    const live = await resolveSession(database.db, token, at(MINUTE_MS));
    expect(live?.session.id).toBe(session.id);
    expect(live?.user).toEqual({ id: userId, email: 'owner@shop.example', name: null });
  });

  it('do not open with a missing, malformed, or unknown token, nor with the stored hash itself', async () => {
    const { token } = await startSession(database.db, { userId }, NOW);
    expect(await resolveSession(database.db, undefined, NOW)).toBeUndefined();
    expect(await resolveSession(database.db, '', NOW)).toBeUndefined();
    expect(await resolveSession(database.db, `${token}x`, NOW)).toBeUndefined();
    expect(await resolveSession(database.db, 'A'.repeat(43), NOW)).toBeUndefined();
    expect(await resolveSession(database.db, await tokenHash(token), NOW)).toBeUndefined();
  });

  it('end after 12 hours unused', async () => {
    const { token } = await startSession(database.db, { userId }, NOW);
    expect(await resolveSession(database.db, token, at(SESSION_IDLE_TIMEOUT_MS - SECOND_MS))).toBeDefined();
    const { token: idle } = await startSession(database.db, { userId }, NOW);
    expect(await resolveSession(database.db, idle, at(SESSION_IDLE_TIMEOUT_MS))).toBeUndefined();
    expect(SESSION_IDLE_TIMEOUT_MS).toBe(12 * HOUR_MS);
  });

  it('stay open while used, but never past 14 days from sign-in', async () => {
    const { token } = await startSession(database.db, { userId }, NOW);
    // Used every 11 hours: never idle for 12.
    let t = 0;
    for (t = 11 * HOUR_MS; t < SESSION_MAX_AGE_MS; t += 11 * HOUR_MS) {
      expect(await resolveSession(database.db, token, at(t)), `at ${t / HOUR_MS} h`).toBeDefined();
    }
    expect(await resolveSession(database.db, token, at(SESSION_MAX_AGE_MS))).toBeUndefined();
    expect(SESSION_MAX_AGE_MS).toBe(14 * 24 * HOUR_MS);
  });

  it('record their use at most once a minute', async () => {
    const { token, session } = await startSession(database.db, { userId }, NOW);
    await resolveSession(database.db, token, at(30 * SECOND_MS));
    expect(await lastSeen(session.id)).toEqual(NOW);
    await resolveSession(database.db, token, at(MINUTE_MS));
    expect(await lastSeen(session.id)).toEqual(at(MINUTE_MS));
    await resolveSession(database.db, token, at(MINUTE_MS + 59 * SECOND_MS));
    expect(await lastSeen(session.id)).toEqual(at(MINUTE_MS));
  });

  it('end one at a time on sign-out', async () => {
    const first = await startSession(database.db, { userId }, NOW);
    const second = await startSession(database.db, { userId }, NOW);
    expect(await endSession(database.db, first.token)).toBe(true);
    expect(await endSession(database.db, first.token)).toBe(false);
    expect(await resolveSession(database.db, first.token, NOW)).toBeUndefined();
    expect(await resolveSession(database.db, second.token, NOW)).toBeDefined();
  });

  it('all end on sign-out everywhere, and only that user’s', async () => {
    const mine = [await startSession(database.db, { userId }, NOW), await startSession(database.db, { userId }, NOW)];
    const theirs = await startSession(database.db, { userId: otherUserId }, NOW);
    expect(await endAllSessions(database.db, userId)).toBe(2);
    for (const { token } of mine) expect(await resolveSession(database.db, token, NOW)).toBeUndefined();
    expect(await resolveSession(database.db, theirs.token, NOW)).toBeDefined();
    expect(await listSessionsOfUser(database.db, userId)).toEqual([]);
  });

  it('that expired are swept by housekeeping, the live ones kept', async () => {
    await startSession(database.db, { userId }, NOW);
    const later = await startSession(database.db, { userId }, at(6 * HOUR_MS));
    expect(await deleteExpiredSessions(database.db, at(SESSION_IDLE_TIMEOUT_MS), SESSION_LIFETIME)).toBe(1);
    expect((await listSessionsOfUser(database.db, userId)).map((s) => s.id)).toEqual([later.session.id]);
  });

  it('end with their user', async () => {
    const { token } = await startSession(database.db, { userId }, NOW);
    await database.db.deleteFrom('users').where('id', '=', userId).execute();
    expect(await resolveSession(database.db, token, NOW)).toBeUndefined();
  });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Lax, and Secure with the __Host- prefix on https', () => {
    expect(sessionCookieName(true)).toBe('__Host-pushcart-session');
    expect(sessionCookieOptions(true)).toEqual({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/', maxAge: 14 * 24 * 3600 });
  });

  it('is Secure exactly when the public URL is https', () => {
    expect(sessionCookieSecure('https://push.shop.example')).toBe(true);
    expect(sessionCookieSecure('http://localhost:8787')).toBe(false);
  });

  it('drops Secure and the prefix on plain http, which browsers would refuse them on', () => {
    expect(sessionCookieName(false)).toBe('pushcart-session');
    expect(sessionCookieOptions(false).secure).toBe(false);
    expect(sessionCookieOptions(false).httpOnly).toBe(true);
  });
});
