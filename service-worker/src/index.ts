// pushcart-sw.js, loaded by the shop's one-line file `importScripts('https://PUSH_HOST/pushcart-sw.js')`
// or by a shop's own service worker. It only adds listeners, and only handles notifications it
// made, so it coexists with the shop's code. It never calls skipWaiting() or clients.claim(): in a
// shop's own worker that would change their update behaviour under their open tabs, and push needs
// neither (push events reach an active worker whether or not it controls any page; a first install
// activates at once; an update waits for the old tabs, which changes nothing for notifications).
import type { InteractionReport, InteractionType, PushReport } from './contract';
import { fallbackNotification, notificationOptions, parsePayload, safeUrl, type NotificationData } from './notification';
import { renewSubscription } from './renew';

declare const self: ServiceWorkerGlobalScope;

const origin = self.location.origin;

/** Per-delivery reports to POST /v1/interactions; a lost report must never break a notification. */
function report(target: PushReport | null | undefined, type: InteractionType, action?: string): Promise<void> {
  if (!target || typeof target.url !== 'string') return Promise.resolve();
  return fetch(target.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: target.token, type, action } satisfies InteractionReport),
    keepalive: true,
  }).then(
    () => {},
    () => {},
  );
}

function ours(data: unknown): data is NotificationData {
  return typeof data === 'object' && data !== null && 'report' in data;
}

self.addEventListener('push', (event) => {
  const payload = parsePayload(event.data);
  const fallback = () => self.registration.showNotification(...fallbackNotification(origin));
  event.waitUntil(
    Promise.resolve()
      .then(() => (payload ? self.registration.showNotification(payload.title, notificationOptions(payload)) : fallback()))
      .catch(fallback) // options the browser refused: still show something, never stay silent
      .then(() => report(payload?.report, 'shown')),
  );
});

self.addEventListener('notificationclick', (event) => {
  const notification = event.notification;
  const data: unknown = notification.data;
  if (!ours(data)) return;
  notification.close();
  const action = event.action || '';
  const chosen = action ? data.actions?.find((candidate) => candidate.action === action) : undefined;
  const url = safeUrl(chosen?.url || data.url, origin);
  event.waitUntil(
    Promise.all([
      self.clients
        .matchAll({ type: 'window', includeUncontrolled: true })
        .then((tabs) => {
          const open = tabs.find((tab) => tab.url === url);
          return open ? open.focus() : self.clients.openWindow(url);
        })
        .catch(() => {}),
      report(data.report, 'clicked', action),
    ]),
  );
});

self.addEventListener('notificationclose', (event) => {
  const data: unknown = event.notification.data;
  if (ours(data)) event.waitUntil(report(data.report, 'dismissed'));
});

self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil(renewSubscription(event).catch(() => {}));
});
