/**
 * Token buckets, in memory, per process (per isolate on Workers). Enough to stop one browser or
 * one leaked publishable key from flooding the database; not a distributed quota.
 */
export interface BucketSettings {
  /** Requests allowed in a burst. */
  capacity: number;
  /** Tokens added back per second. */
  refillPerSecond: number;
}

export interface RateLimitSettings {
  perIp: BucketSettings;
  perKey: BucketSettings;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  perIp: { capacity: 120, refillPerSecond: 2 },
  perKey: { capacity: 6000, refillPerSecond: 100 },
};

/** Buckets kept before the fullest (idle) ones are dropped: bounds memory under an address scan. */
const MAX_TRACKED_BUCKETS = 50_000;

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: BucketSettings,
    private readonly now: () => number,
  ) {}

  /** Takes one token for `key`. Returns 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    const nowMs = this.now();
    const { capacity, refillPerSecond } = this.settings;
    const bucket = this.#buckets.get(key) ?? { tokens: capacity, updatedAtMs: nowMs };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.updatedAtMs) / 1000) * refillPerSecond);
    bucket.updatedAtMs = nowMs;
    // Re-inserting keeps the Map in least-recently-used order for eviction.
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > MAX_TRACKED_BUCKETS) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / refillPerSecond;
  }
}
