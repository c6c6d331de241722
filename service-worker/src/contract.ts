// What the server, the snippet and the service worker agree on, written once: the push payload, the
// interaction reports, the site config the snippet reads and the record it leaves the service worker.
// The server (payload builder, routes), the snippet and the service worker all import this file, so a
// change one side does not follow fails `tsc -b` instead of a shopper's notification. It imports
// nothing and uses no runtime API: it compiles under the server's Node types, the snippet's DOM and
// the worker's WebWorker lib alike, and bundles to a few constants.

/** Payload format version, so a service worker can tell formats apart as they evolve. */
export const PAYLOAD_VERSION = 1;

/**
 * Browsers show at most two action buttons (Chromium's `Notification.maxActions`); more would be
 * dropped silently by some and refused by others. The send API and templates accept no more, and
 * the service worker shows no more.
 */
export const MAX_ACTIONS = 2;

/** A button on a notification; `url` (on the site's origins) is opened when it is clicked. */
export interface PushAction {
  action: string;
  title: string;
  url?: string;
}

/** Where the service worker reports what became of one delivery, and the token that proves it is that delivery's. */
export interface PushReport {
  /** `<public URL>/v1/interactions` */
  url: string;
  /** `<delivery id>.<32 hex>`, random per delivery. */
  token: string;
}

/** The JSON the server encrypts into one push message and the service worker shows. */
export interface PushPayload {
  v: number;
  /** The notification's id. */
  id: string;
  title: string;
  body: string;
  icon?: string;
  image?: string;
  badge?: string;
  /** Opened on a click outside the buttons. */
  url: string;
  actions?: PushAction[];
  /** A later notification with the same tag replaces this one instead of adding another. */
  tag: string;
  requireInteraction?: boolean;
  /** Null on a dashboard user's test push, which is counted nowhere and so reports nothing. */
  report: PushReport | null;
}

/** What the service worker reports to `POST /v1/interactions`, once per kind and delivery. */
export const INTERACTION_TYPES = ['shown', 'clicked', 'dismissed'] as const;
export type InteractionType = (typeof INTERACTION_TYPES)[number];

/** The body of `POST /v1/interactions`; `action` is the clicked button's, empty for the notification itself. */
export interface InteractionReport {
  token: string;
  type: InteractionType;
  action?: string;
}

/** The answer to `GET /v1/sites/{publishableKey}/config`: what the snippet needs before it subscribes. */
export interface SiteConfig {
  /** The site's VAPID public key, base64url (RFC 8292 §3.2), the snippet's applicationServerKey. */
  vapidPublicKey: string;
  prompt: PromptSettings;
}

/**
 * When the soft prompt shows, its texts in the shopper's language (the server looked them up for
 * the `locale` the snippet sent) and its theme.
 */
export interface PromptSettings {
  trigger: 'page_views' | 'seconds' | 'cart_updated' | 'manual';
  pageViews: number;
  delaySeconds: number;
  /** Days a "Later" answer hides the prompt for. */
  snoozeDays: number;
  texts: { title: string; body: string; allow: string; later: string };
  theme: {
    /** Colours as #rgb or #rrggbb. */
    accent: string;
    /** The label colour on the accent (#ffffff or #111111, whichever reads better). */
    onAccent: string;
    background: string;
    text: string;
    /** CSS pixels, 0–32. */
    radius: number;
    position: 'bottom-right' | 'bottom-left' | 'top' | 'center';
    /** https only. */
    logoUrl?: string;
  };
}

/**
 * Where the snippet leaves what the service worker needs on `pushsubscriptionchange`: IndexedDB on
 * the shop's origin, which its pages and its service worker share (why IndexedDB and nothing else:
 * client-snippet/src/storage.ts).
 */
export const RENEW_DATABASE_NAME = 'pushcart';
export const RENEW_DATABASE_VERSION = 1;
export const RENEW_STORE_NAME = 'kv';
export const RENEW_RECORD_KEY = 'renew';

/** The record under {@link RENEW_RECORD_KEY}, rewritten after each subscription the server stored. */
export interface RenewRecord {
  /** The push host's origin, e.g. https://push.example.com. */
  host: string;
  /** The site's VAPID public key (applicationServerKey), raw bytes. */
  key: Uint8Array<ArrayBuffer>;
  /** The endpoint the server has stored: it authenticates the renewal. */
  endpoint: string;
}
