import { z } from 'zod';
import type { ErasedCounts, Shopper, ShopperCart, ShopperDelivery, ShopperEvent, ShopperInteraction, ShopperOrder, ShopperWatch } from '../db/subscribers.ts';
import type { SubscriptionRow } from '../db/subscriptions.ts';
import { reasonOf } from '../delivery/delivery-reasons.ts';
import { isoInstant } from '../sites/site-view-schemas.ts';

// What the subscribers API answers, as JSON and as the schemas the OpenAPI document shows (and the
// route tests check every answer against).

const count = z.number().int().nonnegative();
const deliveryStatus = z.enum(['queued', 'sending', 'sent', 'failed', 'expired', 'suppressed', 'held_out']);

export const shopperSchema = z.strictObject({
  /** The visitor ids of the shopper's browsers (the snippet's first-party id). */
  visitorIds: z.array(z.string()),
  /** The shop's own user ids, as its backend vouched for them (identify). */
  externalUserIds: z.array(z.string()),
});

/** One subscription: one browser that opted in. */
export const subscriberSchema = z.strictObject({
  id: z.uuid(),
  visitorId: z.string(),
  externalUserId: z.string().nullable(),
  /** A coarse browser family: chrome, edge, firefox, safari, opera, samsung or other. */
  browser: z.string().nullable(),
  locale: z.string().nullable(),
  timeZone: z.string().nullable(),
  tags: z.record(z.string(), z.unknown()),
  status: z.enum(['active', 'expired', 'unsubscribed']),
  subscribedAt: isoInstant,
  lastSeenAt: isoInstant,
  /** The last push the push service accepted for it. */
  lastSuccessAt: isoInstant.nullable(),
});
export type SubscriberView = z.infer<typeof subscriberSchema>;

export function subscriberView(row: SubscriptionRow): SubscriberView {
  return {
    id: row.id,
    visitorId: row.visitor_id,
    externalUserId: row.external_user_id,
    browser: row.user_agent_family,
    locale: row.locale,
    timeZone: row.time_zone,
    tags: row.tags,
    status: row.status,
    subscribedAt: row.created_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
    lastSuccessAt: row.last_success_at?.toISOString() ?? null,
  };
}

export const subscriberPageSchema = z.strictObject({
  data: z.array(subscriberSchema),
  /** Hand back as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});

export const eventSchema = z.strictObject({
  id: z.string(),
  type: z.string(),
  source: z.enum(['browser', 'server']),
  visitorId: z.string().nullable(),
  externalUserId: z.string().nullable(),
  properties: z.record(z.string(), z.unknown()),
  createdAt: isoInstant,
});

export function eventView(row: ShopperEvent): z.infer<typeof eventSchema> {
  return {
    id: row.id,
    type: row.type,
    source: row.source,
    visitorId: row.visitor_id,
    externalUserId: row.external_user_id,
    properties: row.properties,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export const deliverySchema = z.strictObject({
  id: z.string(),
  notificationId: z.uuid(),
  subscriptionId: z.uuid(),
  /** What queued the push: `api`, `cart_reminder`, `price_drop`, `back_in_stock`… */
  trigger: z.string(),
  title: z.string(),
  status: deliveryStatus,
  /** Why it did not go (yet), as GET /v1/notifications/{id} groups it: `quiet_hours`, `subscription_gone`…; null when nothing went wrong. */
  reason: z.string().nullable(),
  /** The reason in words, for people (may change). */
  detail: z.string().nullable(),
  attempts: count,
  /** The push service's last HTTP status. */
  lastStatus: z.number().int().nullable(),
  createdAt: isoInstant,
  sentAt: isoInstant.nullable(),
});

export function deliveryView(row: ShopperDelivery): z.infer<typeof deliverySchema> {
  return {
    id: row.id,
    notificationId: row.notification_id,
    subscriptionId: row.subscription_id,
    trigger: row.trigger,
    title: row.title,
    status: row.status,
    reason: row.last_error === null ? null : reasonOf(row.last_error),
    detail: row.last_error,
    attempts: row.attempts,
    lastStatus: row.last_status,
    createdAt: new Date(row.created_at).toISOString(),
    sentAt: row.sent_at === null ? null : new Date(row.sent_at).toISOString(),
  };
}

export const interactionSchema = z.strictObject({
  deliveryId: z.string(),
  notificationId: z.uuid(),
  type: z.enum(['shown', 'clicked', 'dismissed']),
  /** The button clicked; '' for the notification itself; null for shown and dismissed. */
  action: z.string().nullable(),
  createdAt: isoInstant,
});

export function interactionView(row: ShopperInteraction): z.infer<typeof interactionSchema> {
  return { deliveryId: row.delivery_id, notificationId: row.notification_id, type: row.type, action: row.action, createdAt: new Date(row.created_at).toISOString() };
}

export const orderSchema = z.strictObject({
  orderId: z.string(),
  value: z.number(),
  currency: z.string(),
  createdAt: isoInstant,
  /** The notification a click on which the order was attributed to; null when none. */
  notificationId: z.uuid().nullable(),
});

export function orderView(row: ShopperOrder): z.infer<typeof orderSchema> {
  return { orderId: row.order_id, value: Number(row.value), currency: row.currency, createdAt: new Date(row.created_at).toISOString(), notificationId: row.notification_id };
}

/** `GET /v1/subscribers/{id}`. */
export const subscriberDetailSchema = z.strictObject({
  subscriber: subscriberSchema,
  /** Who this subscription belongs to, and every subscription of theirs (this one included). */
  shopper: shopperSchema,
  subscriptions: z.array(subscriberSchema),
  /** The latest events, deliveries, clicks and orders of the shopper, newest first. */
  events: z.array(eventSchema),
  deliveries: z.array(deliverySchema),
  clicks: z.array(interactionSchema),
  orders: z.array(orderSchema),
});

const cartSchema = z.strictObject({
  cartId: z.string(),
  visitorId: z.string().nullable(),
  externalUserId: z.string().nullable(),
  items: z.array(z.record(z.string(), z.unknown())),
  itemCount: count,
  total: z.number(),
  currency: z.string(),
  url: z.string(),
  status: z.enum(['open', 'empty', 'ordered']),
  remindersSent: count,
  activeAt: isoInstant,
  createdAt: isoInstant,
});

function cartView(row: ShopperCart): z.infer<typeof cartSchema> {
  return {
    cartId: row.cart_id,
    visitorId: row.visitor_id,
    externalUserId: row.external_user_id,
    items: row.items as unknown as Array<Record<string, unknown>>,
    itemCount: row.item_count,
    total: Number(row.total),
    currency: row.currency,
    url: row.url,
    status: row.status,
    remindersSent: row.reminders_sent,
    activeAt: row.active_at.toISOString(),
    createdAt: row.created_at.toISOString(),
  };
}

const watchSchema = z.strictObject({
  visitorId: z.string(),
  productId: z.string(),
  kind: z.enum(['price_drop', 'back_in_stock']),
  price: z.number().nullable(),
  createdAt: isoInstant,
});

function watchView(row: ShopperWatch): z.infer<typeof watchSchema> {
  return { visitorId: row.visitor_id, productId: row.product_id, kind: row.kind, price: row.price === null ? null : Number(row.price), createdAt: row.created_at.toISOString() };
}

const exportedSubscriptionSchema = subscriberSchema.extend({
  /** The push service URL of the browser. Its keys (p256dh, auth) are the browser's own and are not repeated here. */
  endpoint: z.string(),
  updatedAt: isoInstant,
});

const exportedDeliverySchema = deliverySchema.extend({ body: z.string(), url: z.string() });

/** `POST /v1/subscribers/export`: everything stored about a shopper (GDPR art. 15 and 20). */
export const shopperExportSchema = z.strictObject({
  exportedAt: isoInstant,
  shopper: shopperSchema,
  subscriptions: z.array(exportedSubscriptionSchema),
  events: z.array(eventSchema),
  deliveries: z.array(exportedDeliverySchema),
  interactions: z.array(interactionSchema),
  orders: z.array(orderSchema),
  carts: z.array(cartSchema),
  watches: z.array(watchSchema),
  /** The last price they saw each product at (viewed, put in a cart, watched): what price drops are measured from. */
  pricesSeen: z.array(z.strictObject({ productId: z.string(), price: z.number(), via: z.enum(['viewed', 'carted', 'watched']), seenAt: isoInstant })),
  /** Price-drop pushes already announced to them, per product. */
  priceAlerts: z.array(z.strictObject({ productId: z.string(), price: z.number(), notifiedAt: isoInstant })),
  /** The birthday the shop set for their user id (month and day), for the birthday push. */
  birthdays: z.array(z.strictObject({ externalUserId: z.string(), month: z.number(), day: z.number() })),
});
export type ShopperExport = z.infer<typeof shopperExportSchema>;

export interface ShopperRecords {
  shopper: Shopper;
  subscriptions: SubscriptionRow[];
  events: ShopperEvent[];
  deliveries: ShopperDelivery[];
  interactions: ShopperInteraction[];
  orders: ShopperOrder[];
  carts: ShopperCart[];
  watches: ShopperWatch[];
  pricesSeen: Array<{ product_id: string; price: string; via: 'viewed' | 'carted' | 'watched'; seen_at: Date }>;
  priceAlerts: Array<{ product_id: string; price: string; notified_at: Date }>;
  birthdays: Array<{ external_user_id: string; month: number; day: number }>;
}

export function shopperExportView(records: ShopperRecords, exportedAt: Date): ShopperExport {
  return {
    exportedAt: exportedAt.toISOString(),
    shopper: records.shopper,
    subscriptions: records.subscriptions.map((row) => ({ ...subscriberView(row), endpoint: row.endpoint, updatedAt: row.updated_at.toISOString() })),
    events: records.events.map(eventView),
    deliveries: records.deliveries.map((row) => ({ ...deliveryView(row), body: row.body, url: row.url })),
    interactions: records.interactions.map(interactionView),
    orders: records.orders.map(orderView),
    carts: records.carts.map(cartView),
    watches: records.watches.map(watchView),
    pricesSeen: records.pricesSeen.map((row) => ({ productId: row.product_id, price: Number(row.price), via: row.via, seenAt: row.seen_at.toISOString() })),
    priceAlerts: records.priceAlerts.map((row) => ({ productId: row.product_id, price: Number(row.price), notifiedAt: row.notified_at.toISOString() })),
    birthdays: records.birthdays.map((row) => ({ externalUserId: row.external_user_id, month: row.month, day: row.day })),
  };
}

/** The answer to an erase: who was erased and how many rows of each kind. */
export const eraseResultSchema = z.strictObject({
  /** Every id erased: the one asked for and those the shopper's subscriptions tie to it. */
  shopper: shopperSchema,
  erased: z.strictObject({
    subscriptions: count,
    events: count,
    carts: count,
    watches: count,
    pricesSeen: count,
    priceAlerts: count,
    deliveriesAnonymised: count,
    deliveriesCancelled: count,
    ordersAnonymised: count,
    notificationAudiencesScrubbed: count,
  }),
});
export type EraseResult = { shopper: Shopper; erased: ErasedCounts };
