import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import type { SubscriptionStatus } from '../db/database.ts';
import { isUuid } from '../db/sites.ts';
import { changeSubscriptionTags, type TagTarget } from '../db/subscription-tags.ts';
import {
  findSubscriber,
  listSubscribers,
  resolveShopper,
  shopperDeliveries,
  shopperEvents,
  shopperInteractions,
  shopperOrders,
  shopperSubscriptions,
  type ErasedCounts,
  type SubscriberFilters,
} from '../db/subscribers.ts';
import { setBirthday } from '../db/birthdays.ts';
import { ApiError } from '../errors.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { operation } from '../openapi/operation.ts';
import { decodeCursor, encodeCursor } from '../subscribers/cursor.ts';
import { eraseShopperData, exportShopperData, shopperFrom, type ShopperSelector } from '../subscribers/shopper-records.ts';
import { checkTagChange, MAX_TAGS_PER_SUBSCRIPTION, tagChangeAnswer, tagChangeFields, tagChangeOf, tagsUpdatedSchema } from '../subscribers/subscriber-tags.ts';
import {
  deliveryView,
  eraseResultSchema,
  eventView,
  interactionView,
  orderView,
  shopperExportSchema,
  subscriberDetailSchema,
  subscriberPageSchema,
  subscriberView,
} from '../subscribers/subscriber-views.ts';
import { externalIdText, localeTag, text, validate, visitorIdText } from '../validation.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** How many of each (events, deliveries, clicks, orders) the detail shows; the export has them all. */
export const RECENT_ITEMS = 50;

/** The families `userAgentFamily` (routes/subscriptions.ts) records. */
const BROWSERS = ['chrome', 'edge', 'firefox', 'safari', 'opera', 'samsung', 'other'] as const;
const STATUSES = ['active', 'expired', 'unsubscribed'] as const satisfies readonly SubscriptionStatus[];

const listQuery = z.strictObject({
  limit: text()
    .regex(/^[0-9]{1,3}$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `must be from 1 to ${MAX_PAGE_SIZE}`).max(MAX_PAGE_SIZE, `must be from 1 to ${MAX_PAGE_SIZE}`))
    .optional(),
  /** The `nextCursor` of the page before. */
  cursor: text()
    .max(200)
    .refine((cursor) => decodeCursor(cursor) !== undefined, 'is not a cursor this API gave out (hand back nextCursor as it came)')
    .transform((cursor) => decodeCursor(cursor)!)
    .optional(),
  /** The start of a visitor id or of the shop's user id. */
  search: text().min(1).max(200).optional(),
  status: z.enum(STATUSES).optional(),
  browser: z.enum(BROWSERS).optional(),
  /** A language lists its regional forms too: `de` finds de, de-DE and de-AT. */
  locale: localeTag().optional(),
  /** `key:value`: subscriptions whose tags have that value under that key. */
  tag: text().regex(/^[^:]{1,64}:.{1,200}$/s, 'must be key:value, such as plan:vip').optional(),
});

const idParam = z.object({ id: text() });

const selectorBody = z
  .strictObject({ visitorId: visitorIdText().optional(), externalUserId: externalIdText().optional() })
  .refine((body) => (body.visitorId === undefined) !== (body.externalUserId === undefined), {
    message: 'name the shopper by exactly one of visitorId and externalUserId',
  });

/** Month and day only (no year: nothing needs an age); `null` for both removes it. */
const birthdayBody = z
  .strictObject({
    externalUserId: externalIdText(),
    month: z.number().int().min(1).max(12).nullable(),
    day: z.number().int().min(1).max(31).nullable(),
  })
  .refine((body) => (body.month === null) === (body.day === null), { message: 'give month and day, or null for both to remove the birthday', path: ['day'] })
  // 29 February is allowed (sent on the 28th in other years); 31 April is not.
  .refine((body) => body.month === null || body.day === null || body.day <= new Date(Date.UTC(2024, body.month, 0)).getUTCDate(), { message: 'no such day in that month', path: ['day'] });

const TAG_TARGETS = ['subscriptionId', 'externalUserId', 'visitorId'] as const;

const tagsBody = z
  .strictObject({
    subscriptionId: text().refine(isUuid, 'must be a subscription id (a UUID)').optional(),
    externalUserId: externalIdText().optional(),
    visitorId: visitorIdText().optional(),
    ...tagChangeFields,
  })
  .superRefine((body, ctx) => {
    const named = TAG_TARGETS.filter((field) => body[field] !== undefined);
    if (named.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: `name the subscribers by exactly one of ${TAG_TARGETS.join(', ')}` });
    }
    checkTagChange(body, ctx);
  });

function tagTarget(body: z.infer<typeof tagsBody>): TagTarget {
  if (body.subscriptionId !== undefined) return { subscriptionId: body.subscriptionId };
  if (body.externalUserId !== undefined) return { externalUserId: body.externalUserId };
  return { visitorId: body.visitorId! };
}

function tagFilter(tag: string): NonNullable<SubscriberFilters['tag']> {
  const colon = tag.indexOf(':');
  const key = tag.slice(0, colon);
  const value = tag.slice(colon + 1);
  // Tags hold strings, numbers and booleans; `plan:3` finds "3" and 3, `beta:true` finds "true" and true.
  const values: Array<string | number | boolean> = [value];
  if (/^-?[0-9]+(\.[0-9]+)?$/.test(value)) values.push(Number(value));
  if (value === 'true' || value === 'false') values.push(value === 'true');
  return { key, values };
}

function selectorOf(body: { visitorId?: string | undefined; externalUserId?: string | undefined }): ShopperSelector {
  return body.visitorId !== undefined ? { visitorId: body.visitorId } : { externalUserId: body.externalUserId! };
}

/**
 * The shop's subscribers (secret key): a subscriber is one subscription, a browser that opted in,
 * and belongs to a shopper — the visitor ids and user ids their subscriptions tie together. The
 * list pages through subscriptions; the detail, erase and export work on the whole shopper.
 */
export function subscriberRoutes(deps: AppDeps) {
  const now = () => new Date((deps.now ?? Date.now)());
  const notFound = (id: string) => new ApiError('not_found', `No subscriber ${id} for this site`);

  return new Hono<AppEnv>()
    .use('/v1/subscribers', secretKeyAuth(deps))
    .use('/v1/subscribers/*', secretKeyAuth(deps))
    .get(
      '/v1/subscribers',
      operation({
        summary: 'List subscribers',
        description: `Subscriptions, newest first, ${DEFAULT_PAGE_SIZE} a page (\`limit\` up to ${MAX_PAGE_SIZE}). Pass \`nextCursor\` back as \`cursor\` for the next page: a page never repeats or skips a subscriber, whatever is subscribed meanwhile. Filters combine: \`search\` (a visitor id or user id prefix), \`status\`, \`browser\`, \`locale\`, \`tag=key:value\`.`,
        tag: 'Subscribers',
        access: 'secretKey',
        responses: { 200: { description: 'A page of subscribers', schema: subscriberPageSchema } },
      }),
      validate('query', listQuery),
      async (c) => {
        const site = c.get('site');
        const query = c.req.valid('query');
        const limit = query.limit ?? DEFAULT_PAGE_SIZE;
        const filters: SubscriberFilters = {
          ...(query.search === undefined ? {} : { search: query.search }),
          ...(query.status === undefined ? {} : { status: query.status }),
          ...(query.browser === undefined ? {} : { browser: query.browser }),
          ...(query.locale === undefined ? {} : { locale: query.locale }),
          ...(query.tag === undefined ? {} : { tag: tagFilter(query.tag) }),
        };
        const rows = await listSubscribers(deps.db, site.id, filters, query.cursor, limit);
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        return c.json({
          data: page.map(subscriberView),
          nextCursor: rows.length > limit && last ? encodeCursor({ createdAtMicros: last.created_at_micros, id: last.id }) : null,
        });
      },
    )
    .post(
      '/v1/subscribers/erase',
      operation({
        summary: 'Erase a shopper by visitor id or user id',
        description:
          'GDPR art. 17, for a shop’s own erase-request flow. Deletes the shopper’s subscriptions, events, carts, watches and the prices they saw; keeps their deliveries, what their browsers reported about them and the orders attributed to them only as anonymous rows, so the site’s figures stay. Ids tied together by a subscription are one shopper: erasing a user id erases the browsers they subscribed on. Erasing someone of whom nothing is stored answers zero counts.',
        tag: 'Subscribers',
        access: 'secretKey',
        responses: { 200: { description: 'Erased; what and how much', schema: eraseResultSchema } },
      }),
      validate('json', selectorBody),
      async (c) => {
        const site = c.get('site');
        const result = await eraseShopperData(deps.db, site.id, shopperFrom(selectorOf(c.req.valid('json'))), now());
        logErased(deps, c.get('requestId'), site.id, result.erased);
        return c.json(result);
      },
    )
    .post(
      '/v1/subscribers/export',
      operation({
        summary: 'Export a shopper by visitor id or user id',
        description:
          'GDPR art. 15 and 20: everything stored about the shopper as JSON — subscriptions (endpoints, without the browser’s keys), events, deliveries with their texts, interactions, orders, carts, watches, prices seen and price alerts. A POST, so that ids stay out of URLs and access logs. Someone of whom nothing is stored gets empty lists.',
        tag: 'Subscribers',
        access: 'secretKey',
        responses: { 200: { description: 'The shopper’s data', schema: shopperExportSchema } },
      }),
      validate('json', selectorBody),
      async (c) => {
        const site = c.get('site');
        return c.json(await exportShopperData(deps.db, site.id, shopperFrom(selectorOf(c.req.valid('json'))), now()));
      },
    )
    .post(
      '/v1/subscribers/tags',
      operation({
        summary: 'Set and remove subscribers’ tags',
        description: `Sets the keys of \`set\` and removes those of \`remove\` on every subscription (active or not) of the one subscriber named by \`subscriptionId\`, \`externalUserId\` or \`visitorId\`; other tags are kept. Keys are 1–64 characters; values are text (up to 200 characters), numbers or booleans. A subscription holds at most ${MAX_TAGS_PER_SUBSCRIPTION} tags: a change that would pass that on any of them changes none. Tags select an audience in \`POST /v1/notifications\` (\`to.tags\`) and in segments.`,
        tag: 'Subscribers',
        access: 'secretKey',
        responses: { 200: { description: 'How many subscriptions were changed', schema: tagsUpdatedSchema } },
        errors: ['not_found'],
      }),
      validate('json', tagsBody),
      async (c) => {
        const site = c.get('site');
        const body = c.req.valid('json');
        const result = await changeSubscriptionTags(deps.db, site.id, tagTarget(body), tagChangeOf(body), { now: now(), maxTags: MAX_TAGS_PER_SUBSCRIPTION });
        return c.json({ updated: tagChangeAnswer(result) });
      },
    )
    .post(
      '/v1/subscribers/birthday',
      operation({
        summary: 'Set or remove a shopper’s birthday',
        description:
          'The birthday (month and day) of the shopper the shop knows as `externalUserId`, for the birthday push (`settings.birthday`): sent on that day at the shopper’s best hour in their own time zone, once a year. Someone born on 29 February gets it on the 28th in other years. `month` and `day` null remove it. Answers 204; setting it before the shopper subscribes is fine.',
        tag: 'Subscribers',
        access: 'secretKey',
        responses: { 204: { description: 'Set (or removed)' } },
      }),
      validate('json', birthdayBody),
      async (c) => {
        const site = c.get('site');
        const body = c.req.valid('json');
        await setBirthday(deps.db, site.id, body.externalUserId, body.month === null || body.day === null ? null : { month: body.month, day: body.day }, now());
        return c.body(null, 204);
      },
    )
    .get(
      '/v1/subscribers/:id',
      operation({
        summary: 'A subscriber',
        description: `The subscription, the shopper it belongs to with all their subscriptions, and their latest ${RECENT_ITEMS} events, deliveries (with why one did not go), clicks and orders.`,
        tag: 'Subscribers',
        access: 'secretKey',
        responses: { 200: { description: 'The subscriber', schema: subscriberDetailSchema } },
        errors: ['not_found'],
      }),
      validate('param', idParam),
      async (c) => {
        const site = c.get('site');
        const { id } = c.req.valid('param');
        const subscription = isUuid(id) ? await findSubscriber(deps.db, site.id, id) : undefined;
        if (!subscription) throw notFound(id);
        const shopper = await resolveShopper(deps.db, site.id, {
          visitorIds: [subscription.visitor_id],
          externalUserIds: subscription.external_user_id === null ? [] : [subscription.external_user_id],
        });
        const [subscriptions, events, deliveries, clicks, orders] = await Promise.all([
          shopperSubscriptions(deps.db, site.id, shopper),
          shopperEvents(deps.db, site.id, shopper, RECENT_ITEMS),
          shopperDeliveries(deps.db, site.id, shopper, RECENT_ITEMS),
          shopperInteractions(deps.db, site.id, shopper, ['clicked'], RECENT_ITEMS),
          shopperOrders(deps.db, site.id, shopper, RECENT_ITEMS),
        ]);
        return c.json({
          subscriber: subscriberView(subscription),
          shopper,
          subscriptions: subscriptions.map(subscriberView),
          events: events.map(eventView),
          deliveries: deliveries.map(deliveryView),
          clicks: clicks.map(interactionView),
          orders: orders.map(orderView),
        });
      },
    )
    .delete(
      '/v1/subscribers/:id',
      operation({
        summary: 'Erase a subscriber',
        description:
          'GDPR art. 17: erases the shopper this subscription belongs to, as `POST /v1/subscribers/erase` does. The id is gone afterwards, so erasing it again answers 404.',
        tag: 'Subscribers',
        access: 'secretKey',
        responses: { 200: { description: 'Erased; what and how much', schema: eraseResultSchema } },
        errors: ['not_found'],
      }),
      validate('param', idParam),
      async (c) => {
        const site = c.get('site');
        const { id } = c.req.valid('param');
        const subscription = isUuid(id) ? await findSubscriber(deps.db, site.id, id) : undefined;
        if (!subscription) throw notFound(id);
        const result = await eraseShopperData(
          deps.db,
          site.id,
          { visitorIds: [subscription.visitor_id], externalUserIds: subscription.external_user_id === null ? [] : [subscription.external_user_id] },
          now(),
        );
        logErased(deps, c.get('requestId'), site.id, result.erased);
        return c.json(result);
      },
    );
}

/** The counts only: an erased shopper's ids in the log would outlive the erase. */
function logErased(deps: AppDeps, requestId: string, siteId: string, erased: ErasedCounts): void {
  deps.logger.log('info', 'shopper erased', { requestId, siteId, ...erased });
}
