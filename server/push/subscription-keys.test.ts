import { describe, expect, it } from 'vitest';
import { browserSubscription } from '../testing/fixtures.ts';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';
import { checkSubscriptionKeys, isP256UncompressedPoint } from './subscription-keys.ts';

describe('checkSubscriptionKeys', () => {
  it('accepts keys made by WebCrypto, as a browser makes them', async () => {
    const { keys } = await browserSubscription();
    expect(checkSubscriptionKeys(keys)).toBeUndefined();
  });

  it('refuses a 64-byte p256dh (missing the 0x04 prefix)', async () => {
    const { keys } = await browserSubscription();
    const raw = decodeBase64Url(keys.p256dh)!;
    expect(checkSubscriptionKeys({ ...keys, p256dh: encodeBase64Url(raw.subarray(1)) })?.field).toBe('p256dh');
  });

  it('refuses a point that is not on the curve', async () => {
    const { keys } = await browserSubscription();
    const raw = decodeBase64Url(keys.p256dh)!.slice();
    raw[64] = raw[64]! ^ 0x01; // flip one bit of y
    expect(isP256UncompressedPoint(raw)).toBe(false);
    expect(checkSubscriptionKeys({ ...keys, p256dh: encodeBase64Url(raw) })?.field).toBe('p256dh');
  });

  it('refuses padded or standard-alphabet base64', async () => {
    const { keys } = await browserSubscription();
    const padded = Buffer.from(decodeBase64Url(keys.p256dh)!).toString('base64'); // 88 chars with "=" padding
    expect(padded.endsWith('=')).toBe(true);
    expect(checkSubscriptionKeys({ ...keys, p256dh: padded })?.field).toBe('p256dh');
  });

  it('refuses a 15-byte auth secret and accepts 16', async () => {
    const { keys } = await browserSubscription();
    expect(checkSubscriptionKeys({ ...keys, auth: encodeBase64Url(new Uint8Array(15)) })?.field).toBe('auth');
    expect(checkSubscriptionKeys({ ...keys, auth: encodeBase64Url(new Uint8Array(16)) })).toBeUndefined();
  });
});
