import { sql } from 'kysely';
import type { Db } from './database.ts';

/** The two requests the snippet makes that the installation check follows. */
export type SeenRequest = 'config' | 'subscription';

/**
 * Origins outside a site's allowed list kept per site. They are whatever an Origin header said —
 * a mistyped or forgotten shop address, or anything a stranger sends with the public key — so
 * without a bound one client could fill the table. Allowed origins do not count: the site's own
 * list bounds them.
 */
export const MAX_OTHER_ORIGINS_PER_SITE = 50;

/** Longer Origin headers are not recorded: no browser sends one (a host name is at most 253 characters). */
export const MAX_RECORDED_ORIGIN_LENGTH = 300;

/** A refusal's detail (the error message) is kept to this many characters. */
const MAX_DETAIL_LENGTH = 300;

export interface OriginSeen {
  origin: string;
  configAt: Date | null;
  subscriptionAt: Date | null;
  refused: { at: Date; request: SeenRequest; code: string; detail: string | null } | null;
}

/** Notes that `request` arrived from `origin` (an allowed one: the request passed the origin check) at `at`. */
export async function recordOriginSeen(db: Db, siteId: string, origin: string, request: SeenRequest, at: Date): Promise<void> {
  const column = request === 'config' ? 'config_at' : 'subscription_at';
  await db
    .insertInto('origins_seen')
    .values({ site_id: siteId, origin, [column]: at })
    // greatest(): several processes write, and one a little behind must not move the time back.
    .onConflict((oc) => oc.columns(['site_id', 'origin']).doUpdateSet({ [column]: sql<Date>`greatest(origins_seen.${sql.ref(column)}, excluded.${sql.ref(column)})` }))
    .execute();
}

/**
 * Notes a refused `request` from `origin`, with the error code and message it was answered with.
 * An origin outside `site.allowedOrigins` is kept only among the site's MAX_OTHER_ORIGINS_PER_SITE
 * most recently active such origins: a new one replaces the one heard from longest ago. Replacing
 * rather than dropping keeps the check about now: a burst of made-up origins last month does not
 * hide the shop's real www address refused today, which every shopper's visit refreshes. Two
 * processes adding at the same moment may each keep theirs; the next addition trims the excess.
 */
export async function recordOriginRefused(
  db: Db,
  site: { id: string; allowedOrigins: readonly string[] },
  origin: string,
  refusal: { request: SeenRequest; code: string; detail: string },
  at: Date,
): Promise<void> {
  const refused = {
    refused_at: at,
    refused_request: refusal.request,
    refused_code: refusal.code,
    refused_detail: refusal.detail.slice(0, MAX_DETAIL_LENGTH),
  };
  const written = await db
    .insertInto('origins_seen')
    .values({ site_id: site.id, origin, ...refused })
    .onConflict((oc) =>
      oc
        .columns(['site_id', 'origin'])
        .doUpdateSet({
          refused_at: sql<Date>`excluded.refused_at`,
          refused_request: sql<SeenRequest>`excluded.refused_request`,
          refused_code: sql<string>`excluded.refused_code`,
          refused_detail: sql<string>`excluded.refused_detail`,
        })
        .where((eb) => eb.or([eb('origins_seen.refused_at', 'is', null), eb('origins_seen.refused_at', '<=', at)])),
    )
    // xmax is 0 on a row this statement inserted (PostgreSQL system columns), not on one it updated.
    .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
    .executeTakeFirst();
  if (!written?.inserted || site.allowedOrigins.includes(origin)) return;
  const allowed = sql`${sql.val([...site.allowedOrigins])}::text[]`;
  const lastHeard = sql`greatest(config_at, subscription_at, refused_at)`;
  await db
    .deleteFrom('origins_seen')
    .where('site_id', '=', site.id)
    .where(sql<boolean>`origin <> all(${allowed})`)
    .where(
      'origin',
      'not in',
      db
        .selectFrom('origins_seen')
        .select('origin')
        .where('site_id', '=', site.id)
        .where(sql<boolean>`origin <> all(${allowed})`)
        .orderBy(lastHeard, 'desc')
        .orderBy('origin')
        .limit(MAX_OTHER_ORIGINS_PER_SITE),
    )
    .execute();
}

/** Everything recorded for a site, most recently heard from first. */
export async function originsSeenOfSite(db: Db, siteId: string): Promise<OriginSeen[]> {
  const rows = await db
    .selectFrom('origins_seen')
    .selectAll()
    .where('site_id', '=', siteId)
    .orderBy(sql`greatest(config_at, subscription_at, refused_at)`, 'desc')
    .orderBy('origin')
    .execute();
  return rows.map((row) => ({
    origin: row.origin,
    configAt: row.config_at,
    subscriptionAt: row.subscription_at,
    refused:
      row.refused_at && row.refused_request && row.refused_code
        ? { at: row.refused_at, request: row.refused_request, code: row.refused_code, detail: row.refused_detail }
        : null,
  }));
}
