// Turning a push payload (the server's buildPayload, server/notifications/payload.ts) into what showNotification takes.
import { MAX_ACTIONS, type PushAction, type PushPayload, type PushReport } from './contract';

/** What every Pushcart notification carries; `report` (null on the fallback) marks it as ours. */
export interface NotificationData {
  id?: string;
  url?: string;
  actions?: PushAction[];
  report: PushReport | null;
}

// TypeScript's lib lacks `actions` and `image`, which Chromium and Firefox support.
type Options = NotificationOptions & { actions?: { action: string; title: string }[]; image?: string };

/** Null when the push is not a payload we can show; the caller then shows the fallback. */
export function parsePayload(data: PushMessageData | null): PushPayload | null {
  try {
    const payload = data?.json() as PushPayload | null;
    return payload && typeof payload.title === 'string' ? payload : null;
  } catch {
    return null;
  }
}

/** Throws on a malformed payload (e.g. actions not an array); the caller falls back. */
export function notificationOptions(payload: PushPayload): Options {
  const actions = (payload.actions ?? []).slice(0, MAX_ACTIONS);
  const data: NotificationData = { id: payload.id, url: payload.url, actions, report: payload.report };
  return {
    body: payload.body,
    icon: payload.icon,
    image: payload.image,
    badge: payload.badge,
    actions: actions.map(({ action, title }) => ({ action, title })),
    requireInteraction: !!payload.requireInteraction,
    tag: payload.tag, // the same tag replaces the earlier notification instead of adding one
    data,
  };
}

/** Shown for a push we cannot read: browsers revoke permission from sites whose pushes show nothing. */
export function fallbackNotification(origin: string): [string, Options] {
  const data: NotificationData = { url: `${origin}/`, report: null };
  return [new URL(origin).hostname, { body: 'You have a new notification', tag: 'pushcart-fallback', data }];
}

/** Only http(s) pages on the shop's own origin; anything else (javascript:, other sites) → the site root. */
export function safeUrl(url: unknown, origin: string): string {
  try {
    const parsed = new URL(String(url), origin);
    if (/^https?:$/.test(parsed.protocol) && parsed.origin === origin) return parsed.href;
  } catch {
    // not a URL
  }
  return `${origin}/`;
}
