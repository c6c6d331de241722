import { birthdayCandidates, claimBirthday, recordBirthdayPush, type Birthday } from '../db/birthdays.ts';
import type { Db } from '../db/database.ts';
import type { SiteRow } from '../db/sites.ts';
import { isValidTimeZone, wallClockAt, zonedWallClockToUtc, type WallClock } from '../delivery/time-zones.ts';
import { reportUrl } from '../notifications/payload.ts';
import { readSiteSettings, type SiteSettings } from '../sites/site-settings.ts';
import { DAY_MS, MINUTE_SECONDS } from '../time.ts';
import { queueTriggerNotification, shopperSubscriptions } from './trigger-notification.ts';

/** Shoppers read per transaction: short transactions, as cart pages are. */
export const BIRTHDAYS_PER_SCAN = 200;

/** A birthday push found late in the day still gets this long to arrive. */
const MIN_TTL_SECONDS = 15 * MINUTE_SECONDS;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Whether a wall clock's date is this birthday. Someone born on 29 February celebrates on the
 * 28th in a year without one (the custom in most countries; a push on 1 March would come late).
 */
export function isBirthdayOn(birthday: Birthday, date: { year: number; month: number; day: number }): boolean {
  if (birthday.month === date.month && birthday.day === date.day) return true;
  return birthday.month === 2 && birthday.day === 29 && date.month === 2 && date.day === 28 && !isLeapYear(date.year);
}

/**
 * The calendar dates that are "today" somewhere on Earth at `now` (offsets span −12 h…+14 h: the
 * UTC date and the day either side), with 29 February beside a 28th: the birthdays to look at.
 */
export function datesAroundTheWorld(now: Date): Birthday[] {
  const dates: Birthday[] = [];
  for (const shift of [-DAY_MS, 0, DAY_MS]) {
    const day = new Date(now.getTime() + shift);
    dates.push({ month: day.getUTCMonth() + 1, day: day.getUTCDate() });
    if (day.getUTCMonth() === 1 && day.getUTCDate() === 28) dates.push({ month: 2, day: 29 });
  }
  return dates;
}

/** The shopper's birthday today, in the first of their zones where it is, with that zone and its clock. */
function birthdayNow(birthday: Birthday, zones: Array<string | null>, fallbackZone: string, now: Date): { zone: string; clock: WallClock } | null {
  for (const raw of zones) {
    const zone = raw !== null && isValidTimeZone(raw) ? raw : fallbackZone;
    const clock = wallClockAt(now.getTime(), zone);
    if (isBirthdayOn(birthday, clock)) return { zone, clock };
  }
  return null;
}

/**
 * Queues the birthday pushes due on one site at `now`: for each shopper whose birthday it is in
 * the zone of one of their subscriptions (the site's default zone for a browser that sent none),
 * and, without best hour, once that zone's clock reads `birthday.localTime`. Each shopper's claim
 * for the year (birthday_pushes) and their push are written in one transaction, so a birthday
 * fires once across workers and restarts. With best hour the push is queued from midnight and
 * waits for the shopper's best hour; it expires at the end of their day, so a best hour already
 * past (a site that was down all morning) sends at once rather than tomorrow.
 */
export async function fireDueBirthdays(db: Db, site: SiteRow, options: { now: Date; publicUrl: string; limit?: number }): Promise<{ shoppers: number; queued: string[] }> {
  const settings = readSiteSettings(site.settings);
  if (!settings.birthday.enabled) return { shoppers: 0, queued: [] };
  const limit = options.limit ?? BIRTHDAYS_PER_SCAN;
  const queued: string[] = [];
  let shoppers = 0;
  let after = '';
  for (;;) {
    const page = await db.transaction().execute(async (trx) => {
      const candidates = await birthdayCandidates(trx, site.id, datesAroundTheWorld(options.now), { now: options.now, after, limit });
      for (const candidate of candidates) {
        const id = await fireBirthday(trx, site, settings, candidate, options);
        if (id) queued.push(id);
      }
      return candidates;
    });
    shoppers += page.length;
    if (page.length < limit) break;
    after = page[page.length - 1]!.external_user_id;
  }
  return { shoppers, queued };
}

async function fireBirthday(
  db: Db,
  site: SiteRow,
  settings: SiteSettings,
  candidate: { external_user_id: string; month: number; day: number; time_zones: Array<string | null> },
  options: { now: Date; publicUrl: string },
): Promise<string | null> {
  const { sendAtBestHour, localTime, discountCode, holdoutPercent } = settings.birthday;
  const today = birthdayNow(candidate, candidate.time_zones, settings.engagement.defaultTimeZone, options.now);
  if (!today) return null;
  const { zone, clock } = today;
  if (!sendAtBestHour) {
    const [hour, minute] = localTime.split(':').map(Number) as [number, number];
    if (clock.hour * 60 + clock.minute < hour * 60 + minute) return null;
  }
  if (!(await claimBirthday(db, site.id, candidate.external_user_id, clock.year, options.now))) return null;
  const endOfDay = zonedWallClockToUtc({ year: clock.year, month: clock.month, day: clock.day + 1, hour: 0, minute: 0 }, zone);
  const { id, audience } = await queueTriggerNotification(db, {
    site,
    settings,
    source: 'birthday',
    templateKey: 'birthday',
    context: (locale) => ({ locale, ...(discountCode ? { discount: { code: discountCode } } : {}) }),
    url: null,
    image: null,
    triggerKey: `${candidate.external_user_id}:${clock.year}`,
    audience: { trigger: 'birthday', year: clock.year },
    where: shopperSubscriptions({ visitorId: null, externalUserId: candidate.external_user_id }),
    holdoutPercent,
    ttlSeconds: Math.max(MIN_TTL_SECONDS, Math.floor((endOfDay - options.now.getTime()) / 1000)),
    bestHour: sendAtBestHour,
    now: options.now,
    reportUrl: reportUrl(options.publicUrl),
  });
  if (audience === 0) return null;
  await recordBirthdayPush(db, site.id, candidate.external_user_id, clock.year, id);
  return id;
}
