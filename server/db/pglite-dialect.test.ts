import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from './migrate.ts';
import { openMemoryDatabase, type OpenDatabase } from '../runtime/node/database.ts';

let database: OpenDatabase;
beforeAll(async () => {
  database = await openMemoryDatabase();
  await migrateToLatest(database.db);
});
afterAll(async () => database?.close());

function insertSite(db: OpenDatabase['db'], key: string) {
  return db
    .insertInto('sites')
    .values({ name: key, allowed_origins: ['https://a.example'], publishable_key: key, vapid_public_key: 'v', vapid_private_key: 'p' })
    .execute();
}

describe('the PGlite dialect', () => {
  it('keeps concurrent transactions apart: a rollback undoes only its own writes', async () => {
    const { db } = database;
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
    const rolledBack = db
      .transaction()
      .execute(async (trx) => {
        await insertSite(trx, 'pk_rolled_back');
        await firstMayFinish;
        throw new Error('roll back');
      })
      .catch((error: Error) => error.message);
    // Started while the first transaction is open; must neither join it nor be undone by it.
    const committed = db.transaction().execute(async (trx) => insertSite(trx, 'pk_committed'));
    const plain = insertSite(db, 'pk_plain');
    releaseFirst();
    expect(await rolledBack).toBe('roll back');
    await Promise.all([committed, plain]);
    const keys = (await db.selectFrom('sites').select('publishable_key').orderBy('publishable_key').execute()).map((r) => r.publishable_key);
    expect(keys).toEqual(['pk_committed', 'pk_plain']);
  });

  it('reports affected row counts', async () => {
    const result = await database.db.updateTable('sites').set({ name: 'renamed' }).where('publishable_key', 'like', 'pk_%').executeTakeFirst();
    expect(result.numUpdatedRows).toBe(2n);
    const deleted = await sql`delete from sites where publishable_key = 'pk_plain'`.execute(database.db);
    expect(deleted.numAffectedRows).toBe(1n);
  });
});
