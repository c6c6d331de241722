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
    });
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

  it('derives the public URL from PORT and strips a trailing slash', () => {
    expect(parseConfig({ PORT: '9000' }).publicUrl).toBe('http://localhost:9000');
    expect(parseConfig({ PUSHCART_PUBLIC_URL: 'https://push.shop.example/' }).publicUrl).toBe('https://push.shop.example');
  });
});
