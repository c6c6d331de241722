import { z } from 'zod';
import { MAX_ACTIONS } from '../../service-worker/src/contract.ts';
import { actionIdText, canonicalLocale, text } from '../validation.ts';
import { utf8Bytes } from '../notifications/payload.ts';

/**
 * Texts for the automatic commerce pushes (cart reminders, price drops, back in stock): per site, per
 * template key, per locale, with `{{placeholders}}`. Pure: no I/O and no state besides constants, so
 * the trigger engine can render on Node and on Workers alike.
 */

export const TEMPLATE_KEYS = ['cart_reminder.1', 'cart_reminder.2', 'price_drop', 'back_in_stock'] as const;
export type TemplateKey = (typeof TEMPLATE_KEYS)[number];

/**
 * Every placeholder a template may use; anything else in `{{…}}` is refused at validation, because a
 * typo would otherwise reach subscribers as literal braces.
 *
 * - `{{product.name}}`   the product's name (price drop, back in stock).
 * - `{{price.old}}`      the price before the drop, as money in the subscriber's locale.
 * - `{{price.new}}`      the current price, as money.
 * - `{{price.saving}}`   old − new, as money; empty unless the price actually dropped.
 * - `{{price.percent}}`  whole percent off, rounded down so a discount is never overstated
 *                        ("20 %" in de, "20%" in en); empty unless at least 1 %.
 * - `{{cart.total}}`     the cart's total, as money.
 * - `{{item.count}}`     total quantity in the cart, as a locale number ("1.234" in de).
 * - `{{item.name}}`      the first cart item's name.
 * - `{{item.more}}`      " + 2 more" / " + 2 weitere": how many further items, with its own leading
 *                        space, so `{{item.name}}{{item.more}}` reads right with and without them;
 *                        empty when there are none.
 * - `{{discount.code}}`  the reminder's discount code; empty when there is none.
 *
 * A placeholder whose value is missing renders as empty text. In the body, a line whose placeholders
 * all came out empty is left out altogether, so optional copy goes on its own line
 * ("Use code {{discount.code}} at checkout.") and vanishes cleanly when there is no code.
 */
export const PLACEHOLDERS = [
  'product.name',
  'price.old',
  'price.new',
  'price.saving',
  'price.percent',
  'cart.total',
  'item.count',
  'item.name',
  'item.more',
  'discount.code',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Limits of the rendered notification; kept equal to what the send API accepts for the same fields. */
export const MAX_TITLE_CHARS = 200;
export const MAX_BODY_CHARS = 1000;
export const MAX_ACTION_TITLE_CHARS = 100;

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

const FALLBACK_LOCALE = 'en';
const ELLIPSIS = '…';

/** `{{name}}` as rendered; names are lower-case words joined by dots. */
const PLACEHOLDER_PATTERN = /\{\{([a-z]+\.[a-z]+)\}\}/g;
/** Anything that looks like a placeholder, so typos and `{{ spaced }}` names are caught at validation. */
const PLACEHOLDER_LIKE_PATTERN = /\{\{([^{}]*)\}\}/g;
/** C0, DEL and C1: invisible, and JSON escapes them to six bytes each. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_CHARACTERS_EXCEPT_LINE_BREAK = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
/** A surrogate without its partner: not text, and JSON escapes it to six bytes. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

const KNOWN_PLACEHOLDERS_TEXT = PLACEHOLDERS.map((name) => `{{${name}}}`).join(', ');

/**
 * A template text field. Control characters (line breaks aside, in the body) and lone surrogates
 * (by `text()`) are refused here rather than stripped at render, because they would otherwise
 * break the worst-case size bound and show as boxes on some platforms.
 */
function templateText(options: { min: number; max: number; lineBreaks: boolean }) {
  return text()
    .trim()
    .min(options.min)
    .max(options.max)
    .superRefine((text, ctx) => {
      const unknown = [...text.matchAll(PLACEHOLDER_LIKE_PATTERN)]
        .map((match) => match[1] ?? '')
        .filter((name) => !isPlaceholder(name));
      if (unknown.length > 0) {
        const names = [...new Set(unknown)].map((name) => `{{${name}}}`).join(', ');
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder${unknown.length > 1 ? 's' : ''} ${names}; known: ${KNOWN_PLACEHOLDERS_TEXT}`,
        });
      }
      const control = options.lineBreaks ? CONTROL_CHARACTERS_EXCEPT_LINE_BREAK : new RegExp(CONTROL_CHARACTERS.source);
      if (control.test(text)) {
        ctx.addIssue({
          code: 'custom',
          message: options.lineBreaks
            ? 'must not contain control characters other than line breaks'
            : 'must not contain control characters or line breaks',
        });
      }
    });
}

export const messageTemplateSchema = z
  .object({
    title: templateText({ min: 1, max: MAX_TITLE_CHARS, lineBreaks: false }),
    body: templateText({ min: 0, max: MAX_BODY_CHARS, lineBreaks: true }),
    actions: z
      .array(
        z
          .object({
            action: actionIdText(),
            title: templateText({ min: 1, max: MAX_ACTION_TITLE_CHARS, lineBreaks: false }),
          })
          .strict(),
      )
      .max(MAX_ACTIONS, `browsers show at most ${MAX_ACTIONS} action buttons`)
      .optional(),
  })
  .strict();

export type MessageTemplate = z.output<typeof messageTemplateSchema>;

/**
 * Locale keys are stored canonically (`de-at` → `de-AT`) so lookups are exact; two spellings of one
 * locale are refused rather than one silently winning.
 */
const localeTemplatesSchema = z
  .record(text(), messageTemplateSchema)
  .superRefine((byLocale, ctx) => {
    const seen = new Map<string, string>();
    for (const tag of Object.keys(byLocale)) {
      const canonical = canonicalLocale(tag);
      if (canonical === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [tag],
          message: `invalid locale "${tag}": must be a BCP 47 language tag such as "de" or "de-AT"`,
        });
        continue;
      }
      const earlier = seen.get(canonical);
      if (earlier !== undefined) {
        ctx.addIssue({ code: 'custom', path: [tag], message: `locale "${tag}" repeats "${earlier}"` });
      }
      seen.set(canonical, tag);
    }
  })
  .transform((byLocale) => {
    const canonical: Record<string, MessageTemplate> = {};
    for (const [tag, template] of Object.entries(byLocale)) canonical[canonicalLocale(tag) ?? tag] = template;
    return canonical;
  });

/**
 * A site's own texts. Every key is optional (keys left out use the built-in texts), which is why
 * this is not `z.record(z.enum(TEMPLATE_KEYS), …)`: in zod 4 that demands every key.
 */
export const templatesSchema = z
  .record(text(), localeTemplatesSchema)
  .superRefine((byKey, ctx) => {
    for (const key of Object.keys(byKey)) {
      if (!(TEMPLATE_KEYS as readonly string[]).includes(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `unknown template key "${key}"; known: ${TEMPLATE_KEYS.join(', ')}`,
        });
      }
    }
  })
  .transform((byKey) => byKey as Partial<Record<TemplateKey, Record<string, MessageTemplate>>>);

export type SiteTemplates = z.output<typeof templatesSchema>;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Built-in texts, used for keys and locales a site has not written. Frozen because
 * {@link resolveTemplate} hands out these very objects. German uses "du", as most German shops do
 * in marketing copy, and avoids verbs that would have to agree with `{{item.more}}`.
 */
export const DEFAULT_TEMPLATES: Readonly<Record<TemplateKey, Readonly<Record<'en' | 'de', MessageTemplate>>>> =
  deepFreeze({
    'cart_reminder.1': {
      en: {
        title: 'You left {{item.name}}{{item.more}} in your cart',
        body: 'Your cart is saved. Tap to pick up where you left off.',
      },
      de: {
        title: 'Noch in deinem Warenkorb: {{item.name}}{{item.more}}',
        body: 'Dein Warenkorb ist gespeichert. Tippe hier, um weiterzumachen.',
      },
    },
    'cart_reminder.2': {
      en: {
        title: 'Still thinking about {{item.name}}?',
        body: 'Your cart is still saved. Tap to complete your order.\nUse code {{discount.code}} at checkout.',
      },
      de: {
        title: 'Noch Interesse an {{item.name}}?',
        body: 'Dein Warenkorb ist noch gespeichert. Tippe hier, um die Bestellung abzuschließen.\nGib beim Bezahlen den Code {{discount.code}} ein.',
      },
    },
    price_drop: {
      en: {
        title: '{{product.name}} is now {{price.new}}',
        body: 'Was {{price.old}} — now {{price.new}}. Tap to see it.',
      },
      de: {
        title: '{{product.name}} jetzt für {{price.new}}',
        body: 'Vorher {{price.old}}, jetzt {{price.new}}. Tippe hier, um es anzusehen.',
      },
    },
    back_in_stock: {
      en: {
        title: '{{product.name}} is back in stock',
        body: 'It is available again. Tap to get yours.',
      },
      de: {
        title: '{{product.name}} ist wieder da',
        body: 'Wieder auf Lager. Tippe hier, um es dir zu sichern.',
      },
    },
  });

/**
 * RFC 4647 §3.4 lookup: the tag, then ever shorter prefixes (`zh-Hant-TW`, `zh-Hant`, `zh`),
 * dropping a singleton together with what follows it (`en-US-x-twain` → `en-US`).
 */
function lookupChain(tag: string): string[] {
  const canonical = canonicalLocale(tag);
  if (canonical === undefined) return [];
  const subtags = canonical.split('-');
  const chain: string[] = [];
  while (subtags.length > 0) {
    chain.push(subtags.join('-'));
    subtags.pop();
    if (subtags.length > 0 && subtags[subtags.length - 1]!.length === 1) subtags.pop();
  }
  return chain;
}

/** Case-insensitive, and never reads inherited properties (a stored key is data, not code). */
function templateFor(byLocale: Readonly<Record<string, MessageTemplate>> | undefined, tag: string): MessageTemplate | undefined {
  if (byLocale === undefined) return undefined;
  if (Object.hasOwn(byLocale, tag)) return byLocale[tag];
  const wanted = tag.toLowerCase();
  const key = Object.keys(byLocale).find((candidate) => candidate.toLowerCase() === wanted);
  return key === undefined ? undefined : byLocale[key];
}

/**
 * The template to send, in this order (each step tries the exact tag, then its shorter prefixes per
 * RFC 4647 lookup, so `de-AT` falls back to `de`):
 *   1. the site's template for the subscriber's locale,
 *   2. the site's template for the site's default locale,
 *   3. the built-in template for the subscriber's locale,
 *   4. the built-in template for the site's default locale,
 *   5. the built-in English template.
 * The site's own copy in its default language wins over built-in copy in the subscriber's language,
 * because a shop that wrote its texts wants its voice (and its offers) kept. Invalid tags are
 * skipped, never thrown: a subscriber's stored locale must not stop a trigger.
 */
export function resolveTemplate(
  siteTemplates: SiteTemplates | undefined,
  key: TemplateKey,
  locale: string,
  defaultLocale: string,
): MessageTemplate {
  const chains = [...lookupChain(locale), ...lookupChain(defaultLocale)];
  const site = siteTemplates?.[key];
  const builtIn = DEFAULT_TEMPLATES[key];
  for (const byLocale of [site, builtIn]) {
    for (const tag of chains) {
      const template = templateFor(byLocale, tag);
      if (template !== undefined) return template;
    }
  }
  return builtIn[FALLBACK_LOCALE];
}

/** What a trigger knows when it fires; plain data, so it can be queued and rendered later. */
export interface TemplateContext {
  /** The subscriber's BCP 47 locale; decides number and money formatting and the `{{item.more}}` wording. */
  locale: string;
  /** ISO 4217 code (`EUR`). Without it, money renders as a plain number with two decimals. */
  currency?: string;
  product?: {
    name: string;
    /**
     * The reference price for `{{price.old}}`: the triggers pass the catalogue price just before the
     * drop. In the EU a price reduction must be announced against the lowest price of the prior 30
     * days (Directive 98/6/EC Art. 6a, as amended by 2019/2161); a shop whose prices move often
     * should word its price_drop template without the old price (see the README).
     */
    priceOld?: number;
    priceNew?: number;
  };
  cart?: { total: number; itemCount: number };
  /** The first item of the cart and how many further distinct items there are. */
  item?: { name: string; moreCount: number };
  discount?: { code: string };
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
  const { product, cart, item, discount, currency } = context;
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
