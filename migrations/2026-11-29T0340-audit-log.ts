import { sql, type Kysely } from 'kysely';

// Frozen: who changed what on a site (settings, keys, members, install, sends), one row per change,
// written in the same transaction as the change where the change is one. `actor_label` is what the
// actor was called at that moment (a user's name or email, a key's name and prefix), so a row still
// reads right after the user is removed or the key revoked. Rows older than the retention
// (server/audit/audit-log.ts) are purged by the background round.
//
// Secret keys get a `name` ("backend", "ERP export") so that the Keys page and the log can say
// which one did something; keys made before have none and are shown by prefix.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    // A sequence, not a uuid: rows of the same instant keep the order they were written in.
    .addColumn('id', 'bigint', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('at', 'timestamptz', (col) => col.notNull())
    .addColumn('actor_kind', 'text', (col) => col.notNull().check(sql`actor_kind in ('user', 'secret_key', 'admin_token')`))
    .addColumn('actor_id', 'uuid')
    .addColumn('actor_label', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('target', 'text')
    .addColumn('details', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`).check(sql`octet_length(details::text) <= 4096`))
    .execute();
  // The Audit page: one site's rows, newest first, a page at a time.
  await db.schema.createIndex('audit_log_site_at_idx').on('audit_log').columns(['site_id', 'at desc', 'id desc']).execute();
  // The purge: every row older than the retention, across sites.
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
  await db.schema.alterTable('secret_keys').addColumn('name', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('secret_keys').dropColumn('name').execute();
  await db.schema.dropTable('audit_log').execute();
}
