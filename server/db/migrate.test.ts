import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { migrateToLatest } from './migrate.ts';

const ALL_TABLES = [
  'audit_log',
  'birthday_pushes',
  'campaigns',
  'carts',
  'conversions',
  'deliveries',
  'events',
  'idempotency_keys',
  'interactions',
  'invites',
  'low_stock_alerts',
  'memberships',
  'notifications',
  'occasion_sends',
  'order_updates',
  'ordered_deliveries',
  'origins_seen',
  'password_links',
  'price_alerts',
  'product_interest',
  'product_prices',
  'products',
  'prompt_funnel_buckets',
  'rating_requests',
  'reactivation_scans',
  'reactivations',
  'secret_keys',
  'segments',
  'sessions',
  'shopper_birthdays',
  'sites',
  'stats_buckets',
  'stats_revenue',
  'subscription_changes',
  'subscriptions',
  'test_devices',
  'users',
  'watches',
  'welcome_codes',
  'welcome_pushes',
];

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase(); // already migrated to latest
});
afterAll(async () => database?.destroy());

async function tableNames(): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = current_schema() and table_name not like 'kysely_%'
    order by table_name`.execute(database.db);
  return result.rows.map((row) => row.table_name);
}

describe('migrations', () => {
  it('create the tables, and running them again is a no-op', async () => {
    expect(await tableNames()).toEqual(ALL_TABLES);
    const again = await migrateToLatest(database.db);
    expect(again.results).toEqual([]);
  });

  it('go all the way down and back up', async () => {
    const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });
    for (let i = 0; i < Object.keys(migrations).length; i++) {
      const step = await migrator.migrateDown();
      expect(step.error).toBeUndefined();
    }
    expect(await tableNames()).toEqual([]);
    await migrateToLatest(database.db);
    expect(await tableNames()).toEqual(ALL_TABLES);
  });

  it('refuse a subscription status outside the closed set', async () => {
    const site = await database.db
      .insertInto('sites')
      .values({ name: 's', allowed_origins: ['https://s.example'], publishable_key: 'pk_migrate', vapid_public_key: 'x', vapid_private_key: 'y' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await expect(
      sql`insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, status)
          values (${site.id}, 'https://fcm.googleapis.com/x', 'p', 'a', 'v', 'visitor01', 'deleted')`.execute(database.db),
    ).rejects.toThrow();
  });

  it('let the audit log name the command line as an actor, and going down keep its rows as the admin token’s', async () => {
    const site = await database.db
      .insertInto('sites')
      .values({ name: 's', allowed_origins: ['https://s.example'], publishable_key: 'pk_migrate_cli', vapid_public_key: 'x', vapid_private_key: 'y' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const insert = (kind: string) => sql`insert into audit_log (site_id, at, actor_kind, actor_label, action) values (${site.id}, now(), ${kind}, 'the command line', 'key_created')`.execute(database.db);
    await insert('cli');
    await expect(insert('robot')).rejects.toThrow();
    const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo('2026-11-29T0370-site-deletion-rollup')).error).toBeUndefined();
    await expect(insert('cli')).rejects.toThrow();
    const kinds = await sql<{ actor_kind: string; actor_label: string }>`select actor_kind, actor_label from audit_log where site_id = ${site.id}`.execute(database.db);
    expect(kinds.rows).toEqual([{ actor_kind: 'admin_token', actor_label: 'the command line' }]);
    await migrateToLatest(database.db);
    await insert('cli');
  });
});
