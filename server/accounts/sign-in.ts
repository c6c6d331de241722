/**
 * Signing in and changing a password: what the sign-in and account routes call.
 */
import type { Db } from '../db/database.ts';
import type { SessionRow } from '../db/sessions.ts';
import { deleteSessionsOfUser } from '../db/sessions.ts';
import { findUserByEmail, findUserById, recordSignIn, replacePasswordHash, setPasswordHash } from '../db/users.ts';
import { normalizeEmail } from './email.ts';
import type { LoginRateLimiter } from './login-rate-limit.ts';
import { hashPassword, passwordProblem, verifyPassword, type PasswordHashOptions, type PasswordProblem } from './password.ts';
import { startSession } from './sessions.ts';

export type SignInResult =
  | { outcome: 'signed_in'; token: string; session: SessionRow; user: { id: string; email: string; name: string | null } }
  /** Wrong email or wrong password: one answer for both, so the form cannot be used to find accounts. */
  | { outcome: 'invalid_credentials' }
  | { outcome: 'rate_limited'; retryAfterSeconds: number };

export interface SignInInput {
  email: string;
  password: string;
  /** The client address as resolved behind trusted proxies (`resolveClientAddress`). */
  address: string | undefined;
  userAgent?: string | null;
}

export async function signIn(
  db: Db,
  input: SignInInput,
  now: Date,
  deps: { limiter: LoginRateLimiter; password?: PasswordHashOptions },
): Promise<SignInResult> {
  const retryAfterSeconds = deps.limiter.retryAfterSeconds(input.email, input.address);
  if (retryAfterSeconds > 0) return { outcome: 'rate_limited', retryAfterSeconds };

  const email = normalizeEmail(input.email);
  const user = email === undefined ? undefined : await findUserByEmail(db, email);
  // Runs even without a user (against a dummy hash), so both answers take as long.
  const verification = await verifyPassword(input.password, user?.password_hash, deps.password);
  if (!user || !verification.valid) {
    deps.limiter.recordFailure(input.email, input.address);
    return { outcome: 'invalid_credentials' };
  }
  if (verification.needsRehash) {
    await replacePasswordHash(db, user.id, user.password_hash!, await hashPassword(input.password, deps.password));
  }
  await recordSignIn(db, user.id, now);
  const { token, session } = await startSession(db, { userId: user.id, userAgent: input.userAgent ?? null }, now);
  return { outcome: 'signed_in', token, session, user: { id: user.id, email: user.email, name: user.name } };
}

export type ChangePasswordResult =
  | { outcome: 'changed'; otherSessionsEnded: number }
  | { outcome: 'wrong_password' }
  | { outcome: 'invalid_password'; problem: PasswordProblem }
  | { outcome: 'not_found' };

/**
 * Changes a signed-in user's password after checking the current one, and ends every other session
 * of theirs: whoever else had signed in with the old password is out. The session making the
 * change stays signed in.
 */
export async function changePassword(
  db: Db,
  input: { userId: string; currentSessionId: string; currentPassword: string; newPassword: string },
  now: Date,
  options: PasswordHashOptions = {},
): Promise<ChangePasswordResult> {
  const problem = passwordProblem(input.newPassword);
  if (problem) return { outcome: 'invalid_password', problem };
  const user = await findUserById(db, input.userId);
  if (!user) return { outcome: 'not_found' };
  const verification = await verifyPassword(input.currentPassword, user.password_hash, options);
  if (!verification.valid) return { outcome: 'wrong_password' };
  const passwordHash = await hashPassword(input.newPassword, options);
  const otherSessionsEnded = await db.transaction().execute(async (trx) => {
    await setPasswordHash(trx, user.id, passwordHash, now);
    return deleteSessionsOfUser(trx, user.id, input.currentSessionId);
  });
  return { outcome: 'changed', otherSessionsEnded };
}
