import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import type { AppDeps, AppEnv } from './app-env.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import { isStorageUnavailable } from './db/storage-errors.ts';
import { ApiError, errorResponse } from './errors.ts';
import { describeError } from './logger.ts';
import { RATE_LIMIT_BUCKET_LABELS } from './metrics/metrics.ts';
import { createOriginsSeenRecorder } from './middleware/origins-seen.ts';
import { createRateLimiters } from './middleware/rate-limit.ts';
import { adminSiteRoutes } from './routes/admin-sites.ts';
import { apiReferenceRoutes } from './routes/api-reference.ts';
import { clientScriptRoutes } from './routes/client-scripts.ts';
import { demoRoutes } from './routes/demo.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { interactionRoutes } from './routes/interactions.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { campaignRoutes } from './routes/campaigns.ts';
import { productRoutes } from './routes/products.ts';
import { settingsRoutes } from './routes/settings.ts';
import { statsRoutes } from './routes/stats.ts';
import { subscriberRoutes } from './routes/subscribers.ts';
import { segmentRoutes } from './routes/segments.ts';
import { welcomeCodeRoutes } from './routes/welcome-codes.ts';
import { siteConfigRoutes } from './routes/site-config.ts';
import { siteRoutes } from './routes/site.ts';
import { subscriptionRoutes } from './routes/subscriptions.ts';

/** Largest request body accepted on any route that reads one; checked before the body is read. */
export const MAX_REQUEST_BODY_BYTES = 8 * 1024;
/** A send carries a ≤ 3,993-byte payload plus audience id lists; events carry carts; settings carry templates. */
export const MAX_SEND_BODY_BYTES = 64 * 1024;
/** A catalogue batch: up to 1,000 products. */
export const MAX_PRODUCT_BATCH_BODY_BYTES = 1024 * 1024;
const LARGER_BODIES: Record<string, number> = {
  '/v1/notifications': MAX_SEND_BODY_BYTES,
  '/v1/events': MAX_SEND_BODY_BYTES,
  '/v1/settings': MAX_SEND_BODY_BYTES,
  '/v1/products/batch': MAX_PRODUCT_BATCH_BODY_BYTES,
};

export type { AppDeps } from './app-env.ts';

/** The whole HTTP service, runtime-free: entry files hand in the database, config, clock and logger. */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const limiters = createRateLimiters(
    { perIp: deps.config.rateLimitPerIp, perSite: deps.config.rateLimitPerSite },
    deps.now ?? Date.now,
    deps.rateLimits,
    (bucket) => deps.metrics?.rateLimited(RATE_LIMIT_BUCKET_LABELS[bucket]),
  );
  // One per app: its throttle is what keeps the installation check's records off the hot path.
  const originsSeen = createOriginsSeenRecorder(deps);

  app.use(requestId());
  app.use(async (c, next) => {
    c.set('rateLimiters', limiters);
    await next();
  });
  app.use(async (c, next) => {
    const startedAt = performance.now();
    await next();
    deps.logger.log(c.res.status >= 500 ? 'error' : 'info', 'request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
    });
  });
  const limitBody = (maxSize: number): MiddlewareHandler<AppEnv> => {
    const tooLarge = () => {
      throw new ApiError('payload_too_large', `Request body is larger than ${maxSize} bytes`);
    };
    const streamed = bodyLimit({ maxSize, onError: tooLarge });
    // A declared length is checked from the header alone: bodyLimit reads `c.req.raw.body`, which
    // makes the Node adapter build a whole web Request (stream, AbortSignal) for every request.
    return (c, next) => {
      const declared = c.req.header('Content-Length');
      if (declared === undefined || c.req.header('Transfer-Encoding') !== undefined) return streamed(c, next);
      return Number.parseInt(declared, 10) > maxSize ? tooLarge() : next();
    };
  };
  const bodyLimits = new Map(Object.entries(LARGER_BODIES).map(([path, bytes]) => [path, limitBody(bytes)]));
  const defaultBodyLimit = limitBody(MAX_REQUEST_BODY_BYTES);
  // Every route, inside /v1 or not: a body is refused by its Content-Length, or once it streams
  // past the limit, before any handler reads it.
  app.use((c, next) => (bodyLimits.get(c.req.path) ?? defaultBodyLimit)(c, next));

  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(deps));
  app.route('/', siteConfigRoutes(deps, limiters, originsSeen));
  app.route('/', subscriptionRoutes(deps, limiters, originsSeen));
  app.route('/', siteRoutes(deps));
  app.route('/', notificationRoutes(deps));
  app.route('/', campaignRoutes(deps));
  app.route('/', interactionRoutes(deps, limiters));
  app.route('/', eventRoutes(deps, limiters));
  app.route('/', productRoutes(deps));
  app.route('/', settingsRoutes(deps));
  app.route('/', statsRoutes(deps));
  app.route('/', subscriberRoutes(deps));
  app.route('/', segmentRoutes(deps));
  app.route('/', welcomeCodeRoutes(deps));
  app.route('/', clientScriptRoutes(deps.clientScripts));
  if (deps.demo) app.route('/', demoRoutes(deps));
  app.route('/', adminSiteRoutes(deps));
  app.route('/', apiReferenceRoutes(() => app.routes, { publicUrl: deps.config.publicUrl, docsScriptUrl: deps.config.docsScriptUrl }));
  app.route('/dashboard', dashboardRoutes(deps));

  app.notFound((c) => errorResponse(c, new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`)));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    if (error instanceof HTTPException && error.status === 400) {
      // Hono's JSON validator throws this for a body that does not parse.
      return errorResponse(c, new ApiError('invalid_json', 'Request body is not valid JSON'));
    }
    if (isStorageUnavailable(error)) {
      deps.logger.log('error', 'storage unavailable', { requestId: c.get('requestId'), ...describeError(error) });
      return errorResponse(c, new ApiError('storage_unavailable', 'The database is unavailable; try again shortly', { retryAfterSeconds: 5 }));
    }
    deps.logger.log('error', 'unhandled error', { requestId: c.get('requestId'), ...describeError(error) });
    return errorResponse(c, new ApiError('internal_error', 'Internal error'));
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
