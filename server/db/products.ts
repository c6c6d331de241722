import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface ProductInput {
  productId: string;
  name?: string;
  url?: string;
  image?: string;
  price?: number;
  currency?: string;
  inStock?: boolean;
}

/** A product after an upsert, with what it was before: the triggers read the difference. */
export interface ProductChange {
  productId: string;
  name: string;
  url: string | null;
  image: string | null;
  currency: string | null;
  price: number | null;
  inStock: boolean;
  oldPrice: number | null;
  /** null: the product is new. */
  wasInStock: boolean | null;
}

interface ChangeRow {
  product_id: string;
  name: string;
  url: string | null;
  image: string | null;
  currency: string | null;
  price: string | null;
  in_stock: boolean;
  old_price: string | null;
  old_in_stock: boolean | null;
}

/**
 * Upserts products from the shop's own backend (`feed`, authoritative) in one statement and
 * returns each one's old and new price and stock. Fields left out keep their stored value (a feed
 * may send only price and stock). The old row is read FOR UPDATE in the same statement, so two
 * updates of one product cannot both see the old price. Browsers go through learnBrowserPrice.
 */
export async function upsertProducts(db: Db, siteId: string, products: ProductInput[], now: Date): Promise<ProductChange[]> {
  if (products.length === 0) return [];
  const input = JSON.stringify(
    products.map((p) => ({
      product_id: p.productId,
      name: p.name ?? null,
      url: p.url ?? null,
      image: p.image ?? null,
      price: p.price ?? null,
      currency: p.currency ?? null,
      in_stock: p.inStock ?? null,
    })),
  );
  const result = await sql<ChangeRow>`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb)
        as x(product_id text, name text, url text, image text, price numeric, currency text, in_stock boolean)
    ),
    old as (
      select p.* from products p
      where p.site_id = ${siteId} and p.product_id in (select product_id from input)
      for update
    ),
    upserted as (
      insert into products as p (site_id, product_id, name, url, image, price, currency, in_stock, price_source, created_at, updated_at)
      select ${siteId}, i.product_id, coalesce(i.name, o.name, i.product_id), coalesce(i.url, o.url), coalesce(i.image, o.image),
        coalesce(i.price, o.price), coalesce(i.currency, o.currency), coalesce(i.in_stock, o.in_stock, true), 'feed', ${now}, ${now}
      from input i left join old o on o.product_id = i.product_id
      on conflict (site_id, product_id) do update set
        name = excluded.name, url = excluded.url, image = excluded.image, price = excluded.price,
        currency = excluded.currency, in_stock = excluded.in_stock, price_source = excluded.price_source,
        updated_at = excluded.updated_at
      returning p.product_id, p.name, p.url, p.image, p.currency, p.price::text, p.in_stock
    )
    select u.*, o.price::text as old_price, o.in_stock as old_in_stock
    from upserted u left join old o on o.product_id = u.product_id`.execute(db);
  return result.rows.map((row) => ({
    productId: row.product_id,
    name: row.name,
    url: row.url,
    image: row.image,
    currency: row.currency,
    price: row.price === null ? null : Number(row.price),
    inStock: row.in_stock,
    oldPrice: row.old_price === null ? null : Number(row.old_price),
    wasInStock: row.old_in_stock,
  }));
}

export async function findProduct(db: Db, siteId: string, productId: string) {
  return db.selectFrom('products').selectAll().where('site_id', '=', siteId).where('product_id', '=', productId).executeTakeFirst();
}

/** Remembers the price a shopper last saw a product at; a price drop is measured from it. */
export async function recordProductInterest(
  db: Db,
  interest: Array<{ siteId: string; productId: string; shopper: string; price: number; via: 'viewed' | 'carted' | 'watched' }>,
  now: Date,
): Promise<void> {
  if (interest.length === 0) return;
  await db
    .insertInto('product_interest')
    .values(interest.map((i) => ({ site_id: i.siteId, product_id: i.productId, shopper: i.shopper, price: i.price, via: i.via, seen_at: now })))
    .onConflict((oc) =>
      oc.columns(['site_id', 'product_id', 'shopper']).doUpdateSet((eb) => ({
        price: eb.ref('excluded.price'),
        via: eb.ref('excluded.via'),
        seen_at: eb.ref('excluded.seen_at'),
      })),
    )
    .execute();
}

/** The two ways a subscription is found for a shopper: by its visitor id or the shop's user id. */
export function shopperKeys(ids: { visitorId?: string | null; externalUserId?: string | null }): string[] {
  return [...(ids.visitorId ? [`v:${ids.visitorId}`] : []), ...(ids.externalUserId ? [`u:${ids.externalUserId}`] : [])];
}

/**
 * A price from a shopper's product_viewed (browser, publishable key). It creates a product the
 * catalogue does not have; for one the shop's feed owns it changes nothing; for one learned from
 * browsers, a different price is taken only once a second visitor reports the same one — a single
 * visitor (anyone can send this event) cannot make a price drop that pushes to other shoppers.
 * Returns the change, if the price changed, in the shape upsertProducts does.
 */
export async function learnBrowserPrice(db: Db, siteId: string, product: ProductInput & { price: number }, shopper: string, now: Date): Promise<ProductChange[]> {
  const current = await db.selectFrom('products').selectAll().where('site_id', '=', siteId).where('product_id', '=', product.productId).forUpdate().executeTakeFirst();
  if (!current) {
    // A new product: the first view introduces it. Another first view racing this one changes
    // nothing (the next view takes the path below).
    await db
      .insertInto('products')
      .values({
        site_id: siteId,
        product_id: product.productId,
        name: product.name ?? product.productId,
        url: product.url ?? null,
        image: product.image ?? null,
        price: product.price,
        currency: product.currency ?? null,
        price_source: 'browser',
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['site_id', 'product_id']).doNothing())
      .execute();
    return [];
  }
  // From here on a browser moves only the price, never the name or image: one visitor could otherwise put their text and
  // image into other shoppers' price-drop pushes.
  if (current.price_source === 'feed') return [];
  const stored = current.price === null ? null : Number(current.price);
  const update = db.updateTable('products').where('site_id', '=', siteId).where('product_id', '=', product.productId);
  if (stored === product.price) {
    if (current.pending_price !== null) await update.set({ pending_price: null, pending_price_shopper: null }).execute();
    return [];
  }
  const confirmed = current.pending_price !== null && Number(current.pending_price) === product.price && current.pending_price_shopper !== shopper;
  if (!confirmed) {
    await update.set({ pending_price: product.price, pending_price_shopper: shopper }).execute();
    return [];
  }
  await update.set({ price: product.price, pending_price: null, pending_price_shopper: null, updated_at: now }).execute();
  return [
    {
      productId: current.product_id,
      name: current.name,
      url: current.url,
      image: current.image,
      currency: current.currency,
      price: product.price,
      inStock: current.in_stock,
      oldPrice: stored,
      wasInStock: current.in_stock,
    },
  ];
}
