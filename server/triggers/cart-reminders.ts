import { advanceCartReminder, lockDueCarts, type CartRow } from '../db/carts.ts';
import type { Db } from '../db/database.ts';
import { findSiteById, type SiteRow } from '../db/sites.ts';
import { reportUrl } from '../notifications/payload.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { DAY_SECONDS, MINUTE_MS } from '../time.ts';
import { queueTriggerNotification, shopperSubscriptions } from './trigger-notification.ts';

/** A reminder that cannot go out within a day is stale: the shopper has moved on. */
const CART_REMINDER_TTL_SECONDS = DAY_SECONDS;

/**
 * Fires the cart reminder steps that are due: for each cart, in one transaction, the step is
 * marked fired and its notification queued — so each step fires exactly once across restarts and
 * any number of workers (carts are locked with SKIP LOCKED; the step number is the idempotency key).
 * The cart's state is read again at send time by the delivery worker: a purchase after this point
 * still stops the push. Returns how many due carts it handled and the notification ids queued
 * (fewer: most carts belong to shoppers who never subscribed).
 */
export async function fireDueCartReminders(db: Db, options: { now: Date; publicUrl: string; limit?: number }): Promise<{ carts: number; queued: string[] }> {
  return db.transaction().execute(async (trx) => {
    const carts = await lockDueCarts(trx, options.now, options.limit ?? 100);
    const sites = new Map<string, SiteRow | undefined>();
    const queued: string[] = [];
    for (const cart of carts) {
      if (!sites.has(cart.site_id)) sites.set(cart.site_id, await findSiteById(trx, cart.site_id));
      const site = sites.get(cart.site_id);
      const id = site ? await fireStep(trx, site, cart, options) : null;
      if (id) queued.push(id);
    }
    return { carts: carts.length, queued };
  });
}

async function fireStep(db: Db, site: SiteRow, cart: CartRow, options: { now: Date; publicUrl: string }): Promise<string | null> {
  const settings = readSiteSettings(site.settings);
  const { steps, enabled, holdoutPercent } = settings.cartReminders;
  const step = cart.reminders_sent + 1;
  const activeMs = new Date(cart.active_at).getTime();
  const stepSettings = steps[step - 1];
  if (!enabled || !stepSettings) {
    await advanceCartReminder(db, site.id, cart.cart_id, cart.reminders_sent, null);
    return null;
  }
  // The steps may have been changed since the cart was scheduled: go by today's settings.
  const dueMs = activeMs + stepSettings.delayMinutes * MINUTE_MS;
  if (dueMs > options.now.getTime()) {
    await advanceCartReminder(db, site.id, cart.cart_id, cart.reminders_sent, new Date(dueMs));
    return null;
  }
  const next = steps[step];
  await advanceCartReminder(db, site.id, cart.cart_id, step, next ? new Date(activeMs + next.delayMinutes * MINUTE_MS) : null);

  const items = cart.items.filter((item) => item.quantity > 0);
  const first = items[0];
  const { id, audience } = await queueTriggerNotification(db, {
    site,
    settings,
    source: 'cart_reminder',
    templateKey: step === 1 ? 'cart_reminder.1' : 'cart_reminder.2',
    context: (locale) => ({
      locale,
      currency: cart.currency,
      cart: { total: Number(cart.total), itemCount: cart.item_count },
      ...(first ? { item: { name: first.name, moreCount: items.length - 1 } } : {}),
      ...(stepSettings.discountCode ? { discount: { code: stepSettings.discountCode } } : {}),
    }),
    url: cart.url,
    image: first?.image ?? null,
    triggerKey: cart.cart_id,
    audience: { trigger: 'cart_reminder', cartId: cart.cart_id, step },
    where: shopperSubscriptions({ visitorId: cart.visitor_id, externalUserId: cart.external_user_id }),
    holdoutPercent,
    ttlSeconds: CART_REMINDER_TTL_SECONDS,
    now: options.now,
    reportUrl: reportUrl(options.publicUrl),
  });
  return audience > 0 ? id : null;
}
