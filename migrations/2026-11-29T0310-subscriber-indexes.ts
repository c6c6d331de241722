import { sql, type Kysely } from 'kysely';

// Frozen: the subscribers API (list, detail, erase, export) as it was on 2026-11-29.

export async function up(db: Kysely<any>): Promise<void> {
  // Erase (GDPR art. 17) keeps a shopper's deliveries as anonymous counts: the row stays for the
  // figures, its link to the erased subscription does not.
  await sql`alter table deliveries alter column subscription_id drop not null`.execute(db);

  // The list is read newest first, a page at a time from a (created_at, id) cursor: one index
  // range per page however deep the page, instead of sorting a site's subscriptions each time.
  await db.schema
    .createIndex('subscriptions_site_created_idx')
    .on('subscriptions')
    .columns(['site_id', 'created_at desc', 'id desc'])
    .execute();
  // Search by visitor id or user id prefix: `like 'abc%'` can use a btree only under the C
  // collation's order, which text_pattern_ops gives whatever the database's collation.
  await sql`create index subscriptions_site_visitor_prefix_idx on subscriptions (site_id, visitor_id text_pattern_ops)`.execute(db);
  await sql`create index subscriptions_site_external_user_prefix_idx on subscriptions (site_id, external_user_id text_pattern_ops)
    where external_user_id is not null`.execute(db);
  // The tag filter is `tags @> {…}`, which jsonb_path_ops answers.
  await sql`create index subscriptions_tags_idx on subscriptions using gin (tags jsonb_path_ops)`.execute(db);

  // Reading and erasing one shopper: their events by user id (by visitor id is indexed already),
  // the conversions of their deliveries, and the prices they saw and were alerted to.
  await db.schema
    .createIndex('events_site_external_user_idx')
    .on('events')
    .columns(['site_id', 'external_user_id', 'created_at'])
    .where(sql.ref('external_user_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('conversions_delivery_idx').on('conversions').column('delivery_id').execute();
  await db.schema.createIndex('product_interest_site_shopper_idx').on('product_interest').columns(['site_id', 'shopper']).execute();
  await db.schema.createIndex('price_alerts_site_shopper_idx').on('price_alerts').columns(['site_id', 'shopper']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('price_alerts_site_shopper_idx').execute();
  await db.schema.dropIndex('product_interest_site_shopper_idx').execute();
  await db.schema.dropIndex('conversions_delivery_idx').execute();
  await db.schema.dropIndex('events_site_external_user_idx').execute();
  await db.schema.dropIndex('subscriptions_tags_idx').execute();
  await db.schema.dropIndex('subscriptions_site_external_user_prefix_idx').execute();
  await db.schema.dropIndex('subscriptions_site_visitor_prefix_idx').execute();
  await db.schema.dropIndex('subscriptions_site_created_idx').execute();
  // Anonymised deliveries have no subscription left to point at: they go before the column is required again.
  await sql`delete from deliveries where subscription_id is null`.execute(db);
  await sql`alter table deliveries alter column subscription_id set not null`.execute(db);
}
