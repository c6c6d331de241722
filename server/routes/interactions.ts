import { Hono } from 'hono';
import { z } from 'zod';
import { INTERACTION_TYPES } from '../../service-worker/src/contract.ts';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { findReportableDelivery, recordInteraction } from '../db/interactions.ts';
import { ApiError } from '../errors.ts';
import { checkOrigin, grantOrigin } from '../middleware/browser-access.ts';
import type { RateLimiters } from '../middleware/rate-limit.ts';
import { serviceWorkerAccess } from '../middleware/service-worker-access.ts';
import { operation } from '../openapi/operation.ts';
import { secretsEqual } from '../sha256.ts';
import { text, validate } from '../validation.ts';

/** Delivery ids are Postgres `bigint`s; a larger number is no delivery's and would fail the query. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

const interactionBody = z.strictObject({
  // `<delivery id>.<32 hex>`, as the payload's report.token carries it.
  token: text()
    .regex(/^\d{1,19}\.[0-9a-f]{32}$/, 'must be the report token from the push payload')
    .refine((token) => {
      const deliveryId = /^(\d{1,19})\./.exec(token)?.[1];
      return deliveryId === undefined || BigInt(deliveryId) <= MAX_BIGINT;
    }, 'must be the report token from the push payload'),
  type: z.enum(INTERACTION_TYPES),
  action: text().max(64).optional(),
});

/**
 * `POST /v1/interactions`: the service worker reports shown / clicked (with the action) /
 * dismissed. Authenticated by the per-delivery token only the encrypted payload carried; each kind
 * is accepted once per delivery, so a replayed or forged report changes no figure.
 */
export function interactionRoutes(deps: AppDeps, limiters: RateLimiters) {
  return new Hono<AppEnv>()
    .use('/v1/interactions', serviceWorkerAccess(deps, limiters))
    .post(
      '/v1/interactions',
      operation({
        summary: 'Report that a notification was shown, clicked or dismissed',
        description: 'Sent by the service worker with the per-delivery token only the encrypted payload carried; each kind counts once per delivery.',
        tag: 'Browser',
        access: 'serviceWorker',
        responses: { 204: { description: 'Recorded' } },
        errors: ['invalid_key', 'interaction_replayed'],
      }),
      validate('json', interactionBody),
      async (c) => {
      const { token, type, action } = c.req.valid('json');
      const [deliveryId, secret] = token.split('.') as [string, string];
      const delivery = await findReportableDelivery(deps.db, deliveryId);
      if (!delivery || !(await secretsEqual(secret, delivery.report_token))) {
        throw new ApiError('invalid_key', 'Unknown report token');
      }
      const origin = c.req.header('Origin');
      checkOrigin(c, delivery, origin);
      grantOrigin(c, origin);
      if (type === 'clicked' && action && !(delivery.actions ?? []).some((a) => a.action === action)) {
        throw new ApiError('validation_failed', `action: this notification has no action "${action}"`);
      }
      const recorded = await recordInteraction(deps.db, {
        deliveryId: delivery.id,
        notificationId: delivery.notification_id,
        type,
        action: type === 'clicked' ? (action ?? '') : null,
        at: new Date((deps.now ?? Date.now)()),
      });
      if (!recorded) throw new ApiError('interaction_replayed', `This delivery already reported "${type}"`);
      return c.body(null, 204);
    });
}
