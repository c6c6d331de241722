import { Hono } from 'hono';
import { z } from 'zod';
import type { SiteConfig } from '../../service-worker/src/contract.ts';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { browserAccess } from '../middleware/browser-access.ts';
import type { RateLimiters } from '../middleware/rate-limit.ts';
import { operation } from '../openapi/operation.ts';
import { promptSettingsSchema, readSiteSettings } from '../sites/site-settings.ts';
import { text, validate } from '../validation.ts';

/** How long browsers and CDNs may keep the site config; short, so a key rotation reaches shoppers soon. */
const CONFIG_MAX_AGE_SECONDS = 300;

/** `GET /v1/sites/{publishableKey}/config`: what the snippet needs to subscribe. */
export function siteConfigRoutes(deps: AppDeps, limiters: RateLimiters) {
  return new Hono<AppEnv>().on(
    ['GET', 'OPTIONS'],
    '/v1/sites/:publishableKey/config',
    operation({
      summary: 'What the snippet needs to subscribe',
      description: 'The site’s VAPID public key and its prompt settings; cacheable for five minutes.',
      tag: 'Browser',
      access: 'publishableKeyInPath',
      responses: {
        200: {
          description: 'The site config',
          schema: z.strictObject({ vapidPublicKey: z.string(), prompt: promptSettingsSchema }),
          headers: { 'Cache-Control': '`public, max-age=300`' },
        },
      },
    }),
    // Before the key is looked up: a NUL in it would fail that query as a server error.
    validate('param', z.object({ publishableKey: text().max(100) })),
    browserAccess(deps, limiters, { keyFrom: 'path' }),
    (c) => {
      const site = c.get('site');
      c.header('Cache-Control', `public, max-age=${CONFIG_MAX_AGE_SECONDS}`);
      const config: SiteConfig = {
        vapidPublicKey: site.vapid_public_key,
        prompt: readSiteSettings(site.settings).prompt,
      };
      return c.json(config);
    },
  );
}
