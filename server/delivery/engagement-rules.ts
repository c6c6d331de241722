import { DAY_MS, HOUR_MS } from '../time.ts';
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

/** The engagement budget counts marketing sends in a rolling window of this length. */
export const BUDGET_WINDOW_MS = 7 * DAY_MS;

/**
 * A push counts as ignored once it has been out this long without a click: most clicks come within
 * the hour, but a push that arrived at night may be opened over breakfast.
 */
export const IGNORED_AFTER_MS = DAY_MS;

/** Ignored pushes older than this no longer count: the budget looks at how the shopper treats the shop now. */
export const IGNORED_LOOKBACK_MS = 90 * DAY_MS;

/**
 * The engagement budget (issue 14): how many marketing pushes a subscriber may get per rolling 7
 * days, given how many marketing pushes in a row they ignored (sent, at least IGNORED_AFTER_MS ago,
 * within IGNORED_LOOKBACK_MS, and no click on any push since).
 *
 * The full allowance is the frequency cap's own (7 × the 24-hour cap), so a subscriber who clicks
 * never notices the budget. Every `ignoredPerHalving` ignored pushes in a row halve it (rounded
 * down), never below `minPerWeek` (nor above the full allowance); a click on any push restores it
 * at once, because the ignored count starts again after the last click. With the defaults (3 per
 * 24 h, a halving per 3 ignored, a floor of 1): 21 → 10 → 5 → 2 → 1 per week, the floor reached
 * after 12 ignored pushes.
 *
 * Halving rather than subtracting: Chrome revokes the notification permission of sites whose
 * notifications are many and rarely engaged with, so a subscriber who stopped clicking must see
 * the volume fall quickly, not by one push a week per few ignored; and one click shows the
 * pushes are wanted again, so the allowance comes back whole.
 */
export function marketingBudgetPerWeek(ignoredInARow: number, settings: Pick<EngagementSettings, 'frequencyCap' | 'budget'>): number {
  const full = settings.frequencyCap.marketingPer24h * 7;
  const halvings = Math.floor(Math.max(0, ignoredInARow) / settings.budget.ignoredPerHalving);
  // 2^31 is far past any allowance: the shift cannot overflow into a negative divisor.
  const shrunk = Math.floor(full / 2 ** Math.min(halvings, 31));
  return Math.min(full, Math.max(settings.budget.minPerWeek, shrunk));
}

/** What the budget rule needs to know about one subscriber. */
export interface BudgetFacts {
  /** Marketing pushes sent (or in flight elsewhere) in the last BUDGET_WINDOW_MS. */
  sentInWindow: number;
  /** Marketing pushes ignored in a row since the last click (see marketingBudgetPerWeek). */
  ignoredInARow: number;
}

/**
 * The best hour of a shopper (issue 14): the local hour of the day (0–23) with the most data points
 * among the hours outside quiet hours, or null when those hours hold fewer than `minDataPoints`
 * (then the caller asks the site's hours, and then sends at the delivery's own time). `pointsByHour`
 * has 24 counts, local time. Ties go to the earlier hour, so the same history gives the same hour.
 *
 * An hour is allowed when its first minute is outside quiet hours: a quiet window that ends at 09:30
 * leaves hour 9 out, and its shoppers get 10:00 rather than a push deferred past their best time.
 */
export function bestHourOf(pointsByHour: readonly number[], minDataPoints: number, quietHours: QuietHoursSetting): number | null {
  let best: number | null = null;
  let total = 0;
  for (let hour = 0; hour < 24; hour++) {
    const points = pointsByHour[hour] ?? 0;
    if (points <= 0 || insideQuietHours(hour * 60, quietHours)) continue;
    total += points;
    if (best === null || points > pointsByHour[best]!) best = hour;
  }
  return best !== null && total >= minDataPoints ? best : null;
}

type QuietHoursSetting = { enabled: boolean; start: string; end: string };

function insideQuietHours(minuteOfDay: number, quietHours: QuietHoursSetting): boolean {
  if (!quietHours.enabled) return false;
  const start = minutesOfDay(quietHours.start);
  const end = minutesOfDay(quietHours.end);
  return start < end ? minuteOfDay >= start && minuteOfDay < end : start > end && (minuteOfDay >= start || minuteOfDay < end);
}

/**
 * The next instant, from `fromMs` on, at which the wall clock in `timeZone` is inside `hour`: `fromMs`
 * itself when its local hour already is `hour`, else the next `hour`:00 — within 24 hours on an
 * ordinary day, 25 across a fall-back night. On a spring-forward day whose gap swallows `hour`:00
 * (02:00 in Berlin on the last Sunday of March), the instant the clock jumps past it. In a
 * fall-back overlap, the first `hour`:00 still ahead.
 */
export function nextBestInstant(fromMs: number, hour: number, timeZone: string): number {
  const local = wallClockAt(fromMs, timeZone);
  if (local.hour === hour) return fromMs;
  for (const dayOffset of [0, 1, 2]) {
    // Date.UTC (inside wallClockInstants) rolls day + 1 over month and year ends.
    const clock = { year: local.year, month: local.month, day: local.day + dayOffset, hour, minute: 0 };
    const instants = wallClockInstants(clock, timeZone);
    const next = instants.length === 0 ? firstInstantAfterGap(clock, timeZone) : instants.find((instant) => instant > fromMs);
    if (next !== undefined && next > fromMs) return next;
  }
  // Cannot happen with a consistent tz database; send at the delivery's own time rather than never.
  return fromMs;
}

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
  /**
   * A best-hour push not yet deferred for it: the shopper's best local hour (0–23) and whose history
   * chose it. Absent or null: sent at its own time (not a best-hour push, deferred once already, or
   * no history at all).
   */
  bestHour?: { hour: number; basis: 'own' | 'site' } | null;
}

/** Which rule held a push back: callers may treat them differently (say, a cap reached only through pushes in flight). */
export type EngagementRule = 'best_hour' | 'quiet_hours' | 'frequency_cap' | 'engagement_budget';

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
  /** Per subscription id, what the engagement budget needs (marketing candidates only). Missing = none sent, none ignored. */
  budget?: ReadonlyMap<string, BudgetFacts>;
}

/**
 * Decides every candidate of one batch, keyed by delivery id.
 *
 * Order of the rules for a marketing push:
 * 0. A best-hour push whose shopper's best hour is neither now nor past waits for it (within its
 *    TTL; a best hour beyond the TTL sends it now). Nothing else is checked yet: the other rules
 *    apply when it goes.
 * 1. Quiet hours first. A push that would arrive at night waits until the window ends, or is
 *    suppressed when its TTL would run out first (the push service would drop it anyway, and
 *    sending it early is what quiet hours forbid). The cap is deliberately not checked here: it is
 *    a rolling window, so whether the push fits is decided when it is actually sent, hours later.
 * 2. Then the frequency cap, spent in priority order (priority desc, then due time, then delivery
 *    id, so the result does not depend on the order of the batch). Only pushes decided `send` spend
 *    it; deferred and suppressed ones do not.
 * 3. Then the engagement budget (marketingBudgetPerWeek), when the site has it on: spent the same
 *    way, against the subscriber's marketing sends of the last 7 days.
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
  const budget = context.budget ?? new Map<string, BudgetFacts>();
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
    const timeZone = candidate.timeZone !== null && isValidTimeZone(candidate.timeZone) ? candidate.timeZone : siteTimeZone;

    if (candidate.bestHour) {
      const { hour, basis } = candidate.bestHour;
      const untilMs = nextBestInstant(candidate.dueAtMs, hour, timeZone);
      if (untilMs > nowMs && (candidate.expiresAtMs === null || untilMs < candidate.expiresAtMs)) {
        decisions.set(candidate.deliveryId, {
          action: 'defer',
          rule: 'best_hour',
          untilMs,
          reason: `best_hour: ${basis === 'own' ? 'this shopper most often clicks or visits' : 'the site’s shoppers most often click'} at ${String(hour).padStart(2, '0')}:00 in ${timeZone}; deferred until ${new Date(untilMs).toISOString()}`,
        });
        continue;
      }
    }

    if (settings.quietHours.enabled) {
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
    if (settings.budget.enabled) {
      const facts = budget.get(candidate.subscriptionId);
      const sent = Math.max(0, facts?.sentInWindow ?? 0);
      const ignored = Math.max(0, facts?.ignoredInARow ?? 0);
      const allowance = marketingBudgetPerWeek(ignored, settings);
      if (sent + inBatch >= allowance) {
        decisions.set(candidate.deliveryId, {
          action: 'suppress',
          rule: 'engagement_budget',
          reason:
            `engagement_budget: ${ignored} marketing pushes in a row went unclicked, so this subscriber's budget is ${allowance} per 7 days, ` +
            `and ${sent + inBatch} were sent in the last 7 days (${sent} before this batch, ${inBatch} in it)`,
        });
        continue;
      }
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
