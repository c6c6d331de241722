import { z } from 'zod';
import { MAX_ACTIONS } from '../../service-worker/src/contract.ts';
import { DAY_SECONDS } from '../time.ts';
import { segmentDefinitionSchema, type SegmentDefinition } from '../segments/segment-rules.ts';
import { actionIdText, externalIdText, httpUrlText, text, visitorIdText } from '../validation.ts';

/** RFC 8030 §5.2: a TTL longer than this is pointless; push services cap it (FCM: 28 days). */
export const MAX_TTL_SECONDS = 28 * DAY_SECONDS;
export const DEFAULT_TTL_SECONDS = DAY_SECONDS;
/** RFC 8030 §5.4: a Topic is at most 32 characters of the URL-safe base64 alphabet. */
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
/** At most this many ids in one selector; larger audiences are tags or `all`. */
const MAX_SELECTOR_IDS = 1000;

const httpUrl = httpUrlText();

const uuid = text().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a subscription id');

export const audienceSchema = z
  .object({
    all: z.literal(true).optional(),
    subscriptionIds: z.array(uuid).min(1).max(MAX_SELECTOR_IDS).optional(),
    externalUserIds: z.array(externalIdText()).min(1).max(MAX_SELECTOR_IDS).optional(),
    // The snippet's visitor ids have this form; any other value could only match nobody.
    visitorIds: z.array(visitorIdText()).min(1).max(MAX_SELECTOR_IDS).optional(),
    /**
     * Subscribers whose tags contain all of these key/value pairs (`tags @> filter` in SQL). An
     * empty filter is contained in every subscriber's tags, so it would send to everyone: it is
     * refused, and everyone is said only as `all: true`. (zod drops a `__proto__` key while
     * copying a record, so `{"__proto__": "x"}` arrives here empty and is refused the same way.)
     */
    tags: z
      .record(text().min(1).max(64), z.union([text().max(200), z.number(), z.boolean()]))
      .refine((tags) => Object.keys(tags).length > 0, 'name at least one tag; to send to everyone, use {"all": true}')
      .optional(),
    /** Subscribers matching a segment's rules (server/segments/segment-rules.ts), given inline. */
    segment: segmentDefinitionSchema.optional(),
    /** A saved segment of the site: its rules are copied onto the notification when it is sent. */
    segmentId: text().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a segment id').optional(),
  })
  .strict()
  .refine((to) => Object.values(to).some((value) => value !== undefined), {
    message: 'name an audience: all, subscriptionIds, externalUserIds, visitorIds, tags, segment or segmentId',
  })
  .refine((to) => !(to.all && (to.subscriptionIds || to.externalUserIds || to.visitorIds || to.tags)), {
    message: '`all` cannot be combined with other selectors',
  })
  .refine((to) => !(to.segment || to.segmentId) || Object.values(to).filter((value) => value !== undefined).length === 1, {
    message: 'a segment (`segment` or `segmentId`) cannot be combined with other selectors',
  });

/**
 * An audience as stored on a notification: the send API's selectors, where a `segmentId` has been
 * resolved to its rules (`segment`), kept beside it for the record.
 */
export type Audience = Omit<z.infer<typeof audienceSchema>, 'segment'> & { segment?: SegmentDefinition };

export const sendNotificationSchema = z
  .object({
    title: text().trim().min(1).max(500),
    body: text().max(2000).default(''),
    url: httpUrl,
    icon: httpUrl.optional(),
    image: httpUrl.optional(),
    badge: httpUrl.optional(),
    actions: z
      .array(
        z
          .object({
            action: actionIdText(),
            title: text().trim().min(1).max(100),
            url: httpUrl.optional(),
          })
          .strict(),
      )
      .max(MAX_ACTIONS, `browsers show at most ${MAX_ACTIONS} action buttons`)
      .optional(),
    requireInteraction: z.boolean().optional(),
    ttl: z.number().int().min(0).max(MAX_TTL_SECONDS).default(DEFAULT_TTL_SECONDS),
    urgency: z.enum(['very-low', 'low', 'normal', 'high']).default('normal'),
    topic: text().regex(TOPIC, 'must be at most 32 characters of A–Z, a–z, 0–9, _ or - (RFC 8030 §5.4)').optional(),
    kind: z.enum(['transactional', 'marketing']).default('marketing'),
    to: audienceSchema,
    /**
     * Send each delivery at its shopper's best hour within the next 24 hours (issue 14): the hour
     * they most often clicked or visited, else the site's shoppers' best hour, else now. Marketing
     * pushes only, not with urgency `high` (refused by `apiSendRequest`: a refinement here would
     * keep the campaign schema from picking fields of this one).
     */
    sendAtBestHour: z.boolean().optional(),
  })
  .strict();

export type SendNotificationInput = z.infer<typeof sendNotificationSchema>;
