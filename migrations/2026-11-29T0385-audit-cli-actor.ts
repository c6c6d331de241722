import { sql, type Kysely } from 'kysely';

// Frozen: the command line (`pushcart key create|revoke`, `pushcart user create`) changes keys and
// members too, and its changes are recorded like the dashboard's and the admin API's, by an actor
// of its own: `cli` (no id; the operator at the server's terminal). The column's check named the
// three actors there were; it is replaced by one that names four.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table audit_log drop constraint audit_log_actor_kind_check`.execute(db);
  await sql`alter table audit_log add constraint audit_log_actor_kind_check check (actor_kind in ('user', 'secret_key', 'admin_token', 'cli'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // The old check cannot hold `cli` rows. They are kept as the admin token's, the other actor
  // without an id that stands for the operator, rather than dropped from the log; their label
  // ("the command line") still says where they came from.
  await sql`update audit_log set actor_kind = 'admin_token' where actor_kind = 'cli'`.execute(db);
  await sql`alter table audit_log drop constraint audit_log_actor_kind_check`.execute(db);
  await sql`alter table audit_log add constraint audit_log_actor_kind_check check (actor_kind in ('user', 'secret_key', 'admin_token'))`.execute(db);
}
