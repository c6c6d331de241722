import webpush from 'web-push';
import { HOUR_SECONDS } from '../time.ts';

/** How long a signed VAPID JWT is valid: RFC 8292 §2 allows up to 24 h; 12 h leaves room for clock skew. */
export const VAPID_JWT_LIFETIME_SECONDS = 12 * HOUR_SECONDS;
/** A cached JWT is replaced this long before its `exp`, so no request carries one about to expire in flight. */
export const VAPID_JWT_REFRESH_MARGIN_SECONDS = HOUR_SECONDS;
/** Cached headers kept at most: sites × push-service origins; oldest dropped beyond this. */
const MAX_CACHED_HEADERS = 10_000;

export interface VapidKeys {
  subject: string;
  publicKey: string;
  privateKey: string;
}

type SignVapid = (audience: string, subject: string, publicKey: string, privateKey: string, expiration: number) => string;

const signWithWebPush: SignVapid = (audience, subject, publicKey, privateKey, expiration) =>
  webpush.getVapidHeaders(audience, subject, publicKey, privateKey, 'aes128gcm', expiration).Authorization;

/**
 * VAPID `Authorization` headers (RFC 8292 §3), one ES256 signature per (site key, push-service
 * origin) and lifetime rather than per message: signing dominates the cost of a small push.
 * Owned by a delivery worker and passed in — no module state.
 */
export class VapidHeaderCache {
  readonly #entries = new Map<string, { header: string; refreshAtMs: number }>();
  /** How many JWTs were signed: lets tests and benchmarks see the cache work. */
  signings = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly sign: SignVapid = signWithWebPush,
  ) {}

  header(keys: VapidKeys, audience: string): string {
    const cacheKey = `${keys.publicKey} ${keys.subject} ${audience}`;
    const nowMs = this.now();
    const cached = this.#entries.get(cacheKey);
    if (cached && cached.refreshAtMs > nowMs) return cached.header;

    const expiration = Math.floor(nowMs / 1000) + VAPID_JWT_LIFETIME_SECONDS;
    const header = this.sign(audience, keys.subject, keys.publicKey, keys.privateKey, expiration);
    this.signings++;
    this.#entries.delete(cacheKey);
    this.#entries.set(cacheKey, { header, refreshAtMs: (expiration - VAPID_JWT_REFRESH_MARGIN_SECONDS) * 1000 });
    if (this.#entries.size > MAX_CACHED_HEADERS) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return header;
  }
}
