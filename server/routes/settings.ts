import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { secretKeyActor } from '../audit/audit-log.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { operation } from '../openapi/operation.ts';
import { changeSiteSettings } from '../settings/change-settings.ts';
import { readSiteSettings, siteSettingsPatchSchema, siteSettingsSchema } from '../sites/site-settings.ts';
import { validate } from '../validation.ts';

/**
 * `GET /v1/settings` (everything, defaults filled in) and `PATCH /v1/settings` (a deep merge, see
 * settings/change-settings.ts). The patch is checked first, so an unknown key at any depth is
 * refused by name.
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
      const actor = await secretKeyActor(deps.db, c.get('secretKeyId'));
      const settings = await changeSiteSettings(deps.db, c.get('site'), c.req.valid('json'), {
        publicUrl: deps.config.publicUrl,
        actor,
        now: new Date((deps.now ?? Date.now)()),
      });
      return c.json(settings);
    });
}

