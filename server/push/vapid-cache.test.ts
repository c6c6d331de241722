import { describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { VAPID_JWT_LIFETIME_SECONDS, VAPID_JWT_REFRESH_MARGIN_SECONDS, VapidHeaderCache } from './vapid-cache.ts';

const keys = { subject: 'mailto:ops@shop.example', ...webpush.generateVAPIDKeys() };

function decodeJwt(header: string): { aud: string; exp: number; sub: string } {
  const token = /t=([^,\s]+)/.exec(header)![1]!;
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('VapidHeaderCache', () => {
  it('signs once per push-service origin and reuses the JWT for every message', () => {
    let nowMs = Date.parse('2026-11-22T12:00:00Z');
    const cache = new VapidHeaderCache(() => nowMs);
    const fcm = Array.from({ length: 1000 }, () => cache.header(keys, 'https://fcm.googleapis.com'));
    const mozilla = cache.header(keys, 'https://updates.push.services.mozilla.com');
    expect(cache.signings).toBe(2);
    expect(new Set(fcm).size).toBe(1);
    expect(decodeJwt(fcm[0]!)).toMatchObject({ aud: 'https://fcm.googleapis.com', sub: keys.subject });
    expect(decodeJwt(mozilla).aud).toBe('https://updates.push.services.mozilla.com');
    expect(decodeJwt(fcm[0]!).exp).toBe(nowMs / 1000 + VAPID_JWT_LIFETIME_SECONDS);
    expect(fcm[0]).toContain(`k=${keys.publicKey}`);
  });

  it('signs again shortly before exp, never hands out a JWT about to expire', () => {
    let nowMs = Date.parse('2026-11-22T12:00:00Z');
    const cache = new VapidHeaderCache(() => nowMs);
    const first = cache.header(keys, 'https://fcm.googleapis.com');
    nowMs += (VAPID_JWT_LIFETIME_SECONDS - VAPID_JWT_REFRESH_MARGIN_SECONDS) * 1000 - 1;
    expect(cache.header(keys, 'https://fcm.googleapis.com')).toBe(first);
    nowMs += 1;
    const second = cache.header(keys, 'https://fcm.googleapis.com');
    expect(second).not.toBe(first);
    expect(cache.signings).toBe(2);
    expect(decodeJwt(second).exp * 1000).toBeGreaterThan(nowMs);
  });

  it('keeps sites apart: another key is another signature', () => {
    const cache = new VapidHeaderCache();
    const other = { subject: keys.subject, ...webpush.generateVAPIDKeys() };
    expect(cache.header(keys, 'https://fcm.googleapis.com')).not.toBe(cache.header(other, 'https://fcm.googleapis.com'));
    expect(cache.signings).toBe(2);
  });
});
