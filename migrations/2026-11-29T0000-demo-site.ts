import { sql, type Kysely } from 'kysely';

// Frozen: the demo shop (/demo) is served only for a site marked as the demo — the one `npm start`
// creates on an empty database, or one created with `pushcart site create --demo`.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sites')
    .addColumn('demo', 'boolean', (col) => col.notNull().defaultTo(sql`false`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sites').dropColumn('demo').execute();
}
