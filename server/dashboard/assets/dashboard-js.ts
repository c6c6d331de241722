/**
 * The dashboard's enhancement script, as a string so the Worker needs no file system. Pages work
 * without it; it only adds copy buttons (shown by it, so a page without scripts has no dead
 * buttons). Loaded from /dashboard/assets/ under a content-hashed name: the page CSP allows
 * `script-src 'self'` only, so nothing here may be inline or use eval.
 */
export const DASHBOARD_JS = `(function () {
  'use strict';
  var status = document.getElementById('copy-status');
  function announce(text) {
    if (!status) return;
    status.textContent = '';
    // A fresh text node so screen readers announce a repeated "Copied" too.
    window.setTimeout(function () { status.textContent = text; }, 30);
  }
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'visually-hidden';
      document.body.appendChild(area);
      area.select();
      var copied = false;
      try { copied = document.execCommand('copy'); } catch (error) { copied = false; }
      document.body.removeChild(area);
      if (copied) resolve(); else reject(new Error('copy refused'));
    });
  }
  var buttons = document.querySelectorAll('button[data-copy-target]');
  Array.prototype.forEach.call(buttons, function (button) {
    var target = document.getElementById(button.getAttribute('data-copy-target'));
    if (!target) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', function () {
      copyText(target.textContent || '').then(function () {
        button.textContent = 'Copied';
        button.setAttribute('data-copied', 'true');
        announce('Copied to the clipboard');
        window.setTimeout(function () { button.textContent = label; button.removeAttribute('data-copied'); }, 2000);
      }, function () {
        announce('Could not copy: select the text and copy it by hand');
      });
    });
  });
})();
`;
