import { campaignSendFigures, sendHasWorkLeft, type CampaignRow, type CampaignSendFigures } from '../db/campaigns.ts';
import type { CampaignStatus, Db } from '../db/database.ts';
import { audienceByTimeZone, countAudience } from '../db/notifications.ts';
import type { SiteRow } from '../db/sites.ts';
import { quietHoursEnd } from '../delivery/engagement-rules.ts';
import { isValidTimeZone, localTimeInstant } from '../delivery/time-zones.ts';
import { progressOf, type SendProgress } from '../notifications/notification-status.ts';
import { withSegmentRules } from '../notifications/send.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { wilsonInterval } from './ab-statistics.ts';
import type { CampaignInput } from './campaign-input.ts';
import { finishedWith, readDefinition, type CampaignDecision } from './campaigns.ts';

/**
 * A campaign as the API answers it and the dashboard shows it: its definition and state, the
 * progress of its sends, and results per variant — the same numbers in both places.
 */

export interface VariantFigures {
  /** `A`…`D` for an A/B variant, `winner` for the winner's send to the rest, `all` for a campaign without a test. */
  variant: string;
  /** The owner's name for the variant, if any. */
  name: string | null;
  notificationId: string;
  audience: number;
  sent: number;
  shown: number;
  clicked: number;
  converted: number;
  suppressed: number;
  failed: number;
  revenue: Record<string, number>;
  /** Clicks per push sent, and its 95 % Wilson interval; null before anything was sent. */
  clickRate: number | null;
  clickInterval: { low: number; high: number } | null;
  conversionRate: number | null;
}

export interface CampaignView {
  id: string;
  name: string;
  status: CampaignStatus;
  definition: CampaignInput;
  createdAt: string;
  updatedAt: string;
  /** When it starts (or started): a scheduled instant, or a local-time wave's first zone. */
  startAt: string | null;
  startedAt: string | null;
  sentAt: string | null;
  cancelledAt: string | null;
  /** Why a scheduled campaign could not start and was cancelled, in words; null otherwise. */
  failure: string | null;
  endsAt: string | null;
  progress: SendProgress;
  results: VariantFigures[];
  totals: { sent: number; shown: number; clicked: number; converted: number; revenue: Record<string, number> };
  abTest: { decideAt: string | null; decision: CampaignDecision | null } | null;
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** The campaign's view at `nowMs`. A sending campaign with nothing left reads `sent` at once, before the background round marks it. */
export async function campaignView(db: Db, row: CampaignRow, nowMs: number): Promise<CampaignView> {
  return (await campaignViews(db, [row], nowMs))[0]!;
}

/**
 * The views of several campaigns (a page of the list), in their order, from one grouped read of
 * all their sends' figures (campaignSendFigures: four queries, however many campaigns and sends).
 */
export async function campaignViews(db: Db, rows: readonly CampaignRow[], nowMs: number): Promise<CampaignView[]> {
  const figures = await campaignSendFigures(db, rows.map((row) => row.id));
  return rows.map((row) => viewOf(row, figures.get(row.id) ?? [], nowMs));
}

function viewOf(row: CampaignRow, sends: CampaignSendFigures[], nowMs: number): CampaignView {
  const definition = readDefinition(row);
  // The campaign's own sends only (a notification names its campaign; the site is checked as a read by id would).
  const own = sends.filter((send) => send.notification.site_id === row.site_id);
  const status: CampaignStatus = finishedWith(row, sends.some(sendHasWorkLeft)) ? 'sent' : row.status;
  const results: VariantFigures[] = [];
  const progress: SendProgress = { resolving: false, resolved: 0, total: 0, sent: 0, remaining: 0, etaSeconds: null };
  for (const { notification, deliveries: counts, interactions, conversions } of own) {
    const pending = counts.queued + counts.sending;
    const part = progressOf(notification, pending, counts.sent, nowMs);
    progress.resolving ||= part.resolving;
    progress.resolved += part.resolved;
    progress.total += part.total;
    progress.sent += part.sent;
    progress.remaining += part.remaining;
    if (part.etaSeconds !== null) progress.etaSeconds = Math.max(progress.etaSeconds ?? 0, part.etaSeconds);
    const variant = notification.variant;
    const index = variant && variant !== 'winner' ? 'ABCD'.indexOf(variant) : -1;
    results.push({
      variant: variant ?? 'all',
      name: index >= 0 ? (definition.abTest?.variants[index]?.name ?? null) : null,
      notificationId: notification.id,
      audience: notification.audience_size,
      sent: counts.sent,
      shown: interactions.shown,
      clicked: interactions.clicked,
      converted: conversions.converted,
      suppressed: counts.suppressed,
      failed: counts.failed + counts.expired,
      revenue: conversions.revenue,
      clickRate: counts.sent > 0 ? Math.min(1, interactions.clicked / counts.sent) : null,
      clickInterval: counts.sent > 0 ? wilsonInterval(Math.min(interactions.clicked, counts.sent), counts.sent, 0.95) : null,
      conversionRate: counts.sent > 0 ? Math.min(1, conversions.converted / counts.sent) : null,
    });
  }
  if (progress.remaining === 0) progress.etaSeconds = null;
  const totals = { sent: 0, shown: 0, clicked: 0, converted: 0, revenue: {} as Record<string, number> };
  for (const figures of results) {
    totals.sent += figures.sent;
    totals.shown += figures.shown;
    totals.clicked += figures.clicked;
    totals.converted += figures.converted;
    for (const [currency, amount] of Object.entries(figures.revenue)) totals.revenue[currency] = (totals.revenue[currency] ?? 0) + amount;
  }
  return {
    id: row.id,
    name: row.name,
    status,
    definition,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    startAt: iso(row.start_at),
    startedAt: iso(row.started_at),
    sentAt: status === 'sent' ? iso(row.sent_at ?? new Date(nowMs)) : null,
    cancelledAt: iso(row.cancelled_at),
    failure: row.failure,
    endsAt: iso(row.ends_at),
    progress,
    results,
    totals,
    abTest: definition.abTest ? { decideAt: iso(row.decide_at), decision: (row.decision as CampaignDecision | null) ?? null } : null,
  };
}

export interface CampaignWarning {
  /** `time_passed`: the wave's time has already passed in their zone, so they get it at once; `after_end`: their time comes after the campaign's end, so they get nothing; `quiet_hours`: held until their quiet hours end; `ttl_lapses`: held by quiet hours past the TTL, so they get nothing. */
  code: 'time_passed' | 'after_end' | 'quiet_hours' | 'ttl_lapses';
  subscribers: number;
  message: string;
}

/**
 * What to know before scheduling, per time zone of the audience: whom a wave reaches late (its time
 * passed), never (after the end; held by quiet hours past its TTL), or later than the time set
 * (quiet hours). Reads the audience once, grouped by zone.
 */
export async function campaignWarnings(db: Db, site: SiteRow, definition: CampaignInput, nowMs: number): Promise<CampaignWarning[]> {
  const settings = readSiteSettings(site.settings);
  const quiet = settings.engagement.quietHours;
  const schedule = definition.schedule;
  const endsAtMs = definition.endsAt ? new Date(definition.endsAt).getTime() : null;
  const fallback = schedule && 'localTime' in schedule && schedule.fallbackTimeZone ? schedule.fallbackTimeZone : settings.engagement.defaultTimeZone;
  const tally: Record<CampaignWarning['code'], number> = { time_passed: 0, after_end: 0, quiet_hours: 0, ttl_lapses: 0 };
  for (const group of await audienceByTimeZone(db, site.id, await withSegmentRules(db, site.id, definition.audience), new Date(nowMs))) {
    const zone = group.timeZone !== null && isValidTimeZone(group.timeZone) ? group.timeZone : fallback;
    const dueMs = !schedule ? nowMs : 'at' in schedule ? new Date(schedule.at).getTime() : localTimeInstant(schedule.localTime, zone).getTime();
    const goesMs = Math.max(dueMs, nowMs);
    if (dueMs < nowMs && schedule && 'localTime' in schedule) tally.time_passed += group.count;
    if (endsAtMs !== null && goesMs >= endsAtMs) {
      tally.after_end += group.count;
      continue;
    }
    const heldUntil = quiet.enabled ? quietHoursEnd(goesMs, zone, quiet) : null;
    if (heldUntil === null) continue;
    const lapses = definition.ttl === 0 || heldUntil - goesMs >= definition.ttl * 1000 || (endsAtMs !== null && heldUntil >= endsAtMs);
    if (lapses) tally.ttl_lapses += group.count;
    else tally.quiet_hours += group.count;
  }
  const count = (n: number) => `${n.toLocaleString('en-US')} subscriber${n === 1 ? '' : 's'}`;
  const warnings: CampaignWarning[] = [];
  if (tally.time_passed > 0) warnings.push({ code: 'time_passed', subscribers: tally.time_passed, message: `${count(tally.time_passed)} live where that time has already passed: they get it as soon as it starts.` });
  if (tally.after_end > 0) warnings.push({ code: 'after_end', subscribers: tally.after_end, message: `${count(tally.after_end)} would get it only after the campaign ends: they get nothing.` });
  if (tally.ttl_lapses > 0) {
    warnings.push({ code: 'ttl_lapses', subscribers: tally.ttl_lapses, message: `${count(tally.ttl_lapses)} would get it during their quiet hours (${quiet.start}–${quiet.end}), and it would expire (TTL ${definition.ttl} s) before those end: they get nothing. Send at another time or raise the TTL.` });
  }
  if (tally.quiet_hours > 0) warnings.push({ code: 'quiet_hours', subscribers: tally.quiet_hours, message: `${count(tally.quiet_hours)} would get it during their quiet hours (${quiet.start}–${quiet.end}): it waits until those end.` });
  return warnings;
}

export interface CampaignChecks {
  /** Active subscriptions the campaign would reach now (the A/B test and the rest together). */
  audience: number;
  /** The site's active subscriptions. */
  activeSubscribers: number;
  /** The audience is every active subscriber: the owner is told before sending. */
  matchesEveryone: boolean;
  /** Above this many, sending or scheduling needs `confirmAudience` (settings.campaigns.confirmAbove). */
  confirmAbove: number;
  confirmationRequired: boolean;
  warnings: CampaignWarning[];
}

/** What the owner should know before sending or scheduling: the count to confirm, "everyone", and the warnings. */
export async function campaignChecks(db: Db, site: SiteRow, definition: CampaignInput, nowMs: number): Promise<CampaignChecks> {
  const at = new Date(nowMs);
  const audienceRules = await withSegmentRules(db, site.id, definition.audience);
  const [audience, activeSubscribers, warnings] = await Promise.all([
    countAudience(db, site.id, audienceRules, at),
    countAudience(db, site.id, { all: true }, at),
    campaignWarnings(db, site, definition, nowMs),
  ]);
  const confirmAbove = readSiteSettings(site.settings).campaigns.confirmAbove;
  return { audience, activeSubscribers, matchesEveryone: activeSubscribers > 0 && audience === activeSubscribers, confirmAbove, confirmationRequired: audience > confirmAbove, warnings };
}
