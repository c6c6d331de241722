import { sql, type Kysely } from 'kysely';

// Frozen: a send to a large audience is answered at once and its deliveries are written by the
// workers in chunks, in subscription id order (a keyset walk), each chunk in one transaction with
// the notification's cursor — so a crash resumes where the last commit left off and the unique
// (notification, subscription) pair keeps it to one delivery per subscriber.
//
// - `resolve_state`: 'done' (every delivery row written; all notifications before this migration),
//   'resolving' (chunks left), 'cancelled' (the sender stopped it: no more chunks, and what is
//   still queued is suppressed when claimed).
// - `resolve_cursor`: the last subscription id looked at; `scanned_count` how many were looked at
//   (matching or not), which with the cursor's place in the uuid space estimates the total.
// - `holdout_percent`: the share held out, drawn per chunk as it is for a send written at once.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table notifications
    add column resolve_state text not null default 'done' check (resolve_state in ('resolving', 'done', 'cancelled')),
    add column resolve_cursor uuid,
    add column scanned_count integer not null default 0,
    add column holdout_percent real not null default 0,
    add column cancelled_at timestamptz`.execute(db);
  await sql`create index notifications_resolving_idx on notifications (created_at) where resolve_state = 'resolving'`.execute(db);
  // The keyset walk: a site's active subscriptions in id order.
  await sql`create index subscriptions_site_active_id_idx on subscriptions (site_id, id) where status = 'active'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('subscriptions_site_active_id_idx').execute();
  await db.schema.dropIndex('notifications_resolving_idx').execute();
  await sql`alter table notifications drop column resolve_state, drop column resolve_cursor, drop column scanned_count, drop column holdout_percent, drop column cancelled_at`.execute(db);
}
