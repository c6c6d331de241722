import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

function configError(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('gives working defaults for an empty environment', () => {
    expect(parseConfig({})).toMatchObject({
      port: 8787,
      databaseUrl: undefined,
      dataDir: './.pushcart',
      publicUrl: 'http://localhost:8787',
      adminToken: undefined,
      extraPushHosts: [],
      ownerEmail: 'owner@localhost.invalid',
    });
  });

  it('takes the first owner’s email as the dashboard stores it, and refuses one that is not an address', () => {
    expect(parseConfig({ PUSHCART_OWNER_EMAIL: ' Maria@Shop.Example ' }).ownerEmail).toBe('maria@shop.example');
    for (const email of ['maria', 'maria@localhost', 'maria @shop.example']) {
      const message = configError({ PUSHCART_OWNER_EMAIL: email });
      expect(message).toMatch(/^Invalid configuration — PUSHCART_OWNER_EMAIL: .*not an email address/);
      expect(message).not.toContain('\n');
    }
  });

  it.each(['mailto:ops@shop.example', 'https://shop.example/contact'])('accepts the VAPID subject %s', (subject) => {
    expect(parseConfig({ PUSHCART_VAPID_SUBJECT: subject }).vapidSubject).toBe(subject);
  });

  it.each(['ops@shop.example', 'http://shop.example', 'mailto:nobody', 'https://'])(
    'refuses the VAPID subject %s with one line naming the variable',
    (subject) => {
      const message = configError({ PUSHCART_VAPID_SUBJECT: subject });
      expect(message).toMatch(/^Invalid configuration — PUSHCART_VAPID_SUBJECT: .*mailto:/);
      expect(message).not.toContain('\n');
    },
  );

  it('names every bad variable at once', () => {
    const message = configError({ PORT: '99999', DATABASE_URL: 'mysql://x', PUSHCART_PUBLIC_URL: 'ftp://x' });
    expect(message).toContain('PORT:');
    expect(message).toContain('DATABASE_URL:');
    expect(message).toContain('PUSHCART_PUBLIC_URL:');
  });

  it('parses PUSHCART_PUSH_HOSTS as host[:port] entries and refuses URLs', () => {
    expect(parseConfig({ PUSHCART_PUSH_HOSTS: 'localhost:9443, push.test' }).extraPushHosts).toEqual([
      { hostname: 'localhost', port: '9443' },
      { hostname: 'push.test', port: '' },
    ]);
    expect(configError({ PUSHCART_PUSH_HOSTS: 'https://localhost:9443/' })).toContain('PUSHCART_PUSH_HOSTS');
  });

  it('requires a 32-byte master key and a long admin token', () => {
    expect(configError({ PUSHCART_MASTER_KEY: 'short' })).toContain('PUSHCART_MASTER_KEY');
    expect(configError({ PUSHCART_ADMIN_TOKEN: 'secret' })).toContain('PUSHCART_ADMIN_TOKEN');
    expect(parseConfig({ PUSHCART_MASTER_KEY: 'a'.repeat(64) }).masterKey).toBe('a'.repeat(64));
  });

  it('takes the metrics token from PUSHCART_METRICS_TOKEN, else the admin token, and refuses a short one', () => {
    const admin = 'admin-token-0123456789abcdef';
    const metrics = 'metrics-token-0123456789abcdef';
    expect(parseConfig({}).metricsToken).toBeUndefined();
    expect(parseConfig({ PUSHCART_ADMIN_TOKEN: admin }).metricsToken).toBe(admin);
    expect(parseConfig({ PUSHCART_ADMIN_TOKEN: admin, PUSHCART_METRICS_TOKEN: metrics }).metricsToken).toBe(metrics);
    expect(parseConfig({ PUSHCART_METRICS_TOKEN: metrics }).adminToken).toBeUndefined();
    const message = configError({ PUSHCART_METRICS_TOKEN: 'short' });
    expect(message).toMatch(/^Invalid configuration — PUSHCART_METRICS_TOKEN: must be at least 24 characters/);
  });

  it('derives the public URL from PORT and strips a trailing slash', () => {
    expect(parseConfig({ PORT: '9000' }).publicUrl).toBe('http://localhost:9000');
    expect(parseConfig({ PUSHCART_PUBLIC_URL: 'https://push.shop.example/' }).publicUrl).toBe('https://push.shop.example');
  });
  it('trusts no proxy by default and limits with defaults that fit a shop of 2,000 page views a second', () => {
    const config = parseConfig({});
    expect(config.trustedProxies).toEqual([]);
    expect(config.rateLimitPerIp).toEqual({ capacity: 1000, refillPerSecond: 100 });
    expect(config.rateLimitPerSite).toEqual({ capacity: 60000, refillPerSecond: 12000 });
  });

  it('parses PUSHCART_TRUSTED_PROXIES as IPv4 and IPv6 addresses and CIDR blocks', () => {
    const ranges = parseConfig({ PUSHCART_TRUSTED_PROXIES: ' 10.0.0.0/8, 192.0.2.7 ,::1, 2001:db8::/32,' }).trustedProxies;
    expect(ranges.map((range) => [range.network.version, range.prefixLength])).toEqual([
      [4, 8],
      [4, 32],
      [6, 128],
      [6, 32],
    ]);
  });

  it.each([
    ['proxy.internal', /not an IPv4 or IPv6 address/],
    ['10.0.0.0/33', /prefix length/],
    ['10.1.2.3/8', /did you mean 10\.0\.0\.0\/8/],
    ['fe80::1%eth0', /not an IPv4 or IPv6 address/],
    ['10.0.0.0/8 192.0.2.7', /separate entries with commas/],
  ])('refuses PUSHCART_TRUSTED_PROXIES=%s on one line naming the variable', (value, reason) => {
    const message = configError({ PUSHCART_TRUSTED_PROXIES: value });
    expect(message).toMatch(/^Invalid configuration — PUSHCART_TRUSTED_PROXIES: /);
    expect(message).toMatch(reason);
    expect(message).not.toContain('\n');
  });

  it('parses the rate limits as BURST/PER_SECOND', () => {
    const config = parseConfig({ PUSHCART_RATE_LIMIT_PER_IP: '300/30', PUSHCART_RATE_LIMIT_PER_SITE: ' 5000 / 2.5 ' });
    expect(config.rateLimitPerIp).toEqual({ capacity: 300, refillPerSecond: 30 });
    expect(config.rateLimitPerSite).toEqual({ capacity: 5000, refillPerSecond: 2.5 });
  });

  it.each(['100', '0/10', '10/0', '-5/1', '10/-1', '1.5/1', 'ten/1', '10/1/1', '1e3/1', '10/'])(
    'refuses the rate limit %j, naming the variable and the format',
    (value) => {
      for (const variable of ['PUSHCART_RATE_LIMIT_PER_IP', 'PUSHCART_RATE_LIMIT_PER_SITE']) {
        const message = configError({ [variable]: value });
        expect(message).toMatch(new RegExp(`^Invalid configuration — ${variable}: .*BURST/PER_SECOND`));
      }
    },
  );
});
