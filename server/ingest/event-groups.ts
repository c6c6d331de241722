import type { Db } from '../db/database.ts';
import { storeQuietEventGroup } from '../db/event-groups.ts';
import { insertEvents, type NewEvent } from '../db/events.ts';
import { learnBrowserPrices, recordProductInterest, type BrowserView } from '../db/products.ts';
import { countPromptSteps, type PromptFunnelStep } from '../db/prompt-funnel.ts';
import type { SiteRow } from '../db/sites.ts';
import { fireProductTriggers } from '../triggers/price-drops.ts';

/**
 * An event from a shopper's browser that is written with others in one group (group-commit.ts):
 * one the route would otherwise store in a transaction of its own, with what it changes.
 * - `stored_only`: a shop's own type or checkout_started — the row is all there is;
 * - `prompt_step`: a step of the soft prompt's funnel, counted per period;
 * - `browser_view`: product_viewed, which teaches the catalogue a price and remembers who saw it.
 * Events that change carts or orders keep their own transaction (routes/events.ts).
 */
export interface GroupedEvent {
  site: SiteRow;
  event: NewEvent;
  effect: { kind: 'stored_only' } | { kind: 'prompt_step'; step: PromptFunnelStep; visitorId: string } | { kind: 'browser_view'; view: BrowserView };
}

export interface EventOutcome {
  /** false: the event id was stored before (a retry): nothing else was done. */
  isNew: boolean;
  /** Notifications queued by it (a price drop a view confirmed). */
  queued: string[];
}

/**
 * Writes a group of events in one transaction: one multi-row INSERT for the events (the event id
 * still decides what a retry is), one for the funnel's counters, and for the product views one read
 * of the products they name, a write only where a price changes, and one upsert of who saw what.
 * The outcome per event is what storing it alone would have given: the same retry answer, the same
 * price learned, and a price drop fired before the confirming view is remembered (as
 * applyCommerceEvent does: the drop is measured against what each shopper saw before).
 */
export async function writeEventGroup(db: Db, group: GroupedEvent[], options: { publicUrl: string }): Promise<EventOutcome[]> {
  // Usually no view changes a product: then the whole group is one statement.
  const now = new Date(Math.max(...group.map(({ event }) => event.at.getTime())));
  const quiet = await storeQuietEventGroup(
    db,
    group.map(({ event, effect }) => ({
      event,
      ...(effect.kind === 'prompt_step' ? { step: { step: effect.step, visitorId: effect.visitorId } } : {}),
      ...(effect.kind === 'browser_view' ? { view: effect.view } : {}),
    })),
    now,
  );
  if (quiet.ok) return quiet.stored.map((isNew) => ({ isNew, queued: [] }));
  return writeEventGroupLocking(db, group, options);
}

/** The group when some view changes a product: one transaction, the products it changes read FOR UPDATE. */
async function writeEventGroupLocking(db: Db, group: GroupedEvent[], options: { publicUrl: string }): Promise<EventOutcome[]> {
  return db.transaction().execute(async (trx) => {
    const stored = await insertEvents(trx, group.map((grouped) => grouped.event));
    const outcomes: EventOutcome[] = stored.map((isNew) => ({ isNew, queued: [] }));
    const fresh = group.map((grouped, index) => ({ ...grouped, index })).filter(({ index }) => stored[index]);

    await countPromptSteps(
      trx,
      fresh.flatMap(({ site, event, effect }) => (effect.kind === 'prompt_step' ? [{ siteId: site.id, step: effect.step, visitorId: effect.visitorId, at: event.at }] : [])),
    );

    const views = fresh.flatMap((grouped) => (grouped.effect.kind === 'browser_view' ? [{ ...grouped, view: grouped.effect.view }] : []));
    if (views.length === 0) return outcomes;
    const now = new Date(Math.max(...views.map(({ event }) => event.at.getTime())));
    const changes = await learnBrowserPrices(trx, views.map(({ view }) => view), now);
    let seen: Parameters<typeof recordProductInterest>[1] = [];
    for (const [position, { site, event, view, index }] of views.entries()) {
      const change = changes[position];
      if (change) {
        // Who saw the product before this view must be on record when the drop is measured.
        await recordProductInterest(trx, seen, now);
        seen = [];
        outcomes[index]!.queued.push(...(await fireProductTriggers(trx, site, [change], { now: event.at, publicUrl: options.publicUrl })));
      }
      seen.push({ siteId: site.id, productId: view.product.productId, shopper: view.shopper, price: view.product.price, via: 'viewed' });
    }
    await recordProductInterest(trx, seen, now);
    return outcomes;
  });
}
