import { SEGMENT_BUILDER_JS } from './segment-js.ts';
import { TEMPLATE_PREVIEW_JS } from './template-preview-js.ts';

/**
 * The campaign pages' script, on top of the template editor's live preview (the composer posts
 * its form with `intent=preview` the same way):
 *
 * - the audience's count follows the owner's choice (a GET of the dashboard's count route, which
 *   changes nothing), with a segment's rules in words beneath; without the script the count is
 *   drawn again on Save or Preview; only the chosen audience's inputs are shown (the tag, the
 *   saved segment's select, the rules builder of segment-js.ts);
 * - a sending campaign's progress bar and figures refresh every few seconds from its progress
 *   route, and the page reloads once the campaign is no longer sending (its results are then
 *   drawn by the server). Without the script the page shows the figures of its last load.
 */
const CAMPAIGN_ONLY_JS = `(function () {
  'use strict';
  if (!window.fetch || !window.URLSearchParams) return;
  var count = document.getElementById('audience-count');
  var form = count && count.closest('form');
  if (count && form) {
    var url = count.getAttribute('data-count-url');
    var words = document.getElementById('segment-words');
    var timer = 0;
    var latest = 0;
    var counted = function (name) { return name === 'audience' || name === 'tagKey' || name === 'tagValue' || name === 'segmentId' || name === 'match' || /^(rules|groups)\./.test(name); };
    var refreshCount = function () {
      var query = new URLSearchParams();
      new FormData(form).forEach(function (value, name) { if (typeof value === 'string' && counted(name)) query.append(name, value); });
      var ticket = ++latest;
      count.setAttribute('aria-busy', 'true');
      fetch(url + '?' + query.toString(), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (response) { if (!response.ok) throw new Error('count answered ' + response.status); return response.json(); })
        .then(function (answer) {
          if (ticket !== latest) return;
          count.textContent = answer.words;
          count.setAttribute('data-audience', String(answer.audience));
          if (words) words.textContent = answer.description || '';
          count.removeAttribute('aria-busy');
        })
        .catch(function () { if (ticket === latest) count.removeAttribute('aria-busy'); });
    };
    var later = function () { window.clearTimeout(timer); timer = window.setTimeout(refreshCount, 300); };
    var showPart = function () {
      var chosen = form.querySelector('input[name="audience"]:checked');
      form.querySelectorAll('[data-audience-part]').forEach(function (part) { part.hidden = !chosen || part.getAttribute('data-audience-part') !== chosen.value; });
    };
    showPart();
    form.addEventListener('input', function (event) {
      var name = event.target && event.target.name;
      if (name === 'audience') showPart();
      if (counted(name)) later();
    });
    form.addEventListener('change', function (event) {
      var name = event.target && event.target.name;
      if (name === 'audience') showPart();
      if (name === 'segmentId' || /^(rules|groups)\./.test(name) || name === 'match') later();
    });
    form.addEventListener('segment-rules-changed', later);
  }
  var progress = document.getElementById('campaign-progress');
  if (progress && progress.getAttribute('data-status') === 'sending') {
    var progressUrl = progress.getAttribute('data-progress-url');
    var bar = document.getElementById('progress-bar');
    var format = function (n) { return Number(n).toLocaleString('en'); };
    var poll = function () {
      fetch(progressUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (response) { if (!response.ok) throw new Error('progress answered ' + response.status); return response.json(); })
        .then(function (answer) {
          if (answer.status !== 'sending') { window.location.reload(); return; }
          var figures = answer.progress;
          ['sent', 'total', 'remaining', 'resolved'].forEach(function (name) {
            var node = progress.querySelector('[data-progress="' + name + '"]');
            if (node) node.textContent = format(figures[name]);
          });
          if (bar) { bar.max = Math.max(figures.total, 1); bar.value = Math.min(figures.sent, bar.max); bar.textContent = format(figures.sent) + ' of ' + format(figures.total); }
          progress.setAttribute('data-updated', String(Date.now()));
          window.setTimeout(poll, 3000);
        })
        .catch(function () { window.setTimeout(poll, 10000); });
    };
    window.setTimeout(poll, 3000);
  }
})();
`;

export const CAMPAIGN_JS = `${TEMPLATE_PREVIEW_JS}${SEGMENT_BUILDER_JS}${CAMPAIGN_ONLY_JS}`;
