import { sql, type Kysely } from 'kysely';

// Frozen: the soft prompt's opt-in funnel, counted per site, day (UTC) and step as the snippet
// reports it (prompt_shown, prompt_accepted, prompt_postponed, permission_granted, permission_denied,
// permission_dismissed, push_subscribed). A counter table rather than counting the events table:
// a month of a busy shop's prompt_shown events is millions of rows, the counters are a few hundred.
// Each (site, day, step) is split into `shard` rows (0–7, from the visitor id): every counted
// event updates one row inside the event's transaction, and on a busy site one row per step and
// day would make every shopper's request wait for the one before it to commit.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('prompt_funnel_days')
    .addColumn('site_id', 'uuid', (col) => col.notNull().references('sites.id').onDelete('cascade'))
    .addColumn('day', 'date', (col) => col.notNull())
    .addColumn('step', 'text', (col) =>
      col
        .notNull()
        .check(
          sql`step in ('prompt_shown', 'prompt_accepted', 'prompt_postponed', 'permission_granted', 'permission_denied', 'permission_dismissed', 'push_subscribed')`,
        ),
    )
    .addColumn('shard', 'smallint', (col) => col.notNull().check(sql`shard between 0 and 7`))
    .addColumn('count', 'integer', (col) => col.notNull())
    // The primary key's index serves the one read there is: a site's days in a range.
    .addPrimaryKeyConstraint('prompt_funnel_days_pkey', ['site_id', 'day', 'step', 'shard'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('prompt_funnel_days').execute();
}
