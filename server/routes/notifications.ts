import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { audienceKind, recordAudit, secretKeyActor } from '../audit/audit-log.ts';
import { cancelNotification, findNotification } from '../db/notifications.ts';
import { notificationStatus } from '../notifications/notification-status.ts';
import { isUuid } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { sendNotificationSchema } from '../notifications/notification-input.ts';
import { reportUrl } from '../notifications/payload.ts';
import { apiSendRequest, send } from '../notifications/send.ts';
import { operation } from '../openapi/operation.ts';
import { isoInstant } from '../sites/site-view-schemas.ts';
import { text, validate } from '../validation.ts';

const count = z.number().int().nonnegative();

/** `GET /v1/notifications/{id}` as JSON. */
const notificationStatusSchema = z.strictObject({
  id: z.uuid(),
  /** `sending` while its audience is being written or deliveries wait; `cancelled` once the sender stopped it. */
  status: z.enum(['sending', 'completed', 'cancelled']),
  kind: z.enum(['transactional', 'marketing']),
  /** Who queued it: `api`, a trigger (`cart_reminder`, `price_drop`, `back_in_stock`), `demo`… */
  trigger: z.string(),
  /** Deliveries written so far: the whole audience once `progress.resolving` is false. */
  audience: count,
  createdAt: isoInstant,
  cancelledAt: isoInstant.nullable(),
  progress: z.strictObject({
    /** The workers are still writing the audience (a large send): `total` is then an estimate. */
    resolving: z.boolean(),
    /** Deliveries written so far. */
    resolved: count,
    /** The audience: exact once resolved, estimated before. */
    total: count,
    /** Deliveries the push service accepted. */
    sent: count,
    /** Deliveries with no final outcome yet (queued, being sent, or not written yet). */
    remaining: count,
    /** At the rate so far; null before the first outcome and once nothing remains. */
    etaSeconds: count.nullable(),
  }),
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
          'Queues a push to an audience (subscription ids, external user ids, visitor ids, a tag filter, a segment’s rules inline or a saved segment’s id, or everyone); the payload must fit 3,993 bytes after encryption (413 otherwise). The same `Idempotency-Key` with the same body answers the first response again without a second send; with another body, 409.',
        tag: 'Send API',
        access: 'secretKey',
        requestHeaders: { 'Idempotency-Key': 'Makes a retry safe: kept 48 hours.' },
        responses: {
          202: {
            description: 'Queued; `audience` subscriptions will get it',
            schema: z.strictObject({
              id: z.uuid(),
              /** Subscriptions it goes to; an estimate while `resolving` (follow GET /v1/notifications/{id}). */
              audience: count,
              /** A send to everyone or to a tag: its audience is written by the workers after this answer, in chunks. */
              resolving: z.boolean(),
            }),
            headers: { 'Idempotent-Replayed': '`true` when this is the answer to an earlier request with the same key' },
          },
        },
        errors: ['idempotency_conflict', 'not_found'],
      }),
      validate('json', sendNotificationSchema),
      async (c) => {
      const site = c.get('site');
      const input = c.req.valid('json');
      const idempotencyKey = c.req.header('Idempotency-Key');
      const sent = await send(
        { db: deps.db, now: new Date((deps.now ?? Date.now)()), reportUrl: reportUrl(deps.config.publicUrl) },
        apiSendRequest(site, input, idempotencyKey),
      );
      if (sent.replayed) c.header('Idempotent-Replayed', 'true');
      else {
        // One row per send, after send()'s own transaction: which selector, never the ids or tags.
        const actor = await secretKeyActor(deps.db, c.get('secretKeyId'));
        if (actor) await recordAudit(deps.db, site.id, actor, { action: 'notification_sent', notificationId: sent.id, audience: audienceKind(input.to), subscriptions: sent.audience }, new Date((deps.now ?? Date.now)()));
        if (sent.audience > 0 || sent.resolving) await deps.onNotificationQueued?.(sent.id);
      }
      deps.logger.log('info', sent.replayed ? 'notification replayed' : 'notification queued', {
        requestId: c.get('requestId'),
        siteId: site.id,
        notificationId: sent.id,
        audience: sent.audience,
      });
      return c.json({ id: sent.id, audience: sent.audience, resolving: sent.resolving }, 202);
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
      const { id } = c.req.valid('param');
      const status = await notificationStatus(deps.db, c.get('site').id, id, (deps.now ?? Date.now)());
      if (!status) throw new ApiError('not_found', `No notification ${id} for this site`);
      return c.json(status satisfies z.input<typeof notificationStatusSchema>);
    })
    .post(
      '/v1/notifications/:id/cancel',
      operation({
        summary: 'Cancel a notification',
        description:
          'Stops what has not gone yet, also in the middle of a large send: no more of its audience is written, and deliveries still queued are suppressed (reason `cancelled`) instead of sent. Pushes already accepted by a push service cannot be called back. Cancelling again, or a notification with nothing left to send, changes nothing. Answers its status.',
        tag: 'Send API',
        access: 'secretKey',
        responses: { 200: { description: 'The notification, as GET answers it', schema: notificationStatusSchema } },
        errors: ['not_found'],
      }),
      validate('param', z.object({ id: text() })),
      async (c) => {
        const site = c.get('site');
        const { id } = c.req.valid('param');
        if (!isUuid(id) || !(await findNotification(deps.db, site.id, id))) throw new ApiError('not_found', `No notification ${id} for this site`);
        if (await cancelNotification(deps.db, site.id, id, new Date((deps.now ?? Date.now)()))) {
          deps.logger.log('info', 'notification cancelled', { requestId: c.get('requestId'), siteId: site.id, notificationId: id });
          // The workers close what is still queued as they claim it: wake them.
          await deps.onNotificationQueued?.(id);
        }
        return c.json((await notificationStatus(deps.db, site.id, id, (deps.now ?? Date.now)()))! satisfies z.input<typeof notificationStatusSchema>);
      },
    );
}
