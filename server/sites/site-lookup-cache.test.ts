import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { createSiteLookupCache, forgetCachedSites } from './site-lookup-cache.ts';

class CountSelects implements KyselyPlugin {
  selects = 0;
  transformQuery(args: PluginTransformQueryArgs) {
    if (args.node.kind === 'SelectQueryNode') this.selects++;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

describe('site lookup cache', () => {
  it('reads a site once per TTL, shares a lookup in flight, and sees a change after the TTL', async () => {
    const site = await testSite(database.db);
    const counter = new CountSelects();
    let nowMs = Date.parse('2026-11-20T10:00:00Z');
    const cache = createSiteLookupCache(database.db.withPlugin(counter), { ttlMs: 5_000, now: () => nowMs });
    const [a, b] = await Promise.all([cache.find(site.publishableKey), cache.find(site.publishableKey)]);
    expect(a?.id).toBe(site.id);
    expect(b?.id).toBe(site.id);
    expect(counter.selects).toBe(1);
    await database.db.updateTable('sites').set({ allowed_origins: ['https://moved.example'] }).where('id', '=', site.id).execute();
    nowMs += 4_999;
    expect((await cache.find(site.publishableKey))?.allowed_origins).toEqual(['https://shop.example']);
    expect(counter.selects).toBe(1);
    nowMs += 1;
    expect((await cache.find(site.publishableKey))?.allowed_origins).toEqual(['https://moved.example']);
    expect(counter.selects).toBe(2);
  });

  it('reads a site again at once after a change in this process committed', async () => {
    const site = await testSite(database.db);
    const counter = new CountSelects();
    const cache = createSiteLookupCache(database.db.withPlugin(counter), { ttlMs: 5_000, now: () => 0 });
    await cache.find(site.publishableKey);
    await database.db.updateTable('sites').set({ allowed_origins: ['https://moved.example'] }).where('id', '=', site.id).execute();
    forgetCachedSites();
    expect((await cache.find(site.publishableKey))?.allowed_origins).toEqual(['https://moved.example']);
    expect(counter.selects).toBe(2);
  });

  it('does not remember an unknown key', async () => {
    const counter = new CountSelects();
    const cache = createSiteLookupCache(database.db.withPlugin(counter), { ttlMs: 5_000, now: () => 0 });
    expect(await cache.find('pk_unknown')).toBeUndefined();
    expect(await cache.find('pk_unknown')).toBeUndefined();
    expect(counter.selects).toBe(2);
  });

  it('forgets the oldest site past its size', async () => {
    const [first, second] = [await testSite(database.db), await testSite(database.db)];
    const counter = new CountSelects();
    const cache = createSiteLookupCache(database.db.withPlugin(counter), { ttlMs: 5_000, now: () => 0, maxEntries: 1 });
    await cache.find(first.publishableKey);
    await cache.find(second.publishableKey);
    await cache.find(second.publishableKey);
    expect(counter.selects).toBe(2);
    await cache.find(first.publishableKey);
    expect(counter.selects).toBe(3);
  });
});
