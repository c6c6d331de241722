import { sql, type Kysely } from 'kysely';

// Frozen. Order updates (issue 14 item 2) and rating requests (item 3).
//
// order_updates: one row per (site, order, event type) that fired a push, written in the
// transaction that queues it; the primary key is what makes a repeated `order_shipped` for the
// same order send nothing again, whatever its event id.
//
// rating_requests: one row per delivered order, so a rating is asked at most once per order.
// `due_at` is set while the request waits and cleared when it fires, is cancelled or skipped; the
// background round scans the partial index on it with FOR UPDATE SKIP LOCKED, as it scans carts.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('order_updates')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('order_id', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('notification_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('order_updates_pkey', ['site_id', 'order_id', 'type'])
    .execute();

  await db.schema
    .createTable('rating_requests')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('order_id', 'text', (col) => col.notNull())
    .addColumn('visitor_id', 'text')
    .addColumn('external_user_id', 'text')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('due_at', 'timestamptz')
    // scheduled | sent | cancelled | skipped
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('notification_id', 'uuid')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('rating_requests_pkey', ['site_id', 'order_id'])
    .execute();
  await sql`create index rating_requests_due on rating_requests (due_at) where due_at is not null`.execute(db);
  // Erasure of a shopper (GDPR art. 17) finds their pending requests by these.
  await sql`create index rating_requests_visitor on rating_requests (site_id, visitor_id) where visitor_id is not null`.execute(db);
  await sql`create index rating_requests_user on rating_requests (site_id, external_user_id) where external_user_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rating_requests').execute();
  await db.schema.dropTable('order_updates').execute();
}
