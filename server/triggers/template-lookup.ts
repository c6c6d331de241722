import { canonicalLocale } from '../validation.ts';
import type { MessageTemplate, SiteTemplates, TemplateKey } from '../sites/template-settings.ts';
import { DEFAULT_TEMPLATES, FALLBACK_LOCALE } from './built-in-templates.ts';

/**
 * RFC 4647 §3.4 lookup: the tag, then ever shorter prefixes (`zh-Hant-TW`, `zh-Hant`, `zh`),
 * dropping a singleton together with what follows it (`en-US-x-twain` → `en-US`).
 */
function lookupChain(tag: string): string[] {
  const canonical = canonicalLocale(tag);
  if (canonical === undefined) return [];
  const subtags = canonical.split('-');
  const chain: string[] = [];
  while (subtags.length > 0) {
    chain.push(subtags.join('-'));
    subtags.pop();
    if (subtags.length > 0 && subtags[subtags.length - 1]!.length === 1) subtags.pop();
  }
  return chain;
}

/** Case-insensitive, and never reads inherited properties (a stored key is data, not code). */
function entryFor<T>(byLocale: Readonly<Record<string, T>> | undefined, tag: string): T | undefined {
  if (byLocale === undefined) return undefined;
  if (Object.hasOwn(byLocale, tag)) return byLocale[tag];
  const wanted = tag.toLowerCase();
  const key = Object.keys(byLocale).find((candidate) => candidate.toLowerCase() === wanted);
  return key === undefined ? undefined : byLocale[key];
}

/**
 * The entry of `byLocale` for `locale`, else for `defaultLocale`, each by RFC 4647 lookup (the
 * exact tag, then its shorter prefixes); undefined when neither has one.
 */
export function lookupByLocale<T>(byLocale: Readonly<Record<string, T>> | undefined, locale: string, defaultLocale: string): T | undefined {
  for (const tag of [...lookupChain(locale), ...lookupChain(defaultLocale)]) {
    const entry = entryFor(byLocale, tag);
    if (entry !== undefined) return entry;
  }
  return undefined;
}

/**
 * The template to send, in this order (each step tries the exact tag, then its shorter prefixes per
 * RFC 4647 lookup, so `de-AT` falls back to `de`):
 *   1. the site's template for the subscriber's locale,
 *   2. the site's template for the site's default locale,
 *   3. the built-in template for the subscriber's locale,
 *   4. the built-in template for the site's default locale,
 *   5. the built-in English template.
 * The site's own copy in its default language wins over built-in copy in the subscriber's language,
 * because a shop that wrote its texts wants its voice (and its offers) kept. Invalid tags are
 * skipped, never thrown: a subscriber's stored locale must not stop a trigger.
 */
export function resolveTemplate(
  siteTemplates: SiteTemplates | undefined,
  key: TemplateKey,
  locale: string,
  defaultLocale: string,
): MessageTemplate {
  const builtIn = DEFAULT_TEMPLATES[key];
  return lookupByLocale(siteTemplates?.[key], locale, defaultLocale) ?? lookupByLocale(builtIn, locale, defaultLocale) ?? builtIn[FALLBACK_LOCALE];
}
