import { describe, expect, it } from 'vitest';
import { browserHeaders } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';
import { claimWelcomeCode } from '../db/welcome.ts';

const world = routeTestWorld();

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { Authorization: `Bearer ${world.site.secretKey}`, 'Content-Type': 'application/json' }) {
  const response = await world.app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as any };
}

describe('welcome codes', () => {
  it('POST adds codes once each and answers the counts; GET answers how many are left after one is given', async () => {
    const first = await call('POST', '/v1/welcome-codes', { codes: ['W-1', 'W-2', 'W-2'] });
    expect(first).toEqual({ status: 200, body: { added: 2, left: 2, given: 0 } });
    expect((await call('POST', '/v1/welcome-codes', { codes: ['W-2', 'W-3'] })).body).toEqual({ added: 1, left: 3, given: 0 });
    const subscription = await world.database.db
      .insertInto('subscriptions')
      .values({ site_id: world.site.id, endpoint: 'https://fcm.googleapis.com/fcm/send/welcome-codes', p256dh: 'p', auth: 'a', vapid_public_key: 'k', visitor_id: 'v-codes', external_user_id: null, locale: null, time_zone: null, user_agent_family: null, created_at: new Date(), updated_at: new Date(), last_seen_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(await claimWelcomeCode(world.database.db, world.site.id, subscription.id, new Date())).toBe('W-1');
    expect(await call('GET', '/v1/welcome-codes')).toEqual({ status: 200, body: { left: 2, given: 1 } });
  });

  it('refuses an empty list, an empty code, and the publishable key', async () => {
    expect((await call('POST', '/v1/welcome-codes', { codes: [] })).status).toBe(400);
    const bad = await call('POST', '/v1/welcome-codes', { codes: ['ok', ''] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['codes.1']);
    expect((await call('GET', '/v1/welcome-codes', undefined, browserHeaders(world.site))).status).toBe(403);
  });
});
