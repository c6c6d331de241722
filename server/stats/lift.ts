/**
 * Holdout lift: how much more (or less) often the shoppers a trigger pushed to ordered than the
 * shoppers it deliberately held out, with a 95 % interval, and the same in plain words.
 */

export interface OrderGroup {
  /** Deliveries assigned to the group (one per shopper and push). */
  subscribers: number;
  /** Of those, how many were followed by an order within the attribution window. */
  ordered: number;
}

export type LiftVerdict = 'more' | 'fewer' | 'unclear' | 'not_enough_data';

export interface Lift {
  verdict: LiftVerdict;
  /** Relative lift of the order rate: recipients' rate / held-out rate − 1 (0.14 = 14 % more); null without enough data. */
  lift: number | null;
  /** The 95 % interval of `lift`; null without enough data. */
  interval: { low: number; high: number } | null;
  /** Held-out shoppers needed before an interval is given, at the order rate seen so far; null while no one has ordered. */
  heldOutNeeded: number | null;
  reading: string;
}

/**
 * Below this many held-out shoppers no interval is given, whatever the order rate: a handful of
 * shoppers says more about who they happened to be than about the pushes.
 */
export const MIN_HELD_OUT_SUBSCRIBERS = 100;
/**
 * Orders needed in each group. Katz's interval treats ln(rate ratio) as normally distributed, an
 * approximation that fails with very few events; the usual rule for such approximations is an
 * expected count of at least 5 per cell (Cochran, "Some methods for strengthening the common χ²
 * tests", Biometrics 10, 1954).
 */
export const MIN_ORDERS_PER_GROUP = 5;
/** The 97.5th percentile of the standard normal distribution: a two-sided 95 % interval. */
const Z_95 = 1.959963984540054;

/**
 * The rate ratio of two independent proportions with Katz's log method (Katz, Baptista, Azen and
 * Pike, "Obtaining confidence intervals for the risk ratio in cohort studies", Biometrics 34,
 * 1978): ln(RR) ± z·√(1/a − 1/n₁ + 1/c − 1/n₀), where a of n₁ recipients and c of n₀ held-out
 * shoppers ordered. A closed form, so the figures are the same on every request (no bootstrap).
 */
export function rateRatioInterval(recipients: OrderGroup, heldOut: OrderGroup): { ratio: number; low: number; high: number } {
  const a = recipients.ordered;
  const n1 = recipients.subscribers;
  const c = heldOut.ordered;
  const n0 = heldOut.subscribers;
  if (a <= 0 || c <= 0 || n1 <= 0 || n0 <= 0) throw new RangeError('rateRatioInterval needs at least one order and one shopper in each group');
  const ratio = a / n1 / (c / n0);
  const standardError = Math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0);
  return { ratio, low: ratio * Math.exp(-Z_95 * standardError), high: ratio * Math.exp(Z_95 * standardError) };
}

/**
 * The held-out group size at which, at the order rate of both groups together, the held-out
 * group can be expected to reach MIN_ORDERS_PER_GROUP orders (and never fewer than
 * MIN_HELD_OUT_SUBSCRIBERS); null while no one has ordered, as no rate is known yet.
 */
export function heldOutNeeded(recipients: OrderGroup, heldOut: OrderGroup): number | null {
  const shoppers = recipients.subscribers + heldOut.subscribers;
  const orders = recipients.ordered + heldOut.ordered;
  if (orders === 0 || shoppers === 0) return null;
  return Math.max(MIN_HELD_OUT_SUBSCRIBERS, Math.ceil(MIN_ORDERS_PER_GROUP / (orders / shoppers)));
}

const TRIGGER_NAMES: Record<string, string> = {
  cart_reminder: 'Cart reminders',
  price_drop: 'Price-drop alerts',
  back_in_stock: 'Back-in-stock alerts',
  low_stock: 'Low-stock alerts',
  welcome: 'Welcome pushes',
  reactivation: 'Reactivation pushes',
  api: 'Pushes sent through the API',
  campaign: 'Campaigns',
  birthday: 'Birthday pushes',
};

/** The name a shop owner reads for a notification source. */
export function triggerName(source: string): string {
  return TRIGGER_NAMES[source] ?? `Pushes from “${source}”`;
}

/** A share as whole percent, with a real minus sign (read as "minus", not "dash"). */
function percent(share: number): string {
  const rounded = Math.round(share * 100);
  return `${rounded < 0 ? '−' : ''}${Math.abs(rounded)} %`;
}

/** The lift of `source` from its two groups, and what it means in one sentence. */
export function holdoutLift(source: string, recipients: OrderGroup, heldOut: OrderGroup): Lift {
  const name = triggerName(source);
  const needed = heldOutNeeded(recipients, heldOut);
  const notEnough = (reading: string): Lift => ({ verdict: 'not_enough_data', lift: null, interval: null, heldOutNeeded: needed, reading });
  if (needed === null) {
    return notEnough(`Not enough data yet: no orders so far from ${recipients.subscribers} recipients and ${heldOut.subscribers} held-out shoppers.`);
  }
  if (heldOut.subscribers < needed) {
    return notEnough(`Not enough data yet: ${heldOut.subscribers} held-out shoppers, at least ${needed} needed.`);
  }
  if (recipients.ordered < MIN_ORDERS_PER_GROUP || heldOut.ordered < MIN_ORDERS_PER_GROUP) {
    return notEnough(
      `Not enough data yet: ${recipients.ordered} orders from recipients and ${heldOut.ordered} from held-out shoppers, at least ${MIN_ORDERS_PER_GROUP} in each needed.`,
    );
  }
  const { ratio, low, high } = rateRatioInterval(recipients, heldOut);
  const lift = ratio - 1;
  const interval = { low: low - 1, high: high - 1 };
  const range = `${percent(interval.low)} to ${percent(interval.high)}`;
  if (interval.low > 0) {
    return { verdict: 'more', lift, interval, heldOutNeeded: needed, reading: `${name} brought ${percent(lift)} more orders than the held-out group (95 % interval: ${range}).` };
  }
  if (interval.high < 0) {
    const fewer = `${percent(-interval.high)} to ${percent(-interval.low)} fewer`;
    return { verdict: 'fewer', lift, interval, heldOutNeeded: needed, reading: `${name} brought ${percent(-lift)} fewer orders than the held-out group (95 % interval: ${fewer}).` };
  }
  const roundedLift = Math.round(lift * 100);
  const estimate =
    roundedLift === 0
      ? `${name} brought about as many orders as the held-out group`
      : `${name} brought ${percent(Math.abs(lift))} ${lift > 0 ? 'more' : 'fewer'} orders than the held-out group`;
  return { verdict: 'unclear', lift, interval, heldOutNeeded: needed, reading: `No clear difference yet: ${estimate}, but the 95 % interval runs from ${range}.` };
}
