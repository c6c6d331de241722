import { sql } from 'kysely';
import type { Db } from './database.ts';

/** A birthday without a year: nothing here needs an age. */
export interface Birthday {
  month: number;
  day: number;
}

/** Sets (or with `null`, removes) an identified shopper's birthday. */
export async function setBirthday(db: Db, siteId: string, externalUserId: string, birthday: Birthday | null, now: Date): Promise<void> {
  if (birthday === null) {
    await db.deleteFrom('shopper_birthdays').where('site_id', '=', siteId).where('external_user_id', '=', externalUserId).execute();
    return;
  }
  await db
    .insertInto('shopper_birthdays')
    .values({ site_id: siteId, external_user_id: externalUserId, month: birthday.month, day: birthday.day, updated_at: now })
    .onConflict((oc) => oc.columns(['site_id', 'external_user_id']).doUpdateSet({ month: birthday.month, day: birthday.day, updated_at: now }))
    .execute();
}

export interface BirthdayCandidate {
  external_user_id: string;
  month: number;
  day: number;
  /** The zones of the shopper's active subscriptions (null: the browser sent none). */
  time_zones: Array<string | null>;
}

/**
 * Shoppers with a birthday on one of `dates` and an active subscription, not pushed a birthday in
 * the last few days (so this year's are not read again all day; the claim's key is what decides).
 * By shopper id, after `after`, `limit` at a time.
 */
export async function birthdayCandidates(db: Db, siteId: string, dates: Birthday[], options: { now: Date; after: string; limit: number }): Promise<BirthdayCandidate[]> {
  if (dates.length === 0) return [];
  const recent = new Date(options.now.getTime() - 3 * 24 * 3600 * 1000);
  const wanted = sql.join(dates.map((d) => sql`(${d.month}::smallint, ${d.day}::smallint)`));
  const result = await sql<BirthdayCandidate>`
    select b.external_user_id, b.month, b.day, array_agg(s.time_zone order by s.created_at) as time_zones
    from shopper_birthdays b
    join subscriptions s on s.site_id = b.site_id and s.external_user_id = b.external_user_id and s.status = 'active'
    where b.site_id = ${siteId}
      and (b.month, b.day) in (${wanted})
      and b.external_user_id > ${options.after}
      and not exists (
        select 1 from birthday_pushes p
        where p.site_id = b.site_id and p.external_user_id = b.external_user_id and p.sent_at > ${recent})
    group by b.external_user_id, b.month, b.day
    order by b.external_user_id
    limit ${options.limit}`.execute(db);
  return result.rows;
}

/** Claims this year's birthday push for the shopper; false when it was claimed already (by this run or another). */
export async function claimBirthday(db: Db, siteId: string, externalUserId: string, year: number, now: Date): Promise<boolean> {
  const row = await db
    .insertInto('birthday_pushes')
    .values({ site_id: siteId, external_user_id: externalUserId, year, notification_id: null, sent_at: now })
    .onConflict((oc) => oc.doNothing())
    .returning('year')
    .executeTakeFirst();
  return row !== undefined;
}

export async function recordBirthdayPush(db: Db, siteId: string, externalUserId: string, year: number, notificationId: string): Promise<void> {
  await db.updateTable('birthday_pushes').set({ notification_id: notificationId }).where('site_id', '=', siteId).where('external_user_id', '=', externalUserId).where('year', '=', year).execute();
}

/** Sites where birthday pushes are on or occasions are defined: the only ones the daily step reads. */
export async function sitesWithOccasions(db: Db): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    select id from sites
    where (settings->'birthday'->>'enabled') = 'true'
       -- CASE, not AND: Postgres may evaluate either side of an AND first, and a non-array would throw.
       or case when jsonb_typeof(settings->'occasions'->'list') = 'array' then jsonb_array_length(settings->'occasions'->'list') > 0 else false end
    order by id`.execute(db);
  return rows.rows.map((row) => row.id);
}

/**
 * Every occasion id the site has had scheduled in any year. A new occasion must not reuse one:
 * its claim for a year already sent would read as sent, and it would silently not go out.
 */
export async function sentOccasionIds(db: Db, siteId: string): Promise<string[]> {
  const rows = await db.selectFrom('occasion_sends').select('occasion_id').distinct().where('site_id', '=', siteId).orderBy('occasion_id').execute();
  return rows.map((row) => row.occasion_id);
}
