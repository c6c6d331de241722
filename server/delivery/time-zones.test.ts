import { describe, expect, it } from 'vitest';
import { isValidTimeZone, zonedWallClockToUtc } from './time-zones.ts';

const at = (iso: string): number => Date.parse(iso);

describe('zonedWallClockToUtc', () => {
  it('converts an ordinary local time with the offset in force at that time, not now', () => {
    expect(zonedWallClockToUtc({ year: 2026, month: 1, day: 15, hour: 9, minute: 0 }, 'Europe/Berlin')).toBe(at('2026-01-15T08:00:00Z'));
    expect(zonedWallClockToUtc({ year: 2026, month: 7, day: 15, hour: 9, minute: 0 }, 'Europe/Berlin')).toBe(at('2026-07-15T07:00:00Z'));
    expect(zonedWallClockToUtc({ year: 2026, month: 7, day: 15, hour: 9, minute: 0 }, 'America/New_York')).toBe(at('2026-07-15T13:00:00Z'));
    expect(zonedWallClockToUtc({ year: 2026, month: 7, day: 15, hour: 9, minute: 0 }, 'Asia/Kolkata')).toBe(at('2026-07-15T03:30:00Z'));
    expect(zonedWallClockToUtc({ year: 2026, month: 7, day: 15, hour: 9, minute: 0 }, 'Pacific/Auckland')).toBe(at('2026-07-14T21:00:00Z'));
  });

  it('maps a local time in a spring-forward gap to the first instant after the gap', () => {
    // Berlin 2026-03-29 02:30 never happens; the clock reads 03:00 CEST at 01:00Z.
    expect(zonedWallClockToUtc({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Berlin')).toBe(at('2026-03-29T01:00:00Z'));
    // New York 2026-03-08 02:30 never happens; the clock reads 03:00 EDT at 07:00Z.
    expect(zonedWallClockToUtc({ year: 2026, month: 3, day: 8, hour: 2, minute: 30 }, 'America/New_York')).toBe(at('2026-03-08T07:00:00Z'));
  });

  it('maps a local time in a fall-back overlap to its first occurrence', () => {
    expect(zonedWallClockToUtc({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, 'Europe/Berlin')).toBe(at('2026-10-25T00:30:00Z'));
    expect(zonedWallClockToUtc({ year: 2026, month: 11, day: 1, hour: 1, minute: 30 }, 'America/New_York')).toBe(at('2026-11-01T05:30:00Z'));
  });

  it('rolls day overflow over like Date.UTC (day 32 of January is 1 February)', () => {
    expect(zonedWallClockToUtc({ year: 2026, month: 1, day: 32, hour: 9, minute: 0 }, 'UTC')).toBe(at('2026-02-01T09:00:00Z'));
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA zones and UTC, refuses unknown names and empty strings', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('America/Argentina/Buenos_Aires')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
