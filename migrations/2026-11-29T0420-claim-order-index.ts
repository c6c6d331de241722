import { sql, type Kysely } from 'kysely';

// Frozen: the claim takes the deliveries due first and, among those due at the same moment, the
// most important first (`order by due_at, priority desc`). Every delivery of one send is due at the
// same moment, so an index on due_at alone left the order by priority to a sort of every due row:
// each claim of 500 read and sorted the whole outbox of a large send. With priority in the index,
// a claim reads its rows in order and stops at the limit.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index deliveries_due_priority_idx on deliveries (due_at, priority desc) where status in ('queued', 'sending')`.execute(db);
  await db.schema.dropIndex('deliveries_due_idx').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index deliveries_due_idx on deliveries (due_at) where status in ('queued', 'sending')`.execute(db);
  await db.schema.dropIndex('deliveries_due_priority_idx').execute();
}
