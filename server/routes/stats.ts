import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { dailyReport } from '../db/daily-stats.ts';
import { holdoutComparisons, siteFunnels } from '../db/stats.ts';
import { ApiError } from '../errors.ts';
import { ratingAnswers } from '../db/order-updates.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { operation } from '../openapi/operation.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { dayRange, DEFAULT_RANGE_DAYS, localDate, localDays, MAX_RANGE_DAYS } from '../stats/local-days.ts';
import { DAY_MS } from '../time.ts';
import { text, validate } from '../validation.ts';

const NOTIFICATIONS_LISTED = 100;

const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();
const instant = text().refine((value) => isoDateTime.safeParse(value).success || isoDate.safeParse(value).success, {
  error: 'must be an ISO 8601 date (2026-11-01) or date-time (2026-11-01T09:00:00Z)',
});
const query = z.strictObject({ from: instant.optional(), to: instant.optional() });
const calendarDate = text().refine((value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && isoDate.safeParse(value).success, {
  error: 'must be a date such as 2026-11-01',
});
// Strict: a misspelt parameter (`form=`) is refused rather than silently giving the default range.
const dailyQuery = z.strictObject({ from: calendarDate.optional(), to: calendarDate.optional() });

const count = z.number().int().nonnegative();
const funnel = {
  notifications: count,
  audience: count,
  sent: count,
  heldOut: count,
  suppressed: count,
  failed: count,
  shown: count,
  clicked: count,
  converted: count,
  /** Attributed order value per currency. */
  revenue: z.record(z.string(), z.number()),
};
const group = z.strictObject({ subscribers: count, ordered: count, orderRate: z.number().nullable() });
const statsSchema = z.strictObject({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  attributionWindowHours: z.number().int(),
  triggers: z.record(
    z.string(),
    z.strictObject({
      ...funnel,
      holdout: z.strictObject({ sent: group, heldOut: group, lift: z.number().nullable() }).nullable(),
      /** rating_request only: clicks per button id (`good`, `bad`), the shoppers' answers. */
      answers: z.record(z.string(), count).optional(),
    }),
  ),
  notifications: z.array(z.strictObject({ id: z.string(), title: z.string().nullable(), createdAt: z.iso.datetime(), ...funnel })),
});

const pushFigures = z.strictObject({
  audience: count,
  sent: count,
  heldOut: count,
  suppressed: count,
  failed: count,
  expired: count,
  shown: count,
  clicked: count,
  converted: count,
  revenue: z.record(z.string(), z.number()),
});
const orderGroup = z.strictObject({ subscribers: count, ordered: count });
const dailySchema = z.strictObject({
  from: z.iso.date(),
  to: z.iso.date(),
  timeZone: z.string(),
  attributionWindowHours: z.number().int(),
  activeNow: count,
  days: z.array(
    z.strictObject({
      date: z.iso.date(),
      subscribers: z.strictObject({
        active: z.number().int(),
        new: count,
        returned: count,
        lostExpired: count,
        lostUnsubscribed: count,
        lostErased: count,
        net: z.number().int(),
      }),
      pushes: pushFigures,
      triggers: z.record(z.string(), pushFigures),
    }),
  ),
  triggers: z.record(
    z.string(),
    pushFigures.extend({
      holdout: z
        .strictObject({
          recipients: orderGroup,
          heldOut: orderGroup,
          verdict: z.enum(['more', 'fewer', 'unclear', 'not_enough_data']),
          lift: z.number().nullable(),
          interval: z.strictObject({ low: z.number(), high: z.number() }).nullable(),
          heldOutNeeded: count.nullable(),
          reading: z.string(),
        })
        .nullable(),
    }),
  ),
});

/**
 * `GET /v1/stats?from=&to=` (secret key): for notifications queued in [from, to) — default the last
 * 30 days — the funnel sent → shown → clicked → converted with revenue, per trigger and per
 * notification, and per trigger the holdout comparison that shows the lift pushes caused.
 */
export function statsRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use('/v1/stats', secretKeyAuth(deps))
    .use('/v1/stats/daily', secretKeyAuth(deps))
    .get(
      '/v1/stats',
      operation({
        summary: 'Funnels and holdout lift',
        description:
          'For notifications queued in [from, to) (default: the last 30 days, at most 366): sent → shown → clicked → converted with revenue, per trigger and per notification (the latest 100), and per trigger the holdout comparison.',
        tag: 'Stats',
        access: 'secretKey',
        responses: { 200: { description: 'The figures', schema: statsSchema } },
      }),
      validate('query', query), async (c) => {
      const site = c.get('site');
      const { from: fromText, to: toText } = c.req.valid('query');
      const nowMs = (deps.now ?? Date.now)();
      // Up to and including this moment when no end is given.
      const to = toText ? new Date(toText) : new Date(nowMs + 1);
      const from = fromText ? new Date(fromText) : new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS);
      if (from >= to) throw new ApiError('validation_failed', 'from: must be before to');
      if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw new ApiError('validation_failed', `to: at most ${MAX_RANGE_DAYS} days after from`);
      const { windowHours } = readSiteSettings(site.settings).attribution;
      const [funnels, holdouts, answers] = await Promise.all([
        siteFunnels(deps.db, site.id, from, to, NOTIFICATIONS_LISTED),
        holdoutComparisons(deps.db, site.id, from, to, windowHours),
        ratingAnswers(deps.db, site.id, from, to),
      ]);
      return c.json({
        from: from.toISOString(),
        to: to.toISOString(),
        attributionWindowHours: windowHours,
        triggers: Object.fromEntries(
          [...funnels.triggers].map(([trigger, funnel]) => [trigger, { ...funnel, holdout: holdouts.get(trigger) ?? null, ...(trigger === 'rating_request' ? { answers } : {}) }]),
        ),
        notifications: funnels.notifications,
      });
    })
    /**
     * `GET /v1/stats/daily?from=&to=` (secret key): the overview, per calendar day in the site's
     * zone (engagement.defaultTimeZone), from and to included — default the 30 days ending today.
     */
    .get(
      '/v1/stats/daily',
      operation({
        summary: 'Subscribers and pushes per day, and holdout lift per trigger',
        description: `Per day from \`from\` to \`to\` (dates in the site's time zone, both included; default: the ${DEFAULT_RANGE_DAYS} days ending today, at most ${MAX_RANGE_DAYS}): subscribers active at the end of the day, new, returned and lost (expired at the push service, unsubscribed, erased); deliveries queued, sent, held out, shown, clicked and the orders and revenue attributed to them, in total and per trigger (by the day the push was queued). Per trigger over the range: the order rate of recipients against the held-out group, the relative lift with its 95 % interval (Katz's log method), and a sentence saying what it means.`,
        tag: 'Stats',
        access: 'secretKey',
        responses: { 200: { description: 'The figures', schema: dailySchema } },
      }),
      validate('query', dailyQuery),
      async (c) => {
        const site = c.get('site');
        const { from: fromText, to: toText } = c.req.valid('query');
        const settings = readSiteSettings(site.settings);
        const timeZone = settings.engagement.defaultTimeZone;
        const { from, to, problem } = dayRange({ from: fromText, to: toText }, localDate((deps.now ?? Date.now)(), timeZone));
        if (problem === 'from_after_to') throw new ApiError('validation_failed', 'from: must not be after to');
        if (problem === 'too_long') throw new ApiError('validation_failed', `to: at most ${MAX_RANGE_DAYS} days from from, both included`);
        const report = await dailyReport(deps.db, site.id, localDays(from, to, timeZone), timeZone, settings.attribution.windowHours);
        return c.json(report);
      },
    );
}
