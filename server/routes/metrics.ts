import { Hono, type MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { readQueueState } from '../db/queue-state.ts';
import { ApiError, errorResponse } from '../errors.ts';
import { describeError } from '../logger.ts';
import { RATE_LIMIT_BUCKET_LABELS, type QueueState } from '../metrics/metrics.ts';
import { createRateLimiters } from '../middleware/rate-limit.ts';
import { bearerToken, clientAddress, refuseWrongKey } from '../middleware/browser-access.ts';
import { operation } from '../openapi/operation.ts';
import { secretsEqual } from '../sha256.ts';

/**
 * `Authorization: Bearer $PUSHCART_METRICS_TOKEN` (else the admin token). With neither set, metrics
 * are off and the route answers 404, as a route that is not there. Wrong tokens are charged to the
 * address's failed-auth bucket as the admin API's are; a right one is never limited, so a scraper
 * behind a shared proxy address keeps its every-15-seconds scrape whatever strangers send.
 */
function metricsTokenAuth(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const expected = deps.config.metricsToken;
    if (expected === undefined) throw new ApiError('not_found', 'Metrics are off: set PUSHCART_METRICS_TOKEN (or PUSHCART_ADMIN_TOKEN) to turn them on');
    const given = bearerToken(c);
    if (given === undefined || !(await secretsEqual(given, expected))) {
      refuseWrongKey(
        c.get('rateLimiters').failedAuth,
        clientAddress(c, deps),
        new ApiError('admin_token_required', 'Send Authorization: Bearer <PUSHCART_METRICS_TOKEN>, or the admin token when that is unset'),
        'Too many wrong tokens from this address',
      );
    }
    await next();
  };
}

/**
 * `GET /metrics`: the Prometheus text format (version 0.0.4) where the runtime keeps a registry (Node);
 * a Worker writes the same counters to its log instead and answers 404 here. The queue gauges are read
 * from the outbox at scrape time; when the database does not answer they are left out of the scrape
 * and the rest (the pool, the event loop) is still served, since that is when they matter.
 */
export function metricsRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get(
    '/metrics',
    operation({
      summary: 'Metrics for Prometheus',
      description:
        'Deliveries by push service and outcome, send latency, queue depth and oldest due age, events, rate-limit refusals, trigger runs, the database pool, the event loop (README: Metrics). On Workers the same counters are written to the log and this answers 404.',
      tag: 'Operations',
      access: 'metricsToken',
      responses: { 200: { description: 'The Prometheus text exposition format, version 0.0.4', contentType: 'text/plain' } },
      errors: ['not_found'],
    }),
    metricsTokenAuth(deps),
    async (c) => {
      const exposition = deps.metrics?.exposition;
      if (!exposition) throw new ApiError('not_found', 'This runtime serves no metrics here: on Workers they are written to the log as "metrics" lines (README: Metrics)');
      let queue: QueueState | undefined;
      try {
        queue = await readQueueState(deps.db, (deps.now ?? Date.now)());
      } catch (error) {
        deps.logger.log('warn', 'queue gauges left out of the metrics: the database did not answer', { requestId: c.get('requestId'), ...describeError(error) });
      }
      return c.body(await exposition.render(queue), 200, { 'Content-Type': exposition.contentType, 'Cache-Control': 'no-store' });
    },
  );
}

/**
 * `GET /metrics` alone, for a process that serves no API (`pushcart worker --metrics-port`): the
 * same route, token and answers as the server's, and the error shape for anything else.
 */
export function metricsOnlyApp(deps: AppDeps) {
  const limiters = createRateLimiters({ perIp: deps.config.rateLimitPerIp, perSite: deps.config.rateLimitPerSite }, deps.now ?? Date.now, deps.rateLimits, (bucket) =>
    deps.metrics?.rateLimited(RATE_LIMIT_BUCKET_LABELS[bucket]),
  );
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(async (c, next) => {
    c.set('rateLimiters', limiters);
    await next();
  });
  app.route('/', metricsRoutes(deps));
  app.notFound((c) => errorResponse(c, new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}: this port serves GET /metrics only`)));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    deps.logger.log('error', 'unhandled error', { requestId: c.get('requestId'), ...describeError(error) });
    return errorResponse(c, new ApiError('internal_error', 'Internal error'));
  });
  return app;
}
