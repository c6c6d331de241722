import { z } from 'zod';
import { DEFAULT_ENGAGEMENT_SETTINGS, engagementSettingsSchema } from './engagement-settings.ts';
import { contrastProblem, contrastRatio, HEX_COLOUR, onAccentColour } from './prompt-look.ts';
import { messageTemplateSchema, templatesSchema } from './template-settings.ts';
import { canonicalLocale, httpUrlText, localeTag, text } from '../validation.ts';
import { MAX_BROWSER_TAG_KEYS, tagKeyText } from '../subscribers/subscriber-tags.ts';

const locale = localeTag();

// Shared with the dashboard's preview script, which computes the same colours in the browser.
export { contrastRatio, onAccentColour };

const hexColour = () => text().regex(HEX_COLOUR, 'must be a colour as #rgb or #rrggbb, e.g. #2557d6');

/**
 * How the soft prompt looks. The logo may be any https URL, not only one on the site's origins:
 * shops serve images from their platform's CDN (another host than the shop), and the snippet only
 * ever shows it as an <img>, which runs nothing. https only, so an https shop never gets
 * mixed content (and browsers block mixed images on https pages); no user:password part.
 */
export const promptThemeSchema = z
  .strictObject({
    /** The Allow button. */
    accent: hexColour().default('#2557d6'),
    background: hexColour().default('#ffffff'),
    text: hexColour().default('#1f2328'),
    /** Corner radius of the card, in CSS pixels (the buttons take a share of it). */
    radius: z.number().int().min(0).max(32).default(16),
    /** On phones (narrower than 480 px) the prompt is always a sheet along the bottom edge. */
    position: z.enum(['bottom-right', 'bottom-left', 'top', 'center']).default('bottom-right'),
    logoUrl: httpUrlText()
      .refine((url) => url.startsWith('https://'), 'must be an https URL (an http image is blocked on an https shop)')
      .refine((url) => !/^https:\/\/[^/?#]*@/.test(url), 'must not carry a user name or password')
      .optional(),
  })
  .superRefine((theme, ctx) => {
    const problem = contrastProblem(theme.text, theme.background);
    if (problem) ctx.addIssue({ code: 'custom', path: ['text'], message: problem });
  });

/** The prompt's four texts in one language; a language is given whole, so no prompt mixes two. */
export const promptTextsSchema = z.strictObject({
  title: text().min(1).max(120),
  body: text().min(1).max(300),
  allow: text().min(1).max(40),
  later: text().min(1).max(40),
});

export type PromptTexts = z.output<typeof promptTextsSchema>;

const MAX_PROMPT_LOCALES = 50;

/** Texts per locale, keyed canonically (`de-at` → `de-AT`) as templates are, so lookups are exact. */
const promptTextsByLocaleSchema = z
  .record(text(), promptTextsSchema)
  .superRefine((byLocale, ctx) => {
    const tags = Object.keys(byLocale);
    if (tags.length > MAX_PROMPT_LOCALES) ctx.addIssue({ code: 'custom', path: [], message: `at most ${MAX_PROMPT_LOCALES} locales` });
    const seen = new Map<string, string>();
    for (const tag of tags) {
      const canonical = canonicalLocale(tag);
      if (canonical === undefined) {
        ctx.addIssue({ code: 'custom', path: [tag], message: `invalid locale "${tag}": must be a BCP 47 language tag such as "de" or "de-AT"` });
        continue;
      }
      const earlier = seen.get(canonical);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: [tag], message: `locale "${tag}" repeats "${earlier}"` });
      seen.set(canonical, tag);
    }
  })
  .transform((byLocale) => Object.fromEntries(Object.entries(byLocale).map(([tag, texts]) => [canonicalLocale(tag) ?? tag, texts])));

/** The prompt's texts when a shop wrote none for a shopper's language (nor its default locale). */
export const BUILT_IN_PROMPT_TEXTS: Readonly<Record<string, PromptTexts>> = {
  en: {
    title: 'Get deals and cart reminders?',
    body: 'We will only notify you about prices and your cart. Turn it off at any time.',
    allow: 'Allow',
    later: 'Later',
  },
  de: {
    title: 'Angebote und Warenkorb-Erinnerungen erhalten?',
    body: 'Wir benachrichtigen Sie nur zu Preisen und Ihrem Warenkorb. Sie können das jederzeit abschalten.',
    allow: 'Erlauben',
    later: 'Später',
  },
};

/**
 * Per-site settings stored as jsonb. Every field has a default, so a site created today and a
 * setting added tomorrow both read as complete objects.
 */
export const promptSettingsSchema = z.strictObject({
  /** When the soft prompt appears: after N page views, after N seconds, after a cart update, or only when the page calls optIn(). */
  trigger: z.enum(['page_views', 'seconds', 'cart_updated', 'manual']).default('page_views'),
  pageViews: z.number().int().min(1).max(100).default(2),
  delaySeconds: z.number().int().min(0).max(3600).default(10),
  /** Days a "Later" answer hides the prompt for. */
  snoozeDays: z.number().int().min(1).max(365).default(7),
  theme: promptThemeSchema.default(promptThemeSchema.parse({})),
  /** Per locale; looked up like templates (the shopper's locale, then the site's default locale, then the built-in texts). */
  texts: promptTextsByLocaleSchema.default({}),
  // Earlier single texts for every language, kept so a shop that set them keeps them; `texts` wins
  // where it has the shopper's or the default locale.
  title: text().max(120).optional(),
  body: text().max(300).optional(),
  allowLabel: text().max(40).optional(),
  laterLabel: text().max(40).optional(),
});

const percent = z.number().min(0).max(100);

const cartReminderStepSchema = z
  .object({
    /** Minutes after the shopper's last change to the cart. */
    delayMinutes: z.number().int().min(5).max(30 * 24 * 60),
    /** Offered in this step's text as {{discount.code}}, e.g. on the second reminder. */
    discountCode: text().min(1).max(64).optional(),
  })
  .strict();

export const cartReminderSettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** One or two steps (templates cart_reminder.1 and .2), each later than the one before. */
    steps: z
      .array(cartReminderStepSchema)
      .min(1)
      .max(2)
      .refine((steps) => steps.every((step, i) => i === 0 || step.delayMinutes > steps[i - 1]!.delayMinutes), 'each step must come later than the one before')
      .default([{ delayMinutes: 60 }, { delayMinutes: 24 * 60 }]),
    holdoutPercent: percent.default(0),
  })
  .strict();

export const priceDropSettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The fall, in % of the price a shopper saw, that is worth a push (a watcher's own target overrides it). */
    thresholdPercent: z.number().min(0.1).max(90).default(5),
    /** Within this many hours after a price-drop push, the same shopper hears of the product again only if the price falls further. */
    renotifyWindowHours: z.number().int().min(1).max(24 * 90).default(7 * 24),
    holdoutPercent: percent.default(0),
    /**
     * What a drop is measured and announced against. `lowest30`: the lowest price of the 30 days
     * before the drop, the only prior price an EU shop may announce (directive 98/6/EC art. 6a) —
     * no push unless the new price is below it, and `{{price.old}}` shows it. `previous`: the price
     * just before the drop, for shops outside the EU. The default is the lawful one: a shop that
     * never looked at this setting must not announce "was €99" when it sold at €79 last week.
     */
    compareWith: z.enum(['lowest30', 'previous']).default('lowest30'),
    /** Wait for each shopper's best hour within 24 hours (engagement-rules.ts). */
    sendAtBestHour: z.boolean().default(false),
  })
  .strict();

export const backInStockSettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    holdoutPercent: percent.default(0),
    /** Wait for each shopper's best hour within 24 hours (engagement-rules.ts). */
    sendAtBestHour: z.boolean().default(false),
  })
  .strict();

export const attributionSettingsSchema = z
  .object({
    /** An order this many hours after a click counts as that notification's conversion. */
    windowHours: z.number().int().min(1).max(24 * 30).default(24),
  })
  .strict();

export const campaignSettingsSchema = z
  .object({
    /** A campaign to more subscribers than this needs a confirmation naming the count before it is sent or scheduled. */
    confirmAbove: z.number().int().min(0).max(100_000_000).default(1000),
  })
  .strict();

/** The order events that send a transactional push (issue 14, order updates). */
export const ORDER_UPDATE_TYPES = ['order_shipped', 'order_delivered', 'order_ready_for_pickup', 'order_cancelled', 'refund_issued'] as const;
export type OrderUpdateType = (typeof ORDER_UPDATE_TYPES)[number];

/**
 * A link to a shop page per order, `{orderId}` replaced by the order id (URL-encoded). Checked to
 * be an http(s) URL here; a push uses it only when it is on one of the site's origins (the
 * click-target rule of server/notifications/send.ts), else the shop's home page.
 */
export const orderUrlTemplateText = () =>
  text()
    .max(500)
    .refine((template) => {
      try {
        const url = new URL(template.replaceAll('{orderId}', 'order'));
        return url.protocol === 'https:' || url.protocol === 'http:';
      } catch {
        return false;
      }
    }, 'must be an absolute http(s) URL, with {orderId} where the order id goes, e.g. https://shop.example/orders/{orderId}');

export const orderUpdateSettingsSchema = z
  .object({
    /** On by default: a shop that reports order events wants its shoppers told. */
    enabled: z.boolean().default(true),
    /** Per event type; each on unless turned off. */
    types: z
      .object(Object.fromEntries(ORDER_UPDATE_TYPES.map((type) => [type, z.boolean().default(true)])) as Record<OrderUpdateType, z.ZodDefault<z.ZodBoolean>>)
      .strict()
      .default(Object.fromEntries(ORDER_UPDATE_TYPES.map((type) => [type, true])) as Record<OrderUpdateType, boolean>),
    /** The shopper's order page, for events that name no `orderUrl`; empty: none (the home page). */
    orderPageUrl: z.union([z.literal(''), orderUrlTemplateText()]).optional(),
  })
  .strict();

export const ratingRequestSettingsSchema = z
  .object({
    /** Off until the owner turns it on: it is a marketing push. */
    enabled: z.boolean().default(false),
    /** Days after `order_delivered` (24 hours each). */
    delayDays: z.number().int().min(1).max(90).default(3),
    /** The shop's rating page; the answer and the order id are added to its query (`answer`, `orderId`). Empty: none (the home page). */
    pageUrl: z.union([z.literal(''), orderUrlTemplateText()]).optional(),
    holdoutPercent: percent.default(0),
    /** Wait for each shopper's best hour within 24 hours (engagement-rules.ts): a rating request is never urgent. */
    sendAtBestHour: z.boolean().default(false),
  })
  .strict();

/** "Only 3 left": a push when a product shoppers showed interest in runs low (the feed's `stock`). */
export const lowStockSettingsSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Fires when the feed's stock falls to this many or fewer (and above 0: sold out is no news to push). */
    threshold: z.number().int().min(1).max(1000).default(3),
    /** Shoppers who carted, watched or viewed the product within this many days hear of it, once per product in this window. */
    withinDays: z.number().int().min(1).max(90).default(14),
    holdoutPercent: percent.default(0),
    /** Wait for each shopper's best hour within 24 hours (engagement-rules.ts). */
    sendAtBestHour: z.boolean().default(false),
  })
  .strict();

/** A wall-clock time of day, `HH:MM`. */
const clockTime = () => text().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time as HH:MM, e.g. 10:00');

/** A birthday push on the shopper's birthday (set by the shop's backend), in their own zone. */
export const birthdaySettingsSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** At the shopper's best hour of their birthday (default); else at `localTime` in their zone. */
    sendAtBestHour: z.boolean().default(true),
    localTime: clockTime().default('10:00'),
    /** One code for every birthday push, as `{{discount.code}}`; absent: the line with it is left out. */
    discountCode: text().min(1).max(64).optional(),
    holdoutPercent: percent.default(0),
  })
  .strict();

/** An occasion's text in one locale; the push goes as a campaign, so no trigger placeholders. */
const occasionTextSchema = z.strictObject({
  title: text().trim().min(1).max(200).refine((value) => !value.includes('{{'), 'an occasion’s text takes no placeholders'),
  body: text().max(1000).refine((value) => !value.includes('{{'), 'an occasion’s text takes no placeholders').default(''),
});

/** A dated occasion the owner defines (Black Friday, Sinterklaas, a local holiday), sent every year on its date. */
export const occasionSchema = z
  .strictObject({
    /** The owner's short id for it (`black-friday`): keys "once a year", so keep it when renaming. */
    id: text().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes, e.g. black-friday'),
    name: text().trim().min(1).max(80),
    enabled: z.boolean().default(true),
    month: z.number().int().min(1).max(12),
    day: z.number().int().min(1).max(31),
    /** A year for occasions whose date moves (Black Friday): sent on that date only. Absent: every year. */
    year: z.number().int().min(2000).max(2100).optional(),
    /** The wall-clock time it goes at in each shopper's zone. */
    localTime: clockTime().default('10:00'),
    /** A saved segment's id; absent: every subscriber. */
    segmentId: text().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a segment id').optional(),
    url: httpUrlText().optional(),
    /** Texts per locale; the site's default locale's (else the first) goes to the others. */
    texts: z.record(locale, occasionTextSchema).refine((texts) => Object.keys(texts).length > 0, 'give the text in at least one locale'),
  })
  .refine((occasion) => occasion.day <= new Date(Date.UTC(2024, occasion.month, 0)).getUTCDate(), { message: 'no such day in that month', path: ['day'] });

export const occasionsSettingsSchema = z
  .object({
    list: z
      .array(occasionSchema)
      .max(50)
      .refine((list) => new Set(list.map((o) => o.id)).size === list.length, 'each occasion id at most once')
      .default([]),
  })
  .strict();

/** A first-order or comeback code as typed; empty clears it. Codes longer than the placeholder allows render empty, so the limit is the placeholder's. */
const optionalCode = () => z.union([z.literal(''), text().min(1).max(64)]).optional();

/** A welcome push some minutes after a new subscription, optionally with a first-order code. */
export const welcomeSettingsSchema = z
  .object({
    /** Off until the owner turns it on: it is a marketing push. */
    enabled: z.boolean().default(false),
    /** Minutes after the subscription. */
    delayMinutes: z.number().int().min(0).max(7 * 24 * 60).default(10),
    /** `fixed`: every welcome carries `code` (if set); `list`: each one a code of its own from the uploaded list (POST /v1/welcome-codes). */
    codeMode: z.enum(['fixed', 'list']).default('fixed'),
    code: optionalCode(),
    holdoutPercent: percent.default(0),
  })
  .strict();

/** "We miss you": one push after N days without a visit, click or order, then quiet for M days. */
export const reactivationSettingsSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Days without a visit, a click on a push or an order. */
    afterDays: z.number().int().min(7).max(730).default(60),
    /** After a reactivation push, none from this automation to that subscriber for this many days. */
    quietForDays: z.number().int().min(1).max(730).default(90),
    code: optionalCode(),
    holdoutPercent: percent.default(0),
  })
  .strict();

const browserTagKeysSchema = z
  .array(tagKeyText())
  .max(MAX_BROWSER_TAG_KEYS, `at most ${MAX_BROWSER_TAG_KEYS} keys`)
  .refine((keys) => new Set(keys).size === keys.length, 'each key at most once');

const sections = {
  prompt: promptSettingsSchema.default(promptSettingsSchema.parse({})),
  /** The locale texts fall back to when a subscriber's own has no template. */
  defaultLocale: locale.default('en'),
  engagement: engagementSettingsSchema.default(DEFAULT_ENGAGEMENT_SETTINGS),
  cartReminders: cartReminderSettingsSchema.default(cartReminderSettingsSchema.parse({})),
  priceDrop: priceDropSettingsSchema.default(priceDropSettingsSchema.parse({})),
  backInStock: backInStockSettingsSchema.default(backInStockSettingsSchema.parse({})),
  lowStock: lowStockSettingsSchema.default(lowStockSettingsSchema.parse({})),
  attribution: attributionSettingsSchema.default(attributionSettingsSchema.parse({})),
  campaigns: campaignSettingsSchema.default(campaignSettingsSchema.parse({})),
  orderUpdates: orderUpdateSettingsSchema.default(orderUpdateSettingsSchema.parse({})),
  ratingRequest: ratingRequestSettingsSchema.default(ratingRequestSettingsSchema.parse({})),
  welcome: welcomeSettingsSchema.default(welcomeSettingsSchema.parse({})),
  reactivation: reactivationSettingsSchema.default(reactivationSettingsSchema.parse({})),
  birthday: birthdaySettingsSchema.default(birthdaySettingsSchema.parse({})),
  occasions: occasionsSettingsSchema.default(occasionsSettingsSchema.parse({})),
  /** Per template key, per locale; absent ones use the built-in texts (server/triggers/built-in-templates.ts). */
  templates: templatesSchema.default({}),
  /**
   * Tag keys the site's pages may set (`pushcart.tag()`, `POST /v1/subscriptions/tags`). Any page
   * script can call the snippet, so only keys whose values a shopper may choose belong here (a
   * newsletter topic, a preferred size); the rest are set by the shop's backend.
   */
  browserTagKeys: browserTagKeysSchema.default([]),
};

export const siteSettingsSchema = z.strictObject(sections);

export type SiteSettings = z.infer<typeof siteSettingsSchema>;

/**
 * Reads stored settings, filling defaults. A stored key this version does not know (written by a
 * newer release before a rollback, or by hand) is dropped, not a reason to lose its section: the
 * schemas are strict to refuse a misspelt key in a PATCH, not to reset a shop's quiet hours. A
 * stored section that no longer validates (a setting whose rules tightened since) falls back to its
 * default alone; the other sections are kept.
 */
export function readSiteSettings(stored: unknown): SiteSettings {
  const raw = stored && typeof stored === 'object' ? (stored as Record<string, unknown>) : {};
  const settings: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(sections)) {
    const parsed = (schema as z.ZodType).safeParse(knownKeysOnly(raw[name], schema as z.ZodType));
    settings[name] = parsed.success ? parsed.data : (schema as z.ZodType).parse(undefined);
  }
  return settings as SiteSettings;
}

/** `value` with only the keys `schema` knows, at every depth of objects, records and arrays. */
function knownKeysOnly(value: unknown, schema: z.ZodType): unknown {
  const def = schema._zod.def;
  if (def.type === 'default' || def.type === 'optional' || def.type === 'nullable') {
    return knownKeysOnly(value, (def as z.core.$ZodDefaultDef).innerType as z.ZodType);
  }
  if (def.type === 'pipe') return knownKeysOnly(value, (def as z.core.$ZodPipeDef).in as z.ZodType);
  if (def.type === 'array' && Array.isArray(value)) {
    const element = (def as z.core.$ZodArrayDef).element as z.ZodType;
    return value.map((item) => knownKeysOnly(item, element));
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  if (def.type === 'object') {
    const shape = (def as z.core.$ZodObjectDef).shape;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => Object.hasOwn(shape, key))
        .map(([key, field]) => [key, knownKeysOnly(field, shape[key] as z.ZodType)]),
    );
  }
  if (def.type === 'record') {
    const valueType = (def as z.core.$ZodRecordDef).valueType as z.ZodType;
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, knownKeysOnly(field, valueType)]));
  }
  return value;
}

/**
 * A section as a patch: every field optional at every depth and without its default (a field left
 * out keeps its stored value), unknown keys refused by name. Rules across fields (quiet hours'
 * start ≠ end, reminder steps in order) are checked again on the merged result.
 */
function patchOf(schema: z.ZodType): z.ZodType {
  const def = schema._zod.def;
  if (def.type === 'default' || def.type === 'optional') return patchOf((def as z.core.$ZodDefaultDef).innerType as z.ZodType);
  if (def.type === 'object') {
    const shape = (def as z.core.$ZodObjectDef).shape;
    return z.strictObject(Object.fromEntries(Object.entries(shape).map(([field, inner]) => [field, patchOf(inner as z.ZodType).optional()])));
  }
  return schema;
}

/**
 * What `PATCH /v1/settings` accepts: the sections and fields to change. In `templates`, `null`
 * for a key or a locale removes it.
 */
export const siteSettingsPatchSchema = z
  .strictObject({
    ...Object.fromEntries(Object.entries(sections).map(([name, schema]) => [name, patchOf(schema).optional()])),
    // Replaces the templates section's own patch: keys and locales are merged one by one.
    templates: z.record(text(), z.record(text(), messageTemplateSchema.nullable()).nullable()).optional(),
  })
  // Only when the keys were all known: `{"foo": 1}` is an unknown key, not an empty patch.
  .refine((patch) => Object.keys(patch).length > 0, { message: 'name at least one setting to change', when: (payload) => payload.issues.length === 0 });

/** A checked settings patch, as `changeSiteSettings` (settings/change-settings.ts) applies it. */
export type SiteSettingsPatch = z.infer<typeof siteSettingsPatchSchema>;
