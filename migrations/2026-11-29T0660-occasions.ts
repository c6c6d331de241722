import { sql, type Kysely } from 'kysely';

// Frozen. Occasions (issue 14 item 5): birthdays and the owner's dated occasions.
//
// shopper_birthdays: the month and day the shop's backend set for an identified shopper (no year:
// nothing here needs an age). Indexed by (site, month, day), so the daily step reads only the
// birthdays of the two or three calendar dates that are "today" somewhere on Earth.
//
// birthday_pushes: one row per (site, shopper, year) written in the transaction that queues the
// push; the primary key is what makes a birthday fire once a year across workers and restarts.
//
// occasion_sends: one row per (site, occasion, year), written in the transaction that schedules
// the occasion's campaign, for the same reason.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('shopper_birthdays')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('external_user_id', 'text', (col) => col.notNull())
    .addColumn('month', 'smallint', (col) => col.notNull().check(sql`month between 1 and 12`))
    .addColumn('day', 'smallint', (col) => col.notNull().check(sql`day between 1 and 31`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('shopper_birthdays_pkey', ['site_id', 'external_user_id'])
    .execute();
  await sql`create index shopper_birthdays_date on shopper_birthdays (site_id, month, day)`.execute(db);

  await db.schema
    .createTable('birthday_pushes')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('external_user_id', 'text', (col) => col.notNull())
    .addColumn('year', 'smallint', (col) => col.notNull())
    .addColumn('notification_id', 'uuid')
    .addColumn('sent_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('birthday_pushes_pkey', ['site_id', 'external_user_id', 'year'])
    .execute();

  await db.schema
    .createTable('occasion_sends')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('occasion_id', 'text', (col) => col.notNull())
    .addColumn('year', 'smallint', (col) => col.notNull())
    .addColumn('campaign_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('occasion_sends_pkey', ['site_id', 'occasion_id', 'year'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('occasion_sends').execute();
  await db.schema.dropTable('birthday_pushes').execute();
  await db.schema.dropTable('shopper_birthdays').execute();
}
