import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';
import { localDays } from '../stats/local-days.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { migrateToLatest } from './migrate.ts';
import { countPromptStep, promptFunnel, promptFunnelBucket } from './prompt-funnel.ts';
import { insertSite } from './sites.ts';

const at = (iso: string) => new Date(iso);
const ZERO = { prompt_shown: 0, prompt_accepted: 0, prompt_postponed: 0, permission_granted: 0, permission_denied: 0, permission_dismissed: 0, push_subscribed: 0 };

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
  it('counts each step per day, across visitors on different shards, with every day and step present', async () => {
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

    const shards = await database.db.selectFrom('prompt_funnel_buckets').select('shard').distinct().where('site_id', '=', siteId).execute();
    expect(shards.length, 'twenty visitors spread over more than one row').toBeGreaterThan(1);
    // A row per 15-minute period, not per event: the five at 12:00:0x share one period.
    const buckets = await database.db.selectFrom('prompt_funnel_buckets').select('bucket').distinct().where('site_id', '=', siteId).orderBy('bucket').execute();
    expect(buckets.map((row) => row.bucket.toISOString())).toEqual(['2030-03-01T12:00:00.000Z', '2030-03-01T23:45:00.000Z', '2030-03-03T00:00:00.000Z']);

    expect(await promptFunnel(database.db, siteId, localDays('2030-02-28', '2030-03-03', 'UTC'))).toEqual([
      { day: '2030-02-28', ...ZERO },
      { day: '2030-03-01', ...ZERO, prompt_shown: 20, prompt_accepted: 5, permission_granted: 1, permission_denied: 1, push_subscribed: 1 },
      { day: '2030-03-02', ...ZERO },
      { day: '2030-03-03', ...ZERO, prompt_shown: 1, prompt_postponed: 1 },
    ]);
  });

  it('puts an event near midnight on the shop’s own day, in zones far from UTC and a quarter-hour one', async () => {
    const siteId = await site('zones');
    // Auckland, summer (UTC+13): 10:59 UTC on 14 Jan is 23:59 local on the 14th; 11:00 UTC is 00:00 on the 15th.
    await countPromptStep(database.db, siteId, 'prompt_shown', 'visitor-nz-1', at('2030-01-14T10:59:59Z'));
    await countPromptStep(database.db, siteId, 'prompt_accepted', 'visitor-nz-2', at('2030-01-14T11:00:00Z'));
    // Los Angeles, winter (UTC−8): 07:59 UTC on 15 Jan is 23:59 local on the 14th; 08:00 UTC is 00:00 on the 15th.
    await countPromptStep(database.db, siteId, 'permission_granted', 'visitor-la-1', at('2030-01-15T07:59:59Z'));
    await countPromptStep(database.db, siteId, 'push_subscribed', 'visitor-la-2', at('2030-01-15T08:00:00Z'));
    // Kathmandu (UTC+5:45): 18:14 UTC on 15 Jan is 23:59 local on the 15th; 18:15 UTC is 00:00 on the 16th.
    await countPromptStep(database.db, siteId, 'prompt_postponed', 'visitor-np-1', at('2030-01-15T18:14:59Z'));
    await countPromptStep(database.db, siteId, 'permission_denied', 'visitor-np-2', at('2030-01-15T18:15:00Z'));

    const read = async (timeZone: string) =>
      (await promptFunnel(database.db, siteId, localDays('2030-01-14', '2030-01-16', timeZone))).map(({ day, ...counts }) => [day, Object.entries(counts).filter(([, n]) => n > 0)]);
    expect(await read('Pacific/Auckland')).toEqual([
      ['2030-01-14', [['prompt_shown', 1]]],
      ['2030-01-15', [['prompt_accepted', 1], ['permission_granted', 1], ['push_subscribed', 1]]],
      ['2030-01-16', [['prompt_postponed', 1], ['permission_denied', 1]]],
    ]);
    expect(await read('America/Los_Angeles')).toEqual([
      ['2030-01-14', [['prompt_shown', 1], ['prompt_accepted', 1], ['permission_granted', 1]]],
      ['2030-01-15', [['prompt_postponed', 1], ['permission_denied', 1], ['push_subscribed', 1]]],
      ['2030-01-16', []],
    ]);
    expect(await read('Asia/Kathmandu')).toEqual([
      ['2030-01-14', [['prompt_shown', 1], ['prompt_accepted', 1]]],
      ['2030-01-15', [['prompt_postponed', 1], ['permission_granted', 1], ['push_subscribed', 1]]],
      ['2030-01-16', [['permission_denied', 1]]],
    ]);
    // Read as UTC days, the same counts fall elsewhere: the zone is what moves them.
    expect(await read('UTC')).toEqual([
      ['2030-01-14', [['prompt_shown', 1], ['prompt_accepted', 1]]],
      ['2030-01-15', [['prompt_postponed', 1], ['permission_granted', 1], ['permission_denied', 1], ['push_subscribed', 1]]],
      ['2030-01-16', []],
    ]);
  });

  it('adds up a 23-hour day at a daylight-saving change', async () => {
    const siteId = await site('dst');
    // Los Angeles springs forward on 10 March 2030: the day runs from 08:00 UTC to 07:00 UTC the next day.
    await countPromptStep(database.db, siteId, 'prompt_shown', 'visitor-dst-1', at('2030-03-11T06:59:59Z'));
    await countPromptStep(database.db, siteId, 'prompt_shown', 'visitor-dst-2', at('2030-03-11T07:00:00Z'));
    const days = await promptFunnel(database.db, siteId, localDays('2030-03-10', '2030-03-11', 'America/Los_Angeles'));
    expect(days.map((day) => [day.day, day.prompt_shown])).toEqual([
      ['2030-03-10', 1],
      ['2030-03-11', 1],
    ]);
  });

  it('reads only the site asked for and only the days asked for', async () => {
    const mine = await site('mine');
    const other = await site('other');
    await countPromptStep(database.db, mine, 'prompt_shown', 'visitor-mine-1', at('2030-04-10T10:00:00Z'));
    await countPromptStep(database.db, mine, 'prompt_shown', 'visitor-mine-1', at('2030-04-11T10:00:00Z'));
    await countPromptStep(database.db, other, 'prompt_shown', 'visitor-other', at('2030-04-10T10:00:00Z'));
    const days = await promptFunnel(database.db, mine, localDays('2030-04-10', '2030-04-10', 'UTC'));
    expect(days.map((day) => [day.day, day.prompt_shown])).toEqual([['2030-04-10', 1]]);
  });

  it('starts each period on a quarter hour of UTC', () => {
    expect(promptFunnelBucket(at('2030-01-15T18:14:59.999Z')).toISOString()).toBe('2030-01-15T18:00:00.000Z');
    expect(promptFunnelBucket(at('2030-01-15T18:15:00Z')).toISOString()).toBe('2030-01-15T18:15:00.000Z');
  });
});

describe('the migration from UTC days to 15-minute periods', () => {
  it('moves each day’s counts to noon UTC of that day, and going down adds the periods back up into UTC days', async () => {
    const siteId = await site('migrated');
    const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });
    try {
      // Back to the day table, as a database made before this migration has it.
      const down = await migrator.migrateTo('2026-11-29T0385-audit-cli-actor');
      expect(down.error).toBeUndefined();
      await sql`insert into prompt_funnel_days (site_id, day, step, shard, count) values
        (${siteId}, '2030-05-01', 'prompt_shown', 0, 7), (${siteId}, '2030-05-01', 'prompt_shown', 3, 2), (${siteId}, '2030-05-02', 'push_subscribed', 1, 1)`.execute(database.db);
      await migrateToLatest(database.db);

      const rows = await database.db.selectFrom('prompt_funnel_buckets').select(['bucket', 'step', 'shard', 'count']).where('site_id', '=', siteId).orderBy(['bucket', 'shard']).execute();
      expect(rows.map((row) => [row.bucket.toISOString(), row.step, row.shard, row.count])).toEqual([
        ['2030-05-01T12:00:00.000Z', 'prompt_shown', 0, 7],
        ['2030-05-01T12:00:00.000Z', 'prompt_shown', 3, 2],
        ['2030-05-02T12:00:00.000Z', 'push_subscribed', 1, 1],
      ]);
      // Noon UTC is the same date from Los Angeles to Tokyo.
      for (const timeZone of ['America/Los_Angeles', 'UTC', 'Asia/Tokyo']) {
        const days = await promptFunnel(database.db, siteId, localDays('2030-05-01', '2030-05-02', timeZone));
        expect(days.map((day) => [day.day, day.prompt_shown, day.push_subscribed]), timeZone).toEqual([
          ['2030-05-01', 9, 0],
          ['2030-05-02', 0, 1],
        ]);
      }

      // Down again: the periods of each UTC day add up into it, per step (and shard).
      await countPromptStep(database.db, siteId, 'prompt_shown', 'visitor-late', at('2030-05-01T23:50:00Z'));
      expect((await migrator.migrateTo('2026-11-29T0385-audit-cli-actor')).error).toBeUndefined();
      const back = await sql<{ day: string; step: string; count: string }>`
        select to_char(day, 'YYYY-MM-DD') as day, step, sum(count) as count from prompt_funnel_days where site_id = ${siteId} group by 1, 2 order by 1`.execute(database.db);
      expect(back.rows.map((row) => [row.day, row.step, Number(row.count)])).toEqual([
        ['2030-05-01', 'prompt_shown', 10],
        ['2030-05-02', 'push_subscribed', 1],
      ]);
    } finally {
      await migrateToLatest(database.db);
    }
  });
});
