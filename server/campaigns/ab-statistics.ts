/**
 * A/B test statistics for campaigns: each variant's rate (clicks or conversions per delivered
 * push) with its Wilson score interval, and whether the leading variant beats every other one at
 * the owner's confidence level — the decision that sends the winner to the rest of the audience or
 * falls back to the owner's choice. Pure arithmetic: no I/O, no clock, the same on Node and Workers.
 */

export type AbMetric = 'clicks' | 'conversions';
export type AbConfidence = 0.9 | 0.95 | 0.99;

export interface VariantOutcome {
  variant: string;
  delivered: number;
  successes: number;
}

export interface VariantResult {
  variant: string;
  delivered: number;
  successes: number;
  /** successes / delivered; 0 when nothing was delivered. */
  rate: number;
  /** Wilson score interval of `rate` at the confidence level; 0–1 when nothing was delivered. */
  interval: { low: number; high: number };
}

export interface AbDecision {
  /** One per variant, in the input order. */
  results: VariantResult[];
  /** The variant with the highest rate among those with deliveries (ties: the earliest); null when nothing was delivered. */
  leader: string | null;
  /** The leader beats every other variant at the confidence level (Bonferroni-corrected, two-sided pooled z-tests). */
  significant: boolean;
  /** The largest Bonferroni-corrected p-value among the leader-vs-other comparisons; null when some variant has no deliveries (no test is possible). */
  pValue: number | null;
  /** False when some variant has fewer than MIN_DELIVERED_PER_VARIANT deliveries; then never significant. */
  minimumDelivered: boolean;
  /** What it means, in one or two sentences for a shop owner. */
  summary: string;
}

/**
 * Below this many delivered pushes in any variant no winner is called, whatever the test says. A
 * floor against calling a test on its first batch, not the statistics: at 30 deliveries a
 * variant's 95 % Wilson interval still spans 0–11.4 % with no click and 33–67 % at half, so a call
 * would rest on a handful of shoppers, and the first pushes of a send arrive together (same hour,
 * same push service), which so few cannot average out. Whether the z-test's normal approximation
 * holds at the rate seen is checked separately by MIN_EXPECTED_PER_VARIANT, which scales with the
 * rate (at a 3 % click rate it needs about 170 deliveries per variant).
 */
export const MIN_DELIVERED_PER_VARIANT = 30;

/**
 * The pooled z-test is the Pearson χ² test of the 2×2 table (z² = χ²), whose normal approximation
 * fails with few events; the usual rule is an expected count of at least 5 in every cell (Cochran,
 * "Some methods for strengthening the common χ² tests", Biometrics 10, 1954). Below it a comparison
 * is not trusted: e.g. 5 of 30 against 0 of 30 gives z-test p = 0.02, Fisher's exact test p = 0.05.
 */
export const MIN_EXPECTED_PER_VARIANT = 5;

/** Two-sided standard normal quantiles z(1 − (1 − c)/2), for the intervals. */
const Z_TWO_SIDED: Record<AbConfidence, number> = {
  0.9: 1.6448536269514722,
  0.95: 1.959963984540054,
  0.99: 2.5758293035489004,
};
/** 1 − confidence, written out (1 − 0.95 is 0.050000000000000044 in floating point). */
const ALPHA: Record<AbConfidence, number> = { 0.9: 0.1, 0.95: 0.05, 0.99: 0.01 };
const CONFIDENCES: readonly number[] = [0.9, 0.95, 0.99];
const METRICS: readonly string[] = ['clicks', 'conversions'];
const MIN_VARIANTS = 2;
const MAX_VARIANTS = 4;

/**
 * Complementary error function, Chebyshev fit `erfcc` from Press et al., Numerical Recipes in C,
 * 2nd ed., §6.2: fractional (relative) error below 1.2e-7 everywhere, so tail p-values such as
 * 1e-9 keep their leading digits, which an absolute-error fit like Abramowitz & Stegun 7.1.26
 * (±1.5e-7) would not.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Φ(x), the standard normal cumulative distribution function: ½·erfc(−x/√2). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/**
 * Wilson score interval (Wilson, "Probable inference…", JASA 22, 1927; recommended over the
 * Wald interval by Brown, Cai and DasGupta, Statistical Science 16, 2001): it stays inside 0–1 and
 * is not empty at 0 or 100 %, which matter here because click rates are small.
 */
export function wilsonInterval(successes: number, delivered: number, confidence: AbConfidence): { low: number; high: number } {
  if (delivered === 0) return { low: 0, high: 1 };
  const z = Z_TWO_SIDED[confidence];
  const n = delivered;
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const halfWidth = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  // Exact ends at 0 and n: the formula gives them up to rounding (e.g. 1e-17 instead of 0).
  return {
    low: successes === 0 ? 0 : Math.max(0, centre - halfWidth),
    high: successes === n ? 1 : Math.min(1, centre + halfWidth),
  };
}

/**
 * Two-proportion z-test with the pooled proportion (the null hypothesis is "same rate"), two-sided.
 * Two-sided because the leader is picked from the same data: a one-sided test in the direction
 * the data already point is a two-sided test at twice the level (with two equal variants, "A
 * beats B" or "B beats A" would each be called α of the time, 2α together). Returns p = 1 when
 * both rates are 0 or both 100 % (no variance, no difference).
 */
export function twoProportionPValue(a: { delivered: number; successes: number }, b: { delivered: number; successes: number }): number {
  if (a.delivered === 0 || b.delivered === 0) throw new RangeError('twoProportionPValue needs deliveries in both variants');
  const pooled = (a.successes + b.successes) / (a.delivered + b.delivered);
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / a.delivered + 1 / b.delivered));
  if (standardError === 0) return 1;
  const z = (a.successes / a.delivered - b.successes / b.delivered) / standardError;
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

function validate(outcomes: VariantOutcome[], metric: AbMetric, confidence: AbConfidence): void {
  if (!Array.isArray(outcomes) || outcomes.length < MIN_VARIANTS || outcomes.length > MAX_VARIANTS) {
    throw new RangeError(`An A/B test needs ${MIN_VARIANTS} to ${MAX_VARIANTS} variants, got ${Array.isArray(outcomes) ? outcomes.length : 'none'}`);
  }
  if (!METRICS.includes(metric)) throw new RangeError(`Unknown A/B metric ${JSON.stringify(metric)}: use "clicks" or "conversions"`);
  if (!CONFIDENCES.includes(confidence)) throw new RangeError(`Unknown confidence level ${String(confidence)}: use 0.9, 0.95 or 0.99`);
  const seen = new Set<string>();
  for (const { variant, delivered, successes } of outcomes) {
    if (typeof variant !== 'string' || variant === '') throw new RangeError('Every variant needs a name');
    if (seen.has(variant)) throw new RangeError(`Variant ${variant} appears more than once`);
    seen.add(variant);
    if (!Number.isSafeInteger(delivered) || delivered < 0) {
      throw new RangeError(`Variant ${variant}: delivered must be a whole number ≥ 0, got ${String(delivered)}`);
    }
    if (!Number.isSafeInteger(successes) || successes < 0) {
      throw new RangeError(`Variant ${variant}: successes must be a whole number ≥ 0, got ${String(successes)}`);
    }
    if (successes > delivered) throw new RangeError(`Variant ${variant}: ${successes} successes but only ${delivered} delivered`);
  }
}

/** A share as percent for reading: one decimal from 1 %, two significant digits below (0.60 %), 0 as "0". */
function percentNumber(share: number): string {
  const percent = share * 100;
  if (percent === 0) return '0';
  return percent >= 1 ? percent.toFixed(1) : percent.toPrecision(2);
}

function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

function listNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "B got 4.1 % clicks (3.6–4.7 %), A 3.0 % (2.6–3.5 %)." — the leader first, then the rest in input order. */
function describeResults(results: VariantResult[], leader: string, metric: AbMetric): string {
  const ordered = [...results.filter((r) => r.variant === leader), ...results.filter((r) => r.variant !== leader)];
  const parts = ordered.map((r, i) => {
    if (r.delivered === 0) return `${r.variant} nothing delivered yet`;
    const figure = `${percentNumber(r.rate)} %${i === 0 ? ` ${metric}` : ''} (${percentNumber(r.interval.low)}–${percentNumber(r.interval.high)} %)`;
    return `${r.variant}${i === 0 ? ' got' : ''} ${figure}`;
  });
  return `${parts.join(', ')}.`;
}

/**
 * Decides an A/B test: the leader is significant when it beats every other variant in a
 * two-sided pooled z-test at α/(k − 1) (Bonferroni, k variants), every variant has at least
 * MIN_DELIVERED_PER_VARIANT deliveries, and every comparison has at least MIN_EXPECTED_PER_VARIANT
 * expected successes and failures per variant.
 *
 * Why Bonferroni rather than Holm: a falsely called winner goes to the whole rest of the audience,
 * while a missed one only means the owner's fallback. With the union bound the chance of calling
 * a winner that is not truly better stays ≤ k·α/(2(k − 1)) ≤ α even though the leader is picked
 * from the data. Holm's step-down would test the closest rival at the full α once the clearly
 * worse variants are rejected, so adding variants would cost nothing against the one that matters
 * — the selection of the leader among k would go uncorrected.
 */
export function decideAbTest(outcomes: VariantOutcome[], metric: AbMetric, confidence: AbConfidence): AbDecision {
  validate(outcomes, metric, confidence);
  const results: VariantResult[] = outcomes.map(({ variant, delivered, successes }) => ({
    variant,
    delivered,
    successes,
    rate: delivered === 0 ? 0 : successes / delivered,
    interval: wilsonInterval(successes, delivered, confidence),
  }));
  const level = `${Math.round(confidence * 100)} %`;
  const noWinner = `not enough to call a winner at ${level}.`;

  let leaderResult: VariantResult | null = null;
  for (const r of results) {
    if (r.delivered > 0 && (leaderResult === null || r.rate > leaderResult.rate)) leaderResult = r;
  }
  const minimumDelivered = results.every((r) => r.delivered >= MIN_DELIVERED_PER_VARIANT);
  if (leaderResult === null) {
    return { results, leader: null, significant: false, pValue: null, minimumDelivered, summary: 'Nothing has been delivered yet, so there is nothing to compare.' };
  }
  const leader = leaderResult;
  const others = results.filter((r) => r !== leader);
  const comparisons = others.length;

  let pValue: number | null = null;
  if (others.every((r) => r.delivered > 0)) {
    pValue = Math.max(...others.map((r) => Math.min(1, comparisons * twoProportionPValue(leader, r))));
  }
  const described = describeResults(results, leader.variant, metric);
  const decision = (significant: boolean, sentence: string): AbDecision => ({
    results,
    leader: leader.variant,
    significant,
    pValue,
    minimumDelivered,
    summary: `${described} ${sentence}`,
  });

  if (!minimumDelivered) {
    const short = results.filter((r) => r.delivered < MIN_DELIVERED_PER_VARIANT).map((r) => `${r.variant} has ${r.delivered}`);
    return decision(false, `Too early to tell: every variant needs at least ${MIN_DELIVERED_PER_VARIANT} delivered pushes, and ${listNames(short)}.`);
  }
  const tied = others.filter((r) => r.rate === leader.rate).map((r) => r.variant);
  if (tied.length > 0) {
    return decision(false, `${listNames([leader.variant, ...tied])} are level: ${noWinner}`);
  }
  const singular = metric === 'clicks' ? 'click' : 'conversion';
  let tooFewSuccesses = false;
  let tooFewFailures = false;
  for (const r of others) {
    const pooled = (leader.successes + r.successes) / (leader.delivered + r.delivered);
    for (const n of [leader.delivered, r.delivered]) {
      if (n * pooled < MIN_EXPECTED_PER_VARIANT) tooFewSuccesses = true;
      if (n * (1 - pooled) < MIN_EXPECTED_PER_VARIANT) tooFewFailures = true;
    }
  }
  if (tooFewSuccesses || tooFewFailures) {
    const what = tooFewSuccesses ? `${metric} so far` : `pushes without a ${singular} so far`;
    return decision(false, `${leader.variant} is ahead, but there are too few ${what} to tell a difference from chance; ${noWinner}`);
  }
  // pValue is set: every variant has at least MIN_DELIVERED_PER_VARIANT (> 0) deliveries here.
  const p = pValue ?? 1;
  const ahead = comparisons > 1 ? `${leader.variant} is ahead of all the others` : `${leader.variant} is ahead`;
  if (p <= ALPHA[confidence]) {
    return decision(true, `${ahead}, and with ${level} confidence that is not chance.`);
  }
  return decision(false, `${leader.variant} is ahead, but the difference could be chance (${formatP(p)}); ${noWinner}`);
}
