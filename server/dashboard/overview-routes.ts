/**
 * The overview page of a shop: `GET /dashboard/sites/:siteId/overview?from=&to=` (dates in the
 * shop's zone, both included; default the 30 days ending today). It reads only the rollups
 * (db/daily-stats.ts, db/prompt-funnel.ts), never the deliveries table as a whole, so it answers
 * as fast with a million deliveries as with ten.
 */
import type { Hono } from 'hono';
import type { AppDeps } from '../app-env.ts';
import { dailyReport } from '../db/daily-stats.ts';
import { findSiteForMember } from '../db/memberships.ts';
import { PROMPT_FUNNEL_STEPS, promptFunnel, type PromptFunnelStep } from '../db/prompt-funnel.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { addDays, dayRange, localDate, localDays, MAX_RANGE_DAYS } from '../stats/local-days.ts';
import { dashboardAssets } from './assets/assets.ts';
import { DASHBOARD_PATH } from './layout.ts';
import { overviewPage, type RangeForm } from './pages/overview-pages.ts';
import type { DashboardContext, DashboardEnv, DashboardKit } from './routes.ts';

const PRESETS = [7, 30, 90] as const;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isCalendarDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

/**
 * The range asked for in the query, or the problems with it in words, per field. Empty fields
 * take their defaults: `to` today, `from` 30 days before `to`.
 */
export function parseRange(query: { from?: string | undefined; to?: string | undefined }, today: string): { from: string; to: string } | { form: RangeForm } {
  const fromText = (query.from ?? '').trim();
  const toText = (query.to ?? '').trim();
  const errors: RangeForm['errors'] = {};
  if (toText !== '' && !isCalendarDate(toText)) errors.to = 'The end date is not a date. Pick one, or type it as 2026-11-01.';
  if (fromText !== '' && !isCalendarDate(fromText)) errors.from = 'The start date is not a date. Pick one, or type it as 2026-11-01.';
  if (errors.from || errors.to) return { form: { from: fromText, to: toText, errors } };
  const { from, to, length, problem } = dayRange({ from: fromText || undefined, to: toText || undefined }, today);
  if (problem === 'from_after_to') return { form: { from, to, errors: { from: 'The start date is after the end date. Pick a start on or before the end.' } } };
  if (problem === 'too_long') {
    return { form: { from, to, errors: { from: `That is ${length} days; the overview shows at most ${MAX_RANGE_DAYS} at a time. Pick a later start.` } } };
  }
  return { from, to };
}

export function overviewRoutes(app: Hono<DashboardEnv>, deps: AppDeps, kit: DashboardKit): void {
  const clock = deps.now ?? Date.now;

  app.get('/sites/:siteId/overview', async (c: DashboardContext) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return kit.toSignIn(c);
    const member = await findSiteForMember(deps.db, live.user.id, c.req.param('siteId')!);
    if (!member) return kit.message(c, 404, 'Page not found', 'There is no such shop among yours.');
    const settings = readSiteSettings(member.site.settings);
    const timeZone = settings.engagement.defaultTimeZone;
    const today = localDate(clock(), timeZone);
    const parsed = parseRange({ from: c.req.query('from'), to: c.req.query('to') }, today);
    const range = 'form' in parsed ? dayRange({}, today) : parsed;
    const days = localDays(range.from, range.to, timeZone);
    const [assets, { chrome }, report, funnelDays] = await Promise.all([
      dashboardAssets(),
      kit.chromeFor(live, token),
      dailyReport(deps.db, member.site.id, days, timeZone, settings.attribution.windowHours),
      // The same local days as every other figure of the page.
      promptFunnel(deps.db, member.site.id, days),
    ]);
    const funnel = Object.fromEntries(PROMPT_FUNNEL_STEPS.map((step) => [step, 0])) as Record<PromptFunnelStep, number>;
    for (const day of funnelDays) for (const step of PROMPT_FUNNEL_STEPS) funnel[step] += day[step];
    const base = `${DASHBOARD_PATH}/sites/${member.site.id}/overview`;
    const presets = PRESETS.map((days) => {
      const from = addDays(today, -(days - 1));
      return { days, href: `${base}?from=${from}&to=${today}`, current: !('form' in parsed) && range.from === from && range.to === today };
    });
    return kit.page(
      c,
      overviewPage({
        assets,
        chrome: { ...chrome, site: { id: member.site.id, name: member.site.name, role: member.role } },
        report,
        funnel,
        today,
        presets,
        ...('form' in parsed ? { form: parsed.form } : {}),
      }),
      'form' in parsed ? 422 : 200,
    );
  });
}
