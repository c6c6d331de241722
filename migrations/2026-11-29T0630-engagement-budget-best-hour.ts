import { sql, type Kysely } from 'kysely';

// Frozen: the engagement budget and best-hour sends (issue 14, items 8 and 9).
//
// - `subscriptions.last_clicked_at`: when the shopper last clicked any push. The engagement budget
//   counts the marketing pushes ignored since then, so it reads one timestamp per subscriber instead
//   of every past delivery's interactions. Kept by a statement trigger on interactions, so every
//   way a click is recorded keeps it, and a report that is not a click writes nothing.
// - `notifications.best_hour`: send each delivery at its shopper's best hour within 24 hours.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table subscriptions add column last_clicked_at timestamptz`.execute(db);
  await sql`alter table notifications add column best_hour boolean not null default false`.execute(db);
  await sql`update subscriptions s set last_clicked_at = c.at
    from (
      select d.subscription_id, max(i.created_at) as at
      from interactions i join deliveries d on d.id = i.delivery_id
      where i.type = 'clicked' and d.subscription_id is not null
      group by d.subscription_id
    ) c
    where s.id = c.subscription_id`.execute(db);
  await sql`create function subscriptions_clicked() returns trigger language plpgsql as $$
    begin
      update subscriptions s set last_clicked_at = greatest(coalesce(s.last_clicked_at, c.at), c.at)
      from (
        select d.subscription_id, max(i.created_at) as at
        from new_rows i join deliveries d on d.id = i.delivery_id
        where i.type = 'clicked' and d.subscription_id is not null
        group by d.subscription_id
        order by d.subscription_id
      ) c
      where s.id = c.subscription_id;
      return null;
    end $$`.execute(db);
  await sql`create trigger subscriptions_clicked after insert on interactions
    referencing new table as new_rows for each statement execute function subscriptions_clicked()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger subscriptions_clicked on interactions`.execute(db);
  await sql`drop function subscriptions_clicked()`.execute(db);
  await sql`alter table notifications drop column best_hour`.execute(db);
  await sql`alter table subscriptions drop column last_clicked_at`.execute(db);
}
