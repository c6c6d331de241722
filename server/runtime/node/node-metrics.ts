import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRIC, PROMETHEUS_TEXT_CONTENT_TYPE, SEND_LATENCY_BUCKETS_SECONDS, type Metrics, type QueueState } from '../../metrics/metrics.ts';

/** What node-postgres's Pool says about itself (`pg.Pool`'s counts), and its size. */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  max: number;
}

export interface NodeMetrics extends Metrics {
  registry: Registry;
}

/**
 * The Node recorder: prom-client counters and a histogram in a registry of this process's own (never
 * prom-client's global one, so two apps in one process, as in tests, count apart), the pool's counts
 * read at scrape time, and Node's default process metrics — CPU, memory, GC, and the event loop's
 * delay (`nodejs_eventloop_lag_seconds` and its percentiles from `monitorEventLoopDelay`).
 */
export function createNodeMetrics(options: { pool?: () => PoolStats | undefined } = {}): NodeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = <Label extends string>(metric: { name: string; help: string; labels: readonly Label[] }) =>
    new Counter<Label>({ name: metric.name, help: metric.help, labelNames: metric.labels, registers: [registry] });
  const deliveries = counter(METRIC.deliveries);
  const events = counter(METRIC.eventsIngested);
  const refusals = counter(METRIC.rateLimited);
  const triggerRuns = counter(METRIC.triggerRuns);
  const triggerNotifications = counter(METRIC.triggerNotifications);
  const sendDuration = new Histogram({
    name: METRIC.sendDuration.name,
    help: METRIC.sendDuration.help,
    labelNames: METRIC.sendDuration.labels,
    buckets: [...SEND_LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  const gauge = (metric: { name: string; help: string }) => new Gauge({ name: metric.name, help: metric.help, registers: [registry] });
  const queueDue = gauge(METRIC.queueDue);
  const queueOldestDueAge = gauge(METRIC.queueOldestDueAge);
  // Left without a sample until a scrape reads the outbox: a 0 would say "empty" when it is unknown.
  queueDue.remove();
  queueOldestDueAge.remove();

  const pool = options.pool;
  if (pool) {
    const poolGauge = (metric: { name: string; help: string }, read: (stats: PoolStats) => number) =>
      new Gauge({
        name: metric.name,
        help: metric.help,
        registers: [registry],
        collect() {
          const stats = pool();
          if (stats) this.set(read(stats));
        },
      });
    poolGauge(METRIC.poolConnections, (stats) => stats.totalCount);
    poolGauge(METRIC.poolIdle, (stats) => stats.idleCount);
    poolGauge(METRIC.poolWaiting, (stats) => stats.waitingCount);
    poolGauge(METRIC.poolMax, (stats) => stats.max);
  }

  return {
    registry,
    deliveryOutcome: (pushService, outcome, reason) => deliveries.inc({ push_service: pushService, outcome, reason }),
    sendLatency: (pushService, seconds) => sendDuration.observe({ push_service: pushService }, seconds),
    eventsIngested: (type, source) => events.inc({ type, source }),
    rateLimited: (bucket) => refusals.inc({ bucket }),
    triggerRun: (trigger, notificationsQueued) => {
      triggerRuns.inc({ trigger });
      triggerNotifications.inc({ trigger }, notificationsQueued);
    },
    exposition: {
      contentType: PROMETHEUS_TEXT_CONTENT_TYPE,
      async render(queue: QueueState | undefined) {
        if (queue) {
          queueDue.set(queue.dueDeliveries);
          queueOldestDueAge.set(queue.oldestDueAgeSeconds);
        } else {
          queueDue.remove();
          queueOldestDueAge.remove();
        }
        return registry.metrics();
      },
    },
  };
}
