import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { conversionTotals } from '../db/conversions.ts';
import { interactionCounts } from '../db/interactions.ts';
import { deliveryCounts, deliveryProblems, findNotification } from '../db/notifications.ts';
import { isUuid } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { sendNotificationSchema } from '../notifications/notification-input.ts';
import { reportUrl } from '../notifications/payload.ts';
import { send } from '../notifications/send.ts';
import { text, validate } from '../validation.ts';

/** `POST /v1/notifications` (send) and `GET /v1/notifications/{id}` (status, counts and delivery problems). */
export function notificationRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use('/v1/notifications', secretKeyAuth(deps))
    .use('/v1/notifications/*', secretKeyAuth(deps))
    .post('/v1/notifications', validate('json', sendNotificationSchema), async (c) => {
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
      else if (sent.audience > 0) await deps.onNotificationQueued?.(sent.id);
      deps.logger.log('info', sent.replayed ? 'notification replayed' : 'notification queued', {
        requestId: c.get('requestId'),
        siteId: site.id,
        notificationId: sent.id,
        audience: sent.audience,
      });
      return c.json({ id: sent.id, audience: sent.audience }, 202);
    })
    .get('/v1/notifications/:id', validate('param', z.object({ id: text() })), async (c) => {
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
