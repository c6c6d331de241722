import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { audienceKind, recordAudit, secretKeyActor } from '../audit/audit-log.ts';
import { conversionTotals } from '../db/conversions.ts';
import { interactionCounts } from '../db/interactions.ts';
import { deliveryCounts, deliveryProblems, findNotification } from '../db/notifications.ts';
import { isUuid } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { sendNotificationSchema } from '../notifications/notification-input.ts';
import { reportUrl } from '../notifications/payload.ts';
import { send } from '../notifications/send.ts';
import { operation } from '../openapi/operation.ts';
import { isoInstant } from '../sites/site-view-schemas.ts';
import { text, validate } from '../validation.ts';

const count = z.number().int().nonnegative();

/** `GET /v1/notifications/{id}` as JSON. */
const notificationStatusSchema = z.strictObject({
  id: z.uuid(),
  status: z.enum(['sending', 'completed']),
  kind: z.enum(['transactional', 'marketing']),
  /** Who queued it: `api`, a trigger (`cart_reminder`, `price_drop`, `back_in_stock`), `demo`… */
  trigger: z.string(),
  audience: count,
  createdAt: isoInstant,
  counts: z.strictObject({
    queued: count,
    sent: count,
    failed: count,
    expired: count,
    suppressed: count,
    heldOut: count,
    shown: count,
    clicked: count,
    dismissed: count,
    converted: count,
  }),
  /** Attributed order value per currency. */
  revenue: z.record(z.string(), z.number()),
  problems: z.array(
    z.strictObject({
      reason: z.string(),
      status: z.enum(['queued', 'sending', 'sent', 'failed', 'expired', 'suppressed', 'held_out']),
      count,
      example: z.strictObject({
        deliveryId: z.string(),
        /** Null once the subscriber was erased (DELETE /v1/subscribers/{id}). */
        subscriptionId: z.string().nullable(),
        attempts: count,
        lastStatus: z.number().int().nullable(),
        lastError: z.string(),
        until: z.string().optional(),
      }),
    }),
  ),
});

/** `POST /v1/notifications` (send) and `GET /v1/notifications/{id}` (status, counts and delivery problems). */
export function notificationRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use('/v1/notifications', secretKeyAuth(deps))
    .use('/v1/notifications/*', secretKeyAuth(deps))
    .post(
      '/v1/notifications',
      operation({
        summary: 'Send a notification',
        description:
          'Queues a push to an audience (subscription ids, external user ids, visitor ids, a tag filter, or everyone); the payload must fit 3,993 bytes after encryption (413 otherwise). The same `Idempotency-Key` with the same body answers the first response again without a second send; with another body, 409.',
        tag: 'Send API',
        access: 'secretKey',
        requestHeaders: { 'Idempotency-Key': 'Makes a retry safe: kept 48 hours.' },
        responses: {
          202: {
            description: 'Queued; `audience` subscriptions will get it',
            schema: z.strictObject({ id: z.uuid(), audience: count }),
            headers: { 'Idempotent-Replayed': '`true` when this is the answer to an earlier request with the same key' },
          },
        },
        errors: ['idempotency_conflict'],
      }),
      validate('json', sendNotificationSchema),
      async (c) => {
      const site = c.get('site');
      const input = c.req.valid('json');
      const idempotencyKey = c.req.header('Idempotency-Key');
      const { to, kind, ttl, urgency, topic, ...content } = input;
      const sent = await send(
        { db: deps.db, now: new Date((deps.now ?? Date.now)()), reportUrl: reportUrl(deps.config.publicUrl) },
        {
          site,
          source: 'api',
          kind,
          content,
          to: { by: 'selectors', selectors: to },
          ttlSeconds: ttl,
          urgency,
          topic: topic ?? null,
          whenTooLarge: 'refuse',
          ...(idempotencyKey === undefined ? {} : { idempotency: { key: idempotencyKey, request: input } }),
        },
      );
      if (sent.replayed) c.header('Idempotent-Replayed', 'true');
      else {
        // One row per send, after send()'s own transaction: which selector, never the ids or tags.
        const actor = await secretKeyActor(deps.db, c.get('secretKeyId'));
        if (actor) await recordAudit(deps.db, site.id, actor, { action: 'notification_sent', notificationId: sent.id, audience: audienceKind(to), subscriptions: sent.audience }, new Date((deps.now ?? Date.now)()));
        if (sent.audience > 0) await deps.onNotificationQueued?.(sent.id);
      }
      deps.logger.log('info', sent.replayed ? 'notification replayed' : 'notification queued', {
        requestId: c.get('requestId'),
        siteId: site.id,
        notificationId: sent.id,
        audience: sent.audience,
      });
      return c.json({ id: sent.id, audience: sent.audience }, 202);
    })
    .get(
      '/v1/notifications/:id',
      operation({
        summary: 'A notification’s status and counts',
        description: 'Deliveries by status, interactions the service workers reported, attributed conversions and revenue, and why deliveries did not go (yet).',
        tag: 'Send API',
        access: 'secretKey',
        responses: { 200: { description: 'The notification', schema: notificationStatusSchema } },
        errors: ['not_found'],
      }),
      validate('param', z.object({ id: text() })), async (c) => {
      const site = c.get('site');
      const { id } = c.req.valid('param');
      const notification = isUuid(id) ? await findNotification(deps.db, site.id, id) : undefined;
      if (!notification) throw new ApiError('not_found', `No notification ${id} for this site`);
      const [counts, problems, interactions, conversions] = await Promise.all([
        deliveryCounts(deps.db, id),
        deliveryProblems(deps.db, id),
        interactionCounts(deps.db, id),
        conversionTotals(deps.db, id),
      ]);
      const pending = counts.queued + counts.sending;
      return c.json({
        id,
        status: pending > 0 ? 'sending' : 'completed',
        kind: notification.kind,
        trigger: notification.source,
        audience: notification.audience_size,
        createdAt: notification.created_at,
        counts: {
          queued: pending,
          sent: counts.sent,
          failed: counts.failed,
          expired: counts.expired,
          suppressed: counts.suppressed,
          // Deliberately not sent: the holdout group of a trigger (stats compare it with the sent group).
          heldOut: counts.held_out,
          // Reported by service workers (POST /v1/interactions).
          shown: interactions.shown,
          clicked: interactions.clicked,
          dismissed: interactions.dismissed,
          // Orders attributed to a click on this notification within the attribution window.
          converted: conversions.converted,
        },
        revenue: conversions.revenue,
        // Why deliveries did not go (yet): per reason code and status, a count and the first delivery.
        problems,
      });
    });
}
