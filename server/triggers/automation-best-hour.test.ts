import { describe, expect, it } from 'vitest';
import { browserHeaders } from '../testing/fixtures.ts';
import { usePushWorld, type PushShop } from '../testing/push-world.ts';
import { DAY_MS } from '../time.ts';

// Each test starts from an empty outbox: a push deferred in one must not be claimed by the next.
const pushWorld = usePushWorld({ emptyOutboxAfterEach: true });

type Shop = PushShop;
type Shopper = Awaited<ReturnType<Shop['shopper']>>;

/**
 * The catalogue automations with a `sendAtBestHour` switch: the product as the feed has it first,
 * what makes the shopper one to tell, a visit of theirs (a product page view, as the shop's pages
 * report it), and the feed change that fires the push.
 */
const AUTOMATIONS: Array<{
  setting: 'priceDrop' | 'backInStock' | 'lowStock';
  source: string;
  settings?: Record<string, unknown>;
  before: Record<string, unknown>;
  interest?: (s: Shop, shopper: Shopper) => Promise<void>;
  visit: (shopper: Shopper) => Promise<void>;
  change: Record<string, unknown>;
}> = [
  { setting: 'priceDrop', source: 'price_drop', before: { price: 99 }, visit: (shopper) => shopper.views(99), change: { price: 79 } },
  {
    setting: 'backInStock',
    source: 'back_in_stock',
    before: { price: 49, inStock: false },
    interest: async (s, shopper) => {
      const watch = await s.call('POST', '/v1/watches', { visitorId: shopper.visitorId, productId: 'jacket', kind: 'back_in_stock' }, browserHeaders(s.site));
      expect(watch.status, JSON.stringify(watch.body)).toBe(201);
    },
    visit: (shopper) => shopper.views(49),
    change: { inStock: true },
  },
  { setting: 'lowStock', source: 'low_stock', settings: { enabled: true }, before: { price: 120, stock: 10 }, visit: (shopper) => shopper.views(120), change: { stock: 3 } },
];

/** Monday 23 Nov 2026, 12:00 in Berlin: the feed change comes at noon. */
const NOON_BERLIN = Date.parse('2026-11-23T11:00:00Z');
/** 19:00 in Berlin (CET, UTC+1) that day: the shopper's best hour. */
const BEST_HOUR_UTC = '2026-11-23T18:00:00.000Z';

/**
 * A shop with the automation on and the switch as given, and one shopper in Berlin who visited the
 * product at 19:xx on each of the five evenings a week before (five quarter hours: five data points,
 * the default `minOwnDataPoints`); the clock is then at noon of the day the feed changes.
 */
async function shopWithHistory(automation: (typeof AUTOMATIONS)[number], sendAtBestHour: boolean) {
  const s = await pushWorld.shop({ startMs: NOON_BERLIN - 7 * DAY_MS });
  await s.settings({ [automation.setting]: { ...automation.settings, sendAtBestHour } });
  await s.feed(automation.before);
  const lena = await s.shopper('lena', { locale: 'en-US', timeZone: 'Europe/Berlin' });
  await automation.interest?.(s, lena);
  for (let day = 16; day <= 20; day++) {
    s.clock.nowMs = Date.parse(`2026-11-${day}T18:${10 + day}:00Z`);
    await automation.visit(lena);
  }
  s.clock.nowMs = NOON_BERLIN;
  return { s, lena };
}

const deliveryOf = (notificationId: string) => pushWorld.db.selectFrom('deliveries').selectAll().where('notification_id', '=', notificationId).executeTakeFirstOrThrow();
const notificationOf = (id: string) => pushWorld.db.selectFrom('notifications').select(['source', 'kind', 'best_hour']).where('id', '=', id).executeTakeFirstOrThrow();

describe.each(AUTOMATIONS)('$setting.sendAtBestHour', (automation) => {
  it('on: the push is created for the best hour and its delivery waits for the shopper’s own, from their visits', async () => {
    const { s, lena } = await shopWithHistory(automation, true);
    const queued = await s.feed(automation.change);
    expect(queued).toHaveLength(1);
    expect(await notificationOf(queued[0]!)).toEqual({ source: automation.source, kind: 'marketing', best_hour: true });

    await s.deliver();
    expect(await deliveryOf(queued[0]!)).toMatchObject({
      status: 'queued',
      attempts: 0,
      due_at: new Date(BEST_HOUR_UTC),
      last_error: `best_hour: this shopper most often clicks or visits at 19:00 in Europe/Berlin; deferred until ${BEST_HOUR_UTC}`,
    });
    expect(lena.pushes()).toEqual([]);

    s.clock.nowMs = Date.parse(BEST_HOUR_UTC) - 60_000; // 18:59 in Berlin
    await s.deliver();
    expect(lena.pushes()).toEqual([]);

    s.clock.nowMs = Date.parse(BEST_HOUR_UTC);
    await s.deliver();
    expect(lena.pushes().map((p) => p.id)).toEqual([queued[0]]);
    expect(await deliveryOf(queued[0]!)).toMatchObject({ status: 'sent', sent_at: new Date(BEST_HOUR_UTC) });
  });

  it('off (the default): the same shopper gets it at once', async () => {
    const { s, lena } = await shopWithHistory(automation, false);
    const queued = await s.feed(automation.change);
    expect(queued).toHaveLength(1);
    expect(await notificationOf(queued[0]!)).toEqual({ source: automation.source, kind: 'marketing', best_hour: false });

    await s.deliver();
    expect(await deliveryOf(queued[0]!)).toMatchObject({ status: 'sent', last_error: null, sent_at: new Date(NOON_BERLIN) });
    expect(lena.pushes().map((p) => p.id)).toEqual([queued[0]]);
  });
});
