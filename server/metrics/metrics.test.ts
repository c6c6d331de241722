import { describe, expect, it } from 'vitest';
import { countingMetrics, deliveryOutcomeOf, METRIC, SEND_LATENCY_BUCKETS_SECONDS } from './metrics.ts';

describe('deliveryOutcomeOf', () => {
  it.each([
    [{ status: 'sent', attemptDelta: 0 }, 'sent'],
    [{ status: 'expired', attemptDelta: 0 }, 'expired'],
    [{ status: 'failed', attemptDelta: 0 }, 'failed'],
    [{ status: 'suppressed', attemptDelta: 0 }, 'suppressed'],
    [{ status: 'queued', attemptDelta: 0 }, 'retried'],
    [{ status: 'queued', attemptDelta: -1 }, 'held'],
  ])('%o is %s', (result, outcome) => {
    expect(deliveryOutcomeOf(result)).toBe(outcome);
  });
});

describe('countingMetrics (the Workers recorder)', () => {
  it('adds up under the Prometheus names, with histogram buckets cumulative as Prometheus keeps them', () => {
    const metrics = countingMetrics();
    expect(metrics.empty).toBe(true);
    metrics.deliveryOutcome('fcm.googleapis.com', 'sent', 'none');
    metrics.deliveryOutcome('fcm.googleapis.com', 'sent', 'none');
    metrics.deliveryOutcome('push.apple.com', 'failed', 'push_rejected');
    metrics.sendLatency('fcm.googleapis.com', 0.07);
    metrics.sendLatency('fcm.googleapis.com', 3);
    metrics.eventsIngested('custom', 'server');
    metrics.rateLimited('per_ip');
    metrics.triggerRun('cart_reminders', 2);
    expect(metrics.empty).toBe(false);
    const bucketsOf = (seconds: number[]) =>
      Object.fromEntries(SEND_LATENCY_BUCKETS_SECONDS.map((bound) => [String(bound), seconds.filter((s) => s <= bound).length]).filter(([, count]) => count !== 0));
    expect(metrics.drain()).toEqual({
      [METRIC.deliveries.name]: { 'fcm.googleapis.com sent none': 2, 'push.apple.com failed push_rejected': 1 },
      [METRIC.sendDuration.name]: { 'fcm.googleapis.com': { count: 2, sum: 3.07, buckets: bucketsOf([0.07, 3]) } },
      [METRIC.eventsIngested.name]: { 'custom server': 1 },
      [METRIC.rateLimited.name]: { per_ip: 1 },
      [METRIC.triggerRuns.name]: { cart_reminders: 1 },
      [METRIC.triggerNotifications.name]: { cart_reminders: 2 },
    });
  });

  it('starts afresh after a drain, and leaves out what it did not count', () => {
    const metrics = countingMetrics();
    metrics.rateLimited('admin');
    metrics.drain();
    expect(metrics.empty).toBe(true);
    expect(metrics.drain()).toEqual({});
    metrics.eventsIngested('cart_updated', 'browser');
    expect(metrics.drain()).toEqual({ [METRIC.eventsIngested.name]: { 'cart_updated browser': 1 } });
  });
});
