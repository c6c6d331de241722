/**
 * The segment pages: the list (name, rules in words, how many match now), the builder (new and
 * edit), and the confirmation before a delete. The builder itself (`segmentBuilder`) is also the
 * campaign composer's "rules written here". Every value goes in through hono/html, which escapes it.
 *
 * Without JavaScript the builder is a form: spare rows to fill in, "Add a rule" and "Add a group"
 * buttons that draw it again with one more, and the inputs of each row's type (choosing another
 * type and pressing "Update the rules" shows that type's inputs). The page script (segment-js.ts)
 * shows a row's inputs as its type changes, adds and removes rows in place and keeps the count live.
 */
import { html } from 'hono/html';
import type { Role } from '../../db/database.ts';
import type { DashboardAssets } from '../assets/assets.ts';
import { appPage, assetUrl, csrfField, DASHBOARD_PATH, notice, type Html, type SignedInChrome } from '../layout.ts';
import { INPUT_TYPES, ROW_INPUTS, type BuilderErrors, type BuilderState, type RowInput, type RuleRow, type RuleType } from '../segment-form.ts';

type SiteChrome = SignedInChrome & { site: { id: string; name: string; role: Role } };

export const SEGMENT_SCRIPT = 'segment';

export function segmentsPath(siteId: string): string {
  return `${DASHBOARD_PATH}/sites/${siteId}/segments`;
}

const count = (n: number) => n.toLocaleString('en');

/** A segment's count now, as countSegment answers it. */
export interface SegmentFigures {
  matching: number;
  active: number;
  matchesEveryone: boolean;
}

/** The count in words; the page script puts the live one in the same element. */
export function segmentCountWords(figures: SegmentFigures): string {
  if (figures.active === 0) return 'No active subscribers yet, so none match.';
  return `${count(figures.matching)} of ${count(figures.active)} active subscriber${figures.active === 1 ? '' : 's'} ${figures.matching === 1 ? 'matches' : 'match'} now.`;
}

export const EVERYONE_WORDS = 'This matches every subscriber.';

// --- the builder ---

const TYPE_GROUPS: Array<[label: string, types: Array<[RuleType, string]>]> = [
  ['Tags', [['tag_equals', 'Tag is set to a value'], ['tag_exists', 'Has a tag']]],
  [
    'Language and place',
    [
      ['language', 'Speaks a language'],
      ['locale', 'Uses a locale'],
      ['country', 'Is in a country (by time zone)'],
      ['time_zone', 'Is in a time zone'],
      ['browser', 'Uses a browser'],
    ],
  ],
  [
    'Subscription',
    [
      ['subscribed_before', 'Subscribed before'],
      ['subscribed_after', 'Subscribed after'],
      ['subscribed_within', 'Subscribed in the last days'],
      ['last_seen', 'Seen in the last days'],
    ],
  ],
  [
    'Shopping',
    [
      ['viewed', 'Viewed a product'],
      ['carted', 'Added a product to the cart'],
      ['watched', 'Watched a product (price or stock)'],
      ['ordered', 'Ordered a product'],
      ['almost_buyer', 'Almost bought (carted, did not order)'],
      ['orders', 'Ordered at least a number of times'],
      ['spent', 'Spent at least an amount'],
    ],
  ],
  [
    'Pushes',
    [
      ['clicked_within', 'Clicked a push in the last days'],
      ['clicked_ever', 'Clicked a push at some time'],
      ['clicked_never', 'Never clicked a push'],
      ['received_marketing', 'Received a marketing push in the last hours'],
    ],
  ],
];

const VALUES_HELP: Array<[RuleType, string]> = [
  ['language', 'Languages, such as de, fr (any region).'],
  ['locale', 'Locales, such as de-DE, fr-CA.'],
  ['country', 'ISO country codes, such as DE, AT, CH.'],
  ['time_zone', 'Time zones, such as Europe/Berlin.'],
  ['browser', 'Browsers, such as Chrome, Firefox, Safari, Edge.'],
];

const fieldId = (name: string) => `sb-${name.replace(/\./g, '-')}`;

function shownFor(types: readonly RuleType[], type: RuleType | ''): boolean {
  return type !== '' && types.includes(type);
}

function typesAttr(types: readonly RuleType[]): string {
  return types.join(' ');
}

interface RowContext {
  prefix: string;
  label: string;
  row: RuleRow;
  errors: BuilderErrors;
  timeZone: string;
}

function rowInput(ctx: RowContext, input: RowInput): Html {
  const name = `${ctx.prefix}.${input}`;
  const id = fieldId(name);
  const types = INPUT_TYPES[input];
  const hidden = !shownFor(types, ctx.row.type);
  const value = ctx.row.fields[input] ?? '';
  const error = ctx.errors[name];
  const errorHtml = error ? html`<p class="field-error" id="${id}-error">${error}</p>` : '';
  const describedBy = (help: boolean) => [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const invalid = error ? html` aria-invalid="true"` : '';
  const wrap = (inner: Html, size = '') => html`<div class="field rule-input${size}" data-types="${typesAttr(types)}"${hidden ? html` hidden` : ''}>${inner}${errorHtml}</div>`;
  const select = (label: string, options: Array<[string, string]>, fallback: string) => {
    const current = value || fallback;
    return wrap(html`<label for="${id}">${label}</label><select id="${id}" name="${name}"${describedBy(false) ? html` aria-describedby="${describedBy(false)}"` : ''}>${options.map(
      ([option, words]) => html`<option value="${option}"${option === current ? html` selected` : ''}>${words}</option>`,
    )}</select>`);
  };
  const text = (label: string, options: { type?: string; inputmode?: string; suffix?: string; placeholder?: string; help?: Html } = {}, size = '') => {
    const by = describedBy(options.help !== undefined);
    return wrap(
      html`<label for="${id}">${label}</label><div class="input-row"><input id="${id}" name="${name}" type="${options.type ?? 'text'}" value="${value}"${options.inputmode ? html` inputmode="${options.inputmode}"` : ''}${options.placeholder ? html` placeholder="${options.placeholder}"` : ''}${by ? html` aria-describedby="${by}"` : ''}${invalid}>${options.suffix ? html`<span class="suffix">${options.suffix}</span>` : ''}</div>${options.help ? html`<p class="help" id="${id}-help">${options.help}</p>` : ''}`,
      size,
    );
  };
  switch (input) {
    case 'key':
      return text('Tag', { placeholder: 'plan' });
    case 'valueKind':
      return select('Value is', [['text', 'Text'], ['number', 'A number'], ['boolean', 'true or false']], 'text');
    case 'value':
      return text('Value', { placeholder: 'gold' });
    case 'values':
      return text('Values, separated by commas', {
        help: html`${VALUES_HELP.map(([type, words]) => html`<span data-types="${type}"${ctx.row.type === type ? '' : html` hidden`}>${words}</span>`)}`,
      }, ' rule-input-wide');
    case 'at':
      return text(`Date and time (${ctx.timeZone})`, { type: 'datetime-local' });
    case 'productMatch':
      return select('Which product', [['any', 'Any product'], ['id', 'The product with the id'], ['prefix', 'Products whose id starts with']], 'any');
    case 'product':
      return text('Product id, or start of the ids', { placeholder: 'lamp-42 or lamps-', help: html`Not needed for “Any product”. A start such as <code>lamps-</code> matches a whole category.` });
    case 'days':
      return text('In the last', { inputmode: 'numeric', suffix: 'days' }, ' rule-input-short');
    case 'count':
      return text('At least', { inputmode: 'numeric', suffix: 'orders' }, ' rule-input-short');
    case 'amount':
      return text('At least', { inputmode: 'decimal', suffix: 'in total (the shop’s currency)' }, ' rule-input-short');
    case 'hours':
      return text('In the last', { inputmode: 'numeric', suffix: 'hours' }, ' rule-input-short');
  }
}

function ruleRow(ctx: RowContext): Html {
  const typeName = `${ctx.prefix}.type`;
  const id = fieldId(typeName);
  const error = ctx.errors[typeName];
  const negateId = fieldId(`${ctx.prefix}.negate`);
  return html`<li class="rule-row" data-prefix="${ctx.prefix}">
<div class="rule-head">
<div class="field rule-type"><label for="${id}">${ctx.label}</label><select id="${id}" name="${typeName}" data-rule-type${error ? html` aria-describedby="${id}-error" aria-invalid="true"` : ''}>
<option value="">(no rule: choose one)</option>
${TYPE_GROUPS.map(
  ([label, types]) => html`<optgroup label="${label}">${types.map(([type, words]) => html`<option value="${type}"${ctx.row.type === type ? html` selected` : ''}>${words}</option>`)}</optgroup>`,
)}
</select>${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}</div>
<div class="field check rule-negate"><input id="${negateId}" name="${ctx.prefix}.negate" type="checkbox" value="on"${ctx.row.negate ? html` checked` : ''}><label for="${negateId}">Is not (the opposite)</label></div>
<button class="button secondary small rule-remove" type="submit" name="intent" value="remove:${ctx.prefix}" data-remove-row>Remove<span class="visually-hidden"> ${ctx.label.toLowerCase()}</span></button>
</div>
<div class="rule-inputs">${ROW_INPUTS.map((input) => rowInput(ctx, input))}</div>
</li>`;
}

function matchSelect(name: string, label: string, current: 'all' | 'any', words: { all: string; any: string }, error?: string): Html {
  const id = fieldId(name);
  return html`<div class="field match-field"><label for="${id}">${label}</label><select id="${id}" name="${name}"${error ? html` aria-describedby="${id}-error"` : ''}>
<option value="all"${current === 'all' ? html` selected` : ''}>${words.all}</option>
<option value="any"${current === 'any' ? html` selected` : ''}>${words.any}</option>
</select>${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}</div>`;
}

function groupBlock(state: BuilderState, k: number, errors: BuilderErrors, timeZone: string): Html {
  const group = state.groups[k]!;
  const prefix = `groups.${k}`;
  return html`<fieldset class="rule-group" data-prefix="${prefix}">
<legend>Group ${k + 1}</legend>
${matchSelect(`${prefix}.match`, `Group ${k + 1}: subscribers who match`, group.match, { all: 'all of these rules', any: 'any of these rules' }, errors[`${prefix}.match`])}
<ol class="rule-rows" data-rows="${prefix}.rules">${group.rows.map((row, i) => ruleRow({ prefix: `${prefix}.rules.${i}`, label: `Group ${k + 1}, rule ${i + 1}`, row, errors, timeZone }))}</ol>
<div class="builder-actions"><button class="button secondary small" type="submit" name="intent" value="add-rule:${prefix}" data-add-row="${prefix}.rules">Add a rule to group ${k + 1}</button>
<button class="button secondary small" type="submit" name="intent" value="remove:${prefix}" data-remove-group>Remove group ${k + 1}</button></div>
</fieldset>`;
}

/**
 * The builder's fields, for a form that holds them: the match, the rows, the groups, and the
 * templates the page script copies a new row or group from (`__p__` is its place, `__n__` its number).
 */
export function segmentBuilder(input: { state: BuilderState; errors: BuilderErrors; timeZone: string }): Html {
  const { state, errors, timeZone } = input;
  const template = ruleRow({ prefix: '__p__', label: '__l__', row: { type: '', negate: false, fields: {} }, errors: {}, timeZone });
  const groupTemplate = html`<fieldset class="rule-group" data-prefix="groups.__g__">
<legend>Group __n__</legend>
${matchSelect('groups.__g__.match', 'Group __n__: subscribers who match', 'any', { all: 'all of these rules', any: 'any of these rules' })}
<ol class="rule-rows" data-rows="groups.__g__.rules"></ol>
<div class="builder-actions"><button class="button secondary small" type="submit" name="intent" value="add-rule:groups.__g__" data-add-row="groups.__g__.rules">Add a rule to group __n__</button>
<button class="button secondary small" type="submit" name="intent" value="remove:groups.__g__" data-remove-group>Remove group __n__</button></div>
</fieldset>`;
  return html`<div class="segment-builder" data-segment-builder>
${matchSelect('match', 'Subscribers who match', state.match, { all: 'all of the rules below', any: 'any of the rules below' }, errors.match)}
<ol class="rule-rows" data-rows="rules">${state.rows.map((row, i) => ruleRow({ prefix: `rules.${i}`, label: `Rule ${i + 1}`, row, errors, timeZone }))}</ol>
<div class="builder-actions"><button class="button secondary small" type="submit" name="intent" value="add-rule" data-add-row="rules">Add a rule</button>
<button class="button secondary small" type="submit" name="intent" value="refresh" data-refresh>Update the rules</button></div>
<div class="rule-groups" data-groups>${state.groups.map((_, k) => groupBlock(state, k, errors, timeZone))}</div>
<div class="builder-actions"><button class="button secondary small" type="submit" name="intent" value="add-group" data-add-group>Add a group (“any of these…”)</button></div>
<p class="help">A group is one rule made of several: for example “viewed lamps <em>or</em> carted lamps”. Choose a row’s type, then fill in what it asks; rows left on “no rule” are ignored.</p>
<template id="rule-row-template">${template}</template>
<template id="rule-group-template">${groupTemplate}</template>
</div>`;
}

/** The live count and the rules in words, under the builder; the page script keeps them current. */
export function segmentCountPanel(input: { countUrl: string; figures?: SegmentFigures; description?: string }): Html {
  const { figures } = input;
  return html`<div class="segment-count" id="segment-count" data-count-url="${input.countUrl}">
<p class="audience-count" id="segment-count-words" role="status" aria-live="polite">${figures ? segmentCountWords(figures) : 'Choose a rule to see how many subscribers match.'}</p>
<p class="everyone-note" id="segment-everyone"${figures?.matchesEveryone ? '' : html` hidden`}><strong>${EVERYONE_WORDS}</strong> Sending to it is sending to everyone.</p>
<p class="segment-words" id="segment-words">${input.description ?? ''}</p>
</div>`;
}

// --- the pages ---

export interface SegmentListItem {
  id: string;
  name: string;
  description: string;
  figures: SegmentFigures;
}

export function segmentListPage(input: { assets: DashboardAssets; chrome: SiteChrome; segments: SegmentListItem[]; canEdit: boolean; done?: 'deleted' | undefined }): Html {
  const { chrome, segments } = input;
  const base = segmentsPath(chrome.site.id);
  const table = html`<div class="table-region" role="region" aria-labelledby="segments-caption" tabindex="0">
<table class="data-table segment-table stacked-table">
<caption id="segments-caption" class="visually-hidden">Segments by name</caption>
<thead><tr><th scope="col">Segment</th><th scope="col">Rules</th><th scope="col" class="num">Match now</th>${input.canEdit ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}</tr></thead>
<tbody>${segments.map(
    (segment) => html`<tr>
<th scope="row">${input.canEdit ? html`<a href="${base}/${segment.id}/edit">${segment.name}</a>` : segment.name}</th>
<td data-label="Rules" class="segment-rules">${segment.description}</td>
<td class="num" data-label="Match now" data-figure="matching">${count(segment.figures.matching)}${segment.figures.matchesEveryone ? html` <span class="badge everyone-badge">everyone</span>` : ''}</td>
${input.canEdit ? html`<td data-label="Actions" class="row-actions"><a href="${base}/${segment.id}/edit">Edit<span class="visually-hidden"> ${segment.name}</span></a> <a href="${base}/${segment.id}/delete">Delete<span class="visually-hidden"> ${segment.name}</span></a></td>` : ''}
</tr>`,
  )}</tbody>
</table>
</div>`;
  const body = html`<div class="page-header page-header-actions">
<div><h1>Segments</h1>
<p>Saved audiences by rules — such as “viewed lamps in the last 30 days and did not order” — to send campaigns to. Counts are of active subscribers, now.</p></div>
${input.canEdit ? html`<a class="button" href="${base}/new">New segment</a>` : ''}
</div>
${input.done === 'deleted' ? notice('success', 'Deleted. Campaigns already sent to it keep the rules they went with.') : ''}
${input.canEdit ? '' : notice('info', `Your role (${chrome.site.role}) can see the segments but not create or change them.`)}
${segments.length === 0
  ? html`<div class="card empty-state"><h2>No segments yet</h2><p>${input.canEdit ? html`Start with <a href="${base}/new">a new segment</a>: choose rules and watch the count as you go.` : 'Segments your team saves appear here.'}</p></div>`
  : html`<section class="card">${table}</section>`}`;
  return appPage({ title: `Segments · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'segments' }, body });
}

export function segmentEditPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  /** Editing a stored segment, or writing a new one. */
  segment?: { id: string; name: string };
  name: string;
  state: BuilderState;
  errors: BuilderErrors;
  general: string[];
  figures?: SegmentFigures;
  description?: string;
  timeZone: string;
  /** Campaigns not started yet that send to it: told that they will go with the rules as saved. */
  usedBy?: Array<{ id: string; name: string; status: string }>;
  done?: 'saved';
}): Html {
  const { chrome, errors } = input;
  const base = segmentsPath(chrome.site.id);
  const action = input.segment ? `${base}/${input.segment.id}/edit` : `${base}/new`;
  const problems = Object.keys(errors).length + input.general.length;
  const nameError = errors.name;
  const body = html`<div class="page-header">
<p class="crumb"><a href="${base}">Segments</a> ›</p>
<h1>${input.segment ? html`Edit “${input.segment.name}”` : 'New segment'}</h1>
<p>Choose the rules; the count below shows how many subscribers they match now. A campaign sent to the segment uses its rules as they are when it starts.</p>
</div>
${input.done === 'saved' ? notice('success', 'Saved.') : ''}
${input.usedBy && input.usedBy.length > 0
  ? notice(
      'info',
      html`<p>${input.usedBy.length === 1 ? 'A campaign that has not started yet sends' : 'Campaigns that have not started yet send'} to this segment; each goes with its rules as they are when it starts:</p>
<ul>${input.usedBy.map((campaign) => html`<li><a href="${DASHBOARD_PATH}/sites/${chrome.site.id}/campaigns/${campaign.id}">${campaign.name}</a> (${campaign.status})</li>`)}</ul>`,
    )
  : ''}
${problems > 0
  ? notice('error', html`<p>${problems === 1 ? 'One thing needs' : 'Some things need'} a change before this can be saved.</p>${input.general.length > 0 ? html`<ul>${input.general.map((text) => html`<li>${text}</li>`)}</ul>` : ''}`)
  : ''}
<form method="post" action="${action}" novalidate class="segment-form">
${csrfField(chrome.csrfToken)}
<button class="default-submit" type="submit" name="intent" value="save" tabindex="-1" aria-hidden="true">Save</button>
<section class="card" aria-labelledby="segment-name-title">
<h2 id="segment-name-title" class="visually-hidden">Name</h2>
<div class="field field-medium"><label for="sb-name">Segment name</label><div class="input-row"><input id="sb-name" name="name" type="text" value="${input.name}" aria-describedby="sb-name-help${nameError ? ' sb-name-error' : ''}"${nameError ? html` aria-invalid="true"` : ''}></div>
${nameError ? html`<p class="field-error" id="sb-name-error">${nameError}</p>` : ''}
<p class="help" id="sb-name-help">For you and your team, such as “Lamp lovers who did not order”.</p></div>
</section>
<section class="card" aria-labelledby="rules-title">
<h2 id="rules-title">Rules</h2>
${segmentBuilder({ state: input.state, errors, timeZone: input.timeZone })}
${segmentCountPanel({ countUrl: `${base}/count`, ...(input.figures ? { figures: input.figures } : {}), ...(input.description ? { description: input.description } : {}) })}
</section>
<div class="card form-actions"><button class="button" type="submit" name="intent" value="save">Save segment</button><a href="${base}">Back without saving</a></div>
</form>
<script src="${assetUrl(input.assets.pageScripts.get(SEGMENT_SCRIPT)!.name)}" defer></script>`;
  return appPage({ title: `${input.segment ? 'Edit segment' : 'New segment'} · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'segments' }, body });
}

export function deleteSegmentPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  segment: { id: string; name: string; description: string };
  /** Campaigns not started yet that send to it: the delete is refused while there are any. */
  usedBy: Array<{ id: string; name: string; status: string }>;
  status?: 'refused';
}): Html {
  const { chrome, segment } = input;
  const base = segmentsPath(chrome.site.id);
  const campaigns = `${DASHBOARD_PATH}/sites/${chrome.site.id}/campaigns`;
  const body = html`<div class="page-header">
<p class="crumb"><a href="${base}">Segments</a> ›</p>
<h1>Delete “${segment.name}”?</h1>
<p>${segment.description}.</p>
</div>
${input.usedBy.length > 0
  ? html`${notice(
      'error',
      html`<p>${input.status === 'refused' ? 'Nothing was deleted: ' : ''}${input.usedBy.length === 1 ? 'a campaign that has not started yet sends' : 'campaigns that have not started yet send'} to this segment. A campaign copies a segment’s rules only when it starts, so it would have no audience. Choose another audience for ${input.usedBy.length === 1 ? 'it' : 'them'} first, or cancel ${input.usedBy.length === 1 ? 'it' : 'them'}:</p>
<ul>${input.usedBy.map((campaign) => html`<li><a href="${campaigns}/${campaign.id}">${campaign.name}</a> (${campaign.status})</li>`)}</ul>`,
    )}
<p><a class="button secondary" href="${base}">Back to the segments</a></p>`
  : html`<div class="card"><p>Campaigns already sent to it keep the rules they went with; nothing else uses it. This cannot be undone.</p>
<form method="post" action="${base}/${segment.id}/delete">${csrfField(chrome.csrfToken)}<div class="form-actions"><button class="button danger" type="submit">Yes, delete the segment</button><a href="${base}">Keep it</a></div></form></div>`}`;
  return appPage({ title: `Delete segment · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'segments' }, body });
}
