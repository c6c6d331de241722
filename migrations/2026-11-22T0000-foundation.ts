import { sql, type Kysely } from 'kysely';

// Frozen: this file describes the schema as it was on 2026-11-22. Never edit it; add a new migration.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sites')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('allowed_origins', sql`text[]`, (col) => col.notNull())
    .addColumn('publishable_key', 'text', (col) => col.notNull().unique())
    .addColumn('vapid_public_key', 'text', (col) => col.notNull())
    // Either the raw base64url key or `enc:v1:…` when PUSHCART_MASTER_KEY is set.
    .addColumn('vapid_private_key', 'text', (col) => col.notNull())
    .addColumn('settings', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('secret_keys')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    // The first characters of the key, shown in listings so an owner can tell keys apart.
    .addColumn('prefix', 'text', (col) => col.notNull())
    // SHA-256 of the whole key, hex. The key itself is shown once and never stored.
    .addColumn('key_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('secret_keys_site_idx').on('secret_keys').column('site_id').execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('endpoint', 'text', (col) => col.notNull().unique())
    .addColumn('p256dh', 'text', (col) => col.notNull())
    .addColumn('auth', 'text', (col) => col.notNull())
    .addColumn('vapid_public_key', 'text', (col) => col.notNull())
    .addColumn('visitor_id', 'text', (col) => col.notNull())
    .addColumn('external_user_id', 'text')
    .addColumn('locale', 'text')
    .addColumn('time_zone', 'text')
    .addColumn('user_agent_family', 'text')
    .addColumn('tags', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'text', (col) =>
      col.notNull().defaultTo('active').check(sql`status in ('active', 'expired', 'unsubscribed')`),
    )
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_success_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('subscriptions_site_status_idx')
    .on('subscriptions')
    .columns(['site_id', 'status'])
    .execute();
  await db.schema
    .createIndex('subscriptions_site_visitor_idx')
    .on('subscriptions')
    .columns(['site_id', 'visitor_id'])
    .execute();
  await db.schema
    .createIndex('subscriptions_site_external_user_idx')
    .on('subscriptions')
    .columns(['site_id', 'external_user_id'])
    .where(sql.ref('external_user_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('subscriptions').execute();
  await db.schema.dropTable('secret_keys').execute();
  await db.schema.dropTable('sites').execute();
}
