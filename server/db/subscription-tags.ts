import { sql } from 'kysely';
import type { Db } from './database.ts';

/** Which of a site's subscriptions a tag change applies to. */
export type TagTarget =
  | { subscriptionId: string }
  | { externalUserId: string }
  /** A browser's own: its visitor id, narrowed to one push endpoint when given. */
  | { visitorId: string; endpoint?: string };

export type TagChangeResult =
  | { outcome: 'updated'; updated: number }
  | { outcome: 'not_found' }
  /** The change would leave `subscriptionId` with `tagCount` tags, over the limit; nothing was changed. */
  | { outcome: 'too_many_tags'; subscriptionId: string; tagCount: number };

class TooManyTags extends Error {
  constructor(readonly subscriptionId: string, readonly tagCount: number) {
    super('too many tags');
  }
}

/**
 * Sets and removes tags on every subscription of the site `target` names (whatever its status), in
 * one statement merged by Postgres — `(tags - remove) || set` — so two changes racing on a row
 * compose instead of one overwriting the other's keys. When a row would end up with more than
 * `maxTags` tags, the transaction is rolled back and nothing changes on any row.
 */
export async function changeSubscriptionTags(
  db: Db,
  siteId: string,
  target: TagTarget,
  change: { set: Record<string, unknown>; remove: string[] },
  options: { now: Date; maxTags: number },
): Promise<TagChangeResult> {
  try {
    return await db.transaction().execute(async (trx) => {
      let query = trx
        .updateTable('subscriptions')
        .set({
          tags: sql`(tags - ${change.remove}::text[]) || ${JSON.stringify(change.set)}::jsonb`,
          updated_at: options.now,
        })
        .where('site_id', '=', siteId);
      if ('subscriptionId' in target) query = query.where('id', '=', target.subscriptionId);
      else if ('externalUserId' in target) query = query.where('external_user_id', '=', target.externalUserId);
      else {
        query = query.where('visitor_id', '=', target.visitorId);
        if (target.endpoint !== undefined) query = query.where('endpoint', '=', target.endpoint);
      }
      // RETURNING sees the row as updated: its tag count after the change.
      const rows = await query.returning(['id', sql<number>`(select count(*)::int from jsonb_object_keys(tags))`.as('tag_count')]).execute();
      if (rows.length === 0) return { outcome: 'not_found' as const };
      const over = rows.find((row) => row.tag_count > options.maxTags);
      if (over) throw new TooManyTags(over.id, over.tag_count);
      return { outcome: 'updated' as const, updated: rows.length };
    });
  } catch (error) {
    if (error instanceof TooManyTags) return { outcome: 'too_many_tags', subscriptionId: error.subscriptionId, tagCount: error.tagCount };
    throw error;
  }
}
