import { describe, expect, it } from 'vitest';
import { contrastRatio, onAccentColour, readSiteSettings, siteSettingsPatchSchema } from './site-settings.ts';

describe('stored site settings', () => {
  it('keeps a section whose stored form has a key this version does not know (a rollback, a hand edit)', () => {
    const settings = readSiteSettings({
      engagement: { frequencyCap: { marketingPer24h: 9, perWeek: 20 }, quietHours: { enabled: false, start: '22:00', end: '08:00', weekendsOnly: true }, defaultTimeZone: 'Europe/Berlin', sendWindow: true },
      templates: { price_drop: { de: { title: 'Billiger', body: 'Jetzt', emoji: '🔥' } } },
      somethingNew: { enabled: true },
    });
    expect(settings.engagement).toEqual({
      frequencyCap: { marketingPer24h: 9 },
      quietHours: { enabled: false, start: '22:00', end: '08:00' },
      budget: { enabled: true, ignoredPerHalving: 3, minPerWeek: 1 },
      bestHour: { minOwnDataPoints: 5 },
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

describe('the prompt section', () => {
  it('fills a complete default theme and no texts, so a site stored before themes reads as one', () => {
    const { prompt } = readSiteSettings({ prompt: { trigger: 'seconds', delaySeconds: 5, title: 'Old title' } });
    expect(prompt).toEqual({
      trigger: 'seconds',
      pageViews: 2,
      delaySeconds: 5,
      snoozeDays: 7,
      theme: { accent: '#2557d6', background: '#ffffff', text: '#1f2328', radius: 16, position: 'bottom-right' },
      texts: {},
      title: 'Old title',
    });
  });

  it('drops a stored theme field this version does not know, keeping the theme and the texts', () => {
    const { prompt } = readSiteSettings({ prompt: { theme: { accent: '#000', shadow: 'big' }, texts: { de: { title: 't', body: 'b', allow: 'a', later: 'l' } } } });
    expect(prompt.theme.accent).toBe('#000');
    expect(prompt.texts).toEqual({ de: { title: 't', body: 'b', allow: 'a', later: 'l' } });
  });

  it('measures contrast as WCAG 2.2 does and picks the readable label colour for the accent', () => {
    expect(contrastRatio('#000', '#fff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
    expect(onAccentColour('#2557d6')).toBe('#ffffff');
    expect(onAccentColour('#ffd60a')).toBe('#111111');
  });

  it('takes the texts of a locale whole and spells its tag canonically in a PATCH', () => {
    const texts = { title: 'Hi', body: 'There', allow: 'Yes', later: 'No' };
    expect(siteSettingsPatchSchema.parse({ prompt: { texts: { 'pt-br': texts } } })).toEqual({ prompt: { texts: { 'pt-BR': texts } } });
    expect(siteSettingsPatchSchema.safeParse({ prompt: { texts: { en: { title: 'Hi' } } } }).success).toBe(false);
  });
});
