import webpush from 'web-push';
import type { VapidHeaderCache, VapidKeys } from './vapid-cache.ts';

export type Urgency = 'very-low' | 'low' | 'normal' | 'high';

export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface PushOptions {
  ttlSeconds: number;
  urgency: Urgency;
  topic?: string | null;
}

/** One HTTP request to a push service, ready for any fetch. */
export interface PushRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * Encrypts `payload` for one subscription with RFC 8291 (aes128gcm only — the older aesgcm is not
 * a standard), through web-push's `encrypt`. Pure: no cache, no module state, so it can run on any
 * thread (server/runtime/node/encryption-pool.ts runs it off the event loop). Throws when the
 * subscription's keys are unusable (a p256dh that is not a 65-byte point, a short auth secret).
 */
export function encryptPushPayload(target: Pick<PushTarget, 'p256dh' | 'auth'>, payload: string): Uint8Array {
  const { cipherText } = webpush.encrypt(target.p256dh, target.auth, payload, 'aes128gcm');
  return new Uint8Array(cipherText.buffer, cipherText.byteOffset, cipherText.byteLength);
}

/**
 * Wraps an already encrypted body into the request for one subscription: VAPID from the cache
 * (RFC 8292) and the RFC 8030 headers. Cheap (the JWT is signed once per origin and lifetime), so it
 * stays on the thread that sends.
 */
export function assemblePushRequest(
  endpoint: string,
  body: Uint8Array,
  vapid: VapidKeys,
  options: PushOptions,
  vapidCache: VapidHeaderCache,
): PushRequest {
  const audience = new URL(endpoint).origin;
  const headers: Record<string, string> = {
    Authorization: vapidCache.header(vapid, audience),
    'Content-Encoding': 'aes128gcm',
    'Content-Type': 'application/octet-stream',
    TTL: String(options.ttlSeconds),
    Urgency: options.urgency,
  };
  if (options.topic) headers.Topic = options.topic;
  return { url: endpoint, headers, body };
}
