/**
 * The template editor's live preview: as the owner types, the form is posted with
 * `intent=preview` (which stores nothing) and the preview the server drew from it replaces the
 * one on the page, so the browser shows exactly what the Preview button would, rendered by the
 * same code as the pushes. Without this script the Preview button does the same by a full page
 * load. Served from /dashboard/assets/ like the shared script (CSP `script-src 'self'`). The
 * request says it wants only the preview (`X-Pushcart-Preview: only`), so a page may leave out
 * what is costly to draw and not shown from it (the composer's audience counts).
 */
export const TEMPLATE_PREVIEW_JS = `(function () {
  'use strict';
  var form = document.querySelector('form[data-live-preview]');
  if (!form || !window.fetch || !window.DOMParser || !window.URLSearchParams) return;
  var target = document.getElementById(form.getAttribute('data-live-preview'));
  if (!target) return;
  var timer = 0;
  var latest = 0;
  var controller = null;
  function refresh() {
    var data = new URLSearchParams(new FormData(form));
    data.set('intent', 'preview');
    var ticket = ++latest;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    var init = { method: 'POST', body: data, credentials: 'same-origin', headers: { Accept: 'text/html', 'X-Pushcart-Preview': 'only' } };
    if (controller) init.signal = controller.signal;
    fetch(form.action, init)
      .then(function (response) {
        if (!response.ok) throw new Error('preview answered ' + response.status);
        return response.text();
      })
      .then(function (text) {
        // Only the answer to the last keystroke is shown, whatever order the answers come in.
        if (ticket !== latest) return;
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById(target.id);
        if (!fresh) return;
        var nodes = Array.prototype.map.call(fresh.childNodes, function (node) { return document.importNode(node, true); });
        target.replaceChildren.apply(target, nodes);
        target.removeAttribute('aria-busy');
        target.setAttribute('data-preview-updated', String(ticket));
      })
      .catch(function () {
        // The last preview stays; the Preview button still draws a fresh one.
        if (ticket === latest) target.removeAttribute('aria-busy');
      });
  }
  form.addEventListener('input', function () {
    target.setAttribute('aria-busy', 'true');
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  });
})();
`;
