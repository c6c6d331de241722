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
    // Order updates: the `track` button opens the event's tracking URL, and is left out when there
    // is none on the shop's origins (server/triggers/order-updates.ts).
    order_shipped: {
      en: {
        title: 'Your order {{order.id}} is on its way',
        body: 'Shipped with {{order.carrier}}.\nTap to see your order.',
        actions: [{ action: 'track', title: 'Track parcel' }],
      },
      de: {
        title: 'Deine Bestellung {{order.id}} ist unterwegs',
        body: 'Versendet mit {{order.carrier}}.\nTippe hier, um deine Bestellung zu sehen.',
        actions: [{ action: 'track', title: 'Sendung verfolgen' }],
      },
    },
    order_delivered: {
      en: { title: 'Your order {{order.id}} has been delivered', body: 'Enjoy! Tap to see your order.' },
      de: { title: 'Deine Bestellung {{order.id}} wurde zugestellt', body: 'Viel Freude damit! Tippe hier, um deine Bestellung zu sehen.' },
    },
    order_ready_for_pickup: {
      en: { title: 'Your order {{order.id}} is ready for pickup', body: 'Waiting for you at {{order.pickup}}.\nTap for the details.' },
      de: { title: 'Deine Bestellung {{order.id}} liegt zur Abholung bereit', body: 'Sie wartet auf dich in {{order.pickup}}.\nTippe hier für die Details.' },
    },
    order_cancelled: {
      en: { title: 'Your order {{order.id}} has been cancelled', body: 'Tap to see the details of your order.' },
      de: { title: 'Deine Bestellung {{order.id}} wurde storniert', body: 'Tippe hier, um die Details deiner Bestellung zu sehen.' },
    },
    refund_issued: {
      en: { title: 'Refund for order {{order.id}}', body: 'We refunded {{refund.amount}}.\nTap to see your order.' },
      de: { title: 'Erstattung für Bestellung {{order.id}}', body: 'Wir haben {{refund.amount}} erstattet.\nTippe hier, um deine Bestellung zu sehen.' },
    },
    // Two buttons, as browsers show at most two; their action ids are the answers recorded.
    rating_request: {
      en: {
        title: 'How was your order?',
        body: 'Tell us in one tap how order {{order.id}} went.',
        actions: [
          { action: 'good', title: '👍 Good' },
          { action: 'bad', title: '👎 Not good' },
        ],
      },
      de: {
        title: 'Wie war deine Bestellung?',
        body: 'Sag uns mit einem Tipp, wie Bestellung {{order.id}} war.',
        actions: [
          { action: 'good', title: '👍 Gut' },
          { action: 'bad', title: '👎 Nicht gut' },
        ],
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
    welcome: {
      en: { title: 'Welcome! You are in', body: 'We will tell you about offers and your orders. Tap to have a look around.' },
      de: { title: 'Willkommen! Schön, dass du da bist', body: 'Wir sagen dir Bescheid zu Angeboten und deinen Bestellungen. Tippe hier, um dich umzusehen.' },
    },
    'welcome.code': {
      en: { title: 'Welcome! A gift for your first order', body: 'Use code {{discount.code}} at checkout.\nTap to start shopping.' },
      de: { title: 'Willkommen! Ein Geschenk für deine erste Bestellung', body: 'Gib beim Bezahlen den Code {{discount.code}} ein.\nTippe hier, um loszulegen.' },
    },
    reactivation: {
      en: { title: 'We miss you', body: 'A lot is new since your last visit. Tap to have a look.' },
      de: { title: 'Wir vermissen dich', body: 'Seit deinem letzten Besuch ist viel Neues dazugekommen. Tippe hier, um es dir anzusehen.' },
    },
    'reactivation.code': {
      en: { title: 'We miss you: here is a gift', body: 'Use code {{discount.code}} at checkout.\nTap to see what is new.' },
      de: { title: 'Wir vermissen dich: hier ein Geschenk', body: 'Gib beim Bezahlen den Code {{discount.code}} ein.\nTippe hier, um Neues zu entdecken.' },
    },
    birthday: {
      en: {
        title: 'Happy birthday! 🎂',
        body: 'Everyone here wishes you a wonderful day.\nA little gift: use code {{discount.code}} at checkout.',
      },
      de: {
        title: 'Alles Gute zum Geburtstag! 🎂',
        body: 'Wir wünschen dir einen wunderschönen Tag.\nEin kleines Geschenk: Gib beim Bezahlen den Code {{discount.code}} ein.',
      },
    },
  });
