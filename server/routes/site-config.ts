import { Hono } from 'hono';
import { z } from 'zod';
import type { PromptSettings, SiteConfig } from '../../service-worker/src/contract.ts';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { browserAccess } from '../middleware/browser-access.ts';
import { recordOrigins, type OriginsSeenRecorder } from '../middleware/origins-seen.ts';
import type { RateLimiters } from '../middleware/rate-limit.ts';
import { operation } from '../openapi/operation.ts';
import { BUILT_IN_PROMPT_TEXTS, onAccentColour, promptTextsSchema, promptThemeSchema, readSiteSettings, type SiteSettings } from '../sites/site-settings.ts';
import { lookupByLocale } from '../triggers/template-lookup.ts';
import { text, validate } from '../validation.ts';

/** How long browsers and CDNs may keep the site config; short, so a key rotation reaches shoppers soon. */
const CONFIG_MAX_AGE_SECONDS = 300;

const promptConfigSchema = z.strictObject({
  trigger: z.enum(['page_views', 'seconds', 'cart_updated', 'manual']),
  pageViews: z.number().int(),
  delaySeconds: z.number().int(),
  snoozeDays: z.number().int(),
  texts: promptTextsSchema.describe('In the requested locale: the site’s texts for it, else for the site’s default locale, else the built-in ones'),
  theme: promptThemeSchema.safeExtend({ onAccent: z.string().describe('The label colour on the accent button') }),
});

/**
 * The prompt as one shopper sees it: the texts for `locale` (RFC 4647 lookup, like templates: the
 * site's texts for the shopper's locale, then for the site's default locale, then the built-in
 * ones the same way, then English), with the site's earlier single texts filling in where the
 * site has no texts for either locale. Only one language goes out: the config is fetched on every
 * page view, and a shop with thirty languages would otherwise send all thirty each time.
 */
export function promptForLocale(settings: SiteSettings, locale: string): PromptSettings {
  const { prompt, defaultLocale } = settings;
  const own = lookupByLocale(prompt.texts, locale, defaultLocale);
  const builtIn = lookupByLocale(BUILT_IN_PROMPT_TEXTS, locale, defaultLocale) ?? BUILT_IN_PROMPT_TEXTS.en!;
  const texts = own ?? {
    title: prompt.title || builtIn.title,
    body: prompt.body || builtIn.body,
    allow: prompt.allowLabel || builtIn.allow,
    later: prompt.laterLabel || builtIn.later,
  };
  const { logoUrl, ...theme } = prompt.theme;
  return {
    trigger: prompt.trigger,
    pageViews: prompt.pageViews,
    delaySeconds: prompt.delaySeconds,
    snoozeDays: prompt.snoozeDays,
    texts,
    theme: { ...theme, onAccent: onAccentColour(theme.accent), ...(logoUrl ? { logoUrl } : {}) },
  };
}

/** `GET /v1/sites/{publishableKey}/config`: what the snippet needs to subscribe and to draw its prompt. */
export function siteConfigRoutes(deps: AppDeps, limiters: RateLimiters, originsSeen: OriginsSeenRecorder) {
  return new Hono<AppEnv>().on(
    ['GET', 'OPTIONS'],
    '/v1/sites/:publishableKey/config',
    operation({
      summary: 'What the snippet needs to subscribe',
      description:
        'The site’s VAPID public key and its prompt settings, with the prompt’s texts in the shopper’s `locale` (the snippet sends the browser’s language) and its theme; cacheable for five minutes.',
      tag: 'Browser',
      access: 'publishableKeyInPath',
      responses: {
        200: {
          description: 'The site config',
          schema: z.strictObject({ vapidPublicKey: z.string(), prompt: promptConfigSchema }),
          headers: { 'Cache-Control': '`public, max-age=300`' },
        },
      },
    }),
    // Before the key is looked up: a NUL in it would fail that query as a server error.
    validate('param', z.object({ publishableKey: text().max(100) })),
    // Any string: a browser language that is no valid tag falls back to the site's default locale
    // rather than costing the shopper the prompt.
    validate('query', z.strictObject({ locale: text().max(100).optional() })),
    // Around the origin check, so the dashboard's installation check hears of refusals too.
    recordOrigins(originsSeen, 'config', 'GET'),
    browserAccess(deps, limiters, { keyFrom: 'path' }),
    (c) => {
      const site = c.get('site');
      const settings = readSiteSettings(site.settings);
      c.header('Cache-Control', `public, max-age=${CONFIG_MAX_AGE_SECONDS}`);
      const config: SiteConfig = {
        vapidPublicKey: site.vapid_public_key,
        prompt: promptForLocale(settings, c.req.valid('query').locale ?? settings.defaultLocale),
      };
      return c.json(config);
    },
  );
}
