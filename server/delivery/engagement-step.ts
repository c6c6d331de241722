import { openCartKeys } from '../db/carts.ts';
import type { Db } from '../db/database.ts';
import { recentMarketingSends, type ClaimedDelivery } from '../db/deliveries.ts';
import { findSiteById } from '../db/sites.ts';
import { readSiteSettings, type SiteSettings } from '../sites/site-settings.ts';
import { decideEngagement, FREQUENCY_CAP_WINDOW_MS, type EngagementCandidate } from './engagement-rules.ts';

/** A push over the cap only counting pushes in flight at other workers is decided again after this. */
const IN_FLIGHT_RECHECK_MS = 60_000;

/** Settings are read again after this long: a PATCH /v1/settings takes effect within it. */
const SITE_SETTINGS_TTL_MS = 10_000;

export type SiteSettingsCache = Map<string, { settings: SiteSettings; readAtMs: number }>;

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
  context: { nowMs: number; leaseId: string; settingsCache: SiteSettingsCache },
): Promise<Map<string, Verdict>> {
  const verdicts = new Map<string, Verdict>();
  const carts = claimed.filter((d) => d.source === 'cart_reminder' && d.trigger_key !== null);
  if (carts.length > 0) {
    const open = await openCartKeys(db, carts.map((d) => ({ siteId: d.site_id, cartId: d.trigger_key! })));
    for (const d of carts) {
      if (!open.has(`${d.site_id}:${d.trigger_key}`)) verdicts.set(d.id, { action: 'suppress', reason: 'cart_ordered: the cart was bought or emptied after the reminder was queued' });
    }
  }

  const candidates = claimed.filter((d) => !verdicts.has(d.id) && d.subscription_status === 'active');
  const marketing = [...new Set(candidates.filter((d) => d.kind === 'marketing').map((d) => d.subscription_id))];
  const { sent, inFlight } = await recentMarketingSends(db, marketing, context.nowMs - FREQUENCY_CAP_WINDOW_MS, context.leaseId);
  // Pushes in flight at other workers count, so two workers cannot both spend the last slot...
  const recent = new Map(sent);
  for (const [id, count] of inFlight) recent.set(id, (recent.get(id) ?? 0) + count);
  const bySite = new Map<string, EngagementCandidate[]>();
  for (const d of candidates) {
    const site = bySite.get(d.site_id);
    if (site) site.push(candidate(d));
    else bySite.set(d.site_id, [candidate(d)]);
  }
  const subscriptionOf = new Map(candidates.map((d) => [d.id, d.subscription_id]));
  for (const [siteId, siteCandidates] of bySite) {
    const settings = await siteSettings(db, siteId, context);
    const decisions = decideEngagement(siteCandidates, { nowMs: context.nowMs, settings: settings.engagement, recentMarketingSends: recent });
    for (const [id, decision] of decisions) {
      if (decision.action === 'send') continue;
      // ...but they may yet be deferred or suppressed: a push that is over the cap only because of
      // them waits for their outcome instead of being suppressed for good.
      if (decision.action === 'suppress' && decision.rule === 'frequency_cap' && (inFlight.get(subscriptionOf.get(id)!) ?? 0) > 0) {
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

function candidate(d: ClaimedDelivery): EngagementCandidate {
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
