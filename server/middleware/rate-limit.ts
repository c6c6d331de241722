/**
 * Token buckets, in memory, per process (per isolate on Workers). Enough to stop one browser, one
 * address or one leaked key from flooding the database; not a distributed quota.
 */
import { rateLimitKeysOf } from '../client-address.ts';

export interface BucketSettings {
  /** Requests allowed in a burst. */
  capacity: number;
  /** Tokens added back per second. */
  refillPerSecond: number;
}

export interface RateLimitSettings {
  /** Browser and service-worker routes, per client address (IPv6 per /64, and 16 times that per /48). */
  perIp: BucketSettings;
  /** Browser routes, per publishable key: counts only requests the per-address limit let through. */
  perSite: BucketSettings;
  /** Secret-key routes, per key. */
  perSecretKey: BucketSettings;
  /** The admin API, per client address (as `perIp`). */
  admin: BucketSettings;
  /**
   * Wrong secret keys and admin tokens, per client address (as `perIp`); once spent, a wrong key is
   * answered 429 instead of 401. A right key is never refused here.
   */
  failedAuth: BucketSettings;
}

/**
 * Per client address: 100 requests a second sustained, 1,000 in a burst. A shopper's page view
 * costs at most 3 requests (site config, an event, the subscription check) and an active shopper
 * opens a page every 10 s or slower, so 100/s is 330 shoppers browsing at once behind one carrier
 * NAT address (RFC 6888); the burst lets all of them open a page at the same instant.
 */
export const DEFAULT_PER_IP_LIMIT: BucketSettings = { capacity: 1_000, refillPerSecond: 100 };

/**
 * Per site: 12,000 requests a second sustained, 60,000 in a burst. A shop at 2,000 page views a
 * second makes at most 6,000 requests a second, half the sustained rate; the burst covers a spike
 * to 10,000 page views a second (30,000 requests) for 3 seconds on top of it. A flood has to come
 * from more than 120 IPv4 addresses, or more than 7 IPv6 /48s, each at its own full limit, before
 * the site's budget runs low.
 */
export const DEFAULT_PER_SITE_LIMIT: BucketSettings = { capacity: 60_000, refillPerSecond: 12_000 };

/** Operator scripts and the dashboard; nothing there needs more than a few calls a second. */
export const DEFAULT_ADMIN_LIMIT: BucketSettings = { capacity: 100, refillPerSecond: 10 };

/**
 * 20 wrong keys, then one every 10 seconds; past that a wrong key is answered 429 instead of 401.
 * Keys are 256-bit random, so this is not what stops a guess from succeeding; it tells a scanner to
 * back off. It never refuses a right key: behind a proxy everyone shares one address, and a
 * stranger's wrong keys must not lock a shop's backend or the operator out.
 */
export const DEFAULT_FAILED_AUTH_LIMIT: BucketSettings = { capacity: 20, refillPerSecond: 0.1 };

/**
 * An IPv6 /48 gets this many /64s' worth of a per-address limit. One holder of a /48 (RFC 6177: a
 * site such as a company, a campus or a hosting customer) has 65,536 /64s; without a bucket above
 * them it would have as many budgets. 16 per-address budgets are 5,280 shoppers browsing at once
 * from one /48 (at the default per-address limit), and a flood from it counts as 16 addresses.
 */
export const IPV6_BLOCK_BUDGET_MULTIPLIER = 16;

/** Buckets kept per limiter before some are dropped: bounds memory under an address scan. */
export const MAX_TRACKED_BUCKETS = 50_000;
/** When dropping, go this far below the cap, so one sweep serves many new keys (amortised O(1)). */
const SWEEP_TARGET_FRACTION = 0.9;

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: BucketSettings,
    private readonly now: () => number,
    private readonly maxTrackedBuckets = MAX_TRACKED_BUCKETS,
    /** Told of each refusal (metrics). */
    private readonly onRefused?: () => void,
  ) {}

  /** How many keys are tracked now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `key`. Returns 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    const bucket = this.#refilled(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    this.onRefused?.();
    return this.#secondsUntilOneToken(bucket);
  }

  /** Like `take` but spends nothing: the seconds until `key` may go on (0: now). */
  peek(key: string): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return 0;
    const tokens = this.#tokensNow(bucket, this.now());
    return tokens >= 1 ? 0 : this.#secondsUntilOneToken({ tokens, updatedAtMs: 0 });
  }

  /**
   * Spends a token even from an empty bucket, down to one burst of debt: for limits on failures,
   * which are known only after the fact. Every failure lengthens the wait that follows, those that
   * arrive together too, up to one burst's worth.
   */
  charge(key: string): void {
    const bucket = this.#refilled(key);
    bucket.tokens = Math.max(-this.settings.capacity, bucket.tokens - 1);
  }

  #tokensNow(bucket: Bucket, nowMs: number): number {
    const elapsedSeconds = Math.max(0, nowMs - bucket.updatedAtMs) / 1000;
    return Math.min(this.settings.capacity, bucket.tokens + elapsedSeconds * this.settings.refillPerSecond);
  }

  #secondsUntilOneToken(bucket: Bucket): number {
    return (1 - bucket.tokens) / this.settings.refillPerSecond;
  }

  #refilled(key: string): Bucket {
    const nowMs = this.now();
    const known = this.#buckets.get(key);
    const bucket = known ?? { tokens: this.settings.capacity, updatedAtMs: nowMs };
    bucket.tokens = this.#tokensNow(bucket, nowMs);
    bucket.updatedAtMs = nowMs;
    // Re-inserting keeps the Map in least-recently-used order for eviction.
    if (known) this.#buckets.delete(key);
    else if (this.#buckets.size >= this.maxTrackedBuckets) this.#sweep(nowMs);
    this.#buckets.set(key, bucket);
    return bucket;
  }

  /**
   * Drops every bucket that has refilled to capacity (forgetting it changes no answer), then, if a
   * scan keeps that many busy, the least recently used ones.
   */
  #sweep(nowMs: number): void {
    const target = Math.floor(this.maxTrackedBuckets * SWEEP_TARGET_FRACTION);
    for (const [key, bucket] of this.#buckets) {
      if (this.#tokensNow(bucket, nowMs) >= this.settings.capacity) this.#buckets.delete(key);
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= target) break;
      this.#buckets.delete(key);
    }
  }
}

/**
 * A limit per client address. IPv4 is counted per address; IPv6 per /64 and, with
 * `IPV6_BLOCK_BUDGET_MULTIPLIER` times the budget, per /48 — the /48 counting only what its /64
 * let through, so one /64 flooding spends its own bucket, not its neighbours'. Takes the client's
 * address as resolved (`resolveClientAddress`), not a key.
 */
export class AddressRateLimiter {
  readonly #perAddress: RateLimiter;
  readonly #perBlock: RateLimiter;

  readonly #onRefused: (() => void) | undefined;

  /** `onRefused` is told of each refusal: a `take` refused, or a `charge` to an address already out of tokens. */
  constructor(settings: BucketSettings, now: () => number, onRefused?: () => void) {
    this.#onRefused = onRefused;
    this.#perAddress = new RateLimiter(settings, now);
    this.#perBlock = new RateLimiter(
      { capacity: settings.capacity * IPV6_BLOCK_BUDGET_MULTIPLIER, refillPerSecond: settings.refillPerSecond * IPV6_BLOCK_BUDGET_MULTIPLIER },
      now,
    );
  }

  /** Takes one token for `address` (and its /48). Returns 0 when allowed, else the seconds until one is available. */
  take(address: string | undefined): number {
    const keys = rateLimitKeysOf(address);
    const waitSeconds = this.#perAddress.take(keys.address);
    const refusedFor = waitSeconds > 0 || keys.block === undefined ? waitSeconds : this.#perBlock.take(keys.block);
    if (refusedFor > 0) this.#onRefused?.();
    return refusedFor;
  }

  /** Like `take` but spends nothing: the seconds until `address` may go on (0: now). */
  peek(address: string | undefined): number {
    const keys = rateLimitKeysOf(address);
    return Math.max(this.#perAddress.peek(keys.address), keys.block === undefined ? 0 : this.#perBlock.peek(keys.block));
  }

  /** Spends a token even from an empty bucket (see `RateLimiter.charge`), from the address and its /48. */
  charge(address: string | undefined): void {
    // A failure charged to an address already out of tokens is answered 429 (refuseWrongKey).
    if (this.#onRefused && this.peek(address) > 0) this.#onRefused();
    const keys = rateLimitKeysOf(address);
    this.#perAddress.charge(keys.address);
    if (keys.block !== undefined) this.#perBlock.charge(keys.block);
  }
}

export interface RateLimiters {
  perIp: AddressRateLimiter;
  perSite: RateLimiter;
  perSecretKey: RateLimiter;
  admin: AddressRateLimiter;
  failedAuth: AddressRateLimiter;
}

/**
 * One set per app, shared by every route, so a client's budget is the same wherever it spends it.
 * `configured` is what the operator set; `overrides` replaces single buckets (tests).
 */
export function createRateLimiters(
  configured: { perIp: BucketSettings; perSite: BucketSettings },
  now: () => number,
  overrides: Partial<RateLimitSettings> = {},
  onRefused: (bucket: keyof RateLimitSettings) => void = () => {},
): RateLimiters {
  const settings: RateLimitSettings = {
    perIp: configured.perIp,
    perSite: configured.perSite,
    // A shop's backend may send what its pages would (server-side events), so a key gets a site's budget.
    perSecretKey: configured.perSite,
    admin: DEFAULT_ADMIN_LIMIT,
    failedAuth: DEFAULT_FAILED_AUTH_LIMIT,
    ...overrides,
  };
  return {
    perIp: new AddressRateLimiter(settings.perIp, now, () => onRefused('perIp')),
    perSite: new RateLimiter(settings.perSite, now, MAX_TRACKED_BUCKETS, () => onRefused('perSite')),
    perSecretKey: new RateLimiter(settings.perSecretKey, now, MAX_TRACKED_BUCKETS, () => onRefused('perSecretKey')),
    admin: new AddressRateLimiter(settings.admin, now, () => onRefused('admin')),
    failedAuth: new AddressRateLimiter(settings.failedAuth, now, () => onRefused('failedAuth')),
  };
}
