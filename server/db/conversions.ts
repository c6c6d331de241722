import { sql } from 'kysely';
import type { Db } from './database.ts';
import { HOUR_MS } from '../time.ts';

export interface OrderEvent {
  siteId: string;
  orderId: string;
  value: number;
  currency: string;
  visitorId: string | null;
  externalUserId: string | null;
  source: 'browser' | 'server';
}

/**
 * Attributes an order to the notification the same shopper last clicked within the window before
 * it (last click wins), once per order however often the order is reported. Returns the
 * notification credited, or null when no click qualifies.
 */
export async function attributeOrder(db: Db, order: OrderEvent, now: Date, windowHours: number): Promise<string | null> {
  if (order.visitorId === null && order.externalUserId === null) return null;
  const windowStart = new Date(now.getTime() - windowHours * HOUR_MS);
  if (order.source === 'server') {
    // The backend knows whose order it is: a browser's earlier claim to this order id (anyone with
    // the publishable key can send one) gives way, and the attribution is made again below.
    await db.deleteFrom('conversions').where('site_id', '=', order.siteId).where('order_id', '=', order.orderId).where('source', '=', 'browser').execute();
  }
  const result = await sql<{ notification_id: string }>`
    insert into conversions (site_id, order_id, notification_id, delivery_id, value, currency, source, created_at)
    select ${order.siteId}, ${order.orderId}, d.notification_id, d.id, ${order.value}, ${order.currency}, ${order.source}, ${now}
    from interactions i
    join deliveries d on d.id = i.delivery_id
    join subscriptions s on s.id = d.subscription_id
    where s.site_id = ${order.siteId}
      and (s.visitor_id = ${order.visitorId} or s.external_user_id = ${order.externalUserId})
      and i.type = 'clicked' and i.created_at > ${windowStart} and i.created_at <= ${now}
    order by i.created_at desc
    limit 1
    on conflict (site_id, order_id) do nothing
    returning notification_id`.execute(db);
  return result.rows[0]?.notification_id ?? null;
}

export async function conversionTotals(db: Db, notificationId: string): Promise<{ converted: number; revenue: Record<string, number> }> {
  const rows = await db
    .selectFrom('conversions')
    .select(['currency', (eb) => eb.fn.countAll<string>().as('count'), (eb) => eb.fn.sum<string>('value').as('revenue')])
    .where('notification_id', '=', notificationId)
    .groupBy('currency')
    .execute();
  const revenue: Record<string, number> = {};
  let converted = 0;
  for (const row of rows) {
    converted += Number(row.count);
    revenue[row.currency] = Number(row.revenue);
  }
  return { converted, revenue };
}
