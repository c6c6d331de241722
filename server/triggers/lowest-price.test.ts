import { describe, expect, it } from 'vitest';
import { usePushWorld } from '../testing/push-world.ts';
import { DAY_MS } from '../time.ts';

const pushWorld = usePushWorld();

/** Midday in Berlin: outside quiet hours. The history is written by moving this clock. */
const NOON_BERLIN = Date.parse('2026-11-23T11:00:00Z');
const NBSP = '\u00a0';

const shop = () => pushWorld.shop({ startMs: NOON_BERLIN - 40 * DAY_MS });

describe('price drops against the lowest price of the 30 days before (EU Omnibus, 98/6/EC art. 6a)', () => {
  it('by default: after a temporary raise, a drop that is not below the 30-day low sends nothing; one below it says "was" the low', async () => {
    const s = await shop();
    await s.feed({ price: 79 });
    s.clock.nowMs = NOON_BERLIN - 5 * DAY_MS;
    await s.feed({ price: 99 });
    const anna = await s.shopper('anna');
    const jonas = await s.shopper('jonas', { locale: 'de-DE' });
    await anna.views(99);
    await jonas.views(99);

    s.clock.nowMs = NOON_BERLIN;
    // 89 is 10 % below what they saw, but not below the 79 of two weeks ago: no reduction to announce.
    expect(await s.feed({ price: 89 })).toEqual([]);
    s.clock.nowMs += 60_000;
    const queued = await s.feed({ price: 69 });
    expect(queued).toHaveLength(1);
    await s.deliver();

    const [push] = anna.pushes();
    expect(anna.pushes()).toHaveLength(1);
    expect(push!.title).toBe('Rain jacket is now €69.00');
    expect(push!.body).toBe('Was €79.00 — now €69.00. Tap to see it.');
    const [german] = jonas.pushes();
    expect(german!.body).toBe(`Vorher 79,00${NBSP}€, jetzt 69,00${NBSP}€. Tippe hier, um es anzusehen.`);

    const notification = await pushWorld.db.selectFrom('notifications').select('audience').where('id', '=', queued[0]!).executeTakeFirstOrThrow();
    expect(notification.audience).toMatchObject({ trigger: 'price_drop', oldPrice: 89, lowest30: 79, comparedWith: 'lowest30', price: 69 });
  });

  it('states {{price.lowest30}} in a site template per locale, also when comparing with the price before', async () => {
    const s = await shop();
    await s.settings({
      priceDrop: { compareWith: 'previous' },
      templates: {
        price_drop: {
          en: { title: '{{product.name}}: {{price.new}}', body: 'Lowest price of the last 30 days: {{price.lowest30}}. Was {{price.old}}.' },
          de: { title: '{{product.name}}: {{price.new}}', body: 'Niedrigster Preis der letzten 30 Tage: {{price.lowest30}}. Vorher {{price.old}}.' },
        },
      },
    });
    await s.feed({ price: 79 });
    s.clock.nowMs = NOON_BERLIN - 5 * DAY_MS;
    await s.feed({ price: 99 });
    const anna = await s.shopper('anna');
    const jonas = await s.shopper('jonas', { locale: 'de-DE' });
    await anna.views(99);
    await jonas.views(99);
    s.clock.nowMs = NOON_BERLIN;
    // Compared with the price before, 89 is a drop from 99: a push, which still states the 30-day low.
    expect(await s.feed({ price: 89 })).toHaveLength(1);
    await s.deliver();
    expect(anna.pushes().map((p) => p.body)).toEqual(['Lowest price of the last 30 days: €79.00. Was €99.00.']);
    expect(jonas.pushes().map((p) => p.body)).toEqual([`Niedrigster Preis der letzten 30 Tage: 79,00${NBSP}€. Vorher 99,00${NBSP}€.`]);
  });

  it('measures the threshold from the 30-day low: 78 after a low of 79 is too small a drop to push at 5 %', async () => {
    const s = await shop();
    await s.feed({ price: 79 });
    s.clock.nowMs = NOON_BERLIN - 5 * DAY_MS;
    await s.feed({ price: 99 });
    const anna = await s.shopper('anna');
    await anna.views(99);
    s.clock.nowMs = NOON_BERLIN;
    expect(await s.feed({ price: 78 })).toEqual([]);
    s.clock.nowMs += 60_000;
    expect(await s.feed({ price: 74 })).toHaveLength(1);
  });

  it('a low older than 30 days no longer counts, and a product with no history compares with the price before', async () => {
    const s = await shop();
    await s.feed({ price: 59 });
    s.clock.nowMs = NOON_BERLIN - 31 * DAY_MS;
    await s.feed({ price: 99 });
    // A product the catalogue had before history was kept: no rows at all.
    await s.feed({ price: 50 }, 'scarf');
    await pushWorld.db.deleteFrom('product_prices').where('site_id', '=', s.site.id).where('product_id', '=', 'scarf').execute();
    const anna = await s.shopper('anna');
    await anna.views(99);
    await anna.views(50, 'scarf');
    s.clock.nowMs = NOON_BERLIN;
    expect(await s.feed({ price: 89 })).toHaveLength(1);
    expect(await s.feed({ price: 45 }, 'scarf')).toHaveLength(1);
    await s.deliver();
    expect(anna.pushes().map((p) => p.body)).toEqual(['Was €99.00 — now €89.00. Tap to see it.', 'Was €50.00 — now €45.00. Tap to see it.']);
  });

  it('keeps one history row per real change, from the feed and from the batch feed', async () => {
    const s = await shop();
    await s.feed({ price: 99 });
    await s.feed({ price: 99, inStock: true });
    s.clock.nowMs += DAY_MS;
    const batch = await s.call('POST', '/v1/products/batch', { products: [{ id: 'jacket', price: 89 }, { id: 'hat', name: 'Hat', price: 20 }] });
    expect(batch.status).toBe(200);
    await s.call('POST', '/v1/products/batch', { products: [{ id: 'jacket', price: 89 }] });
    const rows = await pushWorld.db
      .selectFrom('product_prices')
      .select(['product_id', 'price', 'changed_at'])
      .where('site_id', '=', s.site.id)
      .orderBy('changed_at')
      .orderBy('product_id')
      .execute();
    expect(rows.map((row) => [row.product_id, Number(row.price), row.changed_at.getTime() - NOON_BERLIN])).toEqual([
      ['jacket', 99, -40 * DAY_MS],
      ['hat', 20, -39 * DAY_MS],
      ['jacket', 89, -39 * DAY_MS],
    ]);
  });
});
