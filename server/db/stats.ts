import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface Funnel {
  notifications: number;
  audience: number;
  sent: number;
  heldOut: number;
  suppressed: number;
  failed: number;
  shown: number;
  clicked: number;
  converted: number;
  /** Attributed order value per currency (orders are never converted between currencies). */
  revenue: Record<string, number>;
}

export interface HoldoutComparison {
  /**
   * The subscribers a trigger was meant for (`sent`: every delivery not held out, whether it then
   * went, was capped or failed — comparing by assignment keeps the groups alike) and those held
   * out, and how many ordered within the attribution window after the push was queued.
   */
  sent: { subscribers: number; ordered: number; orderRate: number | null };
  heldOut: { subscribers: number; ordered: number; orderRate: number | null };
  /** (sent order rate − held-out order rate) / held-out order rate; null until both groups have data. */
  lift: number | null;
}

interface FunnelRow {
  key: string;
  title: string | null;
  created_at: Date | null;
  notifications: string;
  audience: string;
  sent: string;
  held_out: string;
  suppressed: string;
  failed: string;
  shown: string;
  clicked: string;
}

/**
 * Funnels for the notifications a site queued in [from, to): per trigger (the notification's
 * source: api, cart_reminder, price_drop, back_in_stock) and per notification (newest first, at
 * most `limit`). Every figure is counted from stored rows, so they add up: audience = sent +
 * held out + suppressed + failed + expired + still queued.
 */
export async function siteFunnels(db: Db, siteId: string, from: Date, to: Date, limit: number) {
  const byTrigger = await funnelRows(db, siteId, from, to, sql`n.source`, sql`null::text`, sql`null::timestamptz`, null);
  const byNotification = await funnelRows(db, siteId, from, to, sql`n.id::text`, sql`min(n.content->>'title')`, sql`min(n.created_at)`, limit);
  const conversions = await sql<{ key: string; source: string; currency: string; count: string; revenue: string }>`
    select n.id::text as key, n.source, c.currency, count(*) as count, sum(c.value) as revenue
    from conversions c join notifications n on n.id = c.notification_id
    where n.site_id = ${siteId} and n.created_at >= ${from} and n.created_at < ${to}
    group by n.id, n.source, c.currency`.execute(db);
  const addConversions = (funnel: Funnel, count: number, currency: string, revenue: number) => {
    funnel.converted += count;
    funnel.revenue[currency] = Math.round(((funnel.revenue[currency] ?? 0) + revenue) * 100) / 100;
  };
  const triggers = new Map(byTrigger.map((row) => [row.key, toFunnel(row)]));
  const notifications = new Map(byNotification.map((row) => [row.key, { id: row.key, title: row.title, createdAt: row.created_at, ...toFunnel(row) }]));
  for (const row of conversions.rows) {
    const trigger = triggers.get(row.source);
    if (trigger) addConversions(trigger, Number(row.count), row.currency, Number(row.revenue));
    const notification = notifications.get(row.key);
    if (notification) addConversions(notification, Number(row.count), row.currency, Number(row.revenue));
  }
  return { triggers, notifications: [...notifications.values()] };
}

async function funnelRows(db: Db, siteId: string, from: Date, to: Date, key: ReturnType<typeof sql>, title: ReturnType<typeof sql>, createdAt: ReturnType<typeof sql>, limit: number | null) {
  const result = await sql<FunnelRow>`
    select ${key} as key, ${title} as title, ${createdAt} as created_at,
      count(distinct n.id) as notifications,
      count(d.id) as audience,
      count(d.id) filter (where d.status = 'sent') as sent,
      count(d.id) filter (where d.status = 'held_out') as held_out,
      count(d.id) filter (where d.status = 'suppressed') as suppressed,
      count(d.id) filter (where d.status = 'failed') as failed,
      count(d.id) filter (where exists (select 1 from interactions i where i.delivery_id = d.id and i.type = 'shown')) as shown,
      count(d.id) filter (where exists (select 1 from interactions i where i.delivery_id = d.id and i.type = 'clicked')) as clicked
    from notifications n left join deliveries d on d.notification_id = n.id
    where n.site_id = ${siteId} and n.created_at >= ${from} and n.created_at < ${to}
    group by 1
    ${limit === null ? sql`` : sql`order by min(n.created_at) desc limit ${limit}`}`.execute(db);
  return result.rows;
}

function toFunnel(row: FunnelRow): Funnel {
  return {
    notifications: Number(row.notifications),
    audience: Number(row.audience),
    sent: Number(row.sent),
    heldOut: Number(row.held_out),
    suppressed: Number(row.suppressed),
    failed: Number(row.failed),
    shown: Number(row.shown),
    clicked: Number(row.clicked),
    converted: 0,
    revenue: {},
  };
}

/**
 * Lift per trigger: of the subscribers a trigger sent to and those it held out, how many ordered
 * (any order_completed from the same shopper) within the attribution window after the push was
 * queued. Clicks are not required here — a held-out shopper cannot click — so both groups are
 * measured the same way.
 */
export async function holdoutComparisons(db: Db, siteId: string, from: Date, to: Date, windowHours: number): Promise<Map<string, HoldoutComparison>> {
  const result = await sql<{ source: string; held_out: boolean; subscribers: string; ordered: string }>`
    select n.source, d.status = 'held_out' as held_out, count(*) as subscribers,
      count(*) filter (where exists (
        select 1 from events e
        where e.site_id = n.site_id and e.type = 'order_completed'
          and (e.visitor_id = s.visitor_id or e.external_user_id = s.external_user_id)
          and e.created_at > d.created_at and e.created_at <= d.created_at + ${windowHours} * interval '1 hour')) as ordered
    from notifications n
    join deliveries d on d.notification_id = n.id
    join subscriptions s on s.id = d.subscription_id
    where n.site_id = ${siteId} and n.created_at >= ${from} and n.created_at < ${to}
    group by n.source, d.status = 'held_out'`.execute(db);
  const comparisons = new Map<string, HoldoutComparison>();
  for (const row of result.rows) {
    const comparison = comparisons.get(row.source) ?? { sent: group(0, 0), heldOut: group(0, 0), lift: null };
    comparison[row.held_out ? 'heldOut' : 'sent'] = group(Number(row.subscribers), Number(row.ordered));
    comparisons.set(row.source, comparison);
  }
  for (const comparison of comparisons.values()) {
    const { sent, heldOut } = comparison;
    comparison.lift =
      sent.orderRate !== null && heldOut.orderRate !== null && heldOut.orderRate > 0 ? Math.round(((sent.orderRate - heldOut.orderRate) / heldOut.orderRate) * 1000) / 1000 : null;
  }
  return comparisons;
}

function group(subscribers: number, ordered: number) {
  return { subscribers, ordered, orderRate: subscribers > 0 ? Math.round((ordered / subscribers) * 10_000) / 10_000 : null };
}
