import { sql, type Kysely } from 'kysely';

// Frozen: what the dashboard's installation check reads. Per site and origin, when the snippet
// last fetched the site config, when a subscription last arrived, and the last refused attempt
// with its error code. One row per (site, origin), updated in place: the app writes at most once a
// minute per site, origin and kind from each process, never a row per request. Origins that are
// not among the site's allowed ones are whatever a request's Origin header said, so the
// application keeps at most a fixed number of them per site (server/db/origins-seen.ts).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('origins_seen')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('origin', 'text', (col) => col.notNull())
    .addColumn('config_at', 'timestamptz')
    .addColumn('subscription_at', 'timestamptz')
    .addColumn('refused_at', 'timestamptz')
    .addColumn('refused_request', 'text', (col) => col.check(sql`refused_request in ('config', 'subscription')`))
    .addColumn('refused_code', 'text')
    .addColumn('refused_detail', 'text')
    // The primary key's index serves both the upsert and the one read: a site's rows.
    .addPrimaryKeyConstraint('origins_seen_pkey', ['site_id', 'origin'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('origins_seen').execute();
}
