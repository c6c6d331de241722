import { markCartsOrdered, upsertCart } from '../db/carts.ts';
import { attributeOrder } from '../db/conversions.ts';
import type { Db } from '../db/database.ts';
import { learnBrowserPrice, recordProductInterest, shopperKeys, upsertProducts } from '../db/products.ts';
import type { SiteRow } from '../db/sites.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import type { KnownEvent } from './commerce-event-input.ts';
import { applyOrderUpdate } from './order-updates.ts';
import { fireProductTriggers } from './price-drops.ts';

/** A known event as the events route parsed it (commerce-event-input.ts), with who sent it. */
export type CommerceEvent = KnownEvent & {
  source: 'browser' | 'server';
  visitorId: string | null;
  externalUserId: string | null;
};

/**
 * What a stored event changes for the triggers: product_viewed teaches the catalogue and who saw
 * which price; cart_updated (re)schedules the cart's reminders; order_completed ends them and
 * attributes the order to a clicked notification. Call in the transaction that stored the event,
 * and only for an event stored for the first time (a retried event changes nothing twice).
 * Returns the ids of notifications queued (a price learned from a view may be a drop).
 */
export async function applyCommerceEvent(db: Db, site: SiteRow, event: CommerceEvent, options: { now: Date; publicUrl: string }): Promise<string[]> {
  const shoppers = shopperKeys(event);
  switch (event.type) {
    case 'product_viewed': {
      const p = event.properties;
      const productId = p.productId;
      const product = {
        productId,
        ...(p.name !== undefined ? { name: p.name } : {}),
        url: p.url,
        ...(p.image !== undefined ? { image: p.image } : {}),
        price: p.price,
        currency: p.currency,
      };
      const changes =
        event.source === 'server'
          ? await upsertProducts(db, site.id, [product], options.now)
          : await learnBrowserPrice(db, site.id, product, shoppers[0]!, options.now);
      // The drop is measured against what the shopper saw before: fire first, then remember this view.
      const queued = await fireProductTriggers(db, site, changes, options);
      await recordProductInterest(
        db,
        shoppers.map((shopper) => ({ siteId: site.id, productId, shopper, price: p.price, via: 'viewed' as const })),
        options.now,
      );
      return queued;
    }
    case 'cart_updated': {
      const p = event.properties;
      const items = p.items;
      await upsertCart(
        db,
        {
          siteId: site.id,
          cartId: p.cartId,
          visitorId: event.visitorId,
          externalUserId: event.externalUserId,
          items,
          total: p.total,
          currency: p.currency,
          url: p.url,
        },
        options.now,
        cartReminderDelays(site),
        { ownCartOnly: event.source === 'browser' },
      );
      await recordProductInterest(
        db,
        shoppers.flatMap((shopper) =>
          items.filter((item) => item.quantity > 0).map((item) => ({ siteId: site.id, productId: item.productId, shopper, price: item.price, via: 'carted' as const })),
        ),
        options.now,
      );
      return [];
    }
    case 'order_completed': {
      const p = event.properties;
      await markCartsOrdered(db, site.id, {
        ...(p.cartId !== undefined ? { cartId: p.cartId } : {}),
        visitorId: event.visitorId,
        externalUserId: event.externalUserId,
        // Anyone with the publishable key can send a browser event: it may close only its own carts.
        ownCartsOnly: event.source === 'browser',
      });
      await attributeOrder(
        db,
        {
          siteId: site.id,
          orderId: p.orderId,
          value: p.value,
          currency: p.currency,
          visitorId: event.visitorId,
          externalUserId: event.externalUserId,
          source: event.source,
        },
        options.now,
        readSiteSettings(site.settings).attribution.windowHours,
      );
      return [];
    }
    case 'checkout_started':
      return [];
    case 'order_shipped':
    case 'order_delivered':
    case 'order_ready_for_pickup':
    case 'order_cancelled':
    case 'refund_issued':
      // From the shop's backend only (the events route refuses them with a publishable key).
      return event.source === 'server' ? applyOrderUpdate(db, site, event, options) : [];
  }
}

/** The site's reminder delays now, or null when reminders are off (read per cart event, not per view). */
function cartReminderDelays(site: SiteRow): number[] | null {
  const { cartReminders } = readSiteSettings(site.settings);
  return cartReminders.enabled ? cartReminders.steps.map((step) => step.delayMinutes) : null;
}
