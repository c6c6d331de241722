import { sql, type Selectable } from 'kysely';
import { segmentCondition, type SegmentDefinition } from '../segments/segment-rules.ts';
import type { Db, SegmentsTable } from './database.ts';

export type SegmentRow = Selectable<SegmentsTable> & { definition: SegmentDefinition };

/** Segments a site may keep: a list for people to pick from, not a store of audiences. */
export const MAX_SEGMENTS_PER_SITE = 500;

/**
 * Memory a count may hash with: each behaviour rule read once and hashed (events of the last N
 * days by shopper) rather than probed a million times. At 4 MB (Postgres's default) a busy
 * site's 30 days of views do not fit, and the planner falls back to a probe per subscription.
 */
const COUNT_WORK_MEM = '128MB';

/** Postgres SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}

function asSegment(row: Selectable<SegmentsTable>): SegmentRow {
  return { ...row, definition: row.definition as SegmentDefinition };
}

/** A new segment; `name_taken` when the site has one of that name (in any case), `too_many` past the bound. */
export async function createSegment(
  db: Db,
  siteId: string,
  segment: { name: string; definition: SegmentDefinition },
  at: Date,
): Promise<{ outcome: 'created'; segment: SegmentRow } | { outcome: 'name_taken' | 'too_many' }> {
  const existing = await db.selectFrom('segments').select((eb) => eb.fn.countAll<string>().as('count')).where('site_id', '=', siteId).executeTakeFirstOrThrow();
  if (Number(existing.count) >= MAX_SEGMENTS_PER_SITE) return { outcome: 'too_many' };
  const row = await db
    .insertInto('segments')
    .values({ site_id: siteId, name: segment.name, definition: JSON.stringify(segment.definition), created_at: at, updated_at: at })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ? { outcome: 'created', segment: asSegment(row) } : { outcome: 'name_taken' };
}

/** The site's segments by name. */
export async function listSegments(db: Db, siteId: string): Promise<SegmentRow[]> {
  const rows = await db.selectFrom('segments').selectAll().where('site_id', '=', siteId).orderBy(sql`lower(name)`).orderBy('id').execute();
  return rows.map(asSegment);
}

export async function findSegment(db: Db, siteId: string, id: string): Promise<SegmentRow | undefined> {
  const row = await db.selectFrom('segments').selectAll().where('site_id', '=', siteId).where('id', '=', id).executeTakeFirst();
  return row ? asSegment(row) : undefined;
}

/** Renames and/or redefines a segment; `not_found` when it is not the site's. */
export async function updateSegment(
  db: Db,
  siteId: string,
  id: string,
  change: { name?: string; definition?: SegmentDefinition },
  at: Date,
): Promise<{ outcome: 'updated'; segment: SegmentRow } | { outcome: 'not_found' | 'name_taken' }> {
  try {
    const row = await db
      .updateTable('segments')
      .set({
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.definition !== undefined ? { definition: JSON.stringify(change.definition) } : {}),
        updated_at: at,
      })
      .where('site_id', '=', siteId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? { outcome: 'updated', segment: asSegment(row) } : { outcome: 'not_found' };
  } catch (error) {
    if (isUniqueViolation(error)) return { outcome: 'name_taken' };
    throw error;
  }
}

/** True when a segment of the site was deleted. Notifications sent to it keep their own copy of its rules. */
export async function deleteSegment(db: Db, siteId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('segments').where('site_id', '=', siteId).where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export interface SegmentCount {
  /** Active subscriptions the segment matches now. */
  matching: number;
  /** The site's active subscriptions. */
  active: number;
  /** Every active subscriber matches (and there is at least one): the segment is "everyone". */
  matchesEveryone: boolean;
}

/**
 * How many of the site's active subscriptions a definition matches at `at`: the same condition
 * a send resolves (insertDeliveries), in one pass over the site's active subscriptions.
 */
export async function countSegment(db: Db, siteId: string, def: SegmentDefinition, at: Date): Promise<SegmentCount> {
  const count = async (trx: Db) => {
    if (!db.isTransaction) {
      await sql`select set_config('work_mem', ${COUNT_WORK_MEM}, true), set_config('jit', 'off', true)`.execute(trx);
    }
    const active = trx.selectFrom('subscriptions as s').where('s.site_id', '=', siteId).where('s.status', '=', 'active');
    // The condition in WHERE, not in an aggregate's FILTER: Postgres chooses between a probe per
    // subscription and one hashed read by how often it expects the condition to run, and for a
    // FILTER it expects once (the aggregate's one row), so it would always probe.
    const matching = await active.where(segmentCondition(def, at, siteId)).select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    const all = await active.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    return { matching: Number(matching.count), active: Number(all.count) };
  };
  // set_config(…, true) lasts until the transaction ends: the count's own, so nothing else runs
  // with it. JIT is off because compiling the plan (~0.3 s) costs more than it saves here.
  const { matching, active } = db.isTransaction ? await count(db) : await db.transaction().execute(count);
  return { matching, active, matchesEveryone: active > 0 && matching === active };
}
