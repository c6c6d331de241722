import { pbkdf2Sync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findUserById, insertUser } from '../db/users.ts';
import { encodeBase64Url } from '../push/base64url.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { LoginRateLimiter } from './login-rate-limit.ts';
import { hashPassword, parsePasswordHash } from './password.ts';
import { resolveSession, startSession } from './sessions.ts';
import { changePassword, signIn } from './sign-in.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const PASSWORD = 'a long enough password';
const ADDRESS = '198.51.100.20';

let database: TestDatabase;
let userId: string;
let storedHash: string;
let limiter: LoginRateLimiter;

beforeAll(async () => {
  database = await createTestDatabase();
  storedHash = await hashPassword(PASSWORD);
});
afterAll(async () => database?.destroy());
beforeEach(async () => {
  await database.db.deleteFrom('users').execute();
  userId = (await insertUser(database.db, { email: 'owner@shop.example', passwordHash: storedHash }, NOW))!.id;
  limiter = new LoginRateLimiter(() => NOW.getTime());
});

describe('signing in', () => {
  it('with the right password opens a session, whatever the email’s case', async () => {
    const result = await signIn(database.db, { email: ' Owner@Shop.Example', password: PASSWORD, address: ADDRESS, userAgent: 'Firefox' }, NOW, { limiter });
    expect(result.outcome).toBe('signed_in');
    if (result.outcome !== 'signed_in') return;
    expect(result.user).toEqual({ id: userId, email: 'owner@shop.example', name: null });
    expect((await resolveSession(database.db, result.token, NOW))?.user.id).toBe(userId);
    expect((await findUserById(database.db, userId))?.last_sign_in_at).toEqual(NOW);
  });

  it('answers a wrong password and an unknown email alike, and opens nothing', async () => {
    const wrong = await signIn(database.db, { email: 'owner@shop.example', password: 'not the password', address: ADDRESS }, NOW, { limiter });
    const unknown = await signIn(database.db, { email: 'nobody@shop.example', password: PASSWORD, address: ADDRESS }, NOW, { limiter });
    const notAnEmail = await signIn(database.db, { email: 'nobody', password: PASSWORD, address: ADDRESS }, NOW, { limiter });
    expect(wrong).toEqual({ outcome: 'invalid_credentials' });
    expect(unknown).toEqual({ outcome: 'invalid_credentials' });
    expect(notAnEmail).toEqual({ outcome: 'invalid_credentials' });
    expect(await database.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
  });

  it('refuses an account whose password was never set', async () => {
    await insertUser(database.db, { email: 'invited@shop.example' }, NOW);
    const result = await signIn(database.db, { email: 'invited@shop.example', password: '', address: ADDRESS }, NOW, { limiter });
    expect(result).toEqual({ outcome: 'invalid_credentials' });
  });

  it('is refused, even with the right password, once the account has had 10 wrong ones', async () => {
    for (let i = 0; i < 10; i++) {
      limiter.recordFailure('owner@shop.example', `203.0.113.${i}`);
    }
    const result = await signIn(database.db, { email: 'owner@shop.example', password: PASSWORD, address: ADDRESS }, NOW, { limiter });
    expect(result.outcome).toBe('rate_limited');
    expect(result.outcome === 'rate_limited' && result.retryAfterSeconds).toBeCloseTo(60, 5);
  });

  it('spends the limits on wrong passwords and unknown emails only', async () => {
    for (let i = 0; i < 10; i++) {
      await signIn(database.db, { email: 'owner@shop.example', password: PASSWORD, address: ADDRESS }, NOW, { limiter });
    }
    expect(limiter.retryAfterSeconds('owner@shop.example', ADDRESS)).toBe(0);
    for (let i = 0; i < 10; i++) {
      await signIn(database.db, { email: 'OWNER@shop.example', password: `wrong password ${i}`, address: ADDRESS }, NOW, { limiter });
    }
    expect(limiter.retryAfterSeconds('owner@shop.example', '203.0.113.99')).toBeGreaterThan(0);
  });

  it('stores an older, cheaper hash again at today’s cost', async () => {
    const salt = new Uint8Array(16).fill(3);
    const hash = pbkdf2Sync(PASSWORD, salt, 100_000, 32, 'sha256');
    const old = `$pbkdf2-sha256-chain$i=100000,c=100000$${encodeBase64Url(salt)}$${encodeBase64Url(new Uint8Array(hash))}`;
    await database.db.updateTable('users').set({ password_hash: old }).where('id', '=', userId).execute();

    const result = await signIn(database.db, { email: 'owner@shop.example', password: PASSWORD, address: ADDRESS }, NOW, { limiter });
    expect(result.outcome).toBe('signed_in');
    const rehashed = (await findUserById(database.db, userId))!.password_hash!;
    expect(parsePasswordHash(rehashed)?.iterations).toBe(600_000);
    const again = await signIn(database.db, { email: 'owner@shop.example', password: PASSWORD, address: ADDRESS }, NOW, { limiter });
    expect(again.outcome).toBe('signed_in');
    // A rehash is not a password change: sessions are not ended by it.
    expect((await findUserById(database.db, userId))!.password_changed_at).toEqual(NOW);
  });
});

describe('changing a password', () => {
  it('ends every other session of the user and keeps the one making the change', async () => {
    const here = await startSession(database.db, { userId }, NOW);
    const elsewhere = await startSession(database.db, { userId }, NOW);
    const later = new Date(NOW.getTime() + 60_000);
    const result = await changePassword(
      database.db,
      { userId, currentSessionId: here.session.id, currentPassword: PASSWORD, newPassword: 'another long password' },
      later,
    );
    expect(result).toEqual({ outcome: 'changed', otherSessionsEnded: 1 });
    expect(await resolveSession(database.db, here.token, later)).toBeDefined();
    expect(await resolveSession(database.db, elsewhere.token, later)).toBeUndefined();
    expect((await findUserById(database.db, userId))!.password_changed_at).toEqual(later);

    const old = await signIn(database.db, { email: 'owner@shop.example', password: PASSWORD, address: ADDRESS }, later, { limiter });
    expect(old.outcome).toBe('invalid_credentials');
    const updated = await signIn(database.db, { email: 'owner@shop.example', password: 'another long password', address: ADDRESS }, later, { limiter });
    expect(updated.outcome).toBe('signed_in');
  });

  it('needs the current password, and changes nothing without it', async () => {
    const here = await startSession(database.db, { userId }, NOW);
    const elsewhere = await startSession(database.db, { userId }, NOW);
    const result = await changePassword(
      database.db,
      { userId, currentSessionId: here.session.id, currentPassword: 'a wrong guess here', newPassword: 'another long password' },
      NOW,
    );
    expect(result).toEqual({ outcome: 'wrong_password' });
    expect(await resolveSession(database.db, elsewhere.token, NOW)).toBeDefined();
    expect((await findUserById(database.db, userId))!.password_hash).toBe(storedHash);
  });

  it('says what is wrong with a new password that is too short', async () => {
    const here = await startSession(database.db, { userId }, NOW);
    const result = await changePassword(database.db, { userId, currentSessionId: here.session.id, currentPassword: PASSWORD, newPassword: 'short' }, NOW);
    expect(result).toEqual({
      outcome: 'invalid_password',
      problem: { code: 'password_too_short', message: 'The password is too short: at least 10 characters, it has 5.' },
    });
  });
});
