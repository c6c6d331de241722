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
 * Builds the request that delivers `payload` to one subscription: the body encrypted with RFC 8291
 * (aes128gcm only — the older aesgcm is not a standard), VAPID from the cache (RFC 8292), and the
 * RFC 8030 headers. Pure apart from the cache it is handed; sending is someone else's job.
 */
export function buildPushRequest(
  target: PushTarget,
  payload: string,
  vapid: VapidKeys,
  options: PushOptions,
  vapidCache: VapidHeaderCache,
): PushRequest {
  const { cipherText } = webpush.encrypt(target.p256dh, target.auth, payload, 'aes128gcm');
  const audience = new URL(target.endpoint).origin;
  const headers: Record<string, string> = {
    Authorization: vapidCache.header(vapid, audience),
    'Content-Encoding': 'aes128gcm',
    'Content-Type': 'application/octet-stream',
    TTL: String(options.ttlSeconds),
    Urgency: options.urgency,
  };
  if (options.topic) headers.Topic = options.topic;
  return { url: target.endpoint, headers, body: new Uint8Array(cipherText.buffer, cipherText.byteOffset, cipherText.byteLength) };
}
