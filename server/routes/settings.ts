import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { changedSections, recordAudit, secretKeyActor } from '../audit/audit-log.ts';
import { updateSiteSettings } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { MAX_PAYLOAD_BYTES, reportUrl, worstCasePayloadBytes } from '../notifications/payload.ts';
import { readSiteSettings, siteSettingsPatchSchema, siteSettingsSchema, type SiteSettings } from '../sites/site-settings.ts';
import { worstCaseMessageBytes } from '../triggers/template-rendering.ts';
import { operation } from '../openapi/operation.ts';
import { issueDetails, validate } from '../validation.ts';

/**
 * URL bytes a template's budget leaves for the link: a trigger's URL comes from shop data; a
 * longer one makes the trigger drop the image and shorten the body rather than fail.
 */
const TEMPLATE_URL_BUDGET_BYTES = 512;

/**
 * `GET /v1/settings` (everything, defaults filled in) and `PATCH /v1/settings` (a deep merge: each
 * section's fields, and templates per key and locale). The patch is checked first, so an unknown
 * key at any depth is refused by name; the merged result is then validated whole; a
 * template that could not fit a push payload with its longest placeholder values is refused (413).
 */
export function settingsRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use('/v1/settings', secretKeyAuth(deps))
    .get(
      '/v1/settings',
      operation({
        summary: 'The site’s settings',
        description: 'Every setting, defaults filled in.',
        tag: 'Settings',
        access: 'secretKey',
        responses: { 200: { description: 'The settings', schema: siteSettingsSchema } },
      }),
      (c) => c.json(readSiteSettings(c.get('site').settings)))
    .patch(
      '/v1/settings',
      operation({
        summary: 'Change some settings',
        description:
          'A deep merge: each section’s fields, templates per key and locale (`null` removes a template). An unknown key at any depth is refused by name; a template that could not fit a push with its longest placeholder values is refused with 413.',
        tag: 'Settings',
        access: 'secretKey',
        responses: { 200: { description: 'Every setting after the change', schema: siteSettingsSchema } },
        errors: ['not_found'],
      }),
      validate('json', siteSettingsPatchSchema), async (c) => {
      const site = c.get('site');
      const merged = mergeSettings(readSiteSettings(site.settings), c.req.valid('json'));
      const parsed = siteSettingsSchema.safeParse(merged);
      if (!parsed.success) {
        const issues = issueDetails(parsed.error.issues);
        throw new ApiError('validation_failed', `${issues[0]!.path}: ${issues[0]!.message}`, { details: issues });
      }
      checkTemplatesFit(parsed.data, deps.config.publicUrl);
      const actor = await secretKeyActor(deps.db, c.get('secretKeyId'));
      const updated = await deps.db.transaction().execute(async (trx) => {
        const row = await updateSiteSettings(trx, site.id, parsed.data);
        // Recorded with the change, in its transaction: which top-level sections differ.
        if (row && actor) await recordAudit(trx, site.id, actor, { action: 'settings_changed', sections: changedSections(readSiteSettings(site.settings), parsed.data) }, new Date((deps.now ?? Date.now)()));
        return row;
      });
      if (!updated) throw new ApiError('not_found', 'This site no longer exists');
      return c.json(readSiteSettings(updated.settings));
    });
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

function checkTemplatesFit(settings: SiteSettings, publicUrl: string): void {
  const frame = worstCasePayloadBytes(
    crypto.randomUUID(),
    { title: '', body: '', url: `https://${'x'.repeat(TEMPLATE_URL_BUDGET_BYTES - 8)}`, tag: crypto.randomUUID() },
    reportUrl(publicUrl),
  );
  for (const [key, locales] of Object.entries(settings.templates)) {
    for (const [locale, template] of Object.entries(locales ?? {})) {
      // Each action button carries the trigger's URL too (trigger-notification.ts).
      const actionUrls = (template.actions?.length ?? 0) * (TEMPLATE_URL_BUDGET_BYTES + ',"url":""'.length);
      const bytes = frame + worstCaseMessageBytes(template) + actionUrls;
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
