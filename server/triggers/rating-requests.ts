import type { Db } from '../db/database.ts';
import { advanceRatingRequest, lockDueRatingRequests, type RatingRequestRow } from '../db/order-updates.ts';
import { findSiteById, type SiteRow } from '../db/sites.ts';
import { reportUrl } from '../notifications/payload.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { DAY_MS, DAY_SECONDS } from '../time.ts';
import { onSiteOrNull, orderUrlFrom } from './order-push.ts';
import { queueTriggerNotification, shopperSubscriptions } from './trigger-notification.ts';

/** A request held by quiet hours or a cap may wait a night; after two days it is no longer "just delivered". */
const RATING_REQUEST_TTL_SECONDS = 2 * DAY_SECONDS;

/**
 * Fires the rating requests that are due: each row locked (SKIP LOCKED), moved on and its push
 * queued in one transaction, so each order is asked at most once across restarts and any number
 * of workers. The delay is read from today's settings (a request scheduled under another delay
 * moves with it); a site that turned the requests off since skips them. The push is marketing:
 * capped, held by quiet hours in the shopper's zone, with the automation's holdout.
 */
export async function fireDueRatingRequests(db: Db, options: { now: Date; publicUrl: string; limit?: number }): Promise<{ requests: number; queued: string[] }> {
  return db.transaction().execute(async (trx) => {
    const due = await lockDueRatingRequests(trx, options.now, options.limit ?? 100);
    const sites = new Map<string, SiteRow | undefined>();
    const queued: string[] = [];
    for (const request of due) {
      if (!sites.has(request.site_id)) sites.set(request.site_id, await findSiteById(trx, request.site_id));
      const site = sites.get(request.site_id);
      const id = site ? await fireRatingRequest(trx, site, request, options) : null;
      if (id) queued.push(id);
    }
    return { requests: due.length, queued };
  });
}

async function fireRatingRequest(db: Db, site: SiteRow, request: RatingRequestRow, options: { now: Date; publicUrl: string }): Promise<string | null> {
  const key = { siteId: site.id, orderId: request.order_id };
  const settings = readSiteSettings(site.settings);
  const { enabled, delayDays, pageUrl, holdoutPercent, sendAtBestHour } = settings.ratingRequest;
  if (!enabled || request.delivered_at === null) {
    await advanceRatingRequest(db, key, { state: 'skipped' }, options.now);
    return null;
  }
  const dueMs = new Date(request.delivered_at).getTime() + delayDays * DAY_MS;
  if (dueMs > options.now.getTime()) {
    await advanceRatingRequest(db, key, { state: 'scheduled', dueAt: new Date(dueMs) }, options.now);
    return null;
  }
  const page = ratingPageUrl(site, pageUrl, request.order_id);
  const { id, audience } = await queueTriggerNotification(db, {
    site,
    settings,
    source: 'rating_request',
    kind: 'marketing',
    templateKey: 'rating_request',
    context: (locale) => ({ locale, order: { id: request.order_id } }),
    url: page(null),
    // Each button's id is the answer: the page learns it from the query, the stats from the click.
    actionUrl: (action) => page(action),
    triggerKey: request.order_id,
    audience: { trigger: 'rating_request', orderId: request.order_id },
    where: shopperSubscriptions({ visitorId: request.visitor_id, externalUserId: request.external_user_id }),
    holdoutPercent,
    ttlSeconds: RATING_REQUEST_TTL_SECONDS,
    urgency: 'normal',
    bestHour: sendAtBestHour,
    now: options.now,
    reportUrl: reportUrl(options.publicUrl),
  });
  await advanceRatingRequest(db, key, { state: 'sent', notificationId: audience > 0 ? id : null }, options.now);
  return audience > 0 ? id : null;
}

/**
 * The shop's rating page for an order (the setting, when on the site's origins; else the home
 * page), with `orderId` and, for a button, `answer` in its query.
 */
export function ratingPageUrl(site: SiteRow, template: string | undefined, orderId: string): (answer: string | null) => string {
  const base = onSiteOrNull(orderUrlFrom(template, orderId), site) ?? `${site.allowed_origins[0]}/`;
  return (answer) => {
    const url = new URL(base);
    url.searchParams.set('orderId', orderId);
    if (answer !== null) url.searchParams.set('answer', answer);
    return url.href;
  };
}
