/**
 * The delivery health page of a shop: `GET /dashboard/sites/:siteId/health`, for every role. It
 * reads the waiting and recently decided deliveries through their indexes (db/delivery-health.ts),
 * never the deliveries table as a whole, and derives a push service's backoff from the stored next
 * attempts: the gates themselves live in each worker's memory (delivery/host-gates.ts).
 */
import type { Hono } from 'hono';
import type { AppDeps } from '../app-env.ts';
import { hostBackoffs, quietHoursWait, recentFailures, recentSuppressions, weeklyExpiry } from '../db/delivery-health.ts';
import { ignoringShare } from '../db/engagement-history.ts';
import { findSiteForMember } from '../db/memberships.ts';
import { IGNORED_AFTER_MS } from '../delivery/engagement-rules.ts';
import { DAY_MS } from '../time.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { localDate } from '../stats/local-days.ts';
import { dashboardAssets } from './assets/assets.ts';
import { healthReport, IGNORING_LAST_PUSHES, IGNORING_WINDOW_DAYS } from './delivery-health.ts';
import { healthPage } from './pages/health-pages.ts';
import type { DashboardContext, DashboardEnv, DashboardKit } from './routes.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dayLabel(ms: number, timeZone: string): string {
  const [year, month, day] = localDate(ms, timeZone).split('-').map(Number);
  return `${day} ${MONTHS[month! - 1]} ${year}`;
}

export function healthRoutes(app: Hono<DashboardEnv>, deps: AppDeps, kit: DashboardKit): void {
  const clock = deps.now ?? Date.now;

  app.get('/sites/:siteId/health', async (c: DashboardContext) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return kit.toSignIn(c);
    const member = await findSiteForMember(deps.db, live.user.id, c.req.param('siteId')!);
    if (!member) return kit.message(c, 404, 'Page not found', 'There is no such shop among yours.');
    const { engagement } = readSiteSettings(member.site.settings);
    const timeZone = engagement.defaultTimeZone;
    const nowMs = clock();
    const siteId = member.site.id;
    const [assets, { chrome }, quietHours, backoffs, suppressions, failures, expiry, ignoring] = await Promise.all([
      dashboardAssets(),
      kit.chromeFor(live, token),
      quietHoursWait(deps.db, siteId),
      hostBackoffs(deps.db, siteId, nowMs),
      recentSuppressions(deps.db, siteId, nowMs),
      recentFailures(deps.db, siteId, nowMs),
      weeklyExpiry(deps.db, siteId, nowMs),
      // Pushes younger than a day may yet be clicked: the same grace as the engagement budget's.
      ignoringShare(deps.db, siteId, { sinceMs: nowMs - IGNORING_WINDOW_DAYS * DAY_MS, beforeMs: nowMs - IGNORED_AFTER_MS, lastN: IGNORING_LAST_PUSHES }),
    ]);
    const report = healthReport({ nowMs, timeZone, quietHours, backoffs, suppressions, failures, expiry, ignoring: { ...ignoring, budgetEnabled: engagement.budget.enabled } });
    return kit.page(
      c,
      healthPage({
        assets,
        chrome: { ...chrome, site: { id: siteId, name: member.site.name, role: member.role } },
        report,
        timeZone,
        weekLabels: expiry.map((week) => dayLabel(week.startMs, timeZone)),
      }),
    );
  });
}
