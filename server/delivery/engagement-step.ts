import { subscriptionsThatOrdered } from '../db/welcome.ts';
import { openCartKeys } from '../db/carts.ts';
import type { Db } from '../db/database.ts';
import { recentMarketingSends, type ClaimedDelivery } from '../db/deliveries.ts';
import { findSiteById } from '../db/sites.ts';
import { activitySlots, budgetFacts, HISTORY_SLOT_SECONDS, siteClickSlots } from '../db/engagement-history.ts';
import { DEFAULT_SITE_TIME_ZONE } from '../sites/engagement-settings.ts';
import { readSiteSettings, type SiteSettings } from '../sites/site-settings.ts';
import { DAY_MS, HOUR_MS } from '../time.ts';
import {
  bestHourOf,
  BUDGET_WINDOW_MS,
  decideEngagement,
  FREQUENCY_CAP_WINDOW_MS,
  IGNORED_AFTER_MS,
  IGNORED_LOOKBACK_MS,
  type BudgetFacts,
  type EngagementCandidate,
} from './engagement-rules.ts';
import { isValidTimeZone, wallClockAt } from './time-zones.ts';

/** A push over the cap only counting pushes in flight at other workers is decided again after this. */
const IN_FLIGHT_RECHECK_MS = 60_000;

/** Settings are read again after this long: a PATCH /v1/settings takes effect within it. */
const SITE_SETTINGS_TTL_MS = 10_000;

export type SiteSettingsCache = Map<string, { settings: SiteSettings; readAtMs: number }>;

/** A shopper's own clicks and visits this far back choose their best hour. */
const OWN_HISTORY_MS = 60 * DAY_MS;

/** The site's clicks this far back choose the best hour of shoppers without enough history. */
const SITE_HISTORY_MS = 30 * DAY_MS;

/** A site's best hour moves slowly: it is read again after this long, not for every batch. */
const SITE_BEST_HOUR_TTL_MS = HOUR_MS;

/** Sites' clicks by zone and quarter hour of the UTC day, per deliverer (see siteBestHour). */
export type SiteBestHourCache = Map<string, { slots: Array<{ timeZone: string | null; slotOfDay: number; clicks: number }>; readAtMs: number }>;

/** What the rules decided for a delivery that is not sent now. */
export type Verdict = { action: 'defer'; untilMs: number; reason: string } | { action: 'suppress'; reason: string };

/**
 * The send-time rules of issue 5 for one claimed batch: a cart reminder whose cart was bought or
 * emptied meanwhile is suppressed; then frequency caps, quiet hours and priorities
 * (engagement-rules.ts) per site. Returns a verdict for each delivery that must not go now; the
 * others are sent.
 */
export async function engagementVerdicts(
  db: Db,
  claimed: ClaimedDelivery[],
  context: { nowMs: number; leaseId: string; settingsCache: SiteSettingsCache; bestHourCache?: SiteBestHourCache },
): Promise<Map<string, Verdict>> {
  const verdicts = new Map<string, Verdict>();
  const carts = claimed.filter((d) => d.source === 'cart_reminder' && d.trigger_key !== null);
  if (carts.length > 0) {
    const open = await openCartKeys(db, carts.map((d) => ({ siteId: d.site_id, cartId: d.trigger_key! })));
    for (const d of carts) {
      if (!open.has(`${d.site_id}:${d.trigger_key}`)) verdicts.set(d.id, { action: 'suppress', reason: 'cart_ordered: the cart was bought or emptied after the reminder was queued' });
    }
  }

  // A welcome waits minutes, or a night of quiet hours: a shopper who ordered meanwhile gets none (README: Welcome).
  const welcomes = claimed.filter((d) => d.source === 'welcome' && d.subscription_id !== null);
  if (welcomes.length > 0) {
    const ordered = await subscriptionsThatOrdered(db, welcomes.map((d) => d.subscription_id!));
    for (const d of welcomes) {
      if (ordered.has(d.subscription_id!)) verdicts.set(d.id, { action: 'suppress', reason: 'already_ordered: the shopper ordered after the welcome was queued' });
    }
  }

  const candidates = claimed.filter((d) => !verdicts.has(d.id) && d.subscription_status === 'active');
  const settingsBySite = new Map<string, SiteSettings>();
  for (const d of candidates) {
    if (!settingsBySite.has(d.site_id)) settingsBySite.set(d.site_id, await siteSettings(db, d.site_id, context));
  }
  const marketing = [...new Set(candidates.filter((d) => d.kind === 'marketing').map((d) => d.subscription_id))];
  const { sent, inFlight } = await recentMarketingSends(db, marketing, context.nowMs - FREQUENCY_CAP_WINDOW_MS, context.leaseId);
  // Pushes in flight at other workers count, so two workers cannot both spend the last slot...
  const recent = new Map(sent);
  for (const [id, count] of inFlight) recent.set(id, (recent.get(id) ?? 0) + count);
  const budget = await budgetsFor(db, candidates, settingsBySite, inFlight, context.nowMs);
  const bestHours = await bestHoursFor(db, candidates, settingsBySite, context);
  const bySite = new Map<string, EngagementCandidate[]>();
  for (const d of candidates) {
    const c = candidate(d, bestHours.get(d.id) ?? null);
    const site = bySite.get(d.site_id);
    if (site) site.push(c);
    else bySite.set(d.site_id, [c]);
  }
  const subscriptionOf = new Map(candidates.map((d) => [d.id, d.subscription_id]));
  for (const [siteId, siteCandidates] of bySite) {
    const settings = settingsBySite.get(siteId)!;
    const decisions = decideEngagement(siteCandidates, { nowMs: context.nowMs, settings: settings.engagement, recentMarketingSends: recent, budget });
    for (const [id, decision] of decisions) {
      if (decision.action === 'send') continue;
      // ...but they may yet be deferred or suppressed: a push that is over the cap (or the budget)
      // only because of them waits for their outcome instead of being suppressed for good.
      if (
        decision.action === 'suppress' &&
        (decision.rule === 'frequency_cap' || decision.rule === 'engagement_budget') &&
        (inFlight.get(subscriptionOf.get(id)!) ?? 0) > 0
      ) {
        verdicts.set(id, {
          action: 'defer',
          untilMs: context.nowMs + IN_FLIGHT_RECHECK_MS,
          reason: `${decision.reason}; pushes in flight elsewhere, checked again shortly`,
        });
      } else {
        verdicts.set(id, decision);
      }
    }
  }
  return verdicts;
}

/**
 * The engagement budget's facts for the batch's marketing subscribers on sites that have it on, in
 * one statement. Pushes in flight at other workers count as sent, as for the frequency cap.
 */
async function budgetsFor(
  db: Db,
  candidates: ClaimedDelivery[],
  settingsBySite: Map<string, SiteSettings>,
  inFlight: Map<string, number>,
  nowMs: number,
): Promise<Map<string, BudgetFacts>> {
  const subscriptions = new Map<string, Date | null>();
  for (const d of candidates) {
    if (d.kind === 'marketing' && settingsBySite.get(d.site_id)!.engagement.budget.enabled) subscriptions.set(d.subscription_id, d.last_clicked_at);
  }
  const ids = [...subscriptions.keys()];
  const facts = await budgetFacts(db, ids.map((id) => ({ id, lastClickedAt: subscriptions.get(id)! })), {
    windowStartMs: nowMs - BUDGET_WINDOW_MS,
    lookbackStartMs: nowMs - IGNORED_LOOKBACK_MS,
    ignoredBeforeMs: nowMs - IGNORED_AFTER_MS,
  });
  const budget = new Map<string, BudgetFacts>();
  for (const id of ids) {
    const row = facts.get(id);
    budget.set(id, { sentInWindow: (row?.sentInWindow ?? 0) + (inFlight.get(id) ?? 0), ignoredInARow: row?.ignoredInARow ?? 0 });
  }
  return budget;
}

/**
 * The best hour of each best-hour push at its first claim (attempt 1, no earlier outcome): the
 * shopper's own (clicks and visits of the last 60 days, one statement for the batch), else the
 * site's (its shoppers' clicks of the last 30 days, read once an hour per site), else none: sent at
 * its own time. A push deferred for its best hour is not asked again when it comes back, so a click
 * meanwhile cannot move it a second time.
 */
async function bestHoursFor(
  db: Db,
  candidates: ClaimedDelivery[],
  settingsBySite: Map<string, SiteSettings>,
  context: { nowMs: number; bestHourCache?: SiteBestHourCache },
): Promise<Map<string, { hour: number; basis: 'own' | 'site' }>> {
  const chosen = new Map<string, { hour: number; basis: 'own' | 'site' }>();
  const asking = candidates.filter((d) => d.best_hour && d.kind === 'marketing' && d.attempts === 1 && d.last_error === null);
  if (asking.length === 0) return chosen;
  const slots = await activitySlots(db, [...new Set(asking.map((d) => d.subscription_id))], context.nowMs - OWN_HISTORY_MS);
  const siteHours = new Map<string, number | null>();
  for (const d of asking) {
    const { engagement } = settingsBySite.get(d.site_id)!;
    const siteZone = isValidTimeZone(engagement.defaultTimeZone) ? engagement.defaultTimeZone : DEFAULT_SITE_TIME_ZONE;
    const zone = d.time_zone !== null && isValidTimeZone(d.time_zone) ? d.time_zone : siteZone;
    const byHour = new Array<number>(24).fill(0);
    for (const slot of slots.get(d.subscription_id) ?? []) byHour[wallClockAt(slot * HISTORY_SLOT_SECONDS * 1000, zone).hour]! += 1;
    const own = bestHourOf(byHour, engagement.bestHour.minOwnDataPoints, engagement.quietHours);
    if (own !== null) {
      chosen.set(d.id, { hour: own, basis: 'own' });
      continue;
    }
    let site = siteHours.get(d.site_id);
    if (site === undefined) {
      site = await siteBestHour(db, d.site_id, siteZone, engagement, context);
      siteHours.set(d.site_id, site);
    }
    if (site !== null) chosen.set(d.id, { hour: site, basis: 'site' });
  }
  return chosen;
}

/**
 * The site's best local hour: its shoppers' clicks, each at the hour it was in that shopper's zone.
 * The zone's offset now stands for the whole 30 days (the rows are grouped by quarter hour of the
 * day, not by date), so clicks from before a daylight-saving change count an hour off: close enough
 * for a fallback, and a site's history stays a few hundred rows however large the site.
 */
async function siteBestHour(
  db: Db,
  siteId: string,
  siteZone: string,
  engagement: SiteSettings['engagement'],
  context: { nowMs: number; bestHourCache?: SiteBestHourCache },
): Promise<number | null> {
  const cache = context.bestHourCache;
  let cached = cache?.get(siteId);
  if (!cached || context.nowMs - cached.readAtMs >= SITE_BEST_HOUR_TTL_MS || cached.readAtMs > context.nowMs) {
    cached = { slots: await siteClickSlots(db, siteId, context.nowMs - SITE_HISTORY_MS), readAtMs: context.nowMs };
    cache?.set(siteId, cached);
  }
  const byHour = new Array<number>(24).fill(0);
  const offsets = new Map<string, number>();
  const slotMinutes = HISTORY_SLOT_SECONDS / 60;
  for (const { timeZone, slotOfDay, clicks } of cached.slots) {
    const zone = timeZone !== null && isValidTimeZone(timeZone) ? timeZone : siteZone;
    let offset = offsets.get(zone);
    if (offset === undefined) {
      offset = offsetMinutesAt(context.nowMs, zone);
      offsets.set(zone, offset);
    }
    const localMinute = (((slotOfDay * slotMinutes + offset) % 1440) + 1440) % 1440;
    byHour[Math.floor(localMinute / 60)]! += clicks;
  }
  return bestHourOf(byHour, engagement.bestHour.minOwnDataPoints, engagement.quietHours);
}

/** Minutes the wall clock in `timeZone` is ahead of UTC at `ms`. */
function offsetMinutesAt(ms: number, timeZone: string): number {
  const c = wallClockAt(ms, timeZone);
  const wholeSecond = Math.floor(ms / 1000) * 1000;
  return Math.round((Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) - wholeSecond) / 60_000);
}

function candidate(d: ClaimedDelivery, bestHour: { hour: number; basis: 'own' | 'site' } | null): EngagementCandidate {
  // A local-time wave's delivery is due, and lives its TTL, from its own time, not the notification's.
  const createdMs = new Date(d.scheduled_at).getTime();
  return {
    deliveryId: d.id,
    subscriptionId: d.subscription_id,
    kind: d.kind,
    priority: d.priority,
    dueAtMs: createdMs,
    timeZone: d.time_zone,
    // RFC 8030 §5.2: TTL 0 means now or never, so it cannot wait for quiet hours to end.
    expiresAtMs: createdMs + d.ttl_seconds * 1000,
    bestHour,
  };
}

async function siteSettings(db: Db, siteId: string, context: { nowMs: number; settingsCache: SiteSettingsCache }): Promise<SiteSettings> {
  const cached = context.settingsCache.get(siteId);
  if (cached && context.nowMs - cached.readAtMs < SITE_SETTINGS_TTL_MS && cached.readAtMs <= context.nowMs) return cached.settings;
  const site = await findSiteById(db, siteId);
  const settings = readSiteSettings(site?.settings);
  context.settingsCache.set(siteId, { settings, readAtMs: context.nowMs });
  return settings;
}
