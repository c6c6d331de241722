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
  /** Units left; only the shop's feed sends it. */
  stock?: number;
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
  /** Units left now and before; null when never sent (browsers never send it). */
  stock: number | null;
  oldStock: number | null;
}

interface ChangeRow {
  product_id: string;
  name: string;
  url: string | null;
  image: string | null;
  currency: string | null;
  price: string | null;
  in_stock: boolean;
  stock: number | null;
  old_price: string | null;
  old_in_stock: boolean | null;
  old_stock: number | null;
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
      stock: p.stock ?? null,
    })),
  );
  const result = await sql<ChangeRow>`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb)
        as x(product_id text, name text, url text, image text, price numeric, currency text, in_stock boolean, stock integer)
    ),
    old as (
      select p.* from products p
      where p.site_id = ${siteId} and p.product_id in (select product_id from input)
      for update
    ),
    upserted as (
      insert into products as p (site_id, product_id, name, url, image, price, currency, in_stock, stock, price_source, created_at, updated_at)
      select ${siteId}, i.product_id, coalesce(i.name, o.name, i.product_id), coalesce(i.url, o.url), coalesce(i.image, o.image),
        coalesce(i.price, o.price), coalesce(i.currency, o.currency), coalesce(i.in_stock, o.in_stock, true), coalesce(i.stock, o.stock),
        'feed', ${now}, ${now}
      from input i left join old o on o.product_id = i.product_id
      on conflict (site_id, product_id) do update set
        name = excluded.name, url = excluded.url, image = excluded.image, price = excluded.price,
        currency = excluded.currency, in_stock = excluded.in_stock, stock = excluded.stock, price_source = excluded.price_source,
        updated_at = excluded.updated_at
      returning p.product_id, p.name, p.url, p.image, p.currency, p.price::text, p.in_stock, p.stock
    )
    select u.*, o.price::text as old_price, o.in_stock as old_in_stock, o.stock as old_stock
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
    stock: row.stock,
    oldStock: row.old_stock,
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
  // One row per (site, product, shopper), the last one given winning (one statement may not update
  // a row twice), written in key order so concurrent writers lock shared rows in the same order.
  const latest = new Map<string, (typeof interest)[number]>();
  for (const row of interest) latest.set(`${row.siteId} ${row.productId} ${row.shopper}`, row);
  const rows = [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  await db
    .insertInto('product_interest')
    .values(rows.map((i) => ({ site_id: i.siteId, product_id: i.productId, shopper: i.shopper, price: i.price, via: i.via, seen_at: now })))
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
      stock: current.stock,
      oldStock: current.stock,
    },
  ];
}

/** A product_viewed from a browser, as learnBrowserPrices takes a group of them. */
export interface BrowserView {
  siteId: string;
  product: ProductInput & { price: number };
  shopper: string;
}

type ProductRow = NonNullable<Awaited<ReturnType<typeof findProduct>>>;

/** The fields of a product row learnBrowserPrice reads and writes. */
interface PriceState {
  exists: boolean;
  price_source: 'feed' | 'browser';
  price: number | null;
  pending_price: number | null;
  pending_price_shopper: string | null;
  priceChanged: boolean;
  /** Something to write: the row is new, or its price or pending price changed. */
  dirty: boolean;
}

function priceStateOf(row: ProductRow | undefined): PriceState | undefined {
  if (!row) return undefined;
  return {
    exists: true,
    price_source: row.price_source as 'feed' | 'browser',
    price: row.price === null ? null : Number(row.price),
    pending_price: row.pending_price === null ? null : Number(row.pending_price),
    pending_price_shopper: row.pending_price_shopper,
    priceChanged: false,
    dirty: false,
  };
}

/**
 * learnBrowserPrice's rules applied to one view against a state held in memory: the same steps,
 * the same outcome, without a statement per view. Returns the change a confirmed price makes.
 */
function applyView(state: PriceState | undefined, view: BrowserView, row: Pick<ProductRow, 'product_id' | 'name' | 'url' | 'image' | 'currency' | 'in_stock' | 'stock'>): { state: PriceState; change?: ProductChange } {
  const price = view.product.price;
  if (!state) {
    // A new product: the first view introduces it (written by the caller).
    return { state: { exists: false, price_source: 'browser', price, pending_price: null, pending_price_shopper: null, priceChanged: false, dirty: true } };
  }
  if (state.price_source === 'feed') return { state };
  if (state.price === price) {
    if (state.pending_price === null) return { state };
    return { state: { ...state, pending_price: null, pending_price_shopper: null, dirty: true } };
  }
  const confirmed = state.pending_price !== null && state.pending_price === price && state.pending_price_shopper !== view.shopper;
  if (!confirmed) return { state: { ...state, pending_price: price, pending_price_shopper: view.shopper, dirty: true } };
  const change: ProductChange = {
    productId: row.product_id,
    name: row.name,
    url: row.url,
    image: row.image,
    currency: row.currency,
    price,
    inStock: row.in_stock,
    oldPrice: state.price,
    wasInStock: row.in_stock,
    stock: row.stock,
    oldStock: row.stock,
  };
  return { state: { ...state, price, pending_price: null, pending_price_shopper: null, priceChanged: true, dirty: true }, change };
}

async function readProducts(db: Db, keys: Array<{ siteId: string; productId: string }>, lock: boolean): Promise<Map<string, ProductRow>> {
  if (keys.length === 0) return new Map();
  const sorted = [...keys].sort((a, b) => compareKeys(productKey(a.siteId, a.productId), productKey(b.siteId, b.productId)));
  let query = db
    .selectFrom('products')
    .selectAll()
    .where((eb) => eb.or(sorted.map((key) => eb.and([eb('site_id', '=', key.siteId), eb('product_id', '=', key.productId)]))))
    .orderBy('site_id')
    .orderBy('product_id');
  // In key order, so two groups locking the same products cannot deadlock.
  if (lock) query = query.forUpdate();
  const rows = await query.execute();
  return new Map(rows.map((row) => [productKey(row.site_id, row.product_id), row]));
}

function productKey(siteId: string, productId: string): string {
  return `${siteId} ${productId}`;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * learnBrowserPrice for a group of views (in the order they arrived), with the same outcome as
 * calling it once per view, but with one read per product and a write only where something
 * changes. The common case — the product is known at the price the shopper saw — reads the row
 * without locking it and writes nothing, so a thousand shoppers viewing one product at once do
 * not queue on its row lock. Only a product whose price or pending price changes is read again
 * FOR UPDATE (in key order) and its views replayed against what is stored then.
 * Returns, per view, the change it made (a confirmed price) or undefined.
 */
export async function learnBrowserPrices(db: Db, views: BrowserView[], now: Date): Promise<Array<ProductChange | undefined>> {
  const changes: Array<ProductChange | undefined> = views.map(() => undefined);
  if (views.length === 0) return changes;
  const byProduct = new Map<string, number[]>();
  views.forEach((view, index) => {
    const key = productKey(view.siteId, view.product.productId);
    byProduct.set(key, [...(byProduct.get(key) ?? []), index]);
  });
  const keyOf = (indexes: number[]) => ({ siteId: views[indexes[0]!]!.siteId, productId: views[indexes[0]!]!.product.productId });

  /** Replays `indexes` against `row`; returns the final state (undefined: nothing to write). */
  const replay = (indexes: number[], row: ProductRow | undefined, record: boolean): PriceState | undefined => {
    let state = priceStateOf(row);
    const first = views[indexes[0]!]!.product;
    const shown = row ?? { product_id: first.productId, name: first.name ?? first.productId, url: first.url ?? null, image: first.image ?? null, currency: first.currency ?? null, in_stock: true, stock: null };
    for (const index of indexes) {
      const applied = applyView(state, views[index]!, shown);
      state = applied.state;
      if (record) changes[index] = applied.change;
    }
    return state;
  };

  const plain = await readProducts(db, [...byProduct.values()].map(keyOf), false);
  const toInsert: BrowserView[] = [];
  const toLock: string[] = [];
  for (const [key, indexes] of byProduct) {
    const row = plain.get(key);
    if (row) {
      if (replay(indexes, row, false)?.dirty) toLock.push(key);
      continue;
    }
    // New: its first view introduces it at that view's price; a later view changes it only with another price.
    toInsert.push(views[indexes[0]!]!);
    const firstPrice = views[indexes[0]!]!.product.price;
    if (indexes.some((index) => views[index]!.product.price !== firstPrice)) toLock.push(key);
  }

  if (toInsert.length > 0) {
    toInsert.sort((a, b) => compareKeys(productKey(a.siteId, a.product.productId), productKey(b.siteId, b.product.productId)));
    // Another writer inserting the same product first changes nothing: its row is used below.
    await db
      .insertInto('products')
      .values(
        toInsert.map((view) => ({
          site_id: view.siteId,
          product_id: view.product.productId,
          name: view.product.name ?? view.product.productId,
          url: view.product.url ?? null,
          image: view.product.image ?? null,
          price: view.product.price,
          currency: view.product.currency ?? null,
          price_source: 'browser',
          created_at: now,
          updated_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['site_id', 'product_id']).doNothing())
      .execute();
  }
  if (toLock.length === 0) return changes;

  const locked = await readProducts(db, toLock.map((key) => keyOf(byProduct.get(key)!)), true);
  for (const key of toLock) {
    const indexes = byProduct.get(key)!;
    const row = locked.get(key);
    // A product inserted just now (by this group or another writer) was introduced by its first
    // view here, exactly as learnBrowserPrice's insert path: the later views meet the stored row.
    const replayed = plain.has(key) ? indexes : indexes.slice(1);
    if (!row || replayed.length === 0) continue;
    const state = replay(replayed, row, true);
    if (!state?.dirty) continue;
    await db
      .updateTable('products')
      .set({
        price: state.price,
        pending_price: state.pending_price,
        pending_price_shopper: state.pending_price_shopper,
        ...(state.priceChanged ? { updated_at: now } : {}),
      })
      .where('site_id', '=', row.site_id)
      .where('product_id', '=', row.product_id)
      .execute();
  }
  return changes;
}
