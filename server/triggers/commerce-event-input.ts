import { z } from 'zod';
import { PROMPT_FUNNEL_STEPS, type PromptFunnelStep } from '../db/prompt-funnel.ts';
import { ORDER_UPDATE_TYPES } from '../sites/site-settings.ts';
import { currencyCode, externalIdText, httpUrlText, jsonValueCheck, money, text } from '../validation.ts';

const id = externalIdText();
/** Fields a shop sends beyond the known ones: kept, and checked as all free-form JSON is. */
const shopFields = z.unknown().check(jsonValueCheck);
const withShopFields = <Shape extends z.core.$ZodLooseShape>(shape: Shape) => z.object(shape).catchall(shopFields);
const currency = currencyCode();
const httpUrl = httpUrlText();

/**
 * What an order update carries: the order, where the shopper sees it (`orderUrl`, used when on the
 * site's origins), the carrier's tracking page (`trackingUrl`: any http(s) URL is stored, but a
 * push links it only when it is on the site's origins, per the click-target rule), and what the
 * templates show.
 */
const orderUpdateShape = {
  orderId: id,
  orderUrl: httpUrl.optional(),
  trackingUrl: httpUrl.optional(),
  carrier: text().max(100).optional(),
  itemCount: z.number().int().min(0).max(100_000).optional(),
  pickupLocation: text().max(200).optional(),
};
const orderUpdateProperties = withShopFields(orderUpdateShape);

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
  // Order updates, from the shop's backend only (secret key): each sends a transactional push.
  order_shipped: orderUpdateProperties,
  order_delivered: orderUpdateProperties,
  order_ready_for_pickup: orderUpdateProperties,
  order_cancelled: orderUpdateProperties,
  refund_issued: withShopFields({ ...orderUpdateShape, amount: money().optional(), currency: currency.optional() }),
} as const;

/**
 * A known event, `{type, properties}`, parsed by its type: a zod discriminated union, so switching
 * on `type` gives each type's own properties.
 */
export const knownEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('product_viewed'), properties: KNOWN_EVENT_PROPERTIES.product_viewed }),
  z.object({ type: z.literal('cart_updated'), properties: KNOWN_EVENT_PROPERTIES.cart_updated }),
  z.object({ type: z.literal('checkout_started'), properties: KNOWN_EVENT_PROPERTIES.checkout_started }),
  z.object({ type: z.literal('order_completed'), properties: KNOWN_EVENT_PROPERTIES.order_completed }),
  z.object({ type: z.literal('order_shipped'), properties: KNOWN_EVENT_PROPERTIES.order_shipped }),
  z.object({ type: z.literal('order_delivered'), properties: KNOWN_EVENT_PROPERTIES.order_delivered }),
  z.object({ type: z.literal('order_ready_for_pickup'), properties: KNOWN_EVENT_PROPERTIES.order_ready_for_pickup }),
  z.object({ type: z.literal('order_cancelled'), properties: KNOWN_EVENT_PROPERTIES.order_cancelled }),
  z.object({ type: z.literal('refund_issued'), properties: KNOWN_EVENT_PROPERTIES.refund_issued }),
  // The snippet's soft prompt reports each step a shopper takes (server/db/prompt-funnel.ts counts them).
  ...PROMPT_FUNNEL_STEPS.map((step) => z.object({ type: z.literal(step), properties: withShopFields({}) })),
]);

/** A known event as parsed: a commerce event or a step of the prompt's funnel. */
export type ParsedKnownEvent = z.output<typeof knownEventSchema>;

/** A known event the commerce triggers read (the prompt's funnel steps are only counted). */
export type KnownEvent = Exclude<ParsedKnownEvent, { type: PromptFunnelStep }>;

export function isPromptFunnelEvent<Event extends { type: string }>(event: Event): event is Extract<Event, { type: PromptFunnelStep }> {
  return (PROMPT_FUNNEL_STEPS as readonly string[]).includes(event.type);
}

/** The event types the commerce triggers read; these and the prompt's funnel steps are parsed, any other is a shop's own. */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(KNOWN_EVENT_PROPERTIES));

/** The order update events: sent by the shop's backend, each a transactional push (the same list as their settings' switches). */
export const ORDER_UPDATE_EVENT_TYPES = ORDER_UPDATE_TYPES;

export type OrderUpdateEvent = Extract<KnownEvent, { type: (typeof ORDER_UPDATE_EVENT_TYPES)[number] }>;

export function isOrderUpdateEvent<Event extends { type: string }>(event: Event): event is Extract<Event, { type: (typeof ORDER_UPDATE_EVENT_TYPES)[number] }> {
  return (ORDER_UPDATE_EVENT_TYPES as readonly string[]).includes(event.type);
}
