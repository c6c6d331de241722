import { markCartsOrdered, upsertCart } from '../db/carts.ts';
import { attributeOrder } from '../db/conversions.ts';
import type { CartItem, Db } from '../db/database.ts';
import { learnBrowserPrice, recordProductInterest, shopperKeys, upsertProducts } from '../db/products.ts';
import type { SiteRow } from '../db/sites.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { fireProductTriggers } from './price-drops.ts';

export interface CommerceEvent {
  type: string;
  source: 'browser' | 'server';
  visitorId: string | null;
  externalUserId: string | null;
  /** Validated by the events route for the known types (routes/events.ts). */
  properties: Record<string, unknown>;
}

/**
 * What a stored event changes for the triggers: product_viewed teaches the catalogue and who saw
 * which price; cart_updated (re)schedules the cart's reminders; order_completed ends them and
 * attributes the order to a clicked notification. Call in the transaction that stored the event,
 * and only for an event stored for the first time (a retried event changes nothing twice).
 * Returns the ids of notifications queued (a price learned from a view may be a drop).
 */
export async function applyCommerceEvent(db: Db, site: SiteRow, event: CommerceEvent, options: { now: Date; publicUrl: string }): Promise<string[]> {
  const shoppers = shopperKeys(event);
  const p = event.properties;
  switch (event.type) {
    case 'product_viewed': {
      const productId = p.productId as string;
      const product = {
        productId,
        ...(typeof p.name === 'string' ? { name: p.name } : {}),
        url: p.url as string,
        ...(typeof p.image === 'string' ? { image: p.image } : {}),
        price: p.price as number,
        currency: p.currency as string,
      };
      const changes =
        event.source === 'server'
          ? await upsertProducts(db, site.id, [product], options.now)
          : await learnBrowserPrice(db, site.id, product, shoppers[0]!, options.now);
      // The drop is measured against what the shopper saw before: fire first, then remember this view.
      const queued = await fireProductTriggers(db, site, changes, options);
      await recordProductInterest(
        db,
        shoppers.map((shopper) => ({ siteId: site.id, productId, shopper, price: p.price as number, via: 'viewed' as const })),
        options.now,
      );
      return queued;
    }
    case 'cart_updated': {
      const items = p.items as CartItem[];
      await upsertCart(
        db,
        {
          siteId: site.id,
          cartId: p.cartId as string,
          visitorId: event.visitorId,
          externalUserId: event.externalUserId,
          items,
          total: p.total as number,
          currency: p.currency as string,
          url: p.url as string,
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
      await markCartsOrdered(db, site.id, {
        ...(typeof p.cartId === 'string' ? { cartId: p.cartId } : {}),
        visitorId: event.visitorId,
        externalUserId: event.externalUserId,
        // Anyone with the publishable key can send a browser event: it may close only its own carts.
        ownCartsOnly: event.source === 'browser',
      });
      await attributeOrder(
        db,
        {
          siteId: site.id,
          orderId: p.orderId as string,
          value: p.value as number,
          currency: p.currency as string,
          visitorId: event.visitorId,
          externalUserId: event.externalUserId,
          source: event.source,
        },
        options.now,
        readSiteSettings(site.settings).attribution.windowHours,
      );
      return [];
    }
    default:
      return [];
  }
}

/** The site's reminder delays now, or null when reminders are off (read per cart event, not per view). */
function cartReminderDelays(site: SiteRow): number[] | null {
  const { cartReminders } = readSiteSettings(site.settings);
  return cartReminders.enabled ? cartReminders.steps.map((step) => step.delayMinutes) : null;
}
