import type { Db } from '../db/database.ts';
import { suppressWaitingDeliveries } from '../db/deliveries.ts';
import { cancelNotification } from '../db/notifications.ts';
import { cancelRatingRequest, claimOrderUpdate, scheduleRatingRequest, setOrderUpdateNotification } from '../db/order-updates.ts';
import type { SiteRow } from '../db/sites.ts';
import { reasonText } from '../delivery/delivery-reasons.ts';
import { reportUrl } from '../notifications/payload.ts';
import { readSiteSettings, type SiteSettings } from '../sites/site-settings.ts';
import { DAY_MS, DAY_SECONDS } from '../time.ts';
import type { OrderUpdateEvent } from './commerce-event-input.ts';
import { onSiteOrNull, orderUrlFrom } from './order-push.ts';
import { queueTriggerNotification, shopperSubscriptions } from './trigger-notification.ts';

/**
 * An order update is news for a couple of days; a pickup notice for longer would be stale too
 * (the shop reminds at the counter), and a push service keeps nothing past its TTL (RFC 8030 §5.2).
 */
const ORDER_UPDATE_TTL_SECONDS = 2 * DAY_SECONDS;

/**
 * What an order update event does (call in the transaction that stored it): a transactional push
 * from the event type's template to the shopper's active subscriptions — never capped, never held
 * by quiet hours (the delivery rules exempt the transactional kind) — once per (site, order, type):
 * the claim and the push commit together, so a repeat of the event, with any event id, sends
 * nothing. `order_delivered` also schedules the rating request; `order_cancelled` and
 * `refund_issued` cancel one still waiting, and withdraw its push when it was queued but has not
 * gone yet (`withdrawRatingRequest`). Returns the notification ids queued.
 */
export async function applyOrderUpdate(
  db: Db,
  site: SiteRow,
  event: OrderUpdateEvent & { visitorId: string | null; externalUserId: string | null },
  options: { now: Date; publicUrl: string },
): Promise<string[]> {
  const settings = readSiteSettings(site.settings);
  const p = event.properties;
  const shopper = { visitorId: event.visitorId, externalUserId: event.externalUserId };
  const order = { siteId: site.id, orderId: p.orderId, ...shopper };

  if (event.type === 'order_delivered' && settings.ratingRequest.enabled) {
    await scheduleRatingRequest(db, { ...order, deliveredAt: options.now, dueAt: new Date(options.now.getTime() + settings.ratingRequest.delayDays * DAY_MS) });
  }
  // A refund is often for a return: no "how was it?" after either.
  if (event.type === 'order_cancelled' || event.type === 'refund_issued') {
    const queued = await cancelRatingRequest(db, order, options.now);
    if (queued) await withdrawRatingRequest(db, site.id, queued, { orderId: p.orderId, type: event.type }, options.now);
  }

  const { orderUpdates } = settings;
  if (!orderUpdates.enabled || !orderUpdates.types[event.type]) return [];
  const update = { siteId: site.id, orderId: p.orderId, type: event.type };
  if (!(await claimOrderUpdate(db, update, options.now))) return [];

  const orderPage = orderPageUrl(site, settings, p.orderId, p.orderUrl);
  // A carrier's page is another site: linked only when the shop serves tracking on its own origins.
  const tracking = onSiteOrNull(p.trackingUrl, site);
  const { id, audience } = await queueTriggerNotification(db, {
    site,
    settings,
    source: 'order_update',
    kind: 'transactional',
    templateKey: event.type,
    context: (locale) => ({
      locale,
      ...(event.type === 'refund_issued' && event.properties.currency ? { currency: event.properties.currency } : {}),
      order: {
        id: p.orderId,
        ...(p.carrier !== undefined ? { carrier: p.carrier } : {}),
        ...(p.itemCount !== undefined ? { itemCount: p.itemCount } : {}),
        ...(p.pickupLocation !== undefined ? { pickup: p.pickupLocation } : {}),
      },
      ...(event.type === 'refund_issued' && event.properties.amount !== undefined ? { refund: { amount: event.properties.amount } } : {}),
    }),
    url: orderPage,
    actionUrl: (action) => (action === 'track' ? tracking : orderPage),
    triggerKey: p.orderId,
    audience: { trigger: 'order_update', orderId: p.orderId, type: event.type },
    where: shopperSubscriptions(shopper),
    holdoutPercent: 0,
    ttlSeconds: ORDER_UPDATE_TTL_SECONDS,
    urgency: event.type === 'order_ready_for_pickup' ? 'high' : 'normal',
    now: options.now,
    reportUrl: reportUrl(options.publicUrl),
  });
  if (audience === 0) return [];
  await setOrderUpdateNotification(db, update, id);
  return [id];
}

/**
 * A rating request whose push was queued but still waits — for quiet hours, the shopper's best
 * hour, a cap's recheck, a retry: hours, possibly — must not ask about an order that was cancelled
 * or refunded meanwhile. In the transaction that stores the event: the notification is marked
 * cancelled, then its deliveries still queued are suppressed with the reason. A delivery a worker
 * holds right now is not touched (it may be at the push service); if the worker puts it back in
 * the queue instead (deferred, or a retry), its next claim finds the notification cancelled and
 * suppresses it (delivery-engine.ts). A push already sent, everywhere, leaves the notification as
 * it is: nothing can call it back.
 */
async function withdrawRatingRequest(db: Db, siteId: string, notificationId: string, order: { orderId: string; type: 'order_cancelled' | 'refund_issued' }, now: Date): Promise<void> {
  if (!(await cancelNotification(db, siteId, notificationId, now))) return;
  const what = order.type === 'refund_issued' ? 'refunded' : 'cancelled';
  await suppressWaitingDeliveries(db, notificationId, reasonText('cancelled', `order ${order.orderId} was ${what} (${order.type}) after its rating request was queued`), now);
}

/** The event's order page if on the shop, else the site's order page setting, else the home page. */
export function orderPageUrl(site: SiteRow, settings: SiteSettings, orderId: string, fromEvent: string | undefined): string {
  return onSiteOrNull(fromEvent, site) ?? onSiteOrNull(orderUrlFrom(settings.orderUpdates.orderPageUrl, orderId), site) ?? `${site.allowed_origins[0]}/`;
}
