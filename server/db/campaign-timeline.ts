import { sql } from 'kysely';
import type { Db } from './database.ts';

/** One variant's figures in one period: pushes sent, clicks and attributed orders that happened in it. */
export interface TimelineRow {
  /** `A`…`D`, `winner`, or `all` for a campaign without a test. */
  variant: string;
  /** The period's start on the wall clock of the zone asked for, `YYYY-MM-DDTHH:00`. */
  period: string;
  sent: number;
  clicked: number;
  converted: number;
  /** Attributed order value in `currency`. */
  revenue: number;
}

/**
 * A campaign's figures per period of its sends, read from the rows themselves: deliveries by when
 * they were sent, clicks by when they were reported, conversions by when the order came. Each read
 * is one grouped pass over the campaign's own rows (by notification: deliveries_notification_status_idx,
 * and the interactions' and conversions' notification indexes); periods are cut on the wall clock of
 * `timeZone`, so a day is the shop's day and an hour in India starts at :30 UTC.
 */
export async function campaignTimelineRows(db: Db, campaignId: string, unit: 'hour' | 'day', timeZone: string, currency: string | null): Promise<TimelineRow[]> {
  const period = (column: string) => sql<string>`to_char(date_trunc(${unit}, ${sql.ref(column)} at time zone ${timeZone}), 'YYYY-MM-DD"T"HH24":00"')`;
  const [sent, clicked, converted] = await Promise.all([
    sql<{ variant: string; period: string; count: string }>`
      select coalesce(n.variant, 'all') as variant, ${period('d.sent_at')} as period, count(*) as count
      from notifications n join deliveries d on d.notification_id = n.id
      where n.campaign_id = ${campaignId} and d.status = 'sent' and d.sent_at is not null
      group by 1, 2`.execute(db),
    sql<{ variant: string; period: string; count: string }>`
      select coalesce(n.variant, 'all') as variant, ${period('i.created_at')} as period, count(*) as count
      from notifications n join interactions i on i.notification_id = n.id
      where n.campaign_id = ${campaignId} and i.type = 'clicked'
      group by 1, 2`.execute(db),
    sql<{ variant: string; period: string; count: string; revenue: string | null }>`
      select coalesce(n.variant, 'all') as variant, ${period('c.created_at')} as period, count(*) as count,
        sum(c.value) filter (where c.currency = ${currency ?? ''}) as revenue
      from notifications n join conversions c on c.notification_id = n.id
      where n.campaign_id = ${campaignId}
      group by 1, 2`.execute(db),
  ]);
  const rows = new Map<string, TimelineRow>();
  const rowOf = (variant: string, at: string) => {
    const key = `${variant} ${at}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { variant, period: at, sent: 0, clicked: 0, converted: 0, revenue: 0 }));
    return row;
  };
  for (const r of sent.rows) rowOf(r.variant, r.period).sent = Number(r.count);
  for (const r of clicked.rows) rowOf(r.variant, r.period).clicked = Number(r.count);
  for (const r of converted.rows) {
    const row = rowOf(r.variant, r.period);
    row.converted = Number(r.count);
    row.revenue = Number(r.revenue ?? 0);
  }
  return [...rows.values()];
}

/** The currency most of a campaign's attributed revenue is in (null when it has none). */
export async function campaignMainCurrency(db: Db, campaignId: string): Promise<string | null> {
  const row = await sql<{ currency: string }>`
    select c.currency from notifications n join conversions c on c.notification_id = n.id
    where n.campaign_id = ${campaignId}
    group by c.currency order by sum(c.value) desc, c.currency limit 1`.execute(db);
  return row.rows[0]?.currency ?? null;
}
