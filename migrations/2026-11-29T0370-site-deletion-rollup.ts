import { sql, type Kysely } from 'kysely';

// Frozen: deleting a site deletes its subscriptions (on delete cascade), and the statement-level
// trigger of 2026-11-29T0330-stats-rollup then recorded each as 'erased' for a site that no longer
// exists, which its foreign key refused: no site with active subscriptions could be deleted. A
// change is recorded only while its site is there (in a cascade the parent row is already gone
// when the child rows' after-triggers run).

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create or replace function subscription_changes_deleted() returns trigger language plpgsql as $$
    begin
      insert into subscription_changes (site_id, change, at)
      select o.site_id, 'erased', now() from old_rows o
      where o.status = 'active' and exists (select 1 from sites s where s.id = o.site_id);
      return null;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create or replace function subscription_changes_deleted() returns trigger language plpgsql as $$
    begin
      insert into subscription_changes (site_id, change, at)
      select site_id, 'erased', now() from old_rows where status = 'active';
      return null;
    end $$`.execute(db);
}
