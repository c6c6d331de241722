import { z } from 'zod';
import { text, timeZoneText } from '../validation.ts';

/**
 * A site's engagement settings: how many marketing pushes a subscriber gets per 24 hours, the quiet
 * hours at night, and the zone for subscribers whose browser sent none. The schema and its defaults
 * only; the rules that apply them to a batch are server/delivery/engagement-rules.ts.
 */

export const DEFAULT_MARKETING_PUSHES_PER_24H = 3;
export const DEFAULT_QUIET_HOURS_START = '21:00';
export const DEFAULT_QUIET_HOURS_END = '09:00';
export const DEFAULT_SITE_TIME_ZONE = 'UTC';
export const DEFAULT_IGNORED_PER_HALVING = 3;
export const DEFAULT_MIN_MARKETING_PER_WEEK = 1;
export const DEFAULT_BEST_HOUR_MIN_DATA_POINTS = 5;

/** "HH:MM" on a 24-hour clock, 00:00–23:59, two digits each (so "9:00" and "24:00" are refused). */
export const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

const wallClockTime = text().regex(HH_MM, 'must be a time of day as HH:MM, 00:00–23:59');

// Strict objects: a misspelt setting is refused by name rather than dropped in silence.
export const frequencyCapSchema = z.strictObject({
  /** Marketing pushes per subscriber per rolling 24 h; 0 sends no marketing pushes at all. */
  marketingPer24h: z.number().int().min(0).max(100).default(DEFAULT_MARKETING_PUSHES_PER_24H),
});

export const quietHoursSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Local time the window opens; the window may wrap midnight (21:00–09:00) or not (13:00–14:00). */
    start: wallClockTime.default(DEFAULT_QUIET_HOURS_START),
    /** Local time the window closes: deferred pushes go at the next instant the wall clock reads this. */
    end: wallClockTime.default(DEFAULT_QUIET_HOURS_END),
  })
  // An empty window and a 24-hour one would both be written start = end; refuse the ambiguity
  // (`enabled: false` is the way to switch quiet hours off).
  .refine((quietHours) => quietHours.start !== quietHours.end, {
    message: 'start and end must differ (set enabled: false to switch quiet hours off)',
    path: ['end'],
  });

/**
 * The engagement budget (issue 14): a subscriber who keeps ignoring marketing pushes gets fewer of
 * them, down to a floor, and the full allowance again after a click. The rule itself is
 * `marketingBudgetPerWeek` in server/delivery/engagement-rules.ts.
 *
 * On by default: Chrome revokes the notification permission of sites whose notifications get
 * little engagement, and that costs the shop the subscriber for every kind of push, transactional
 * ones included. A subscriber who clicks never notices the budget (their allowance is the
 * frequency cap's), and one who ignores everything still gets `minPerWeek`.
 */
export const budgetSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** The allowance halves after this many marketing pushes in a row went unclicked. */
  ignoredPerHalving: z.number().int().min(1).max(20).default(DEFAULT_IGNORED_PER_HALVING),
  /** What a subscriber who ignores everything still gets per rolling 7 days; 0 stops marketing to them until they click. */
  minPerWeek: z.number().int().min(0).max(7).default(DEFAULT_MIN_MARKETING_PER_WEEK),
});

/** Best-hour sends (issue 14): how much of a shopper's own history is enough to pick their hour. */
export const bestHourSchema = z.strictObject({
  /** Clicks and visits at least; a shopper with fewer gets the site's best hour. */
  minOwnDataPoints: z.number().int().min(1).max(100).default(DEFAULT_BEST_HOUR_MIN_DATA_POINTS),
});

export const engagementSettingsSchema = z.strictObject({
  frequencyCap: frequencyCapSchema.default(frequencyCapSchema.parse({})),
  quietHours: quietHoursSchema.default(quietHoursSchema.parse({})),
  budget: budgetSchema.default(budgetSchema.parse({})),
  bestHour: bestHourSchema.default(bestHourSchema.parse({})),
  /** The zone for subscribers whose browser sent none (or one this runtime does not know). */
  defaultTimeZone: timeZoneText().default(DEFAULT_SITE_TIME_ZONE),
});

export type EngagementSettings = z.infer<typeof engagementSettingsSchema>;
export type QuietHours = EngagementSettings['quietHours'];

export const DEFAULT_ENGAGEMENT_SETTINGS: EngagementSettings = engagementSettingsSchema.parse({});
