import { describe, expect, it } from 'vitest';
import { METRIC, SEND_LATENCY_BUCKETS_SECONDS } from '../../metrics/metrics.ts';
import { createNodeMetrics } from './node-metrics.ts';

const familyTypes = (text: string) => new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name!, type!]));
const sampleLines = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));

describe('the Node recorder', () => {
  it('exposes every Pushcart metric family, with the pool read at scrape time', async () => {
    let stats = { totalCount: 1, idleCount: 1, waitingCount: 0, max: 10 };
    const metrics = createNodeMetrics({ pool: () => stats });
    const first = await metrics.exposition!.render({ dueDeliveries: 5, oldestDueAgeSeconds: 12.5 });
    const types = familyTypes(first);
    for (const metric of Object.values(METRIC)) expect(types.has(metric.name), metric.name).toBe(true);
    expect(sampleLines(first, METRIC.poolConnections.name)).toEqual([`${METRIC.poolConnections.name} 1`]);
    stats = { totalCount: 10, idleCount: 0, waitingCount: 7, max: 10 };
    const second = await metrics.exposition!.render({ dueDeliveries: 5, oldestDueAgeSeconds: 12.5 });
    expect(sampleLines(second, METRIC.poolConnections.name)).toEqual([`${METRIC.poolConnections.name} 10`]);
    expect(sampleLines(second, METRIC.poolWaiting.name)).toEqual([`${METRIC.poolWaiting.name} 7`]);
    expect(sampleLines(second, METRIC.queueOldestDueAge.name)).toEqual([`${METRIC.queueOldestDueAge.name} 12.5`]);
  });

  it('collects the event loop’s delay and Node’s process metrics', async () => {
    const types = familyTypes(await createNodeMetrics().exposition!.render(undefined));
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']) {
      expect(types.has(name), name).toBe(true);
    }
  });

  it('leaves the queue gauges without a sample until the outbox was read, and again when a read failed', async () => {
    const metrics = createNodeMetrics();
    const render = metrics.exposition!.render;
    expect(sampleLines(await render(undefined), METRIC.queueDue.name)).toEqual([]);
    expect(sampleLines(await render({ dueDeliveries: 3, oldestDueAgeSeconds: 1 }), METRIC.queueDue.name)).toEqual([`${METRIC.queueDue.name} 3`]);
    expect(sampleLines(await render(undefined), METRIC.queueDue.name)).toEqual([]);
  });

  it('counts each call under its labels, in a registry of its own', async () => {
    const metrics = createNodeMetrics();
    const other = createNodeMetrics();
    metrics.deliveryOutcome('fcm.googleapis.com', 'sent', 'none');
    metrics.deliveryOutcome('fcm.googleapis.com', 'sent', 'none');
    metrics.deliveryOutcome('push.apple.com', 'held', 'quiet_hours');
    metrics.eventsIngested('cart_updated', 'browser');
    metrics.rateLimited('per_site');
    metrics.triggerRun('cart_reminders', 4);
    metrics.triggerRun('cart_reminders', 0);
    metrics.sendLatency('fcm.googleapis.com', 0.07);
    const text = await metrics.exposition!.render(undefined);
    expect(sampleLines(text, METRIC.deliveries.name).sort()).toEqual([
      'pushcart_deliveries_total{push_service="fcm.googleapis.com",outcome="sent",reason="none"} 2',
      'pushcart_deliveries_total{push_service="push.apple.com",outcome="held",reason="quiet_hours"} 1',
    ]);
    expect(sampleLines(text, METRIC.eventsIngested.name)).toEqual(['pushcart_events_ingested_total{type="cart_updated",source="browser"} 1']);
    expect(sampleLines(text, METRIC.rateLimited.name)).toEqual(['pushcart_rate_limited_total{bucket="per_site"} 1']);
    expect(sampleLines(text, METRIC.triggerRuns.name)).toEqual(['pushcart_trigger_runs_total{trigger="cart_reminders"} 2']);
    expect(sampleLines(text, METRIC.triggerNotifications.name)).toEqual(['pushcart_trigger_notifications_total{trigger="cart_reminders"} 4']);
    expect(sampleLines(await other.exposition!.render(undefined), METRIC.deliveries.name)).toEqual([]);
  });

  it('puts a send latency in every bucket at or above it, with the bounds the Workers log uses', async () => {
    const metrics = createNodeMetrics();
    metrics.sendLatency('fcm.googleapis.com', 0.07);
    const buckets = sampleLines(await metrics.exposition!.render(undefined), `${METRIC.sendDuration.name}_bucket`);
    expect(buckets).toEqual([
      ...SEND_LATENCY_BUCKETS_SECONDS.map((bound) => `${METRIC.sendDuration.name}_bucket{le="${bound}",push_service="fcm.googleapis.com"} ${bound >= 0.07 ? 1 : 0}`),
      `${METRIC.sendDuration.name}_bucket{le="+Inf",push_service="fcm.googleapis.com"} 1`,
    ]);
  });
});
