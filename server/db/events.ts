import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface NewEvent {
  siteId: string;
  source: 'browser' | 'server';
  type: string;
  visitorId: string | null;
  externalUserId: string | null;
  properties: Record<string, unknown>;
  clientEventId: string | null;
  at: Date;
}

/** Stores an event; false when the sender's event id was already stored (a retry). */
export async function insertEvent(db: Db, event: NewEvent): Promise<boolean> {
  const row = await db
    .insertInto('events')
    .values({
      site_id: event.siteId,
      source: event.source,
      type: event.type,
      visitor_id: event.visitorId,
      external_user_id: event.externalUserId,
      properties: JSON.stringify(event.properties),
      client_event_id: event.clientEventId,
      created_at: event.at,
    })
    .onConflict((oc) => oc.columns(['site_id', 'client_event_id']).where(sql.ref('client_event_id'), 'is not', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function upsertWatch(
  db: Db,
  watch: { siteId: string; visitorId: string; productId: string; kind: 'price_drop' | 'back_in_stock'; price: number | null },
  now: Date,
): Promise<void> {
  await db
    .insertInto('watches')
    .values({ site_id: watch.siteId, visitor_id: watch.visitorId, product_id: watch.productId, kind: watch.kind, price: watch.price, created_at: now, updated_at: now })
    .onConflict((oc) =>
      oc.columns(['site_id', 'visitor_id', 'product_id', 'kind']).doUpdateSet({ price: watch.price, updated_at: now }),
    )
    .execute();
}

/**
 * Stores several events in one statement; returns, per event, whether it was stored (false: its
 * event id was already stored, by an earlier request or earlier in this list — the first one
 * wins). Rows are written in (site, event id) order, so two groups writing the same ids at once
 * take the unique index's locks in the same order and cannot deadlock.
 */
export async function insertEvents(db: Db, events: NewEvent[]): Promise<boolean[]> {
  const keyOf = (event: NewEvent) => (event.clientEventId === null ? undefined : `${event.siteId} ${event.clientEventId}`);
  const firstOfKey = new Map<string, number>();
  const written: number[] = [];
  events.forEach((event, index) => {
    const key = keyOf(event);
    if (key !== undefined) {
      if (firstOfKey.has(key)) return;
      firstOfKey.set(key, index);
    }
    written.push(index);
  });
  written.sort((a, b) => compareText(keyOf(events[a]!) ?? '', keyOf(events[b]!) ?? ''));
  const rows = await db
    .insertInto('events')
    .values(
      written.map((index) => {
        const event = events[index]!;
        return {
          site_id: event.siteId,
          source: event.source,
          type: event.type,
          visitor_id: event.visitorId,
          external_user_id: event.externalUserId,
          properties: JSON.stringify(event.properties),
          client_event_id: event.clientEventId,
          created_at: event.at,
        };
      }),
    )
    .onConflict((oc) => oc.columns(['site_id', 'client_event_id']).where(sql.ref('client_event_id'), 'is not', null).doNothing())
    .returning(['site_id', 'client_event_id'])
    .execute();
  const storedKeys = new Set(rows.flatMap((row) => (row.client_event_id === null ? [] : [`${row.site_id} ${row.client_event_id}`])));
  return events.map((event, index) => {
    const key = keyOf(event);
    return key === undefined || (firstOfKey.get(key) === index && storedKeys.has(key));
  });
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
