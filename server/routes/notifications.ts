import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import type { NotificationContent } from '../db/database.ts';
import { claimIdempotencyKey, storeIdempotentResponse } from '../db/idempotency-keys.ts';
import { conversionTotals } from '../db/conversions.ts';
import { interactionCounts } from '../db/interactions.ts';
import { deliveryCounts, deliveryProblems, findNotification, insertNotificationWithDeliveries } from '../db/notifications.ts';
import { isUuid, type SiteRow } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { sendNotificationSchema, type SendNotificationInput } from '../notifications/notification-input.ts';
import { MAX_PAYLOAD_BYTES, reportUrl, worstCasePayloadBytes } from '../notifications/payload.ts';
import { sha256Hex } from '../sha256.ts';
import { text, validate } from '../validation.ts';

/** Stripe's rule for Idempotency-Key: an opaque client string, up to 255 characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** `POST /v1/notifications` (send) and `GET /v1/notifications/{id}` (status, counts and delivery problems). */
export function notificationRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use('/v1/notifications', secretKeyAuth(deps))
    .use('/v1/notifications/*', secretKeyAuth(deps))
    .post('/v1/notifications', validate('json', sendNotificationSchema), async (c) => {
      const site = c.get('site');
      const input = c.req.valid('json');
      const idempotencyKey = c.req.header('Idempotency-Key');
      if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw new ApiError('validation_failed', 'Idempotency-Key must be 1–255 printable ASCII characters');
      }
      const id = crypto.randomUUID();
      const content = notificationContent(id, input);
      checkContent(site, id, content, deps.config.publicUrl);

      const requestHash = await sha256Hex(stableJson(input));
      const now = new Date((deps.now ?? Date.now)());
      const answer = await deps.db.transaction().execute(async (trx) => {
        if (idempotencyKey !== undefined) {
          const claim = await claimIdempotencyKey(trx, site.id, idempotencyKey, requestHash, now);
          if (claim.outcome === 'existing') {
            if (claim.requestHash !== requestHash) {
              throw new ApiError('idempotency_conflict', 'This Idempotency-Key was already used with a different request body');
            }
            return { status: claim.responseStatus as 202, body: claim.responseBody as { id: string; audience: number }, replayed: true };
          }
        }
        const audience = await insertNotificationWithDeliveries(
          trx,
          {
            id,
            siteId: site.id,
            source: 'api',
            kind: input.kind,
            content,
            audience: input.to,
            ttlSeconds: input.ttl,
            urgency: input.urgency,
            topic: input.topic ?? null,
          },
          now,
        );
        const body = { id, audience };
        if (idempotencyKey !== undefined) await storeIdempotentResponse(trx, site.id, idempotencyKey, 202, body);
        return { status: 202 as const, body, replayed: false };
      });
      if (answer.replayed) c.header('Idempotent-Replayed', 'true');
      else if (answer.body.audience > 0) await deps.onNotificationQueued?.(answer.body.id);
      deps.logger.log('info', answer.replayed ? 'notification replayed' : 'notification queued', {
        requestId: c.get('requestId'),
        siteId: site.id,
        notificationId: answer.body.id,
        audience: answer.body.audience,
      });
      return c.json(answer.body, answer.status);
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

function notificationContent(id: string, input: SendNotificationInput): NotificationContent {
  return {
    title: input.title,
    body: input.body,
    url: input.url,
    ...(input.icon === undefined ? {} : { icon: input.icon }),
    ...(input.image === undefined ? {} : { image: input.image }),
    ...(input.badge === undefined ? {} : { badge: input.badge }),
    ...(input.actions === undefined ? {} : { actions: input.actions }),
    ...(input.requireInteraction === undefined ? {} : { requireInteraction: input.requireInteraction }),
    // One tag per notification: a delivery sent twice (at-least-once) replaces itself on screen.
    tag: id,
  };
}

/** Click targets stay on the shop (a push never sends a shopper off the shop's origins), and the largest delivery must fit a push message. */
function checkContent(site: SiteRow, id: string, content: NotificationContent, publicUrl: string): void {
  const clickTargets: Array<[string, string]> = [['url', content.url]];
  content.actions?.forEach((action, index) => action.url && clickTargets.push([`actions.${index}.url`, action.url]));
  for (const [path, target] of clickTargets) {
    if (!site.allowed_origins.includes(new URL(target).origin)) {
      throw new ApiError('validation_failed', `${path}: must be on one of the site's origins (${site.allowed_origins.join(', ')})`, {
        details: [{ path, message: 'not on the site’s origins' }],
      });
    }
  }
  const bytes = worstCasePayloadBytes(id, content, reportUrl(publicUrl));
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new ApiError(
      'payload_too_large',
      `The push payload would be ${bytes} bytes, ${bytes - MAX_PAYLOAD_BYTES} over the ${MAX_PAYLOAD_BYTES}-byte limit of an encrypted push message; shorten the title, body or URLs`,
      { details: { bytes, limit: MAX_PAYLOAD_BYTES, overflow: bytes - MAX_PAYLOAD_BYTES } },
    );
  }
}

/** JSON with keys sorted, so the same request written in another key order hashes the same. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
