import type { Context } from 'hono';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import type { SiteRow } from './db/sites.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { RateLimiters, RateLimitSettings } from './middleware/rate-limit.ts';
import type { ClientScripts } from './client-bundle.ts';
import type { PushTransport } from './push/fetch-transport.ts';
import type { GroupCommitSettings } from './ingest/group-commit.ts';

/** Everything the app needs from the outside, handed in by an entry file: the app itself touches no runtime API. */
export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  /** Milliseconds since the epoch; tests pass a controllable clock. */
  now?: () => number;
  /**
   * The client's address: on Node the socket peer, on Workers CF-Connecting-IP, either read through
   * the trusted reverse proxies (`resolveClientAddress`).
   */
  clientIp?: (c: Context) => string | undefined;
  /** Browser routes reuse a site read by publishable key for this long (sites/site-lookup-cache.ts); unset: read per request. */
  siteCacheMs?: number;
  /** Replaces single buckets of the configured limits (tests). */
  rateLimits?: Partial<RateLimitSettings>;
  /** Told when a send queued deliveries, so an idle in-process worker (or a Queue) starts at once. */
  onNotificationQueued?: (notificationId: string) => void | Promise<void>;
  /** The built snippet and service worker: Node builds them at start, the Worker at build time (one function, runtime/node/client-bundles.ts). */
  clientScripts?: ClientScripts;
  /** Serve the demo shop at /demo, for a site marked as the demo only (routes/demo.ts). */
  demo?: boolean;
  /**
   * Sends a push at once, outside the outbox: a dashboard user's test push to their own browser
   * (notifications/test-push.ts). The entries pass the transport their deliveries use; without it
   * the dashboard says test pushes are not available.
   */
  pushTransport?: PushTransport;
  /** Counts events and rate-limit refusals; serves `GET /metrics` when it has an exposition (Node). Default: counts nothing. */
  metrics?: Metrics;
  /**
   * How the ingest routes group concurrent requests into one write (ingest/group-commit.ts).
   * Workers pass groups of one: a group started by one request must not do another request's I/O
   * there, nor be left running once the request that started it has answered.
   */
  ingestGroups?: Partial<GroupCommitSettings>;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Set by the key middlewares once a key has been checked. */
    site: SiteRow;
    /** The app's rate limiters, for middlewares that routes build from `deps` alone. */
    rateLimiters: RateLimiters;
    /** Set once a secret key has been checked, so a second matching middleware does not check (or charge) it again. */
    secretKeyId: string | undefined;
    /** POST /v1/events: which key sent it. */
    eventSource: 'browser' | 'server';
  };
}
