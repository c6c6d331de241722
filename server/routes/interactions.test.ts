import { describe, expect, it } from 'vitest';
import { browserHeaders, browserSubscription, SHOP_ORIGIN } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';

const world = routeTestWorld({ rateLimits: { perIp: { capacity: 10_000, refillPerSecond: 1_000 } } });

/** A queued delivery and its report token, as the push payload would carry it. */
async function delivered(): Promise<{ notificationId: string; token: string }> {
  const subscribed = await world.app.request('/v1/subscriptions', {
    method: 'POST',
    headers: browserHeaders(world.site),
    body: JSON.stringify({ subscription: await browserSubscription(), visitorId: 'visitor-reports' }),
  });
  const { id: subscriptionId } = (await subscribed.json()) as { id: string };
  const sent = await world.app.request('/v1/notifications', {
    method: 'POST',
    headers: { Authorization: `Bearer ${world.site.secretKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      title: 'Sale',
      body: '20% off',
      url: `${SHOP_ORIGIN}/sale`,
      actions: [{ action: 'shop', title: 'Shop now' }],
      to: { subscriptionIds: [subscriptionId] },
    }),
  });
  const { id: notificationId } = (await sent.json()) as { id: string };
  const row = await world.database.db.selectFrom('deliveries').select(['id', 'report_token']).where('notification_id', '=', notificationId).executeTakeFirstOrThrow();
  return { notificationId, token: `${row.id}.${row.report_token}` };
}

function report(body: unknown, origin: string | undefined = SHOP_ORIGIN) {
  return world.app.request('/v1/interactions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(origin ? { Origin: origin } : {}) },
    body: JSON.stringify(body),
  });
}

async function counts(notificationId: string) {
  const response = await world.app.request(`/v1/notifications/${notificationId}`, { headers: { Authorization: `Bearer ${world.site.secretKey}` } });
  return ((await response.json()) as { counts: Record<string, number> }).counts;
}

describe('POST /v1/interactions', () => {
  it('records shown, clicked with the action, and dismissed; the counts show them', async () => {
    const { notificationId, token } = await delivered();
    const shown = await report({ token, type: 'shown' });
    expect(shown.status).toBe(204);
    expect(shown.headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
    expect((await report({ token, type: 'clicked', action: 'shop' })).status).toBe(204);
    expect((await report({ token, type: 'dismissed' })).status).toBe(204);
    expect(await counts(notificationId)).toMatchObject({ shown: 1, clicked: 1, dismissed: 1 });
    const clicked = await world.database.db.selectFrom('interactions').select('action').where('type', '=', 'clicked').where('notification_id', '=', notificationId).executeTakeFirstOrThrow();
    expect(clicked.action).toBe('shop');
  });

  it('refuses a replayed report and leaves the counts alone', async () => {
    const { notificationId, token } = await delivered();
    expect((await report({ token, type: 'shown' })).status).toBe(204);
    const replay = await report({ token, type: 'shown' });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('interaction_replayed');
    expect((await counts(notificationId)).shown).toBe(1);
  });

  it('refuses a forged token: right delivery id, wrong secret', async () => {
    const { notificationId, token } = await delivered();
    const forged = `${token.split('.')[0]}.${'0'.repeat(32)}`;
    const response = await report({ token: forged, type: 'clicked' });
    expect(response.status).toBe(401);
    expect((await counts(notificationId)).clicked).toBe(0);
    expect((await report({ token: 'not-a-token', type: 'shown' })).status).toBe(400);
  });

  it('refuses another origin, and an action the notification does not have', async () => {
    const { notificationId, token } = await delivered();
    expect((await report({ token, type: 'shown' }, 'https://evil.example')).status).toBe(403);
    expect((await report({ token, type: 'clicked', action: 'steal' })).status).toBe(400);
    expect(await counts(notificationId)).toMatchObject({ shown: 0, clicked: 0 });
  });

  it('answers the preflight for a site origin only', async () => {
    const preflight = (origin: string) =>
      world.app.request('/v1/interactions', { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } });
    expect((await preflight(SHOP_ORIGIN)).headers.get('Access-Control-Allow-Origin')).toBe(SHOP_ORIGIN);
    expect((await preflight('https://evil.example')).headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});
