import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { insertEvent, upsertWatch } from '../db/events.ts';
import { findProduct, recordProductInterest } from '../db/products.ts';
import { applyCommerceEvent } from '../triggers/commerce-events.ts';
import { ApiError } from '../errors.ts';
import { bearerToken, browserAccess } from '../middleware/browser-access.ts';
import type { RateLimiters } from '../middleware/rate-limit.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { keyKind } from '../sites/api-keys.ts';
import { externalIdText, jsonObject, money, text, validate, visitorIdText } from '../validation.ts';
import { documentAs, operation } from '../openapi/operation.ts';
import { isOrderUpdateEvent, isPromptFunnelEvent, KNOWN_EVENT_TYPES, knownEventSchema } from '../triggers/commerce-event-input.ts';
import { countPromptStep, PROMPT_FUNNEL_STEPS } from '../db/prompt-funnel.ts';
import { isStorageUnavailable } from '../db/storage-errors.ts';
import { createGroupCommitter } from '../ingest/group-commit.ts';
import { writeEventGroup, type GroupedEvent } from '../ingest/event-groups.ts';

const visitorId = visitorIdText();
const id = externalIdText();

const CUSTOM_EVENT_TYPE = /^[a-z][a-z0-9_.:-]{0,63}$/;
/** The types parsed by `knownEventSchema`: the commerce triggers' and the soft prompt's funnel steps. */
const PARSED_EVENT_TYPES: ReadonlySet<string> = new Set([...KNOWN_EVENT_TYPES, ...PROMPT_FUNNEL_STEPS]);

const eventEnvelope = z.strictObject({
  type: text().regex(CUSTOM_EVENT_TYPE, 'must be a known event type or a custom one like wishlist_added'),
  visitorId: visitorId.optional(),
  externalUserId: id.optional(),
  /** The sender's id for this event: the same id again is a retry and stored once. */
  eventId: text().min(1).max(100).optional(),
  properties: jsonObject().default({}),
});

/**
 * An event: a known type parsed by `knownEventSchema` (`custom: false`, its properties typed per
 * type) or a shop's own (`custom: true`, free-form properties). A known type's property problems are
 * reported under `properties.…`.
 */
const eventBody = documentAs(
  eventEnvelope.transform((event, ctx) => {
    if (!PARSED_EVENT_TYPES.has(event.type)) return { ...event, custom: true as const };
    const known = knownEventSchema.safeParse({ type: event.type, properties: event.properties });
    if (known.success) return { ...event, ...known.data, custom: false as const };
    for (const issue of known.error.issues) ctx.addIssue({ code: 'custom', path: issue.path.map(String), message: issue.message });
    return z.NEVER;
  }),
  z.union([
    ...knownEventSchema.options.map((variant) => eventEnvelope.extend(variant.shape)),
    eventEnvelope.extend({ type: eventEnvelope.shape.type.describe('A type of the shop’s own (not one of the above): its properties are free-form') }),
  ]),
);

const watchBody = z.strictObject({
  visitorId,
  productId: id,
  kind: z.enum(['price_drop', 'back_in_stock']),
  /** price_drop: the shopper's own target (notify when the price reaches it); without one, any drop of the site's threshold. */
  price: money().optional(),
});

type ParsedEvent = z.output<typeof eventBody>;

/**
 * What a browser event changes, when it can be written in a group: a shop's own type or
 * checkout_started (the row only), a prompt step (a counter), product_viewed (a price and who saw
 * it). Cart and order events keep their own transaction: they are few, and touch the shopper's
 * carts and the conversions.
 */
function groupedEffect(event: ParsedEvent, siteId: string): GroupedEvent['effect'] | undefined {
  if (event.custom || event.type === 'checkout_started') return { kind: 'stored_only' };
  if (isPromptFunnelEvent(event)) return { kind: 'prompt_step', step: event.type, visitorId: event.visitorId! };
  if (event.type !== 'product_viewed') return undefined;
  const p = event.properties;
  const product = { productId: p.productId, ...(p.name !== undefined ? { name: p.name } : {}), url: p.url, ...(p.image !== undefined ? { image: p.image } : {}), price: p.price, currency: p.currency };
  // A browser names no external user (refused above), so the visitor is the shopper.
  return { kind: 'browser_view', view: { siteId, product, shopper: `v:${event.visitorId!}` } };
}

/**
 * `POST /v1/events` from the snippet (publishable key, by visitor) or the shop's backend (secret
 * key, by visitor or external user id), and `POST /v1/watches` ("tell me when…") from the snippet.
 */
export function eventRoutes(deps: AppDeps, limiters: RateLimiters) {
  const fromBrowser = browserAccess(deps, limiters, { keyFrom: 'header' });
  const fromServer = secretKeyAuth(deps);
  const eitherKey: MiddlewareHandler<AppEnv> = async (c, next) => {
    const token = bearerToken(c);
    if (token !== undefined && keyKind(token) === 'secret') {
      c.set('eventSource', 'server');
      return fromServer(c, next);
    }
    c.set('eventSource', 'browser');
    return fromBrowser(c, next);
  };

  const eventGroups = createGroupCommitter((group: GroupedEvent[]) => writeEventGroup(deps.db, group, { publicUrl: deps.config.publicUrl }), {
    // A database that cannot be reached fails the whole group (503 each); any other error may be one
    // event's own, so its group is written again one by one.
    isolateFailure: (error) => !isStorageUnavailable(error),
    ...(deps.ingestGroups ? { settings: deps.ingestGroups } : {}),
  });

  return new Hono<AppEnv>()
    .use('/v1/events', eitherKey)
    .post(
      '/v1/events',
      operation({
        summary: 'Record a shopper’s event',
        description:
          '`product_viewed`, `cart_updated`, `checkout_started` and `order_completed` drive the triggers (cart reminders, price drops, conversions); `order_shipped`, `order_delivered`, `order_ready_for_pickup`, `order_cancelled` and `refund_issued` (secret key only) send the shopper a transactional push once per order and type, and `order_delivered` schedules the rating request; the snippet reports the soft prompt’s funnel as `prompt_shown`, `prompt_accepted`, `prompt_postponed`, `permission_granted`, `permission_denied`, `permission_dismissed` and `push_subscribed` (publishable key only; counted per day); any other type is stored as it is. From a page (publishable key, with `visitorId`) or the shop’s backend (secret key, with `visitorId` or `externalUserId`). The same `eventId` again is a retry: stored once, `duplicate: true`.',
        tag: 'Browser',
        access: 'eitherKey',
        responses: { 202: { description: 'Stored (or a retry of a stored event)', schema: z.strictObject({ stored: z.boolean(), duplicate: z.boolean() }) } },
      }),
      validate('json', eventBody), async (c) => {
      const site = c.get('site');
      const event = c.req.valid('json');
      const source = c.get('eventSource');
      if (source === 'browser' && event.externalUserId !== undefined) {
        throw new ApiError('key_not_allowed', 'externalUserId may be sent with a secret key only; browsers link users with identify');
      }
      if (source === 'server' && !event.custom && isPromptFunnelEvent(event)) {
        throw new ApiError('key_not_allowed', `${event.type} is reported by the snippet in the shopper's browser, with the publishable key`);
      }
      if (source === 'browser' && !event.custom && isOrderUpdateEvent(event)) {
        throw new ApiError('key_not_allowed', `${event.type} is reported by the shop's backend, with a secret key: it sends the shopper a push`);
      }
      if (event.visitorId === undefined && event.externalUserId === undefined) {
        throw new ApiError('validation_failed', source === 'browser' ? 'visitorId: required' : 'visitorId or externalUserId: one is required');
      }
      const now = new Date((deps.now ?? Date.now)());
      const stored = { visitorId: event.visitorId ?? null, externalUserId: event.externalUserId ?? null };
      const row = { siteId: site.id, source, type: event.type, ...stored, properties: event.properties, clientEventId: event.eventId ?? null, at: now };
      const grouped = source === 'browser' ? groupedEffect(event, site.id) : undefined;
      if (grouped) {
        // A shopper's page event: written with the others arriving now, answered once they committed.
        const outcome = await eventGroups.submit({ site, event: row, effect: grouped });
        if (outcome.isNew) deps.metrics?.eventsIngested(event.custom ? 'custom' : event.type, source);
        for (const id of outcome.queued) await deps.onNotificationQueued?.(id);
        return c.json({ stored: outcome.isNew, duplicate: !outcome.isNew }, 202);
      }
      // The event and what it changes (cart timers, catalogue, attribution) commit together; a
      // retried event (same eventId) is stored once and changes nothing the second time.
      const result = await deps.db.transaction().execute(async (trx) => {
        const isNew = await insertEvent(trx, row);
        if (!isNew || event.custom) return { isNew, queued: [] };
        if (isPromptFunnelEvent(event)) {
          // Browser-only (checked above), so the visitor id is there.
          await countPromptStep(trx, site.id, event.type, event.visitorId!, now);
          return { isNew, queued: [] };
        }
        const queued = await applyCommerceEvent(trx, site, { ...event, source, ...stored }, { now, publicUrl: deps.config.publicUrl });
        return { isNew, queued };
      });
      // Known types by name; a shop's own under one label, so their number stays bounded.
      if (result.isNew) deps.metrics?.eventsIngested(event.custom ? 'custom' : event.type, source);
      for (const id of result.queued) await deps.onNotificationQueued?.(id);
      return c.json({ stored: result.isNew, duplicate: !result.isNew }, 202);
    })
    .use('/v1/watches', fromBrowser)
    .post(
      '/v1/watches',
      operation({
        summary: 'Watch a product for a price drop or a restock',
        description: 'A `price_drop` watch with a `price` fires when the product reaches it; without one, at any drop of the site’s threshold.',
        tag: 'Browser',
        access: 'publishableKey',
        responses: { 201: { description: 'Watching', schema: z.strictObject({ productId: z.string(), kind: z.enum(['price_drop', 'back_in_stock']) }) } },
      }),
      validate('json', watchBody), async (c) => {
      const watch = c.req.valid('json');
      const siteId = c.get('site').id;
      const now = new Date((deps.now ?? Date.now)());
      await deps.db.transaction().execute(async (trx) => {
        await upsertWatch(trx, { siteId, visitorId: watch.visitorId, productId: watch.productId, kind: watch.kind, price: watch.price ?? null }, now);
        // Watching without a target: a drop is measured from the price the product has now.
        const product = watch.kind === 'price_drop' && watch.price === undefined ? await findProduct(trx, siteId, watch.productId) : undefined;
        if (product?.price != null) {
          await recordProductInterest(
            trx,
            [{ siteId, productId: watch.productId, shopper: `v:${watch.visitorId}`, price: Number(product.price), via: 'watched' }],
            now,
          );
        }
      });
      return c.json({ productId: watch.productId, kind: watch.kind }, 201);
    });
}
