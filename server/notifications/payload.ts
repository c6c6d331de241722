import { PAYLOAD_VERSION, type PushPayload, type PushReport } from '../../service-worker/src/contract.ts';
import type { NotificationContent } from '../db/database.ts';

/**
 * The largest push payload we build, in bytes of UTF-8 JSON. A push message body may be
 * 4,096 bytes (RFC 8030 §7.2); aes128gcm adds a 86-byte header (salt 16, rs 4, idlen 1, key 65,
 * RFC 8188 §2.1) plus a 16-byte tag and a 1-byte padding delimiter (RFC 8291 §4): 4,096 − 103 = 3,993.
 */
export const MAX_PAYLOAD_BYTES = 3993;

/** The longest report token the builder can produce: a bigint delivery id, a dot, 32 hex characters. */
export const WORST_CASE_REPORT_TOKEN = `${'9'.repeat(19)}.${'f'.repeat(32)}`;

/** The JSON the service worker receives for one delivery; its shape is the service worker's {@link PushPayload}. */
export function buildPayload(notificationId: string, content: NotificationContent, report: PushReport | null): string {
  // Every field written out, none spread in: a field the contract renames or drops is then a
  // compile error here, not a key the service worker silently stops reading. JSON.stringify leaves
  // out the absent (undefined) ones.
  const payload: PushPayload = {
    v: PAYLOAD_VERSION,
    id: notificationId,
    title: content.title,
    body: content.body,
    icon: content.icon,
    image: content.image,
    badge: content.badge,
    url: content.url,
    actions: content.actions,
    tag: content.tag,
    requireInteraction: content.requireInteraction,
    report,
  };
  return JSON.stringify(payload);
}

export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

/** Bytes the largest delivery of this content would take: checked before anything is queued. */
export function worstCasePayloadBytes(notificationId: string, content: NotificationContent, reportUrl: string): number {
  return utf8Bytes(buildPayload(notificationId, content, { url: reportUrl, token: WORST_CASE_REPORT_TOKEN }));
}

export function reportUrl(publicUrl: string): string {
  return `${publicUrl}/v1/interactions`;
}
