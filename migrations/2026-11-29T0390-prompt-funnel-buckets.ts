import { sql, type Kysely } from 'kysely';

// Frozen: the soft prompt's funnel counted per 15-minute period (UTC) instead of per UTC day, so
// the overview can add the periods up into the shop's own calendar days, as it does with
// `stats_buckets` (2026-11-29T0330-stats-rollup): every UTC offset in use today is a multiple of
// fifteen minutes (Nepal: +5:45), an hour would not be (India: +5:30), so the periods fill whole
// local days in any zone, daylight-saving days included.
//
// The sharding stays as it was (2026-11-29T0320-prompt-funnel): each (site, period, step) is split
// into `shard` rows (0–7, from the visitor id), so shoppers answering the prompt at the same time
// do not queue behind one row's lock.
//
// The counts of the old table are per UTC day and cannot be split into periods after the fact.
// Each is moved to the period starting at 12:00 UTC of its day, not to midnight: noon UTC falls on
// the same calendar date in every zone from UTC−12 to UTC+11:45, so most shops (all of the
// Americas, Europe, Africa, most of Asia) read an old day's counts on the day they were counted,
// where midnight UTC would move every shop west of UTC to the day before. Only zones 12 hours or
// more ahead (New Zealand in summer, Tonga, Kiribati) see them on the next date.

const STEP_CHECK = sql`step in ('prompt_shown', 'prompt_accepted', 'prompt_postponed', 'permission_granted', 'permission_denied', 'permission_dismissed', 'push_subscribed')`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('prompt_funnel_buckets')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    // The period's start, on a 15-minute boundary of UTC.
    .addColumn('bucket', 'timestamptz', (col) => col.notNull().check(sql`bucket = date_bin('15 minutes', bucket, timestamptz '2000-01-01 00:00:00+00')`))
    .addColumn('step', 'text', (col) => col.notNull().check(STEP_CHECK))
    .addColumn('shard', 'smallint', (col) => col.notNull().check(sql`shard between 0 and 7`))
    .addColumn('count', 'integer', (col) => col.notNull())
    // The primary key's index serves the one read there is: a site's periods in a range.
    .addPrimaryKeyConstraint('prompt_funnel_buckets_pkey', ['site_id', 'bucket', 'step', 'shard'])
    .execute();
  await sql`
    insert into prompt_funnel_buckets (site_id, bucket, step, shard, count)
    select site_id, (day + time '12:00') at time zone 'UTC', step, shard, count from prompt_funnel_days`.execute(db);
  await db.schema.dropTable('prompt_funnel_days').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('prompt_funnel_days')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('day', 'date', (col) => col.notNull())
    .addColumn('step', 'text', (col) => col.notNull().check(STEP_CHECK))
    .addColumn('shard', 'smallint', (col) => col.notNull().check(sql`shard between 0 and 7`))
    .addColumn('count', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('prompt_funnel_days_pkey', ['site_id', 'day', 'step', 'shard'])
    .execute();
  // Back into UTC days, the periods of each day added up.
  await sql`
    insert into prompt_funnel_days (site_id, day, step, shard, count)
    select site_id, (bucket at time zone 'UTC')::date, step, shard, sum(count) from prompt_funnel_buckets
    group by 1, 2, 3, 4`.execute(db);
  await db.schema.dropTable('prompt_funnel_buckets').execute();
}
