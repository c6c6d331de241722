/**
 * Sign-in attempts limited per account and per client address, with the token buckets the API's
 * limiters use (server/middleware/rate-limit.ts): in memory, per process (per isolate on Workers).
 * Only failures spend tokens; while either bucket is empty every attempt is refused before the
 * password is checked, the right one too, or a guesser would learn which guess was right.
 *
 * The route calls `retryAfterSeconds` before checking the password (non-zero: answer 429 with
 * Retry-After) and `recordFailure` after a wrong one. Both key the account by the normalised email
 * whether or not an account has it, so the answers do not tell which emails exist.
 */
import { AddressRateLimiter, RateLimiter, type BucketSettings } from '../middleware/rate-limit.ts';
import { normalizeEmail } from './email.ts';

/**
 * Per account: 10 wrong passwords, then one a minute (1,440 a day at most, against passwords of 10
 * characters or more). Someone spending an account's attempts also holds its owner to one a
 * minute: the price of a limit per account, kept small by the short refill.
 */
export const DEFAULT_LOGIN_ACCOUNT_LIMIT: BucketSettings = { capacity: 10, refillPerSecond: 1 / 60 };
/**
 * Per address (IPv6 per /64 and /48): 30 wrong passwords, then one every 10 seconds, so one
 * address spraying many accounts is held to 8,640 guesses a day; 30 leaves room for an office
 * behind one NAT address mistyping on a Monday morning.
 */
export const DEFAULT_LOGIN_ADDRESS_LIMIT: BucketSettings = { capacity: 30, refillPerSecond: 0.1 };

export interface LoginRateLimitSettings {
  perAccount: BucketSettings;
  perAddress: BucketSettings;
}

/** The account a sign-in attempt names, as a limiter key (also for emails that are not addresses). */
export function loginAccountKey(email: string): string {
  return normalizeEmail(email) ?? email.trim().toLowerCase();
}

export class LoginRateLimiter {
  readonly #perAccount: RateLimiter;
  readonly #perAddress: AddressRateLimiter;

  constructor(
    now: () => number,
    settings: LoginRateLimitSettings = { perAccount: DEFAULT_LOGIN_ACCOUNT_LIMIT, perAddress: DEFAULT_LOGIN_ADDRESS_LIMIT },
  ) {
    this.#perAccount = new RateLimiter(settings.perAccount, now);
    this.#perAddress = new AddressRateLimiter(settings.perAddress, now);
  }

  /** Seconds until an attempt for `email` from `address` may be checked; 0 when it may be now. Spends nothing. */
  retryAfterSeconds(email: string, address: string | undefined): number {
    return Math.max(this.#perAccount.peek(loginAccountKey(email)), this.#perAddress.peek(address));
  }

  /** A wrong password (or unknown email): spends a token from both buckets. */
  recordFailure(email: string, address: string | undefined): void {
    this.#perAccount.charge(loginAccountKey(email));
    this.#perAddress.charge(address);
  }
}
