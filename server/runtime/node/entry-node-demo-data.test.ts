import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config.ts';
import { memoryLogger } from '../../logger.ts';
import { createSite } from '../../sites/create-site.ts';
import { freePort } from '../../testing/free-port.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.ts';
import { startNodeServer } from './entry-node.ts';

let empty: TestDatabase;
let withRealShop: TestDatabase;
beforeAll(async () => {
  [empty, withRealShop] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterAll(async () => {
  await empty?.destroy();
  await withRealShop?.destroy();
});

async function start(database: TestDatabase, demoData: boolean): Promise<string[]> {
  const lines: string[] = [];
  const config = parseConfig({ DATABASE_URL: database.connectionString, PORT: String(await freePort()) });
  const server = await startNodeServer(config, memoryLogger(), (line) => lines.push(line), { demoData });
  await server.close();
  return lines;
}

const count = async (database: TestDatabase, table: 'subscriptions' | 'deliveries' | 'events') =>
  Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(database.db)).rows[0]!.n);

describe('npm start -- --demo-data', { timeout: 120_000 }, () => {
  it('seeds the demo site made on an empty database once, and says so; a second start adds nothing', async () => {
    const first = await start(empty, true);
    expect(first.find((line) => line.startsWith('--demo-data:'))).toMatch(/^--demo-data: seeded Demo shop with a month of sample data \(\d{4} subscriptions, \d+ deliveries, \d+ orders\) in [\d.]+ s\.$/);
    const subscriptions = await count(empty, 'subscriptions');
    expect(subscriptions).toBeGreaterThan(1900);
    const second = await start(empty, true);
    expect(second.filter((line) => line.startsWith('--demo-data:'))).toEqual(['--demo-data: Demo shop already has its sample data; nothing was added.']);
    expect(await count(empty, 'subscriptions')).toBe(subscriptions);
  });

  it('never writes into a real shop: without a demo site it refuses in one line', async () => {
    await createSite(withRealShop.db, { name: 'A real shop', origins: ['https://real.example'] }, undefined);
    const lines = await start(withRealShop, true);
    const said = lines.filter((line) => line.startsWith('--demo-data:'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('sample data never goes into a real shop: nothing was written');
    expect(await count(withRealShop, 'subscriptions')).toBe(0);
    expect(await count(withRealShop, 'events')).toBe(0);
  });

  it('writes nothing without the flag', async () => {
    const lines = await start(withRealShop, false);
    expect(lines.some((line) => line.includes('--demo-data'))).toBe(false);
    expect(await count(withRealShop, 'deliveries')).toBe(0);
  });
});
