import type { CampaignRow } from '../db/campaigns.ts';
import { campaignMainCurrency, campaignTimelineRows } from '../db/campaign-timeline.ts';
import { campaignNotifications } from '../db/campaigns.ts';
import type { Db } from '../db/database.ts';
import { localTimeInstant, wallClockAt } from '../delivery/time-zones.ts';
import { DAY_MS, HOUR_MS } from '../time.ts';

/**
 * A campaign over time, per variant: what was sent, clicked, converted and earned in each hour
 * (or day, for a campaign longer than three days) since it started — `GET /v1/campaigns/{id}/timeline`
 * and the results page's charts.
 */

/** Up to three days in hours; longer in days. */
const HOURLY_UP_TO_MS = 3 * DAY_MS;
/** The timeline covers at most this long from the start: a campaign's figures come in its first days. */
const MAX_SPAN_MS = 60 * DAY_MS;

export interface CampaignTimeline {
  unit: 'hour' | 'day';
  timeZone: string;
  /** Each period's start on the zone's wall clock, `YYYY-MM-DDTHH:00`, oldest first, with no gaps. */
  periods: string[];
  /** The currency of `revenue` (the one most of the campaign's revenue is in); null when it has none. */
  currency: string | null;
  series: Array<{ variant: string; sent: number[]; clicked: number[]; converted: number[]; revenue: number[] }>;
}

const two = (n: number) => String(n).padStart(2, '0');

function periodOf(ms: number, unit: 'hour' | 'day', timeZone: string): string {
  const clock = wallClockAt(ms, timeZone);
  return `${clock.year}-${two(clock.month)}-${two(clock.day)}T${unit === 'day' ? '00' : two(clock.hour)}:00`;
}

/** Every period from the one holding `fromMs` to the one holding `toMs`, on the zone's wall clock. */
function periodsBetween(fromMs: number, toMs: number, unit: 'hour' | 'day', timeZone: string): string[] {
  const periods: string[] = [];
  const last = periodOf(toMs, unit, timeZone);
  let current = periodOf(fromMs, unit, timeZone);
  for (let guard = 0; guard < 2000; guard++) {
    periods.push(current);
    if (current === last) break;
    // The next period's start: an hour or a day on, found on the wall clock (a DST day has 23 or 25 hours).
    const startMs = localTimeInstant(current.slice(0, 16), timeZone).getTime();
    let next = periodOf(startMs + (unit === 'hour' ? HOUR_MS : DAY_MS), unit, timeZone);
    if (next === current) next = periodOf(startMs + (unit === 'hour' ? 2 * HOUR_MS : DAY_MS + 2 * HOUR_MS), unit, timeZone);
    current = next;
  }
  return periods;
}

export async function campaignTimeline(db: Db, row: CampaignRow, nowMs: number, timeZone: string): Promise<CampaignTimeline> {
  const notifications = await campaignNotifications(db, row.id);
  const startedMs = row.started_at ? new Date(row.started_at).getTime() : null;
  if (startedMs === null || notifications.length === 0) return { unit: 'hour', timeZone, periods: [], currency: null, series: [] };
  const endMs = Math.min(nowMs, startedMs + MAX_SPAN_MS);
  const unit = endMs - startedMs <= HOURLY_UP_TO_MS ? 'hour' : 'day';
  const currency = await campaignMainCurrency(db, row.id);
  const rows = await campaignTimelineRows(db, row.id, unit, timeZone, currency);
  const periods = periodsBetween(startedMs, Math.max(startedMs, endMs), unit, timeZone);
  const index = new Map(periods.map((period, i) => [period, i]));
  const variants = [...new Set(notifications.map((n) => n.variant ?? 'all'))];
  const series = variants.map((variant) => ({
    variant,
    sent: periods.map(() => 0),
    clicked: periods.map(() => 0),
    converted: periods.map(() => 0),
    revenue: periods.map(() => 0),
  }));
  for (const r of rows) {
    const s = series.find((entry) => entry.variant === r.variant);
    const i = index.get(r.period);
    // Outside the window (a click reported after the 60 days): in the totals, not on the chart.
    if (!s || i === undefined) continue;
    s.sent[i] = s.sent[i]! + r.sent;
    s.clicked[i] = s.clicked[i]! + r.clicked;
    s.converted[i] = s.converted[i]! + r.converted;
    s.revenue[i] = Math.round((s.revenue[i]! + r.revenue) * 100) / 100;
  }
  return { unit, timeZone, periods, currency, series };
}
