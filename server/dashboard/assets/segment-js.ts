/**
 * The segment builder's script (segment pages, and the campaign composer's "rules written here"):
 *
 * - a row shows the inputs of its type as the type changes (the page without it draws them on
 *   "Update the rules");
 * - "Add a rule", "Add a group", "Remove" act in place, from the templates the page carries,
 *   instead of drawing the page again (each new row gets a number no posted row has);
 * - where the page has the count panel (`#segment-count`), the count of the rules as they stand
 *   follows every change: a GET of the dashboard's count route with the builder's fields, which
 *   changes nothing (the CSRF token is left out of the address). Without this script the count is
 *   drawn again by each button.
 *
 * After a change of rows the form gets a `segment-rules-changed` event, for the composer's count.
 */
const SEGMENT_BUILDER_JS = `(function () {
  'use strict';
  var builder = document.querySelector('[data-segment-builder]');
  if (!builder || !window.fetch || !window.URLSearchParams || !('content' in document.createElement('template'))) return;
  var form = builder.closest('form');
  var rowTemplate = document.getElementById('rule-row-template');
  var groupTemplate = document.getElementById('rule-group-template');
  var children = function (parent, selector) { return Array.prototype.filter.call(parent.children, function (node) { return node.matches(selector); }); };
  function showInputs(row) {
    var type = row.querySelector('[data-rule-type]').value;
    row.querySelectorAll('[data-types]').forEach(function (node) {
      node.hidden = type === '' || node.getAttribute('data-types').split(' ').indexOf(type) < 0;
    });
  }
  function labelBase(list) {
    var group = list.closest('.rule-group');
    return group ? group.querySelector('legend').textContent + ', rule ' : 'Rule ';
  }
  function renumber(list) {
    var base = labelBase(list);
    children(list, '.rule-row').forEach(function (row, i) {
      var label = row.querySelector('.rule-type label');
      if (label) label.textContent = base + (i + 1);
      var hidden = row.querySelector('.rule-remove .visually-hidden');
      if (hidden) hidden.textContent = ' ' + (base + (i + 1)).toLowerCase();
    });
  }
  function nextNumber(nodes, place) {
    var max = -1;
    nodes.forEach(function (node) { var parts = node.getAttribute('data-prefix').split('.'); max = Math.max(max, Number(parts[place])); });
    return max + 1;
  }
  function fromTemplate(template, replace) {
    var holder = document.createElement('div');
    holder.innerHTML = replace(template.innerHTML);
    return holder.firstElementChild;
  }
  function addRow(list) {
    var listName = list.getAttribute('data-rows');
    var rows = children(list, '.rule-row');
    var prefix = listName + '.' + nextNumber(rows, listName.split('.').length);
    var row = fromTemplate(rowTemplate, function (text) {
      return text.replace(/sb-__p__/g, 'sb-' + prefix.replace(/\\./g, '-')).replace(/__p__/g, prefix);
    });
    list.appendChild(row);
    renumber(list);
    showInputs(row);
    return row;
  }
  function addGroup() {
    var holder = builder.querySelector('[data-groups]');
    var groups = children(holder, '.rule-group');
    var g = nextNumber(groups, 1);
    var n = groups.length + 1;
    var group = fromTemplate(groupTemplate, function (text) { return text.replace(/__g__/g, String(g)).replace(/__n__/g, String(n)); });
    holder.appendChild(group);
    var list = group.querySelector('[data-rows]');
    addRow(list);
    addRow(list);
    return group;
  }
  var refreshButton = builder.querySelector('[data-refresh]');
  if (refreshButton) refreshButton.hidden = true;
  builder.querySelectorAll('.rule-row').forEach(showInputs);

  var panel = document.getElementById('segment-count');
  var countTimer = 0;
  var latest = 0;
  function refreshCount() {
    if (!panel) return;
    var words = document.getElementById('segment-count-words');
    var everyone = document.getElementById('segment-everyone');
    var described = document.getElementById('segment-words');
    var query = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === 'string' && (name === 'match' || /^(rules|groups)\\./.test(name))) query.append(name, value);
    });
    var ticket = ++latest;
    words.setAttribute('aria-busy', 'true');
    fetch(panel.getAttribute('data-count-url') + '?' + query.toString(), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { if (!response.ok) throw new Error('count answered ' + response.status); return response.json(); })
      .then(function (answer) {
        if (ticket !== latest) return;
        words.textContent = answer.words;
        everyone.hidden = !(answer.complete && answer.matchesEveryone);
        described.textContent = answer.complete ? answer.description : '';
        words.removeAttribute('aria-busy');
        panel.setAttribute('data-updated', String(ticket));
      })
      .catch(function () { if (ticket === latest) words.removeAttribute('aria-busy'); });
  }
  function changed() {
    window.clearTimeout(countTimer);
    countTimer = window.setTimeout(refreshCount, 300);
    form.dispatchEvent(new CustomEvent('segment-rules-changed'));
  }
  builder.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button');
    if (!button || !builder.contains(button)) return;
    if (button.hasAttribute('data-add-row')) {
      event.preventDefault();
      var list = builder.querySelector('[data-rows="' + button.getAttribute('data-add-row') + '"]');
      addRow(list).querySelector('[data-rule-type]').focus();
    } else if (button.hasAttribute('data-add-group')) {
      event.preventDefault();
      addGroup().querySelector('select').focus();
    } else if (button.hasAttribute('data-remove-row')) {
      event.preventDefault();
      var row = button.closest('.rule-row');
      var rows = row.parentNode;
      var before = row.previousElementSibling;
      row.remove();
      renumber(rows);
      var next = before ? before.querySelector('[data-rule-type]') : rows.parentNode.querySelector('[data-add-row]');
      if (next) next.focus();
    } else if (button.hasAttribute('data-remove-group')) {
      event.preventDefault();
      button.closest('.rule-group').remove();
      builder.querySelector('[data-add-group]').focus();
    } else {
      return;
    }
    changed();
  });
  builder.addEventListener('change', function (event) {
    if (event.target.matches('[data-rule-type]')) showInputs(event.target.closest('.rule-row'));
    changed();
  });
  builder.addEventListener('input', function (event) {
    if (event.target.matches('input')) changed();
  });
})();
`;

export { SEGMENT_BUILDER_JS };
export const SEGMENT_JS = SEGMENT_BUILDER_JS;
