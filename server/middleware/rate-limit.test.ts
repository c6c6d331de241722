import { describe, expect, it } from 'vitest';
import { createRateLimiters, DEFAULT_PER_IP_LIMIT, DEFAULT_PER_SITE_LIMIT, MAX_TRACKED_BUCKETS, RateLimiter, type RateLimiters } from './rate-limit.ts';

/** A clock the test moves by hand. */
function manualClock(startMs = 1_800_000_000_000) {
  const clock = { nowMs: startMs, now: () => clock.nowMs };
  return clock;
}

/** A browser request as the middleware charges it: the address first, the site only if the address let it through. */
function browserRequest(limiters: RateLimiters, address: string, siteKey: string): boolean {
  return limiters.perIp.take(address) === 0 && limiters.perSite.take(siteKey) === 0;
}

function defaultLimiters(now: () => number): RateLimiters {
  return createRateLimiters({ perIp: DEFAULT_PER_IP_LIMIT, perSite: DEFAULT_PER_SITE_LIMIT }, now);
}

/** Requests per page view: the site config, one event, the subscription check. */
const REQUESTS_PER_PAGE_VIEW = 3;

describe('default limits', () => {
  it('never refuse a shop of 2,000 page views a second, for a whole minute', () => {
    const clock = manualClock();
    const limiters = defaultLimiters(clock.now);
    const requestsPerSecond = 2_000 * REQUESTS_PER_PAGE_VIEW;
    let refused = 0;
    for (let request = 0; request < requestsPerSecond * 60; request++) {
      clock.nowMs += 1000 / requestsPerSecond;
      // 20,000 shoppers, each opening a page every 10 seconds.
      if (!browserRequest(limiters, `shopper-${request % 20_000}`, 'pk_shop')) refused++;
    }
    expect(refused).toBe(0);
  });

  it('absorb a flash-sale spike of 10,000 page views a second for 3 seconds', () => {
    const clock = manualClock();
    const limiters = defaultLimiters(clock.now);
    const requestsPerSecond = 10_000 * REQUESTS_PER_PAGE_VIEW;
    let refused = 0;
    for (let request = 0; request < requestsPerSecond * 3; request++) {
      clock.nowMs += 1000 / requestsPerSecond;
      if (!browserRequest(limiters, `shopper-${request}`, 'pk_shop')) refused++;
    }
    expect(refused).toBe(0);
  });

  it('never refuse 300 shoppers browsing at once behind one carrier NAT address', () => {
    const clock = manualClock();
    const limiters = defaultLimiters(clock.now);
    const requestsPerSecond = (300 * REQUESTS_PER_PAGE_VIEW) / 10;
    let refused = 0;
    for (let request = 0; request < requestsPerSecond * 600; request++) {
      clock.nowMs += 1000 / requestsPerSecond;
      if (!browserRequest(limiters, '192.0.2.1', 'pk_shop')) refused++;
    }
    expect(refused).toBe(0);
  });

  it('keep a flood from five addresses away from a shopper on another address', () => {
    const clock = manualClock();
    const limiters = defaultLimiters(clock.now);
    const flooders = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4', '203.0.113.5'];
    let floodAdmitted = 0;
    let shopperRefused = 0;
    for (let millisecond = 0; millisecond < 30_000; millisecond++) {
      clock.nowMs += 1;
      // Each flooder sends 10 requests a millisecond: 50,000 a second in all.
      for (const flooder of flooders) for (let i = 0; i < 10; i++) if (browserRequest(limiters, flooder, 'pk_shop')) floodAdmitted++;
      if (millisecond % 1000 === 0 && !browserRequest(limiters, '198.51.100.20', 'pk_shop')) shopperRefused++;
    }
    expect(shopperRefused).toBe(0);
    // Each flooder got its own burst and rate, nothing more.
    expect(floodAdmitted).toBeLessThanOrEqual(flooders.length * (DEFAULT_PER_IP_LIMIT.capacity + 30 * DEFAULT_PER_IP_LIMIT.refillPerSecond) + flooders.length);
  });
});

describe('RateLimiter', () => {
  it('answers the seconds until the next token once a bucket is spent, and refills with time', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 0.5 }, clock.now);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(2);
    clock.nowMs += 1_000;
    expect(limiter.take('a')).toBe(1);
    clock.nowMs += 1_000;
    expect(limiter.take('a')).toBe(0);
  });

  it('peeks without spending, and charges failures into at most one burst of debt', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 2, refillPerSecond: 0.25 }, clock.now);
    expect(limiter.peek('a')).toBe(0);
    limiter.charge('a');
    expect(limiter.peek('a')).toBe(0);
    expect(limiter.peek('a')).toBe(0);
    limiter.charge('a');
    expect(limiter.peek('a')).toBe(4);
    // Failures that all passed one look still count: the wait grows, up to one more burst.
    for (let i = 0; i < 10; i++) limiter.charge('a');
    expect(limiter.peek('a')).toBe(12);
    clock.nowMs += 12_000;
    expect(limiter.peek('a')).toBe(0);
  });

  it('stays bounded under an address scan', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 10, refillPerSecond: 0.1 }, clock.now);
    for (let address = 0; address < MAX_TRACKED_BUCKETS * 3; address++) limiter.take(`scan-${address}`);
    expect(limiter.size).toBeLessThanOrEqual(MAX_TRACKED_BUCKETS);
  });

  it('remembers a spent address through a scan, forgetting refilled buckets first', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ capacity: 10, refillPerSecond: 0.1 }, clock.now);
    for (let i = 0; i < 10; i++) limiter.take('flooder');
    // A scan of more new addresses than are kept, one a millisecond; the flooder regains 6 tokens meanwhile.
    for (let address = 0; address < 60_000; address++) {
      clock.nowMs += 1;
      limiter.take(`scan-${address}`);
    }
    expect(limiter.size).toBeLessThanOrEqual(MAX_TRACKED_BUCKETS);
    for (let i = 0; i < 6; i++) expect(limiter.take('flooder')).toBe(0);
    expect(limiter.take('flooder')).toBeGreaterThan(0);
  });
});
