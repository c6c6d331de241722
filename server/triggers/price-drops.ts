import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db } from '../db/database.ts';
import { lowestPricesBefore, recordPriceChanges } from '../db/price-history.ts';
import type { ProductChange } from '../db/products.ts';
import type { SiteRow } from '../db/sites.ts';
import { reportUrl } from '../notifications/payload.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { DAY_SECONDS, HOUR_MS } from '../time.ts';
import { fireLowStock, isLowStockChange } from './low-stock.ts';
import { queueTriggerNotification } from './trigger-notification.ts';

/** A price or restock announcement is news for a few days at most. */
const PRODUCT_ALERT_TTL_SECONDS = 3 * DAY_SECONDS;

/**
 * Reacts to catalogue changes: every price change goes into the price history; a lower price tells
 * the shoppers who saw the product at a price higher by at least the site's threshold (or whose own
 * target it reached) — by default only when it is below the lowest price of the 30 days before; a
 * restock tells the product's back-in-stock watchers; stock falling to the threshold tells the
 * shoppers interested in it lately. Call in the transaction that stored the change (which holds the
 * products' rows locked, so two writes of one product run one after the other). Returns the
 * notification ids queued.
 */
export async function fireProductTriggers(db: Db, site: SiteRow, changes: ProductChange[], options: { now: Date; publicUrl: string }): Promise<string[]> {
  if (changes.length === 0) return [];
  const settings = readSiteSettings(site.settings);
  const queued: string[] = [];
  // Read before this change is written: the 30 days *before* the reduction.
  const drops = settings.priceDrop.enabled
    ? changes.filter((change): change is ProductChange & { price: number; oldPrice: number } => change.oldPrice !== null && change.price !== null && change.price < change.oldPrice)
    : [];
  const lowest30 = await lowestPricesBefore(db, site.id, drops.map((drop) => ({ productId: drop.productId, currency: drop.currency, priceBefore: drop.oldPrice })), options.now);
  await recordPriceChanges(db, site.id, changes, options.now);
  for (const change of changes) {
    const lowest = lowest30.get(change.productId);
    if (lowest !== undefined) {
      const id = await firePriceDrop(db, site, change as ProductChange & { price: number; oldPrice: number }, lowest, settings, options);
      if (id) queued.push(id);
    }
    if (settings.backInStock.enabled && change.wasInStock === false && change.inStock) {
      const id = await fireBackInStock(db, site, change, settings, options);
      if (id) queued.push(id);
    }
    if (settings.lowStock.enabled && isLowStockChange(change, settings.lowStock.threshold)) {
      const id = await fireLowStock(db, site, change as ProductChange & { stock: number }, settings, options);
      if (id) queued.push(id);
    }
  }
  return queued;
}

/**
 * The shoppers a drop to `price` is news for. Who saw the product at a price at least
 * `thresholdPercent` higher (viewed, carted, or watched without a target) — unless they set their
 * own target, which then decides alone — and who have not been told of this product within the
 * window at this price or lower (so a price flapping up and down does not notify again; falling
 * further does). With a `reference` (the 30-day low), the drop must also reach the threshold
 * measured from it: the drop a push announces is worth the push.
 */
function eligibleShoppers(siteId: string, productId: string, price: number, thresholdPercent: number, windowStart: Date, reference: number | null) {
  // least() ignores a null reference: then the shopper's own price alone decides.
  const from = sql`least(i.price, ${reference}::numeric)`;
  return sql<{ shopper: string }>`
    select e.shopper from (
      select i.shopper from product_interest i
      where i.site_id = ${siteId} and i.product_id = ${productId}
        and i.price > 0 and (${from} - ${price}) * 100 >= ${thresholdPercent} * ${from}
        and not exists (
          select 1 from watches w where w.site_id = i.site_id and w.product_id = i.product_id
            and w.kind = 'price_drop' and w.price is not null and i.shopper = 'v:' || w.visitor_id)
      union
      select 'v:' || w.visitor_id from watches w
      where w.site_id = ${siteId} and w.product_id = ${productId} and w.kind = 'price_drop'
        and w.price is not null and ${price} <= w.price
    ) e
    where not exists (
      select 1 from price_alerts a
      where a.site_id = ${siteId} and a.product_id = ${productId} and a.shopper = e.shopper
        and a.notified_at > ${windowStart} and a.price <= ${price})`;
}

async function firePriceDrop(
  db: Db,
  site: SiteRow,
  change: ProductChange & { price: number; oldPrice: number },
  lowest30: number,
  settings: ReturnType<typeof readSiteSettings>,
  options: { now: Date; publicUrl: string },
): Promise<string | null> {
  const { thresholdPercent, renotifyWindowHours, holdoutPercent, compareWith } = settings.priceDrop;
  // Directive 98/6/EC art. 6a: a reduction is announced against the lowest price of the 30 days
  // before it. Not below that low, it is no reduction to announce: a price that was raised for a
  // while and comes down again is back where it was, not "down from" the raised price.
  const againstLowest = compareWith === 'lowest30';
  if (againstLowest && !(change.price < lowest30)) return null;
  const priceOld = againstLowest ? lowest30 : change.oldPrice;
  const windowStart = new Date(options.now.getTime() - renotifyWindowHours * HOUR_MS);
  const eligible = eligibleShoppers(site.id, change.productId, change.price, thresholdPercent, windowStart, againstLowest ? lowest30 : null);
  // Matched on the bare ids so the subscriptions' (site, visitor) and (site, user) indexes serve it.
  const where: Expression<SqlBool> = sql<SqlBool>`(
    s.visitor_id in (select substr(e.shopper, 3) from (${eligible}) e where e.shopper like 'v:%')
    or s.external_user_id in (select substr(e.shopper, 3) from (${eligible}) e where e.shopper like 'u:%'))`;
  const { id, audience } = await queueTriggerNotification(db, {
    site,
    settings,
    source: 'price_drop',
    templateKey: 'price_drop',
    context: (locale) => ({
      locale,
      ...(change.currency ? { currency: change.currency } : {}),
      product: { name: change.name, priceOld, priceNew: change.price, priceLowest30: lowest30 },
    }),
    url: change.url,
    image: change.image,
    triggerKey: change.productId,
    audience: { trigger: 'price_drop', productId: change.productId, oldPrice: change.oldPrice, lowest30, comparedWith: compareWith, price: change.price },
    where,
    holdoutPercent,
    ttlSeconds: PRODUCT_ALERT_TTL_SECONDS,
    bestHour: settings.priceDrop.sendAtBestHour,
    now: options.now,
    reportUrl: reportUrl(options.publicUrl),
  });
  // Remembered for every eligible shopper, held out or not, so a holdout stays out of this drop.
  await sql`
    insert into price_alerts (site_id, product_id, shopper, price, notified_at)
    select ${site.id}, ${change.productId}, e.shopper, ${change.price}, ${options.now} from (${eligible}) e
    on conflict (site_id, product_id, shopper) do update set price = excluded.price, notified_at = excluded.notified_at`.execute(db);
  return audience > 0 ? id : null;
}

async function fireBackInStock(
  db: Db,
  site: SiteRow,
  change: ProductChange,
  settings: ReturnType<typeof readSiteSettings>,
  options: { now: Date; publicUrl: string },
): Promise<string | null> {
  const watchers = sql`select w.visitor_id from watches w where w.site_id = ${site.id} and w.product_id = ${change.productId} and w.kind = 'back_in_stock'`;
  const { id, audience } = await queueTriggerNotification(db, {
    site,
    settings,
    source: 'back_in_stock',
    templateKey: 'back_in_stock',
    context: (locale) => ({
      locale,
      ...(change.currency ? { currency: change.currency } : {}),
      product: { name: change.name, ...(change.price === null ? {} : { priceNew: change.price }) },
    }),
    url: change.url,
    image: change.image,
    triggerKey: change.productId,
    audience: { trigger: 'back_in_stock', productId: change.productId },
    where: sql<SqlBool>`s.visitor_id in (${watchers})`,
    holdoutPercent: settings.backInStock.holdoutPercent,
    ttlSeconds: PRODUCT_ALERT_TTL_SECONDS,
    bestHour: settings.backInStock.sendAtBestHour,
    now: options.now,
    reportUrl: reportUrl(options.publicUrl),
  });
  // A watch is a one-time wish: fulfilled now. Watching again asks for the next restock.
  await db.deleteFrom('watches').where('site_id', '=', site.id).where('product_id', '=', change.productId).where('kind', '=', 'back_in_stock').execute();
  return audience > 0 ? id : null;
}
