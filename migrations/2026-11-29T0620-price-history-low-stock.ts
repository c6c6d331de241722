import { sql, type Kysely } from 'kysely';

// Frozen: the price history and low stock.
//
// - `product_prices`: one row per change of a product's price (its first price included), at the
//   instant the change was stored. The lowest price of the 30 days before a reduction is read from
//   it (EU Omnibus: art. 6a of directive 98/6/EC). Rows are kept only as long as that rule needs.
// - `products.stock`: how many the shop's feed says are left; null while the feed never sent it.
// - `low_stock_alerts`: the claim of one "only N left" push per product and shopper per window;
//   the primary key is what makes two feed writes racing each other tell a shopper once.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table product_prices (
    id bigint generated always as identity primary key,
    site_id uuid not null references sites (id) on delete cascade,
    product_id text not null,
    price numeric not null,
    currency text,
    changed_at timestamptz not null
  )`.execute(db);
  await sql`create index product_prices_product_idx on product_prices (site_id, product_id, changed_at)`.execute(db);
  await sql`create index product_prices_changed_idx on product_prices (changed_at)`.execute(db);

  await sql`alter table products add column stock integer check (stock >= 0)`.execute(db);

  await sql`create table low_stock_alerts (
    site_id uuid not null references sites (id) on delete cascade,
    product_id text not null,
    shopper text not null,
    notified_at timestamptz not null,
    primary key (site_id, product_id, shopper)
  )`.execute(db);
  await sql`create index low_stock_alerts_notified_idx on low_stock_alerts (notified_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table low_stock_alerts`.execute(db);
  await sql`alter table products drop column stock`.execute(db);
  await sql`drop table product_prices`.execute(db);
}
