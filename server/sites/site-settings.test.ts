import { describe, expect, it } from 'vitest';
import { readSiteSettings, siteSettingsPatchSchema } from './site-settings.ts';

describe('stored site settings', () => {
  it('keeps a section whose stored form has a key this version does not know (a rollback, a hand edit)', () => {
    const settings = readSiteSettings({
      engagement: { frequencyCap: { marketingPer24h: 9, perWeek: 20 }, quietHours: { enabled: false, start: '22:00', end: '08:00', weekendsOnly: true }, defaultTimeZone: 'Europe/Berlin', bestHour: true },
      templates: { price_drop: { de: { title: 'Billiger', body: 'Jetzt', emoji: '🔥' } } },
      somethingNew: { enabled: true },
    });
    expect(settings.engagement).toEqual({
      frequencyCap: { marketingPer24h: 9 },
      quietHours: { enabled: false, start: '22:00', end: '08:00' },
      defaultTimeZone: 'Europe/Berlin',
    });
    expect(settings.templates).toEqual({ price_drop: { de: { title: 'Billiger', body: 'Jetzt' } } });
    expect(settings).not.toHaveProperty('somethingNew');
  });

  it('still refuses the unknown key in a PATCH, by name', () => {
    const result = siteSettingsPatchSchema.safeParse({ engagement: { quietHours: { weekendsOnly: true } } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.') + ' ' + issue.message).join('\n')).toMatch(/engagement\.quietHours/);
  });

  it('spells the default locale canonically, as template lookups do', () => {
    expect(siteSettingsPatchSchema.parse({ defaultLocale: 'de-at' })).toEqual({ defaultLocale: 'de-AT' });
    expect(readSiteSettings({ defaultLocale: 'PT-br' }).defaultLocale).toBe('pt-BR');
  });

  it('spells the default time zone as the IANA database does', () => {
    expect(siteSettingsPatchSchema.parse({ engagement: { defaultTimeZone: 'europe/berlin' } })).toEqual({ engagement: { defaultTimeZone: 'Europe/Berlin' } });
  });
});
