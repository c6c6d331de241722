import { decodeBase64Url } from './base64url.ts';

/** Bytes in an uncompressed SEC1 P-256 point: 0x04 ‖ X ‖ Y (RFC 8291 §3.1). */
export const P256_UNCOMPRESSED_POINT_BYTES = 65;
/** The auth secret is exactly 16 bytes (RFC 8291 §3.2). */
export const AUTH_SECRET_BYTES = 16;

// NIST P-256 domain parameters (SEC 2 §2.4.2): y² = x³ − 3x + b over GF(p).
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function toBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function mod(value: bigint): bigint {
  const result = value % P;
  return result < 0n ? result + P : result;
}

/**
 * True when `bytes` is an uncompressed point that lies on P-256. A key off the curve cannot be
 * used for ECDH; accepting it would only fail later, at send time, for every notification.
 */
export function isP256UncompressedPoint(bytes: Uint8Array): boolean {
  if (bytes.length !== P256_UNCOMPRESSED_POINT_BYTES || bytes[0] !== 0x04) return false;
  const x = toBigInt(bytes.subarray(1, 33));
  const y = toBigInt(bytes.subarray(33, 65));
  if (x >= P || y >= P) return false;
  return mod(y * y) === mod(x * x * x - 3n * x + B);
}

export type KeyProblem = 'p256dh' | 'auth';

/** Checks a PushSubscription's keys; returns a human message for the first problem, or undefined. */
export function checkSubscriptionKeys(keys: { p256dh: string; auth: string }): { field: KeyProblem; message: string } | undefined {
  const p256dh = decodeBase64Url(keys.p256dh);
  if (!p256dh) return { field: 'p256dh', message: 'keys.p256dh must be unpadded base64url' };
  if (!isP256UncompressedPoint(p256dh)) {
    return { field: 'p256dh', message: 'keys.p256dh must be a 65-byte uncompressed P-256 point on the curve' };
  }
  const auth = decodeBase64Url(keys.auth);
  if (!auth) return { field: 'auth', message: 'keys.auth must be unpadded base64url' };
  if (auth.length !== AUTH_SECRET_BYTES) return { field: 'auth', message: `keys.auth must decode to exactly ${AUTH_SECRET_BYTES} bytes` };
  return undefined;
}
