import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../notifications/payload.ts';
import { messageTemplateSchema, TEMPLATE_KEYS } from '../sites/template-settings.ts';
import { DEFAULT_TEMPLATES } from './built-in-templates.ts';
import { resolveTemplate } from './template-lookup.ts';
import { renderMessage, worstCaseMessageBytes } from './template-rendering.ts';

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
