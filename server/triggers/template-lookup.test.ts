import { describe, expect, it } from 'vitest';
import { templatesSchema, type MessageTemplate, type SiteTemplates } from '../sites/template-settings.ts';
import { DEFAULT_TEMPLATES } from './built-in-templates.ts';
import { resolveTemplate } from './template-lookup.ts';

function template(title: string, body = ''): MessageTemplate {
  return { title, body };
}

describe('resolveTemplate', () => {
  const siteTemplates: SiteTemplates = templatesSchema.parse({
    price_drop: {
      de: template('Site de'),
      en: template('Site en'),
    },
  });

  it('falls back from a regional locale (de-AT) to the site template for its language (de)', () => {
    expect(resolveTemplate(siteTemplates, 'price_drop', 'de-AT', 'en').title).toBe('Site de');
  });

  it('uses the site template for the exact locale before the language', () => {
    const withRegion = templatesSchema.parse({ price_drop: { de: template('Site de'), 'de-AT': template('Site de-AT') } });
    expect(resolveTemplate(withRegion, 'price_drop', 'de-AT', 'en').title).toBe('Site de-AT');
  });

  it('falls back from a locale the site did not write (fr) to the site default locale', () => {
    expect(resolveTemplate(siteTemplates, 'price_drop', 'fr-FR', 'de').title).toBe('Site de');
    expect(resolveTemplate(siteTemplates, 'price_drop', 'fr-FR', 'en-GB').title).toBe('Site en');
  });

  it("prefers the site's own copy in its default locale over built-in copy in the subscriber's language", () => {
    const englishOnly = templatesSchema.parse({ price_drop: { en: template('Site en') } });
    expect(resolveTemplate(englishOnly, 'price_drop', 'de-DE', 'en').title).toBe('Site en');
  });

  it('uses the built-in template when the site has none for the key, in the subscriber language first', () => {
    expect(resolveTemplate(siteTemplates, 'back_in_stock', 'de-AT', 'en')).toBe(DEFAULT_TEMPLATES.back_in_stock.de);
    expect(resolveTemplate(undefined, 'back_in_stock', 'en-US', 'de')).toBe(DEFAULT_TEMPLATES.back_in_stock.en);
  });

  it('uses the built-in template for the site default locale, then built-in English', () => {
    expect(resolveTemplate({}, 'cart_reminder.1', 'fr-FR', 'de-CH')).toBe(DEFAULT_TEMPLATES['cart_reminder.1'].de);
    expect(resolveTemplate({}, 'cart_reminder.1', 'fr-FR', 'ja')).toBe(DEFAULT_TEMPLATES['cart_reminder.1'].en);
  });

  it('skips an invalid subscriber locale instead of throwing', () => {
    expect(resolveTemplate(siteTemplates, 'price_drop', 'de_AT', 'en').title).toBe('Site en');
  });
});
