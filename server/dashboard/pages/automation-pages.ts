/**
 * The automations page (one form per automation and per shared sending rule, each beside its last
 * 30 days) and the template pages (the list per key and locale, the editor with its notification
 * preview in three looks). Every value is put in through hono/html, which escapes it.
 */
import { html } from 'hono/html';
import type { Role } from '../../db/database.ts';
import type { DailyReport } from '../../db/daily-stats.ts';
import { MAX_ACTIONS } from '../../../service-worker/src/contract.ts';
import { MAX_ACTION_TITLE_CHARS, MAX_BODY_CHARS, MAX_TITLE_CHARS, TEMPLATE_KEYS, type TemplateKey } from '../../sites/template-settings.ts';
import { ORDER_UPDATE_TYPES, type OrderUpdateType } from '../../sites/site-settings.ts';
import type { DashboardAssets } from '../assets/assets.ts';
import { assetUrl, appPage, csrfField, DASHBOARD_PATH, notice, type Html, type SignedInChrome } from '../layout.ts';
import { sampleValues, TEMPLATE_LABELS, type NotificationPreview } from '../notification-preview.ts';

export type AutomationSection = 'cart-reminders' | 'price-drop' | 'back-in-stock' | 'low-stock' | 'order-updates' | 'rating-request' | 'welcome' | 'reactivation' | 'birthday' | 'occasions' | 'frequency-cap' | 'engagement-budget' | 'best-hour' | 'quiet-hours';

/** The welcome form's box for pasting single-use codes (not a setting: they go to the list, POST /v1/welcome-codes). */
export const WELCOME_CODES_FIELD = 'welcomeCodes.paste';

/** Where the occasions form's fields start: `occasions.list.<row>.name`, `occasions.list.<row>.texts.<row>.title`. */
export const OCCASION_FIELDS = 'occasions.list';

/** One occasion's fields besides its texts, each `occasions.list.<row>.<field>`. */
export const OCCASION_ROW_FIELDS = ['id', 'name', 'day', 'month', 'year', 'localTime', 'segmentId', 'url', 'enabled', 'remove'] as const;

/** One text row's fields, each `occasions.list.<row>.texts.<row>.<field>`. */
export const OCCASION_TEXT_FIELDS = ['locale', 'title', 'body'] as const;

/**
 * Each form of the page and the fields it posts (named by their settings path). The occasions
 * form has as many rows as the shop has occasions, so its fields are listed per post
 * (OCCASION_FIELDS); `saved` words the notice where "<title> use the new settings" would not read.
 */
export const AUTOMATION_SECTIONS: ReadonlyArray<{ key: AutomationSection; title: string; fields: readonly string[]; saved?: string }> = [
  {
    key: 'cart-reminders',
    title: 'Cart reminders',
    fields: [
      'cartReminders.enabled',
      'cartReminders.steps.0.delayMinutes',
      'cartReminders.steps.0.discountCode',
      'cartReminders.secondStep',
      'cartReminders.steps.1.delayMinutes',
      'cartReminders.steps.1.discountCode',
      'cartReminders.holdoutPercent',
    ],
  },
  {
    key: 'price-drop',
    title: 'Price drops',
    fields: ['priceDrop.enabled', 'priceDrop.thresholdPercent', 'priceDrop.renotifyWindowHours', 'priceDrop.holdoutPercent', 'priceDrop.compareWith', 'priceDrop.sendAtBestHour'],
  },
  { key: 'back-in-stock', title: 'Back in stock', fields: ['backInStock.enabled', 'backInStock.holdoutPercent', 'backInStock.sendAtBestHour'] },
  {
    key: 'order-updates',
    title: 'Order updates',
    fields: ['orderUpdates.enabled', ...ORDER_UPDATE_TYPES.map((type) => `orderUpdates.types.${type}`), 'orderUpdates.orderPageUrl'],
  },
  { key: 'rating-request', title: 'Rating requests', fields: ['ratingRequest.enabled', 'ratingRequest.delayDays', 'ratingRequest.pageUrl', 'ratingRequest.holdoutPercent', 'ratingRequest.sendAtBestHour'] },
  { key: 'birthday', title: 'Birthdays', fields: ['birthday.enabled', 'birthday.sendAtBestHour', 'birthday.localTime', 'birthday.discountCode', 'birthday.holdoutPercent'] },
  { key: 'occasions', title: 'Occasions', fields: [] },
  { key: 'low-stock', title: 'Low stock', fields: ['lowStock.enabled', 'lowStock.threshold', 'lowStock.withinDays', 'lowStock.holdoutPercent', 'lowStock.sendAtBestHour'] },
  { key: 'welcome', title: 'Welcome', fields: ['welcome.enabled', 'welcome.delayMinutes', 'welcome.codeMode', 'welcome.code', 'welcome.holdoutPercent', WELCOME_CODES_FIELD] },
  { key: 'reactivation', title: 'Reactivation', fields: ['reactivation.enabled', 'reactivation.afterDays', 'reactivation.quietForDays', 'reactivation.code', 'reactivation.holdoutPercent'] },
  { key: 'frequency-cap', title: 'Frequency cap', fields: ['engagement.frequencyCap.marketingPer24h'] },
  {
    key: 'engagement-budget',
    title: 'Engagement budget',
    fields: ['engagement.budget.enabled', 'engagement.budget.ignoredPerHalving', 'engagement.budget.minPerWeek'],
    saved: 'Saved. Marketing pushes follow the new engagement budget from now on.',
  },
  { key: 'best-hour', title: 'Best hour', fields: ['engagement.bestHour.minOwnDataPoints'], saved: 'Saved. Best-hour sends use the new threshold from now on.' },
  { key: 'quiet-hours', title: 'Quiet hours and time zone', fields: ['engagement.quietHours.enabled', 'engagement.quietHours.start', 'engagement.quietHours.end', 'engagement.defaultTimeZone'] },
];

export interface FormState {
  /** Problems per field name, in words. */
  errors: Record<string, string>;
  /** Problems of the form as a whole. */
  general: string[];
}

export interface TemplateForm extends FormState {
  values: Record<string, string>;
}

export interface TriggerFigures {
  sent: number;
  clicked: number;
  converted: number;
  revenue: Record<string, number>;
  holdoutPercent: number;
  /** The holdout lift over the same days (stats/lift.ts); null while no one was held out. */
  holdout: DailyReport['triggers'][string]['holdout'];
  /** Transactional pushes (order updates): no holdout to measure against. */
  transactional?: boolean;
  /** Clicks per button id of the same days (rating requests: `good`, `bad`). */
  answers?: Record<string, number>;
}

export type AutomationFigures = Record<'cartReminders' | 'priceDrop' | 'backInStock' | 'orderUpdates' | 'ratingRequest' | 'lowStock' | 'welcome' | 'reactivation' | 'birthday', TriggerFigures>;

/** The order update types in words, for their switches. */
const ORDER_UPDATE_LABELS: Readonly<Record<OrderUpdateType, string>> = {
  order_shipped: 'Shipped',
  order_delivered: 'Delivered',
  order_ready_for_pickup: 'Ready for pickup',
  order_cancelled: 'Cancelled',
  refund_issued: 'Refund issued',
};

type SiteChrome = SignedInChrome & { site: { id: string; name: string; role: Role } };

const fieldId = (name: string) => `f-${name.replace(/\./g, '-')}`;

interface FieldContext {
  values: Record<string, string>;
  errors: Record<string, string>;
  disabled: boolean;
}

/** A one-line input with its label, help and problem (linked by aria-describedby). */
function input(context: FieldContext, name: string, label: string, options: { help?: string; suffix?: string; inputmode?: 'decimal' | 'numeric'; size?: 'short' | 'medium'; list?: string; placeholder?: string } = {}): Html {
  const id = fieldId(name);
  const error = context.errors[name];
  const described = [options.help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field${options.size ? ` field-${options.size}` : ''}">
<label for="${id}">${label}</label>
<div class="input-row"><input id="${id}" name="${name}" type="text" value="${context.values[name] ?? ''}"${options.inputmode ? html` inputmode="${options.inputmode}"` : ''}${options.list ? html` list="${options.list}"` : ''}${options.placeholder ? html` placeholder="${options.placeholder}"` : ''}${described ? html` aria-describedby="${described}"` : ''}${error ? html` aria-invalid="true"` : ''}${context.disabled ? html` disabled` : ''}>${options.suffix ? html`<span class="suffix">${options.suffix}</span>` : ''}</div>
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
${options.help ? html`<p class="help" id="${id}-help">${options.help}</p>` : ''}
</div>`;
}

function checkbox(context: FieldContext, name: string, label: string, help?: string): Html {
  const id = fieldId(name);
  const error = context.errors[name];
  return html`<div class="field check">
<input id="${id}" name="${name}" type="checkbox" value="on"${context.values[name] === 'on' ? html` checked` : ''}${help ? html` aria-describedby="${id}-help"` : ''}${context.disabled ? html` disabled` : ''}>
<label for="${id}">${label}</label>
${help ? html`<p class="help" id="${id}-help">${help}</p>` : ''}
${error ? html`<p class="field-error">${error}</p>` : ''}
</div>`;
}

/** A multi-line box with its label, help and problem; `code` for text that is not prose (JSON): taller, no spell check. */
function textarea(context: FieldContext, name: string, label: string, help: string, options: { code?: boolean } = {}): Html {
  const id = fieldId(name);
  const error = context.errors[name];
  return html`<div class="field">
<label for="${id}">${label}</label>
<textarea id="${id}" name="${name}" rows="${options.code ? 10 : 4}"${options.code ? html` spellcheck="false"` : ''} aria-describedby="${id}-help${error ? ` ${id}-error` : ''}"${error ? html` aria-invalid="true"` : ''}${context.disabled ? html` disabled` : ''}>${context.values[name] ?? ''}</textarea>
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
<p class="help" id="${id}-help">${help}</p>
</div>`;
}

/** One choice among a few, as radio buttons in a fieldset (its legend is the question). */
function choice(context: FieldContext, name: string, legend: string, options: ReadonlyArray<{ value: string; label: string; help: string }>): Html {
  const id = fieldId(name);
  const error = context.errors[name];
  return html`<fieldset class="choice"${error ? html` aria-describedby="${id}-error"` : ''}><legend>${legend}</legend>
${options.map(
  (option) => html`<div class="field check">
<input id="${id}-${option.value}" name="${name}" type="radio" value="${option.value}"${context.values[name] === option.value ? html` checked` : ''} aria-describedby="${id}-${option.value}-help"${context.disabled ? html` disabled` : ''}>
<label for="${id}-${option.value}">${option.label}</label>
<p class="help" id="${id}-${option.value}-help">${option.help}</p>
</div>`,
)}
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
</fieldset>`;
}

/** A drop-down with its label, help and problem. */
function select(context: FieldContext, name: string, label: string, options: ReadonlyArray<{ value: string; label: string }>, help?: string): Html {
  const id = fieldId(name);
  const error = context.errors[name];
  const current = context.values[name] ?? '';
  const described = [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
<label for="${id}">${label}</label>
<select id="${id}" name="${name}"${described ? html` aria-describedby="${described}"` : ''}${error ? html` aria-invalid="true"` : ''}${context.disabled ? html` disabled` : ''}>${options.map(
    (option) => html`<option value="${option.value}"${option.value === current ? html` selected` : ''}>${option.label}</option>`,
  )}</select>
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
${help ? html`<p class="help" id="${id}-help">${help}</p>` : ''}
</div>`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The numbers after `prefix` in the values' names ending in `suffix`, in order: the rows of a repeated group. */
export function rowIndexes(values: Record<string, string>, prefix: string, suffix: string): number[] {
  const rows = new Set<number>();
  for (const name of Object.keys(values)) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const middle = name.slice(prefix.length, name.length - suffix.length);
    if (/^\d{1,3}$/.test(middle)) rows.add(Number(middle));
  }
  return [...rows].sort((a, b) => a - b);
}

/** The rows of the occasions form in the values (each has a name field). */
export function occasionRows(values: Record<string, string>): number[] {
  return rowIndexes(values, `${OCCASION_FIELDS}.`, '.name');
}

/** The text rows of occasion `row` in the values (each has a locale field). */
export function occasionTextRows(values: Record<string, string>, row: number): number[] {
  return rowIndexes(values, `${OCCASION_FIELDS}.${row}.texts.`, '.locale');
}

/** What a new occasion starts with: on, at 10:00, to everyone, a text in the shop's default locale (English unless changed). */
export function blankOccasion(row: number, locale: string): Record<string, string> {
  const at = `${OCCASION_FIELDS}.${row}`;
  return { [`${at}.id`]: '', [`${at}.name`]: '', [`${at}.day`]: '', [`${at}.month`]: '', [`${at}.year`]: '', [`${at}.localTime`]: '10:00', [`${at}.segmentId`]: '', [`${at}.url`]: '', [`${at}.enabled`]: 'on', [`${at}.texts.0.locale`]: locale, [`${at}.texts.0.title`]: '', [`${at}.texts.0.body`]: '' };
}

/**
 * One occasion as a fieldset: its name, date, time, audience, link, switch and texts per language.
 * A row that is not blank gets a spare text row for another language; an existing one (it has an
 * id) gets a remove box, as the form is a plain post without a script.
 */
function occasionFieldset(context: FieldContext, row: number, segments: ReadonlyArray<{ id: string; name: string }>, canEdit: boolean): Html {
  const at = `${OCCASION_FIELDS}.${row}`;
  const value = (field: string) => context.values[`${at}.${field}`] ?? '';
  const id = value('id');
  const name = value('name').trim();
  const segmentId = value('segmentId');
  const segmentOptions = [
    { value: '', label: 'Every subscriber' },
    ...segments.map((segment) => ({ value: segment.id, label: segment.name })),
    // A segment deleted since: kept (and named as gone) rather than silently widened to everyone.
    ...(segmentId !== '' && !segments.some((segment) => segment.id === segmentId) ? [{ value: segmentId, label: 'A segment that no longer exists' }] : []),
  ];
  const textRows = occasionTextRows(context.values, row);
  const blank = (j: number) => OCCASION_TEXT_FIELDS.every((field) => value(`texts.${j}.${field}`).trim() === '');
  const last = textRows.at(-1);
  const rows = last === undefined || !blank(last) ? [...textRows, (last ?? -1) + 1] : textRows;
  return html`<fieldset class="occasion" id="occasion-${row}"><legend>${name === '' ? (id === '' ? 'New occasion' : id) : name}</legend>
<input name="${at}.id" type="hidden" value="${id}">
${id === '' ? '' : html`<p class="meta">Id <code>${id}</code>: kept when you rename it, so the occasion still goes once a year.</p>`}
${input(context, `${at}.name`, 'Name', { size: 'medium', help: 'Also the campaign’s name, with the year: “Sinterklaas 2026”.' })}
<div class="field-pair">
${input(context, `${at}.day`, 'Day', { inputmode: 'numeric', size: 'short' })}
${select(context, `${at}.month`, 'Month', [...(value('month') === '' ? [{ value: '', label: 'Choose…' }] : []), ...MONTHS.map((month, i) => ({ value: String(i + 1), label: month }))])}
${input(context, `${at}.year`, 'Year (optional)', { inputmode: 'numeric', size: 'short', help: 'Only for a date that moves, such as Black Friday: sent in that year only. Empty: every year.' })}
</div>
${input(context, `${at}.localTime`, 'Time', { size: 'short', placeholder: '10:00', help: 'HH:MM on each shopper’s own clock.' })}
${select(context, `${at}.segmentId`, 'Send to', segmentOptions, 'Every subscriber, or one of your saved segments.')}
${input(context, `${at}.url`, 'Link', { placeholder: 'https://shop.example/sale', help: 'Where a tap leads, a page of your shop. Empty: the home page.' })}
${checkbox(context, `${at}.enabled`, 'Send this occasion', 'Untick to pause it; it stays in the list.')}
<fieldset class="step"><legend>Text per language</legend>
<p class="group-help">Each shopper gets the text in their browser’s language, else in the shop’s default language (else the first here). No placeholders. To drop a language, empty its title and text.</p>
${rows.map(
  (j) => html`<div class="occasion-text"><div class="field-pair">
${input(context, `${at}.texts.${j}.locale`, 'Language', { size: 'short', placeholder: j === rows[0] ? 'en' : 'de', help: j === rows[0] ? 'A tag such as en, de or fr-BE.' : '' })}
${input(context, `${at}.texts.${j}.title`, 'Title', { size: 'medium' })}
</div>
${input(context, `${at}.texts.${j}.body`, 'Text')}</div>`,
)}
</fieldset>
${canEdit && id !== '' ? checkbox(context, `${at}.remove`, 'Remove this occasion when saving') : ''}
</fieldset>`;
}

function count(value: number): string {
  return value.toLocaleString('en');
}

function percentOf(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 1000) / 10} %` : '—';
}

function money(revenue: Record<string, number>): string {
  const entries = Object.entries(revenue).filter(([, amount]) => amount > 0);
  if (entries.length === 0) return '—';
  return entries
    .map(([currency, amount]) => {
      try {
        return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount);
      } catch {
        return `${amount.toFixed(2)} ${currency}`;
      }
    })
    .join(' · ');
}

/**
 * The holdout lift in plain words (the sentence of stats/lift.ts, with its 95 % interval, as the
 * overview shows it), or why there is none.
 */
export function liftReading(figures: TriggerFigures): string {
  if (figures.transactional) return 'Transactional: shoppers expect these, so none is held out, capped or kept for quiet hours.';
  if (figures.holdout) return figures.holdout.reading;
  if (figures.holdoutPercent === 0) return 'No holdout: hold out a share of shoppers to measure how many orders this brings.';
  return 'Not enough data yet to compare with the held-out group.';
}

function figuresPanel(id: string, figures: TriggerFigures, days: number): Html {
  return html`<aside class="figures" aria-labelledby="${id}-figures">
<h3 id="${id}-figures">Last ${days} days</h3>
<dl>
<div><dt>Sent</dt><dd>${count(figures.sent)}</dd></div>
<div><dt>Clicked</dt><dd>${count(figures.clicked)} <span class="rate">${percentOf(figures.clicked, figures.sent)}</span></dd></div>
<div><dt>Orders</dt><dd>${count(figures.converted)} <span class="rate">${percentOf(figures.converted, figures.sent)}</span></dd></div>
<div><dt>Revenue</dt><dd>${money(figures.revenue)}</dd></div>
${figures.answers
  ? html`<div><dt>Answered 👍 Good</dt><dd>${count(figures.answers.good ?? 0)}</dd></div>
<div><dt>Answered 👎 Not good</dt><dd>${count(figures.answers.bad ?? 0)}</dd></div>`
  : ''}
</dl>
<p class="lift">${liftReading(figures)}</p>
</aside>`;
}

/** The per-automation best-hour switch (engagement-rules.ts). */
function bestHourField(context: FieldContext, name: string): Html {
  return checkbox(context, name, 'Send at each shopper’s best hour', 'Within the next 24 hours, at the hour this shopper most often clicks or visits (your shoppers’ usual hour for those with little history), outside quiet hours.');
}


function holdoutField(context: FieldContext, name: string): Html {
  return input(context, name, 'Holdout', {
    suffix: '% of shoppers',
    inputmode: 'decimal',
    size: 'short',
    help: 'This share of shoppers, picked at random, gets no push, so the lift can be measured. 0 turns the holdout off; 5–10 % is common.',
  });
}

export function automationsPage(input_: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  canEdit: boolean;
  values: Record<string, string>;
  /** The section posted with problems, and what they are. */
  invalid?: { section: AutomationSection } & FormState;
  saved?: AutomationSection;
  /** A section drawn again from its post without saving (the occasions' "Add an occasion"). */
  drafted?: AutomationSection;
  figures: AutomationFigures;
  days: number;
  timeZones: string[];
  /** Uploaded welcome codes not yet given, and given. */
  welcomeCodes: { left: number; given: number };
  /** The site's saved segments, for the occasions' audience. */
  segments: ReadonlyArray<{ id: string; name: string }>;
}): Html {
  const { chrome, canEdit, values, invalid, saved, figures, days } = input_;
  const action = `${DASHBOARD_PATH}/sites/${chrome.site.id}/automations`;
  const context = (section: AutomationSection): FieldContext => ({ values, errors: invalid?.section === section ? invalid.errors : {}, disabled: !canEdit });
  const isOn = (name: string) => values[name] === 'on';

  const form = (section: AutomationSection, fields: Html, figuresHtml?: Html, more: { buttons?: Html; draftNotice?: string } = {}) => {
    const { title, saved: savedWords } = AUTOMATION_SECTIONS.find((candidate) => candidate.key === section)!;
    const problems = invalid?.section === section ? invalid : undefined;
    // Back at the section after a post drawn again (a refusal, an added row): the page is long.
    const formHtml = html`<form method="post" action="${action}#${section}" novalidate class="automation-form">
${csrfField(chrome.csrfToken)}
<input type="hidden" name="section" value="${section}">
${saved === section ? notice('success', savedWords ?? `Saved. ${title} use the new settings from now on.`) : ''}
${input_.drafted === section && more.draftNotice ? notice('info', more.draftNotice) : ''}
${problems ? notice('error', html`<p>Nothing was saved: ${Object.keys(problems.errors).length + problems.general.length === 1 ? 'one setting needs' : 'some settings need'} a change.</p>${problems.general.length > 0 ? html`<ul>${problems.general.map((text) => html`<li>${text}</li>`)}</ul>` : ''}`) : ''}
${fields}
${canEdit ? html`<div class="card-footer"><button class="button" type="submit">Save ${title.toLowerCase()}</button>${more.buttons ?? ''}</div>` : ''}
</form>`;
    return figuresHtml ? html`<div class="automation-grid">${formHtml}${figuresHtml}</div>` : formHtml;
  };

  const state = (on: boolean) => html`<span class="badge ${on ? 'on' : 'off'}">${on ? 'On' : 'Off'}</span>`;
  const cart = context('cart-reminders');
  const price = context('price-drop');
  const stock = context('back-in-stock');
  const orders = context('order-updates');
  const rating = context('rating-request');
  const low = context('low-stock');
  const welcome = context('welcome');
  const comeback = context('reactivation');
  const codes = input_.welcomeCodes;
  const birthday = context('birthday');
  const occasions = context('occasions');
  const cap = context('frequency-cap');
  const budget = context('engagement-budget');
  const bestHour = context('best-hour');
  const occasionRowsShown = occasionRows(values);
  const nextOccasion = (occasionRowsShown.at(-1) ?? -1) + 1;
  const quiet = context('quiet-hours');

  const body = html`<div class="page-header">
<h1>Automations</h1>
<p>Pushes Pushcart sends by itself when shoppers leave a cart, a price falls or a product returns. Their texts are on the <a href="${DASHBOARD_PATH}/sites/${chrome.site.id}/templates">templates</a> page.</p>
</div>
${canEdit ? '' : notice('info', `Your role (${chrome.site.role}) can see the automations but not change them.`)}
<section class="card automation" id="cart-reminders" aria-labelledby="cart-reminders-title">
<div class="automation-head"><h2 id="cart-reminders-title">Cart reminders</h2>${state(isOn('cartReminders.enabled'))}</div>
<p class="lede">One or two pushes to a shopper who left items in the cart, counted from the cart’s last change. An order stops them.</p>
${form(
  'cart-reminders',
  html`${checkbox(cart, 'cartReminders.enabled', 'Send cart reminders')}
<fieldset class="step"><legend>First reminder</legend>
${input(cart, 'cartReminders.steps.0.delayMinutes', 'Send after', { suffix: 'minutes', inputmode: 'numeric', size: 'short', help: 'At least 5. 60 is an hour, 1440 a day.' })}
${input(cart, 'cartReminders.steps.0.discountCode', 'Discount code', { size: 'medium', help: 'Optional; shown where the template says {{discount.code}}.' })}
</fieldset>
<fieldset class="step"><legend>Second reminder</legend>
${checkbox(cart, 'cartReminders.secondStep', 'Send a second reminder')}
${input(cart, 'cartReminders.steps.1.delayMinutes', 'Send after', { suffix: 'minutes', inputmode: 'numeric', size: 'short', help: 'Later than the first; 1440 is a day.' })}
${input(cart, 'cartReminders.steps.1.discountCode', 'Discount code', { size: 'medium', help: 'Optional; a code here often wins back a hesitant shopper.' })}
</fieldset>
${holdoutField(cart, 'cartReminders.holdoutPercent')}`,
  figuresPanel('cart-reminders', figures.cartReminders, days),
)}
</section>
<section class="card automation" id="price-drop" aria-labelledby="price-drop-title">
<div class="automation-head"><h2 id="price-drop-title">Price drops</h2>${state(isOn('priceDrop.enabled'))}</div>
<p class="lede">A push when a product a shopper viewed or watches gets cheaper.</p>
${form(
  'price-drop',
  html`${checkbox(price, 'priceDrop.enabled', 'Send price drop pushes')}
${input(price, 'priceDrop.thresholdPercent', 'Smallest drop worth a push', { suffix: '% of the price', inputmode: 'decimal', size: 'short', help: 'From 0.1 to 90. A shopper’s own target price, when set, wins.' })}
${input(price, 'priceDrop.renotifyWindowHours', 'Quiet after a push for', { suffix: 'hours', inputmode: 'numeric', size: 'short', help: 'Within this time a shopper hears of the same product again only if the price falls further. 168 is a week.' })}
${choice(price, 'priceDrop.compareWith', 'Compare the new price with', [
  {
    value: 'lowest30',
    label: 'The lowest price of the last 30 days',
    help: 'The law in the EU (directive 98/6/EC art. 6a): no push unless the new price is below that low, and “was” shows it.',
  },
  { value: 'previous', label: 'The price just before', help: 'For shops outside the EU: any drop from the last price counts.' },
])}
${holdoutField(price, 'priceDrop.holdoutPercent')}
${bestHourField(price, 'priceDrop.sendAtBestHour')}`,
  figuresPanel('price-drop', figures.priceDrop, days),
)}
</section>
<section class="card automation" id="back-in-stock" aria-labelledby="back-in-stock-title">
<div class="automation-head"><h2 id="back-in-stock-title">Back in stock</h2>${state(isOn('backInStock.enabled'))}</div>
<p class="lede">A push when a product a shopper asked about is available again.</p>
${form('back-in-stock', html`${checkbox(stock, 'backInStock.enabled', 'Send back in stock pushes')}${holdoutField(stock, 'backInStock.holdoutPercent')}${bestHourField(stock, 'backInStock.sendAtBestHour')}`, figuresPanel('back-in-stock', figures.backInStock, days))}
</section>
<section class="card automation" id="order-updates" aria-labelledby="order-updates-title">
<div class="automation-head"><h2 id="order-updates-title">Order updates</h2>${state(isOn('orderUpdates.enabled'))}</div>
<p class="lede">A push when your shop’s backend reports that an order shipped, arrived, waits for pickup, was cancelled or refunded (<code>POST /v1/events</code> with the secret key). Sent once per order and update, at any hour.</p>
${form(
  'order-updates',
  html`${checkbox(orders, 'orderUpdates.enabled', 'Send order updates')}
<fieldset class="step"><legend>Updates to send</legend>
${ORDER_UPDATE_TYPES.map((type) => checkbox(orders, `orderUpdates.types.${type}`, ORDER_UPDATE_LABELS[type]))}
</fieldset>
${input(orders, 'orderUpdates.orderPageUrl', 'Order page', { placeholder: 'https://shop.example/orders/{orderId}', help: 'Where a tap leads when the event names no orderUrl; {orderId} becomes the order id. On your shop’s address; empty: the home page.' })}`,
  figuresPanel('order-updates', figures.orderUpdates, days),
)}
</section>
<section class="card automation" id="rating-request" aria-labelledby="rating-request-title">
<div class="automation-head"><h2 id="rating-request-title">Rating requests</h2>${state(isOn('ratingRequest.enabled'))}</div>
<p class="lede">Some days after an order was delivered, one push asking how it was, with the buttons “👍 Good” and “👎 Not good”. Each opens your rating page with the answer; not after a cancellation or refund.</p>
${form(
  'rating-request',
  html`${checkbox(rating, 'ratingRequest.enabled', 'Send rating requests')}
${input(rating, 'ratingRequest.delayDays', 'Send after delivery', { suffix: 'days', inputmode: 'numeric', size: 'short', help: 'From 1 to 90.' })}
${input(rating, 'ratingRequest.pageUrl', 'Rating page', { placeholder: 'https://shop.example/orders/{orderId}/review', help: '{orderId} becomes the order id; answer=good or answer=bad and orderId are added to the address. On your shop’s address; empty: the home page.' })}
${holdoutField(rating, 'ratingRequest.holdoutPercent')}
${bestHourField(rating, 'ratingRequest.sendAtBestHour')}`,
  figuresPanel('rating-request', figures.ratingRequest, days),
)}
</section>
<section class="card automation" id="birthday" aria-labelledby="birthday-title">
<div class="automation-head"><h2 id="birthday-title">Birthdays</h2>${state(isOn('birthday.enabled'))}</div>
<p class="lede">A push on a shopper’s birthday, in their own time zone, once a year. Your shop’s backend sets the birthday (month and day) with <code>POST /v1/subscribers/birthday</code>; someone born on 29 February hears from you on the 28th in other years.</p>
${form(
  'birthday',
  html`${checkbox(birthday, 'birthday.enabled', 'Send birthday pushes')}
${bestHourField(birthday, 'birthday.sendAtBestHour')}
${input(birthday, 'birthday.localTime', 'Otherwise at', { size: 'short', placeholder: '10:00', help: 'HH:MM in the shopper’s zone, when not at their best hour.' })}
${input(birthday, 'birthday.discountCode', 'Birthday code', { size: 'medium', help: 'Optional; shown where the template says {{discount.code}}.' })}
${holdoutField(birthday, 'birthday.holdoutPercent')}`,
  figuresPanel('birthday', figures.birthday, days),
)}
</section>
<section class="card automation" id="occasions" aria-labelledby="occasions-title">
<div class="automation-head"><h2 id="occasions-title">Occasions</h2></div>
<p class="lede">Dates you push on every year — Black Friday, Sinterklaas, a local holiday — at a time of day in each shopper’s own zone, to a saved segment or everyone. A day ahead each becomes a scheduled campaign (“Sinterklaas 2026”) on the campaigns page, with its figures and a cancel button.</p>
${form(
  'occasions',
  html`${occasionRowsShown.length === 0 ? html`<p class="empty-note">No occasions yet.</p>` : ''}
${occasionRowsShown.map((row) => occasionFieldset(occasions, row, input_.segments, canEdit))}`,
  undefined,
  {
    // The first button is the one Enter presses: Save comes first, so Enter never only adds a row.
    buttons: html`<button class="button secondary" type="submit" name="intent" value="add" formaction="${action}#occasion-${nextOccasion}">Add an occasion</button>`,
    draftNotice: 'A blank occasion is added at the end. Nothing is saved until you save the occasions.',
  },
)}
</section>
<section class="card automation" id="low-stock" aria-labelledby="low-stock-title">
<div class="automation-head"><h2 id="low-stock-title">Low stock</h2>${state(isOn('lowStock.enabled'))}</div>
<p class="lede">“Only 3 left”: a push when a product a shopper carted, watched or viewed is running out. Needs <code>stock</code> in your product feed.</p>
${form(
  'low-stock',
  html`${checkbox(low, 'lowStock.enabled', 'Send low stock pushes')}
${input(low, 'lowStock.threshold', 'Send when stock falls to', { suffix: 'or fewer', inputmode: 'numeric', size: 'short', help: 'From 1 to 1,000. Sold out (0) sends nothing.' })}
${input(low, 'lowStock.withinDays', 'To shoppers interested within', { suffix: 'days', inputmode: 'numeric', size: 'short', help: 'From 1 to 90. Each shopper hears of a product once in this time.' })}
${holdoutField(low, 'lowStock.holdoutPercent')}
${bestHourField(low, 'lowStock.sendAtBestHour')}`,
  figuresPanel('low-stock', figures.lowStock, days),
)}
</section>
<section class="card automation" id="welcome" aria-labelledby="welcome-title">
<div class="automation-head"><h2 id="welcome-title">Welcome</h2>${state(isOn('welcome.enabled'))}</div>
<p class="lede">A push some minutes after a shopper subscribes for the first time, optionally with a first-order code. Not sent to a shopper who has already ordered.</p>
${form(
  'welcome',
  html`${checkbox(welcome, 'welcome.enabled', 'Send a welcome push')}
${input(welcome, 'welcome.delayMinutes', 'Send after', { suffix: 'minutes', inputmode: 'numeric', size: 'short', help: 'From 0 to 10,080 (a week) after the subscription.' })}
${choice(welcome, 'welcome.codeMode', 'First-order code', [
  { value: 'fixed', label: 'The same code for everyone', help: 'The code below; empty sends the welcome without a code.' },
  { value: 'list', label: 'A code of its own for each shopper', help: 'From the codes you paste below, each given once. When none is left, the welcome goes without a code.' },
])}
${input(welcome, 'welcome.code', 'Code for everyone', { size: 'medium', help: 'Shown where the template says {{discount.code}}.' })}
${textarea(welcome, WELCOME_CODES_FIELD, 'Add single-use codes', `One per line (or separated by commas or spaces), up to 64 characters each; codes already added are skipped. ${count(codes.left)} left to give, ${count(codes.given)} given.`)}
<p class="codes-left${codes.left === 0 && values['welcome.codeMode'] === 'list' ? ' warning' : ''}">Codes left: ${count(codes.left)}</p>
${holdoutField(welcome, 'welcome.holdoutPercent')}`,
  figuresPanel('welcome', figures.welcome, days),
)}
</section>
<section class="card automation" id="reactivation" aria-labelledby="reactivation-title">
<div class="automation-head"><h2 id="reactivation-title">Reactivation</h2>${state(isOn('reactivation.enabled'))}</div>
<p class="lede">“We miss you”: one push to a subscriber with no visit, click or order for some days, then none from this automation for a while.</p>
${form(
  'reactivation',
  html`${checkbox(comeback, 'reactivation.enabled', 'Send reactivation pushes')}
${input(comeback, 'reactivation.afterDays', 'After no visit, click or order for', { suffix: 'days', inputmode: 'numeric', size: 'short', help: 'From 7 to 730.' })}
${input(comeback, 'reactivation.quietForDays', 'Then none again for', { suffix: 'days', inputmode: 'numeric', size: 'short', help: 'From 1 to 730, counted from the push.' })}
${input(comeback, 'reactivation.code', 'Code', { size: 'medium', help: 'Optional; shown where the template says {{discount.code}}.' })}
${holdoutField(comeback, 'reactivation.holdoutPercent')}`,
  figuresPanel('reactivation', figures.reactivation, days),
)}
</section>
<h2 class="group-title">Rules for every push</h2>
<section class="card" id="frequency-cap" aria-labelledby="frequency-cap-title">
<h2 id="frequency-cap-title">Frequency cap</h2>
<p class="lede">The most marketing pushes one shopper gets in any 24 hours; the rest wait or are dropped.</p>
${form('frequency-cap', input(cap, 'engagement.frequencyCap.marketingPer24h', 'At most', { suffix: 'pushes per 24 hours', inputmode: 'numeric', size: 'short', help: '0 to 100; 0 sends no marketing pushes at all.' }))}
</section>
<section class="card" id="engagement-budget" aria-labelledby="engagement-budget-title">
<div class="automation-head"><h2 id="engagement-budget-title">Engagement budget</h2>${state(isOn('engagement.budget.enabled'))}</div>
<p class="lede">A shopper who keeps ignoring your marketing pushes gets fewer: every few unclicked in a row halve the number they may get per 7 days (at first 7 times the frequency cap), down to a floor, and one click on any push brings the full number back. This keeps Chrome from taking away your shop’s notification permission, as it does where pushes are rarely clicked; then not even order updates reach that shopper.</p>
${form(
  'engagement-budget',
  html`${checkbox(budget, 'engagement.budget.enabled', 'Send fewer pushes to shoppers who stop clicking')}
${input(budget, 'engagement.budget.ignoredPerHalving', 'Halve after', { suffix: 'ignored pushes in a row', inputmode: 'numeric', size: 'short', help: '1 to 20. A push counts as ignored once it has been out 24 hours with no click.' })}
${input(budget, 'engagement.budget.minPerWeek', 'Never fewer than', { suffix: 'pushes per 7 days', inputmode: 'numeric', size: 'short', help: '0 to 7; 0 sends a shopper who ignores everything no marketing push until they click again.' })}`,
)}
</section>
<section class="card" id="best-hour" aria-labelledby="best-hour-title">
<h2 id="best-hour-title">Best hour</h2>
<p class="lede">A push set to go at each shopper’s best hour goes at the hour of day they most often click a push or visit your shop, on their own clock.</p>
${form(
  'best-hour',
  input(bestHour, 'engagement.bestHour.minOwnDataPoints', 'Own history needed', {
    suffix: 'clicks and visits',
    inputmode: 'numeric',
    size: 'short',
    help: '1 to 100, counted over the last 60 days. A shopper with fewer clicks and visits than this gets the shop’s best hour: the hour your shoppers click most.',
  }),
)}
</section>
<section class="card" id="quiet-hours" aria-labelledby="quiet-hours-title">
<h2 id="quiet-hours-title">Quiet hours and time zone</h2>
<p class="lede">No pushes at night in the shopper’s own time; what falls due then goes when the quiet hours end.</p>
${form(
  'quiet-hours',
  html`${checkbox(quiet, 'engagement.quietHours.enabled', 'Keep quiet hours')}
<div class="field-pair">
${input(quiet, 'engagement.quietHours.start', 'From', { size: 'short', placeholder: '21:00', help: 'HH:MM, 24-hour clock.' })}
${input(quiet, 'engagement.quietHours.end', 'Until', { size: 'short', placeholder: '09:00', help: 'May be on the next day.' })}
</div>
${input(quiet, 'engagement.defaultTimeZone', 'Time zone for shoppers whose browser sent none', { size: 'medium', list: 'time-zones', help: 'An IANA name such as Europe/Berlin or America/New_York.' })}
<datalist id="time-zones">${input_.timeZones.map((zone) => html`<option value="${zone}"></option>`)}</datalist>`,
)}
</section>`;
  return appPage({ title: `Automations · ${chrome.site.name}`, assets: input_.assets, chrome: { ...chrome, current: 'automations' }, body });
}

// --- templates ---

function templatesPath(siteId: string): string {
  return `${DASHBOARD_PATH}/sites/${siteId}/templates`;
}

export function templateListPage(input_: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  locales: string[];
  defaultLocale: string;
  customised: (key: TemplateKey, locale: string) => boolean;
  openError?: string;
  openLocale?: string;
  resetNotice?: boolean;
}): Html {
  const { chrome } = input_;
  const base = templatesPath(chrome.site.id);
  const body = html`<div class="page-header">
<h1>Templates</h1>
<p>The texts of the automatic pushes, per language. A shopper gets the text in their browser’s language, else in ${input_.defaultLocale} (the shop’s default), else the built-in English text.</p>
</div>
${input_.resetNotice ? notice('success', 'The template is back to the built-in text.') : ''}
${TEMPLATE_KEYS.map(
  (key) => html`<section class="card template-key" aria-labelledby="key-${key.replace('.', '-')}">
<h2 id="key-${key.replace('.', '-')}">${TEMPLATE_LABELS[key].name}</h2>
<p class="meta">${TEMPLATE_LABELS[key].when} <code>${key}</code></p>
<ul class="locale-list">
${input_.locales.map((locale) => {
  const own = input_.customised(key, locale);
  return html`<li><a href="${base}/${key}/${locale}"><span class="locale">${locale}</span><span class="badge ${own ? 'custom' : 'builtin'}">${own ? 'Customised' : 'Built-in'}</span><span class="edit">Edit<span class="visually-hidden"> ${TEMPLATE_LABELS[key].name}, ${locale}</span></span></a></li>`;
})}
</ul>
</section>`,
)}
<section class="card" aria-labelledby="another-title">
<h2 id="another-title">Another language</h2>
<p class="lede">Write a template for a language not listed above.</p>
${input_.openError ? notice('error', input_.openError) : ''}
<form method="get" action="${base}" class="inline-form">
<div class="field"><label for="open-key">Template</label><select id="open-key" name="key">${TEMPLATE_KEYS.map((key) => html`<option value="${key}">${TEMPLATE_LABELS[key].name}</option>`)}</select></div>
<div class="field field-short"><label for="open-locale">Language tag</label><input id="open-locale" name="locale" type="text" value="${input_.openLocale ?? ''}" placeholder="fr" aria-describedby="open-locale-help"${input_.openError ? html` aria-invalid="true"` : ''}><p class="help" id="open-locale-help">Such as fr, de-AT, pt-BR.</p></div>
<div class="field"><button class="button secondary" type="submit">Open</button></div>
</form>
</section>`;
  return appPage({ title: `Templates · ${chrome.site.name}`, assets: input_.assets, chrome: { ...chrome, current: 'templates' }, body });
}

/** A product picture for the preview (the real one comes from the shop's catalogue): an inline SVG, allowed by the CSP's img-src data:. */
const SAMPLE_IMAGE = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 360 180"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#e8e4dc"/><stop offset="1" stop-color="#d6cfc2"/></linearGradient></defs><rect width="360" height="180" fill="url(#g)"/><path d="M150 40l-38 16-22 40 20 10 14-22v76h112V84l14 22 20-10-22-40-38-16c-4 12-16 20-30 20s-26-8-30-20z" fill="#7a8f6a"/><path d="M150 40c4 12 16 20 30 20s26-8 30-20" fill="none" stroke="#5f7352" stroke-width="4"/><path d="M124 150h112" stroke="#5f7352" stroke-width="6"/></svg>',
)}`;

function siteInitial(host: string): string {
  const letter = host.replace(/^www\./, '').match(/[\p{L}\p{N}]/u)?.[0] ?? '?';
  return letter.toUpperCase();
}

/** The notification in three looks, as the browser and system would draw it. */
export function previewPanel(preview: NotificationPreview, options: { image?: boolean; worstCase?: string } = {}): Html {
  const { message, host } = preview;
  const worstCase = options.worstCase ?? 'the longest product names and prices';
  const actions = message.actions ?? [];
  const initial = siteInitial(host);
  const icon = (extra: string) => html`<span class="site-icon ${extra}" aria-hidden="true">${initial}</span>`;
  const image = options.image === false ? '' : html`<img class="n-image" src="${SAMPLE_IMAGE}" alt="">`;
  const over = preview.bytesLeft < 0;
  return html`<div class="budget ${over ? 'over' : 'ok'}" id="byte-budget">
<p>${over
    ? html`<strong>${count(-preview.bytesLeft)} bytes too long.</strong> With ${worstCase} this push would be ${count(preview.bytes)} bytes; a push holds ${count(preview.limit)}.`
    : html`<strong>${count(preview.bytesLeft)} bytes left</strong> of ${count(preview.limit)}, counted with ${worstCase}.`}</p>
<meter min="0" max="${preview.limit}" low="${Math.round(preview.limit * 0.8)}" high="${Math.round(preview.limit * 0.95)}" optimum="0" value="${Math.min(preview.bytes, preview.limit)}" aria-label="Bytes used of the push">${count(preview.bytes)} of ${count(preview.limit)} bytes</meter>
</div>
<div class="looks">
<figure class="look">
<figcaption>Chrome on Windows</figcaption>
<div class="toast win">
<div class="win-app"><span class="chrome-logo" aria-hidden="true"></span><span>Google Chrome</span><span class="win-controls" aria-hidden="true">···&#8195;✕</span></div>
<div class="win-main">${icon('win-icon')}<div class="n-text"><p class="n-title">${message.title}</p><p class="n-body">${message.body}</p><p class="n-origin">${host}</p></div></div>
${image}
${actions.length > 0 ? html`<div class="win-actions">${actions.map((action) => html`<span class="win-button">${action.title}</span>`)}</div>` : ''}
</div>
</figure>
<figure class="look">
<figcaption>Chrome on macOS</figcaption>
<div class="toast mac">
<span class="chrome-logo mac-app" aria-hidden="true"></span>
<div class="n-text"><p class="n-title">${message.title}</p><p class="n-origin">${host}</p><p class="n-body">${message.body}</p></div>
${icon('mac-icon')}
${actions.length > 0 ? html`<span class="mac-options" aria-hidden="true">Options ⌄</span>` : ''}
</div>
${actions.length > 0 ? html`<p class="look-note">The buttons are under Options: ${actions.map((action, i) => html`${i > 0 ? ', ' : ''}“${action.title}”`)}. macOS shows no large image.</p>` : html`<p class="look-note">macOS shows no large image.</p>`}
</figure>
<figure class="look">
<figcaption>Chrome on Android</figcaption>
<div class="toast android">
<div class="android-head"><span class="chrome-badge" aria-hidden="true"></span><span>Chrome · ${host} · now</span><span class="android-chevron" aria-hidden="true">⌃</span></div>
<div class="android-main"><div class="n-text"><p class="n-title">${message.title}</p><p class="n-body">${message.body}</p></div>${icon('android-icon')}</div>
${image}
${actions.length > 0 ? html`<div class="android-actions">${actions.map((action) => html`<span>${action.title}</span>`)}</div>` : ''}
</div>
</figure>
</div>`;
}

export function templateEditorPage(input_: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  key: TemplateKey;
  locale: string;
  canEdit: boolean;
  customised: boolean;
  form: TemplateForm;
  preview: NotificationPreview;
  discountCode: string | undefined;
  saved?: boolean;
  /** What "Send to my browsers" did: each browser's outcome, or why nothing went. */
  testPush?: TemplateTestPush;
  /** "Send to my browsers" (the `send` permission): the text as typed, unsaved, to the user's own test browsers. */
  canSendTest?: boolean;
}): Html {
  const { chrome, key, locale, form, canEdit } = input_;
  const base = templatesPath(chrome.site.id);
  const action = `${base}/${key}/${locale}`;
  const context: FieldContext = { values: form.values, errors: form.errors, disabled: !canEdit };
  const label = TEMPLATE_LABELS[key];
  const problems = Object.keys(form.errors).length + form.general.length;
  const bodyId = fieldId('body');
  const bodyError = form.errors.body;

  const fields = html`${input(context, 'title', 'Title', { help: `One line, up to ${MAX_TITLE_CHARS} characters. Systems cut long titles.` })}
<div class="field">
<label for="${bodyId}">Text</label>
<textarea id="${bodyId}" name="body" rows="4" aria-describedby="${bodyId}-help${bodyError ? ` ${bodyId}-error` : ''}"${bodyError ? html` aria-invalid="true"` : ''}${canEdit ? '' : html` disabled`}>${form.values.body ?? ''}</textarea>
${bodyError ? html`<p class="field-error" id="${bodyId}-error">${bodyError}</p>` : ''}
<p class="help" id="${bodyId}-help">Up to ${MAX_BODY_CHARS} characters. A line whose placeholders are all empty is left out.</p>
</div>
<fieldset class="buttons-fieldset"><legend>Buttons <span class="meta">(optional, at most ${MAX_ACTIONS}; ${buttonTargets(key)})</span></legend>
${Array.from({ length: MAX_ACTIONS }, (_, i) => html`<div class="field-pair">
${input(context, `actions.${i}.title`, `Button ${i + 1} label`, { size: 'medium', help: `Up to ${MAX_ACTION_TITLE_CHARS} characters.` })}
${input(context, `actions.${i}.action`, `Button ${i + 1} id`, { size: 'medium', help: 'Letters, digits, _ or -; reported with clicks.' })}
</div>`)}
</fieldset>`;

  const body = html`<div class="page-header">
<p class="crumb"><a href="${base}">Templates</a> ›</p>
<h1>${label.name} <span class="locale-tag">${locale}</span></h1>
<p>${label.when} ${input_.customised ? 'This shop’s own text.' : 'Built-in text: saving makes it this shop’s own.'}</p>
</div>
${input_.saved ? notice('success', 'Saved. The next pushes use this text.') : ''}
${input_.testPush ? templateTestNotice(input_.testPush, `${DASHBOARD_PATH}/sites/${chrome.site.id}/install#test-push`) : ''}
${problems > 0
  ? notice('error', html`<p>${problems === 1 ? 'One thing needs' : 'Some things need'} a change before this can be saved.</p>${form.general.length > 0 ? html`<ul>${form.general.map((text) => html`<li>${text}</li>`)}</ul>` : ''}`)
  : ''}
${canEdit ? '' : notice('info', `Your role (${chrome.site.role}) can see the templates but not change them.`)}
<div class="template-layout">
<section class="card template-form" aria-labelledby="template-form-title">
<h2 id="template-form-title">Wording</h2>
${canEdit
  ? html`<form method="post" action="${action}" novalidate data-live-preview="notification-preview">
${csrfField(chrome.csrfToken)}
${fields}
<div class="card-footer"><button class="button" type="submit" name="intent" value="save">Save</button><button class="button secondary" type="submit" name="intent" value="preview">Preview</button>${input_.canSendTest ? html`<button class="button secondary" type="submit" name="intent" value="test">Send to my browsers</button>` : ''}</div>
</form>`
  : fields}
</section>
<section class="card preview-card" aria-labelledby="preview-title">
<h2 id="preview-title">What a shopper sees</h2>
<p class="meta">With sample values for a shopper in ${locale}. The picture is the product’s own image from your catalogue. Long texts are cut as the systems cut them: about 4 lines on Windows, 2 on macOS, 7 on Android.</p>
<div id="notification-preview">${previewPanel(input_.preview)}</div>
</section>
</div>
<section class="card" aria-labelledby="placeholders-title">
<h2 id="placeholders-title">Placeholders</h2>
<p class="lede">Type these in the title, text or button labels; each is filled in per shopper.</p>
<div class="table-scroll"><table class="placeholders">
<thead><tr><th scope="col">Placeholder</th><th scope="col">What it becomes</th><th scope="col">Sample</th></tr></thead>
<tbody>${sampleValues(key, locale, input_.discountCode).map(
    (row) => html`<tr><td><code>{{${row.name}}}</code></td><td>${row.meaning}</td><td>${row.sample === '' ? html`<span class="meta">${row.name === 'discount.code' ? 'Empty: no code for this reminder step (set one on the Automations page)' : '(empty)'}</span>` : row.sample}</td></tr>`,
  )}</tbody>
</table></div>
</section>
${canEdit && input_.customised
  ? html`<section class="card" aria-labelledby="reset-title">
<h2 id="reset-title">Back to the built-in text</h2>
<p class="lede">Deletes this shop’s ${locale} text for ${label.name.toLowerCase()}; shoppers then get the built-in one.</p>
<form method="post" action="${action}">${csrfField(chrome.csrfToken)}<button class="button danger" type="submit" name="intent" value="reset">Use the built-in text</button></form>
</section>`
  : ''}
${canEdit ? html`<script src="${assetUrl(input_.assets.pageScripts.get(PREVIEW_SCRIPT_KEY)!.name)}" defer></script>` : ''}`;
  return appPage({ title: `${label.name} (${locale}) · Templates · ${chrome.site.name}`, assets: input_.assets, chrome: { ...chrome, current: 'templates' }, body });
}

/** Where a template's buttons lead, in words for the editor. */
function buttonTargets(key: TemplateKey): string {
  if (key === 'rating_request') return 'each opens your rating page, with its id (good, bad) as the answer';
  if (key.startsWith('order_') || key === 'refund_issued') return 'each opens the order page; the id track opens the tracking link when it is on your shop';
  return 'each opens the product or cart';
}

export type TemplateTestPush = { kind: 'unavailable' } | { kind: 'invalid' } | { kind: 'sent'; results: Array<{ outcome: 'sent' | 'failed' | 'removed'; detail: string }> };

function templateTestNotice(test: TemplateTestPush, installHref: string): Html {
  if (test.kind === 'unavailable') return notice('error', 'This server cannot send test pushes: it was started without a push transport.');
  if (test.kind === 'invalid') return notice('error', 'Nothing was sent: fix the text first (see below).');
  if (test.results.length === 0) {
    return notice('info', html`No browser of yours is set up for test pushes, so nothing was sent. <a href="${installHref}">Allow test pushes in a browser</a> on the install page first.`);
  }
  const failed = test.results.some((result) => result.outcome !== 'sent');
  return notice(
    failed ? 'error' : 'success',
    html`<p>Test push of this text, as typed (not saved), with the sample values:</p><ul>${test.results.map(
      (result) => html`<li>${result.outcome === 'sent' ? 'Sent' : result.outcome === 'removed' ? 'Removed a browser' : 'Not sent'}: ${result.detail}</li>`,
    )}</ul>`,
  );
}

/** The live-preview script's entry in the assets' byName map, found by its stem. */
export const PREVIEW_SCRIPT_KEY = 'template-preview';
