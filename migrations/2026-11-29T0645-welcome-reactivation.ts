import { sql, type Kysely } from 'kysely';

// Frozen. The welcome push (issue 14 item 1) and reactivation (item 4).
//
// welcome_pushes: one row per new subscription on a site whose welcome is on, written by a row
// trigger on subscriptions in the very statement that inserts it (an upsert that finds the endpoint
// known updates instead, and fires nothing: a renewal is no new subscriber). `due_at` is set while
// it waits and cleared when it fires or is skipped; the background round scans it with
// FOR UPDATE SKIP LOCKED, as it scans carts. `code` is the first-order code it carried.
//
// welcome_codes: the single-use codes a shop uploads; a code is claimed (claimed_at, subscription)
// once, by an UPDATE of one unclaimed row taken with SKIP LOCKED. A claimed code stays claimed when
// its subscription is erased: it was given away.
//
// reactivations: the last "we miss you" per subscription; the primary key and `sent_at` make it
// once per quiet period across workers.
//
// reactivation_scans: when each site's subscribers are next looked through. A scan walks a site's
// active subscriptions (no index on last_seen_at: it changes on every page load, and indexing it
// would cost every visit a write), so a site is scanned page by page to its end and then rests;
// its row, locked with SKIP LOCKED, also keeps two workers from scanning one site at once.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('welcome_pushes')
    .addColumn('subscription_id', 'uuid', (col) => col.primaryKey().references('subscriptions.id').onDelete('cascade'))
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('due_at', 'timestamptz')
    // scheduled | sent | skipped
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('code', 'text')
    .addColumn('notification_id', 'uuid')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await sql`create index welcome_pushes_due on welcome_pushes (due_at) where due_at is not null`.execute(db);

  // The setting is read here, in the statement that inserts the subscription, so a site that never
  // turns the welcome on never pays a row per subscriber.
  await sql`create function subscriptions_welcome() returns trigger language plpgsql as $$
    begin
      insert into welcome_pushes (subscription_id, site_id, due_at, state, updated_at)
      select new.id, new.site_id, new.created_at, 'scheduled', new.created_at
      from sites st where st.id = new.site_id and st.settings #>> '{welcome,enabled}' = 'true';
      return null;
    end $$`.execute(db);
  await sql`create trigger subscriptions_welcome after insert on subscriptions for each row execute function subscriptions_welcome()`.execute(db);

  await db.schema
    .createTable('welcome_codes')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('code', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('subscription_id', 'uuid', (col) => col.references('subscriptions.id').onDelete('set null'))
    .addPrimaryKeyConstraint('welcome_codes_pkey', ['site_id', 'code'])
    .execute();
  await sql`create index welcome_codes_unclaimed on welcome_codes (site_id, created_at, code) where claimed_at is null`.execute(db);
  await sql`create index welcome_codes_subscription on welcome_codes (subscription_id) where subscription_id is not null`.execute(db);

  await db.schema
    .createTable('reactivations')
    .addColumn('subscription_id', 'uuid', (col) => col.primaryKey().references('subscriptions.id').onDelete('cascade'))
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('sent_at', 'timestamptz', (col) => col.notNull())
    .addColumn('notification_id', 'uuid')
    .execute();

  await db.schema
    .createTable('reactivation_scans')
    .addColumn('site_id', 'uuid', (col) => col.primaryKey().references('sites.id').onDelete('cascade'))
    .addColumn('next_scan_at', 'timestamptz', (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reactivation_scans').execute();
  await db.schema.dropTable('reactivations').execute();
  await db.schema.dropTable('welcome_codes').execute();
  await sql`drop trigger subscriptions_welcome on subscriptions`.execute(db);
  await sql`drop function subscriptions_welcome()`.execute(db);
  await db.schema.dropTable('welcome_pushes').execute();
}
