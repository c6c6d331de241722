import { describe, expect, it } from 'vitest';
import { addDays, dayRange, daysBetween, localDate, localDays, MAX_RANGE_DAYS } from './local-days.ts';

const HOUR_MS = 3_600_000;

describe('localDays', () => {
  it('starts each day at local midnight', () => {
    const { dates, boundaries } = localDays('2026-11-01', '2026-11-02', 'Europe/Berlin');
    expect(dates).toEqual(['2026-11-01', '2026-11-02']);
    expect(boundaries.map((b) => b.toISOString())).toEqual(['2026-10-31T23:00:00.000Z', '2026-11-01T23:00:00.000Z', '2026-11-02T23:00:00.000Z']);
  });

  it('gives daylight-saving days their 23 and 25 hours (Berlin: 29 March and 25 October 2026)', () => {
    const spring = localDays('2026-03-29', '2026-03-29', 'Europe/Berlin').boundaries;
    expect(spring[1]!.getTime() - spring[0]!.getTime()).toBe(23 * HOUR_MS);
    const autumn = localDays('2026-10-25', '2026-10-25', 'Europe/Berlin').boundaries;
    expect(autumn[1]!.getTime() - autumn[0]!.getTime()).toBe(25 * HOUR_MS);
  });

  it('starts a day whose midnight does not happen at the end of the gap (Santiago springs forward at 00:00 on 6 September 2026)', () => {
    const { boundaries } = localDays('2026-09-06', '2026-09-06', 'America/Santiago');
    // 00:00 −04 never happens; the day starts at 01:00 −03, which is 04:00 UTC.
    expect(boundaries[0]!.toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(boundaries[1]!.toISOString()).toBe('2026-09-07T03:00:00.000Z');
  });

  it('works in zones a quarter of an hour off the hour (Kathmandu, UTC+5:45)', () => {
    expect(localDays('2026-11-01', '2026-11-01', 'Asia/Kathmandu').boundaries[0]!.toISOString()).toBe('2026-10-31T18:15:00.000Z');
  });
});

describe('calendar arithmetic', () => {
  it.each([
    ['2026-11-01', '2026-11-01', 1],
    ['2026-11-01', '2026-11-30', 30],
    ['2025-11-01', '2026-11-01', 366],
    ['2028-02-28', '2028-03-01', 3],
    ['2026-11-02', '2026-11-01', 0],
  ])('%s to %s is %i days', (from, to, days) => {
    expect(daysBetween(from, to)).toBe(days);
  });

  it('moves across month and year ends', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });

  it("reads today's date in the zone, not in UTC", () => {
    const instant = Date.parse('2026-11-10T23:30:00Z');
    expect(localDate(instant, 'Europe/Berlin')).toBe('2026-11-11');
    expect(localDate(instant, 'America/New_York')).toBe('2026-11-10');
  });
});

describe('dayRange: the days of a daily report', () => {
  it('defaults to the 30 days ending today, or ending at the end asked for', () => {
    expect(dayRange({}, '2026-11-29')).toEqual({ from: '2026-10-31', to: '2026-11-29', length: 30 });
    expect(dayRange({ to: '2026-03-01' }, '2026-11-29')).toEqual({ from: '2026-01-31', to: '2026-03-01', length: 30 });
    expect(dayRange({ from: '2026-11-29' }, '2026-11-29')).toEqual({ from: '2026-11-29', to: '2026-11-29', length: 1 });
  });

  it('says when the start is after the end, or the range is longer than a year and a day', () => {
    expect(dayRange({ from: '2026-11-30', to: '2026-11-29' }, '2026-11-29')).toMatchObject({ problem: 'from_after_to' });
    expect(dayRange({ from: '2025-11-28', to: '2026-11-29' }, '2026-11-29')).toEqual({ from: '2025-11-28', to: '2026-11-29', length: 367, problem: 'too_long' });
    expect(dayRange({ from: '2025-11-29', to: '2026-11-29' }, '2026-11-29')).toEqual({ from: '2025-11-29', to: '2026-11-29', length: MAX_RANGE_DAYS });
  });
});
