import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { countPromptStep, promptFunnel } from './prompt-funnel.ts';
import { insertSite } from './sites.ts';

const at = (iso: string) => new Date(iso);

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

async function site(name: string): Promise<string> {
  const row = await insertSite(database.db, {
    name,
    allowed_origins: [`https://${name}.example`],
    publishable_key: `pk_${crypto.randomUUID()}`,
    vapid_public_key: 'public',
    vapid_private_key: 'private',
  });
  return row.id;
}

describe('promptFunnel', () => {
  it('counts each step per UTC day, across visitors on different shards, with every day and step present', async () => {
    const siteId = await site('funnel');
    const visitors = Array.from({ length: 20 }, (_, i) => `visitor-${i}-abcdef`);
    for (const visitor of visitors) await countPromptStep(database.db, siteId, 'prompt_shown', visitor, at('2030-03-01T23:59:59Z'));
    for (const visitor of visitors.slice(0, 5)) await countPromptStep(database.db, siteId, 'prompt_accepted', visitor, at('2030-03-01T12:00:00Z'));
    await countPromptStep(database.db, siteId, 'permission_granted', visitors[0]!, at('2030-03-01T12:00:01Z'));
    await countPromptStep(database.db, siteId, 'push_subscribed', visitors[0]!, at('2030-03-01T12:00:02Z'));
    await countPromptStep(database.db, siteId, 'permission_denied', visitors[1]!, at('2030-03-01T12:00:01Z'));
    // Just past midnight UTC: the next day, whatever the server's own zone.
    await countPromptStep(database.db, siteId, 'prompt_shown', visitors[2]!, at('2030-03-03T00:00:00Z'));
    await countPromptStep(database.db, siteId, 'prompt_postponed', visitors[2]!, at('2030-03-03T00:00:05Z'));

    const shards = await database.db.selectFrom('prompt_funnel_days').select('shard').distinct().where('site_id', '=', siteId).execute();
    expect(shards.length, 'twenty visitors spread over more than one row').toBeGreaterThan(1);

    const zero = { prompt_shown: 0, prompt_accepted: 0, prompt_postponed: 0, permission_granted: 0, permission_denied: 0, permission_dismissed: 0, push_subscribed: 0 };
    expect(await promptFunnel(database.db, siteId, '2030-02-28', '2030-03-03')).toEqual([
      { day: '2030-02-28', ...zero },
      { day: '2030-03-01', ...zero, prompt_shown: 20, prompt_accepted: 5, permission_granted: 1, permission_denied: 1, push_subscribed: 1 },
      { day: '2030-03-02', ...zero },
      { day: '2030-03-03', ...zero, prompt_shown: 1, prompt_postponed: 1 },
    ]);
  });

  it('reads only the site asked for and only the days asked for', async () => {
    const mine = await site('mine');
    const other = await site('other');
    await countPromptStep(database.db, mine, 'prompt_shown', 'visitor-mine-1', at('2030-04-10T10:00:00Z'));
    await countPromptStep(database.db, mine, 'prompt_shown', 'visitor-mine-1', at('2030-04-11T10:00:00Z'));
    await countPromptStep(database.db, other, 'prompt_shown', 'visitor-other', at('2030-04-10T10:00:00Z'));
    const days = await promptFunnel(database.db, mine, '2030-04-10', '2030-04-10');
    expect(days.map((day) => [day.day, day.prompt_shown])).toEqual([['2030-04-10', 1]]);
  });
});
