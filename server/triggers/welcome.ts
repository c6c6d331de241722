import { sql, type SqlBool } from 'kysely';
import type { Db } from '../db/database.ts';
import { findSiteById, type SiteRow } from '../db/sites.ts';
import { advanceWelcome, claimWelcomeCode, hasOrdered, lockDueWelcomes, releaseWelcomeCode, subscribedBefore, type WelcomePushRow } from '../db/welcome.ts';
import { reportUrl } from '../notifications/payload.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { DAY_SECONDS, MINUTE_MS } from '../time.ts';
import { queueTriggerNotification } from './trigger-notification.ts';

/** A welcome held by quiet hours or a cap may wait a night; after a day it is no longer a welcome. */
const WELCOME_TTL_SECONDS = DAY_SECONDS;

/**
 * Fires the welcomes that are due: each row locked (SKIP LOCKED), moved on and its push queued in
 * one transaction, so each subscription is welcomed at most once across restarts and any number of
 * workers. The delay is read from today's settings. Skipped: a site that turned the welcome off, a
 * subscription no longer active, a shopper who subscribed before (a re-subscribed browser), and a
 * shopper who already ordered (checked now, at send time). The push is marketing: capped, held by
 * quiet hours in the shopper's zone, over budget suppressed, with the automation's holdout.
 */
export async function fireDueWelcomes(db: Db, options: { now: Date; publicUrl: string; limit?: number }): Promise<{ welcomes: number; queued: string[] }> {
  return db.transaction().execute(async (trx) => {
    const due = await lockDueWelcomes(trx, options.now, options.limit ?? 100);
    const sites = new Map<string, SiteRow | undefined>();
    const queued: string[] = [];
    for (const welcome of due) {
      if (!sites.has(welcome.site_id)) sites.set(welcome.site_id, await findSiteById(trx, welcome.site_id));
      const site = sites.get(welcome.site_id);
      const id = site ? await fireWelcome(trx, site, welcome, options) : null;
      if (id) queued.push(id);
    }
    return { welcomes: due.length, queued };
  });
}

async function fireWelcome(db: Db, site: SiteRow, welcome: WelcomePushRow, options: { now: Date; publicUrl: string }): Promise<string | null> {
  const settings = readSiteSettings(site.settings);
  const { enabled, delayMinutes, codeMode, code: fixedCode, holdoutPercent } = settings.welcome;
  const shopper = { visitorId: welcome.visitor_id, externalUserId: welcome.external_user_id };
  if (
    !enabled ||
    welcome.status !== 'active' ||
    (await subscribedBefore(db, site.id, welcome)) ||
    (await hasOrdered(db, site.id, shopper))
  ) {
    await advanceWelcome(db, welcome.subscription_id, { state: 'skipped' }, options.now);
    return null;
  }
  const dueMs = new Date(welcome.created_at).getTime() + delayMinutes * MINUTE_MS;
  if (dueMs > options.now.getTime()) {
    await advanceWelcome(db, welcome.subscription_id, { state: 'scheduled', dueAt: new Date(dueMs) }, options.now);
    return null;
  }
  // A list that ran out sends the welcome without a code (README: Welcome).
  const code = codeMode === 'list' ? await claimWelcomeCode(db, site.id, welcome.subscription_id, options.now) : fixedCode || null;
  const { id, audience } = await queueTriggerNotification(db, {
    site,
    settings,
    source: 'welcome',
    templateKey: code ? 'welcome.code' : 'welcome',
    context: (locale) => ({ locale, ...(code ? { discount: { code } } : {}) }),
    url: null,
    image: null,
    triggerKey: welcome.subscription_id,
    audience: { trigger: 'welcome', subscriptionId: welcome.subscription_id },
    where: sql<SqlBool>`s.id = ${welcome.subscription_id}`,
    holdoutPercent,
    ttlSeconds: WELCOME_TTL_SECONDS,
    now: options.now,
    reportUrl: reportUrl(options.publicUrl),
  });
  // A held-out welcome was never shown: it gave no code, and a code from the list goes back for the next subscriber.
  const given = audience > 0 && !(await heldOut(db, id)) ? code : null;
  if (code !== null && given === null && codeMode === 'list') await releaseWelcomeCode(db, site.id, code);
  await advanceWelcome(db, welcome.subscription_id, { state: 'sent', notificationId: audience > 0 ? id : null, code: given }, options.now);
  return audience > 0 ? id : null;
}

async function heldOut(db: Db, notificationId: string): Promise<boolean> {
  const row = await db.selectFrom('deliveries').select('status').where('notification_id', '=', notificationId).executeTakeFirst();
  return row?.status === 'held_out';
}
