import { changedSections, recordAudit, type AuditActor } from '../audit/audit-log.ts';
import type { Db } from '../db/database.ts';
import { updateSiteSettings } from '../db/sites.ts';
import { forgetCachedSites } from '../sites/site-lookup-cache.ts';
import { ApiError } from '../errors.ts';
import { MAX_PAYLOAD_BYTES, reportUrl, worstCasePayloadBytes } from '../notifications/payload.ts';
import { readSiteSettings, siteSettingsSchema, type SiteSettings, type SiteSettingsPatch } from '../sites/site-settings.ts';
import type { MessageTemplate } from '../sites/template-settings.ts';
import { worstCaseMessageBytes } from '../triggers/template-rendering.ts';
import { issueDetails } from '../validation.ts';

/**
 * URL bytes a template's budget leaves for the link: a trigger's URL comes from shop data; a
 * longer one makes the trigger drop the image and shorten the body rather than fail.
 */
const TEMPLATE_URL_BUDGET_BYTES = 512;

/**
 * Changes a site's settings, the one way every caller does it (`PATCH /v1/settings`, the
 * dashboard's forms): the patch (already checked against `siteSettingsPatchSchema`) is deep-merged
 * into the current settings — each section field by field, templates per key and locale, `null`
 * removing a template — and the result is validated whole; a template that could not fit a push
 * payload with its longest placeholder values is refused. Throws the ApiError the API answers
 * (`validation_failed` with each issue's path, `payload_too_large` with the overflow, `not_found`);
 * returns the stored settings, defaults filled in. The change is written to the audit log, with
 * the sections that differ, in the same transaction (no change without its record).
 */
export async function changeSiteSettings(
  db: Db,
  site: { id: string; settings: unknown; allowed_origins?: string[] },
  patch: SiteSettingsPatch,
  options: { publicUrl: string; actor: AuditActor | undefined; now: Date },
): Promise<SiteSettings> {
  if (site.allowed_origins) checkOrderUrlsOnSite(patch, site.allowed_origins);
  const before = readSiteSettings(site.settings);
  return storeSettings(db, site.id, before, mergeSettings(before, patch as Record<string, unknown>), options);
}

/**
 * Removes the prompt's texts for one locale (the dashboard's "Remove" on the prompt page), stored
 * and audited as any other settings change. A patch cannot say this: prompt texts merge locale by
 * locale, and `PATCH /v1/settings` has no `null` for them. The default locale's texts stay: they
 * are what every shopper without texts of their own language sees, so removing them would switch
 * those shoppers to the built-in texts unnoticed; `validation_failed` says so. An unknown locale
 * (removed already, a form sent twice) is `not_found`.
 */
export async function removePromptLocale(
  db: Db,
  site: { id: string; settings: unknown },
  locale: string,
  options: { actor: AuditActor | undefined; now: Date },
): Promise<SiteSettings> {
  const before = readSiteSettings(site.settings);
  if (locale === before.defaultLocale) {
    throw new ApiError('validation_failed', `prompt.texts.${locale}: the default locale's texts cannot be removed; shoppers without texts in their language see them`);
  }
  if (!Object.hasOwn(before.prompt.texts, locale)) throw new ApiError('not_found', `The prompt has no texts for ${locale}`);
  const texts = { ...before.prompt.texts };
  delete texts[locale];
  // Templates are left as they are, so their size is not checked again here.
  return storeSettings(db, site.id, before, { ...before, prompt: { ...before.prompt, texts } }, { ...options, publicUrl: undefined });
}

/** Validates `merged` whole, then writes it with its audit row in one transaction. */
async function storeSettings(
  db: Db,
  siteId: string,
  before: SiteSettings,
  merged: Record<string, unknown>,
  options: { publicUrl: string | undefined; actor: AuditActor | undefined; now: Date },
): Promise<SiteSettings> {
  const parsed = siteSettingsSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = issueDetails(parsed.error.issues);
    throw new ApiError('validation_failed', `${issues[0]!.path}: ${issues[0]!.message}`, { details: issues });
  }
  if (options.publicUrl !== undefined) checkTemplatesFit(parsed.data, options.publicUrl);
  const updated = await db.transaction().execute(async (trx) => {
    const row = await updateSiteSettings(trx, siteId, parsed.data);
    if (row && options.actor) {
      await recordAudit(trx, siteId, options.actor, { action: 'settings_changed', sections: changedSections(before, parsed.data) }, options.now);
    }
    return row;
  });
  forgetCachedSites();
  if (!updated) throw new ApiError('not_found', 'This site no longer exists');
  return readSiteSettings(updated.settings);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mergeSettings(current: SiteSettings, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [section, value] of Object.entries(patch)) {
    const existing = (current as Record<string, unknown>)[section];
    if (section === 'templates' && isObject(value)) {
      const templates: Record<string, Record<string, unknown>> = structuredClone(current.templates) as Record<string, Record<string, unknown>>;
      for (const [key, locales] of Object.entries(value)) {
        if (locales === null) {
          delete templates[key];
          continue;
        }
        if (!isObject(locales)) {
          templates[key] = locales as Record<string, unknown>;
          continue;
        }
        const byLocale = { ...(templates[key] ?? {}) };
        for (const [locale, template] of Object.entries(locales)) {
          if (template === null) delete byLocale[locale];
          else byLocale[locale] = template;
        }
        templates[key] = byLocale;
      }
      merged.templates = templates;
    } else if (isObject(value) && isObject(existing)) {
      merged[section] = deepMerge(existing, value);
    } else {
      merged[section] = value;
    }
  }
  return merged;
}

/** Objects merge field by field at every depth (`{quietHours: {end}}` keeps `start`); arrays and values replace. */
function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const existing = base[key];
    merged[key] = isObject(value) && isObject(existing) ? deepMerge(existing, value) : value;
  }
  return merged;
}

/**
 * The bytes of the largest push payload `template` can make (its longest placeholder values, a
 * trigger URL of the budgeted length): what the check below compares with MAX_PAYLOAD_BYTES, and
 * what the dashboard's template form shows as the budget left.
 */
export function templatePayloadBytes(template: MessageTemplate, publicUrl: string): number {
  const frame = worstCasePayloadBytes(
    crypto.randomUUID(),
    { title: '', body: '', url: `https://${'x'.repeat(TEMPLATE_URL_BUDGET_BYTES - 8)}`, tag: crypto.randomUUID() },
    reportUrl(publicUrl),
  );
  // Each action button carries the trigger's URL too (trigger-notification.ts).
  const actionUrls = (template.actions?.length ?? 0) * (TEMPLATE_URL_BUDGET_BYTES + ',"url":""'.length);
  return frame + worstCaseMessageBytes(template) + actionUrls;
}

function checkTemplatesFit(settings: SiteSettings, publicUrl: string): void {
  for (const [key, locales] of Object.entries(settings.templates)) {
    for (const [locale, template] of Object.entries(locales ?? {})) {
      const bytes = templatePayloadBytes(template, publicUrl);
      if (bytes > MAX_PAYLOAD_BYTES) {
        throw new ApiError(
          'payload_too_large',
          `templates.${key}.${locale}: with its longest placeholder values this push would be ${bytes} bytes, ${bytes - MAX_PAYLOAD_BYTES} over the ${MAX_PAYLOAD_BYTES}-byte payload limit; shorten it`,
          { details: { path: `templates.${key}.${locale}`, bytes, limit: MAX_PAYLOAD_BYTES, overflow: bytes - MAX_PAYLOAD_BYTES } },
        );
      }
    }
  }
}

/**
 * The order page and rating page a patch sets are click targets of pushes, so they must be on the
 * site's origins (click URLs only on the site's origins, as `send` checks). Checked when set, not
 * on every later change: a site whose origins changed since is not locked out of its other
 * settings (a push then falls back to the home page).
 */
function checkOrderUrlsOnSite(patch: SiteSettingsPatch, origins: string[]): void {
  const sections = patch as Record<string, { orderPageUrl?: string; pageUrl?: string } | undefined>;
  const urls: Array<[string, string | undefined]> = [
    ['orderUpdates.orderPageUrl', sections.orderUpdates?.orderPageUrl],
    ['ratingRequest.pageUrl', sections.ratingRequest?.pageUrl],
  ];
  for (const [path, template] of urls) {
    if (!template) continue;
    let origin: string | null = null;
    try {
      origin = new URL(template.replaceAll('{orderId}', 'order')).origin;
    } catch {
      // Refused by the schema already.
    }
    if (origin !== null && !origins.includes(origin)) {
      const message = `must be on one of the site's origins (${origins.join(', ')})`;
      throw new ApiError('validation_failed', `${path}: ${message}`, { details: [{ path, message }] });
    }
  }
}
