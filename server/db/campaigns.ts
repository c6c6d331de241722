import { sql, type Selectable } from 'kysely';
import type { CampaignsTable, CampaignStatus, Db, DeliveryStatus, InteractionType, NotificationsTable } from './database.ts';

export type CampaignRow = Selectable<CampaignsTable>;

export interface NewCampaign {
  siteId: string;
  name: string;
  definition: unknown;
  at: Date;
}

export async function insertCampaign(db: Db, campaign: NewCampaign): Promise<CampaignRow> {
  return db
    .insertInto('campaigns')
    .values({ site_id: campaign.siteId, name: campaign.name, definition: JSON.stringify(campaign.definition), created_at: campaign.at, updated_at: campaign.at })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findCampaign(db: Db, siteId: string, id: string): Promise<CampaignRow | undefined> {
  return db.selectFrom('campaigns').selectAll().where('site_id', '=', siteId).where('id', '=', id).executeTakeFirst();
}

/** The campaign's row, locked for the caller's transaction: one state change at a time (send, schedule, cancel, decide). */
export async function lockCampaign(db: Db, siteId: string, id: string): Promise<CampaignRow | undefined> {
  return db.selectFrom('campaigns').selectAll().where('site_id', '=', siteId).where('id', '=', id).forUpdate().executeTakeFirst();
}

/** A page of the site's campaigns, newest first; `before` is the created_at/id of the last one of the previous page. */
export async function listCampaigns(db: Db, siteId: string, page: { limit: number; before?: { createdAt: Date; id: string } }): Promise<CampaignRow[]> {
  return db
    .selectFrom('campaigns')
    .selectAll()
    .where('site_id', '=', siteId)
    .$if(page.before !== undefined, (qb) =>
      qb.where((eb) => eb.or([eb('created_at', '<', page.before!.createdAt), eb.and([eb('created_at', '=', page.before!.createdAt), eb('id', '<', page.before!.id)])])),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit)
    .execute();
}

export interface CampaignChange {
  name?: string;
  definition?: unknown;
  status?: CampaignStatus;
  start_at?: Date | null;
  started_at?: Date | null;
  ends_at?: Date | null;
  decide_at?: Date | null;
  decision?: unknown;
  sent_at?: Date | null;
  cancelled_at?: Date | null;
  failure?: string | null;
}

export async function updateCampaign(db: Db, id: string, change: CampaignChange, at: Date): Promise<CampaignRow> {
  const { definition, decision, ...columns } = change;
  return db
    .updateTable('campaigns')
    .set({
      ...columns,
      ...(definition !== undefined ? { definition: JSON.stringify(definition) } : {}),
      ...(decision !== undefined ? { decision: decision === null ? null : JSON.stringify(decision) } : {}),
      updated_at: at,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteDraftCampaign(db: Db, siteId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('campaigns').where('site_id', '=', siteId).where('id', '=', id).where('status', '=', 'draft').executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Scheduled campaigns whose start has come, locked (SKIP LOCKED: workers side by side take different ones). */
export async function claimDueCampaigns(db: Db, now: Date, limit: number): Promise<CampaignRow[]> {
  return db
    .selectFrom('campaigns')
    .selectAll()
    .where('status', '=', 'scheduled')
    .where('start_at', '<=', now)
    .orderBy('start_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Sending A/B tests whose decision time has come and that are not decided yet, locked. */
export async function claimDueDecisions(db: Db, now: Date, limit: number): Promise<CampaignRow[]> {
  return db
    .selectFrom('campaigns')
    .selectAll()
    .where('status', '=', 'sending')
    .where('decision', 'is', null)
    .where('decide_at', '<=', now)
    .orderBy('decide_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Campaigns still sending, for the round that marks the finished ones sent. */
export async function sendingCampaigns(db: Db, limit: number): Promise<CampaignRow[]> {
  return db.selectFrom('campaigns').selectAll().where('status', '=', 'sending').orderBy('started_at').limit(limit).execute();
}

/** One campaign send (a variant, the winner, or the whole campaign), as the figures read it. */
export interface CampaignNotification {
  id: string;
  variant: string | null;
  created_at: Date;
  resolve_state: string;
  cancelled_at: Date | null;
}

export async function campaignNotifications(db: Db, campaignId: string): Promise<CampaignNotification[]> {
  return db
    .selectFrom('notifications')
    .select(['id', 'variant', 'created_at', 'resolve_state', 'cancelled_at'])
    .where('campaign_id', '=', campaignId)
    .orderBy('created_at')
    .execute();
}

/** Whether any of the campaign's sends still has audience to write or deliveries waiting. */
export async function campaignHasWorkLeft(db: Db, campaignId: string): Promise<boolean> {
  const row = await db
    .selectFrom('notifications as n')
    .select('n.id')
    .where('n.campaign_id', '=', campaignId)
    .where('n.cancelled_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('n.resolve_state', '=', 'resolving'),
        eb.exists(eb.selectFrom('deliveries as d').select('d.id').whereRef('d.notification_id', '=', 'n.id').where('d.status', 'in', ['queued', 'sending'])),
      ]),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The campaigns not started yet (draft, scheduled) whose audience is the saved segment: they read
 * its rules when they start, so the segment may not be deleted under them.
 */
export async function campaignsWaitingOnSegment(db: Db, siteId: string, segmentId: string): Promise<Array<{ id: string; name: string; status: string }>> {
  return db
    .selectFrom('campaigns')
    .select(['id', 'name', 'status'])
    .where('site_id', '=', siteId)
    .where('status', 'in', ['draft', 'scheduled'])
    .where(sql<string>`definition->'audience'->>'segmentId'`, '=', segmentId)
    .orderBy('created_at')
    .execute();
}

/** What a campaign send's figures need of its notification: its progress columns. */
export type CampaignSendRow = Pick<
  Selectable<NotificationsTable>,
  'id' | 'site_id' | 'variant' | 'created_at' | 'resolve_state' | 'resolve_cursor' | 'scanned_count' | 'audience_size' | 'cancelled_at'
> & { campaign_id: string };

/** One campaign send (a variant, the winner, or the whole campaign) with its deliveries by status, interactions by type and conversions. */
export interface CampaignSendFigures {
  notification: CampaignSendRow;
  deliveries: Record<DeliveryStatus, number>;
  interactions: Record<InteractionType, number>;
  conversions: { converted: number; revenue: Record<string, number> };
}

/**
 * The figures of every send of the given campaigns, per campaign in the order they were sent, in
 * four queries whatever the number of campaigns (a page of the list, or one campaign): their
 * notifications, then deliveries grouped by notification and status (on
 * deliveries_notification_status_idx), interactions by notification and type
 * (interactions_notification_idx) and conversions by notification and currency
 * (conversions_notification_idx). Reading them per send cost four queries a send, one after the
 * other — hundreds for a page of A/B campaigns.
 */
export async function campaignSendFigures(db: Db, campaignIds: readonly string[]): Promise<Map<string, CampaignSendFigures[]>> {
  const byCampaign = new Map<string, CampaignSendFigures[]>(campaignIds.map((id) => [id, []]));
  if (campaignIds.length === 0) return byCampaign;
  const notifications = (await db
    .selectFrom('notifications')
    .select(['id', 'site_id', 'campaign_id', 'variant', 'created_at', 'resolve_state', 'resolve_cursor', 'scanned_count', 'audience_size', 'cancelled_at'])
    .where('campaign_id', 'in', [...campaignIds])
    // A/B variants are written in one transaction at one instant: the variant orders them.
    .orderBy('created_at')
    .orderBy('variant')
    .orderBy('id')
    .execute()) as CampaignSendRow[];
  if (notifications.length === 0) return byCampaign;
  const ids = notifications.map((n) => n.id);
  const [deliveryRows, interactionRows, conversionRows] = await Promise.all([
    db
      .selectFrom('deliveries')
      .select(['notification_id', 'status', (eb) => eb.fn.countAll<string>().as('count')])
      .where('notification_id', 'in', ids)
      .groupBy(['notification_id', 'status'])
      .execute(),
    db
      .selectFrom('interactions')
      .select(['notification_id', 'type', (eb) => eb.fn.countAll<string>().as('count')])
      .where('notification_id', 'in', ids)
      .groupBy(['notification_id', 'type'])
      .execute(),
    db
      .selectFrom('conversions')
      .select(['notification_id', 'currency', (eb) => eb.fn.countAll<string>().as('count'), (eb) => eb.fn.sum<string>('value').as('revenue')])
      .where('notification_id', 'in', ids)
      .groupBy(['notification_id', 'currency'])
      .execute(),
  ]);
  const figures = new Map<string, CampaignSendFigures>();
  for (const notification of notifications) {
    const send: CampaignSendFigures = {
      notification,
      deliveries: { queued: 0, sending: 0, sent: 0, failed: 0, expired: 0, suppressed: 0, held_out: 0 },
      interactions: { shown: 0, clicked: 0, dismissed: 0 },
      conversions: { converted: 0, revenue: {} },
    };
    figures.set(notification.id, send);
    byCampaign.get(notification.campaign_id)?.push(send);
  }
  for (const row of deliveryRows) figures.get(row.notification_id)!.deliveries[row.status] = Number(row.count);
  for (const row of interactionRows) figures.get(row.notification_id)!.interactions[row.type] = Number(row.count);
  for (const row of conversionRows) {
    const conversions = figures.get(row.notification_id)!.conversions;
    conversions.converted += Number(row.count);
    conversions.revenue[row.currency] = Number(row.revenue);
  }
  return byCampaign;
}

/** Whether a send still has audience to write or deliveries waiting (what campaignHasWorkLeft asks of the database). */
export function sendHasWorkLeft(send: CampaignSendFigures): boolean {
  if (send.notification.cancelled_at !== null) return false;
  return send.notification.resolve_state === 'resolving' || send.deliveries.queued + send.deliveries.sending > 0;
}

/** Of the given campaigns, those with work left (as campaignHasWorkLeft), in one query. */
export async function campaignsWithWorkLeft(db: Db, campaignIds: readonly string[]): Promise<Set<string>> {
  if (campaignIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('notifications as n')
    .select('n.campaign_id')
    .distinct()
    .where('n.campaign_id', 'in', [...campaignIds])
    .where('n.cancelled_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('n.resolve_state', '=', 'resolving'),
        eb.exists(eb.selectFrom('deliveries as d').select('d.id').whereRef('d.notification_id', '=', 'n.id').where('d.status', 'in', ['queued', 'sending'])),
      ]),
    )
    .execute();
  return new Set(rows.map((row) => row.campaign_id!));
}
