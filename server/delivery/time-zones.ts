import { DAY_MS, HOUR_MS } from '../time.ts';

/**
 * Time-zone arithmetic: the wall clock in a zone at an instant, and the instants at which a zone's
 * wall clock reads a given time, across daylight-saving changes. Quiet hours are read with it.
 *
 * Wall-clock time is read with `Intl.DateTimeFormat({ timeZone })`, the tz database the runtime
 * (Node's ICU, workerd) ships, rather than a library: none is in package.json, and a hand-kept
 * offset table would go stale with the next tzdb release.
 */

/** Whether this runtime's Intl knows the zone (IANA names such as Europe/Berlin, and UTC). */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.length === 0 || timeZone.length > 64) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export interface WallClockDate {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/**
 * The UTC instant (ms) at which the wall clock in `timeZone` reads `date`. Fields out of range
 * roll over as in Date.UTC (day 32 of January is 1 February), which is how callers say "tomorrow".
 *
 * Around offset changes:
 * - spring-forward gap (the local time never happens, e.g. 02:30 in Berlin on 2026-03-29): the
 *   first instant after the gap, i.e. the moment of the change (03:00 local there);
 * - fall-back overlap (the local time happens twice, e.g. 02:30 in Berlin on 2026-10-25): the
 *   first occurrence, still on summer time.
 *
 * Not `local − offset(now)`: the offset at the target can differ from the offset at any instant
 * we know, so each candidate offset is tried and checked against the wall clock it produces.
 */
export function zonedWallClockToUtc(date: WallClockDate, timeZone: string): number {
  const instants = wallClockInstants(date, timeZone);
  return instants.length > 0 ? instants[0]! : firstInstantAfterGap(date, timeZone);
}

/**
 * Every UTC instant at which the wall clock in `timeZone` reads `date`, ascending: one normally,
 * two in a fall-back overlap, none in a spring-forward gap.
 */
export function wallClockInstants(date: WallClockDate, timeZone: string): number[] {
  const target = Date.UTC(date.year, date.month - 1, date.day, date.hour, date.minute);
  // Reading `target` as if it were UTC lands within ±14 h of the real instant (offsets span
  // −12 h…+14 h), so the offsets in force a day either side include the one before and the one
  // after any change near the target; the middle samples catch a zone that changed twice.
  const offsets = new Set<number>();
  for (const probe of [target - DAY_MS, target - 12 * HOUR_MS, target, target + 12 * HOUR_MS, target + DAY_MS]) {
    offsets.add(offsetAt(probe, timeZone));
  }
  const instants = new Set<number>();
  for (const offset of offsets) {
    const instant = target - offset;
    if (localMsAt(instant, timeZone) === target) instants.add(instant);
  }
  return [...instants].sort((a, b) => a - b);
}

/**
 * The first instant whose local wall clock reads `date` or later, for a `date` that falls in a
 * gap: before the change the clock reads earlier, from the change on it reads later, so a binary
 * search over whole seconds (tzdb changes happen on whole seconds) finds the change.
 */
export function firstInstantAfterGap(date: WallClockDate, timeZone: string): number {
  const target = Date.UTC(date.year, date.month - 1, date.day, date.hour, date.minute);
  let low = Math.floor((target - 15 * HOUR_MS) / 1000); // local clock earlier than target here
  let high = Math.ceil((target + 13 * HOUR_MS) / 1000); // and later than target here
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (localMsAt(middle * 1000, timeZone) >= target) high = middle;
    else low = middle;
  }
  return high * 1000;
}

export interface WallClock extends WallClockDate {
  second: number;
}

/** The wall clock in `timeZone` at `ms`. */
export function wallClockAt(ms: number, timeZone: string): WallClock {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year!,
    month: fields.month!,
    day: fields.day!,
    hour: fields.hour!,
    minute: fields.minute!,
    second: fields.second!,
  };
}

/** The wall clock at `ms` written as if it were a UTC timestamp; minus `ms`, that is the offset. */
function localMsAt(ms: number, timeZone: string): number {
  const clock = wallClockAt(ms, timeZone);
  const wholeSeconds = Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second);
  return wholeSeconds + (ms - Math.floor(ms / 1000) * 1000);
}

function offsetAt(ms: number, timeZone: string): number {
  return localMsAt(ms, timeZone) - ms;
}

export function formatWallClock(ms: number, timeZone: string): string {
  const clock = wallClockAt(ms, timeZone);
  return `${String(clock.hour).padStart(2, '0')}:${String(clock.minute).padStart(2, '0')}`;
}

/**
 * Formatters by zone. Building an Intl.DateTimeFormat costs far more than formatting with one, and a
 * batch reads the same few zones hundreds of times. A memo, not state: it changes no result, and it
 * is bounded by the number of zones the runtime knows (unknown zones throw before being stored).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      // h23, not hour12: false: some ICU versions print midnight as "24" with the latter.
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The instant the wall clock in `timeZone` reads `localTime` (`YYYY-MM-DDTHH:MM`). */
export function localTimeInstant(localTime: string, timeZone: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(localTime);
  if (!match) throw new RangeError(`not a local time: ${localTime}`);
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  return new Date(zonedWallClockToUtc({ year, month, day, hour, minute }, timeZone));
}
