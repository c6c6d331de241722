import type { Selectable } from 'kysely';
import type { Db, MembershipsTable, Role } from './database.ts';
import type { SiteRow } from './sites.ts';
import { isUuid } from './sites.ts';

export type MembershipRow = Selectable<MembershipsTable>;

/** Gives `userId` `role` on `siteId`, or changes the role it has (an invite accepted twice, a role edited). */
export async function upsertMembership(db: Db, membership: { userId: string; siteId: string; role: Role }, now: Date): Promise<MembershipRow> {
  return db
    .insertInto('memberships')
    .values({ user_id: membership.userId, site_id: membership.siteId, role: membership.role, created_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'site_id']).doUpdateSet({ role: membership.role }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The site with the user's role on it, or undefined when the user has no membership there (or the
 * site does not exist: the two look the same, so ids of other shops cannot be probed). This is
 * the only way the dashboard should load a site.
 */
export async function findSiteForMember(db: Db, userId: string, siteId: string): Promise<{ site: SiteRow; role: Role } | undefined> {
  if (!isUuid(userId) || !isUuid(siteId)) return undefined;
  const row = await db
    .selectFrom('memberships')
    .innerJoin('sites', 'sites.id', 'memberships.site_id')
    .selectAll('sites')
    .select('memberships.role')
    .where('memberships.user_id', '=', userId)
    .where('memberships.site_id', '=', siteId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { role, ...site } = row;
  return { site, role };
}

/** The sites a user may open, with the role on each, by site name. */
export async function listSitesOfMember(db: Db, userId: string): Promise<Array<{ siteId: string; name: string; role: Role }>> {
  if (!isUuid(userId)) return [];
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('sites', 'sites.id', 'memberships.site_id')
    .select(['sites.id', 'sites.name', 'memberships.role'])
    .where('memberships.user_id', '=', userId)
    .orderBy('sites.name')
    .orderBy('sites.id')
    .execute();
  return rows.map((row) => ({ siteId: row.id, name: row.name, role: row.role }));
}

export type MembershipChange = 'changed' | 'not_found' | 'last_owner';

/**
 * Changes a member's role, or removes the membership (`role` undefined), unless that would leave
 * the site without an owner: nobody could then manage its keys or users. The site's owner rows are
 * locked first, so two owners demoting each other at the same moment cannot both succeed.
 */
export async function changeMembership(
  db: Db,
  siteId: string,
  userId: string,
  role: Role | undefined,
  /** Runs in the change's transaction once it is made (the audit log's row), so both commit or neither. */
  alsoInTransaction?: (trx: Db) => Promise<void>,
): Promise<MembershipChange> {
  if (!isUuid(siteId) || !isUuid(userId)) return 'not_found';
  return db.transaction().execute(async (trx) => {
    const owners = await trx
      .selectFrom('memberships')
      .select('user_id')
      .where('site_id', '=', siteId)
      .where('role', '=', 'owner')
      .forUpdate()
      .execute();
    const current = await trx
      .selectFrom('memberships')
      .select('role')
      .where('site_id', '=', siteId)
      .where('user_id', '=', userId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) return 'not_found';
    if (current.role === 'owner' && role !== 'owner' && owners.length <= 1) return 'last_owner';
    if (role === undefined) {
      await trx.deleteFrom('memberships').where('site_id', '=', siteId).where('user_id', '=', userId).execute();
    } else {
      await trx.updateTable('memberships').set({ role }).where('site_id', '=', siteId).where('user_id', '=', userId).execute();
    }
    await alsoInTransaction?.(trx);
    return 'changed';
  });
}

/** Adds a membership unless the user already has one on the site (whose role it then keeps); returns the role in force. */
export async function addMembership(db: Db, membership: { userId: string; siteId: string; role: Role }, now: Date): Promise<{ role: Role; added: boolean }> {
  const inserted = await db
    .insertInto('memberships')
    .values({ user_id: membership.userId, site_id: membership.siteId, role: membership.role, created_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'site_id']).doNothing())
    .returning('role')
    .executeTakeFirst();
  if (inserted) return { role: inserted.role, added: true };
  const existing = await db
    .selectFrom('memberships')
    .select('role')
    .where('user_id', '=', membership.userId)
    .where('site_id', '=', membership.siteId)
    .executeTakeFirstOrThrow();
  return { role: existing.role, added: false };
}
