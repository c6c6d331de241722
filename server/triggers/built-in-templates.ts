import type { MessageTemplate, TemplateKey } from '../sites/template-settings.ts';

/** The language of the last fallback: every built-in key has English copy. */
export const FALLBACK_LOCALE = 'en';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Built-in texts, used for keys and locales a site has not written. Frozen because
 * {@link resolveTemplate} hands out these very objects. German uses "du", as most German shops do
 * in marketing copy, and avoids verbs that would have to agree with `{{item.more}}`.
 */
export const DEFAULT_TEMPLATES: Readonly<Record<TemplateKey, Readonly<Record<'en' | 'de', MessageTemplate>>>> =
  deepFreeze({
    'cart_reminder.1': {
      en: {
        title: 'You left {{item.name}}{{item.more}} in your cart',
        body: 'Your cart is saved. Tap to pick up where you left off.',
      },
      de: {
        title: 'Noch in deinem Warenkorb: {{item.name}}{{item.more}}',
        body: 'Dein Warenkorb ist gespeichert. Tippe hier, um weiterzumachen.',
      },
    },
    'cart_reminder.2': {
      en: {
        title: 'Still thinking about {{item.name}}?',
        body: 'Your cart is still saved. Tap to complete your order.\nUse code {{discount.code}} at checkout.',
      },
      de: {
        title: 'Noch Interesse an {{item.name}}?',
        body: 'Dein Warenkorb ist noch gespeichert. Tippe hier, um die Bestellung abzuschließen.\nGib beim Bezahlen den Code {{discount.code}} ein.',
      },
    },
    price_drop: {
      en: {
        title: '{{product.name}} is now {{price.new}}',
        body: 'Was {{price.old}} — now {{price.new}}. Tap to see it.',
      },
      de: {
        title: '{{product.name}} jetzt für {{price.new}}',
        body: 'Vorher {{price.old}}, jetzt {{price.new}}. Tippe hier, um es anzusehen.',
      },
    },
    back_in_stock: {
      en: {
        title: '{{product.name}} is back in stock',
        body: 'It is available again. Tap to get yours.',
      },
      de: {
        title: '{{product.name}} ist wieder da',
        body: 'Wieder auf Lager. Tippe hier, um es dir zu sichern.',
      },
    },
    low_stock: {
      en: {
        title: 'Only {{stock}} left: {{product.name}}',
        body: 'It is selling fast. Tap to get yours before it is gone.',
      },
      de: {
        title: 'Nur noch {{stock}} verfügbar: {{product.name}}',
        body: 'Es ist fast weg. Tippe hier, um es dir zu sichern.',
      },
    },
  });
