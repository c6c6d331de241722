import type { Insertable, Selectable } from 'kysely';
import type { Db, SitesTable } from './database.ts';

export type SiteRow = Selectable<SitesTable>;

export async function insertSite(db: Db, site: Insertable<SitesTable>): Promise<SiteRow> {
  return db.insertInto('sites').values(site).returningAll().executeTakeFirstOrThrow();
}

export async function findSiteById(db: Db, id: string): Promise<SiteRow | undefined> {
  // Site ids are uuids; anything else cannot exist and must not reach Postgres as a cast error.
  if (!isUuid(id)) return undefined;
  return db.selectFrom('sites').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findSiteByPublishableKey(db: Db, publishableKey: string): Promise<SiteRow | undefined> {
  return db.selectFrom('sites').selectAll().where('publishable_key', '=', publishableKey).executeTakeFirst();
}

export async function listSites(db: Db): Promise<SiteRow[]> {
  return db.selectFrom('sites').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function countSites(db: Db): Promise<number> {
  const row = await db.selectFrom('sites').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** True when some site lists `origin`: what a CORS preflight, which carries no key, can know. */
export async function isOriginOfAnySite(db: Db, origin: string): Promise<boolean> {
  const row = await db
    .selectFrom('sites')
    .select('id')
    .where((eb) => eb(eb.val(origin), '=', eb.fn.any('allowed_origins')))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Replaces a site's settings (validated by the caller) and returns the stored row. */
export async function updateSiteSettings(db: Db, siteId: string, settings: Record<string, unknown>): Promise<SiteRow | undefined> {
  return db.updateTable('sites').set({ settings: JSON.stringify(settings) }).where('id', '=', siteId).returningAll().executeTakeFirst();
}

/**
 * The site /demo shows, if the operator made one (`npm start` on an empty database, `site create
 * --demo`): marked as the demo and listing `origin`, where the demo page is served.
 */
export async function findDemoSite(db: Db, origin: string): Promise<SiteRow | undefined> {
  return db
    .selectFrom('sites')
    .selectAll()
    .where('demo', '=', true)
    .where((eb) => eb(eb.val(origin), '=', eb.fn.any('allowed_origins')))
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

export async function markDemoSite(db: Db, siteId: string): Promise<void> {
  await db.updateTable('sites').set({ demo: true }).where('id', '=', siteId).execute();
}

/** Every site's stored VAPID private key (raw or sealed), in a stable order. */
export async function listStoredVapidKeys(db: Db): Promise<Array<{ id: string; vapid_private_key: string }>> {
  return db.selectFrom('sites').select(['id', 'vapid_private_key']).orderBy('created_at').orderBy('id').execute();
}

/**
 * Replaces a site's stored VAPID private key only if it is still `expected`: two `keys seal` runs
 * at once (or one racing a site's key being rewritten) never overwrite each other's result.
 */
export async function replaceStoredVapidKey(db: Db, siteId: string, expected: string, replacement: string): Promise<boolean> {
  const result = await db
    .updateTable('sites')
    .set({ vapid_private_key: replacement })
    .where('id', '=', siteId)
    .where('vapid_private_key', '=', expected)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Starts the transition period of every site whose shop may still sign identify the old way and
 * has none yet; returns how many. Idempotent: a period once started is never moved.
 */
export async function startLegacyIdentifyPeriods(db: Db, until: Date): Promise<number> {
  const result = await db
    .updateTable('sites')
    .set({ legacy_identify_until: until })
    .where('legacy_identify', '=', true)
    .where('legacy_identify_until', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A site's name and allowed origins (validated by the caller, as `newSiteSchema` does): the dashboard's install form. */
export async function updateSiteInstall(db: Db, siteId: string, install: { name: string; origins: string[] }): Promise<SiteRow | undefined> {
  if (!isUuid(siteId)) return undefined;
  return db
    .updateTable('sites')
    .set({ name: install.name, allowed_origins: install.origins })
    .where('id', '=', siteId)
    .returningAll()
    .executeTakeFirst();
}
