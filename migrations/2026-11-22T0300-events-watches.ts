import { sql, type Kysely } from 'kysely';

// Frozen: shopper events (from the snippet or the shop's backend) and product watches.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('source', 'text', (col) => col.notNull().check(sql`source in ('browser', 'server')`))
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('visitor_id', 'text')
    .addColumn('external_user_id', 'text')
    .addColumn('properties', 'jsonb', (col) => col.notNull())
    // The sender's own id for the event: a retried send with the same id is stored once.
    .addColumn('client_event_id', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('events_site_client_event_key')
    .on('events')
    .columns(['site_id', 'client_event_id'])
    .unique()
    .where(sql.ref('client_event_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('events_site_visitor_idx').on('events').columns(['site_id', 'visitor_id', 'created_at']).execute();
  await db.schema.createIndex('events_site_type_idx').on('events').columns(['site_id', 'type', 'created_at']).execute();

  await db.schema
    .createTable('watches')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('visitor_id', 'text', (col) => col.notNull())
    .addColumn('product_id', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('price_drop', 'back_in_stock')`))
    // For price_drop: the price the shopper saw, or the target they asked for.
    .addColumn('price', 'numeric')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('watches_site_visitor_product_kind_key', ['site_id', 'visitor_id', 'product_id', 'kind'])
    .execute();
  await db.schema.createIndex('watches_site_product_idx').on('watches').columns(['site_id', 'product_id', 'kind']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('watches').execute();
  await db.schema.dropTable('events').execute();
}
