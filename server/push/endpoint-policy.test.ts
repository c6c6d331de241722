import { describe, expect, it } from 'vitest';
import { checkPushEndpoint, MAX_ENDPOINT_LENGTH, pushServiceOf } from './endpoint-policy.ts';

const noExtraHosts: never[] = [];

describe('checkPushEndpoint', () => {
  it.each([
    'https://fcm.googleapis.com/fcm/send/abc',
    'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
    'https://web.push.apple.com/QGZ1',
    'https://api.push.apple.com/3/device/x',
    'https://wns2-par02p.notify.windows.com/w/?token=BQYAAA',
    'https://fcm.googleapis.com:443/fcm/send/abc',
  ])('accepts the real push service %s', (endpoint) => {
    expect(checkPushEndpoint(endpoint, noExtraHosts).ok).toBe(true);
  });

  it.each([
    ['plain http', 'http://fcm.googleapis.com/fcm/send/abc'],
    ['link-local metadata address', 'https://169.254.169.254/latest/meta-data'],
    ['loopback', 'https://127.0.0.1/x'],
    ['IPv6 loopback', 'https://[::1]/x'],
    ['unspecified address', 'https://0.0.0.0/x'],
    ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/x'],
    ['decimal IPv4', 'https://2130706433/x'],
    ['hex shorthand IPv4', 'https://0x7f.1/x'],
    ['carrier-grade NAT', 'https://100.64.0.1/x'],
    ['IP host with a push-service-looking path', 'https://169.254.169.254/.apple.com/'],
    ['userinfo that looks like the host', 'https://fcm.googleapis.com@evil.example/'],
    ['look-alike suffix', 'https://fcm.googleapis.com.evil.example/'],
    ['fragment that looks like the host', 'https://evil.example#.googleapis.com/'],
    ['other port', 'https://fcm.googleapis.com:8443/fcm/send/abc'],
    ['bare suffix of a wildcard entry', 'https://push.apple.com/x'],
    ['suffix without a label boundary', 'https://evilpush.apple.com.example/x'],
    ['label-boundary look-alike', 'https://evil-notify.windows.com/x'],
    ['trailing dot', 'https://fcm.googleapis.com./fcm/send/abc'],
    ['not a URL', 'fcm.googleapis.com/fcm/send/abc'],
    ['javascript scheme', 'javascript:alert(1)'],
  ])('refuses %s', (_label, endpoint) => {
    expect(checkPushEndpoint(endpoint, noExtraHosts).ok).toBe(false);
  });

  it('refuses an endpoint one character over the length limit', () => {
    const base = 'https://fcm.googleapis.com/fcm/send/';
    const atLimit = base + 'a'.repeat(MAX_ENDPOINT_LENGTH - base.length);
    expect(checkPushEndpoint(atLimit, noExtraHosts).ok).toBe(true);
    expect(checkPushEndpoint(atLimit + 'a', noExtraHosts).ok).toBe(false);
  });

  it('accepts a configured extra host only on its configured port', () => {
    const extra = [{ hostname: 'localhost', port: '9443' }];
    expect(checkPushEndpoint('https://localhost:9443/push/1', extra).ok).toBe(true);
    expect(checkPushEndpoint('https://localhost/push/1', extra).ok).toBe(false);
    expect(checkPushEndpoint('https://localhost:9444/push/1', extra).ok).toBe(false);
    expect(checkPushEndpoint('http://localhost:9443/push/1', extra).ok).toBe(false);
  });

  it('says why an endpoint was refused', () => {
    const verdict = checkPushEndpoint('https://fcm.googleapis.com:8443/x', noExtraHosts);
    expect(verdict).toEqual({ ok: false, reason: 'endpoint must use port 443' });
  });
});

describe('pushServiceOf (the metrics label)', () => {
  it.each([
    ['https://fcm.googleapis.com/fcm/send/abc', 'fcm.googleapis.com'],
    ['https://updates.push.services.mozilla.com/wpush/v2/gAAAA', 'updates.push.services.mozilla.com'],
    ['https://web.push.apple.com/QGZ1', 'push.apple.com'],
    ['https://api.push.apple.com/QGZ1', 'push.apple.com'],
    ['https://wns2-by3p.notify.windows.com/w/?token=x', 'notify.windows.com'],
    ['https://db5p.notify.windows.com/w/?token=y', 'notify.windows.com'],
    ['https://localhost:9443/push/1', 'localhost:9443'],
    ['https://evil.example/push', 'other'],
    ['https://fcm.googleapis.com:8443/x', 'other'],
    ['https://pushapple.com/x', 'other'],
    ['not a url', 'other'],
  ])('labels %s as %s: one value per push service, not per host', (endpoint, label) => {
    expect(pushServiceOf(endpoint, [{ hostname: 'localhost', port: '9443' }])).toBe(label);
  });
});
