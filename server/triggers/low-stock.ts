import { sql, type SqlBool } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ProductChange } from '../db/products.ts';
import type { SiteRow } from '../db/sites.ts';
import { reportUrl } from '../notifications/payload.ts';
import type { SiteSettings } from '../sites/site-settings.ts';
import { DAY_MS, DAY_SECONDS } from '../time.ts';
import { queueTriggerNotification } from './trigger-notification.ts';

/** "Only 3 left" is news for a day: after that the count it states is likely wrong. */
const LOW_STOCK_TTL_SECONDS = DAY_SECONDS;
/** The longest window a site may set (lowStock.withinDays): claims older than this decide nothing. */
export const LOW_STOCK_MAX_WINDOW_DAYS = 90;

/**
 * A change that brings a product's stock down to `threshold` or fewer (but not to 0: sold out is
 * no reason to hurry). It must be a fall — from more, or from a stock never sent — so a feed
 * repeating "3" every hour is not news each time.
 */
export function isLowStockChange(change: ProductChange, threshold: number): change is ProductChange & { stock: number } {
  const { stock, oldStock } = change;
  if (stock === null || stock <= 0 || stock > threshold || !change.inStock) return false;
  return oldStock === null || stock < oldStock;
}

/**
 * Tells the shoppers who carted, watched or viewed the product within `withinDays` that few are
 * left: each claimed first in low_stock_alerts (one row per product × shopper, renewed only once
 * the window has passed), in the transaction of the feed write, so two writes — or two workers —
 * tell a shopper once per window. Claimed for held-out shoppers too, so a holdout stays out.
 * Returns the notification id, or null when no subscriber was told.
 */
export async function fireLowStock(
  db: Db,
  site: SiteRow,
  change: ProductChange & { stock: number },
  settings: SiteSettings,
  options: { now: Date; publicUrl: string },
): Promise<string | null> {
  const { withinDays, holdoutPercent } = settings.lowStock;
  const since = new Date(options.now.getTime() - withinDays * DAY_MS);
  const interested = sql<{ shopper: string }>`
    select i.shopper from product_interest i
    where i.site_id = ${site.id} and i.product_id = ${change.productId} and i.seen_at >= ${since}
    union
    select 'v:' || w.visitor_id from watches w
    where w.site_id = ${site.id} and w.product_id = ${change.productId} and w.updated_at >= ${since}`;
  // In shopper order, so two writers claiming for one product take the row locks in the same order.
  const claimed = await sql<{ shopper: string }>`
    insert into low_stock_alerts as a (site_id, product_id, shopper, notified_at)
    select ${site.id}, ${change.productId}, e.shopper, ${options.now} from (${interested}) e order by e.shopper
    on conflict (site_id, product_id, shopper) do update set notified_at = excluded.notified_at
      where a.notified_at <= ${since}
    returning a.shopper`.execute(db);
  const visitors = claimed.rows.filter((row) => row.shopper.startsWith('v:')).map((row) => row.shopper.slice(2));
  const users = claimed.rows.filter((row) => row.shopper.startsWith('u:')).map((row) => row.shopper.slice(2));
  if (visitors.length === 0 && users.length === 0) return null;
  const byVisitor = visitors.length === 0 ? sql<SqlBool>`false` : sql<SqlBool>`s.visitor_id = any(${visitors}::text[])`;
  const byUser = users.length === 0 ? sql<SqlBool>`false` : sql<SqlBool>`s.external_user_id = any(${users}::text[])`;
  const { id, audience } = await queueTriggerNotification(db, {
    site,
    settings,
    source: 'low_stock',
    templateKey: 'low_stock',
    context: (locale) => ({
      locale,
      ...(change.currency ? { currency: change.currency } : {}),
      product: { name: change.name, stock: change.stock, ...(change.price === null ? {} : { priceNew: change.price }) },
    }),
    url: change.url,
    image: change.image,
    triggerKey: change.productId,
    audience: { trigger: 'low_stock', productId: change.productId, stock: change.stock },
    where: sql<SqlBool>`(${byVisitor} or ${byUser})`,
    holdoutPercent,
    ttlSeconds: LOW_STOCK_TTL_SECONDS,
    bestHour: settings.lowStock.sendAtBestHour,
    now: options.now,
    reportUrl: reportUrl(options.publicUrl),
  });
  return audience > 0 ? id : null;
}

/** Claims whose window has passed under any setting: they no longer hold anyone back. */
export async function purgeLowStockClaims(db: Db, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('low_stock_alerts')
    .where('notified_at', '<', new Date(now.getTime() - LOW_STOCK_MAX_WINDOW_DAYS * DAY_MS))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
