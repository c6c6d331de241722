import { describe, expect, it } from 'vitest';
import { utf8Bytes } from '../notifications/payload.ts';
import { MAX_BODY_CHARS, MAX_TITLE_CHARS, type MessageTemplate } from '../sites/template-settings.ts';
import { MAX_NAME_CHARS, renderMessage, worstCaseMessageBytes, type TemplateContext } from './template-rendering.ts';

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

describe('renderMessage: the 30-day low and stock', () => {
  const drop = { name: 'Shoe', priceOld: 79, priceNew: 69, priceLowest30: 1234.5, stock: 1234 };

  it('renders {{price.lowest30}} as money per locale, beside the other prices', () => {
    expect(render('{{price.lowest30}}', { locale: 'de-DE', currency: 'EUR', product: drop })).toBe(`1.234,50${NBSP}€`);
    expect(render('{{price.lowest30}}', { locale: 'en-US', currency: 'EUR', product: drop })).toBe('€1,234.50');
    expect(render('{{price.lowest30}}', { locale: 'en-GB', currency: 'GBP', product: drop })).toBe('£1,234.50');
    // Not known (another automation): an empty line is left out of the body.
    const message = renderMessage(template('x', 'Lowest in 30 days: {{price.lowest30}}\nTap.'), { locale: 'en-US', currency: 'EUR', product: { name: 'x', priceNew: 5 } });
    expect(message.body).toBe('Tap.');
  });

  it('renders {{stock}} as a locale number, and keeps {{stock}} in a product name literal', () => {
    expect(render('Only {{stock}} left', { locale: 'de-DE', product: drop })).toBe('Only 1.234 left');
    expect(render('Only {{stock}} left', { locale: 'en-US', product: { ...drop, stock: 3 } })).toBe('Only 3 left');
    expect(render('{{product.name}}', { product: { name: '{{stock}}', stock: 3 } })).toBe('{{stock}}');
  });

  it('counts both in the worst-case size of a template', () => {
    expect(worstCaseMessageBytes(template('{{price.lowest30}}{{stock}}'))).toBeGreaterThan(worstCaseMessageBytes(template('')) + 3 * (24 + 16) - 1);
  });
});
