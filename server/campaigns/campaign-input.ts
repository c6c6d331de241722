import { z } from 'zod';
import { MAX_ACTIONS } from '../../service-worker/src/contract.ts';
import { audienceSchema, MAX_TTL_SECONDS, sendNotificationSchema } from '../notifications/notification-input.ts';
import { unknownPlaceholders } from '../notifications/personalisation.ts';
import { actionIdText, canonicalLocale, httpUrlText, postgresTextCheck, text, timeZoneText } from '../validation.ts';

/**
 * What a campaign is made of, as the API and the dashboard's composer take it: the push's content
 * (as the send API's, with per-locale texts and placeholders), its audience (the send API's
 * selectors, a saved segment or rules inline), when it goes, when it ends, and an optional A/B test.
 */

/** A/B variants, by position. Variant A is the first. */
export const VARIANT_NAMES = ['A', 'B', 'C', 'D'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** The wave's wall-clock time in each subscriber's zone: a date and a time to the minute, no offset. */
const LOCAL_TIME = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):([0-5]\d)$/;

const MAX_LOCALES = 30;

/** An ISO 8601 instant with its offset; the text check keeps what Postgres cannot store out, as for every string. */
const instant = z.iso.datetime({ offset: true }).check(postgresTextCheck);

const action = z.strictObject({ action: actionIdText(), title: text().trim().min(1).max(100), url: httpUrlText().optional() });
const actions = z.array(action).max(MAX_ACTIONS, `browsers show at most ${MAX_ACTIONS} action buttons`);

/** Placeholders this service does not fill would reach the shopper as `{{…}}`: refused by name. */
const personalText = (max: number) =>
  text()
    .max(max)
    .superRefine((value, ctx) => {
      const unknown = unknownPlaceholders(value);
      if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `unknown placeholder ${unknown.join(', ')}: use {{firstName}} or {{tags.KEY}}, optionally with a fallback as {{firstName|there}}` });
    });

export const campaignContentSchema = sendNotificationSchema
  .pick({ url: true, icon: true, image: true, badge: true, requireInteraction: true })
  .extend({
    title: personalText(500).trim().min(1),
    body: personalText(2000).default(''),
    actions: actions.optional(),
  })
  .strict();

const localizedTextSchema = z.strictObject({
  title: personalText(500).trim().min(1),
  body: personalText(2000).default(''),
  actions: actions.optional(),
});

/** Texts per locale, keyed canonically (`de-at` → `de-AT`): each delivery picks its subscriber's, else the content's. */
const localizedSchema = z
  .record(text(), localizedTextSchema)
  .superRefine((byLocale, ctx) => {
    const tags = Object.keys(byLocale);
    if (tags.length > MAX_LOCALES) ctx.addIssue({ code: 'custom', path: [], message: `at most ${MAX_LOCALES} locales` });
    for (const tag of tags) {
      if (canonicalLocale(tag) === undefined) ctx.addIssue({ code: 'custom', path: [tag], message: `invalid locale "${tag}": must be a BCP 47 language tag such as "de" or "de-AT"` });
    }
  })
  .transform((byLocale) => Object.fromEntries(Object.entries(byLocale).map(([tag, texts]) => [canonicalLocale(tag) ?? tag, texts])));

export const scheduleSchema = z.union([
  z.strictObject({ at: instant }),
  z.strictObject({
    localTime: text().regex(LOCAL_TIME, 'must be a wall-clock time as YYYY-MM-DDTHH:MM, e.g. 2026-12-05T10:00, without an offset'),
    /** For subscribers whose browser sent no time zone; default: the site's default zone. */
    fallbackTimeZone: timeZoneText().optional(),
  }),
]);

export type CampaignSchedule = z.output<typeof scheduleSchema>;

/** What a variant changes of the campaign's content; `{}` is the content as it is. */
const variantSchema = z.strictObject({
  name: text().trim().min(1).max(60).optional(),
  title: personalText(500).trim().min(1).optional(),
  body: personalText(2000).optional(),
  url: httpUrlText().optional(),
  icon: httpUrlText().optional(),
  image: httpUrlText().optional(),
  actions: actions.optional(),
  localized: localizedSchema.optional(),
});

export type VariantInput = z.output<typeof variantSchema>;

export const abTestSchema = z
  .strictObject({
    /** 2–4 variants, A first: each is the campaign's content with these changes. */
    variants: z.array(variantSchema).min(2, 'an A/B test needs at least 2 variants').max(4, 'at most 4 variants'),
    /** The share of the audience in the test, split evenly between the variants; the winner goes to the rest. 100: everyone is in the test, no winner send. */
    testPercent: z.number().int().min(2).max(100).default(20),
    metric: z.enum(['clicks', 'conversions']).default('clicks'),
    /** Hours after the start when the winner is decided (or `decideAt`). */
    decideAfterHours: z.number().int().min(1).max(7 * 24).optional(),
    decideAt: instant.optional(),
    confidence: z.union([z.literal(0.9), z.literal(0.95), z.literal(0.99)]).default(0.95),
    /** When the difference is not significant: send the leader anyway, send variant A, or wait for the owner to pick. */
    fallback: z.enum(['leader', 'variant_a', 'manual']).default('leader'),
  })
  .refine((test) => !(test.decideAfterHours !== undefined && test.decideAt !== undefined), { message: 'give decideAfterHours or decideAt, not both', path: ['decideAt'] });

export type AbTestInput = z.output<typeof abTestSchema>;

const campaignFields = {
  name: text().trim().min(1).max(120),
  content: campaignContentSchema,
  localized: localizedSchema.optional(),
  ttl: sendNotificationSchema.shape.ttl,
  urgency: sendNotificationSchema.shape.urgency,
  topic: sendNotificationSchema.shape.topic,
  audience: audienceSchema,
  /** Absent or null: sent when the owner says "send now". */
  schedule: scheduleSchema.nullable().optional(),
  /** After this instant nothing more of the campaign goes. */
  endsAt: instant.nullable().optional(),
  abTest: abTestSchema.nullable().optional(),
  /**
   * Each delivery waits for its shopper's best hour within 24 hours of the send (as the send API's
   * `sendAtBestHour`). Not with a local-time schedule, which already names the hour.
   */
  sendAtBestHour: z.boolean().optional(),
};

export const campaignInputSchema = z.strictObject(campaignFields);

export type CampaignInput = z.output<typeof campaignInputSchema>;

/** PATCH: any of the fields; each given field replaces the stored one whole (`null` clears an optional one). */
export const campaignPatchSchema = z
  .strictObject({
    name: campaignFields.name.optional(),
    content: campaignContentSchema.optional(),
    localized: localizedSchema.nullable().optional(),
    ttl: z.number().int().min(0).max(MAX_TTL_SECONDS).optional(),
    urgency: z.enum(['very-low', 'low', 'normal', 'high']).optional(),
    topic: sendNotificationSchema.shape.topic.nullable(),
    audience: audienceSchema.optional(),
    schedule: campaignFields.schedule,
    endsAt: campaignFields.endsAt,
    abTest: campaignFields.abTest,
    sendAtBestHour: z.boolean().nullable().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'name at least one field to change', when: (payload) => payload.issues.length === 0 });

export type CampaignPatch = z.output<typeof campaignPatchSchema>;

/** `send` and `schedule` take the count the owner was shown, when the site asks for one (settings.campaigns.confirmAbove). */
export const confirmationSchema = z.strictObject({
  /** The audience the owner confirmed; the send goes ahead when today's count is not more than 10 % above it. */
  confirmAudience: z.number().int().min(0).optional(),
});

export const testSendSchema = z.strictObject({
  /** Subscriptions to send the test to (e.g. the owner's own browsers). */
  subscriptionIds: audienceSchema.shape.subscriptionIds.unwrap().max(20),
  /** Which variant's text (default A, the content as it is). */
  variant: z.enum(VARIANT_NAMES).optional(),
});

export const pickWinnerSchema = z.strictObject({ variant: z.enum(VARIANT_NAMES) });
