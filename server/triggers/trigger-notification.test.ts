import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSiteById, type SiteRow } from '../db/sites.ts';
import { upsertSubscription } from '../db/subscriptions.ts';
import { PRIORITY } from '../delivery/engagement-rules.ts';
import { MAX_PAYLOAD_BYTES, reportUrl, worstCasePayloadBytes } from '../notifications/payload.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { browserSubscription, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { queueTriggerNotification, type TriggerNotification } from './trigger-notification.ts';

let database: TestDatabase;
let site: SiteRow;
const NOW = new Date('2026-03-14T12:00:00Z');
const REPORT_URL = reportUrl('https://push.example');

beforeAll(async () => {
  database = await createTestDatabase();
  const created = await testSite(database.db);
  site = (await findSiteById(database.db, created.id))!;
  const { endpoint, keys } = await browserSubscription();
  await upsertSubscription(
    database.db,
    { siteId: site.id, endpoint, ...keys, vapidPublicKey: site.vapid_public_key, visitorId: 'visitor-watching', locale: 'en', timeZone: null, userAgentFamily: null },
    NOW,
  );
});
afterAll(async () => database?.destroy());

function backInStock(product: { url: string; image: string | null }): TriggerNotification {
  return {
    site,
    settings: readSiteSettings(site.settings),
    source: 'back_in_stock',
    templateKey: 'back_in_stock',
    context: (locale) => ({ locale, currency: 'EUR', product: { name: 'Blue sneakers', priceNew: 89 } }),
    url: product.url,
    image: product.image,
    triggerKey: 'sneaker-blue',
    audience: { trigger: 'back_in_stock', productId: 'sneaker-blue' },
    where: sql`s.visitor_id = ${'visitor-watching'}`,
    holdoutPercent: 0,
    ttlSeconds: 3600,
    now: NOW,
    reportUrl: REPORT_URL,
  };
}

describe('queueTriggerNotification', () => {
  it('still queues a push whose product URL and image from the shop feed are too long for it, shortened to fit', async () => {
    // The feed accepts URLs up to 2,048 characters: the URL (on the push and its button) and the image alone overflow a push.
    const url = `${SHOP_ORIGIN}/p/${'a'.repeat(2000)}`;
    const image = `https://cdn.example/${'i'.repeat(2000)}.png`;
    const { id, audience } = await queueTriggerNotification(database.db, backInStock({ url, image }));
    expect(audience).toBe(1);
    const stored = await database.db.selectFrom('notifications').select(['content', 'priority']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(stored.content.url).toBe(url);
    expect(stored.content.image).toBeUndefined();
    expect(worstCasePayloadBytes(id, stored.content, REPORT_URL)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(stored.priority).toBe(PRIORITY.back_in_stock);
  });

  it('sends a shopper to the shop’s home page rather than to a URL off its origins', async () => {
    const { id } = await queueTriggerNotification(database.db, backInStock({ url: 'https://evil.example/p/1', image: null }));
    const stored = await database.db.selectFrom('notifications').select('content').where('id', '=', id).executeTakeFirstOrThrow();
    expect(stored.content.url).toBe(`${SHOP_ORIGIN}/`);
  });
});
