import { sql, type Kysely } from 'kysely';

// Frozen: the send path as it was on 2026-11-22 (notifications, the deliveries outbox, idempotency).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('source', 'text', (col) => col.notNull().defaultTo('api'))
    .addColumn('kind', 'text', (col) => col.notNull().check(sql`kind in ('transactional', 'marketing')`))
    // Title, body, url, images, actions, requireInteraction: the content every delivery carries.
    .addColumn('content', 'jsonb', (col) => col.notNull())
    .addColumn('audience', 'jsonb', (col) => col.notNull())
    .addColumn('audience_size', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('ttl_seconds', 'integer', (col) => col.notNull())
    .addColumn('urgency', 'text', (col) => col.notNull().defaultTo('normal'))
    .addColumn('topic', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('notifications_site_created_idx').on('notifications').columns(['site_id', 'created_at']).execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('notification_id', 'uuid', (col) => col.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('subscription_id', 'uuid', (col) => col.notNull().references('subscriptions.id').onDelete('cascade'))
    // The endpoint the delivery was made for: a 404/410 expires the subscription only while it
    // still has this endpoint, so a subscription renewed in the meantime is left alone.
    .addColumn('endpoint', 'text', (col) => col.notNull())
    // Proves a report (shown / clicked / dismissed) came from the payload of this delivery.
    .addColumn('report_token', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .defaultTo('queued')
        .check(sql`status in ('queued', 'sending', 'sent', 'failed', 'expired', 'suppressed')`),
    )
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    // queued: when it may be sent; sending: when its lease lapses and another worker may take it.
    .addColumn('due_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('leased_by', 'text')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('deliveries_notification_subscription_key', ['notification_id', 'subscription_id'])
    .execute();
  // The claim query's index: only rows still to do, ordered by when they are due.
  await db.schema
    .createIndex('deliveries_due_idx')
    .on('deliveries')
    .column('due_at')
    .where(sql.ref('status'), 'in', sql`('queued', 'sending')`)
    .execute();
  await db.schema.createIndex('deliveries_notification_status_idx').on('deliveries').columns(['notification_id', 'status']).execute();
  await db.schema.createIndex('deliveries_subscription_idx').on('deliveries').column('subscription_id').execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('request_hash', 'text', (col) => col.notNull())
    .addColumn('response_status', 'integer', (col) => col.notNull())
    .addColumn('response_body', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['site_id', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_created_idx').on('idempotency_keys').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
  await db.schema.dropTable('deliveries').execute();
  await db.schema.dropTable('notifications').execute();
}
