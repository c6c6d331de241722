/**
 * A realistic month of sample data for the demo shop, so a first look at the dashboard shows what
 * Pushcart does: subscriptions (locales, browsers, time zones; some expired or opted out), the
 * soft prompt's funnel, product views, carts, cart reminders, price drops, back-in-stock alerts and
 * a few sends from the API with deliveries in every final status, shown and clicked pushes, orders
 * and the revenue attributed to them, with holdout groups that show a lift.
 *
 * Written through the same tables the service writes, so the rollups follow by their triggers
 * (migrations/2026-11-29T0330-stats-rollup.ts). Only into the site marked as the demo, never a
 * real shop. Everything comes from the clock and the seeded random given: the same call writes
 * the same month. No delivery is left queued, and no cart waits for a reminder, so nothing is ever
 * sent to the made-up push endpoints.
 */
import { sql, type Insertable } from 'kysely';
import type { CartItem, Db, DeliveryStatus, SubscriptionsTable } from '../db/database.ts';
import { PROMPT_FUNNEL_STEPS, promptFunnelBucket, type PromptFunnelStep } from '../db/prompt-funnel.ts';
import { DAY_MS } from '../time.ts';

export const DEMO_DAYS = 30;
export const DEMO_SUBSCRIPTIONS = 2000;
/** Visitor ids of sample shoppers start with this: how a second run is recognised. */
export const DEMO_VISITOR_PREFIX = 'demo-visitor-';
const HOUR_MS = 3_600_000;
const CURRENCY = 'EUR';

export type DemoSeedResult =
  | { outcome: 'seeded'; subscriptions: number; deliveries: number; orders: number }
  | { outcome: 'not_demo_site' }
  | { outcome: 'already_seeded' };

/** A small, fast, seedable generator (mulberry32): the same seed gives the same month. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Rng {
  (): number;
}

const pick = <T>(random: Rng, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (random: Rng, p: number) => random() < p;
function weighted<T>(random: Rng, items: ReadonlyArray<readonly [T, number]>): T {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  let roll = random() * total;
  for (const [item, w] of items) if ((roll -= w) < 0) return item;
  return items[items.length - 1]![0];
}
function token(random: Rng, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * 64)];
  return out;
}
/** A version-4-shaped UUID from the seeded generator, so related rows can name each other before insert. */
function uuid(random: Rng): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const LOCALES = [
  ['en-US', 'America/New_York', 28],
  ['en-US', 'America/Los_Angeles', 12],
  ['en-GB', 'Europe/London', 16],
  ['de-DE', 'Europe/Berlin', 18],
  ['fr-FR', 'Europe/Paris', 10],
  ['nl-NL', 'Europe/Amsterdam', 7],
  ['es-ES', 'Europe/Madrid', 6],
  ['en-AU', 'Australia/Sydney', 3],
] as const;
const BROWSERS = [
  ['chrome', 'https://fcm.googleapis.com/fcm/send/', 58],
  ['edge', 'https://wns2-par02p.notify.windows.com/w/?token=', 12],
  ['firefox', 'https://updates.push.services.mozilla.com/wpush/v2/', 14],
  ['safari', 'https://web.push.apple.com/', 16],
] as const;
const PRODUCTS = [
  ['Linen shirt', 59],
  ['Merino crew sweater', 89],
  ['Canvas tote bag', 24],
  ['Leather card holder', 35],
  ['Wool beanie', 29],
  ['Selvedge denim jeans', 129],
  ['Rain jacket', 149],
  ['Cotton socks (3 pairs)', 18],
  ['Suede chelsea boots', 189],
  ['Silk scarf', 69],
  ['Stoneware mug', 22],
  ['Scented candle', 32],
  ['Linen napkins (4)', 38],
  ['Ceramic vase', 54],
  ['Weekender bag', 165],
  ['Running sneakers', 119],
] as const;

/** A moment on day `day` (0 = the first of the 30), busier in the evening. */
function momentOn(random: Rng, start: number, day: number): number {
  const hour = weighted(random, [[8, 1], [10, 2], [12, 3], [14, 2], [17, 2], [19, 4], [21, 4], [23, 1]] as const);
  return start + day * DAY_MS + hour * HOUR_MS + Math.floor(random() * 2 * HOUR_MS);
}

/** Inserts `rows` in chunks (a statement's parameters are limited to 65,535). */
async function insertChunked<T>(rows: T[], size: number, insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
}

/**
 * Seeds the month ending at `now` into `siteId` when it is the demo site and has no sample data
 * yet. `random` is a seeded generator (seededRandom): the data does not depend on when it runs
 * beyond `now`.
 */
export async function seedDemoData(db: Db, siteId: string, now: Date, random: Rng = seededRandom(20261129)): Promise<DemoSeedResult> {
  const site = await db.selectFrom('sites').select(['id', 'demo', 'vapid_public_key']).where('id', '=', siteId).executeTakeFirst();
  if (!site || !site.demo) return { outcome: 'not_demo_site' };
  const seeded = await db.selectFrom('subscriptions').select('id').where('site_id', '=', siteId).where('visitor_id', 'like', `${DEMO_VISITOR_PREFIX}%`).limit(1).executeTakeFirst();
  if (seeded) return { outcome: 'already_seeded' };

  const end = now.getTime();
  const start = end - DEMO_DAYS * DAY_MS;
  const clampPast = (ms: number) => new Date(Math.min(ms, end - 60_000));

  // --- subscriptions: more each week as the prompt finds its audience, fewer on Mondays ---
  const dayWeights = Array.from({ length: DEMO_DAYS }, (_, day) => (0.6 + (0.8 * day) / DEMO_DAYS) * (day % 7 === 2 ? 0.7 : day % 7 === 5 ? 1.25 : 1) * (0.85 + random() * 0.3));
  const weightSum = dayWeights.reduce((a, b) => a + b, 0);
  const perDay = dayWeights.map((w) => Math.round((w / weightSum) * DEMO_SUBSCRIPTIONS));
  perDay[DEMO_DAYS - 1]! += DEMO_SUBSCRIPTIONS - perDay.reduce((a, b) => a + b, 0);

  interface Shopper {
    id: string;
    visitorId: string;
    endpoint: string;
    createdAt: number;
    /** When it stopped being active, and how; undefined while active. */
    lost?: { at: number; status: 'expired' | 'unsubscribed' };
  }
  const shoppers: Shopper[] = [];
  const subscriptionRows: Array<Insertable<SubscriptionsTable>> = [];
  // One valid P-256 public key for all (RFC 8291 needs one to encrypt), in case anything is sent.
  const p256dh = 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM';
  for (let day = 0; day < DEMO_DAYS; day++) {
    for (let n = 0; n < perDay[day]!; n++) {
      const [locale, timeZone] = weighted(random, LOCALES.map(([l, z, w]) => [[l, z] as const, w] as const));
      const [family, base] = weighted(random, BROWSERS.map(([b, e, w]) => [[b, e] as const, w] as const));
      const createdAt = momentOn(random, start, day);
      if (createdAt >= end) continue;
      const shopper: Shopper = { id: uuid(random), visitorId: `${DEMO_VISITOR_PREFIX}${token(random, 16)}`, endpoint: `${base}pushcart-demo-${token(random, 40)}`, createdAt };
      if (chance(random, 0.11)) {
        const at = createdAt + (1 + random() * (end - createdAt - HOUR_MS)) ;
        if (at < end - HOUR_MS) shopper.lost = { at, status: chance(random, 0.62) ? 'expired' : 'unsubscribed' };
      }
      shoppers.push(shopper);
      subscriptionRows.push({
        id: shopper.id,
        site_id: siteId,
        endpoint: shopper.endpoint,
        p256dh,
        auth: token(random, 22),
        vapid_public_key: site.vapid_public_key,
        visitor_id: shopper.visitorId,
        external_user_id: chance(random, 0.35) ? `demo-customer-${token(random, 8)}` : null,
        locale,
        time_zone: timeZone,
        user_agent_family: family,
        tags: JSON.stringify(chance(random, 0.3) ? { segment: pick(random, ['new', 'returning', 'vip']) } : {}),
        status: 'active' as const,
        created_at: new Date(createdAt),
        updated_at: new Date(createdAt),
        last_seen_at: clampPast(createdAt + random() * 10 * DAY_MS),
        last_success_at: null,
      });
    }
  }

  // --- products ---
  const products = PRODUCTS.map(([name, price], i) => ({ id: `demo-${i + 1}`, name, price }));

  const deliveryRows: Array<{ id: number; notification_id: string; subscription_id: string; endpoint: string; report_token: string; status: DeliveryStatus; attempts: number; due_at: Date; sent_at: Date | null; created_at: Date; updated_at: Date; last_status: number | null; last_error: string | null }> = [];
  const notificationRows: Array<{ id: string; site_id: string; source: string; kind: 'transactional' | 'marketing'; content: string; audience: string; audience_size: number; ttl_seconds: number; created_at: Date; trigger_key: string | null }> = [];
  const interactionRows: Array<{ delivery_id: number; notification_id: string; type: 'shown' | 'clicked'; action: string | null; created_at: Date }> = [];
  const eventRows: Array<{ site_id: string; source: 'browser' | 'server'; type: string; visitor_id: string; external_user_id: null; properties: string; created_at: Date }> = [];
  const conversionRows: Array<{ site_id: string; order_id: string; notification_id: string; delivery_id: number; value: number; currency: string; source: 'browser'; created_at: Date }> = [];
  const cartRows: Array<{ site_id: string; cart_id: string; visitor_id: string; external_user_id: null; items: string; item_count: number; total: number; currency: string; url: string; status: 'open' | 'ordered'; reminders_sent: number; active_at: Date; next_reminder_at: null; created_at: Date }> = [];
  let orderCount = 0;

  const activeAt = (shopper: Shopper, at: number) => shopper.createdAt < at && (!shopper.lost || shopper.lost.at > at);

  function order(shopper: Shopper, at: number, value: number, attributed?: { notificationId: string; deliveryId: number }): void {
    if (at >= end) return;
    orderCount++;
    const orderId = `demo-order-${orderCount}`;
    eventRows.push({ site_id: siteId, source: 'browser', type: 'order_completed', visitor_id: shopper.visitorId, external_user_id: null, properties: JSON.stringify({ orderId, value, currency: CURRENCY }), created_at: new Date(at) });
    if (attributed) conversionRows.push({ site_id: siteId, order_id: orderId, notification_id: attributed.notificationId, delivery_id: attributed.deliveryId, value, currency: CURRENCY, source: 'browser', created_at: new Date(at) });
  }

  /**
   * One notification to `audience` at `at`: a share held out (never sent), the rest sent (a few
   * failed, expired or capped), shown, clicked, and orders after it at the given rates.
   */
  function push(input: {
    source: string;
    kind: 'transactional' | 'marketing';
    at: number;
    title: string;
    body: string;
    url: string;
    audience: Shopper[];
    holdout: number;
    clickRate: number;
    /** Order rate within a day of a pushed shopper who clicked, of one who did not click, of one held out. */
    orderRates: { clicked: number; notClicked: number; heldOut: number };
    value: () => number;
    triggerKey?: string;
  }): void {
    const notificationId = uuid(random);
    notificationRows.push({
      id: notificationId,
      site_id: siteId,
      source: input.source,
      kind: input.kind,
      content: JSON.stringify({ title: input.title, body: input.body, url: input.url, tag: `${input.source}-${notificationId.slice(0, 8)}` }),
      audience: JSON.stringify(input.audience.length === 1 ? { subscriptionIds: [input.audience[0]!.id] } : { all: true }),
      audience_size: input.audience.length,
      ttl_seconds: 86_400,
      created_at: new Date(input.at),
      trigger_key: input.triggerKey ?? null,
    });
    for (const shopper of input.audience) {
      // Deliveries have serial ids: an index now, the sequence's values when written.
      const deliveryId = deliveryRows.length;
      const heldOut = chance(random, input.holdout);
      const status: DeliveryStatus = heldOut ? 'held_out' : weighted(random, [['sent', 93], ['failed', 2.5], ['expired', 3], ['suppressed', 1.5]] as const);
      const sentAt = input.at + 2000 + Math.floor(random() * 60_000);
      deliveryRows.push({
        id: deliveryId,
        notification_id: notificationId,
        subscription_id: shopper.id,
        endpoint: shopper.endpoint,
        report_token: token(random, 32),
        status,
        attempts: status === 'held_out' || status === 'suppressed' ? 0 : status === 'failed' ? 3 : 1,
        due_at: new Date(input.at),
        sent_at: status === 'sent' ? new Date(sentAt) : null,
        created_at: new Date(input.at),
        updated_at: new Date(status === 'failed' ? sentAt + 20 * 60_000 : sentAt),
        last_status: status === 'sent' ? 201 : status === 'expired' ? 410 : status === 'failed' ? 500 : null,
        last_error: status === 'failed' ? 'push service answered 500 three times' : status === 'expired' ? 'subscription gone (410)' : status === 'suppressed' ? 'frequency cap' : null,
      });
      if (heldOut) {
        if (chance(random, input.orderRates.heldOut)) order(shopper, input.at + random() * 20 * HOUR_MS, input.value());
        continue;
      }
      if (status !== 'sent') continue;
      const shownAt = sentAt + Math.floor(random() * 30 * 60_000);
      if (shownAt >= end || !chance(random, 0.87)) continue;
      interactionRows.push({ delivery_id: deliveryId, notification_id: notificationId, type: 'shown', action: null, created_at: new Date(shownAt) });
      if (chance(random, input.clickRate)) {
        const clickedAt = shownAt + Math.floor(random() * 3 * HOUR_MS);
        if (clickedAt >= end) continue;
        interactionRows.push({ delivery_id: deliveryId, notification_id: notificationId, type: 'clicked', action: chance(random, 0.2) ? 'open' : null, created_at: new Date(clickedAt) });
        if (chance(random, input.orderRates.clicked)) order(shopper, clickedAt + random() * 6 * HOUR_MS, input.value(), { notificationId, deliveryId });
      } else if (chance(random, input.orderRates.notClicked)) {
        order(shopper, shownAt + random() * 20 * HOUR_MS, input.value());
      }
    }
  }

  // --- shoppers browsing: product views, carts, cart reminders ---
  for (const shopper of shoppers) {
    const views = 1 + Math.floor(random() * 4);
    for (let v = 0; v < views; v++) {
      const at = shopper.createdAt - HOUR_MS + random() * (end - shopper.createdAt);
      if (at >= end) continue;
      const product = pick(random, products);
      eventRows.push({ site_id: siteId, source: 'browser', type: 'product_viewed', visitor_id: shopper.visitorId, external_user_id: null, properties: JSON.stringify({ productId: product.id, name: product.name, price: product.price, currency: CURRENCY }), created_at: new Date(at) });
    }
    if (!chance(random, 0.45)) continue;
    const cartAt = shopper.createdAt + random() * (end - shopper.createdAt - 3 * HOUR_MS);
    if (cartAt <= shopper.createdAt || cartAt >= end - 3 * HOUR_MS) continue;
    const items: CartItem[] = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
      const product = pick(random, products);
      return { productId: product.id, name: product.name, price: product.price, quantity: chance(random, 0.15) ? 2 : 1 };
    });
    const total = Math.round(items.reduce((sum, item) => sum + item.price * item.quantity, 0) * 100) / 100;
    const cartId = `demo-cart-${token(random, 12)}`;
    eventRows.push({ site_id: siteId, source: 'browser', type: 'cart_updated', visitor_id: shopper.visitorId, external_user_id: null, properties: JSON.stringify({ cartId, items, total, currency: CURRENCY }), created_at: new Date(cartAt) });
    const remindAt = cartAt + 2 * HOUR_MS;
    const ordersBefore = orderCount;
    if (activeAt(shopper, remindAt)) {
      push({
        source: 'cart_reminder',
        kind: 'transactional',
        at: remindAt,
        title: 'Still thinking it over?',
        body: `${items[0]!.name}${items.length > 1 ? ` and ${items.length - 1} more` : ''} ${items.length > 1 ? 'are' : 'is'} waiting in your cart.`,
        url: 'https://shop.example/cart',
        audience: [shopper],
        holdout: 0.2,
        clickRate: 0.2,
        orderRates: { clicked: 0.5, notClicked: 0.08, heldOut: 0.06 },
        value: () => total,
        triggerKey: 'cart_reminder:1',
      });
    }
    cartRows.push({ site_id: siteId, cart_id: cartId, visitor_id: shopper.visitorId, external_user_id: null, items: JSON.stringify(items), item_count: items.length, total, currency: CURRENCY, url: 'https://shop.example/cart', status: orderCount > ordersBefore ? 'ordered' : 'open', reminders_sent: activeAt(shopper, remindAt) ? 1 : 0, active_at: new Date(cartAt), next_reminder_at: null, created_at: new Date(cartAt) });
  }

  // --- price drops: a product gets cheaper, the shoppers who looked at it hear of it ---
  for (let drop = 0; drop < 14; drop++) {
    const at = momentOn(random, start, 1 + Math.floor((drop * (DEMO_DAYS - 2)) / 14));
    if (at >= end) continue;
    const product = products[(drop * 5) % products.length]!;
    const newPrice = Math.round(product.price * 0.8);
    const audience = shoppers.filter((shopper) => activeAt(shopper, at) && chance(random, 0.14));
    push({
      source: 'price_drop',
      kind: 'marketing',
      at,
      title: `${product.name} is now €${newPrice}`,
      body: `Down from €${product.price}, the one you looked at.`,
      url: `https://shop.example/products/${product.id}`,
      audience,
      holdout: 0.1,
      clickRate: 0.11,
      orderRates: { clicked: 0.3, notClicked: 0.03, heldOut: 0.05 },
      value: () => newPrice,
      triggerKey: 'price_drop',
    });
  }

  // --- back in stock: no holdout, so no lift reading ---
  for (let restock = 0; restock < 5; restock++) {
    const at = momentOn(random, start, 3 + restock * 6);
    if (at >= end) continue;
    const product = products[(restock * 3 + 1) % products.length]!;
    push({
      source: 'back_in_stock',
      kind: 'marketing',
      at,
      title: `${product.name} is back`,
      body: 'In your size, while it lasts.',
      url: `https://shop.example/products/${product.id}`,
      audience: shoppers.filter((shopper) => activeAt(shopper, at) && chance(random, 0.05)),
      holdout: 0,
      clickRate: 0.16,
      orderRates: { clicked: 0.35, notClicked: 0.02, heldOut: 0 },
      value: () => product.price,
      triggerKey: 'back_in_stock',
    });
  }

  // --- sends from the shop's own backend (the send API) ---
  for (const [day, title] of [[6, 'Weekend sale: 20 % off knitwear'], [13, 'New in: the winter collection'], [20, 'Free shipping until Sunday'], [27, 'Last chance: sale ends tonight']] as const) {
    const at = start + day * DAY_MS + 10 * HOUR_MS;
    if (at >= end) continue;
    push({
      source: 'api',
      kind: 'marketing',
      at,
      title,
      body: 'Tap to see what is new at the shop.',
      url: 'https://shop.example/sale',
      audience: shoppers.filter((shopper) => activeAt(shopper, at) && chance(random, 0.6)),
      holdout: 0,
      clickRate: 0.05,
      orderRates: { clicked: 0.2, notClicked: 0.01, heldOut: 0 },
      value: () => 40 + Math.round(random() * 120),
    });
  }

  // --- orders nobody pushed for ---
  for (let i = 0; i < 120; i++) {
    const shopper = pick(random, shoppers);
    order(shopper, shopper.createdAt + random() * (end - shopper.createdAt), 30 + Math.round(random() * 150));
  }

  // --- the soft prompt's funnel: shown to many, allowed by some, subscribed = the rows above ---
  // The rates are drawn per UTC day; each step's count is then dealt out over the 15-minute periods
  // in which that day's shoppers subscribed, one at a time in turn, so `push_subscribed` lands in
  // the very period of each subscription and the overview reads it on the same local day as the
  // new subscriber, in whatever zone the shop is.
  const shoppersPerDay = new Map<string, Shopper[]>();
  for (const shopper of shoppers) {
    const day = new Date(shopper.createdAt).toISOString().slice(0, 10);
    const list = shoppersPerDay.get(day);
    if (list) list.push(shopper);
    else shoppersPerDay.set(day, [shopper]);
  }
  const funnelCounts = new Map<string, number>();
  for (const dayShoppers of shoppersPerDay.values()) {
    const subscribed = dayShoppers.length;
    const granted = Math.round(subscribed * (1.02 + random() * 0.03));
    const accepted = Math.round(granted / (0.78 + random() * 0.06));
    const shown = Math.round(accepted / (0.27 + random() * 0.05));
    const counts: Record<PromptFunnelStep, number> = {
      prompt_shown: shown,
      prompt_accepted: accepted,
      prompt_postponed: Math.round(shown * (0.38 + random() * 0.06)),
      permission_granted: granted,
      permission_denied: Math.round((accepted - granted) * 0.7),
      permission_dismissed: accepted - granted - Math.round((accepted - granted) * 0.7),
      push_subscribed: subscribed,
    };
    for (const step of PROMPT_FUNNEL_STEPS) {
      for (let i = 0; i < counts[step]; i++) {
        const key = `${promptFunnelBucket(new Date(dayShoppers[i % subscribed]!.createdAt)).getTime()} ${step}`;
        funnelCounts.set(key, (funnelCounts.get(key) ?? 0) + 1);
      }
    }
  }
  const funnelRows = [...funnelCounts].map(([key, count]) => {
    const [bucket, step] = key.split(' ') as [string, PromptFunnelStep];
    return { site_id: siteId, bucket: new Date(Number(bucket)), step, shard: 0, count };
  });

  // --- write it all, in one transaction: a half-seeded shop would refuse a second try ---
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('products')
      .values(products.map((product) => ({ site_id: siteId, product_id: product.id, name: product.name, url: `https://shop.example/products/${product.id}`, image: null, price: product.price, currency: CURRENCY, in_stock: true, price_source: 'feed' as const, created_at: new Date(start), updated_at: new Date(start) })))
      .onConflict((oc) => oc.columns(['site_id', 'product_id']).doNothing())
      .execute();
    await insertChunked(subscriptionRows, 2000, (chunk) => trx.insertInto('subscriptions').values(chunk).execute());
    await insertChunked(notificationRows, 2000, (chunk) => trx.insertInto('notifications').values(chunk).execute());
    const ids = await sql<{ id: string }>`select nextval(pg_get_serial_sequence('deliveries', 'id')) as id from generate_series(1, ${deliveryRows.length})`.execute(trx);
    const deliveryId = (index: number) => ids.rows[index]!.id;
    await insertChunked(deliveryRows, 4000, (chunk) => trx.insertInto('deliveries').values(chunk.map((row) => ({ ...row, id: deliveryId(row.id) }))).execute());
    await insertChunked(interactionRows, 8000, (chunk) => trx.insertInto('interactions').values(chunk.map((row) => ({ ...row, delivery_id: deliveryId(row.delivery_id) }))).execute());
    await insertChunked(eventRows, 8000, (chunk) => trx.insertInto('events').values(chunk).execute());
    await insertChunked(conversionRows, 4000, (chunk) => trx.insertInto('conversions').values(chunk.map((row) => ({ ...row, delivery_id: deliveryId(row.delivery_id) }))).execute());
    await insertChunked(cartRows, 4000, (chunk) => trx.insertInto('carts').values(chunk).execute());
    await insertChunked(funnelRows, 4000, (chunk) => trx.insertInto('prompt_funnel_buckets').values(chunk).execute());
    // Losses as the service records them: an update out of 'active' at the time it happened.
    const lost = shoppers.filter((shopper) => shopper.lost);
    if (lost.length > 0) {
      await sql`update subscriptions s set status = l.status, updated_at = l.at
        from unnest(${lost.map((s) => s.id)}::uuid[], ${lost.map((s) => s.lost!.status)}::text[], ${lost.map((s) => new Date(s.lost!.at).toISOString())}::timestamptz[]) as l(id, status, at)
        where s.id = l.id`.execute(trx);
    }
  });
  // A bulk load leaves the planner without statistics until autovacuum comes by; meanwhile the
  // lift's look-ups by index (db/daily-stats.ts) were planned as scans, a hundred times slower.
  // PostgreSQL's advice after loading data: run ANALYZE (docs, "Populating a Database", §14.4.8).
  await sql`analyze subscriptions, notifications, deliveries, interactions, events, conversions, carts, subscription_changes, stats_buckets, stats_revenue, prompt_funnel_buckets`.execute(db);
  return { outcome: 'seeded', subscriptions: subscriptionRows.length, deliveries: deliveryRows.length, orders: orderCount };
}
