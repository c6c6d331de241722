import { describe, expect, it } from 'vitest';
import { claimDeliveries } from '../db/deliveries.ts';
import { purgeIdempotencyKeys } from '../db/idempotency-keys.ts';
import { browserHeaders, SHOP_ORIGIN } from '../testing/fixtures.ts';
import { PUBLIC_URL, usePushWorld } from '../testing/push-world.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../time.ts';
import { fireDueCartReminders } from './cart-reminders.ts';

const pushWorld = usePushWorld();

/** Midday in Berlin, the afternoon's start in New York: outside the default quiet hours for both. */
const NOON_BERLIN = Date.parse('2026-11-23T11:00:00Z');

/** A shop with its API, a delivery worker and a clock the test moves by hand. */
async function shop(options: { startMs?: number } = {}) {
  const s = await pushWorld.shop({ startMs: options.startMs ?? NOON_BERLIN, quietHours: true });

  /** Runs triggers and the delivery worker until nothing more is due now. */
  async function tick() {
    const { queued } = await fireDueCartReminders(pushWorld.db, { now: new Date(s.clock.nowMs), publicUrl: PUBLIC_URL });
    await s.deliver();
    return queued;
  }

  async function deliveriesOf(notificationId: string) {
    return pushWorld.db.selectFrom('deliveries').selectAll().where('notification_id', '=', notificationId).orderBy('id').execute();
  }

  return { ...s, tick, deliveriesOf };
}

const cart = (cartId: string, items: Array<{ productId: string; name: string; price: number; quantity: number; image?: string }>) => ({
  cartId,
  items,
  total: items.reduce((sum, item) => sum + item.price * item.quantity, 0),
  currency: 'EUR',
  url: `${SHOP_ORIGIN}/cart/${cartId}`,
});
const THREE_ITEMS = [
  { productId: 'shoe', name: 'Trail running shoe', price: 99, quantity: 1, image: 'https://cdn.shop.example/shoe.jpg' },
  { productId: 'sock', name: 'Wool socks', price: 12, quantity: 2 },
  { productId: 'cap', name: 'Cap', price: 20, quantity: 1 },
];

describe('cart reminders', () => {
  it('sends step 1 after an hour and step 2 after a day, naming the product with its image and the cart URL', async () => {
    const s = await shop();
    const alice = await s.shopper('alice');
    await alice.event('cart_updated', cart('cart-a', THREE_ITEMS));

    s.clock.nowMs += 59 * MINUTE_MS;
    expect(await s.tick()).toEqual([]);
    expect(alice.pushes()).toHaveLength(0);

    s.clock.nowMs += 2 * MINUTE_MS;
    expect(await s.tick()).toHaveLength(1);
    const [first] = alice.pushes();
    expect(first!.title).toContain('Trail running shoe');
    expect(`${first!.title} ${first!.body}`).toContain('+ 2 more');
    expect(first!.image).toBe('https://cdn.shop.example/shoe.jpg');
    expect(first!.url).toBe(`${SHOP_ORIGIN}/cart/cart-a`);

    s.clock.nowMs += 23 * HOUR_MS;
    expect(await s.tick()).toHaveLength(1);
    const second = alice.pushes()[1]!;
    expect(second.id).not.toBe(first!.id);
    expect(second.url).toBe(`${SHOP_ORIGIN}/cart/cart-a`);
    expect(`${second.title} ${second.body}`).toContain('Trail running shoe');

    s.clock.nowMs += 7 * 24 * HOUR_MS;
    expect(await s.tick()).toEqual([]);
    expect(alice.pushes()).toHaveLength(2);
  });

  it('sends nothing when the order comes before the first delay', async () => {
    const s = await shop();
    const bob = await s.shopper('bob');
    await bob.event('cart_updated', cart('cart-b', THREE_ITEMS));
    s.clock.nowMs += 30 * MINUTE_MS;
    await bob.event('order_completed', { orderId: 'order-b', value: 143, currency: 'EUR', cartId: 'cart-b' });
    s.clock.nowMs += 48 * HOUR_MS;
    expect(await s.tick()).toEqual([]);
    expect(bob.pushes()).toHaveLength(0);
  });

  it('sends no step 2 after a purchase between the steps', async () => {
    const s = await shop();
    const carol = await s.shopper('carol');
    await carol.event('cart_updated', cart('cart-c', THREE_ITEMS));
    s.clock.nowMs += 61 * MINUTE_MS;
    expect(await s.tick()).toHaveLength(1);
    // The order names no cart: every open cart of the shopper is done.
    await carol.event('order_completed', { orderId: 'order-c', value: 143, currency: 'EUR' });
    s.clock.nowMs += 48 * HOUR_MS;
    expect(await s.tick()).toEqual([]);
    expect(carol.pushes()).toHaveLength(1);
  });

  it('re-checks the cart at send time: bought after the step fired, the queued reminder is suppressed', async () => {
    const s = await shop();
    const dan = await s.shopper('dan');
    await dan.event('cart_updated', cart('cart-d', THREE_ITEMS));
    s.clock.nowMs += 61 * MINUTE_MS;
    const {
      queued: [notificationId],
    } = await fireDueCartReminders(pushWorld.db, { now: new Date(s.clock.nowMs), publicUrl: PUBLIC_URL });
    await dan.event('order_completed', { orderId: 'order-d', value: 143, currency: 'EUR', cartId: 'cart-d' });
    await s.tick();
    expect(dan.pushes()).toHaveLength(0);
    const [delivery] = await s.deliveriesOf(notificationId!);
    expect(delivery).toMatchObject({ status: 'suppressed' });
    expect(delivery!.last_error).toMatch(/cart/);
  });

  it("ignores a browser's order naming another shopper's cart; the shop's backend may close any", async () => {
    const s = await shop();
    const owner = await s.shopper('owner');
    const stranger = await s.shopper('stranger');
    await owner.event('cart_updated', cart('cart-owned', THREE_ITEMS));
    await stranger.event('order_completed', { orderId: 'order-x', value: 1, currency: 'EUR', cartId: 'cart-owned' });
    s.clock.nowMs += 61 * MINUTE_MS;
    expect(await s.tick()).toHaveLength(1);
    expect(owner.pushes()).toHaveLength(1);

    const backend = await s.call('POST', '/v1/events', { type: 'order_completed', externalUserId: 'customer-1', properties: { orderId: 'order-y', value: 143, currency: 'EUR', cartId: 'cart-owned' } });
    expect(backend.status).toBe(202);
    s.clock.nowMs += 24 * HOUR_MS;
    expect(await s.tick()).toEqual([]);
    expect(owner.pushes()).toHaveLength(1);
  });

  it('sends nothing for an emptied cart', async () => {
    const s = await shop();
    const erin = await s.shopper('erin');
    await erin.event('cart_updated', cart('cart-e', THREE_ITEMS));
    s.clock.nowMs += 10 * MINUTE_MS;
    await erin.event('cart_updated', cart('cart-e', []));
    s.clock.nowMs += 48 * HOUR_MS;
    expect(await s.tick()).toEqual([]);
    expect(erin.pushes()).toHaveLength(0);
  });

  it('fires each step once with two workers scanning at once and again after a restart', async () => {
    const s = await shop();
    const shoppers = await Promise.all(['f1', 'f2', 'f3', 'f4'].map((name) => s.shopper(name)));
    for (const [i, shopper] of shoppers.entries()) await shopper.event('cart_updated', cart(`cart-f${i}`, THREE_ITEMS));
    const scan = async () => (await fireDueCartReminders(pushWorld.db, { now: new Date(s.clock.nowMs), publicUrl: PUBLIC_URL, limit: 2 })).queued;

    s.clock.nowMs += 61 * MINUTE_MS;
    const firstRound = (await Promise.all([scan(), scan(), scan()])).flat();
    // A restarted worker scans again: nothing is left to fire.
    const again = [...(await scan()), ...(await scan())];
    await s.tick();
    s.clock.nowMs += 24 * HOUR_MS;
    const secondRound = (await Promise.all([scan(), scan(), scan()])).flat();
    const afterRestart = await scan();
    expect(firstRound.length + again.length).toBe(4);
    expect(secondRound.length + afterRestart.length).toBe(4);
    await s.tick();
    for (const shopper of shoppers) expect(shopper.pushes()).toHaveLength(2);
  });
});

describe('price drops and back in stock', () => {
  async function catalogue(s: Awaited<ReturnType<typeof shop>>, product: Record<string, unknown>, id = 'jacket') {
    const answer = await s.call('PUT', `/v1/products/${id}`, { name: 'Rain jacket', url: `${SHOP_ORIGIN}/p/${id}`, image: `https://cdn.shop.example/${id}.jpg`, currency: 'EUR', ...product });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as { notificationsQueued: string[] };
  }
  const viewed = (price: number, id = 'jacket') => ({ productId: id, name: 'Rain jacket', price, currency: 'EUR', url: `${SHOP_ORIGIN}/p/${id}` });

  it('a 20 % drop tells the viewer, the carter and the watcher, not the shopper who saw the new price', async () => {
    const s = await shop();
    await catalogue(s, { price: 99 });
    const viewer = await s.shopper('viewer');
    const carter = await s.shopper('carter');
    const watcher = await s.shopper('watcher');
    const bargainHunter = await s.shopper('bargain');
    await viewer.event('product_viewed', viewed(99));
    await carter.event('cart_updated', cart('cart-carter', [{ productId: 'jacket', name: 'Rain jacket', price: 99, quantity: 1 }]));
    const watch = await s.call('POST', '/v1/watches', { visitorId: watcher.visitorId, productId: 'jacket', kind: 'price_drop' }, browserHeaders(s.site));
    expect(watch.status).toBe(201);
    await bargainHunter.event('product_viewed', viewed(79));

    const { notificationsQueued } = await catalogue(s, { price: 79 });
    expect(notificationsQueued).toHaveLength(1);
    await s.tick();
    for (const shopper of [viewer, carter, watcher]) {
      const [push] = shopper.pushes();
      expect(push, shopper.name).toMatchObject({ url: `${SHOP_ORIGIN}/p/jacket`, image: 'https://cdn.shop.example/jacket.jpg' });
      expect(`${push!.title} ${push!.body}`).toContain('€99.00');
      expect(`${push!.title} ${push!.body}`).toContain('€79.00');
      expect(push!.title).toContain('Rain jacket');
    }
    expect(bargainHunter.pushes()).toHaveLength(0);
    const rows = await s.deliveriesOf(notificationsQueued[0]!);
    expect(rows).toHaveLength(3);
  });

  it('a rise and then a smaller drop within the window send nothing new; a further fall does', async () => {
    const s = await shop();
    await catalogue(s, { price: 99 });
    const viewer = await s.shopper('flap');
    await viewer.event('product_viewed', viewed(99));
    expect((await catalogue(s, { price: 79 })).notificationsQueued).toHaveLength(1);
    await s.tick();
    s.clock.nowMs += HOUR_MS;
    expect((await catalogue(s, { price: 90 })).notificationsQueued).toHaveLength(0);
    s.clock.nowMs += HOUR_MS;
    expect((await catalogue(s, { price: 85 })).notificationsQueued).toHaveLength(0);
    s.clock.nowMs += HOUR_MS;
    expect((await catalogue(s, { price: 70 })).notificationsQueued).toHaveLength(1);
    await s.tick();
    expect(viewer.pushes().map((p) => p.body.includes('€70.00') || p.title.includes('€70.00'))).toEqual([false, true]);
  });

  it("honours the shopper's own target: not at 79 when they asked for 70, yes at 69", async () => {
    const s = await shop();
    await catalogue(s, { price: 99 });
    const patient = await s.shopper('patient');
    await patient.event('product_viewed', viewed(99));
    const watch = await s.call('POST', '/v1/watches', { visitorId: patient.visitorId, productId: 'jacket', kind: 'price_drop', price: 70 }, browserHeaders(s.site));
    expect(watch.status).toBe(201);
    const viewer = await s.shopper('plain-viewer');
    await viewer.event('product_viewed', viewed(99));

    await catalogue(s, { price: 79 });
    await s.tick();
    expect(patient.pushes()).toHaveLength(0);
    expect(viewer.pushes()).toHaveLength(1);
    await catalogue(s, { price: 69 });
    await s.tick();
    expect(patient.pushes()).toHaveLength(1);
    expect(patient.pushes()[0]!.title).toContain('€69.00');
  });

  it('back in stock tells only its watchers, once', async () => {
    const s = await shop();
    await catalogue(s, { price: 49, inStock: false }, 'boots');
    const waiting = await s.shopper('waiting');
    const browsing = await s.shopper('browsing');
    await browsing.event('product_viewed', viewed(49, 'boots'));
    expect((await s.call('POST', '/v1/watches', { visitorId: waiting.visitorId, productId: 'boots', kind: 'back_in_stock' }, browserHeaders(s.site))).status).toBe(201);

    const { notificationsQueued } = await catalogue(s, { inStock: true }, 'boots');
    expect(notificationsQueued).toHaveLength(1);
    await s.tick();
    expect(waiting.pushes()).toHaveLength(1);
    expect(waiting.pushes()[0]).toMatchObject({ url: `${SHOP_ORIGIN}/p/boots` });
    expect(browsing.pushes()).toHaveLength(0);
    // Out and in again: the watch was fulfilled, nobody is told twice.
    await catalogue(s, { inStock: false }, 'boots');
    expect((await catalogue(s, { inStock: true }, 'boots')).notificationsQueued).toHaveLength(0);
  });

  it('learns a product and its price from a view when the shop has no feed', async () => {
    const s = await shop();
    const first = await s.shopper('first-viewer');
    await first.event('product_viewed', { ...viewed(120, 'scarf'), name: 'Silk scarf' });
    const product = await s.call('GET', '/v1/products/scarf');
    expect(product.body).toMatchObject({ id: 'scarf', name: 'Silk scarf', price: 120, priceSource: 'browser' });
    // One visitor reporting a lower price changes nothing (anyone can send this event), nor can it
    // rename the product; a second visitor seeing the same price makes it a drop for the first.
    const second = await s.shopper('second-viewer');
    await second.event('product_viewed', { ...viewed(96, 'scarf'), name: 'FREE PHONE, click here', image: 'https://evil.example/x.png' });
    await second.event('product_viewed', { ...viewed(96, 'scarf'), name: 'FREE PHONE, click here' });
    await s.tick();
    expect(first.pushes()).toHaveLength(0);
    expect((await s.call('GET', '/v1/products/scarf')).body).toMatchObject({ price: 120 });
    const third = await s.shopper('third-viewer');
    await third.event('product_viewed', { ...viewed(96, 'scarf'), name: 'Silk scarf' });
    await s.tick();
    expect(first.pushes()).toHaveLength(1);
    expect(first.pushes()[0]!.title).toContain('Silk scarf');
    expect(first.pushes()[0]!.image).toBeUndefined();
    expect(second.pushes()).toHaveLength(0);
    // The feed is authoritative: once it set the price, views no longer change it.
    await catalogue(s, { name: 'Silk scarf', price: 110 }, 'scarf');
    await second.event('product_viewed', { ...viewed(1, 'scarf'), name: 'Silk scarf' });
    expect((await s.call('GET', '/v1/products/scarf')).body).toMatchObject({ price: 110, priceSource: 'feed' });
  });
});

describe('frequency cap and quiet hours', () => {
  async function send(s: Awaited<ReturnType<typeof shop>>, subscriptionId: string, extra: Record<string, unknown> = {}) {
    const answer = await s.call('POST', '/v1/notifications', { title: 'News', body: 'Hello', url: `${SHOP_ORIGIN}/`, to: { subscriptionIds: [subscriptionId] }, ...extra });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    return answer.body.id as string;
  }

  it('suppresses the 4th marketing push in 24 h, counted; a transactional one still goes', async () => {
    const s = await shop();
    const busy = await s.shopper('busy');
    for (let i = 0; i < 3; i++) {
      await send(s, busy.subscriptionId);
      await s.tick();
      s.clock.nowMs += HOUR_MS;
    }
    const fourth = await send(s, busy.subscriptionId);
    const order = await send(s, busy.subscriptionId, { kind: 'transactional', title: 'Your order shipped' });
    await s.tick();
    expect(busy.pushes().map((p) => p.title)).toEqual(['News', 'News', 'News', 'Your order shipped']);
    const [suppressed] = await s.deliveriesOf(fourth);
    expect(suppressed).toMatchObject({ status: 'suppressed' });
    expect(suppressed!.last_error).toMatch(/^frequency_cap/);
    expect((await s.call('GET', `/v1/notifications/${fourth}`)).body.counts).toMatchObject({ suppressed: 1, sent: 0 });
    expect((await s.call('GET', `/v1/notifications/${order}`)).body.counts).toMatchObject({ sent: 1 });
    // A day after the first, the window has room again.
    s.clock.nowMs += 22 * HOUR_MS;
    await send(s, busy.subscriptionId);
    await s.tick();
    expect(busy.pushes()).toHaveLength(5);
  });

  it('counts a push another worker is sending right now against the cap', async () => {
    const s = await shop();
    const shared = await s.shopper('shared');
    for (let i = 0; i < 2; i++) {
      await send(s, shared.subscriptionId);
      await s.tick();
    }
    const elsewhere = await send(s, shared.subscriptionId);
    // Another worker claims the third push and is still sending it.
    const claimed = await claimDeliveries(pushWorld.db, { leaseId: 'other-worker:1', limit: 10, nowMs: s.clock.nowMs, leaseMs: 60_000 });
    expect(claimed.map((d) => d.notification_id)).toEqual([elsewhere]);
    const fourth = await send(s, shared.subscriptionId);
    await s.tick();
    // Over the cap only through a push still in flight: it waits for that push's outcome.
    const [waiting] = await s.deliveriesOf(fourth);
    expect(waiting).toMatchObject({ status: 'queued', attempts: 0 });
    expect(waiting!.last_error).toMatch(/^frequency_cap.*in flight elsewhere/);
    // The other worker sends it; a minute later the fourth is over the cap for good.
    await pushWorld.db.updateTable('deliveries').set({ status: 'sent', sent_at: new Date(s.clock.nowMs), leased_by: null }).where('id', '=', claimed[0]!.id).execute();
    s.clock.nowMs += 61_000;
    await s.tick();
    const [row] = await s.deliveriesOf(fourth);
    expect(row).toMatchObject({ status: 'suppressed' });
    expect(row!.last_error).toMatch(/^frequency_cap/);
    expect(shared.pushes()).toHaveLength(2);
  });

  it('holds a push due at night until 09:00 in each subscriber’s own time zone', async () => {
    // 04:00 UTC: 05:00 in Berlin, 23:00 the evening before in New York — both inside 21:00–09:00.
    const s = await shop({ startMs: Date.parse('2026-11-23T04:00:00Z') });
    const berlin = await s.shopper('berlin', { timeZone: 'Europe/Berlin' });
    const newYork = await s.shopper('new-york', { timeZone: 'America/New_York' });
    const id = await s.call('POST', '/v1/notifications', { title: 'Sale', body: 'Today only', url: `${SHOP_ORIGIN}/`, to: { all: true } });
    await s.tick();
    expect(berlin.pushes()).toHaveLength(0);
    expect(newYork.pushes()).toHaveLength(0);
    const rows = await s.deliveriesOf(id.body.id);
    const dueBySubscription = new Map(rows.map((r) => [r.subscription_id, new Date(r.due_at).toISOString()]));
    expect(dueBySubscription.get(berlin.subscriptionId)).toBe('2026-11-23T08:00:00.000Z');
    expect(dueBySubscription.get(newYork.subscriptionId)).toBe('2026-11-23T14:00:00.000Z');
    expect(rows.every((r) => r.status === 'queued' && r.attempts === 0)).toBe(true);

    s.clock.nowMs = Date.parse('2026-11-23T08:00:00Z');
    await s.tick();
    expect(berlin.pushes()).toHaveLength(1);
    expect(newYork.pushes()).toHaveLength(0);
    s.clock.nowMs = Date.parse('2026-11-23T14:00:00Z');
    await s.tick();
    expect(newYork.pushes()).toHaveLength(1);
  });

  it('lands at 09:00 local across the spring-forward night', async () => {
    // Berlin moves from CET to CEST on 2027-03-28: 09:00 that morning is 07:00 UTC, not 08:00.
    const s = await shop({ startMs: Date.parse('2027-03-27T22:30:00Z') });
    const sleeper = await s.shopper('dst', { timeZone: 'Europe/Berlin' });
    const id = await send(s, sleeper.subscriptionId);
    await s.tick();
    const [row] = await s.deliveriesOf(id);
    expect(new Date(row!.due_at).toISOString()).toBe('2027-03-28T07:00:00.000Z');
    s.clock.nowMs = Date.parse('2027-03-28T07:00:00Z');
    await s.tick();
    expect(sleeper.pushes()).toHaveLength(1);
  });

  it('suppresses with the reason a push whose TTL runs out before quiet hours end', async () => {
    const s = await shop({ startMs: Date.parse('2026-11-23T22:00:00Z') });
    const night = await s.shopper('night', { timeZone: 'Europe/Berlin' });
    const id = await send(s, night.subscriptionId, { ttl: 3600 });
    await s.tick();
    const [row] = await s.deliveriesOf(id);
    expect(row).toMatchObject({ status: 'suppressed' });
    expect(row!.last_error).toMatch(/^quiet_hours: the TTL would elapse/);
  });
});

describe('templates', () => {
  it('speaks each subscriber’s language with its money format, falls back to the default, and keeps markup as text', async () => {
    const s = await shop();
    const name = '<b>Jacke</b> & "Mantel" <img src=x onerror=alert(1)>';
    const put = await s.call('PUT', '/v1/products/coat', { name, url: `${SHOP_ORIGIN}/p/coat`, price: 99, currency: 'EUR' });
    expect(put.status).toBe(200);
    const austrian = await s.shopper('at', { locale: 'de-AT' });
    const german = await s.shopper('de', { locale: 'de-DE' });
    const american = await s.shopper('us', { locale: 'en-US' });
    const french = await s.shopper('fr', { locale: 'fr-FR' });
    for (const shopper of [austrian, german, american, french]) await shopper.event('product_viewed', { productId: 'coat', price: 99, currency: 'EUR', url: `${SHOP_ORIGIN}/p/coat` });
    await s.call('PUT', '/v1/products/coat', { name, price: 79 });
    await s.tick();

    const text = (shopper: typeof german) => {
      const [push] = shopper.pushes();
      return `${push!.title}\n${push!.body}`;
    };
    expect(text(german)).toContain('jetzt für 79,00\u00a0€');
    expect(text(german)).toContain(name);
    // de-AT has no template of its own: the German one, with Austria's money format.
    expect(text(austrian)).toContain('jetzt für €\u00a079,00');
    expect(text(american)).toContain('is now €79.00');
    expect(text(american)).toContain(name);
    // No French template and the site's default locale is English: English words, French money.
    expect(text(french)).toContain('is now 79,00\u00a0€');
    expect(text(german)).not.toBe(text(american));
  });

  it('uses a site template for its locale after PATCH /v1/settings, and refuses one that cannot fit a push', async () => {
    const s = await shop();
    const patched = await s.call('PATCH', '/v1/settings', {
      templates: { price_drop: { de: { title: 'Jetzt {{price.new}}: {{product.name}}', body: 'Statt {{price.old}}.' } } },
      priceDrop: { thresholdPercent: 10 },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.priceDrop).toMatchObject({ thresholdPercent: 10, enabled: true });
    expect(patched.body.cartReminders.steps).toEqual([{ delayMinutes: 60 }, { delayMinutes: 1440 }]);

    const tooBig = await s.call('PATCH', '/v1/settings', { templates: { price_drop: { en: { title: '{{product.name}}', body: '{{product.name}} '.repeat(55) } } } });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('payload_too_large');
    expect(tooBig.body.error.message).toContain('templates.price_drop.en');
    const badPlaceholder = await s.call('PATCH', '/v1/settings', { templates: { price_drop: { en: { title: '{{product.nmae}}', body: '' } } } });
    expect(badPlaceholder.status).toBe(400);

    await s.call('PUT', '/v1/products/hat', { name: 'Hut', url: `${SHOP_ORIGIN}/p/hat`, price: 50, currency: 'EUR' });
    const german = await s.shopper('de-site', { locale: 'de-DE' });
    await german.event('product_viewed', { productId: 'hat', price: 50, currency: 'EUR', url: `${SHOP_ORIGIN}/p/hat` });
    await s.call('PUT', '/v1/products/hat', { name: 'Hut', price: 40 });
    await s.tick();
    expect(german.pushes()[0]).toMatchObject({ title: 'Jetzt 40,00\u00a0€: Hut', body: 'Statt 50,00\u00a0€.' });
  });
});

describe('attribution and holdout', () => {
  it('credits an order after a click within 24 h to the notification, once, with its revenue', async () => {
    const s = await shop();
    await s.call('PUT', '/v1/products/lamp', { name: 'Desk lamp', url: `${SHOP_ORIGIN}/p/lamp`, price: 60, currency: 'EUR' });
    const buyer = await s.shopper('buyer');
    const late = await s.shopper('late');
    for (const shopper of [buyer, late]) await shopper.event('product_viewed', { productId: 'lamp', price: 60, currency: 'EUR', url: `${SHOP_ORIGIN}/p/lamp` });
    const { body } = await s.call('PUT', '/v1/products/lamp', { name: 'Desk lamp', price: 45 });
    const notificationId = body.notificationsQueued[0] as string;
    await s.tick();
    await s.click(buyer.pushes()[0]!);
    await s.click(late.pushes()[0]!);

    s.clock.nowMs += 2 * HOUR_MS;
    await buyer.event('order_completed', { orderId: 'order-1', value: 45, currency: 'EUR' });
    // The same order reported again (say by the backend too) counts once.
    const again = await s.call('POST', '/v1/events', { type: 'order_completed', visitorId: buyer.visitorId, properties: { orderId: 'order-1', value: 45, currency: 'EUR' } });
    expect(again.status).toBe(202);
    s.clock.nowMs += 23 * HOUR_MS;
    await late.event('order_completed', { orderId: 'order-2', value: 45, currency: 'EUR' });

    const notification = await s.call('GET', `/v1/notifications/${notificationId}`);
    expect(notification.body.counts).toMatchObject({ sent: 2, clicked: 2, converted: 1 });
    expect(notification.body.revenue).toEqual({ EUR: 45 });
    const stats = await s.call('GET', `/v1/stats?from=${new Date(NOON_BERLIN - HOUR_MS).toISOString()}&to=${new Date(s.clock.nowMs).toISOString()}`);
    expect(stats.status).toBe(200);
    expect(stats.body.triggers.price_drop).toMatchObject({ notifications: 1, audience: 2, sent: 2, clicked: 2, converted: 1, revenue: { EUR: 45 } });
    expect(stats.body.notifications[0]).toMatchObject({ id: notificationId, sent: 2, converted: 1 });
  });

  it("lets the backend's report of an order replace a browser's claim to the same order id", async () => {
    const s = await shop();
    const clicker = await s.shopper('clicker');
    const sent = await s.call('POST', '/v1/notifications', { title: 'Sale', body: 'Today', url: `${SHOP_ORIGIN}/`, to: { subscriptionIds: [clicker.subscriptionId] } });
    await s.tick();
    await s.click(clicker.pushes()[0]!);
    await clicker.event('order_completed', { orderId: 'order-77', value: 999_999, currency: 'EUR' });
    expect((await s.call('GET', `/v1/notifications/${sent.body.id}`)).body).toMatchObject({ counts: { converted: 1 }, revenue: { EUR: 999_999 } });

    // The shop's backend says order-77 was someone else's, who never clicked: no conversion.
    const backend = await s.call('POST', '/v1/events', { type: 'order_completed', externalUserId: 'real-customer', properties: { orderId: 'order-77', value: 45, currency: 'EUR' } });
    expect(backend.status).toBe(202);
    expect((await s.call('GET', `/v1/notifications/${sent.body.id}`)).body).toMatchObject({ counts: { converted: 0 }, revenue: {} });
  });

  it('holds out a share of a trigger’s audience, recorded as held_out; the figures add up', async () => {
    const s = await shop();
    expect((await s.call('PATCH', '/v1/settings', { priceDrop: { holdoutPercent: 50 } })).status).toBe(200);
    await s.call('PUT', '/v1/products/kettle', { name: 'Kettle', url: `${SHOP_ORIGIN}/p/kettle`, price: 40, currency: 'EUR' });
    const shoppers = [];
    for (let i = 0; i < 24; i++) {
      const shopper = await s.shopper(`h${i}`);
      await shopper.event('product_viewed', { productId: 'kettle', price: 40, currency: 'EUR', url: `${SHOP_ORIGIN}/p/kettle` });
      shoppers.push(shopper);
    }
    const { body } = await s.call('PUT', '/v1/products/kettle', { name: 'Kettle', price: 30 });
    await s.tick();
    const notification = await s.call('GET', `/v1/notifications/${body.notificationsQueued[0]}`);
    const { sent, heldOut } = notification.body.counts;
    expect(sent + heldOut).toBe(24);
    expect(notification.body.audience).toBe(24);
    expect(sent).toBeGreaterThan(0);
    expect(heldOut).toBeGreaterThan(0);
    const received = shoppers.filter((shopper) => shopper.pushes().length > 0);
    expect(received).toHaveLength(sent);

    // Every held-out shopper and one who got the push order within the window (an hour later).
    s.clock.nowMs += HOUR_MS;
    const heldOutShoppers = shoppers.filter((shopper) => shopper.pushes().length === 0);
    for (const [i, shopper] of [...heldOutShoppers, received[0]!].entries()) {
      await shopper.event('order_completed', { orderId: `ho-${i}`, value: 30, currency: 'EUR' });
    }
    const stats = await s.call('GET', '/v1/stats');
    expect(stats.body.triggers.price_drop).toMatchObject({ audience: 24, sent, heldOut, converted: 0 });
    expect(stats.body.triggers.price_drop.holdout).toMatchObject({
      sent: { subscribers: sent, ordered: 1 },
      heldOut: { subscribers: heldOut, ordered: heldOut, orderRate: 1 },
    });
    expect(stats.body.triggers.price_drop.holdout.lift).toBeLessThan(0);
  });
});

const YEAR = 365 * DAY_MS;

// One clock: every timestamp a domain function writes comes from the clock passed in, so a shop
// whose clock is far from the database's (a test's fixed clock, a replayed day) behaves the same.
describe.each([
  ['a year ahead of', YEAR],
  ['a year behind', -YEAR],
])('the whole journey with the clock %s the database’s', (_label, offsetMs) => {
  it('reminds, drops prices with a holdout, attributes, counts lift and keeps idempotency keys by that clock', async () => {
    const startMs = NOON_BERLIN + offsetMs;
    const s = await shop({ startMs });
    expect((await s.call('PATCH', '/v1/settings', { priceDrop: { holdoutPercent: 50 } })).status).toBe(200);
    await s.call('PUT', '/v1/products/kettle', { name: 'Kettle', url: `${SHOP_ORIGIN}/p/kettle`, price: 40, currency: 'EUR' });
    const shoppers = [];
    for (let i = 0; i < 16; i++) {
      const shopper = await s.shopper(`clock${i}`);
      await shopper.event('product_viewed', { productId: 'kettle', price: 40, currency: 'EUR', url: `${SHOP_ORIGIN}/p/kettle` });
      shoppers.push(shopper);
    }

    // A cart reminder an hour after the cart, by the passed clock.
    const carter = shoppers[0]!;
    await carter.event('cart_updated', cart('cart-clock', THREE_ITEMS));
    s.clock.nowMs += 59 * MINUTE_MS;
    expect(await s.tick()).toEqual([]);
    s.clock.nowMs += 2 * MINUTE_MS;
    expect(await s.tick()).toHaveLength(1);
    expect(carter.pushes()).toHaveLength(1);

    // A price drop to half of them (holdout 50 %), a click and an order credited to it.
    const { body } = await s.call('PUT', '/v1/products/kettle', { name: 'Kettle', price: 30 });
    const dropId = body.notificationsQueued[0] as string;
    await s.tick();
    const received = shoppers.filter((shopper) => shopper.pushes().some((p) => p.id === dropId));
    const heldOut = shoppers.filter((shopper) => !shopper.pushes().some((p) => p.id === dropId));
    expect(received.length).toBeGreaterThan(0);
    expect(heldOut.length).toBeGreaterThan(0);
    await s.click(received[0]!.pushes().find((p) => p.id === dropId)!);
    s.clock.nowMs += HOUR_MS;
    await received[0]!.event('order_completed', { orderId: 'clock-order-0', value: 30, currency: 'EUR' });
    for (const [i, shopper] of heldOut.entries()) await shopper.event('order_completed', { orderId: `clock-held-${i}`, value: 30, currency: 'EUR' });

    const notification = await s.call('GET', `/v1/notifications/${dropId}`);
    expect(notification.body.counts).toMatchObject({ sent: received.length, heldOut: heldOut.length, clicked: 1, converted: 1 });
    const stats = await s.call('GET', '/v1/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.triggers.price_drop).toMatchObject({ sent: received.length, heldOut: heldOut.length, converted: 1, revenue: { EUR: 30 } });
    expect(stats.body.triggers.price_drop.holdout).toMatchObject({
      sent: { subscribers: received.length, ordered: 1 },
      heldOut: { subscribers: heldOut.length, ordered: heldOut.length },
    });
    expect(stats.body.triggers.cart_reminder).toMatchObject({ sent: 1 });

    // An Idempotency-Key is honoured for 48 hours of the passed clock, then purged.
    const send = () =>
      s.call('POST', '/v1/notifications', { title: 'Hello', url: `${SHOP_ORIGIN}/`, to: { subscriptionIds: [carter.subscriptionId] } }, { ...s.secret, 'Idempotency-Key': 'clock-key' });
    const first = await send();
    expect(first.status).toBe(202);
    s.clock.nowMs += 47 * HOUR_MS;
    expect(await purgeIdempotencyKeys(pushWorld.db, s.clock.nowMs)).toBe(0);
    expect((await send()).body.id).toBe(first.body.id);
    s.clock.nowMs += 2 * HOUR_MS;
    expect(await purgeIdempotencyKeys(pushWorld.db, s.clock.nowMs)).toBeGreaterThanOrEqual(1);
    expect((await send()).body.id).not.toBe(first.body.id);

    // Rows carry the passed clock's time, not the database's.
    const subscription = await pushWorld.db.selectFrom('subscriptions').select(['created_at', 'last_seen_at']).where('id', '=', carter.subscriptionId).executeTakeFirstOrThrow();
    expect(Math.abs(subscription.created_at.getTime() - startMs)).toBeLessThan(HOUR_MS);
    const deliveries = await s.deliveriesOf(dropId);
    for (const delivery of deliveries) expect(Math.abs(delivery.created_at.getTime() - startMs)).toBeLessThan(3 * HOUR_MS);
  });
});
