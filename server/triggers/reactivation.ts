import { sql, type SqlBool } from 'kysely';
import type { Db } from '../db/database.ts';
import { claimReactivations, lockQuietSubscriptions, setReactivationNotification, sitesWithReactivation } from '../db/reactivations.ts';
import { reportUrl } from '../notifications/payload.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { DAY_SECONDS } from '../time.ts';
import { queueTriggerNotification } from './trigger-notification.ts';

/** "We miss you" is not urgent, but a push held for days says nothing the next day would not. */
const REACTIVATION_TTL_SECONDS = 2 * DAY_SECONDS;

/**
 * One page of reactivations: the subscribers of sites with the automation on who have been quiet
 * for `afterDays` (lockQuietSubscriptions), up to `limit` in all, each claimed (reactivations) and
 * pushed — one notification per site and page — in one transaction, so a subscriber gets one push
 * per quiet period across restarts and any number of workers. Held-out subscribers are claimed
 * too, so a holdout stays out. Returns how many subscribers it handled and the notifications queued.
 */
export async function fireDueReactivations(db: Db, options: { now: Date; publicUrl: string; limit?: number }): Promise<{ subscribers: number; queued: string[] }> {
  const limit = options.limit ?? 500;
  return db.transaction().execute(async (trx) => {
    const queued: string[] = [];
    let handled = 0;
    for (const site of await sitesWithReactivation(trx)) {
      if (handled >= limit) break;
      const settings = readSiteSettings(site.settings);
      const { enabled, afterDays, quietForDays, code, holdoutPercent } = settings.reactivation;
      if (!enabled) continue;
      const quiet = await lockQuietSubscriptions(trx, site.id, { now: options.now, afterDays, quietForDays }, limit - handled);
      handled += quiet.length;
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
