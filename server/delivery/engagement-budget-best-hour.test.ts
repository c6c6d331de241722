import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGAGEMENT_SETTINGS, type EngagementSettings } from '../sites/engagement-settings.ts';
import { bestHourOf, decideEngagement, marketingBudgetPerWeek, nextBestInstant, PRIORITY, type BudgetFacts, type EngagementCandidate } from './engagement-rules.ts';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

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

function settings(overrides: { budget?: Partial<EngagementSettings['budget']>; marketingPer24h?: number; quietHours?: boolean } = {}): EngagementSettings {
  return {
    ...DEFAULT_ENGAGEMENT_SETTINGS,
    frequencyCap: { marketingPer24h: overrides.marketingPer24h ?? 3 },
    quietHours: { ...DEFAULT_ENGAGEMENT_SETTINGS.quietHours, enabled: overrides.quietHours ?? true },
    budget: { ...DEFAULT_ENGAGEMENT_SETTINGS.budget, ...overrides.budget },
  };
}

function decide(candidates: EngagementCandidate[], nowIso: string, options: { settings?: EngagementSettings; budget?: Record<string, BudgetFacts> } = {}) {
  return decideEngagement(candidates, {
    nowMs: at(nowIso),
    settings: options.settings ?? settings(),
    recentMarketingSends: new Map(),
    budget: new Map(Object.entries(options.budget ?? {})),
  });
}

const MIDDAY_UTC = '2026-06-15T12:00:00Z';

describe('engagement budget', () => {
  it('is the frequency cap’s week while the subscriber clicks, and halves every 3 ignored pushes down to the floor of 1', () => {
    const defaults = settings();
    const byIgnored = Array.from({ length: 16 }, (_, ignored) => marketingBudgetPerWeek(ignored, defaults));
    expect(byIgnored).toEqual([21, 21, 21, 10, 10, 10, 5, 5, 5, 2, 2, 2, 1, 1, 1, 1]);
    expect(marketingBudgetPerWeek(10_000, defaults)).toBe(1);
  });

  it('follows the site’s halving step and floor; a floor of 0 stops marketing to one who ignores everything', () => {
    expect(marketingBudgetPerWeek(2, settings({ budget: { ignoredPerHalving: 2 } }))).toBe(10);
    expect(marketingBudgetPerWeek(12, settings({ budget: { minPerWeek: 0 } }))).toBe(1);
    expect(marketingBudgetPerWeek(15, settings({ budget: { minPerWeek: 0 } }))).toBe(0);
    expect(marketingBudgetPerWeek(15, settings({ budget: { minPerWeek: 3 } }))).toBe(3);
  });

  it('never raises the allowance above the frequency cap’s: a floor over a cap of 0 is still 0', () => {
    expect(marketingBudgetPerWeek(0, settings({ marketingPer24h: 0, budget: { minPerWeek: 2 } }))).toBe(0);
  });

  it('suppresses a marketing push over the shrunken budget with the engagement_budget reason; a transactional one still goes', () => {
    const decisions = decide(
      [candidate({ deliveryId: 'promo' }), candidate({ deliveryId: 'order-shipped', kind: 'transactional', priority: PRIORITY.transactional })],
      MIDDAY_UTC,
      { budget: { 'sub-1': { sentInWindow: 5, ignoredInARow: 6 } } },
    );
    expect(decisions.get('order-shipped')).toEqual({ action: 'send' });
    expect(decisions.get('promo')).toMatchObject({
      action: 'suppress',
      rule: 'engagement_budget',
      reason: expect.stringMatching(/^engagement_budget: 6 marketing pushes in a row went unclicked, so this subscriber's budget is 5 per 7 days, and 5 were sent/),
    });
  });

  it('lets the push under the budget go, and spends the budget within the batch in priority order', () => {
    const decisions = decide(
      [
        candidate({ deliveryId: 'campaign', priority: PRIORITY.campaign }),
        candidate({ deliveryId: 'price-drop', priority: PRIORITY.price_drop }),
      ],
      MIDDAY_UTC,
      { budget: { 'sub-1': { sentInWindow: 4, ignoredInARow: 7 } } },
    );
    expect(decisions.get('price-drop')).toEqual({ action: 'send' });
    expect(decisions.get('campaign')).toMatchObject({ action: 'suppress', rule: 'engagement_budget', reason: expect.stringContaining('(4 before this batch, 1 in it)') });
  });

  it('recovers at once when the ignored count starts again after a click', () => {
    const over = decide([candidate({ deliveryId: 'promo' })], MIDDAY_UTC, { budget: { 'sub-1': { sentInWindow: 2, ignoredInARow: 12 } } });
    expect(over.get('promo')).toMatchObject({ action: 'suppress', rule: 'engagement_budget' });
    const clicked = decide([candidate({ deliveryId: 'promo' })], MIDDAY_UTC, { budget: { 'sub-1': { sentInWindow: 2, ignoredInARow: 0 } } });
    expect(clicked.get('promo')).toEqual({ action: 'send' });
  });

  it('does nothing when the site switched it off', () => {
    const decisions = decide([candidate({ deliveryId: 'promo' })], MIDDAY_UTC, {
      settings: settings({ budget: { enabled: false } }),
      budget: { 'sub-1': { sentInWindow: 9, ignoredInARow: 40 } },
    });
    expect(decisions.get('promo')).toEqual({ action: 'send' });
  });
});

describe('best hour of a shopper', () => {
  const hours = (points: Record<number, number>): number[] => Array.from({ length: 24 }, (_, hour) => points[hour] ?? 0);
  const quiet = { enabled: true, start: '21:00', end: '09:00' };

  it('is the hour with the most clicks and visits', () => {
    expect(bestHourOf(hours({ 10: 2, 19: 4, 13: 1 }), 5, quiet)).toBe(19);
  });

  it('takes the earlier hour on a tie, so the same history gives the same hour', () => {
    expect(bestHourOf(hours({ 18: 3, 11: 3 }), 5, quiet)).toBe(11);
  });

  it('leaves out hours inside quiet hours, the points there included', () => {
    expect(bestHourOf(hours({ 23: 9, 20: 3, 12: 2 }), 5, quiet)).toBe(20);
    expect(bestHourOf(hours({ 23: 9, 20: 3 }), 5, quiet)).toBeNull();
    expect(bestHourOf(hours({ 23: 9, 20: 3 }), 5, { ...quiet, enabled: false })).toBe(23);
    // A window ending at 09:30 covers 09:00, the first minute of hour 9.
    expect(bestHourOf(hours({ 9: 6, 14: 1 }), 1, { enabled: true, start: '21:00', end: '09:30' })).toBe(14);
  });

  it('is none with fewer than the minimum data points', () => {
    expect(bestHourOf(hours({ 10: 2, 19: 2 }), 5, quiet)).toBeNull();
    expect(bestHourOf(hours({}), 1, quiet)).toBeNull();
  });
});

describe('next best instant', () => {
  it('is now when the shopper’s clock already reads the best hour', () => {
    expect(iso(nextBestInstant(at('2026-06-15T17:40:00Z'), 19, 'Europe/Berlin'))).toBe('2026-06-15T17:40:00.000Z'); // 19:40 CEST
  });

  it('is later today, or tomorrow once the hour has passed', () => {
    expect(iso(nextBestInstant(at('2026-06-15T08:10:00Z'), 19, 'Europe/Berlin'))).toBe('2026-06-15T17:00:00.000Z');
    expect(iso(nextBestInstant(at('2026-06-15T19:10:00Z'), 19, 'Europe/Berlin'))).toBe('2026-06-16T17:00:00.000Z'); // 21:10 CEST
  });

  it('is 25 hours away across the fall-back night, at the new offset', () => {
    // Berlin goes from CEST (+2) to CET (+1) at 03:00 on 25 Oct 2026.
    expect(iso(nextBestInstant(at('2026-10-24T07:00:00Z'), 8, 'Europe/Berlin'))).toBe('2026-10-25T07:00:00.000Z');
  });

  it('takes the first 02:00 of a fall-back night, and stays in the hour during the repeated one', () => {
    expect(iso(nextBestInstant(at('2026-10-24T22:00:00Z'), 2, 'Europe/Berlin'))).toBe('2026-10-25T00:00:00.000Z'); // 02:00 CEST
    expect(iso(nextBestInstant(at('2026-10-25T01:20:00Z'), 2, 'Europe/Berlin'))).toBe('2026-10-25T01:20:00.000Z'); // 02:20 CET
  });

  it('is the jump past the gap when spring-forward swallows the hour', () => {
    // 28 Mar 2027 in Berlin: 02:00 CET becomes 03:00 CEST at 01:00Z.
    expect(iso(nextBestInstant(at('2027-03-27T12:00:00Z'), 2, 'Europe/Berlin'))).toBe('2027-03-28T01:00:00.000Z');
  });

  it('is 23 hours away across a spring-forward night in New York', () => {
    // 14 Mar 2027: EST (−5) to EDT (−4). 10:00 EST on the 13th → 09:00 EDT on the 14th.
    expect(iso(nextBestInstant(at('2027-03-13T15:00:00Z'), 9, 'America/New_York'))).toBe('2027-03-14T13:00:00.000Z');
  });

  it('handles a half-hour zone', () => {
    // Kolkata is +05:30: 16:00 IST is 10:30Z.
    expect(iso(nextBestInstant(at('2026-06-15T03:00:00Z'), 16, 'Asia/Kolkata'))).toBe('2026-06-15T10:30:00.000Z');
  });
});

describe('best-hour deferral', () => {
  const berlin = (overrides: Partial<EngagementCandidate> & { deliveryId: string }) =>
    candidate({ timeZone: 'Europe/Berlin', dueAtMs: at('2026-06-15T08:00:00Z'), ...overrides });

  it('defers a best-hour push until the shopper’s best hour, given back to the queue with its reason', () => {
    const decisions = decide([berlin({ deliveryId: 'promo', bestHour: { hour: 19, basis: 'own' } })], '2026-06-15T08:00:05Z');
    expect(decisions.get('promo')).toEqual({
      action: 'defer',
      rule: 'best_hour',
      untilMs: at('2026-06-15T17:00:00Z'),
      reason: 'best_hour: this shopper most often clicks or visits at 19:00 in Europe/Berlin; deferred until 2026-06-15T17:00:00.000Z',
    });
  });

  it('sends once the best hour has come (the deferred push comes back at its due time)', () => {
    const decisions = decide([berlin({ deliveryId: 'promo', bestHour: { hour: 19, basis: 'own' } })], '2026-06-15T17:00:00Z');
    expect(decisions.get('promo')).toEqual({ action: 'send' });
  });

  it('sends at its own time when the best hour would come after its TTL', () => {
    const decisions = decide([berlin({ deliveryId: 'promo', bestHour: { hour: 19, basis: 'site' }, expiresAtMs: at('2026-06-15T16:00:00Z') })], '2026-06-15T08:00:05Z');
    expect(decisions.get('promo')).toEqual({ action: 'send' });
  });

  it('leaves a push without a best hour to the other rules', () => {
    const decisions = decide([berlin({ deliveryId: 'promo', bestHour: null })], '2026-06-15T08:00:05Z');
    // 10:00 in Berlin: outside quiet hours, under the cap and the budget.
    expect(decisions.get('promo')).toEqual({ action: 'send' });
  });

  it('names the site’s shoppers when their hour was used', () => {
    const decisions = decide([berlin({ deliveryId: 'promo', bestHour: { hour: 12, basis: 'site' } })], '2026-06-15T08:00:05Z');
    expect(decisions.get('promo')).toMatchObject({ action: 'defer', untilMs: at('2026-06-15T10:00:00Z'), reason: expect.stringContaining('the site’s shoppers') });
  });
});
