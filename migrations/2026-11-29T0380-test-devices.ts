import { sql, type Kysely } from 'kysely';

// Frozen: the browsers of dashboard users that receive a shop's test pushes ("send me a test
// push"). Kept apart from `subscriptions` so that an owner's own browser is never a shopper: it is
// in no audience, no count and no figure. A device belongs to a membership, so it goes when the
// person leaves the shop or the shop is deleted.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('test_devices')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addColumn('endpoint', 'text', (col) => col.notNull())
    .addColumn('p256dh', 'text', (col) => col.notNull())
    .addColumn('auth', 'text', (col) => col.notNull())
    // The site's VAPID public key the browser subscribed with: a rotated key makes the device stale.
    .addColumn('vapid_public_key', 'text', (col) => col.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('last_sent_at', 'timestamptz')
    .addColumn('last_outcome', 'text')
    .addForeignKeyConstraint('test_devices_membership_fkey', ['user_id', 'site_id'], 'memberships', ['user_id', 'site_id'], (fk) => fk.onDelete('cascade'))
    .addUniqueConstraint('test_devices_member_endpoint_key', ['site_id', 'user_id', 'endpoint'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('test_devices').execute();
}
