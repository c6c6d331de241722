import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/**
 * A digest of every row of every application table, to show that a refused request stored
 * nothing. `secret_keys` is left out: authenticating a request stamps the key's last use, which
 * is bookkeeping about the caller, not something the request asked to store.
 */
export async function databaseFingerprint(db: Db): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'
      and table_name not like 'kysely_%' and table_name <> 'secret_keys'
    order by table_name`.execute(db);
  // One statement for all tables: this runs before and after every refused request.
  const digests = sql.join(
    tables.rows.map(
      ({ name }) => sql`select ${name}::text as name, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${sql.table(name)} t`,
    ),
    sql` union all `,
  );
  const result = await sql<{ name: string; digest: string }>`${digests}`.execute(db);
  return Object.fromEntries(result.rows.map((row) => [row.name, row.digest]));
}
