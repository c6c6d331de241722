import { sql, type Kysely } from 'kysely';

// Frozen: saved segments (audiences by rules, server/segments/segment-rules.ts) and the indexes
// that let Postgres count one over a million subscriptions in well under a second: each behaviour
// rule is either probed per subscription (a chunk of a send) or read once as a range and hashed
// (a count of the whole site), and these make both reads index-only or nearly so.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('segments')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('definition', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .execute();
  // One name per shop, whatever its case: "VIP" and "vip" in one list would only confuse.
  await sql`create unique index segments_site_name_key on segments (site_id, lower(name))`.execute(db);

  // A site's events of one type in a time range, with whose they were: the hashed read of
  // "viewed/carted/ordered … within N days" and of almost buyers' checkouts, without the heap.
  await sql`create index events_site_type_shopper_idx on events (site_id, type, created_at) include (visitor_id, external_user_id)`.execute(db);
  // "Viewed a product (or one whose id starts with …)": the product id first, then the time
  // range; text_pattern_ops so a LIKE prefix uses it whatever the database's collation.
  await sql`create index events_viewed_product_idx on events (site_id, (properties->>'productId') text_pattern_ops, created_at)
    include (visitor_id, external_user_id) where type = 'product_viewed'`.execute(db);
  // A shopper's events of one type, probed per subscription by either key.
  await sql`create index events_site_type_visitor_idx on events (site_id, type, visitor_id, created_at)`.execute(db);
  await sql`create index events_site_type_external_user_idx on events (site_id, type, external_user_id, created_at) where external_user_id is not null`.execute(db);
  // Clicks of a delivery (per-subscription probe of "clicked").
  await sql`create index interactions_clicked_delivery_idx on interactions (delivery_id, created_at) where type = 'clicked'`.execute(db);
  // Pushes sent in the last N hours (the hashed read of "received a marketing push").
  await sql`create index deliveries_sent_at_idx on deliveries (sent_at) include (subscription_id, notification_id) where status = 'sent'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deliveries_sent_at_idx').execute();
  await db.schema.dropIndex('interactions_clicked_delivery_idx').execute();
  await db.schema.dropIndex('events_site_type_external_user_idx').execute();
  await db.schema.dropIndex('events_site_type_visitor_idx').execute();
  await db.schema.dropIndex('events_viewed_product_idx').execute();
  await db.schema.dropIndex('events_site_type_shopper_idx').execute();
  await db.schema.dropTable('segments').execute();
}
