import { describe, expect, it } from 'vitest';
import {
  decideAbTest,
  MIN_DELIVERED_PER_VARIANT,
  normalCdf,
  twoProportionPValue,
  type VariantOutcome,
  wilsonInterval,
} from './ab-statistics.ts';

// Reference figures below were computed independently with SciPy (scipy.stats.norm) unless a
// published source is named.

const variant = (name: string, successes: number, delivered: number): VariantOutcome => ({ variant: name, delivered, successes });

/** |actual − expected| ≤ relative·|expected|: for tail probabilities, where absolute closeness says nothing. */
function expectRelativelyClose(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected));
}

describe('normalCdf', () => {
  it('matches the standard normal distribution in the middle and far in the tails', () => {
    // Numerical Recipes' erfcc bound: relative error below 1.2e-7 everywhere.
    expectRelativelyClose(normalCdf(0), 0.5, 1.2e-7);
    expectRelativelyClose(normalCdf(1.959963984540054), 0.975, 1.2e-7);
    expectRelativelyClose(normalCdf(-1.6448536269514722), 0.05, 1.2e-7);
    expectRelativelyClose(normalCdf(-5), 2.866515718791933e-7, 1.2e-7);
    expectRelativelyClose(normalCdf(-8), 6.22096057427174e-16, 1.2e-7);
    expectRelativelyClose(1 - normalCdf(3), 0.0013498980316300933, 1.2e-7);
  });
});

describe('wilsonInterval', () => {
  it('gives 23.7–76.3 % for 5 of 10 at 95 %, and wider or narrower at 99 % and 90 %', () => {
    const at95 = wilsonInterval(5, 10, 0.95);
    expect(at95.low).toBeCloseTo(0.236593090512564, 12);
    expect(at95.high).toBeCloseTo(0.7634069094874361, 12);
    const at99 = wilsonInterval(5, 10, 0.99);
    expect(at99.low).toBeCloseTo(0.1842255182472355, 12);
    expect(at99.high).toBeCloseTo(0.8157744817527646, 12);
    const at90 = wilsonInterval(5, 10, 0.9);
    expect(at90.low).toBeCloseTo(0.2692718211382672, 12);
    expect(at90.high).toBeCloseTo(0.7307281788617328, 12);
  });

  it("matches Newcombe's published Wilson intervals (Statistics in Medicine 17, 1998, table II)", () => {
    const cases: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [successes, n, low, high] of cases) {
      const interval = wilsonInterval(successes, n, 0.95);
      expect(interval.low).toBeCloseTo(low, 4);
      expect(interval.high).toBeCloseTo(high, 4);
    }
  });

  it('starts exactly at 0 with no successes and ends exactly at 1 with all successes (0/20, 20/20)', () => {
    expect(wilsonInterval(0, 20, 0.95)).toEqual({ low: 0, high: expect.closeTo(0.16112515805281938, 12) });
    expect(wilsonInterval(20, 20, 0.95)).toEqual({ low: expect.closeTo(0.8388748419471806, 12), high: 1 });
    // Where the formula alone rounds to 1.4e-17 and 0.9999999999999999.
    expect(wilsonInterval(0, 11, 0.9).low).toBe(0);
    expect(wilsonInterval(17, 17, 0.9).high).toBe(1);
  });

  it('says nothing (0–1) when nothing was delivered', () => {
    expect(wilsonInterval(0, 0, 0.95)).toEqual({ low: 0, high: 1 });
  });
});

describe('twoProportionPValue', () => {
  it("gives z = 5.0 for the Physicians' Health Study (aspirin: 104 of 11,037 heart attacks, placebo: 189 of 11,034)", () => {
    // Physicians' Health Study (NEJM 321, 1989), the textbook 2×2 example (e.g. Agresti,
    // Categorical Data Analysis): Pearson X² = 25.01 = z², so p ≈ 5.7e-7.
    expectRelativelyClose(twoProportionPValue({ successes: 189, delivered: 11_034 }, { successes: 104, delivered: 11_037 }), 5.691896973740836e-7, 1e-6);
  });

  it('is symmetric and two-sided (41 of 1000 against 30 of 1000: z = 1.33, p = 0.184)', () => {
    const a = { successes: 41, delivered: 1000 };
    const b = { successes: 30, delivered: 1000 };
    expect(twoProportionPValue(a, b)).toBeCloseTo(0.18375972424912712, 6);
    expect(twoProportionPValue(b, a)).toBeCloseTo(0.18375972424912712, 6);
  });

  it('is 1 when both rates are 0 or both are 100 %', () => {
    expect(twoProportionPValue({ successes: 0, delivered: 50 }, { successes: 0, delivered: 70 })).toBe(1);
    expect(twoProportionPValue({ successes: 50, delivered: 50 }, { successes: 70, delivered: 70 })).toBe(1);
  });
});

describe('decideAbTest', () => {
  it('calls a clear winner significant, with the leader first in the summary', () => {
    const decision = decideAbTest([variant('A', 30, 1000), variant('B', 80, 1000)], 'clicks', 0.95);
    expect(decision.leader).toBe('B');
    expect(decision.significant).toBe(true);
    expect(decision.minimumDelivered).toBe(true);
    expectRelativelyClose(decision.pValue!, 9.386508994983963e-7, 1e-6);
    expect(decision.results.map((r) => r.variant)).toEqual(['A', 'B']);
    expect(decision.results[1]).toEqual({
      variant: 'B',
      delivered: 1000,
      successes: 80,
      rate: 0.08,
      interval: { low: expect.closeTo(0.06474803809836388, 12), high: expect.closeTo(0.09846643902950242, 12) },
    });
    expect(decision.summary).toBe('B got 8.0 % clicks (6.5–9.8 %), A 3.0 % (2.1–4.3 %). B is ahead, and with 95 % confidence that is not chance.');
  });

  it('does not call a small difference on small counts (12 % against 8 % of 100 each)', () => {
    const decision = decideAbTest([variant('A', 12, 100), variant('B', 8, 100)], 'clicks', 0.95);
    expect(decision.leader).toBe('A');
    expect(decision.significant).toBe(false);
    expect(decision.pValue).toBeCloseTo(0.3457785861511604, 6);
    expect(decision.summary).toBe(
      'A got 12.0 % clicks (7.0–19.8 %), B 8.0 % (4.1–15.0 %). A is ahead, but the difference could be chance (p = 0.35); not enough to call a winner at 95 %.',
    );
  });

  it('corrects for the number of comparisons: a lead that wins against one rival does not win among four (Bonferroni)', () => {
    const leaderAndRival = [variant('A', 50, 1000), variant('B', 32, 1000)];
    const two = decideAbTest(leaderAndRival, 'clicks', 0.95);
    expect(two.significant).toBe(true);
    expect(two.pValue).toBeCloseTo(0.0423754342637657, 6);

    // C and D are far behind (p ≈ 1.6e-7 each), so Holm's step-down would still test A against B
    // at the full 5 %; Bonferroni tests it at 5 %/3.
    const four = decideAbTest([...leaderAndRival, variant('C', 10, 1000), variant('D', 10, 1000)], 'clicks', 0.95);
    expect(four.leader).toBe('A');
    expect(four.significant).toBe(false);
    expect(four.pValue).toBeCloseTo(3 * 0.0423754342637657, 6);
    expect(four.summary).toBe(
      'A got 5.0 % clicks (3.8–6.5 %), B 3.2 % (2.3–4.5 %), C 1.0 % (0.54–1.8 %), D 1.0 % (0.54–1.8 %). A is ahead, but the difference could be chance (p = 0.13); not enough to call a winner at 95 %.',
    );
  });

  it('says "ahead of all the others" when a leader among several wins', () => {
    const decision = decideAbTest([variant('A', 30, 1000), variant('B', 30, 1000), variant('C', 80, 1000)], 'clicks', 0.95);
    expect(decision.significant).toBe(true);
    expect(decision.summary).toMatch(/C is ahead of all the others, and with 95 % confidence that is not chance\.$/);
  });

  it('speaks of conversions, and the same result is a winner at 95 % but not at 99 %', () => {
    const outcomes = [variant('A', 26, 2000), variant('B', 12, 2000)];
    const at95 = decideAbTest(outcomes, 'conversions', 0.95);
    expect(at95.significant).toBe(true);
    expect(at95.pValue).toBeCloseTo(0.022491401014902285, 6);
    expect(at95.summary).toBe('A got 1.3 % conversions (0.89–1.9 %), B 0.60 % (0.34–1.0 %). A is ahead, and with 95 % confidence that is not chance.');
    const at99 = decideAbTest(outcomes, 'conversions', 0.99);
    expect(at99.significant).toBe(false);
    expect(at99.summary).toBe(
      'A got 1.3 % conversions (0.79–2.1 %), B 0.60 % (0.29–1.2 %). A is ahead, but the difference could be chance (p = 0.02); not enough to call a winner at 99 %.',
    );
  });

  it('gives a tie to the earliest variant and never calls it, even with different delivery counts', () => {
    const decision = decideAbTest([variant('A', 3, 100), variant('B', 30, 1000), variant('C', 10, 1000)], 'clicks', 0.9);
    expect(decision.leader).toBe('A');
    expect(decision.significant).toBe(false);
    expect(decision.pValue).toBe(1);
    expect(decision.summary).toMatch(/ A and B are level: not enough to call a winner at 90 %\.$/);
    expect(decideAbTest([variant('A', 10, 1000), variant('B', 30, 1000), variant('C', 30, 1000)], 'clicks', 0.9).leader).toBe('B');
  });

  it('does not trust the z-test with fewer than 5 expected clicks per variant (5 of 30 against 0 of 30)', () => {
    const decision = decideAbTest([variant('A', 5, 30), variant('B', 0, 30)], 'clicks', 0.95);
    expect(decision.minimumDelivered).toBe(true);
    // The z-test alone would call it (p = 0.0195 < 0.05); Fisher's exact test gives 0.05.
    expect(decision.pValue).toBeCloseTo(0.01951748118217775, 6);
    expect(decision.significant).toBe(false);
    expect(decision.summary).toBe(
      'A got 16.7 % clicks (7.3–33.6 %), B 0 % (0–11.4 %). A is ahead, but there are too few clicks so far to tell a difference from chance; not enough to call a winner at 95 %.',
    );
  });

  it(`never calls a winner while a variant has fewer than ${MIN_DELIVERED_PER_VARIANT} deliveries`, () => {
    const decision = decideAbTest([variant('A', 20, 29), variant('B', 0, 29)], 'clicks', 0.95);
    expect(decision.leader).toBe('A');
    expect(decision.minimumDelivered).toBe(false);
    expect(decision.pValue!).toBeLessThan(1e-6);
    expect(decision.significant).toBe(false);
    expect(decision.summary).toBe(
      'A got 69.0 % clicks (50.8–82.7 %), B 0 % (0–11.7 %). Too early to tell: every variant needs at least 30 delivered pushes, and A has 29 and B has 29.',
    );
    expect(decideAbTest([variant('A', 20, 30), variant('B', 0, 30)], 'clicks', 0.95).significant).toBe(true);
  });

  it('has no leader and no p-value when nothing was delivered', () => {
    const decision = decideAbTest([variant('A', 0, 0), variant('B', 0, 0)], 'clicks', 0.95);
    expect(decision).toEqual({
      results: [
        { variant: 'A', delivered: 0, successes: 0, rate: 0, interval: { low: 0, high: 1 } },
        { variant: 'B', delivered: 0, successes: 0, rate: 0, interval: { low: 0, high: 1 } },
      ],
      leader: null,
      significant: false,
      pValue: null,
      minimumDelivered: false,
      summary: 'Nothing has been delivered yet, so there is nothing to compare.',
    });
  });

  it('leads with a delivered variant over an undelivered one, and gives no p-value while one has no deliveries', () => {
    const decision = decideAbTest([variant('A', 0, 0), variant('B', 0, 50)], 'clicks', 0.95);
    expect(decision.leader).toBe('B');
    expect(decision.pValue).toBeNull();
    expect(decision.significant).toBe(false);
    expect(decision.summary).toBe(
      'B got 0 % clicks (0–7.1 %), A nothing delivered yet. Too early to tell: every variant needs at least 30 delivered pushes, and A has 0.',
    );
  });

  it('rejects malformed input with a RangeError that says what is wrong', () => {
    const ok = variant('B', 1, 10);
    const cases: [VariantOutcome[], RegExp][] = [
      [[variant('A', 1, 10)], /2 to 4 variants, got 1/],
      [[variant('A', 1, 10), ok, variant('C', 1, 10), variant('D', 1, 10), variant('E', 1, 10)], /2 to 4 variants, got 5/],
      [[variant('A', 1, 10.5), ok], /Variant A: delivered must be a whole number ≥ 0, got 10.5/],
      [[variant('A', 1, -10), ok], /Variant A: delivered must be a whole number ≥ 0/],
      [[variant('A', Number.NaN, 10), ok], /Variant A: successes must be a whole number ≥ 0, got NaN/],
      [[variant('A', 1.5, 10), ok], /Variant A: successes must be a whole number/],
      [[variant('A', 11, 10), ok], /Variant A: 11 successes but only 10 delivered/],
      [[variant('B', 1, 10), ok], /Variant B appears more than once/],
      [[variant('', 1, 10), ok], /Every variant needs a name/],
    ];
    for (const [outcomes, message] of cases) {
      expect(() => decideAbTest(outcomes, 'clicks', 0.95)).toThrow(RangeError);
      expect(() => decideAbTest(outcomes, 'clicks', 0.95)).toThrow(message);
    }
    expect(() => decideAbTest([variant('A', 1, 10), ok], 'clicks', 0.8 as never)).toThrow(/Unknown confidence level 0.8/);
    expect(() => decideAbTest([variant('A', 1, 10), ok], 'opens' as never, 0.95)).toThrow(/Unknown A\/B metric "opens"/);
  });
});
