import { z } from 'zod';
import { currencyCode, externalIdText, httpUrlText, jsonValueCheck, money, text } from '../validation.ts';

const id = externalIdText();
/** Fields a shop sends beyond the known ones: kept, and checked as all free-form JSON is. */
const shopFields = z.unknown().check(jsonValueCheck);
const withShopFields = <Shape extends z.core.$ZodLooseShape>(shape: Shape) => z.object(shape).catchall(shopFields);
const currency = currencyCode();
const httpUrl = httpUrlText();

/**
 * The properties of the events the commerce triggers read, per type; unknown fields are kept (a
 * shop sends what its platform has). Any other event type is the shop's own and its properties are
 * free-form.
 */
export const KNOWN_EVENT_PROPERTIES = {
  product_viewed: withShopFields({ productId: id, name: text().max(500).optional(), price: money(), currency, url: httpUrl, image: httpUrl.optional() }),
  cart_updated: withShopFields({
    cartId: id,
    items: z
      .array(
        withShopFields({
          productId: id,
          name: text().max(500),
          price: money(),
          quantity: z.number().int().min(0).max(10_000),
          image: httpUrl.optional(),
          url: httpUrl.optional(),
        }),
      )
      .max(200),
    total: money(),
    currency,
    url: httpUrl,
  }),
  checkout_started: withShopFields({ cartId: id.optional() }),
  order_completed: withShopFields({ orderId: id, value: money(), currency, cartId: id.optional() }),
} as const;

export type KnownEventType = keyof typeof KNOWN_EVENT_PROPERTIES;

/** A known event with its properties parsed: switching on `type` gives each type's own properties. */
export type KnownEvent = { [Type in KnownEventType]: { type: Type; properties: z.output<(typeof KNOWN_EVENT_PROPERTIES)[Type]> } }[KnownEventType];

type Parsed = { success: true; event: KnownEvent } | { success: false; issues: z.core.$ZodIssue[] };

/** `properties` parsed for a known `type`; undefined for a custom type. */
export function parseKnownEvent(type: string, properties: unknown): Parsed | undefined {
  switch (type) {
    case 'product_viewed': {
      const result = KNOWN_EVENT_PROPERTIES.product_viewed.safeParse(properties);
      return result.success ? { success: true, event: { type: 'product_viewed', properties: result.data } } : { success: false, issues: result.error.issues };
    }
    case 'cart_updated': {
      const result = KNOWN_EVENT_PROPERTIES.cart_updated.safeParse(properties);
      return result.success ? { success: true, event: { type: 'cart_updated', properties: result.data } } : { success: false, issues: result.error.issues };
    }
    case 'checkout_started': {
      const result = KNOWN_EVENT_PROPERTIES.checkout_started.safeParse(properties);
      return result.success ? { success: true, event: { type: 'checkout_started', properties: result.data } } : { success: false, issues: result.error.issues };
    }
    case 'order_completed': {
      const result = KNOWN_EVENT_PROPERTIES.order_completed.safeParse(properties);
      return result.success ? { success: true, event: { type: 'order_completed', properties: result.data } } : { success: false, issues: result.error.issues };
    }
    default:
      return undefined;
  }
}
