import { sql } from 'kysely';
import type { Db, InteractionType } from './database.ts';

export interface ReportableDelivery {
  id: string;
  notification_id: string;
  report_token: string;
  site_id: string;
  allowed_origins: string[];
  actions: Array<{ action: string }> | null;
}

export async function findReportableDelivery(db: Db, deliveryId: string): Promise<ReportableDelivery | undefined> {
  const result = await sql<ReportableDelivery>`
    select d.id::text as id, d.notification_id, d.report_token, si.id as site_id, si.allowed_origins,
      n.content->'actions' as actions
    from deliveries d join notifications n on n.id = d.notification_id join sites si on si.id = n.site_id
    where d.id = ${deliveryId}::bigint`.execute(db);
  return result.rows[0];
}

/** Records one report; false when this delivery already reported this kind (a replay). */
export async function recordInteraction(
  db: Db,
  interaction: { deliveryId: string; notificationId: string; type: InteractionType; action: string | null; at: Date },
): Promise<boolean> {
  const row = await db
    .insertInto('interactions')
    .values({
      delivery_id: interaction.deliveryId,
      notification_id: interaction.notificationId,
      type: interaction.type,
      action: interaction.action,
      created_at: interaction.at,
    })
    .onConflict((oc) => oc.columns(['delivery_id', 'type']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function interactionCounts(db: Db, notificationId: string): Promise<Record<InteractionType, number>> {
  const rows = await db
    .selectFrom('interactions')
    .select(['type', (eb) => eb.fn.countAll<string>().as('count')])
    .where('notification_id', '=', notificationId)
    .groupBy('type')
    .execute();
  const counts: Record<InteractionType, number> = { shown: 0, clicked: 0, dismissed: 0 };
  for (const row of rows) counts[row.type] = Number(row.count);
  return counts;
}
