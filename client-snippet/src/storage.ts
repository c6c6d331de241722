// First-party storage for the snippet. Every access is wrapped: Safari's private mode, blocked
// cookies and sandboxed iframes make localStorage and IndexedDB throw, and the page must not notice.
import { RENEW_DATABASE_NAME, RENEW_DATABASE_VERSION, RENEW_RECORD_KEY, RENEW_STORE_NAME, type RenewRecord } from '../../service-worker/src/contract';

const PREFIX = 'pushcart:';

export function load(key: string): string | null {
  try {
    return localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

export function save(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, value);
  } catch {
    // Storage unavailable: the value lives for this page only.
  }
}

export function toBase64Url(bytes: ArrayBuffer | Uint8Array): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** atob is forgiving about missing padding (HTML "forgiving-base64 decode"), so none is added. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
}

/** A random first-party id (16 bytes → 22 base64url characters); never derived from the shopper. */
export function visitorId(): string {
  let id = load('visitor');
  if (!id || !/^[\w-]{22}$/.test(id)) {
    id = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
    save('visitor', id);
  }
  return id;
}

/**
 * What the service worker needs on `pushsubscriptionchange`, when no page and no payload is at hand,
 * written to IndexedDB (same origin as the service worker, so it reads the same database). Not the
 * Cache API: shops' own service workers commonly delete every cache they do not know on activate.
 * Not postMessage: the worker may be asleep or not yet active, and its memory is lost when it stops.
 */
export function shareWithServiceWorker(record: RenewRecord): void {
  try {
    const open = indexedDB.open(RENEW_DATABASE_NAME, RENEW_DATABASE_VERSION);
    open.onupgradeneeded = () => open.result.createObjectStore(RENEW_STORE_NAME);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(RENEW_STORE_NAME, 'readwrite');
      tx.objectStore(RENEW_STORE_NAME).put(record, RENEW_RECORD_KEY);
      tx.oncomplete = tx.onerror = () => db.close();
    };
  } catch {
    // No IndexedDB: a rotated subscription is then picked up by the next page load's re-sync.
  }
}
