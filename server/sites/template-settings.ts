import { z } from 'zod';
import { MAX_ACTIONS } from '../../service-worker/src/contract.ts';
import { actionIdText, canonicalLocale, text } from '../validation.ts';

/**
 * A site's own texts for the automatic commerce pushes (cart reminders, price drops, back in stock):
 * per template key, per locale, with `{{placeholders}}`. The schema only: the built-in texts, the
 * locale lookup and the rendering are in server/triggers/.
 */

export const TEMPLATE_KEYS = [
  'cart_reminder.1',
  'cart_reminder.2',
  'price_drop',
  'back_in_stock',
  // Order updates (transactional) and the rating request after delivery.
  'order_shipped',
  'order_delivered',
  'order_ready_for_pickup',
  'order_cancelled',
  'refund_issued',
  'rating_request',
  // Low stock (marketing): a product a shopper showed interest in is running out.
  'low_stock',
  // The welcome after a new subscription (with and without a first-order code) and "we miss you".
  'welcome',
  'welcome.code',
  'reactivation',
  'reactivation.code',
  // Occasions (marketing): the shopper's birthday.
  'birthday',
] as const;
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
 * - `{{order.id}}`       the shop's order id (order updates, rating request).
 * - `{{order.carrier}}`  the carrier the event names ("DHL"); empty when none.
 * - `{{order.items}}`    how many items the order has, as a locale number; empty when not sent.
 * - `{{order.pickup}}`   where a pickup order waits ("Store Berlin-Mitte"); empty when none.
 * - `{{refund.amount}}`  the refunded amount, as money; empty when not sent.
 * - `{{price.lowest30}}` the lowest price of the 30 days before the drop, as money (price drop;
 *                        EU directive 98/6/EC art. 6a); `{{price.old}}` is this same price when the
 *                        site compares with it (`priceDrop.compareWith: 'lowest30'`).
 * - `{{stock}}`          units left, as a locale number (low stock).
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
  'order.id',
  'order.carrier',
  'order.items',
  'order.pickup',
  'refund.amount',
  'price.lowest30',
  'stock',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Limits of the rendered notification; kept equal to what the send API accepts for the same fields. */
export const MAX_TITLE_CHARS = 200;
export const MAX_BODY_CHARS = 1000;
export const MAX_ACTION_TITLE_CHARS = 100;

/** Anything that looks like a placeholder, so typos and `{{ spaced }}` names are caught at validation. */
const PLACEHOLDER_LIKE_PATTERN = /\{\{([^{}]*)\}\}/g;
/** C0, DEL and C1: invisible, and JSON escapes them to six bytes each. */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_CHARACTERS_EXCEPT_LINE_BREAK = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

export function isPlaceholder(name: string): name is Placeholder {
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
