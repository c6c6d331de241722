/**
 * "Allow test pushes in this browser" on the install page: registers Pushcart's own service worker
 * on the dashboard's origin under a scope of the shop's (so two shops with different VAPID keys get
 * two subscriptions), subscribes with the shop's VAPID key, and posts the subscription to the
 * dashboard with the page's CSRF token. Everything else on the section (sending, removing) is a
 * plain form. Served from /dashboard/assets/ (CSP `script-src 'self'`; the worker falls under it).
 */
export const TEST_PUSH_JS = `(function () {
  'use strict';
  var section = document.querySelector('[data-test-push]');
  if (!section) return;
  var button = section.querySelector('button[data-test-push-enable]');
  var status = section.querySelector('[data-test-push-status]');
  function say(text) { if (status) status.textContent = text; }
  if (!button) return;
  if (!window.isSecureContext || !('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    say('This browser cannot receive pushes from this address (it needs https, or localhost, and a browser with Push API support).');
    return;
  }
  if (Notification.permission === 'denied') {
    say('Notifications are blocked for this address in this browser. Allow them in the site settings (the icon left of the address bar), then reload.');
    return;
  }
  var scope = section.getAttribute('data-scope');
  var workerUrl = section.getAttribute('data-worker');
  var devicesUrl = section.getAttribute('data-devices');
  var key = section.getAttribute('data-vapid-key');
  var csrf = section.querySelector('input[name="_csrf"]');
  function keyBytes(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    var raw = atob(base64 + '==='.slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  // pushManager.subscribe() needs an active worker; this page is outside the worker's scope, so
  // serviceWorker.ready (which waits for this page's controller) never settles: wait on the worker.
  function activated(registration) {
    if (registration.active) return Promise.resolve(registration);
    var worker = registration.installing || registration.waiting;
    return new Promise(function (resolve, reject) {
      if (!worker) { reject(new Error('no service worker')); return; }
      worker.addEventListener('statechange', function () {
        if (worker.state === 'activated') resolve(registration);
        if (worker.state === 'redundant') reject(new Error('the service worker did not install'));
      });
    });
  }
  button.hidden = false;
  // A browser already set up says so; asking again only refreshes its subscription on the server.
  navigator.serviceWorker.getRegistration(scope)
    .then(function (registration) { return registration ? registration.pushManager.getSubscription() : null; })
    .then(function (subscription) {
      if (!subscription || Notification.permission !== 'granted') return;
      button.textContent = 'Set up this browser again';
      say('This browser receives test pushes.');
    })
    .catch(function () {});
  button.addEventListener('click', function () {
    button.disabled = true;
    say('Asking this browser…');
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== 'granted') throw new Error(permission === 'denied' ? 'Notifications were blocked. Allow them in the site settings and try again.' : 'Notifications were not allowed.');
        return navigator.serviceWorker.register(workerUrl, { scope: scope });
      })
      .then(activated)
      .then(function (registration) {
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
      })
      .then(function (subscription) {
        var json = subscription.toJSON();
        var body = new URLSearchParams();
        body.set('_csrf', csrf ? csrf.value : '');
        body.set('endpoint', json.endpoint || '');
        body.set('p256dh', (json.keys && json.keys.p256dh) || '');
        body.set('auth', (json.keys && json.keys.auth) || '');
        return fetch(devicesUrl, { method: 'POST', body: body, credentials: 'same-origin', headers: { Accept: 'text/html' } });
      })
      .then(function (response) {
        // The answer is the install page again (after a redirect), showing the browser in the list.
        if (!response.ok) throw new Error('The dashboard did not keep this browser (' + response.status + '). Reload the page and try again.');
        window.location.assign(response.url.split('#')[0] + '#test-push');
      })
      .catch(function (error) {
        button.disabled = false;
        say(error && error.message ? error.message : 'This browser could not be set up for test pushes.');
      });
  });
})();
`;
