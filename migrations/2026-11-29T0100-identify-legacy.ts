import type { Kysely } from 'kysely';

// Frozen: identify signatures keyed by a secret the database does not hold.
//
// Until now the shop's backend keyed identify signatures with the SHA-256 of a secret key, which
// this database stores, so anyone who could read it could sign for any customer. The new key is
// derived from PUSHCART_MASTER_KEY. Shops that already sign the old way keep working for a
// transition period: `legacy_identify` marks the sites whose shops may still sign the old way (all
// sites that exist now, and sites created later without a master key), and `legacy_identify_until`
// is when that period ends, set the first time a process starts with a master key.

export async function up(db: Kysely<any>): Promise<void> {
  // Existing rows take the default true; the default then becomes false for rows inserted later.
  await db.schema.alterTable('sites').addColumn('legacy_identify', 'boolean', (col) => col.notNull().defaultTo(true)).execute();
  await db.schema.alterTable('sites').alterColumn('legacy_identify', (col) => col.setDefault(false)).execute();
  await db.schema.alterTable('sites').addColumn('legacy_identify_until', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sites').dropColumn('legacy_identify_until').execute();
  await db.schema.alterTable('sites').dropColumn('legacy_identify').execute();
}
