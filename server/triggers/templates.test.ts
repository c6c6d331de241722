import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES, utf8Bytes } from '../notifications/payload.ts';
import {
  DEFAULT_TEMPLATES,
  MAX_BODY_CHARS,
  MAX_NAME_CHARS,
  MAX_TITLE_CHARS,
  PLACEHOLDERS,
  TEMPLATE_KEYS,
  messageTemplateSchema,
  renderMessage,
  resolveTemplate,
  templatesSchema,
  worstCaseMessageBytes,
  type MessageTemplate,
  type SiteTemplates,
  type TemplateContext,
} from './templates.ts';

/**
 * Node 20's ICU (78.x here) separates the number and "€" in de-DE with U+00A0 NO-BREAK SPACE, and
 * "20 %" likewise; CLDR uses U+202F NARROW NO-BREAK SPACE only for grouping in fr ("1 234,50 €").
 * The escapes keep these assertions exact: a plain space would not match.
 */
const NBSP = '\u00a0';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function template(title: string, body = ''): MessageTemplate {
  return { title, body };
}

function render(text: string, context: Omit<TemplateContext, 'locale'> & { locale?: string }): string {
  return renderMessage(template(text), { locale: 'en-US', ...context }).title;
}

function issueMessages(result: { success: boolean; error?: { issues: Array<{ message: string; path: PropertyKey[] }> } }): string[] {
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
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

describe('renderMessage money and numbers', () => {
  const shoe = { name: 'Shoe', priceOld: 99, priceNew: 79 };

  it('formats money per locale: de-DE "79,00 €" (no-break space), en-US "€79.00"', () => {
    expect(render('{{price.new}}', { locale: 'de-DE', currency: 'EUR', product: shoe })).toBe(`79,00${NBSP}€`);
    expect(render('{{price.new}}', { locale: 'en-US', currency: 'EUR', product: shoe })).toBe('€79.00');
  });

  it('renders saving as money and whole percent off rounded down, locale-formatted', () => {
    const drop = { name: 'Shoe', priceOld: 99.99, priceNew: 79.99 };
    expect(render('{{price.saving}} / {{price.percent}}', { locale: 'de-DE', currency: 'EUR', product: drop })).toBe(
      `20,00${NBSP}€ / 20${NBSP}%`,
    );
    // 19.5 % off shows as 19 %: rounded down, never overstated.
    expect(render('{{price.percent}}', { currency: 'EUR', product: { name: 'x', priceOld: 100, priceNew: 80.5 } })).toBe('19%');
    expect(render('{{price.percent}}', { currency: 'EUR', product: { name: 'x', priceOld: 10, priceNew: 8 } })).toBe('20%');
  });

  it('renders saving and percent as empty when the price did not drop', () => {
    expect(render('[{{price.saving}}{{price.percent}}]', { currency: 'EUR', product: { name: 'x', priceOld: 79, priceNew: 99 } })).toBe(
      '[]',
    );
  });

  it('formats the cart total as money and the item count as a locale number', () => {
    expect(
      render('{{item.count}} · {{cart.total}}', { locale: 'de-DE', currency: 'EUR', cart: { total: 1234.5, itemCount: 1234 } }),
    ).toBe(`1.234 · 1.234,50${NBSP}€`);
  });

  it('formats money without a currency as a plain two-decimal number, and nonsense as empty', () => {
    expect(render('{{price.new}}', { product: shoe })).toBe('79.00');
    expect(render('[{{price.new}}]', { currency: 'EUR', product: { name: 'x', priceNew: Number.NaN } })).toBe('[]');
  });

  it('formats with English rules for an invalid subscriber locale instead of throwing', () => {
    expect(render('{{price.new}}', { locale: 'de_DE', currency: 'EUR', product: shoe })).toBe('€79.00');
  });
});

describe('renderMessage values are text', () => {
  it('passes markup in a product name through literally', () => {
    const message = renderMessage(template('{{product.name}}', 'Now {{product.name}} &amp;'), {
      locale: 'en',
      product: { name: '<b>Shoe</b> & <script>alert(1)</script>' },
    });
    expect(message.title).toBe('<b>Shoe</b> & <script>alert(1)</script>');
    expect(message.body).toBe('Now <b>Shoe</b> & <script>alert(1)</script> &amp;');
  });

  it('does not expand placeholders or replacement patterns inside a value', () => {
    const message = renderMessage(template('{{product.name}} for {{price.new}}'), {
      locale: 'en-US',
      currency: 'EUR',
      product: { name: '{{price.new}} $& $1 {{discount.code}}', priceNew: 5 },
      discount: { code: 'SECRET' },
    });
    expect(message.title).toBe('{{price.new}} $& $1 {{discount.code}} for €5.00');
  });

  it('strips control characters and collapses whitespace in values', () => {
    expect(render('[{{product.name}}]', { product: { name: '  Red\u0000\u0007 \n\t Shoe\u0085\u009b  ' } })).toBe('[Red Shoe]');
  });

  it('cuts a long product name to 120 characters with "…"', () => {
    const name = render('{{product.name}}', { product: { name: 'x'.repeat(300) } });
    expect(name).toBe(`${'x'.repeat(MAX_NAME_CHARS - 1)}…`);
  });

  it('keeps surrogate pairs intact when cutting a value and the final title', () => {
    const emojiName = '😀'.repeat(100);
    const value = render('{{product.name}}', { product: { name: emojiName } });
    expect(value.length).toBeLessThanOrEqual(MAX_NAME_CHARS);
    expect(value).toBe(`${'😀'.repeat(59)}…`);
    // 'a' + 119 + 119 units: a naive slice to 199 would split the last emoji in half.
    const title = render('a{{product.name}}{{product.name}}', { product: { name: emojiName } });
    expect(title.length).toBeLessThanOrEqual(MAX_TITLE_CHARS);
    expect(title.endsWith('…')).toBe(true);
    expect(title).not.toMatch(LONE_SURROGATE);
  });

  it('cuts the final title to 200 and body to 1000 characters', () => {
    const message = renderMessage(template('t'.repeat(150) + ' {{product.name}}', 'b'.repeat(950) + ' {{product.name}}'), {
      locale: 'en',
      product: { name: 'n'.repeat(100) },
    });
    expect(message.title).toHaveLength(MAX_TITLE_CHARS);
    expect(message.title.endsWith('n…')).toBe(true);
    expect(message.body).toHaveLength(MAX_BODY_CHARS);
  });
});

describe('renderMessage {{item.more}}', () => {
  it.each([
    ['en', 0, 'Shoe'],
    ['en', 2, 'Shoe + 2 more'],
    ['de-DE', 0, 'Shoe'],
    ['de-DE', 2, 'Shoe + 2 weitere'],
    ['de-DE', 1, 'Shoe + 1 weiterer'],
    ['ja-JP', 2, 'Shoe + 2 more'],
  ])('in %s with %i more items renders "%s"', (locale, moreCount, expected) => {
    expect(render('{{item.name}}{{item.more}}', { locale, item: { name: 'Shoe', moreCount } })).toBe(expected);
  });
});

describe('built-in templates', () => {
  it('exist for every key in en and de, pass the schema and fit the push payload at their largest', () => {
    for (const key of TEMPLATE_KEYS) {
      for (const locale of ['en', 'de'] as const) {
        const builtIn = DEFAULT_TEMPLATES[key][locale];
        expect(messageTemplateSchema.parse(builtIn)).toEqual(builtIn);
        expect(worstCaseMessageBytes(builtIn)).toBeLessThan(MAX_PAYLOAD_BYTES / 2);
      }
    }
  });

  it('leave out the discount line of the second cart reminder when there is no code', () => {
    const cart = { item: { name: 'Shoe', moreCount: 0 }, cart: { total: 79, itemCount: 1 }, currency: 'EUR' };
    const withoutCode = renderMessage(DEFAULT_TEMPLATES['cart_reminder.2'].en, { locale: 'en', ...cart });
    expect(withoutCode).toEqual({ title: 'Still thinking about Shoe?', body: 'Your cart is still saved. Tap to complete your order.' });
    const withCode = renderMessage(DEFAULT_TEMPLATES['cart_reminder.2'].de, { locale: 'de', ...cart, discount: { code: 'SAVE10' } });
    expect(withCode.body).toBe(
      'Dein Warenkorb ist noch gespeichert. Tippe hier, um die Bestellung abzuschließen.\nGib beim Bezahlen den Code SAVE10 ein.',
    );
  });

  it('render the price drop copy in en', () => {
    const message = renderMessage(resolveTemplate(undefined, 'price_drop', 'en-US', 'en'), {
      locale: 'en-US',
      currency: 'EUR',
      product: { name: 'Trail Runner', priceOld: 99, priceNew: 79 },
    });
    expect(message).toEqual({ title: 'Trail Runner is now €79.00', body: 'Was €99.00 — now €79.00. Tap to see it.' });
  });
});

describe('templatesSchema', () => {
  it('refuses an unknown placeholder, naming it and the known ones', () => {
    const messages = issueMessages(
      templatesSchema.safeParse({ price_drop: { en: template('{{product.nmae}} is now {{price.new}}') } }),
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('price_drop.en.title: unknown placeholder {{product.nmae}}; known: {{product.name}}');
    for (const name of PLACEHOLDERS) expect(messages[0]).toContain(`{{${name}}}`);
  });

  it('refuses placeholders with spaces or in action titles as unknown', () => {
    const messages = issueMessages(
      messageTemplateSchema.safeParse({
        title: '{{ product.name }}',
        body: '',
        actions: [{ action: 'open', title: 'Use {{code}}' }],
      }),
    );
    expect(messages).toEqual([
      expect.stringContaining('title: unknown placeholder {{ product.name }};'),
      expect.stringContaining('actions.0.title: unknown placeholder {{code}};'),
    ]);
  });

  it('refuses an invalid locale with a clear message', () => {
    const messages = issueMessages(templatesSchema.safeParse({ price_drop: { de_AT: template('x') } }));
    expect(messages).toEqual(['price_drop.de_AT: invalid locale "de_AT": must be a BCP 47 language tag such as "de" or "de-AT"']);
  });

  it('stores locales canonically and refuses two spellings of one locale', () => {
    expect(Object.keys(templatesSchema.parse({ price_drop: { 'de-at': template('x') } }).price_drop ?? {})).toEqual(['de-AT']);
    const messages = issueMessages(templatesSchema.safeParse({ price_drop: { 'de-at': template('x'), 'de-AT': template('y') } }));
    expect(messages).toEqual(['price_drop.de-AT: locale "de-AT" repeats "de-at"']);
  });

  it('refuses an unknown template key, listing the known ones', () => {
    const messages = issueMessages(templatesSchema.safeParse({ price_dorp: { en: template('x') } }));
    expect(messages).toEqual([`price_dorp: unknown template key "price_dorp"; known: ${TEMPLATE_KEYS.join(', ')}`]);
  });

  it('refuses control characters, line breaks in titles, more than two actions and unknown fields', () => {
    const base = { title: 'x', body: 'fine\nline' };
    expect(messageTemplateSchema.safeParse(base).success).toBe(true);
    expect(messageTemplateSchema.safeParse({ ...base, title: 'a\nb' }).success).toBe(false);
    expect(messageTemplateSchema.safeParse({ ...base, body: 'a\u0000b' }).success).toBe(false);
    expect(messageTemplateSchema.safeParse({ ...base, body: 'a\ud800b' }).success).toBe(false);
    const action = { action: 'open', title: 'Open' };
    expect(messageTemplateSchema.safeParse({ ...base, actions: [action, action, action] }).success).toBe(false);
    expect(messageTemplateSchema.safeParse({ ...base, actions: [{ action: 'no spaces', title: 'x' }] }).success).toBe(false);
    expect(messageTemplateSchema.safeParse({ ...base, icon: 'x' }).success).toBe(false);
  });
});

describe('worstCaseMessageBytes', () => {
  it('exceeds the bytes of the raw template by the placeholders at their largest', () => {
    const price = template('{{product.name}} is now {{price.new}}', 'Was {{price.old}}');
    const raw = utf8Bytes(JSON.stringify({ title: price.title, body: price.body }));
    // 120 + 24 + 24 characters of 3 bytes, replacing 16 + 13 + 13 bytes of placeholder text.
    expect(worstCaseMessageBytes(price)).toBe(raw + (120 + 24 + 24) * 3 - (16 + 13 + 13));
  });

  it('grows with the template, up to the title and body limits', () => {
    const short = worstCaseMessageBytes(template('{{product.name}}', 'a'));
    const longer = worstCaseMessageBytes(template('{{product.name}}', 'a'.repeat(500)));
    const withAction = worstCaseMessageBytes({ title: '{{product.name}}', body: 'a'.repeat(500), actions: [{ action: 'buy', title: 'Buy {{price.new}}' }] });
    expect(longer).toBe(short + 499);
    expect(withAction).toBeGreaterThan(longer);
    const capped = worstCaseMessageBytes(template('{{product.name}}'.repeat(12), '{{product.name}}'.repeat(60)));
    const JSON_OVERHEAD = '{"title":"","body":""}'.length;
    expect(capped).toBe(JSON_OVERHEAD + (MAX_TITLE_CHARS * 3) + (MAX_BODY_CHARS * 3));
  });

  it('bounds what a real rendering with long values produces', () => {
    const tpl = template('{{item.name}}{{item.more}} · {{cart.total}}', 'Code {{discount.code}}, {{item.count}} items');
    const rendered = renderMessage(tpl, {
      locale: 'de-DE',
      currency: 'EUR',
      item: { name: '€'.repeat(500), moreCount: 9_999_999 },
      cart: { total: 999_999_999.99, itemCount: 9_999_999 },
      discount: { code: '€'.repeat(64) },
    });
    expect(utf8Bytes(JSON.stringify(rendered))).toBeLessThanOrEqual(worstCaseMessageBytes(tpl));
  });
});
