/**
 * What the code counts, and under which names: one recorder interface the app, the delivery engine
 * and the background round call, with a no-op default. Node records into prom-client and serves
 * `GET /metrics` (runtime/node/node-metrics.ts); a Worker has no long-lived process to scrape, so it
 * adds the same counters up and writes them as one JSON log line (`countingMetrics`).
 */
import type { RateLimitSettings } from '../middleware/rate-limit.ts';

/**
 * What became of a delivery in a batch: its status as stored, with `queued` split by whether an
 * attempt was spent (`retried`: a 5xx, a timeout) or not (`held`: quiet hours, a push service's
 * backoff, a key that cannot be opened).
 */
export type DeliveryOutcome = 'sent' | 'expired' | 'failed' | 'suppressed' | 'retried' | 'held';

/** The rate-limit buckets (middleware/rate-limit.ts), as label values. */
export type RateLimitBucketLabel = 'per_ip' | 'per_site' | 'per_secret_key' | 'admin' | 'failed_auth';

export const RATE_LIMIT_BUCKET_LABELS: Record<keyof RateLimitSettings, RateLimitBucketLabel> = {
  perIp: 'per_ip',
  perSite: 'per_site',
  perSecretKey: 'per_secret_key',
  admin: 'admin',
  failedAuth: 'failed_auth',
};

/** Labels stay a bounded set: push services are the known ones (or configured hosts), event types the known ones or `custom`. */
export interface MetricsRecorder {
  /** One delivery's outcome; `reason` is its `last_error` code (delivery/delivery-reasons.ts), `none` for a sent one. */
  deliveryOutcome(pushService: string, outcome: DeliveryOutcome, reason: string): void;
  /** How long the push service took to answer one request. */
  sendLatency(pushService: string, seconds: number): void;
  /** A new event stored by `POST /v1/events` (a retried `eventId` is not counted again). */
  eventsIngested(type: string, source: 'browser' | 'server'): void;
  /** A request (or a browser's preflight) refused by a rate-limit bucket. */
  rateLimited(bucket: RateLimitBucketLabel): void;
  /** A scan of a time-based trigger in a background round, and the notifications it queued. */
  triggerRun(trigger: string, notificationsQueued: number): void;
}

/** What the outbox looks like at scrape time (db/queue-state.ts). */
export interface QueueState {
  /** Deliveries due now (queued or with a lapsed lease), counted up to `QUEUE_DEPTH_CAP`. */
  dueDeliveries: number;
  /** How long the longest-waiting due delivery has been due; 0 when none is. */
  oldestDueAgeSeconds: number;
}

/** Renders the Prometheus text exposition (version 0.0.4): only where a process lives to be scraped. */
export interface MetricsExposition {
  contentType: string;
  /** `queue` undefined: the database did not answer, and the queue gauges are left out of this scrape. */
  render(queue: QueueState | undefined): Promise<string>;
}

/** The recorder an app gets, and the exposition `GET /metrics` serves when the runtime has one. */
export interface Metrics extends MetricsRecorder {
  exposition?: MetricsExposition;
}

export const noopMetrics: Metrics = {
  deliveryOutcome() {},
  sendLatency() {},
  eventsIngested() {},
  rateLimited() {},
  triggerRun() {},
};

/** The media type of the Prometheus text format. */
export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Upper bounds of the send latency histogram, in seconds: a push service answers in tens to
 * hundreds of milliseconds; the top bucket is the transport's timeout (push/fetch-transport.ts).
 */
export const SEND_LATENCY_BUCKETS_SECONDS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * The names and labels Pushcart exposes, on Node as Prometheus metrics and on Workers as the keys
 * of the `metrics` log line. The Grafana dashboard reads these names (grafana-dashboard.test.ts).
 */
export const METRIC = {
  deliveries: { name: 'pushcart_deliveries_total', help: 'Deliveries by push service, outcome and reason code', labels: ['push_service', 'outcome', 'reason'] },
  sendDuration: { name: 'pushcart_push_send_duration_seconds', help: 'Time a push service took to answer one push request', labels: ['push_service'] },
  eventsIngested: { name: 'pushcart_events_ingested_total', help: 'Events stored by POST /v1/events, by type (known types; others are custom) and source', labels: ['type', 'source'] },
  rateLimited: { name: 'pushcart_rate_limited_total', help: 'Requests refused by a rate-limit bucket', labels: ['bucket'] },
  triggerRuns: { name: 'pushcart_trigger_runs_total', help: 'Scans of a time-based trigger in background rounds', labels: ['trigger'] },
  triggerNotifications: { name: 'pushcart_trigger_notifications_total', help: 'Notifications queued by time-based trigger scans', labels: ['trigger'] },
  queueDue: { name: 'pushcart_queue_due_deliveries', help: 'Deliveries due now, counted up to 100000', labels: [] },
  queueOldestDueAge: { name: 'pushcart_queue_oldest_due_age_seconds', help: 'How long the longest-waiting due delivery has been due', labels: [] },
  poolConnections: { name: 'pushcart_db_pool_connections', help: 'Database pool connections open (idle or in use)', labels: [] },
  poolIdle: { name: 'pushcart_db_pool_idle_connections', help: 'Database pool connections open and idle', labels: [] },
  poolWaiting: { name: 'pushcart_db_pool_waiting_requests', help: 'Queries waiting for a database pool connection', labels: [] },
  poolMax: { name: 'pushcart_db_pool_max_connections', help: 'The database pool size', labels: [] },
} as const;

/** The outcome label of a delivery's result (delivery/batch-recorder.ts's `BatchResult`). */
export function deliveryOutcomeOf(result: { status: string; attemptDelta: number }): DeliveryOutcome {
  switch (result.status) {
    case 'sent':
    case 'expired':
    case 'failed':
    case 'suppressed':
      return result.status;
    default:
      // Queued again: an attempt given back (−1) means it was held, not tried.
      return result.attemptDelta < 0 ? 'held' : 'retried';
  }
}

/** Counters added up since the last drain: what a Worker writes as its `metrics` log line. */
export interface CountedMetrics {
  /** `push_service outcome reason` → deliveries. */
  [METRIC.deliveries.name]: Record<string, number>;
  /** By push service: requests, their summed seconds, and the cumulative count at or below each bucket bound (`le`). */
  [METRIC.sendDuration.name]: Record<string, { count: number; sum: number; buckets: Record<string, number> }>;
  /** `type source` → events. */
  [METRIC.eventsIngested.name]: Record<string, number>;
  [METRIC.rateLimited.name]: Record<string, number>;
  [METRIC.triggerRuns.name]: Record<string, number>;
  [METRIC.triggerNotifications.name]: Record<string, number>;
}

export interface CountingMetrics extends Metrics {
  /** Whether anything was counted since the last drain. */
  readonly empty: boolean;
  /** The counts since the last drain (metrics with none left out), and a fresh start. */
  drain(): Partial<CountedMetrics>;
}

function emptyCounts(): CountedMetrics {
  return {
    [METRIC.deliveries.name]: {},
    [METRIC.sendDuration.name]: {},
    [METRIC.eventsIngested.name]: {},
    [METRIC.rateLimited.name]: {},
    [METRIC.triggerRuns.name]: {},
    [METRIC.triggerNotifications.name]: {},
  };
}

const add = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

/**
 * A recorder that adds up in memory, for a runtime nobody scrapes (Workers): the owner drains it
 * and logs the counts. Label values are joined with spaces (none contains one).
 */
export function countingMetrics(): CountingMetrics {
  let counts = emptyCounts();
  let empty = true;
  return {
    get empty() {
      return empty;
    },
    drain() {
      const drained = Object.fromEntries(Object.entries(counts).filter(([, byLabels]) => Object.keys(byLabels).length > 0)) as Partial<CountedMetrics>;
      counts = emptyCounts();
      empty = true;
      return drained;
    },
    deliveryOutcome(pushService, outcome, reason) {
      empty = false;
      add(counts[METRIC.deliveries.name], `${pushService} ${outcome} ${reason}`);
    },
    sendLatency(pushService, seconds) {
      empty = false;
      const histogram = (counts[METRIC.sendDuration.name][pushService] ??= { count: 0, sum: 0, buckets: {} });
      histogram.count++;
      histogram.sum += seconds;
      for (const bound of SEND_LATENCY_BUCKETS_SECONDS) if (seconds <= bound) add(histogram.buckets, String(bound));
    },
    eventsIngested(type, source) {
      empty = false;
      add(counts[METRIC.eventsIngested.name], `${type} ${source}`);
    },
    rateLimited(bucket) {
      empty = false;
      add(counts[METRIC.rateLimited.name], bucket);
    },
    triggerRun(trigger, notificationsQueued) {
      empty = false;
      add(counts[METRIC.triggerRuns.name], trigger);
      add(counts[METRIC.triggerNotifications.name], trigger, notificationsQueued);
    },
  };
}
