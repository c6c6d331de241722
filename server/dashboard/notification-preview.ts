/**
 * What a shopper would see for a template: the template rendered with sample values by the same
 * function the triggers use (renderMessage), and the payload bytes it may take at worst, checked
 * the way a save is (templatePayloadBytes). Pure, so the dashboard draws the preview from a form
 * on Node and Workers alike, with or without the page's script.
 */
import { MAX_PAYLOAD_BYTES } from '../notifications/payload.ts';
import { templatePayloadBytes } from '../settings/change-settings.ts';
import type { MessageTemplate, Placeholder, TemplateKey } from '../sites/template-settings.ts';
import { renderMessage, type RenderedMessage, type TemplateContext } from '../triggers/template-rendering.ts';
import { canonicalLocale } from '../validation.ts';

/** What each automation's pushes are about, for the template list and the editor's heading. */
export const TEMPLATE_LABELS: Readonly<Record<TemplateKey, { name: string; when: string }>> = {
  'cart_reminder.1': { name: 'Cart reminder, first', when: 'Sent at the first cart reminder step.' },
  'cart_reminder.2': { name: 'Cart reminder, second', when: 'Sent at the second cart reminder step, often with a discount code.' },
  price_drop: { name: 'Price drop', when: 'Sent when a product a shopper looked at or watches gets cheaper.' },
  back_in_stock: { name: 'Back in stock', when: 'Sent when a product a shopper waits for is available again.' },
  order_shipped: { name: 'Order shipped', when: 'Sent when the shop reports order_shipped; the Track button opens the tracking link when it is on the shop.' },
  order_delivered: { name: 'Order delivered', when: 'Sent when the shop reports order_delivered.' },
  order_ready_for_pickup: { name: 'Ready for pickup', when: 'Sent when the shop reports order_ready_for_pickup.' },
  order_cancelled: { name: 'Order cancelled', when: 'Sent when the shop reports order_cancelled.' },
  refund_issued: { name: 'Refund issued', when: 'Sent when the shop reports refund_issued.' },
  rating_request: { name: 'Rating request', when: 'Sent some days after delivery; the buttons’ ids (good, bad) are the answers counted.' },
  low_stock: { name: 'Low stock', when: 'Sent when a product a shopper carted, watched or viewed is running out.' },
  welcome: { name: 'Welcome', when: 'Sent some minutes after a new subscription, when it carries no first-order code.' },
  'welcome.code': { name: 'Welcome with a code', when: 'Sent some minutes after a new subscription with its first-order code.' },
  reactivation: { name: 'We miss you', when: 'Sent after days without a visit, click or order, when the automation has no code.' },
  'reactivation.code': { name: 'We miss you, with a code', when: 'Sent after days without a visit, click or order, with the automation’s code.' },
  birthday: { name: 'Birthday', when: 'Sent on a shopper’s birthday, in their own time zone; with the birthday code when you set one.' },
};

/** Placeholders that mean something in each template (the others render empty there). */
export const PLACEHOLDERS_BY_KEY: Readonly<Record<TemplateKey, readonly Placeholder[]>> = {
  'cart_reminder.1': ['item.name', 'item.more', 'item.count', 'cart.total', 'discount.code'],
  'cart_reminder.2': ['item.name', 'item.more', 'item.count', 'cart.total', 'discount.code'],
  price_drop: ['product.name', 'price.old', 'price.new', 'price.saving', 'price.percent', 'price.lowest30'],
  back_in_stock: ['product.name', 'price.new'],
  order_shipped: ['order.id', 'order.carrier', 'order.items'],
  order_delivered: ['order.id', 'order.items'],
  order_ready_for_pickup: ['order.id', 'order.pickup', 'order.items'],
  order_cancelled: ['order.id', 'order.items'],
  refund_issued: ['order.id', 'refund.amount'],
  rating_request: ['order.id'],
  low_stock: ['product.name', 'stock', 'price.new'],
  welcome: [],
  'welcome.code': ['discount.code'],
  reactivation: [],
  'reactivation.code': ['discount.code'],
  birthday: ['discount.code'],
};

export const PLACEHOLDER_MEANINGS: Readonly<Record<Placeholder, string>> = {
  'product.name': 'the product’s name',
  'price.old': 'the price before the drop',
  'price.new': 'the price now',
  'price.saving': 'how much cheaper it is now',
  'price.percent': 'percent off, rounded down',
  'cart.total': 'the cart’s total',
  'item.count': 'how many items are in the cart',
  'item.name': 'the first item in the cart',
  'item.more': '“ + 2 more” when there are further items; empty otherwise',
  'discount.code': 'the reminder step’s discount code; a body line with only empty placeholders is left out',
  'order.id': 'the shop’s order id',
  'order.carrier': 'the carrier the shop named; empty when none',
  'order.items': 'how many items the order has; empty when the shop sent no count',
  'order.pickup': 'where the order waits to be picked up',
  'refund.amount': 'the amount refunded',
  'price.lowest30': 'the lowest price of the 30 days before the drop (what EU law allows as the “was” price)',
  stock: 'how many are left',
};

/** A money sample in a currency a shop in that locale would likely use; only the sample depends on it. */
function sampleCurrency(locale: string): string {
  const region = (() => {
    try {
      return new Intl.Locale(locale).region;
    } catch {
      return undefined;
    }
  })();
  const byRegion: Record<string, string> = { US: 'USD', GB: 'GBP', CH: 'CHF', JP: 'JPY', CA: 'CAD', AU: 'AUD', SE: 'SEK', DK: 'DKK', NO: 'NOK', PL: 'PLN' };
  if (region && byRegion[region]) return byRegion[region]!;
  return locale.split('-')[0] === 'en' ? 'USD' : 'EUR';
}

/** The sample shopper's data, formatted for `locale`: every placeholder has a value but the discount code, which the step may not have. */
export function sampleContext(locale: string, discountCode: string | undefined): TemplateContext {
  return {
    locale,
    currency: sampleCurrency(locale),
    product: { name: 'Merino wool sweater', priceOld: 89, priceNew: 69, priceLowest30: 89, stock: 3 },
    cart: { total: 148.5, itemCount: 3 },
    item: { name: 'Merino wool sweater', moreCount: 2 },
    order: { id: '10482', carrier: 'DHL', itemCount: 3, pickup: 'Store Berlin-Mitte' },
    refund: { amount: 24.9 },
    // As the triggers do: a code only where the reminder step has one, else its line is left out.
    ...(discountCode ? { discount: { code: discountCode } } : {}),
  };
}

/** Each placeholder of `key` with its sample value as the preview fills it in. */
export function sampleValues(key: TemplateKey, locale: string, discountCode: string | undefined): Array<{ name: Placeholder; meaning: string; sample: string }> {
  const context = sampleContext(locale, discountCode);
  return PLACEHOLDERS_BY_KEY[key].map((name) => ({
    name,
    meaning: PLACEHOLDER_MEANINGS[name],
    sample: renderMessage({ title: `{{${name}}}`, body: '' }, context).title,
  }));
}

export interface NotificationPreview {
  message: RenderedMessage;
  /** The shop's origin as the browser names the sender. */
  origin: string;
  host: string;
  /** Largest payload this template can make, and what is left of the limit (negative: over by that much). */
  bytes: number;
  limit: number;
  bytesLeft: number;
}

/**
 * The preview of `template` (as typed: it may not have passed validation yet, so nothing here
 * throws on it) for a shopper in `locale` of the shop at `origin`.
 */
export function notificationPreview(input: {
  template: MessageTemplate;
  locale: string;
  origin: string;
  discountCode: string | undefined;
  publicUrl: string;
}): NotificationPreview {
  const locale = canonicalLocale(input.locale) ?? 'en';
  const message = renderMessage(input.template, sampleContext(locale, input.discountCode));
  const bytes = templatePayloadBytes(input.template, input.publicUrl);
  let host = input.origin;
  try {
    host = new URL(input.origin).host;
  } catch {
    // An origin that does not parse is shown as stored.
  }
  return { message, origin: input.origin, host, bytes, limit: MAX_PAYLOAD_BYTES, bytesLeft: MAX_PAYLOAD_BYTES - bytes };
}
