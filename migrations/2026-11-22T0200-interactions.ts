import { sql, type Kysely } from 'kysely';

// Frozen: what shoppers did with a delivered notification, as their service worker reported it.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('interactions')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('delivery_id', 'bigint', (col) => col.notNull().references('deliveries.id').onDelete('cascade'))
    .addColumn('notification_id', 'uuid', (col) => col.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('type', 'text', (col) => col.notNull().check(sql`type in ('shown', 'clicked', 'dismissed')`))
    // The action button clicked; '' for the notification body.
    .addColumn('action', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // Each kind once per delivery: a replayed report is refused, and figures cannot be inflated.
    .addUniqueConstraint('interactions_delivery_type_key', ['delivery_id', 'type'])
    .execute();
  await db.schema.createIndex('interactions_notification_idx').on('interactions').columns(['notification_id', 'type']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('interactions').execute();
}
