import { describe, expect, it } from 'vitest';
import { heldOutNeeded, holdoutLift, rateRatioInterval, triggerName } from './lift.ts';

describe('rateRatioInterval (Katz log method)', () => {
  // Each row worked by hand: RR = (a/n₁)/(c/n₀), SE = √(1/a − 1/n₁ + 1/c − 1/n₀), RR·e^(±1.96·SE).
  it.each([
    // 6 % vs 4 %: RR 1.5, SE = √(0.016667 − 0.001 + 0.025 − 0.001) = 0.199165; e^(±0.390357) = 1.47752 / 0.67681
    { a: 60, n1: 1000, c: 40, n0: 1000, ratio: 1.5, low: 1.015224, high: 2.21626 },
    // the mirror image: 4 % vs 6 %, RR 2/3, same SE
    { a: 40, n1: 1000, c: 60, n0: 1000, ratio: 0.666667, low: 0.451211, high: 0.985005 },
    // 6.84 % of 20,000 vs 6 % of 10,000: RR 1.14, SE = √(1/1368 − 1/20000 + 1/600 − 1/10000) = 0.047410
    { a: 1368, n1: 20000, c: 600, n0: 10000, ratio: 1.14, low: 1.038843, high: 1.251007 },
    // equal rates: RR 1, SE = √(0.001 − 0.0001 + 0.01 − 0.001) = 0.099499; e^(±0.195016) = 1.215328 / 0.822823
    { a: 1000, n1: 10000, c: 100, n0: 1000, ratio: 1, low: 0.822823, high: 1.215328 },
  ])('$a/$n1 against $c/$n0 → $ratio ($low to $high)', ({ a, n1, c, n0, ratio, low, high }) => {
    const interval = rateRatioInterval({ ordered: a, subscribers: n1 }, { ordered: c, subscribers: n0 });
    expect(interval.ratio).toBeCloseTo(ratio, 5);
    expect(interval.low).toBeCloseTo(low, 5);
    expect(interval.high).toBeCloseTo(high, 4);
  });

  it('refuses a group without orders, where the log of the ratio is undefined', () => {
    expect(() => rateRatioInterval({ ordered: 0, subscribers: 100 }, { ordered: 5, subscribers: 100 })).toThrow(RangeError);
    expect(() => rateRatioInterval({ ordered: 5, subscribers: 100 }, { ordered: 0, subscribers: 100 })).toThrow(RangeError);
  });
});

describe('heldOutNeeded', () => {
  it.each([
    // nobody ordered: no rate to plan with
    { recipients: [0, 500], heldOut: [0, 50], needed: null },
    // 1 % together (11 of 1,100): 5 orders take 500 held-out shoppers
    { recipients: [10, 1000], heldOut: [1, 100], needed: 500 },
    // 30 % together: 5 orders would take 17, but never fewer than 100
    { recipients: [270, 900], heldOut: [30, 100], needed: 100 },
    // 3 of 2,000 together: 5 / 0.0015 = 3,333.3 → 3,334
    { recipients: [3, 1900], heldOut: [0, 100], needed: 3334 },
  ])('$recipients and $heldOut → $needed', ({ recipients, heldOut, needed }) => {
    expect(heldOutNeeded({ ordered: recipients[0]!, subscribers: recipients[1]! }, { ordered: heldOut[0]!, subscribers: heldOut[1]! })).toBe(needed);
  });
});

describe('holdoutLift reads the lift in plain words', () => {
  it.each([
    {
      source: 'cart_reminder',
      recipients: { ordered: 1368, subscribers: 20000 },
      heldOut: { ordered: 600, subscribers: 10000 },
      verdict: 'more',
      reading: 'Cart reminders brought 14 % more orders than the held-out group (95 % interval: 4 % to 25 %).',
    },
    {
      source: 'price_drop',
      recipients: { ordered: 40, subscribers: 1000 },
      heldOut: { ordered: 60, subscribers: 1000 },
      verdict: 'fewer',
      reading: 'Price-drop alerts brought 33 % fewer orders than the held-out group (95 % interval: 1 % to 55 % fewer).',
    },
    {
      // 5.7 % vs 5 %: RR 1.14, interval −21 % to 65 %
      source: 'back_in_stock',
      recipients: { ordered: 57, subscribers: 1000 },
      heldOut: { ordered: 50, subscribers: 1000 },
      verdict: 'unclear',
      reading: 'No clear difference yet: Back-in-stock alerts brought 14 % more orders than the held-out group, but the 95 % interval runs from −21 % to 65 %.',
    },
    {
      source: 'api',
      recipients: { ordered: 1000, subscribers: 10000 },
      heldOut: { ordered: 100, subscribers: 1000 },
      verdict: 'unclear',
      reading: 'No clear difference yet: Pushes sent through the API brought about as many orders as the held-out group, but the 95 % interval runs from −18 % to 22 %.',
    },
    {
      // 1 % ordered overall, so 500 held-out shoppers are needed to expect 5 orders among them
      source: 'cart_reminder',
      recipients: { ordered: 10, subscribers: 1000 },
      heldOut: { ordered: 1, subscribers: 100 },
      verdict: 'not_enough_data',
      reading: 'Not enough data yet: 100 held-out shoppers, at least 500 needed.',
    },
    {
      source: 'cart_reminder',
      recipients: { ordered: 0, subscribers: 300 },
      heldOut: { ordered: 0, subscribers: 30 },
      verdict: 'not_enough_data',
      reading: 'Not enough data yet: no orders so far from 300 recipients and 30 held-out shoppers.',
    },
    {
      // enough held-out shoppers for the overall rate (100 needed), but the held-out group ordered only 4 times
      source: 'campaign',
      recipients: { ordered: 200, subscribers: 1000 },
      heldOut: { ordered: 4, subscribers: 200 },
      verdict: 'not_enough_data',
      reading: 'Not enough data yet: 200 orders from recipients and 4 from held-out shoppers, at least 5 in each needed.',
    },
  ])('$source: $verdict', ({ source, recipients, heldOut, verdict, reading }) => {
    const lift = holdoutLift(source, recipients, heldOut);
    expect(lift.verdict).toBe(verdict);
    expect(lift.reading).toBe(reading);
    if (verdict === 'not_enough_data') {
      expect(lift.lift).toBeNull();
      expect(lift.interval).toBeNull();
    } else {
      expect(lift.interval!.low).toBeLessThan(lift.lift!);
      expect(lift.interval!.high).toBeGreaterThan(lift.lift!);
    }
  });

  it('gives the lift and its interval as shares', () => {
    const lift = holdoutLift('cart_reminder', { ordered: 60, subscribers: 1000 }, { ordered: 40, subscribers: 1000 });
    expect(lift.lift).toBeCloseTo(0.5, 10);
    expect(lift.interval!.low).toBeCloseTo(0.015224, 5);
    expect(lift.interval!.high).toBeCloseTo(1.21626, 4);
    expect(lift.reading).toBe('Cart reminders brought 50 % more orders than the held-out group (95 % interval: 2 % to 122 %).');
  });

  it('names a source it does not know by its key', () => {
    expect(triggerName('win_back')).toBe('Pushes from “win_back”');
  });
});
