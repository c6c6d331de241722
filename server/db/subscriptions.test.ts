import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { upsertSubscriptions, type SubscriptionInput } from './subscriptions.ts';

const NOW = new Date('2026-11-20T10:00:00Z');
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

function input(siteId: string, endpoint: string, visitorId: string): SubscriptionInput {
  return { siteId, endpoint, p256dh: 'p', auth: 'a', vapidPublicKey: 'v', visitorId, locale: null, timeZone: null, userAgentFamily: null };
}

describe('upsertSubscriptions', () => {
  it('answers each subscription of a group as one upsert at a time would: created, updated for an endpoint posted again, refused when another site holds it', async () => {
    const site = await testSite(database.db);
    const other = await testSite(database.db);
    const [held] = await upsertSubscriptions(database.db, [input(other.id, 'https://fcm.googleapis.com/fcm/send/held', 'visitor-other')], NOW);
    expect(held).toMatchObject({ outcome: 'created' });
    const results = await upsertSubscriptions(
      database.db,
      [
        input(site.id, 'https://fcm.googleapis.com/fcm/send/b', 'visitor-first'),
        input(site.id, 'https://fcm.googleapis.com/fcm/send/a', 'visitor-a'),
        input(site.id, 'https://fcm.googleapis.com/fcm/send/b', 'visitor-second'),
        input(site.id, 'https://fcm.googleapis.com/fcm/send/held', 'visitor-thief'),
      ],
      NOW,
    );
    expect(results.map((result) => result.outcome)).toEqual(['created', 'created', 'updated', 'held_by_other_site']);
    const b = results[0] as { id: string };
    expect((results[2] as { id: string }).id).toBe(b.id);
    const rows = await database.db.selectFrom('subscriptions').select(['endpoint', 'visitor_id', 'site_id']).orderBy('endpoint').execute();
    expect(rows).toEqual([
      { endpoint: 'https://fcm.googleapis.com/fcm/send/a', visitor_id: 'visitor-a', site_id: site.id },
      // The later post of the same endpoint wins, as it would written after the first.
      { endpoint: 'https://fcm.googleapis.com/fcm/send/b', visitor_id: 'visitor-second', site_id: site.id },
      { endpoint: 'https://fcm.googleapis.com/fcm/send/held', visitor_id: 'visitor-other', site_id: other.id },
    ]);
  });
});
