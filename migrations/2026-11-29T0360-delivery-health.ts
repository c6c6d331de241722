import { sql, type Kysely } from 'kysely';

// Frozen: what the dashboard's delivery health page reads of the recent outcomes. Failed and
// suppressed deliveries of the last day or week, by when they were decided (`updated_at`): the
// existing indexes are by due time for the rows still to do, by notification and by subscription,
// none by when an outcome was written. Partial, so the sent rows (nearly all of them) are not in it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index deliveries_recent_outcome_idx on deliveries (updated_at) include (status)
    where status in ('failed', 'suppressed')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deliveries_recent_outcome_idx').execute();
}
