import type { ListPosition } from '../db/subscribers.ts';
import { decodeBase64Url, encodeBase64Url } from '../push/base64url.ts';

/** microseconds since the epoch (at most 17 digits until the year 5000), a dot, the subscription id. */
const POSITION = /^(\d{1,17})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * The list's `nextCursor`: where the next page starts, opaque to callers (base64url) so that what
 * it holds may change without breaking anyone who only hands it back.
 */
export function encodeCursor(position: ListPosition): string {
  return encodeBase64Url(new TextEncoder().encode(`${position.createdAtMicros}.${position.id}`));
}

/** The position a cursor from `encodeCursor` holds, or undefined for anything else. */
export function decodeCursor(cursor: string): ListPosition | undefined {
  const bytes = decodeBase64Url(cursor);
  if (bytes === undefined) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const match = POSITION.exec(text);
  return match ? { createdAtMicros: match[1]!, id: match[2]! } : undefined;
}
