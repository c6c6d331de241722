import type { Selectable } from 'kysely';
import type { AuditActorKind, AuditLogTable, Db } from './database.ts';
import { isUuid } from './sites.ts';

export type AuditLogRow = Selectable<AuditLogTable>;

export interface NewAuditEntry {
  siteId: string;
  actorKind: AuditActorKind;
  actorId: string | null;
  actorLabel: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

/** One row; pass the transaction the change is made in, so the change and its record stand or fall together. */
export async function insertAuditEntry(db: Db, entry: NewAuditEntry, at: Date): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      site_id: entry.siteId,
      at,
      actor_kind: entry.actorKind,
      actor_id: entry.actorId,
      actor_label: entry.actorLabel,
      action: entry.action,
      target: entry.target,
      details: JSON.stringify(entry.details),
    })
    .execute();
}

/** Where a page of the log ends: the last row's time and id, so the next page starts just after it. */
export interface AuditCursor {
  at: Date;
  id: string;
}

/**
 * A site's rows, newest first, `limit` at a time, after `before` when given (keyset paging on the
 * (site_id, at, id) index: page 50 costs what page 1 does). Returns one row more than `limit` at
 * most, so the caller knows whether a next page exists without counting.
 */
export async function listAuditEntries(db: Db, siteId: string, options: { limit: number; before?: AuditCursor }): Promise<AuditLogRow[]> {
  if (!isUuid(siteId)) return [];
  let query = db.selectFrom('audit_log').selectAll().where('site_id', '=', siteId);
  const before = options.before;
  if (before) {
    query = query.where((eb) => eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]));
  }
  return query.orderBy('at', 'desc').orderBy('id', 'desc').limit(options.limit + 1).execute();
}

/** Deletes rows written before `cutoff`, at most `batch` of them (a long backlog is cleared over several rounds). */
export async function deleteAuditEntriesBefore(db: Db, cutoff: Date, batch: number): Promise<number> {
  const result = await db
    .deleteFrom('audit_log')
    .where('id', 'in', (eb) => eb.selectFrom('audit_log').select('id').where('at', '<', cutoff).orderBy('at').limit(batch))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A secret key's name and prefix, revoked or not: how the log names the key that acted. */
export async function findSecretKeyLabel(db: Db, keyId: string): Promise<{ id: string; name: string | null; prefix: string } | undefined> {
  if (!isUuid(keyId)) return undefined;
  return db.selectFrom('secret_keys').select(['id', 'name', 'prefix']).where('id', '=', keyId).executeTakeFirst();
}
