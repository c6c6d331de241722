import { createScheduledCampaign, lastWaveInstant } from '../campaigns/campaigns.ts';
import { campaignInputSchema } from '../campaigns/campaign-input.ts';
import type { Db } from '../db/database.ts';
import type { SiteRow } from '../db/sites.ts';
import { localTimeInstant } from '../delivery/time-zones.ts';
import { readSiteSettings, type SiteSettings } from '../sites/site-settings.ts';
import { reportUrl } from '../notifications/payload.ts';
import { DAY_MS } from '../time.ts';
import { isLeapYear } from './birthdays.ts';

type Occasion = SiteSettings['occasions']['list'][number];

/** The earliest UTC offset in use (+14): the first zone whose clock reaches an occasion's time. */
const EARLIEST_ZONE = 'Etc/GMT-14';

/**
 * An occasion's campaign is scheduled this long before the first zone reaches its time, so the
 * owner sees it among the campaigns (and can cancel it) a day ahead.
 */
export const OCCASION_LEAD_MS = DAY_MS;

/** The occasion's wall-clock time in `year` (`YYYY-MM-DDTHH:MM`); 29 February is the 28th in other years. */
export function occasionLocalTime(occasion: Occasion, year: number): string {
  const day = occasion.month === 2 && occasion.day === 29 && !isLeapYear(year) ? 28 : occasion.day;
  return `${year}-${String(occasion.month).padStart(2, '0')}-${String(day).padStart(2, '0')}T${occasion.localTime}`;
}

/**
 * Schedules this year's campaign of each occasion of the site that comes up within a day: a
 * local-time wave (campaigns/), so each shopper gets it at the occasion's time in their own zone,
 * to the occasion's segment (or everyone). The claim (occasion_sends) and the campaign are written
 * in one transaction: an occasion is scheduled once a year across workers and restarts. From
 * then on it is an ordinary campaign: its figures, its cancel button.
 */
export async function scheduleDueOccasions(db: Db, site: SiteRow, options: { now: Date; publicUrl: string }): Promise<string[]> {
  const settings = readSiteSettings(site.settings);
  const scheduled: string[] = [];
  const thisYear = options.now.getUTCFullYear();
  for (const occasion of settings.occasions.list) {
    if (!occasion.enabled) continue;
    // Around New Year, 1 January of next year is already within a day.
    for (const year of [thisYear, thisYear + 1]) {
      if (occasion.year !== undefined && occasion.year !== year) continue;
      const localTime = occasionLocalTime(occasion, year);
      const first = localTimeInstant(localTime, EARLIEST_ZONE).getTime();
      const last = lastWaveInstant(localTime).getTime();
      const now = options.now.getTime();
      if (now < first - OCCASION_LEAD_MS || now >= last) continue;
      const id = await db.transaction().execute(async (trx) => {
        const claimed = await trx
          .insertInto('occasion_sends')
          .values({ site_id: site.id, occasion_id: occasion.id, year, campaign_id: null, created_at: options.now })
          .onConflict((oc) => oc.doNothing())
          .returning('year')
          .executeTakeFirst();
        if (!claimed) return null;
        const campaign = await createScheduledCampaign({ db: trx, now: options.now, reportUrl: reportUrl(options.publicUrl) }, site, occasionCampaign(site, settings, occasion, localTime, year));
        await trx.updateTable('occasion_sends').set({ campaign_id: campaign.id }).where('site_id', '=', site.id).where('occasion_id', '=', occasion.id).where('year', '=', year).execute();
        return campaign.id;
      });
      if (id) scheduled.push(id);
    }
  }
  return scheduled;
}

/** The campaign an occasion sends: its text in the site's default locale (else its first), the others as translations. */
function occasionCampaign(site: SiteRow, settings: SiteSettings, occasion: Occasion, localTime: string, year: number) {
  const texts = Object.entries(occasion.texts);
  const [mainLocale, main] = texts.find(([locale]) => locale === settings.defaultLocale) ?? texts[0]!;
  const localized = Object.fromEntries(texts.filter(([locale]) => locale !== mainLocale));
  return campaignInputSchema.parse({
    name: `${occasion.name} ${year}`,
    content: { title: main.title, body: main.body, url: occasion.url ?? `${site.allowed_origins[0]}/` },
    ...(Object.keys(localized).length > 0 ? { localized } : {}),
    audience: occasion.segmentId ? { segmentId: occasion.segmentId } : { all: true },
    schedule: { localTime },
    // A day's greeting: after the day is over everywhere, it is no longer news.
    ttl: 24 * 3600,
  });
}
