import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationKind, SubscriptionStatus } from '../db/database.ts';
import { ignoringShare } from '../db/engagement-history.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { DAY_MS } from '../time.ts';
import { healthReport, type HealthFacts } from './delivery-health.ts';
import { dashboardMember, signedInBrowser } from './test-client.ts';

// 10:00 UTC on 24 March 2030.
const NOW = new Date(Date.UTC(2030, 2, 24, 10, 0, 0));
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
const WINDOW = { sinceMs: NOW.getTime() - 30 * DAY_MS, beforeMs: NOW.getTime() - DAY_MS, lastN: 5 };

let database: TestDatabase;
let site: CreatedSite;

/** A subscriber with pushes sent `daysAgo` (marketing unless told), and a click at `clickedDaysAgo`. */
async function shopper(options: { sentDaysAgo: number[]; clickedDaysAgo?: number; status?: SubscriptionStatus; kind?: NotificationKind }) {
  const subscription = await database.db
    .insertInto('subscriptions')
    .values({
      site_id: site.id,
      endpoint: `https://fcm.googleapis.com/p/${crypto.randomUUID()}`,
      p256dh: 'B',
      auth: 'a',
      vapid_public_key: 'B',
      visitor_id: crypto.randomUUID(),
      status: options.status ?? 'active',
      created_at: at(-90 * DAY_MS),
      updated_at: at(-90 * DAY_MS),
      last_seen_at: NOW,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const days of options.sentDaysAgo) {
    const notification = await database.db
      .insertInto('notifications')
      .values({ site_id: site.id, kind: options.kind ?? 'marketing', content: JSON.stringify({ title: 't', body: 'b', url: 'https://shop.example/' }), audience: '{}', ttl_seconds: 86_400, created_at: at(-days * DAY_MS) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const delivery = await database.db
      .insertInto('deliveries')
      .values({ notification_id: notification.id, subscription_id: subscription.id, endpoint: 'https://fcm.googleapis.com/p/x', report_token: 'r', status: 'sent', due_at: at(-days * DAY_MS), sent_at: at(-days * DAY_MS), created_at: at(-days * DAY_MS), updated_at: at(-days * DAY_MS) })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (options.clickedDaysAgo !== undefined && days === Math.ceil(options.clickedDaysAgo)) {
      // The click is recorded as the service worker's report is: the trigger keeps the subscription's last click.
      await database.db.insertInto('interactions').values({ delivery_id: delivery.id, notification_id: notification.id, type: 'clicked', action: '', created_at: at(-options.clickedDaysAgo * DAY_MS) }).execute();
    }
  }
  return subscription.id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  site = await createSite(database.db, { name: 'Boots shop', origins: ['https://boots.example'] }, undefined);
  await shopper({ sentDaysAgo: [2, 4, 6, 8, 10] }); // ignores everything
  await shopper({ sentDaysAgo: [2, 3, 4, 6, 8, 10, 12] }); // ignores everything, more pushes
  await shopper({ sentDaysAgo: [2, 4, 6, 8, 10], clickedDaysAgo: 5.5 }); // clicked the push of day 6: two since
  await shopper({ sentDaysAgo: [2, 4, 6, 8, 10, 12], clickedDaysAgo: 11.5 }); // clicked day 12's: the last 5 unclicked
  await shopper({ sentDaysAgo: [2, 4] }); // too few to judge
  await shopper({ sentDaysAgo: [0.5, 2, 4, 6, 8] }); // one push younger than a day: 4 judged pushes, too few
  await shopper({ sentDaysAgo: [2, 4, 6, 8, 10], kind: 'transactional' }); // order updates are not marketing
  await shopper({ sentDaysAgo: [2, 4, 6, 8, 10], status: 'unsubscribed' }); // gone already
  await shopper({ sentDaysAgo: [32, 34, 36, 38, 40] }); // older than the window
});
afterAll(async () => database?.destroy());

describe('subscribers who ignore everything', () => {
  it('counts active subscribers whose last 5 marketing pushes (a day old at least, in 30 days) were not followed by a click', async () => {
    expect(await ignoringShare(database.db, site.id, WINDOW)).toEqual({ judged: 4, ignoring: 3 });
  });

  it('keeps the subscription’s last click as clicks are reported; a late report of an older click does not move it back', async () => {
    const lastClicks = async () =>
      (await database.db.selectFrom('subscriptions').select('last_clicked_at').where('site_id', '=', site.id).where('last_clicked_at', 'is not', null).orderBy('last_clicked_at').execute()).map((r) =>
        r.last_clicked_at?.toISOString(),
      );
    expect(await lastClicks()).toEqual([at(-11.5 * DAY_MS).toISOString(), at(-5.5 * DAY_MS).toISOString()]);
    // The shopper who clicked 5.5 days ago reports, late, a click on the push of 8 days ago.
    const late = await database.db
      .selectFrom('deliveries as d')
      .innerJoin('subscriptions as s', 's.id', 'd.subscription_id')
      .select(['d.id', 'd.notification_id'])
      .where('s.last_clicked_at', '=', at(-5.5 * DAY_MS))
      .where('d.sent_at', '=', at(-8 * DAY_MS))
      .executeTakeFirstOrThrow();
    await database.db.insertInto('interactions').values({ delivery_id: late.id, notification_id: late.notification_id, type: 'clicked', action: '', created_at: at(-7.5 * DAY_MS) }).execute();
    expect(await lastClicks()).toEqual([at(-11.5 * DAY_MS).toISOString(), at(-5.5 * DAY_MS).toISOString()]);
  });

  it('is a figure on the delivery health page, in words', async () => {
    const { app } = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: 'http://localhost:8787' } });
    const owner = await dashboardMember(database.db, 'owner@boots.example', [[site.id, 'owner']], NOW);
    const page = await (await signedInBrowser(app, database.db, owner, NOW)).get(`/dashboard/sites/${site.id}/health`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Subscribers who ignore your pushes');
    expect(page.body).toContain('75.0 % of your subscribers clicked none of their last 5 marketing pushes (3 of the 4 who got at least 5 in the last 30 days).');
    expect(page.body).toContain('The engagement budget sends them fewer marketing pushes until they click one again.');
  });

  it('is a warning from half of 20 or more judged subscribers on, a figure below, and nothing without any judged', () => {
    const facts: HealthFacts = { nowMs: NOW.getTime(), timeZone: 'UTC', quietHours: null, backoffs: [], suppressions: [], failures: [], expiry: [] };
    const finding = (judged: number, ignoring: number, budgetEnabled = true) => healthReport({ ...facts, ignoring: { judged, ignoring, budgetEnabled } }).findings.find((f) => f.key === 'ignoring');
    expect(finding(40, 20)?.level).toBe('warning');
    expect(finding(40, 19)?.level).toBe('info');
    expect(finding(10, 9)?.level).toBe('info');
    expect(finding(0, 0)).toBeUndefined();
    expect(finding(40, 20, false)?.sentences.at(-1)).toMatch(/^The engagement budget is switched off/);
    expect(healthReport({ ...facts, ignoring: { judged: 40, ignoring: 30, budgetEnabled: true } }).allGood).toBe(false);
  });
});

