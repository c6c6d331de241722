import { wallClockAt, zonedWallClockToUtc } from '../delivery/time-zones.ts';
import { DAY_MS } from '../time.ts';

/**
 * Calendar days as a shop owner reads them: from local midnight to the next local midnight in the
 * site's zone, so a day may last 23 or 25 hours around a daylight-saving change.
 */
export interface LocalDays {
  /** The days, `YYYY-MM-DD`, oldest first. */
  dates: string[];
  /** dates.length + 1 instants: day i runs from boundaries[i] (inclusive) to boundaries[i + 1]. */
  boundaries: Date[];
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(date: string): { year: number; month: number; day: number } {
  const match = DATE.exec(date);
  if (!match) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

/** Whole days from `from` to `to`, both included (2026-11-01 to 2026-11-01 is one day). */
export function daysBetween(from: string, to: string): number {
  const a = parseDate(from);
  const b = parseDate(to);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / DAY_MS) + 1;
}

/** A report's days when none are asked for: the 30 ending today. */
export const DEFAULT_RANGE_DAYS = 30;
/** The longest report: a year and a day, so "the same day last year" to today fits. */
export const MAX_RANGE_DAYS = 366;

export type DayRange = { from: string; to: string; length: number; problem?: 'from_after_to' | 'too_long' };

/**
 * The range of a daily report — `GET /v1/stats/daily`, the dashboard's overview and `pushcart
 * stats` alike: `to` defaults to `today`, `from` to 30 days ending at `to`; `problem` says when it
 * cannot be shown (each caller words it for its reader). Both dates must already be calendar dates.
 */
export function dayRange(asked: { from?: string | undefined; to?: string | undefined }, today: string): DayRange {
  const to = asked.to ?? today;
  const from = asked.from ?? addDays(to, -(DEFAULT_RANGE_DAYS - 1));
  const length = daysBetween(from, to);
  if (length < 1) return { from, to, length, problem: 'from_after_to' };
  if (length > MAX_RANGE_DAYS) return { from, to, length, problem: 'too_long' };
  return { from, to, length };
}

/** `date` moved by `days` (negative: earlier), on the calendar, not by 24-hour steps. */
export function addDays(date: string, days: number): string {
  const { year, month, day } = parseDate(date);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** The local date in `timeZone` at `ms`. */
export function localDate(ms: number, timeZone: string): string {
  const clock = wallClockAt(ms, timeZone);
  return `${String(clock.year).padStart(4, '0')}-${String(clock.month).padStart(2, '0')}-${String(clock.day).padStart(2, '0')}`;
}

/**
 * The days from `from` to `to` (both included) and the instants they start at in `timeZone`. A
 * midnight that does not happen (a zone that springs forward at 00:00) starts its day at the
 * first instant after the gap (zonedWallClockToUtc).
 */
export function localDays(from: string, to: string, timeZone: string): LocalDays {
  const start = parseDate(from);
  const count = daysBetween(from, to);
  const dates: string[] = [];
  const boundaries: Date[] = [];
  for (let i = 0; i <= count; i++) {
    if (i < count) dates.push(addDays(from, i));
    boundaries.push(new Date(zonedWallClockToUtc({ year: start.year, month: start.month, day: start.day + i, hour: 0, minute: 0 }, timeZone)));
  }
  return { dates, boundaries };
}
