import { z } from 'zod';

/**
 * Per-site settings stored as jsonb. Every field has a default, so a site created today and a
 * setting added tomorrow both read as complete objects.
 */
export const promptSettingsSchema = z.object({
  /** When the soft prompt appears: after N page views, after N seconds, after a cart update, or only when the page calls optIn(). */
  trigger: z.enum(['page_views', 'seconds', 'cart_updated', 'manual']).default('page_views'),
  pageViews: z.number().int().min(1).max(100).default(2),
  delaySeconds: z.number().int().min(0).max(3600).default(10),
  /** Days a "Later" answer hides the prompt for. */
  snoozeDays: z.number().int().min(1).max(365).default(7),
  // Texts the shop set itself; absent ones the snippet fills in the shopper's language.
  title: z.string().max(120).optional(),
  body: z.string().max(300).optional(),
  allowLabel: z.string().max(40).optional(),
  laterLabel: z.string().max(40).optional(),
});

export const siteSettingsSchema = z.object({
  prompt: promptSettingsSchema.default(promptSettingsSchema.parse({})),
});

export type SiteSettings = z.infer<typeof siteSettingsSchema>;

/** Reads stored settings, filling defaults; a stored value that no longer validates falls back to its default. */
export function readSiteSettings(stored: unknown): SiteSettings {
  const parsed = siteSettingsSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : siteSettingsSchema.parse({});
}
