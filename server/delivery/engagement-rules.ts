import { DAY_MS } from '../time.ts';
import { DEFAULT_SITE_TIME_ZONE, HH_MM, type EngagementSettings } from '../sites/engagement-settings.ts';
import { firstInstantAfterGap, formatWallClock, isValidTimeZone, wallClockAt, wallClockInstants, zonedWallClockToUtc } from './time-zones.ts';

/**
 * The engagement rules a delivery worker applies to a claimed batch: per delivery, send now, defer
 * until quiet hours end, or suppress with a reason (a suppressed delivery is recorded, never
 * silently dropped).
 *
 * Pure on purpose: no I/O and no clock of its own. The caller passes `nowMs` and the subscriber's
 * recent marketing sends, so the same input always gives the same decision and tests need no timers.
 * The settings they apply are a site's (server/sites/engagement-settings.ts); the wall-clock
 * arithmetic across zones and daylight-saving changes is ./time-zones.ts.
 */

export type EngagementKind = 'transactional' | 'marketing';

/**
 * Priority per kind of push, higher = more important. Within one batch, a subscriber's frequency
 * cap is spent on the most important pushes first: the shopper asked for transactional ones; a price
 * drop or a restock is news about a product they watched; a cart reminder is a nudge about something
 * they already know; a campaign is the shop's own agenda.
 */
export const PRIORITY = {
  transactional: 40,
  price_drop: 30,
  back_in_stock: 30,
  cart_reminder: 20,
  campaign: 10,
} as const;

/**
 * The priority of a notification from its kind and source (`api`, `cart_reminder`, `price_drop`,
 * `back_in_stock`, …). A marketing push from any other source, `api` included, is a campaign: a
 * source added later starts at the lowest priority until someone decides otherwise.
 */
export function priorityFor(kind: EngagementKind, source: string): number {
  if (kind === 'transactional') return PRIORITY.transactional;
  switch (source) {
    case 'price_drop':
      return PRIORITY.price_drop;
    case 'back_in_stock':
      return PRIORITY.back_in_stock;
    case 'cart_reminder':
      return PRIORITY.cart_reminder;
    default:
      return PRIORITY.campaign;
  }
}

/** The cap counts sends in a rolling window of this length, not per calendar day (no reset at midnight). */
export const FREQUENCY_CAP_WINDOW_MS = DAY_MS;

export interface EngagementCandidate {
  deliveryId: string;
  subscriptionId: string;
  kind: EngagementKind;
  /** See PRIORITY / priorityFor: higher goes first when the cap is short. */
  priority: number;
  /** When the delivery became due; only breaks ties between equal priorities (earlier first). */
  dueAtMs: number;
  /** The subscriber's IANA zone as the browser reported it; null or unknown → the site's default. */
  timeZone: string | null;
  /** Notification created + TTL; null when the TTL is 0 or absent (nothing to wait for). */
  expiresAtMs: number | null;
}

/** Which rule held a push back: callers may treat them differently (say, a cap reached only through pushes in flight). */
export type EngagementRule = 'quiet_hours' | 'frequency_cap';

export type EngagementDecision =
  | { action: 'send' }
  | { action: 'defer'; rule: EngagementRule; untilMs: number; reason: string }
  | { action: 'suppress'; rule: EngagementRule; reason: string };

export interface EngagementContext {
  nowMs: number;
  settings: EngagementSettings;
  /**
   * Per subscription id: marketing pushes already sent, or in flight in another batch, in the last
   * FREQUENCY_CAP_WINDOW_MS. Missing = 0.
   */
  recentMarketingSends: ReadonlyMap<string, number>;
}

/**
 * Decides every candidate of one batch, keyed by delivery id.
 *
 * Order of the rules for a marketing push:
 * 1. Quiet hours first. A push that would arrive at night waits until the window ends, or is
 *    suppressed when its TTL would run out first (the push service would drop it anyway, and
 *    sending it early is what quiet hours forbid). The cap is deliberately not checked here: it is
 *    a rolling window, so whether the push fits is decided when it is actually sent, hours later.
 * 2. Then the frequency cap, spent in priority order (priority desc, then due time, then delivery
 *    id, so the result does not depend on the order of the batch). Only pushes decided `send` spend
 *    it; deferred and suppressed ones do not.
 *
 * Transactional pushes always go: the shopper asked for them (an order confirmation, a shipping
 * update), so holding one until morning or dropping it because of newsletters would break a promise
 * the shop made, and they are neither capped nor counted.
 *
 * Quiet hours are read at `nowMs`, the instant the push would leave: the worker only claims
 * deliveries that are due.
 */
export function decideEngagement(
  candidates: readonly EngagementCandidate[],
  context: EngagementContext,
): Map<string, EngagementDecision> {
  const { nowMs, settings, recentMarketingSends } = context;
  const cap = settings.frequencyCap.marketingPer24h;
  const siteTimeZone = isValidTimeZone(settings.defaultTimeZone) ? settings.defaultTimeZone : DEFAULT_SITE_TIME_ZONE;

  const decisions = new Map<string, EngagementDecision>();
  for (const candidate of candidates) {
    // A claimed batch holds each delivery once (primary key); a repeat would count twice against the cap.
    if (decisions.has(candidate.deliveryId)) throw new TypeError(`delivery ${candidate.deliveryId} appears twice in the batch`);
    decisions.set(candidate.deliveryId, { action: 'send' });
  }

  const ordered = [...candidates].sort(
    (a, b) =>
      b.priority - a.priority ||
      a.dueAtMs - b.dueAtMs ||
      (a.deliveryId < b.deliveryId ? -1 : a.deliveryId > b.deliveryId ? 1 : 0),
  );

  const sentInBatch = new Map<string, number>();
  const quietEndByZone = new Map<string, number | null>();

  for (const candidate of ordered) {
    if (candidate.kind === 'transactional') continue; // already `send`

    if (settings.quietHours.enabled) {
      const timeZone = candidate.timeZone !== null && isValidTimeZone(candidate.timeZone) ? candidate.timeZone : siteTimeZone;
      let untilMs = quietEndByZone.get(timeZone);
      if (untilMs === undefined) {
        untilMs = quietHoursEnd(nowMs, timeZone, settings.quietHours);
        quietEndByZone.set(timeZone, untilMs);
      }
      if (untilMs !== null) {
        const window = `${settings.quietHours.start}–${settings.quietHours.end}`;
        const endsAt = `${settings.quietHours.end} ${timeZone} (${new Date(untilMs).toISOString()})`;
        // At untilMs itself no TTL would be left, so an expiry at that very instant is too soon as well.
        if (candidate.expiresAtMs !== null && candidate.expiresAtMs <= untilMs) {
          decisions.set(candidate.deliveryId, {
            action: 'suppress',
            rule: 'quiet_hours',
            reason: `quiet_hours: the TTL would elapse before quiet hours ${window} end at ${endsAt}; it expires at ${new Date(candidate.expiresAtMs).toISOString()}`,
          });
        } else {
          decisions.set(candidate.deliveryId, {
            action: 'defer',
            rule: 'quiet_hours',
            untilMs,
            reason: `quiet_hours: ${formatWallClock(nowMs, timeZone)} in ${timeZone} is inside quiet hours ${window}; deferred until ${endsAt}`,
          });
        }
        continue;
      }
    }

    const before = Math.max(0, recentMarketingSends.get(candidate.subscriptionId) ?? 0);
    const inBatch = sentInBatch.get(candidate.subscriptionId) ?? 0;
    if (before + inBatch >= cap) {
      decisions.set(candidate.deliveryId, {
        action: 'suppress',
        rule: 'frequency_cap',
        reason:
          cap === 0
            ? 'frequency_cap: the cap is 0 marketing pushes per 24 h (marketing pushes are switched off)'
            : `frequency_cap: ${before + inBatch} marketing pushes to this subscriber in the last 24 h ` +
              `(${before} before this batch, ${inBatch} in it) already reach the cap of ${cap} per 24 h`,
      });
      continue;
    }
    sentInBatch.set(candidate.subscriptionId, inBatch + 1);
  }

  return decisions;
}

/**
 * When the quiet-hours window that contains `nowMs` ends, in UTC ms: the next instant after
 * `nowMs` at which the wall clock in `timeZone` reads `end`, or null when `nowMs` is outside the
 * window. The window is [start, end) in local minutes; start > end wraps midnight; start = end is
 * an empty window (the schema refuses it). Throws RangeError for an unknown zone or a malformed
 * time: the caller resolves the zone first (decideEngagement falls back to the site's default).
 */
export function quietHoursEnd(nowMs: number, timeZone: string, quietHours: { start: string; end: string }): number | null {
  const start = minutesOfDay(quietHours.start);
  const end = minutesOfDay(quietHours.end);
  const local = wallClockAt(nowMs, timeZone);
  const minute = local.hour * 60 + local.minute;

  const inside = start < end ? minute >= start && minute < end : start > end && (minute >= start || minute < end);
  if (!inside) return null;

  // Before midnight in a wrapping window the end is tomorrow; otherwise it is today. Date.UTC rolls
  // day + 1 over month and year ends.
  const dayOffset = start > end && minute >= start ? 1 : 0;
  const endClock = {
    year: local.year,
    month: local.month,
    day: local.day + dayOffset,
    hour: Math.floor(end / 60),
    minute: end % 60,
  };
  const instants = wallClockInstants(endClock, timeZone);
  // The end falls in a spring-forward gap that night: the window ends when the clock jumps past it.
  if (instants.length === 0) return firstInstantAfterGap(endClock, timeZone);
  // "Next" matters in a fall-back overlap: at the second 02:15 of the night, a 02:30 end means the
  // second 02:30, because the first one is already in the past.
  const next = instants.find((instant) => instant > nowMs);
  if (next !== undefined) return next;
  // Cannot happen with a consistent tz database (the end lies ahead of a clock that reads a time
  // inside the window); read the following day rather than return a past instant.
  return zonedWallClockToUtc({ ...endClock, day: endClock.day + 1 }, timeZone);
}

function minutesOfDay(time: string): number {
  const match = HH_MM.exec(time);
  if (!match) throw new RangeError(`quiet hours: "${time}" is not a time of day as HH:MM`);
  return Number(match[1]) * 60 + Number(match[2]);
}
