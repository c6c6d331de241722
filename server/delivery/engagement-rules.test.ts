import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGAGEMENT_SETTINGS, type EngagementSettings } from '../sites/engagement-settings.ts';
import { decideEngagement, PRIORITY, priorityFor, quietHoursEnd, type EngagementCandidate } from './engagement-rules.ts';

const at = (iso: string): number => Date.parse(iso);

function candidate(overrides: Partial<EngagementCandidate> & { deliveryId: string }): EngagementCandidate {
  return {
    subscriptionId: 'sub-1',
    kind: 'marketing',
    priority: PRIORITY.campaign,
    dueAtMs: at('2026-06-15T12:00:00Z'),
    timeZone: 'UTC',
    expiresAtMs: null,
    ...overrides,
  };
}

function settings(overrides: Partial<EngagementSettings> = {}): EngagementSettings {
  return { ...DEFAULT_ENGAGEMENT_SETTINGS, ...overrides };
}

function decide(
  candidates: EngagementCandidate[],
  nowIso: string,
  options: { settings?: EngagementSettings; recent?: Record<string, number> } = {},
) {
  return decideEngagement(candidates, {
    nowMs: at(nowIso),
    settings: options.settings ?? settings(),
    recentMarketingSends: new Map(Object.entries(options.recent ?? {})),
  });
}

// Noon UTC: outside the default 21:00–09:00 window in UTC, so only the cap is in play.
const MIDDAY_UTC = '2026-06-15T12:00:00Z';

describe('frequency cap', () => {
  it('suppresses the 4th marketing push in 24 h while a transactional one still goes', () => {
    const decisions = decide(
      [
        candidate({ deliveryId: 'promo', priority: PRIORITY.campaign }),
        candidate({ deliveryId: 'order-shipped', kind: 'transactional', priority: PRIORITY.transactional }),
      ],
      MIDDAY_UTC,
      { recent: { 'sub-1': 3 } },
    );
    expect(decisions.get('order-shipped')).toEqual({ action: 'send' });
    const promo = decisions.get('promo');
    expect(promo?.action).toBe('suppress');
    expect(promo).toMatchObject({ reason: expect.stringMatching(/^frequency_cap: 3 marketing pushes .*\(3 before this batch, 0 in it\).*cap of 3/) });
  });

  it('lets the 3rd marketing push in 24 h go', () => {
    const decisions = decide([candidate({ deliveryId: 'promo' })], MIDDAY_UTC, { recent: { 'sub-1': 2 } });
    expect(decisions.get('promo')).toEqual({ action: 'send' });
  });

  it('spends the cap on the highest priority first within a batch, whatever the batch order', () => {
    const batch = [
      candidate({ deliveryId: 'campaign', priority: priorityFor('marketing', 'api') }),
      candidate({ deliveryId: 'cart', priority: priorityFor('marketing', 'cart_reminder') }),
      candidate({ deliveryId: 'price-drop', priority: priorityFor('marketing', 'price_drop') }),
    ];
    for (const order of [batch, [...batch].reverse(), [batch[1]!, batch[0]!, batch[2]!]]) {
      const decisions = decide(order, MIDDAY_UTC, { recent: { 'sub-1': 2 } });
      expect(decisions.get('price-drop')).toEqual({ action: 'send' });
      expect(decisions.get('cart')).toMatchObject({ action: 'suppress', reason: expect.stringContaining('(2 before this batch, 1 in it)') });
      expect(decisions.get('campaign')?.action).toBe('suppress');
    }
  });

  it('breaks priority ties by earlier due time, then by delivery id', () => {
    const decisions = decide(
      [
        candidate({ deliveryId: 'a-later', priority: PRIORITY.back_in_stock, dueAtMs: at('2026-06-15T11:00:00Z') }),
        candidate({ deliveryId: 'z-earlier', priority: PRIORITY.price_drop, dueAtMs: at('2026-06-15T10:00:00Z') }),
        candidate({ deliveryId: 'b-same-time', priority: PRIORITY.back_in_stock, dueAtMs: at('2026-06-15T11:00:00Z') }),
      ],
      MIDDAY_UTC,
      { recent: { 'sub-1': 1 } },
    );
    expect(decisions.get('z-earlier')).toEqual({ action: 'send' });
    expect(decisions.get('a-later')).toEqual({ action: 'send' });
    expect(decisions.get('b-same-time')?.action).toBe('suppress');
  });

  it('neither caps nor counts transactional pushes', () => {
    const decisions = decide(
      [
        candidate({ deliveryId: 'receipt', kind: 'transactional', priority: PRIORITY.transactional }),
        candidate({ deliveryId: 'shipped', kind: 'transactional', priority: PRIORITY.transactional }),
        candidate({ deliveryId: 'promo' }),
      ],
      MIDDAY_UTC,
      { recent: { 'sub-1': 2 } },
    );
    expect([...decisions.values()]).toEqual([{ action: 'send' }, { action: 'send' }, { action: 'send' }]);
  });

  it('counts each subscriber separately', () => {
    const decisions = decide(
      [candidate({ deliveryId: 'capped', subscriptionId: 'busy' }), candidate({ deliveryId: 'fresh', subscriptionId: 'quiet' })],
      MIDDAY_UTC,
      { recent: { busy: 3 } },
    );
    expect(decisions.get('capped')?.action).toBe('suppress');
    expect(decisions.get('fresh')).toEqual({ action: 'send' });
  });

  it('sends no marketing push at all with a cap of 0, transactional ones still go', () => {
    const decisions = decide(
      [candidate({ deliveryId: 'promo' }), candidate({ deliveryId: 'receipt', kind: 'transactional', priority: PRIORITY.transactional })],
      MIDDAY_UTC,
      { settings: settings({ frequencyCap: { marketingPer24h: 0 } }) },
    );
    expect(decisions.get('promo')).toMatchObject({ action: 'suppress', reason: expect.stringMatching(/^frequency_cap: .*0/) });
    expect(decisions.get('receipt')).toEqual({ action: 'send' });
  });

  it('refuses a batch that holds the same delivery twice (it would count twice against the cap)', () => {
    expect(() => decide([candidate({ deliveryId: 'd' }), candidate({ deliveryId: 'd' })], MIDDAY_UTC)).toThrow(TypeError);
  });
});

describe('priorityFor', () => {
  it('ranks transactional, then price drop and back in stock, then cart reminder, then campaigns', () => {
    expect(priorityFor('transactional', 'api')).toBe(40);
    expect(priorityFor('transactional', 'cart_reminder')).toBe(40);
    expect(priorityFor('marketing', 'price_drop')).toBe(30);
    expect(priorityFor('marketing', 'back_in_stock')).toBe(30);
    expect(priorityFor('marketing', 'cart_reminder')).toBe(20);
    expect(priorityFor('marketing', 'api')).toBe(10);
    expect(priorityFor('marketing', 'some_future_source')).toBe(PRIORITY.campaign);
  });
});

describe('quiet hours', () => {
  it('defers a push due at 23:00 local to 09:00 local, in Berlin and in New York', () => {
    const berlin = decide(
      [candidate({ deliveryId: 'berlin', timeZone: 'Europe/Berlin' })],
      '2026-06-15T21:00:00Z', // 23:00 CEST
    );
    expect(berlin.get('berlin')).toMatchObject({ action: 'defer', untilMs: at('2026-06-16T07:00:00Z') }); // 09:00 CEST

    const newYork = decide(
      [candidate({ deliveryId: 'new-york', timeZone: 'America/New_York' })],
      '2026-06-16T03:00:00Z', // 23:00 EDT on the 15th
    );
    expect(newYork.get('new-york')).toMatchObject({ action: 'defer', untilMs: at('2026-06-16T13:00:00Z') }); // 09:00 EDT
    expect(newYork.get('new-york')).toMatchObject({ reason: expect.stringMatching(/^quiet_hours: 23:00 in America\/New_York/) });
  });

  it('in one batch, each subscriber waits for 09:00 in their own zone', () => {
    const decisions = decide(
      [
        candidate({ deliveryId: 'new-york', subscriptionId: 'ny', timeZone: 'America/New_York' }),
        candidate({ deliveryId: 'berlin', subscriptionId: 'be', timeZone: 'Europe/Berlin' }),
        candidate({ deliveryId: 'tokyo', subscriptionId: 'tk', timeZone: 'Asia/Tokyo' }),
      ],
      '2026-06-16T03:00:00Z', // 23:00 in New York, 05:00 in Berlin, 12:00 in Tokyo
    );
    expect(decisions.get('new-york')).toMatchObject({ action: 'defer', untilMs: at('2026-06-16T13:00:00Z') });
    expect(decisions.get('berlin')).toMatchObject({ action: 'defer', untilMs: at('2026-06-16T07:00:00Z') });
    expect(decisions.get('tokyo')).toEqual({ action: 'send' });
  });

  it('lands at 09:00 local across the spring-forward night (Berlin 2026-03-29, New York 2026-03-08)', () => {
    // 23:00 CET (+1) → 09:00 CEST (+2): 10 wall-clock hours but only 9 real ones.
    const berlin = decide([candidate({ deliveryId: 'd', timeZone: 'Europe/Berlin' })], '2026-03-28T22:00:00Z');
    expect(berlin.get('d')).toMatchObject({ action: 'defer', untilMs: at('2026-03-29T07:00:00Z') });
    // 23:00 EST (−5) → 09:00 EDT (−4).
    const newYork = decide([candidate({ deliveryId: 'd', timeZone: 'America/New_York' })], '2026-03-08T04:00:00Z');
    expect(newYork.get('d')).toMatchObject({ action: 'defer', untilMs: at('2026-03-08T13:00:00Z') });
  });

  it('lands at 09:00 local across the fall-back night (Berlin 2026-10-25, New York 2026-11-01)', () => {
    // 23:00 CEST (+2) → 09:00 CET (+1): 11 real hours.
    const berlin = decide([candidate({ deliveryId: 'd', timeZone: 'Europe/Berlin' })], '2026-10-24T21:00:00Z');
    expect(berlin.get('d')).toMatchObject({ action: 'defer', untilMs: at('2026-10-25T08:00:00Z') });
    // 23:00 EDT (−4) → 09:00 EST (−5).
    const newYork = decide([candidate({ deliveryId: 'd', timeZone: 'America/New_York' })], '2026-11-01T03:00:00Z');
    expect(newYork.get('d')).toMatchObject({ action: 'defer', untilMs: at('2026-11-01T14:00:00Z') });
  });

  it('handles a time zone with a non-hour offset (Asia/Kolkata, +05:30)', () => {
    const quietHours = DEFAULT_ENGAGEMENT_SETTINGS.quietHours;
    // 23:00 IST → 09:00 IST next day = 03:30 UTC.
    expect(quietHoursEnd(at('2026-06-15T17:30:00Z'), 'Asia/Kolkata', quietHours)).toBe(at('2026-06-16T03:30:00Z'));
    // 08:59 IST is still quiet, 09:00 IST is not; 20:59 IST is not, 21:00 IST is.
    expect(quietHoursEnd(at('2026-06-16T03:29:00Z'), 'Asia/Kolkata', quietHours)).toBe(at('2026-06-16T03:30:00Z'));
    expect(quietHoursEnd(at('2026-06-16T03:30:00Z'), 'Asia/Kolkata', quietHours)).toBeNull();
    expect(quietHoursEnd(at('2026-06-16T15:29:00Z'), 'Asia/Kolkata', quietHours)).toBeNull();
    expect(quietHoursEnd(at('2026-06-16T15:30:00Z'), 'Asia/Kolkata', quietHours)).toBe(at('2026-06-17T03:30:00Z'));
    const decisions = decide([candidate({ deliveryId: 'd', timeZone: 'Asia/Kolkata' })], '2026-06-15T17:30:00Z');
    expect(decisions.get('d')).toMatchObject({ action: 'defer', untilMs: at('2026-06-16T03:30:00Z') });
  });

  it('handles a 45-minute offset and a 30-minute DST shift (Asia/Kathmandu, Australia/Lord_Howe)', () => {
    const quietHours = DEFAULT_ENGAGEMENT_SETTINGS.quietHours;
    // Kathmandu is +05:45: 09:00 local = 03:15 UTC.
    expect(quietHoursEnd(at('2026-06-15T17:15:00Z'), 'Asia/Kathmandu', quietHours)).toBe(at('2026-06-16T03:15:00Z'));
    // Lord Howe moves from +11 to +10:30 at 02:00 local on 2026-04-05: 23:00 on the 4th (+11) →
    // 09:00 on the 5th (+10:30) = 22:30 UTC on the 4th.
    expect(quietHoursEnd(at('2026-04-04T12:00:00Z'), 'Australia/Lord_Howe', quietHours)).toBe(at('2026-04-04T22:30:00Z'));
  });

  it('applies a window that does not wrap midnight (13:00–14:00) only between its ends', () => {
    const lunch = settings({ quietHours: { enabled: true, start: '13:00', end: '14:00' } });
    const decideAt = (iso: string) => decide([candidate({ deliveryId: 'd', timeZone: 'Europe/Berlin' })], iso, { settings: lunch }).get('d');
    expect(decideAt('2026-06-15T10:59:00Z')).toEqual({ action: 'send' }); // 12:59 CEST
    expect(decideAt('2026-06-15T11:00:00Z')).toMatchObject({ action: 'defer', untilMs: at('2026-06-15T12:00:00Z') }); // 13:00
    expect(decideAt('2026-06-15T11:30:00Z')).toMatchObject({ action: 'defer', untilMs: at('2026-06-15T12:00:00Z') }); // 13:30
    expect(decideAt('2026-06-15T12:00:00Z')).toEqual({ action: 'send' }); // 14:00
    expect(decideAt('2026-06-15T21:00:00Z')).toEqual({ action: 'send' }); // 23:00
  });

  it('suppresses with a reason when the TTL would elapse before the window ends, defers when it would not', () => {
    const now = '2026-06-15T21:00:00Z'; // 23:00 in Berlin, window ends 07:00Z
    const decisions = decide(
      [
        candidate({ deliveryId: 'short-ttl', subscriptionId: 'a', timeZone: 'Europe/Berlin', expiresAtMs: at('2026-06-16T01:00:00Z') }),
        candidate({ deliveryId: 'expires-at-end', subscriptionId: 'b', timeZone: 'Europe/Berlin', expiresAtMs: at('2026-06-16T07:00:00Z') }),
        candidate({ deliveryId: 'long-ttl', subscriptionId: 'c', timeZone: 'Europe/Berlin', expiresAtMs: at('2026-06-16T07:00:01Z') }),
        candidate({ deliveryId: 'no-ttl', subscriptionId: 'd', timeZone: 'Europe/Berlin', expiresAtMs: null }),
      ],
      now,
    );
    expect(decisions.get('short-ttl')).toMatchObject({
      action: 'suppress',
      reason: expect.stringMatching(/^quiet_hours: the TTL would elapse before quiet hours 21:00–09:00 end at 09:00 Europe\/Berlin \(2026-06-16T07:00:00.000Z\)/),
    });
    expect(decisions.get('expires-at-end')?.action).toBe('suppress');
    expect(decisions.get('long-ttl')).toMatchObject({ action: 'defer', untilMs: at('2026-06-16T07:00:00Z') });
    expect(decisions.get('no-ttl')).toMatchObject({ action: 'defer', untilMs: at('2026-06-16T07:00:00Z') });
  });

  it('sends at night when quiet hours are disabled', () => {
    const off = settings({ quietHours: { ...DEFAULT_ENGAGEMENT_SETTINGS.quietHours, enabled: false } });
    const decisions = decide([candidate({ deliveryId: 'd', timeZone: 'Europe/Berlin' })], '2026-06-15T21:00:00Z', { settings: off });
    expect(decisions.get('d')).toEqual({ action: 'send' });
  });

  it('lets transactional pushes through quiet hours', () => {
    const decisions = decide(
      [candidate({ deliveryId: 'd', kind: 'transactional', priority: PRIORITY.transactional, timeZone: 'Europe/Berlin' })],
      '2026-06-15T21:00:00Z',
    );
    expect(decisions.get('d')).toEqual({ action: 'send' });
  });

  it('neither spends the cap on deferred pushes nor checks it until they are sent', () => {
    // At the cap and inside quiet hours: deferred (the rolling window will have moved by morning).
    const decisions = decide([candidate({ deliveryId: 'd', timeZone: 'Europe/Berlin' })], '2026-06-15T21:00:00Z', {
      recent: { 'sub-1': 3 },
    });
    expect(decisions.get('d')).toMatchObject({ action: 'defer' });
  });

  it('uses the site default zone for a subscriber without a zone or with an unknown one', () => {
    const site = settings({ defaultTimeZone: 'America/New_York' });
    const now = '2026-06-16T03:00:00Z'; // 23:00 in New York, 03:00 in UTC, 05:00 in Berlin
    const decisions = decide(
      [
        candidate({ deliveryId: 'none', subscriptionId: 'a', timeZone: null }),
        candidate({ deliveryId: 'invalid', subscriptionId: 'b', timeZone: 'Mars/Olympus_Mons' }),
        candidate({ deliveryId: 'empty', subscriptionId: 'c', timeZone: '' }),
        candidate({ deliveryId: 'own', subscriptionId: 'd', timeZone: 'Europe/Berlin' }),
      ],
      now,
      { settings: site },
    );
    const newYorkMorning = at('2026-06-16T13:00:00Z');
    expect(decisions.get('none')).toMatchObject({ action: 'defer', untilMs: newYorkMorning });
    expect(decisions.get('invalid')).toMatchObject({ action: 'defer', untilMs: newYorkMorning });
    expect(decisions.get('empty')).toMatchObject({ action: 'defer', untilMs: newYorkMorning });
    expect(decisions.get('own')).toMatchObject({ action: 'defer', untilMs: at('2026-06-16T07:00:00Z') });
  });

  it('falls back to UTC when the site default zone is itself unknown', () => {
    const broken = settings({ defaultTimeZone: 'Not/AZone' });
    const decisions = decide([candidate({ deliveryId: 'd', timeZone: null })], '2026-06-15T23:00:00Z', { settings: broken });
    expect(decisions.get('d')).toMatchObject({ action: 'defer', untilMs: at('2026-06-16T09:00:00Z') });
    expect(DEFAULT_ENGAGEMENT_SETTINGS.defaultTimeZone).toBe('UTC');
  });
});

describe('quietHoursEnd', () => {
  const night = { start: '21:00', end: '09:00' };

  it('is null outside the window and at its end, set from its start on', () => {
    expect(quietHoursEnd(at('2026-06-15T20:59:59Z'), 'UTC', night)).toBeNull();
    expect(quietHoursEnd(at('2026-06-15T21:00:00Z'), 'UTC', night)).toBe(at('2026-06-16T09:00:00Z'));
    expect(quietHoursEnd(at('2026-06-16T00:00:00Z'), 'UTC', night)).toBe(at('2026-06-16T09:00:00Z'));
    expect(quietHoursEnd(at('2026-06-16T08:59:59Z'), 'UTC', night)).toBe(at('2026-06-16T09:00:00Z'));
    expect(quietHoursEnd(at('2026-06-16T09:00:00Z'), 'UTC', night)).toBeNull();
  });

  it('rolls over month and year ends', () => {
    expect(quietHoursEnd(at('2026-12-31T22:00:00Z'), 'UTC', night)).toBe(at('2027-01-01T09:00:00Z'));
  });

  it('ends at the first instant after a spring-forward gap when the end time does not exist that night', () => {
    // Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z). 01:30 CET is inside 21:00–02:30.
    expect(quietHoursEnd(at('2026-03-29T00:30:00Z'), 'Europe/Berlin', { start: '21:00', end: '02:30' })).toBe(at('2026-03-29T01:00:00Z'));
  });

  it('ends at the next occurrence of the end time in a fall-back overlap', () => {
    // Berlin 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z); 02:30 happens at 00:30Z and 01:30Z.
    const window = { start: '22:00', end: '02:30' };
    expect(quietHoursEnd(at('2026-10-25T00:15:00Z'), 'Europe/Berlin', window)).toBe(at('2026-10-25T00:30:00Z')); // first 02:15
    expect(quietHoursEnd(at('2026-10-25T01:15:00Z'), 'Europe/Berlin', window)).toBe(at('2026-10-25T01:30:00Z')); // second 02:15
  });

  it('refuses a malformed time and an unknown zone', () => {
    expect(() => quietHoursEnd(0, 'UTC', { start: '9pm', end: '09:00' })).toThrow(RangeError);
    expect(() => quietHoursEnd(0, 'Not/AZone', night)).toThrow(RangeError);
  });
});
