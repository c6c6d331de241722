import { canonicalLocale } from '../validation.ts';
import { utf8Bytes } from '../notifications/payload.ts';
import {
  CONTROL_CHARACTERS,
  isPlaceholder,
  MAX_ACTION_TITLE_CHARS,
  MAX_BODY_CHARS,
  MAX_TITLE_CHARS,
  type MessageTemplate,
  type Placeholder,
} from '../sites/template-settings.ts';
import { FALLBACK_LOCALE } from './built-in-templates.ts';

/**
 * Renders a template for one subscriber: placeholders filled with values formatted for their locale
 * (money, counts, percentages), catalogue text cleaned and cut to the limits, and the worst-case
 * size of a template for the settings that store it. Pure: no I/O and no state besides constants,
 * so the trigger engine renders on Node and on Workers alike.
 */

/** Names come from the shop's catalogue; longer ones are cut with "…" so the copy around them survives. */
export const MAX_NAME_CHARS = 120;
/**
 * Money strings longer than this render as empty: a cut-off price is wrong, not short. 24 holds
 * "€1,000,000,000,000.00" with room for bidi marks and long symbols ("1.000.000.000,00 CHF").
 */
export const MAX_MONEY_CHARS = 24;
/** Locale-formatted counts and percentages; beyond this the value is junk and renders as empty. */
export const MAX_NUMBER_CHARS = 16;
/** " + {count} more" in the longest wording of {@link ITEM_MORE_WORDING} with a {@link MAX_NUMBER_CHARS} count. */
export const MAX_ITEM_MORE_CHARS = 32;
/** Longer codes render as empty: a truncated code would fail at checkout. */
export const MAX_DISCOUNT_CODE_CHARS = 64;
/** An order id or a carrier's name; longer ones are cut with "…". */
export const MAX_ORDER_TEXT_CHARS = 64;

/**
 * The most characters (UTF-16 code units, as everywhere in these limits) each placeholder can
 * produce: the values are capped at render time, which is what makes {@link worstCaseMessageBytes}
 * an upper bound rather than a guess.
 */
export const PLACEHOLDER_MAX_CHARS: Readonly<Record<Placeholder, number>> = Object.freeze({
  'product.name': MAX_NAME_CHARS,
  'price.old': MAX_MONEY_CHARS,
  'price.new': MAX_MONEY_CHARS,
  'price.saving': MAX_MONEY_CHARS,
  'price.percent': MAX_NUMBER_CHARS,
  'cart.total': MAX_MONEY_CHARS,
  'item.count': MAX_NUMBER_CHARS,
  'item.name': MAX_NAME_CHARS,
  'item.more': MAX_ITEM_MORE_CHARS,
  'discount.code': MAX_DISCOUNT_CODE_CHARS,
  'order.id': MAX_ORDER_TEXT_CHARS,
  'order.carrier': MAX_ORDER_TEXT_CHARS,
  'order.items': MAX_NUMBER_CHARS,
  'order.pickup': MAX_NAME_CHARS,
  'refund.amount': MAX_MONEY_CHARS,
  'price.lowest30': MAX_MONEY_CHARS,
  stock: MAX_NUMBER_CHARS,
});

/**
 * The costliest character per UTF-16 code unit in the JSON payload once values are sanitised: any
 * other BMP character is at most 3 bytes of UTF-8 ("€" is 3), an astral one is 4 bytes for 2 units,
 * and the characters JSON escapes (control characters, lone surrogates) are stripped from values and
 * refused in templates.
 */
export const WORST_CASE_CHAR = '€';

/**
 * " + 2 more" per language, picked with `Intl.PluralRules` (categories other than `one` use
 * `other`); languages missing here get English, which beats no hint at all. `{count}` is the
 * locale-formatted number.
 */
export const ITEM_MORE_WORDING: Readonly<Record<string, Readonly<{ one: string; other: string }>>> = Object.freeze({
  en: { one: ' + {count} more', other: ' + {count} more' },
  de: { one: ' + {count} weiterer', other: ' + {count} weitere' },
  fr: { one: ' + {count} autre', other: ' + {count} autres' },
  es: { one: ' + {count} más', other: ' + {count} más' },
  it: { one: ' + {count} altro', other: ' + {count} altri' },
  nl: { one: ' + nog {count}', other: ' + nog {count}' },
});

const ELLIPSIS = '…';

/** `{{name}}` as rendered; names are lower-case words (digits after the first letter) joined by dots. */
const PLACEHOLDER_PATTERN = /\{\{([a-z][a-z0-9]*(?:\.[a-z][a-z0-9]*)*)\}\}/g;
/** A surrogate without its partner: not text, and JSON escapes it to six bytes. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** What a trigger knows when it fires; plain data, so it can be queued and rendered later. */
export interface TemplateContext {
  /** The subscriber's BCP 47 locale; decides number and money formatting and the `{{item.more}}` wording. */
  locale: string;
  /** ISO 4217 code (`EUR`). Without it, money renders as a plain number with two decimals. */
  currency?: string;
  product?: {
    name: string;
    /**
     * The reference price for `{{price.old}}`: the lowest price of the 30 days before the drop, or
     * the price just before it when the site compares with that (`priceDrop.compareWith`). In the
     * EU a price reduction must be announced against the lowest price of the prior 30 days
     * (Directive 98/6/EC Art. 6a, as amended by 2019/2161).
     */
    priceOld?: number;
    priceNew?: number;
    /** `{{price.lowest30}}`: the lowest price of the 30 days before the drop, whatever the site compares with. */
    priceLowest30?: number;
    /** `{{stock}}`: units left (low stock). */
    stock?: number;
  };
  cart?: { total: number; itemCount: number };
  /** The first item of the cart and how many further distinct items there are. */
  item?: { name: string; moreCount: number };
  discount?: { code: string };
  /** An order update or rating request: what the shop's backend reported with the event. */
  order?: { id: string; carrier?: string; itemCount?: number; pickup?: string };
  /** A refund_issued event's amount, in `currency`. */
  refund?: { amount: number };
}

export interface RenderedMessage {
  title: string;
  body: string;
  actions?: Array<{ action: string; title: string }>;
}

/**
 * Cut to at most `max` UTF-16 code units, "…" included, at a grapheme boundary: surrogate pairs,
 * and also emoji sequences and combining marks, stay whole.
 */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let kept = '';
  for (const { segment } of segmenter.segment(text)) {
    if (kept.length + segment.length > max - ELLIPSIS.length) break;
    kept += segment;
  }
  return kept.trimEnd() + ELLIPSIS;
}

/**
 * Catalogue and cart data is text for a notification: control characters go (they are invisible,
 * or break lines in a one-line title), whitespace runs become one space. Markup is left alone: the
 * service worker shows text, so `<b>` must arrive as `<b>`, and escaping here would show `&lt;b&gt;`.
 */
function sanitize(text: string): string {
  return text
    .replace(LONE_SURROGATE, '\ufffd')
    .replace(/\s+/g, ' ')
    .replace(CONTROL_CHARACTERS, '')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Computed values are exact or absent: a value beyond its cap renders as empty, never cut. */
function capped(value: string, max: number): string {
  return value.length <= max ? value : '';
}

function formatMoney(amount: number | undefined, locale: string, currency: string | undefined): string {
  if (amount === undefined || !Number.isFinite(amount) || amount < 0) return '';
  const options: Intl.NumberFormatOptions =
    currency !== undefined && /^[A-Za-z]{3}$/.test(currency)
      ? { style: 'currency', currency }
      : { minimumFractionDigits: 2, maximumFractionDigits: 2 };
  return capped(new Intl.NumberFormat(locale, options).format(amount), MAX_MONEY_CHARS);
}

function formatCount(count: number, locale: string): string {
  if (!Number.isSafeInteger(count) || count < 0) return '';
  return capped(new Intl.NumberFormat(locale).format(count), MAX_NUMBER_CHARS);
}

function itemMore(moreCount: number, locale: string): string {
  if (!Number.isSafeInteger(moreCount) || moreCount < 1) return '';
  const count = formatCount(moreCount, locale);
  if (count === '') return '';
  const language = new Intl.Locale(locale).language;
  const wording = ITEM_MORE_WORDING[language] ?? ITEM_MORE_WORDING[FALLBACK_LOCALE]!;
  const form = new Intl.PluralRules(locale).select(moreCount) === 'one' ? wording.one : wording.other;
  return capped(form.replace('{count}', count), MAX_ITEM_MORE_CHARS);
}

function placeholderValue(name: Placeholder, context: TemplateContext, locale: string): string {
  const { product, cart, item, discount, currency, order, refund } = context;
  switch (name) {
    case 'product.name':
      return product === undefined ? '' : truncate(sanitize(product.name), MAX_NAME_CHARS);
    case 'price.old':
      return formatMoney(product?.priceOld, locale, currency);
    case 'price.new':
      return formatMoney(product?.priceNew, locale, currency);
    case 'price.saving': {
      const { priceOld, priceNew } = product ?? {};
      if (priceOld === undefined || priceNew === undefined || !(priceOld > priceNew)) return '';
      return formatMoney(priceOld - priceNew, locale, currency);
    }
    case 'price.percent': {
      const { priceOld, priceNew } = product ?? {};
      if (priceOld === undefined || priceNew === undefined || !(priceOld > priceNew) || !(priceNew >= 0)) return '';
      // The epsilon keeps 20 % from flooring to 19 % through binary fractions (e.g. 0.2 * 100).
      const percent = Math.floor(((priceOld - priceNew) / priceOld) * 100 + 1e-9);
      if (!(percent >= 1)) return '';
      const text = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(percent / 100);
      return capped(text, MAX_NUMBER_CHARS);
    }
    case 'cart.total':
      return formatMoney(cart?.total, locale, currency);
    case 'item.count':
      return cart === undefined ? '' : formatCount(cart.itemCount, locale);
    case 'item.name':
      return item === undefined ? '' : truncate(sanitize(item.name), MAX_NAME_CHARS);
    case 'item.more':
      return item === undefined ? '' : itemMore(item.moreCount, locale);
    case 'discount.code':
      return discount === undefined ? '' : capped(sanitize(discount.code), MAX_DISCOUNT_CODE_CHARS);
    case 'order.id':
      return order === undefined ? '' : truncate(sanitize(order.id), MAX_ORDER_TEXT_CHARS);
    case 'order.carrier':
      return order?.carrier === undefined ? '' : truncate(sanitize(order.carrier), MAX_ORDER_TEXT_CHARS);
    case 'order.items':
      return order?.itemCount === undefined ? '' : formatCount(order.itemCount, locale);
    case 'order.pickup':
      return order?.pickup === undefined ? '' : truncate(sanitize(order.pickup), MAX_NAME_CHARS);
    case 'refund.amount':
      return formatMoney(refund?.amount, locale, currency);
    case 'price.lowest30':
      return formatMoney(product?.priceLowest30, locale, currency);
    case 'stock':
      return product?.stock === undefined ? '' : formatCount(product.stock, locale);
  }
}

/**
 * One pass of `String.prototype.replace` with a function: a value is never scanned again, so a
 * product called "{{price.new}}" stays that text, and `$&` in a value is not a replacement pattern.
 * Unknown `{{names}}` stay literal (the schema refuses them; unvalidated input shows the mistake).
 */
function substitute(text: string, valueOf: (name: Placeholder) => string): { text: string; placeholders: number; filled: number } {
  let placeholders = 0;
  let filled = 0;
  const rendered = text.replace(PLACEHOLDER_PATTERN, (match, name: string) => {
    if (!isPlaceholder(name)) return match;
    placeholders += 1;
    const value = valueOf(name);
    if (value !== '') filled += 1;
    return value;
  });
  return { text: rendered, placeholders, filled };
}

function renderWith(template: MessageTemplate, valueOf: (name: Placeholder) => string): RenderedMessage {
  const body = template.body
    .split('\n')
    .map((line) => substitute(line, valueOf))
    .filter((line) => line.placeholders === 0 || line.filled > 0)
    .map((line) => line.text)
    .join('\n');
  const rendered: RenderedMessage = {
    title: truncate(substitute(template.title, valueOf).text, MAX_TITLE_CHARS),
    body: truncate(body, MAX_BODY_CHARS),
  };
  if (template.actions !== undefined) {
    rendered.actions = template.actions.map((action) => ({
      action: action.action,
      title: truncate(substitute(action.title, valueOf).text, MAX_ACTION_TITLE_CHARS),
    }));
  }
  return rendered;
}

/**
 * The notification text for one subscriber. Never throws on data: an invalid locale formats as
 * English, missing or nonsensical values (NaN, negative prices) render as empty text, because one
 * bad catalogue row must not stop a trigger's fan-out.
 */
export function renderMessage(template: MessageTemplate, context: TemplateContext): RenderedMessage {
  const locale = canonicalLocale(context.locale) ?? FALLBACK_LOCALE;
  const values = new Map<Placeholder, string>();
  return renderWith(template, (name) => {
    let value = values.get(name);
    if (value === undefined) {
      value = placeholderValue(name, context, locale);
      values.set(name, value);
    }
    return value;
  });
}

/**
 * UTF-8 bytes of `{title, body, actions}` as JSON for the largest rendering this template allows:
 * every placeholder at its cap in {@link WORST_CASE_CHAR}, then the same truncation as
 * {@link renderMessage}. Settings use it to refuse, when a template is saved, a text that could not
 * fit the 3,993-byte push payload (server/notifications/payload.ts) with the rest of the payload, instead of failing
 * later for one long product name.
 */
export function worstCaseMessageBytes(template: MessageTemplate): number {
  const { title, body, actions } = renderWith(template, (name) => WORST_CASE_CHAR.repeat(PLACEHOLDER_MAX_CHARS[name]));
  return utf8Bytes(JSON.stringify({ title, body, actions }));
}
