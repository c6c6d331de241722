import { sql, type SqlBool } from 'kysely';
import type { Db } from '../db/database.ts';
import {
  addReactivationScans,
  claimReactivations,
  lockDueReactivationScan,
  lockQuietSubscriptions,
  restReactivationScan,
  setReactivationNotification,
  sitesWithReactivation,
} from '../db/reactivations.ts';
import { reportUrl } from '../notifications/payload.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { DAY_SECONDS, HOUR_MS } from '../time.ts';
import { queueTriggerNotification } from './trigger-notification.ts';

/** "We miss you" is not urgent, but a push held for days says nothing the next day would not. */
const REACTIVATION_TTL_SECONDS = 2 * DAY_SECONDS;

/**
 * How long a site rests after its subscribers were looked through to the end: a subscriber who
 * became quiet for N days meanwhile is found at the next scan, at most this much later.
 */
export const REACTIVATION_RESCAN_MS = HOUR_MS;

/**
 * One page of reactivations: the subscribers of sites with the automation on who have been quiet
 * for `afterDays` (lockQuietSubscriptions), up to `limit` in all, each claimed (reactivations) and
 * pushed — one notification per site and page — in one transaction, so a subscriber gets one push
 * per quiet period across restarts and any number of workers. A site is scanned page by page to
 * its end, then rests REACTIVATION_RESCAN_MS (reactivation_scans), so the round does not walk its
 * subscribers every minute. Held-out subscribers are claimed
 * too, so a holdout stays out. Returns how many subscribers it handled and the notifications queued.
 */
export async function fireDueReactivations(db: Db, options: { now: Date; publicUrl: string; limit?: number }): Promise<{ subscribers: number; queued: string[] }> {
  const limit = options.limit ?? 500;
  const sites = (await sitesWithReactivation(db)).filter((site) => readSiteSettings(site.settings).reactivation.enabled);
  await addReactivationScans(db, sites.map((site) => site.id));
  return db.transaction().execute(async (trx) => {
    const queued: string[] = [];
    let handled = 0;
    for (const site of sites) {
      if (handled >= limit) break;
      if (!(await lockDueReactivationScan(trx, site.id, options.now))) continue;
      const settings = readSiteSettings(site.settings);
      const { afterDays, quietForDays, code, holdoutPercent } = settings.reactivation;
      const room = limit - handled;
      const quiet = await lockQuietSubscriptions(trx, site.id, { now: options.now, afterDays, quietForDays }, room);
      handled += quiet.length;
      // A short page is the end of the site's subscribers: it rests until the next scan.
      if (quiet.length < room) await restReactivationScan(trx, site.id, new Date(options.now.getTime() + REACTIVATION_RESCAN_MS));
      const claimed = await claimReactivations(trx, site.id, quiet, options.now, quietForDays);
      if (claimed.length === 0) continue;
      const { id, audience } = await queueTriggerNotification(trx, {
        site,
        settings,
        source: 'reactivation',
        templateKey: code ? 'reactivation.code' : 'reactivation',
        context: (locale) => ({ locale, ...(code ? { discount: { code } } : {}) }),
        url: null,
        image: null,
        triggerKey: 'reactivation',
        audience: { trigger: 'reactivation', afterDays, subscribers: claimed.length },
        where: sql<SqlBool>`s.id = any(${claimed}::uuid[])`,
        holdoutPercent,
        ttlSeconds: REACTIVATION_TTL_SECONDS,
        now: options.now,
        reportUrl: reportUrl(options.publicUrl),
      });
      if (audience > 0) {
        await setReactivationNotification(trx, claimed, id);
        queued.push(id);
      }
    }
    return { subscribers: handled, queued };
  });
}
