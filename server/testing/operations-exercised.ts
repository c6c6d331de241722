import type { SeenResponse } from './declared-responses.ts';

/**
 * Which route test file answers each operation of the OpenAPI document with a success at least
 * once, so every declared success schema is checked against a real answer
 * (declared-responses.ts). Each file listed fails after its tests when one of its operations was
 * not answered with a declared success; routes/api-reference.test.ts fails when an operation of the
 * document is in neither this table nor the exceptions.
 */
export const OPERATIONS_EXERCISED_BY: Record<string, readonly string[]> = {
  'server/app.test.ts': ['GET /healthz', 'GET /v1/sites/{publishableKey}/config'],
  'server/middleware/rate-limited-routes.test.ts': ['GET /v1/admin/sites'],
  'server/routes/admin-identify-secret.test.ts': ['GET /v1/admin/sites/{siteId}/identify-secret'],
  'server/routes/admin-sites.test.ts': ['POST /v1/admin/sites', 'GET /v1/admin/sites/{siteId}/keys', 'POST /v1/admin/sites/{siteId}/keys', 'DELETE /v1/admin/sites/{siteId}/keys/{keyId}', 'GET /v1/site'],
  'server/routes/api-reference.test.ts': ['GET /openapi.json', 'GET /docs'],
  'server/routes/campaigns.test.ts': [
    'POST /v1/campaigns',
    'GET /v1/campaigns',
    'GET /v1/campaigns/{id}',
    'GET /v1/campaigns/{id}/timeline',
    'PATCH /v1/campaigns/{id}',
    'DELETE /v1/campaigns/{id}',
    'POST /v1/campaigns/{id}/schedule',
    'POST /v1/campaigns/{id}/send',
    'POST /v1/campaigns/{id}/cancel',
    'POST /v1/campaigns/{id}/winner',
    'POST /v1/campaigns/{id}/test',
  ],
  'server/routes/client-scripts.test.ts': ['GET /pushcart.js', 'GET /pushcart-sw.js', 'GET /pushcart.{version}.js'],
  'server/routes/demo.test.ts': ['GET /demo', 'POST /demo/test-push'],
  'server/routes/events.test.ts': ['POST /v1/events', 'POST /v1/watches'],
  'server/routes/every-string-field.test.ts': ['GET /v1/admin/sites/{siteId}'],
  'server/routes/interactions.test.ts': ['POST /v1/interactions'],
  'server/routes/metrics.test.ts': ['GET /metrics'],
  'server/routes/notifications.test.ts': ['POST /v1/notifications', 'GET /v1/notifications/{id}', 'POST /v1/notifications/{id}/cancel'],
  'server/routes/welcome-codes.test.ts': ['POST /v1/welcome-codes', 'GET /v1/welcome-codes'],
  'server/routes/products.test.ts': ['POST /v1/products/batch', 'PUT /v1/products/{id}', 'GET /v1/products/{id}'],
  'server/routes/segments.test.ts': ['POST /v1/segments', 'GET /v1/segments', 'GET /v1/segments/{id}', 'PATCH /v1/segments/{id}', 'DELETE /v1/segments/{id}', 'GET /v1/segments/{id}/count', 'POST /v1/segments/count'],
  'server/routes/settings.test.ts': ['GET /v1/settings', 'PATCH /v1/settings'],
  'server/routes/stats.test.ts': ['GET /v1/stats'],
  'server/routes/subscribers.test.ts': ['GET /v1/subscribers', 'GET /v1/subscribers/{id}', 'DELETE /v1/subscribers/{id}', 'POST /v1/subscribers/erase', 'POST /v1/subscribers/export'],
  'server/routes/stats-daily.test.ts': ['GET /v1/stats/daily'],
  'server/routes/subscriptions.test.ts': ['POST /v1/subscriptions', 'DELETE /v1/subscriptions', 'POST /v1/subscriptions/renew'],
  'server/routes/tags.test.ts': ['POST /v1/subscribers/tags', 'POST /v1/subscriptions/tags'],  'server/triggers/occasions.test.ts': ['POST /v1/subscribers/birthday'],
};

/** Operations no route test answers through the app, and why: none today; a new entry needs its reason. */
export const OPERATIONS_NOT_EXERCISED: Record<string, string> = {
};

/** The operations of `testFile` (a path ending in one of the table's keys) that `seen` holds no declared success for. */
export function operationsMissed(testFile: string, seen: readonly SeenResponse[]): string[] {
  const entry = Object.entries(OPERATIONS_EXERCISED_BY).find(([file]) => testFile.endsWith(file));
  if (!entry) return [];
  const succeeded = new Set(seen.filter((answer) => answer.status < 400).map((answer) => answer.operation));
  return entry[1].filter((operation) => !succeeded.has(operation));
}
