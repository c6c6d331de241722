import { sql } from 'kysely';
import { DAY_MS } from '../time.ts';
import type { Db } from './database.ts';
import type { ProductChange } from './products.ts';

/**
 * The period a price reduction is measured against in the EU: "the lowest price applied by the
 * trader during a period of time not shorter than 30 days prior to the application of the price
 * reduction" (directive 98/6/EC art. 6a(2), as inserted by directive 2019/2161).
 */
export const LOWEST_PRICE_DAYS = 30;
/**
 * History is kept this much longer than the rule needs, so a clock or a feed running a little
 * late never meets a window whose start has been purged.
 */
export const PRICE_HISTORY_MARGIN_DAYS = 5;

/**
 * Remembers each real change of a product's price (a new product's first price included) at `now`,
 * one row per change: a feed repeating the same price writes nothing. Call in the transaction that
 * stored the change, so the history and the catalogue never disagree.
 */
export async function recordPriceChanges(db: Db, siteId: string, changes: ProductChange[], now: Date): Promise<number> {
  const rows = changes
    .filter((change): change is ProductChange & { price: number } => change.price !== null && change.price !== change.oldPrice)
    .map((change) => ({ site_id: siteId, product_id: change.productId, price: change.price, currency: change.currency, changed_at: now }));
  if (rows.length === 0) return 0;
  await db.insertInto('product_prices').values(rows).execute();
  return rows.length;
}

/**
 * The lowest price applied in the 30 days before `at`, for a product whose price until `at` was
 * `priceBefore` (the price a reduction at `at` replaces). The window is [at − 30 days, at): a price
 * set exactly 30 days before counts, the one it replaced at that instant does not; a price set
 * earlier and still applied when the window opened counts. Only prices in `currency` are compared
 * (a change of currency starts afresh). With no history (a product fed before history was kept)
 * the price before is the only one known, and is the answer.
 */
export async function lowestPriceBefore(
  db: Db,
  product: { siteId: string; productId: string; currency: string | null; priceBefore: number },
  at: Date,
): Promise<number> {
  const lowest = await lowestPricesBefore(db, product.siteId, [product], at);
  return lowest.get(product.productId)!;
}

/**
 * {@link lowestPriceBefore} for many products of one site in one statement (a feed batch of 1,000
 * drops reads the history once, not 1,000 times). Keyed by product id.
 */
export async function lowestPricesBefore(
  db: Db,
  siteId: string,
  products: Array<{ productId: string; currency: string | null; priceBefore: number }>,
  at: Date,
): Promise<Map<string, number>> {
  const result = new Map(products.map((product) => [product.productId, product.priceBefore]));
  if (products.length === 0) return result;
  const since = new Date(at.getTime() - LOWEST_PRICE_DAYS * DAY_MS);
  const input = JSON.stringify(products.map((product) => ({ product_id: product.productId, currency: product.currency })));
  const sameProduct = sql`p.site_id = ${siteId} and p.product_id = i.product_id and p.currency is not distinct from i.currency`;
  const rows = await sql<{ product_id: string; lowest: string | null }>`
    select i.product_id, (
      select min(applied.price) from (
        (select p.price from product_prices p where ${sameProduct} and p.changed_at <= ${since} order by p.changed_at desc, p.id desc limit 1)
        union all
        select p.price from product_prices p where ${sameProduct} and p.changed_at > ${since} and p.changed_at < ${at}
      ) applied
    )::text as lowest
    from jsonb_to_recordset(${input}::jsonb) as i(product_id text, currency text)`.execute(db);
  for (const row of rows.rows) {
    const before = result.get(row.product_id);
    if (before !== undefined && row.lowest !== null) result.set(row.product_id, Math.min(Number(row.lowest), before));
  }
  return result;
}

/**
 * Drops history no rule needs any more: rows older than the window and its margin, except each
 * product's latest such row, which is the price still applied when the window opens. Returns how
 * many rows went.
 */
export async function purgePriceHistory(db: Db, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - (LOWEST_PRICE_DAYS + PRICE_HISTORY_MARGIN_DAYS) * DAY_MS);
  const result = await sql`
    delete from product_prices old
    where old.changed_at < ${cutoff}
      and exists (
        select 1 from product_prices newer
        where newer.site_id = old.site_id and newer.product_id = old.product_id
          and newer.changed_at <= ${cutoff} and (newer.changed_at, newer.id) > (old.changed_at, old.id))`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
