// pushsubscriptionchange: the browser (or push service) replaced the subscription; subscribe again
// and let the server swap the endpoints atomically. The push host and VAPID key come from the
// IndexedDB record the snippet writes after each sync (client-snippet/src/storage.ts): an
// importScripts'd file cannot learn its own URL (self.location is the shop's file), and this event
// may arrive before any push payload (which carries the host in report.url) ever did.

import { RENEW_DATABASE_NAME, RENEW_DATABASE_VERSION, RENEW_RECORD_KEY, RENEW_STORE_NAME, type RenewRecord } from './contract';

declare const self: ServiceWorkerGlobalScope;

function withStore<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(RENEW_DATABASE_NAME, RENEW_DATABASE_VERSION);
    open.onupgradeneeded = () => open.result.createObjectStore(RENEW_STORE_NAME);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(RENEW_STORE_NAME, mode);
      const request = use(tx.objectStore(RENEW_STORE_NAME));
      tx.oncomplete = () => {
        db.close();
        resolve(request.result);
      };
      tx.onerror = tx.onabort = () => {
        db.close();
        reject(tx.error);
      };
    };
  });
}

export async function renewSubscription(event: PushSubscriptionChangeEvent): Promise<void> {
  const saved = await withStore<RenewRecord | undefined>('readonly', (store) => store.get(RENEW_RECORD_KEY));
  const old = event.oldSubscription;
  const oldEndpoint = old?.endpoint || saved?.endpoint;
  if (!saved?.host || !oldEndpoint) return; // never subscribed through the snippet: nothing to renew
  const subscription =
    event.newSubscription ||
    (await self.registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: old?.options.applicationServerKey || saved.key,
    }));
  // No key header: the old endpoint, a secret only the browser and the server know, authenticates it.
  const response = await fetch(`${saved.host}/v1/subscriptions/renew`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ oldEndpoint, subscription: subscription.toJSON() }),
  });
  if (response.ok) await withStore('readwrite', (store) => store.put({ ...saved, endpoint: subscription.endpoint } satisfies RenewRecord, RENEW_RECORD_KEY));
}
