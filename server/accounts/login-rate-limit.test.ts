import { describe, expect, it } from 'vitest';
import { DEFAULT_LOGIN_ACCOUNT_LIMIT, DEFAULT_LOGIN_ADDRESS_LIMIT, LoginRateLimiter, loginAccountKey } from './login-rate-limit.ts';

function limiterWithClock() {
  let nowMs = Date.UTC(2030, 0, 15, 9, 0, 0);
  const limiter = new LoginRateLimiter(() => nowMs);
  return { limiter, advance: (ms: number) => (nowMs += ms) };
}

describe('the sign-in limit per account', () => {
  it('allows 10 wrong passwords from anywhere, then one a minute', () => {
    const { limiter, advance } = limiterWithClock();
    for (let i = 0; i < 10; i++) {
      expect(limiter.retryAfterSeconds('owner@shop.example', `198.51.100.${i}`)).toBe(0);
      limiter.recordFailure('owner@shop.example', `198.51.100.${i}`);
    }
    expect(limiter.retryAfterSeconds('owner@shop.example', '203.0.113.7')).toBeCloseTo(60, 5);
    advance(59_000);
    expect(limiter.retryAfterSeconds('owner@shop.example', '203.0.113.7')).toBeGreaterThan(0);
    advance(1_000);
    expect(limiter.retryAfterSeconds('owner@shop.example', '203.0.113.7')).toBe(0);
    limiter.recordFailure('owner@shop.example', '203.0.113.7');
    expect(limiter.retryAfterSeconds('owner@shop.example', '203.0.113.7')).toBeCloseTo(60, 5);
    expect(DEFAULT_LOGIN_ACCOUNT_LIMIT).toEqual({ capacity: 10, refillPerSecond: 1 / 60 });
  });

  it('counts an email however it is written', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 10; i++) limiter.recordFailure(i % 2 ? ' OWNER@shop.example' : 'owner@SHOP.example ', `198.51.100.${i}`);
    expect(limiter.retryAfterSeconds('owner@shop.example', '203.0.113.7')).toBeGreaterThan(0);
    expect(loginAccountKey(' Owner@Shop.Example')).toBe('owner@shop.example');
  });

  it('holds other accounts unaffected', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 10; i++) limiter.recordFailure('owner@shop.example', `198.51.100.${i}`);
    expect(limiter.retryAfterSeconds('editor@shop.example', '203.0.113.7')).toBe(0);
  });
});

describe('the sign-in limit per address', () => {
  it('allows 30 wrong passwords across accounts, then one every 10 seconds', () => {
    const { limiter, advance } = limiterWithClock();
    for (let i = 0; i < 30; i++) limiter.recordFailure(`person${i}@shop.example`, '198.51.100.1');
    expect(limiter.retryAfterSeconds('someone-new@shop.example', '198.51.100.1')).toBeCloseTo(10, 5);
    expect(limiter.retryAfterSeconds('someone-new@shop.example', '198.51.100.2')).toBe(0);
    advance(10_000);
    expect(limiter.retryAfterSeconds('someone-new@shop.example', '198.51.100.1')).toBe(0);
    expect(DEFAULT_LOGIN_ADDRESS_LIMIT).toEqual({ capacity: 30, refillPerSecond: 0.1 });
  });

  it('counts an IPv6 /64 as one address', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 30; i++) limiter.recordFailure(`person${i}@shop.example`, `2001:db8:1:2::${(i + 1).toString(16)}`);
    expect(limiter.retryAfterSeconds('someone-new@shop.example', '2001:db8:1:2::ffff')).toBeGreaterThan(0);
    expect(limiter.retryAfterSeconds('someone-new@shop.example', '2001:db8:1:3::1')).toBe(0);
  });

  it('is not spent by asking', () => {
    const { limiter } = limiterWithClock();
    for (let i = 0; i < 1_000; i++) expect(limiter.retryAfterSeconds('owner@shop.example', '198.51.100.1')).toBe(0);
  });
});
