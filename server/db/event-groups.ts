import { sql } from 'kysely';
import type { Db } from './database.ts';
import type { NewEvent } from './events.ts';
import type { BrowserView } from './products.ts';
import { promptFunnelBucket, promptFunnelShard, type PromptFunnelStep } from './prompt-funnel.ts';

/**
 * How exact a view's `seen_at` is kept (shown only in a shopper's data export): a repeat view at
 * the same price within this time leaves the row as it is.
 */
export const INTEREST_SEEN_RESOLUTION_SECONDS = 600;

/** One event of a group as the one-statement write takes it: the row, and what it counts or teaches. */
export interface QuietGroupEvent {
  event: NewEvent;
  step?: { step: PromptFunnelStep; visitorId: string };
  view?: BrowserView;
}

/**
 * Writes a group of events in ONE statement (its own transaction: no BEGIN or COMMIT round trip)
 * when none of its product views changes a product — the usual case: the shopper saw the price
 * the catalogue has. Stores the events (the first of an event id wins; one stored before makes the
 * rest retries), adds the prompt steps to their counters, introduces the products nobody reported
 * before, and remembers who saw which price. When some view would change a product (a new price,
 * a pending price to confirm or clear), nothing at all is written and `{ ok: false }` comes back:
 * the caller then writes the group in a transaction that reads those products FOR UPDATE.
 *
 * Every row is written in key order, so groups running at once take shared locks (the event-id
 * index, a counter, a shopper's interest row) in the same order and never deadlock.
 */
export async function storeQuietEventGroup(db: Db, group: QuietGroupEvent[], now: Date): Promise<{ ok: false } | { ok: true; stored: boolean[] }> {
  const firstOfKey = new Map<string, number>();
  const input = group.map(({ event, step, view }, n) => {
    const key = event.clientEventId === null ? undefined : `${event.siteId} ${event.clientEventId}`;
    const first = key === undefined || !firstOfKey.has(key);
    if (key !== undefined && first) firstOfKey.set(key, n);
    return {
      n,
      site_id: event.siteId,
      source: event.source,
      type: event.type,
      visitor_id: event.visitorId,
      external_user_id: event.externalUserId,
      properties: event.properties,
      client_event_id: event.clientEventId,
      created_at: event.at.toISOString(),
      first_of_key: first,
      step: step?.step ?? null,
      bucket: step ? promptFunnelBucket(event.at).toISOString() : null,
      shard: step ? promptFunnelShard(step.visitorId) : null,
      product_id: view?.product.productId ?? null,
      shopper: view?.shopper ?? null,
      price: view?.product.price ?? null,
      name: view ? (view.product.name ?? view.product.productId) : null,
      url: view?.product.url ?? null,
      image: view?.product.image ?? null,
      currency: view?.product.currency ?? null,
    };
  });
  const result = await sql<{ ok: boolean; stored: Array<[string, string]> }>`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as x(
        n int, site_id uuid, source text, type text, visitor_id text, external_user_id text, properties jsonb,
        client_event_id text, created_at timestamptz, first_of_key boolean,
        step text, bucket timestamptz, shard smallint,
        product_id text, shopper text, price numeric, name text, url text, image text, currency text)
    ),
    views as (select * from input where product_id is not null),
    -- A view that would change its product (learnBrowserPrice would write): a browser-learned
    -- price other than the one seen, a pending price to confirm or clear, or a new product seen
    -- at two prices within the group.
    blocked as (
      select 1 from views v left join products p on p.site_id = v.site_id and p.product_id = v.product_id
      where (p.product_id is not null and p.price_source = 'browser' and (p.price is distinct from v.price or p.pending_price is not null))
         or (p.product_id is null and exists (
               select 1 from views w where w.site_id = v.site_id and w.product_id = v.product_id and w.price <> v.price))
      limit 1
    ),
    go as (select not exists (select 1 from blocked) as ok),
    inserted as (
      insert into events (site_id, source, type, visitor_id, external_user_id, properties, client_event_id, created_at)
      select site_id, source, type, visitor_id, external_user_id, properties, client_event_id, created_at
      from input where first_of_key and (select ok from go)
      order by site_id, client_event_id, n
      on conflict (site_id, client_event_id) where client_event_id is not null do nothing
      returning site_id, client_event_id
    ),
    fresh as (
      select i.* from input i
      where i.first_of_key and (select ok from go)
        and (i.client_event_id is null or exists (select 1 from inserted e where e.site_id = i.site_id and e.client_event_id = i.client_event_id))
    ),
    counted as (
      insert into prompt_funnel_buckets as b (site_id, bucket, step, shard, count)
      select site_id, bucket, step, shard, count(*) from fresh where step is not null
      group by site_id, bucket, step, shard order by site_id, bucket, step, shard
      on conflict (site_id, bucket, step, shard) do update set count = b.count + excluded.count
    ),
    introduced as (
      insert into products (site_id, product_id, name, url, image, price, currency, price_source, created_at, updated_at)
      select distinct on (site_id, product_id) site_id, product_id, name, url, image, price, currency, 'browser', ${now}::timestamptz, ${now}::timestamptz
      from fresh f where product_id is not null
        and not exists (select 1 from products p where p.site_id = f.site_id and p.product_id = f.product_id)
      order by site_id, product_id, n
      on conflict (site_id, product_id) do nothing
    ),
    seen as (
      insert into product_interest as i (site_id, product_id, shopper, price, via, seen_at)
      select distinct on (site_id, product_id, shopper) site_id, product_id, shopper, price, 'viewed', ${now}::timestamptz
      from fresh where product_id is not null
      order by site_id, product_id, shopper, n desc
      on conflict (site_id, product_id, shopper) do update set price = excluded.price, via = excluded.via, seen_at = excluded.seen_at
        -- A shopper viewing again at the price on record: no new row version unless the last
        -- is older than the resolution (a flash of repeat views would otherwise rewrite every row).
        where i.price <> excluded.price or i.via <> excluded.via or i.seen_at <= excluded.seen_at - ${INTEREST_SEEN_RESOLUTION_SECONDS} * interval '1 second'
    )
    select (select ok from go) as ok,
      coalesce((select json_agg(json_build_array(site_id, client_event_id)) from inserted where client_event_id is not null), '[]'::json) as stored`.execute(db);
  const row = result.rows[0]!;
  if (!row.ok) return { ok: false };
  const storedKeys = new Set(row.stored.map(([siteId, clientEventId]) => `${siteId} ${clientEventId}`));
  return {
    ok: true,
    stored: group.map(({ event }, n) => {
      if (event.clientEventId === null) return true;
      const key = `${event.siteId} ${event.clientEventId}`;
      return firstOfKey.get(key) === n && storedKeys.has(key);
    }),
  };
}
