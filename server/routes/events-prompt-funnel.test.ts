import { describe, expect, it } from 'vitest';
import { promptFunnel } from '../db/prompt-funnel.ts';
import { localDays } from '../stats/local-days.ts';
import { browserHeaders, testSite } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';

// A fixed clock: 23:30 UTC, so a day bucketed in any other zone would land elsewhere.
const NOW_MS = Date.UTC(2030, 5, 14, 23, 30);
const world = routeTestWorld({ now: () => NOW_MS, rateLimits: { perIp: { capacity: 10_000, refillPerSecond: 1_000 } } });

const post = (body: unknown, headers: Record<string, string>) => world.app.request('/v1/events', { method: 'POST', headers, body: JSON.stringify(body) });

describe('POST /v1/events: the soft prompt’s funnel', () => {
  it('counts each step from the snippet on its UTC day, a retried event once, and keeps the event', async () => {
    const site = await testSite(world.database.db);
    const steps = ['prompt_shown', 'prompt_accepted', 'permission_granted', 'push_subscribed', 'prompt_shown', 'prompt_postponed', 'prompt_shown', 'prompt_accepted', 'permission_dismissed'];
    for (const [i, type] of steps.entries()) {
      const response = await post({ type, visitorId: `visitor-funnel-${i % 3}`, properties: {} }, browserHeaders(site));
      expect(response.status).toBe(202);
    }
    // The same event id again is a retry: stored and counted once.
    const retried = { type: 'permission_denied', visitorId: 'visitor-funnel-9', eventId: 'deny-1', properties: {} };
    expect(((await (await post(retried, browserHeaders(site))).json()) as { stored: boolean }).stored).toBe(true);
    expect(((await (await post(retried, browserHeaders(site))).json()) as { duplicate: boolean }).duplicate).toBe(true);

    expect(await promptFunnel(world.database.db, site.id, localDays('2030-06-14', '2030-06-15', 'UTC'))).toEqual([
      {
        day: '2030-06-14',
        prompt_shown: 3,
        prompt_accepted: 2,
        prompt_postponed: 1,
        permission_granted: 1,
        permission_denied: 1,
        permission_dismissed: 1,
        push_subscribed: 1,
      },
      { day: '2030-06-15', prompt_shown: 0, prompt_accepted: 0, prompt_postponed: 0, permission_granted: 0, permission_denied: 0, permission_dismissed: 0, push_subscribed: 0 },
    ]);
    const stored = await world.database.db.selectFrom('events').select('type').where('site_id', '=', site.id).execute();
    expect(stored).toHaveLength(steps.length + 1);
  });

  it('refuses a funnel step from the shop’s backend, and counts nothing', async () => {
    const site = await testSite(world.database.db);
    const response = await post(
      { type: 'prompt_shown', visitorId: 'visitor-backend', properties: {} },
      { Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' },
    );
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('key_not_allowed');
    expect((await promptFunnel(world.database.db, site.id, localDays('2030-06-14', '2030-06-14', 'UTC')))[0]!.prompt_shown).toBe(0);
  });

  it('needs a visitor id for a step, as for every browser event', async () => {
    const site = await testSite(world.database.db);
    expect((await post({ type: 'prompt_shown', properties: {} }, browserHeaders(site))).status).toBe(400);
    expect((await promptFunnel(world.database.db, site.id, localDays('2030-06-14', '2030-06-14', 'UTC')))[0]!.prompt_shown).toBe(0);
  });
});
