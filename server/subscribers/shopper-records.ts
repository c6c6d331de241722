import type { Db } from '../db/database.ts';
import {
  eraseShopper,
  resolveShopper,
  shopperCarts,
  shopperDeliveries,
  shopperEvents,
  shopperInteractions,
  shopperOrders,
  shopperPriceAlerts,
  shopperPricesSeen,
  shopperSubscriptions,
  shopperWatches,
  type Shopper,
} from '../db/subscribers.ts';
import { reasonText } from '../delivery/delivery-reasons.ts';
import { shopperExportView, type EraseResult, type ShopperExport } from './subscriber-views.ts';

/** How a shop names a shopper to erase or export: by the snippet's visitor id or its own user id. */
export type ShopperSelector = { visitorId: string } | { externalUserId: string };

export function shopperFrom(selector: ShopperSelector): Shopper {
  return 'visitorId' in selector ? { visitorIds: [selector.visitorId], externalUserIds: [] } : { visitorIds: [], externalUserIds: [selector.externalUserId] };
}

/**
 * Erases a shopper from a site (GDPR art. 17) in one transaction: the shopper as their
 * subscriptions tie ids together (a browser's visitor id and the user id the shop vouched for), so
 * erasing a signed-in user also erases what their browsers sent before they signed in. Erasing
 * someone of whom nothing is stored answers zero counts: the shop's own erase flow may call it for
 * every request without knowing what we hold.
 */
export async function eraseShopperData(db: Db, siteId: string, start: Shopper, now: Date): Promise<EraseResult> {
  return db.transaction().execute(async (trx) => {
    const shopper = await resolveShopper(trx, siteId, start);
    const erased = await eraseShopper(trx, siteId, shopper, now, reasonText('subscription_inactive', 'the subscriber was erased'));
    return { shopper, erased };
  });
}

/**
 * Everything stored about a shopper on a site (GDPR art. 15, portable as JSON under art. 20), read
 * in one repeatable-read transaction so the parts agree with each other.
 */
export async function exportShopperData(db: Db, siteId: string, start: Shopper, now: Date): Promise<ShopperExport> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const shopper = await resolveShopper(trx, siteId, start);
      // One after another: a transaction is one connection, which runs one query at a time.
      const subscriptions = await shopperSubscriptions(trx, siteId, shopper);
      const events = await shopperEvents(trx, siteId, shopper, null);
      const deliveries = await shopperDeliveries(trx, siteId, shopper, null);
      const interactions = await shopperInteractions(trx, siteId, shopper, ['shown', 'clicked', 'dismissed'], null);
      const orders = await shopperOrders(trx, siteId, shopper, null);
      const carts = await shopperCarts(trx, siteId, shopper);
      const watches = await shopperWatches(trx, siteId, shopper);
      const pricesSeen = await shopperPricesSeen(trx, siteId, shopper);
      const priceAlerts = await shopperPriceAlerts(trx, siteId, shopper);
      const birthdays = await trx
        .selectFrom('shopper_birthdays')
        .select(['external_user_id', 'month', 'day'])
        .where('site_id', '=', siteId)
        .where('external_user_id', '=', (eb) => eb.fn.any(eb.val(shopper.externalUserIds)))
        .orderBy('external_user_id')
        .execute();
      return shopperExportView({ shopper, subscriptions, events, deliveries, interactions, orders, carts, watches, pricesSeen, priceAlerts, birthdays }, now);
    });
}
