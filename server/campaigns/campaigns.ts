import {
  campaignNotifications,
  claimDueCampaigns,
  claimDueDecisions,
  findCampaign,
  insertCampaign,
  lockCampaign,
  sendingCampaigns,
  updateCampaign,
  campaignHasWorkLeft,
  campaignSendFigures,
  campaignsWithWorkLeft,
  type CampaignChange,
  type CampaignRow,
} from '../db/campaigns.ts';
import type { Db, LocalizedContent, NotificationContent } from '../db/database.ts';
import { cancelNotification, countAudience, SPLIT_BUCKETS, type AudienceSplit, type StoredAudience } from '../db/notifications.ts';
import { findSiteById, isUuid, type SiteRow } from '../db/sites.ts';
import { localTimeInstant } from '../delivery/time-zones.ts';
import { ApiError } from '../errors.ts';
import { send, withSegmentRules, type SendResult } from '../notifications/send.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { HOUR_MS } from '../time.ts';
import { decideAbTest, type AbDecision, type VariantOutcome } from './ab-statistics.ts';
import { campaignInputSchema, VARIANT_NAMES, type CampaignInput, type CampaignPatch, type VariantName } from './campaign-input.ts';

/**
 * Campaigns: the shop's own sends, as a state machine over the one `send` function.
 *
 *   draft ──schedule──▶ scheduled ──(start_at, background)──▶ sending ──(all gone)──▶ sent
 *     └──────────send now──────────────────────────────────────▲
 *   draft/scheduled/sending ──cancel──▶ cancelled
 *
 * Each send a campaign makes is an ordinary notification naming the campaign and variant: one for
 * a plain campaign, one per A/B variant over disjoint buckets of the audience (AudienceSplit), and
 * one for the winner over the remaining buckets once decided. A campaign's row is locked for every
 * change of state, so "send" twice, or "send" racing the scheduler, starts it once.
 */

export interface CampaignDeps {
  db: Db;
  now: Date;
  /** Where service workers report interactions: counts toward the payload size. */
  reportUrl: string;
  /** Subscriptions the request itself walks of each send's audience (tests make it small). */
  firstChunk?: number;
}

/** The earliest and latest UTC offsets in use (Kiribati's Line Islands, +14; Baker Island, −12): a wave spans these. */
const EARLIEST_ZONE = 'Etc/GMT-14';
const LATEST_ZONE = 'Etc/GMT+12';

/** How many scheduled campaigns, decisions and finished sends a background round handles at most. */
const CAMPAIGNS_PER_ROUND = 10;

/** The send may go ahead when today's audience is at most this much above the count the owner confirmed. */
const CONFIRMATION_SLACK = 1.1;

export function readDefinition(row: CampaignRow): CampaignInput {
  return campaignInputSchema.parse(row.definition);
}

export async function createCampaign(deps: CampaignDeps, site: SiteRow, input: CampaignInput): Promise<CampaignRow> {
  checkTimes(input, deps.now);
  return insertCampaign(deps.db, { siteId: site.id, name: input.name, definition: input, at: deps.now });
}

/** The campaign, or a 404 in the one error shape. */
export async function campaignOf(db: Db, siteId: string, id: string): Promise<CampaignRow> {
  const row = isUuid(id) ? await findCampaign(db, siteId, id) : undefined;
  if (!row) throw new ApiError('not_found', `No campaign ${id} for this site`);
  return row;
}

async function locked(trx: Db, siteId: string, id: string): Promise<CampaignRow> {
  const row = isUuid(id) ? await lockCampaign(trx, siteId, id) : undefined;
  if (!row) throw new ApiError('not_found', `No campaign ${id} for this site`);
  return row;
}

function stateConflict(row: CampaignRow, wanted: string): ApiError {
  return new ApiError('invalid_state', `The campaign is ${row.status}: it cannot ${wanted}`, { details: { status: row.status } });
}

/** Changes a draft or a scheduled campaign; a scheduled one is rescheduled by the new definition (or back to draft without a schedule). */
export async function editCampaign(deps: CampaignDeps, site: SiteRow, id: string, patch: CampaignPatch): Promise<CampaignRow> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await locked(trx, site.id, id);
    if (row.status !== 'draft' && row.status !== 'scheduled') throw stateConflict(row, 'be changed');
    const current = readDefinition(row);
    const merged: Record<string, unknown> = { ...current };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete merged[field];
      else if (value !== undefined) merged[field] = value;
    }
    const parsed = campaignInputSchema.safeParse(merged);
    if (!parsed.success) throw new ApiError('validation_failed', parsed.error.issues[0]?.message ?? 'invalid campaign');
    const definition = parsed.data;
    checkTimes(definition, deps.now);
    const change: CampaignChange = { name: definition.name, definition };
    if (row.status === 'scheduled') {
      if (!definition.schedule) Object.assign(change, { status: 'draft', start_at: null });
      else Object.assign(change, { start_at: startOf(definition), ends_at: definition.endsAt ? new Date(definition.endsAt) : null });
    }
    return updateCampaign(trx, row.id, change, deps.now);
  });
}

/** Refuses times that cannot work: an end before the start, a decision after the end. */
function checkTimes(definition: CampaignInput, now: Date): void {
  const endsAt = definition.endsAt ? new Date(definition.endsAt) : null;
  if (endsAt && endsAt.getTime() <= now.getTime()) throw new ApiError('validation_failed', 'endsAt: must be in the future');
  if (endsAt && definition.schedule && 'at' in definition.schedule && new Date(definition.schedule.at) >= endsAt) {
    throw new ApiError('validation_failed', 'endsAt: must be after the scheduled time');
  }
  const decideAt = definition.abTest?.decideAt;
  if (decideAt && endsAt && new Date(decideAt) >= endsAt) throw new ApiError('validation_failed', 'abTest.decideAt: must be before endsAt');
  checkBestHour(definition);
}

/**
 * Best hour and a local-time wave both choose each shopper's hour: asking for both is refused, not
 * one silently ignored. Nor does an urgent push wait (as for the send API).
 */
function checkBestHour(definition: CampaignInput): void {
  if (!definition.sendAtBestHour) return;
  if (definition.schedule && 'localTime' in definition.schedule) {
    throw new ApiError('validation_failed', 'sendAtBestHour: a local-time schedule already sets the hour in each zone; use one or the other', {
      details: [{ path: 'sendAtBestHour', message: 'not with schedule.localTime' }],
    });
  }
  if (definition.urgency === 'high') {
    throw new ApiError('validation_failed', 'sendAtBestHour cannot wait with urgency "high"', { details: [{ path: 'sendAtBestHour', message: 'not with urgency high' }] });
  }
}

/** When a scheduled campaign starts: its instant, or for a local-time wave the moment the earliest zone's clock reads its time. */
function startOf(definition: CampaignInput): Date | null {
  const schedule = definition.schedule;
  if (!schedule) return null;
  if ('at' in schedule) return new Date(schedule.at);
  return localTimeInstant(schedule.localTime, EARLIEST_ZONE);
}

/** When the last zone's clock reads a wave's time. */
export function lastWaveInstant(localTime: string): Date {
  return localTimeInstant(localTime, LATEST_ZONE);
}

function fallbackZone(definition: CampaignInput, site: SiteRow): string {
  const schedule = definition.schedule;
  if (schedule && 'localTime' in schedule && schedule.fallbackTimeZone) return schedule.fallbackTimeZone;
  return readSiteSettings(site.settings).engagement.defaultTimeZone;
}

/** The audience as a send stores it: a campaign's selectors with its local-time wave. */
function storedAudience(definition: CampaignInput, site: SiteRow): StoredAudience {
  const schedule = definition.schedule;
  return {
    ...definition.audience,
    ...(schedule && 'localTime' in schedule ? { localTime: { localTime: schedule.localTime, fallbackTimeZone: fallbackZone(definition, site) } } : {}),
  };
}

/** How many would get the campaign now (the A/B test's share and the winner together: everyone in the audience). */
export async function campaignAudienceCount(db: Db, site: SiteRow, definition: CampaignInput, at: Date): Promise<number> {
  return countAudience(db, site.id, await withSegmentRules(db, site.id, definition.audience), at);
}

/**
 * A campaign to more subscribers than the site's `campaigns.confirmAbove` needs the count the
 * owner was shown: without it, or when the audience grew more than 10 % past it, a 409 names the
 * count to confirm.
 */
async function checkConfirmation(db: Db, site: SiteRow, definition: CampaignInput, at: Date, confirmAudience: number | undefined): Promise<number> {
  const audience = await campaignAudienceCount(db, site, definition, at);
  const threshold = readSiteSettings(site.settings).campaigns.confirmAbove;
  if (audience > threshold && (confirmAudience === undefined || audience > Math.ceil(confirmAudience * CONFIRMATION_SLACK))) {
    throw new ApiError(
      'confirmation_required',
      `This campaign goes to ${audience.toLocaleString('en-US')} subscribers (more than ${threshold.toLocaleString('en-US')}): confirm by sending again with "confirmAudience": ${audience}`,
      { details: { audience, confirmAbove: threshold } },
    );
  }
  return audience;
}

export interface StateChange {
  campaign: CampaignRow;
  /** False when the campaign was already in that state: nothing was done again. */
  changed: boolean;
  /** Notifications queued by this call (the caller wakes the delivery workers). */
  queued: SendResult[];
}

/**
 * Schedules a draft (or reschedules a scheduled campaign) by its definition's schedule. Repeating
 * it answers the campaign as it is. A time already past is refused: "send now" says that.
 */
export async function scheduleCampaign(deps: CampaignDeps, site: SiteRow, id: string, confirmAudience?: number): Promise<StateChange> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await locked(trx, site.id, id);
    if (row.status === 'sending' || row.status === 'sent') return { campaign: row, changed: false, queued: [] };
    if (row.status === 'cancelled') throw stateConflict(row, 'be scheduled');
    const definition = readDefinition(row);
    if (!definition.schedule) throw new ApiError('validation_failed', 'schedule: give the campaign a schedule ({"at": …} or {"localTime": …}) first, or send it now');
    const startAt = startOf(definition)!;
    const lastAt = 'localTime' in definition.schedule ? lastWaveInstant(definition.schedule.localTime) : startAt;
    if (lastAt.getTime() <= deps.now.getTime()) throw new ApiError('validation_failed', 'schedule: that time has passed everywhere; choose a later time or send now');
    checkTimes(definition, deps.now);
    await checkConfirmation(trx, site, definition, deps.now, confirmAudience);
    if (row.status === 'scheduled' && row.start_at && new Date(row.start_at).getTime() === startAt.getTime()) return { campaign: row, changed: false, queued: [] };
    const campaign = await updateCampaign(trx, row.id, { status: 'scheduled', start_at: startAt, ends_at: definition.endsAt ? new Date(definition.endsAt) : null }, deps.now);
    return { campaign, changed: true, queued: [] };
  });
}

/**
 * Creates a campaign already scheduled by its schedule, in the caller's transaction (`deps.db`):
 * for what the service itself schedules (an occasion), with no owner to confirm a count.
 */
export async function createScheduledCampaign(deps: CampaignDeps, site: SiteRow, input: CampaignInput): Promise<CampaignRow> {
  checkTimes(input, deps.now);
  const row = await insertCampaign(deps.db, { siteId: site.id, name: input.name, definition: input, at: deps.now });
  return updateCampaign(deps.db, row.id, { status: 'scheduled', start_at: startOf(input), ends_at: input.endsAt ? new Date(input.endsAt) : null }, deps.now);
}

/** Sends a draft or a scheduled campaign now. Repeating it (or sending one that is already going) answers the campaign as it is, and sends nothing again. */
export async function sendCampaignNow(deps: CampaignDeps, site: SiteRow, id: string, confirmAudience?: number): Promise<StateChange> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await locked(trx, site.id, id);
    if (row.status === 'sending' || row.status === 'sent') return { campaign: row, changed: false, queued: [] };
    if (row.status === 'cancelled') throw stateConflict(row, 'be sent');
    const definition = readDefinition(row);
    checkTimes(definition, deps.now);
    await checkConfirmation(trx, site, definition, deps.now, confirmAudience);
    return startCampaign({ ...deps, db: trx }, site, row, definition);
  });
}

/**
 * Starts a campaign inside the caller's transaction (its row locked): one send, or one per A/B
 * variant over its share of the buckets, with the decision time set.
 */
async function startCampaign(deps: CampaignDeps, site: SiteRow, row: CampaignRow, definition: CampaignInput): Promise<StateChange> {
  // A saved segment's rules as they are now, for every variant alike (and, read back from the
  // variants' notifications, for the winner), however the segment is edited meanwhile.
  const audience = await withSegmentRules(deps.db, site.id, storedAudience(definition, site));
  const endsAt = definition.endsAt ? new Date(definition.endsAt) : null;
  const queued: SendResult[] = [];
  let decideAt: Date | null = null;
  const test = definition.abTest;
  if (!test) {
    queued.push(await sendVariant(deps, site, row, definition, null, audience, undefined, endsAt));
  } else {
    const testBuckets = testShareBuckets(test.testPercent);
    for (const [index, name] of test.variants.map((_, i) => [i, VARIANT_NAMES[i]!] as const)) {
      const split = variantSplit(row.id, testBuckets, test.variants.length, index);
      queued.push(await sendVariant(deps, site, row, definition, name, audience, split, endsAt));
    }
    // Everyone in the test: there is no rest to send a winner to.
    if (testBuckets < SPLIT_BUCKETS) {
      decideAt = test.decideAt ? new Date(test.decideAt) : new Date(deps.now.getTime() + (test.decideAfterHours ?? 4) * HOUR_MS);
    }
  }
  const campaign = await updateCampaign(
    deps.db,
    row.id,
    { status: 'sending', started_at: deps.now, start_at: row.start_at ?? deps.now, ends_at: endsAt, decide_at: decideAt },
    deps.now,
  );
  return { campaign, changed: true, queued };
}

/** Buckets (of 65,536) in the A/B test. */
function testShareBuckets(testPercent: number): number {
  return Math.round((testPercent / 100) * SPLIT_BUCKETS);
}

/** Variant `index` of `count` gets an equal slice of the test's buckets; the seed is the campaign, so assignment is fixed per subscriber. */
export function variantSplit(campaignId: string, testBuckets: number, count: number, index: number): AudienceSplit {
  return { seed: campaignId, from: Math.floor((index * testBuckets) / count), to: Math.floor(((index + 1) * testBuckets) / count) };
}

/** The content of a variant: the campaign's content with the variant's changes. */
export function variantContent(definition: CampaignInput, variant: VariantName | null): { content: Omit<NotificationContent, 'tag'>; localized: Record<string, LocalizedContent> | undefined } {
  const base = definition.content;
  const index = variant === null ? -1 : VARIANT_NAMES.indexOf(variant);
  const change = index >= 0 ? definition.abTest?.variants[index] : undefined;
  if (!change) return { content: base, localized: definition.localized };
  const { name: _name, localized, ...overrides } = change;
  const content = { ...base, ...Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) } as Omit<NotificationContent, 'tag'>;
  const changesText = change.title !== undefined || change.body !== undefined || change.actions !== undefined;
  // A variant that rewrites the text and gives no translations goes in its own words to every
  // locale: the campaign's translations are of the other text.
  return { content, localized: localized ?? (changesText ? undefined : definition.localized) };
}

async function sendVariant(
  deps: CampaignDeps,
  site: SiteRow,
  row: CampaignRow,
  definition: CampaignInput,
  variant: VariantName | 'winner' | null,
  audience: StoredAudience,
  split: AudienceSplit | undefined,
  endsAt: Date | null,
  winner?: VariantName,
): Promise<SendResult> {
  const { content, localized } = variantContent(definition, variant === 'winner' ? winner! : variant);
  const { localTime, ...selectors } = audience;
  return send(
    { db: deps.db, now: deps.now, reportUrl: deps.reportUrl, ...(deps.firstChunk ? { firstChunk: deps.firstChunk } : {}) },
    {
      site,
      source: 'campaign',
      kind: 'marketing',
      content,
      ...(localized ? { localized } : {}),
      to: { by: 'selectors', selectors },
      ttlSeconds: definition.ttl,
      urgency: definition.urgency,
      topic: definition.topic ?? null,
      whenTooLarge: 'refuse',
      ...(definition.sendAtBestHour ? { bestHour: true } : {}),
      campaign: { id: row.id, variant, endsAt, ...(split ? { split } : {}), ...(localTime && variant !== 'winner' ? { localTime } : {}) },
    },
  );
}

/** Cancels what has not gone yet: no more audience is written, and every waiting delivery is suppressed when it comes up. */
export async function cancelCampaign(deps: CampaignDeps, site: SiteRow, id: string): Promise<StateChange> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await locked(trx, site.id, id);
    if (row.status === 'cancelled') return { campaign: row, changed: false, queued: [] };
    if (row.status === 'sent') throw stateConflict(row, 'be cancelled: everything has gone');
    for (const notification of await campaignNotifications(trx, row.id)) {
      await cancelNotification(trx, site.id, notification.id, deps.now);
    }
    const campaign = await updateCampaign(trx, row.id, { status: 'cancelled', cancelled_at: deps.now }, deps.now);
    return { campaign, changed: true, queued: [] };
  });
}

/** A test push of a variant's text to chosen subscriptions (e.g. the owner's own browsers): transactional, so no cap or quiet hours hold it, and in none of the campaign's figures. */
export async function testCampaign(deps: CampaignDeps, site: SiteRow, id: string, to: { subscriptionIds: string[]; variant?: VariantName | undefined }): Promise<SendResult> {
  const row = await campaignOf(deps.db, site.id, id);
  const definition = readDefinition(row);
  if (to.variant && (!definition.abTest || VARIANT_NAMES.indexOf(to.variant) >= definition.abTest.variants.length)) {
    throw new ApiError('validation_failed', `variant: the campaign has no variant ${to.variant}`);
  }
  const { content, localized } = variantContent(definition, to.variant ?? null);
  return send(
    { db: deps.db, now: deps.now, reportUrl: deps.reportUrl },
    {
      site,
      source: 'campaign_test',
      kind: 'transactional',
      content,
      ...(localized ? { localized } : {}),
      to: { by: 'selectors', selectors: { subscriptionIds: to.subscriptionIds } },
      ttlSeconds: definition.ttl,
      urgency: 'high',
      topic: null,
      whenTooLarge: 'refuse',
    },
  );
}

/** What an A/B test's decision recorded. */
export interface CampaignDecision {
  winner: VariantName | null;
  /** `significant`: the leader won at the stated level; `fallback_leader` / `fallback_variant_a`: it did not, and the owner's fallback chose; `waiting_for_pick`: the owner picks; `picked`: the owner picked; `ended`: the campaign ended first. */
  reason: 'significant' | 'fallback_leader' | 'fallback_variant_a' | 'waiting_for_pick' | 'picked' | 'ended';
  decidedAt: string;
  metric: 'clicks' | 'conversions';
  confidence: number;
  significant: boolean;
  pValue: number | null;
  summary: string;
  results: AbDecision['results'];
}

/** The A/B test's figures so far: per variant, deliveries sent and clicks or conversions (one grouped read of the campaign's sends). */
export async function abOutcomes(db: Db, campaignId: string, metric: 'clicks' | 'conversions'): Promise<VariantOutcome[]> {
  const outcomes: VariantOutcome[] = [];
  for (const { notification, deliveries, interactions, conversions } of (await campaignSendFigures(db, [campaignId])).get(campaignId) ?? []) {
    if (notification.variant === null || notification.variant === 'winner') continue;
    const successes = metric === 'clicks' ? interactions.clicked : conversions.converted;
    outcomes.push({ variant: notification.variant, delivered: deliveries.sent, successes: Math.min(successes, deliveries.sent) });
  }
  return outcomes;
}

/** Decides a due A/B test (its row locked): the winner goes to the rest, unless it is not significant and the owner's fallback says to wait. */
async function decideCampaign(deps: CampaignDeps, site: SiteRow, row: CampaignRow): Promise<StateChange> {
  const definition = readDefinition(row);
  const test = definition.abTest!;
  const decision = decideAbTest(await abOutcomes(deps.db, row.id, test.metric), test.metric, test.confidence);
  const ended = row.ends_at !== null && new Date(row.ends_at).getTime() <= deps.now.getTime();
  let winner: VariantName | null;
  let reason: CampaignDecision['reason'];
  if (ended) [winner, reason] = [null, 'ended'];
  else if (decision.significant) [winner, reason] = [decision.leader as VariantName, 'significant'];
  else if (test.fallback === 'leader') [winner, reason] = [(decision.leader ?? 'A') as VariantName, 'fallback_leader'];
  else if (test.fallback === 'variant_a') [winner, reason] = ['A', 'fallback_variant_a'];
  else [winner, reason] = [null, 'waiting_for_pick'];
  const record: CampaignDecision = {
    winner,
    reason,
    decidedAt: deps.now.toISOString(),
    metric: test.metric,
    confidence: test.confidence,
    significant: decision.significant,
    pValue: decision.pValue,
    summary: decision.summary,
    results: decision.results,
  };
  return sendWinner(deps, site, row, definition, record);
}

async function sendWinner(deps: CampaignDeps, site: SiteRow, row: CampaignRow, definition: CampaignInput, decision: CampaignDecision): Promise<StateChange> {
  const queued: SendResult[] = [];
  if (decision.winner !== null) {
    const test = definition.abTest!;
    const split: AudienceSplit = { seed: row.id, from: testShareBuckets(test.testPercent), to: SPLIT_BUCKETS };
    const endsAt = row.ends_at ? new Date(row.ends_at) : null;
    queued.push(await sendVariant(deps, site, row, definition, 'winner', await testedAudience(deps.db, row.id), split, endsAt, decision.winner));
  }
  const campaign = await updateCampaign(deps.db, row.id, { decision }, deps.now);
  return { campaign, changed: true, queued };
}

/** The audience the test's variants were sent to (a segment's rules as they were then), without their split and wave. */
async function testedAudience(db: Db, campaignId: string): Promise<StoredAudience> {
  const first = await db.selectFrom('notifications').select('audience').where('campaign_id', '=', campaignId).where('variant', '=', 'A').executeTakeFirstOrThrow();
  const { split: _split, localTime: _wave, ...selectors } = first.audience as StoredAudience;
  return selectors;
}

/** The owner's pick of a winner, when the test was not significant and the fallback is to wait (or before the decision time, to end the test early). */
export async function pickWinner(deps: CampaignDeps, site: SiteRow, id: string, variant: VariantName): Promise<StateChange> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await locked(trx, site.id, id);
    const definition = readDefinition(row);
    const test = definition.abTest;
    if (!test || testShareBuckets(test.testPercent) >= SPLIT_BUCKETS) throw new ApiError('validation_failed', 'The campaign has no A/B test with a rest to send a winner to');
    if (VARIANT_NAMES.indexOf(variant) >= test.variants.length) throw new ApiError('validation_failed', `variant: the campaign has no variant ${variant}`);
    const current = row.decision as CampaignDecision | null;
    if (row.status !== 'sending' || (current !== null && current.reason !== 'waiting_for_pick')) throw stateConflict(row, 'take a winner now');
    const decision = decideAbTest(await abOutcomes(trx, row.id, test.metric), test.metric, test.confidence);
    return sendWinner({ ...deps, db: trx }, site, row, definition, {
      winner: variant,
      reason: 'picked',
      decidedAt: deps.now.toISOString(),
      metric: test.metric,
      confidence: test.confidence,
      significant: decision.significant,
      pValue: decision.pValue,
      summary: decision.summary,
      results: decision.results,
    });
  });
}

/** Whether the campaign has nothing left to do: every send written and gone, and no decision pending. */
export async function campaignFinished(db: Db, row: CampaignRow): Promise<boolean> {
  // Asks the database only when the row itself does not already answer no.
  return finishedWith(row, false) && !(await campaignHasWorkLeft(db, row.id));
}

/** campaignFinished, given whether its sends have work left (read for many campaigns at once by the caller). */
export function finishedWith(row: CampaignRow, workLeft: boolean): boolean {
  if (row.status !== 'sending') return false;
  const decision = row.decision as CampaignDecision | null;
  if (row.decide_at !== null && (decision === null || decision.reason === 'waiting_for_pick')) return false;
  return !workLeft;
}

export interface CampaignWork {
  started: number;
  decided: number;
  finished: number;
  /** Notifications queued: the delivery lanes take them in the same round. */
  queued: number;
  moreDue: boolean;
}

/**
 * The campaigns' part of a background round (background-round.ts): starts scheduled campaigns
 * whose time has come, decides A/B tests whose decision time has come, and marks finished ones
 * sent. Each campaign in its own transaction with its row locked (SKIP LOCKED), so workers side by
 * side take different ones and a crash leaves it to the next round.
 */
export async function runCampaignWork(deps: Omit<CampaignDeps, 'now'> & { now: () => number }): Promise<CampaignWork> {
  const work: CampaignWork = { started: 0, decided: 0, finished: 0, queued: 0, moreDue: false };
  const at = () => new Date(deps.now());
  for (let n = 0; n < CAMPAIGNS_PER_ROUND; n++) {
    const outcome = await oneCampaign(deps, at, claimDueCampaigns, (campaignDeps, site, row) => startCampaign(campaignDeps, site, row, readDefinition(row)));
    if (outcome === undefined) break;
    work.started++;
    work.queued += outcome;
    if (n === CAMPAIGNS_PER_ROUND - 1) work.moreDue = true;
  }
  for (let n = 0; n < CAMPAIGNS_PER_ROUND; n++) {
    const outcome = await oneCampaign(deps, at, claimDueDecisions, decideCampaign);
    if (outcome === undefined) break;
    work.decided++;
    work.queued += outcome;
    if (n === CAMPAIGNS_PER_ROUND - 1) work.moreDue = true;
  }
  const sending = await sendingCampaigns(deps.db, CAMPAIGNS_PER_ROUND * 10);
  const workLeft = await campaignsWithWorkLeft(deps.db, sending.map((row) => row.id));
  for (const row of sending) {
    if (finishedWith(row, workLeft.has(row.id))) {
      await deps.db.updateTable('campaigns').set({ status: 'sent', sent_at: at(), updated_at: at() }).where('id', '=', row.id).where('status', '=', 'sending').execute();
      work.finished++;
    }
  }
  return work;
}

/**
 * Claims one due campaign and acts on it in one transaction; the notifications it queued, or
 * undefined when none was due. One campaign per transaction: a campaign that cannot go (its
 * segment was deleted, its text no longer fits) is cancelled with the reason rather than tried
 * again by every round, and holds back no other. Any other error (the database) is thrown.
 */
async function oneCampaign(
  deps: Omit<CampaignDeps, 'now'>,
  at: () => Date,
  claim: (db: Db, now: Date, limit: number) => Promise<CampaignRow[]>,
  act: (deps: CampaignDeps, site: SiteRow, row: CampaignRow) => Promise<StateChange>,
): Promise<number | undefined> {
  let refused: { row: CampaignRow; error: ApiError } | undefined;
  const queued = await deps.db
    .transaction()
    .execute(async (trx) => {
      const [row] = await claim(trx, at(), 1);
      if (!row) return undefined;
      const site = await findSiteById(trx, row.site_id);
      try {
        if (!site) throw new ApiError('not_found', 'the site is gone');
        return (await act({ ...deps, db: trx, now: at() }, site, row)).queued.length;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        refused = { row, error };
        // Undo whatever the failed start wrote; the campaign is marked below.
        throw error;
      }
    })
    .catch((error: unknown) => {
      if (refused && error === refused.error) return 0;
      throw error;
    });
  if (refused) {
    await deps.db
      .updateTable('campaigns')
      .set({ status: 'cancelled', cancelled_at: at(), failure: refused.error.message, updated_at: at() })
      .where('id', '=', refused.row.id)
      .where('status', 'in', ['scheduled', 'sending'])
      .execute();
  }
  return queued;
}
