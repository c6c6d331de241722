import { sql, type Selectable } from 'kysely';
import { SECOND_MS } from '../time.ts';
import type { Db, SecretKeysTable } from './database.ts';
import { isUuid } from './sites.ts';

export type SecretKeyRow = Selectable<SecretKeysTable>;
export type SecretKeySummary = Omit<SecretKeyRow, 'key_hash'>;

export async function insertSecretKey(
  db: Db,
  key: { siteId: string; prefix: string; keyHash: string; name?: string | null },
): Promise<SecretKeySummary> {
  return db
    .insertInto('secret_keys')
    .values({ site_id: key.siteId, prefix: key.prefix, key_hash: key.keyHash, name: key.name ?? null })
    .returning(['id', 'site_id', 'name', 'prefix', 'created_at', 'revoked_at', 'last_used_at'])
    .executeTakeFirstOrThrow();
}

/** A live (not revoked) secret key by hash. Not cached: a revocation applies at once. */
export async function findLiveSecretKeyByHash(
  db: Db,
  keyHash: string,
): Promise<Pick<SecretKeyRow, 'id' | 'site_id' | 'last_used_at'> | undefined> {
  return db
    .selectFrom('secret_keys')
    .select(['id', 'site_id', 'last_used_at'])
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Records use, at most about once per `resolutionSeconds`, so listings can show stale keys without a write per request. */
export async function touchSecretKey(db: Db, id: string, resolutionSeconds: number, now: Date): Promise<void> {
  await db
    .updateTable('secret_keys')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('last_used_at', 'is', null),
        eb('last_used_at', '<', new Date(now.getTime() - resolutionSeconds * SECOND_MS)),
      ]),
    )
    .execute();
}

export async function listSecretKeys(db: Db, siteId: string): Promise<SecretKeySummary[]> {
  return db
    .selectFrom('secret_keys')
    .select(['id', 'site_id', 'name', 'prefix', 'created_at', 'revoked_at', 'last_used_at'])
    .where('site_id', '=', siteId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/**
 * Revokes a key by id or by its visible prefix, within one site. Returns the key, or undefined
 * when the site has no such key. Revoking twice keeps the first revocation time.
 */
export async function revokeSecretKey(db: Db, siteId: string, idOrPrefix: string, now: Date): Promise<SecretKeySummary | undefined> {
  const matches = await db
    .selectFrom('secret_keys')
    .select('id')
    .where('site_id', '=', siteId)
    .where((eb) => (isUuid(idOrPrefix) ? eb('id', '=', idOrPrefix) : eb('prefix', '=', idOrPrefix)))
    .execute();
  if (matches.length !== 1) return undefined;
  return db
    .updateTable('secret_keys')
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, ${now}::timestamptz)` })
    .where('id', '=', matches[0]!.id)
    .returning(['id', 'site_id', 'name', 'prefix', 'created_at', 'revoked_at', 'last_used_at'])
    .executeTakeFirst();
}

/** Hashes of a site's live secret keys: what identify signatures are checked against. */
export async function liveSecretKeyHashes(db: Db, siteId: string): Promise<string[]> {
  const rows = await db.selectFrom('secret_keys').select('key_hash').where('site_id', '=', siteId).where('revoked_at', 'is', null).execute();
  return rows.map((row) => row.key_hash);
}
