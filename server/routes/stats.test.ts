import { describe, expect, it } from 'vitest';
import { SHOP_ORIGIN } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';

const world = routeTestWorld();

async function stats(query: string) {
  const response = await world.app.request(`/v1/stats${query}`, { headers: { Authorization: `Bearer ${world.site.secretKey}` } });
  return { status: response.status, body: (await response.json()) as any };
}

describe('GET /v1/stats', () => {
  it('counts the send API under "api", within the range asked for only', async () => {
    const sent = await world.app.request('/v1/notifications', {
      method: 'POST',
      headers: { Authorization: `Bearer ${world.site.secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Hi', url: `${SHOP_ORIGIN}/`, to: { visitorIds: ['nobody-here'] } }),
    });
    expect(sent.status).toBe(202);
    const now = await stats('');
    expect(now.status).toBe(200);
    expect(now.body.triggers.api).toMatchObject({ notifications: 1, audience: 0, sent: 0, converted: 0, revenue: {}, holdout: null });
    expect(now.body.notifications).toHaveLength(1);
    const past = await stats('?from=2020-01-01&to=2020-02-01');
    expect(past.body.triggers).toEqual({});
  });

  it('refuses a range that ends before it starts or is longer than a year', async () => {
    expect((await stats('?from=2026-02-01&to=2026-01-01')).status).toBe(400);
    expect((await stats('?from=2020-01-01&to=2026-01-01')).status).toBe(400);
    const unreadable = await stats('?from=yesterday');
    expect(unreadable.status).toBe(400);
    expect(unreadable.body.error.message).toBe('from: must be an ISO 8601 date (2026-11-01) or date-time (2026-11-01T09:00:00Z)');
  });
});
