import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGAGEMENT_SETTINGS, engagementSettingsSchema } from './engagement-settings.ts';

describe('engagementSettingsSchema', () => {
  it('fills every default from an empty object', () => {
    expect(engagementSettingsSchema.parse({})).toEqual({
      frequencyCap: { marketingPer24h: 3 },
      quietHours: { enabled: true, start: '21:00', end: '09:00' },
      budget: { enabled: true, ignoredPerHalving: 3, minPerWeek: 1 },
      bestHour: { minOwnDataPoints: 5 },
      defaultTimeZone: 'UTC',
    });
    expect(DEFAULT_ENGAGEMENT_SETTINGS).toEqual(engagementSettingsSchema.parse({}));
  });

  it('fills defaults inside a partly given object', () => {
    expect(engagementSettingsSchema.parse({ quietHours: { enabled: false } }).quietHours).toEqual({ enabled: false, start: '21:00', end: '09:00' });
  });

  it('accepts 00:00 and 23:59, a cap of 0 and of 100, and an IANA default zone', () => {
    const parsed = engagementSettingsSchema.parse({
      frequencyCap: { marketingPer24h: 0 },
      quietHours: { enabled: true, start: '23:59', end: '00:00' },
      defaultTimeZone: 'Asia/Kolkata',
    });
    expect(parsed.frequencyCap.marketingPer24h).toBe(0);
    expect(engagementSettingsSchema.safeParse({ frequencyCap: { marketingPer24h: 100 } }).success).toBe(true);
  });

  it.each([
    ['an hour of 24', { quietHours: { start: '24:00' } }],
    ['a single-digit hour', { quietHours: { start: '9:00' } }],
    ['minutes past 59', { quietHours: { end: '09:60' } }],
    ['start equal to end', { quietHours: { start: '09:00', end: '09:00' } }],
    ['a negative cap', { frequencyCap: { marketingPer24h: -1 } }],
    ['a cap over 100', { frequencyCap: { marketingPer24h: 101 } }],
    ['a fractional cap', { frequencyCap: { marketingPer24h: 1.5 } }],
    ['an unknown default zone', { defaultTimeZone: 'Mars/Olympus_Mons' }],
  ])('refuses %s', (_label, input) => {
    expect(engagementSettingsSchema.safeParse(input).success).toBe(false);
  });
});
