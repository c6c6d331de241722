import type { Expression, SqlBool } from 'kysely';
import type { Db, LocalizedContent, NotificationContent, NotificationKind } from '../db/database.ts';
import { findSegment } from '../db/segments.ts';
import { claimIdempotencyKey, storeIdempotentResponse } from '../db/idempotency-keys.ts';
import { insertNotificationInChunks, insertNotificationWithDeliveries, type AudienceSplit, type LocalTimeWave, type NewNotification } from '../db/notifications.ts';
import type { SiteRow } from '../db/sites.ts';
import { priorityFor } from '../delivery/engagement-rules.ts';
import { ApiError } from '../errors.ts';
import { sha256Hex } from '../sha256.ts';
import { estimateAudience } from './audience-estimate.ts';
import type { Audience, SendNotificationInput } from './notification-input.ts';
import { MAX_PAYLOAD_BYTES, utf8Bytes, worstCasePayloadBytes } from './payload.ts';
import { worstCasePersonalised } from './personalisation.ts';

/**
 * Where a push comes from. The source and the kind decide its priority (`priorityFor`), and a
 * trigger's source also keys its holdout draw.
 */
export type NotificationSource = 'api' | 'demo' | 'cart_reminder' | 'price_drop' | 'back_in_stock' | 'campaign' | 'campaign_test' | 'order_update' | 'rating_request' | 'low_stock' | 'welcome' | 'reactivation' | 'birthday';

/** Whom a push goes to: the send API's selectors, or the subscriptions a trigger chose in SQL. */
export type Recipients =
  | { by: 'selectors'; selectors: Audience }
  | {
      by: 'query';
      /** The subscriptions (alias `s`) it goes to; only active ones of the site are ever used. */
      where: Expression<SqlBool>;
      /** Stored on the notification for the record: what fired it and for what. */
      record: { trigger: string; [detail: string]: unknown };
    };

export interface SendRequest {
  site: SiteRow;
  source: NotificationSource;
  kind: NotificationKind;
  /** What every delivery shows; the tag is added here, one per notification. */
  content: Omit<NotificationContent, 'tag'>;
  /** The title, body and action titles per locale; a subscriber in another locale gets `content`. */
  localized?: Record<string, LocalizedContent>;
  to: Recipients;
  ttlSeconds: number;
  urgency: string;
  topic?: string | null;
  /** What a trigger fired for (a cart id, a product id): re-checked at send time. */
  triggerKey?: string | null;
  /** Share of the audience (0–100) deliberately not sent, recorded `held_out`, to measure lift. */
  holdoutPercent?: number;
  /**
   * What to do when the largest delivery would not fit a push message. `refuse`: a 413 the sender
   * can act on (the send API, whose caller wrote the text). `shorten`: drop the image, then the
   * action buttons, then cut the body, and let a translation that cannot fit fall back to `content`
   * (triggers, whose URLs come from shop data: a long product URL must not cost the shopper the push).
   */
  whenTooLarge: 'refuse' | 'shorten';
  /**
   * Stripe's Idempotency-Key: the same key with the same request answers the first result again and
   * queues nothing; the same key with another request is a 409. `request` is what "the same" means
   * (hashed as JSON with sorted keys, so key order does not matter).
   */
  idempotency?: { key: string; request: unknown };
  /** Each delivery waits for its shopper's best hour within 24 hours (marketing only; the delivery engine decides when). */
  bestHour?: boolean;
  /** A campaign's send: which campaign and variant, its end, its A/B split and its local-time wave. Always written in chunks. */
  campaign?: { id: string; variant: string | null; endsAt: Date | null; split?: AudienceSplit; localTime?: LocalTimeWave };
}

export interface SendDeps {
  /** A transaction to join (a trigger marking itself fired in the same commit), or the database. */
  db: Db;
  /** The caller's clock: the notification's created_at and every delivery's due time. */
  now: Date;
  /** Where service workers report interactions: its length counts toward the payload. */
  reportUrl: string;
  /** Subscriptions the request itself walks of an audience written in chunks (default FIRST_CHUNK_SUBSCRIPTIONS); tests make it small. */
  firstChunk?: number;
}

export interface SendResult {
  id: string;
  /**
   * Subscriptions a delivery row was queued (or held out) for; while `resolving`, an estimate of
   * how many there will be (audience-estimate.ts).
   */
  audience: number;
  /** The workers are still writing the audience's deliveries (a send to everyone or to a tag past the first chunk). */
  resolving: boolean;
  /** True when an Idempotency-Key replayed an earlier send: nothing was queued now. */
  replayed: boolean;
}

/**
 * Sends whose audience may be any size — everyone, or a tag filter — are written in chunks: the
 * first within the request, the rest by the workers, so the answer never waits on a million rows.
 * Lists of ids are bounded by the API (and triggers choose few subscribers): written at once.
 */
function writtenInChunks(to: Recipients, campaign: SendRequest['campaign']): boolean {
  if (to.by !== 'selectors') return false;
  // A wave's due times are worked out per chunk; a split is cheap to walk.
  if (campaign) return true;
  const { selectors } = to;
  if (selectors.segment !== undefined || selectors.segmentId !== undefined) return true;
  return !selectors.subscriptionIds && !selectors.externalUserIds && !selectors.visitorIds && (selectors.all === true || selectors.tags !== undefined);
}

/**
 * A send to a saved segment goes to its rules as they are now: copied onto the notification, so
 * every chunk resolves the same audience however the segment is edited or deleted meanwhile.
 */
async function resolveSegment(db: Db, siteId: string, to: Recipients): Promise<Recipients> {
  return to.by === 'selectors' ? { by: 'selectors', selectors: await withSegmentRules(db, siteId, to.selectors) } : to;
}

/** The audience with a saved segment's rules copied in (`segment`), as a send stores it and as a count must read it; 404 for a segment not the site's. */
export async function withSegmentRules<A extends Audience>(db: Db, siteId: string, selectors: A): Promise<A> {
  if (selectors.segmentId === undefined || selectors.segment !== undefined) return selectors;
  const segment = await findSegment(db, siteId, selectors.segmentId);
  if (!segment) throw new ApiError('not_found', `No segment ${selectors.segmentId} on this site`, { details: [{ path: 'to.segmentId', message: 'not found' }] });
  return { ...selectors, segmentId: segment.id, segment: segment.definition };
}

/** Stripe's rule for Idempotency-Key: an opaque client string, up to 255 characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The status the send API answers a queued push with, stored with its key so a replay answers the same. */
const ACCEPTED = 202;

/**
 * The one way a notification is written: checks the click targets, sizes the payload, honours an
 * Idempotency-Key, sets the priority from the kind and source, and fans the push out into the outbox
 * with its audience resolved in SQL — all in one transaction (the caller's, if `deps.db` is one), so
 * nothing is answered as queued that was not stored. The caller tells the delivery workers after
 * its commit.
 */
export async function send(deps: SendDeps, request: SendRequest): Promise<SendResult> {
  const { site } = request;
  if (request.idempotency && !IDEMPOTENCY_KEY.test(request.idempotency.key)) {
    throw new ApiError('validation_failed', 'Idempotency-Key must be 1–255 printable ASCII characters');
  }
  const id = crypto.randomUUID();
  // One tag per notification: a delivery sent twice (at-least-once) replaces itself on screen.
  const tagged: NotificationContent = { ...request.content, tag: id };
  checkClickTargets(site, tagged, request.localized);
  const { content, localized } =
    request.whenTooLarge === 'refuse'
      ? refuseOversize(id, tagged, request.localized ?? {}, deps.reportUrl)
      : shortenToFit(id, tagged, request.localized ?? {}, deps.reportUrl);
  const requestHash = request.idempotency ? await sha256Hex(stableJson(request.idempotency.request)) : '';

  const work = async (trx: Db): Promise<SendResult> => {
    if (request.idempotency) {
      const claim = await claimIdempotencyKey(trx, site.id, request.idempotency.key, requestHash, deps.now);
      if (claim.outcome === 'existing') {
        if (claim.requestHash !== requestHash) {
          throw new ApiError('idempotency_conflict', 'This Idempotency-Key was already used with a different request body');
        }
        const first = claim.responseBody as { id: string; audience: number; resolving?: boolean };
        return { id: first.id, audience: first.audience, resolving: first.resolving ?? false, replayed: true };
      }
    }
    const to = await resolveSegment(trx, site.id, request.to);
    const notification: NewNotification = {
      id,
      siteId: site.id,
      source: request.source,
      kind: request.kind,
      content,
      audience:
        to.by === 'selectors'
          ? { ...to.selectors, ...(request.campaign?.split ? { split: request.campaign.split } : {}), ...(request.campaign?.localTime ? { localTime: request.campaign.localTime } : {}) }
          : to.record,
      ttlSeconds: request.ttlSeconds,
      urgency: request.urgency,
      topic: request.topic ?? null,
      priority: priorityFor(request.kind, request.source),
      triggerKey: request.triggerKey ?? null,
      localized: Object.keys(localized).length > 0 ? localized : null,
      holdoutPercent: request.holdoutPercent ?? 0,
      bestHour: request.kind === 'marketing' && request.bestHour === true,
      ...(request.campaign ? { campaignId: request.campaign.id, variant: request.campaign.variant, endsAt: request.campaign.endsAt } : {}),
    };
    let audience: number;
    let resolving = false;
    if (writtenInChunks(to, request.campaign)) {
      const first = await insertNotificationInChunks(trx, notification, deps.now, deps.firstChunk);
      resolving = !first.done;
      audience = estimateAudience({ scanned: first.scanned, matched: first.inserted, cursor: first.cursor, done: first.done });
    } else {
      audience = await insertNotificationWithDeliveries(trx, notification, deps.now, to.by === 'query' ? { where: to.where } : undefined);
    }
    if (request.idempotency) await storeIdempotentResponse(trx, site.id, request.idempotency.key, ACCEPTED, { id, audience, resolving });
    return { id, audience, resolving, replayed: false };
  };
  return deps.db.isTransaction ? work(deps.db) : deps.db.transaction().execute(work);
}

/** Click targets stay on the shop: a push never sends a shopper off the site's origins (nor to a javascript: URL). */
function checkClickTargets(site: SiteRow, content: NotificationContent, localized: Record<string, LocalizedContent> = {}): void {
  const clickTargets: Array<[string, string]> = [['url', content.url]];
  content.actions?.forEach((action, index) => action.url && clickTargets.push([`actions.${index}.url`, action.url]));
  for (const [locale, text] of Object.entries(localized)) {
    text.actions?.forEach((action, index) => action.url && clickTargets.push([`localized.${locale}.actions.${index}.url`, action.url]));
  }
  for (const [path, target] of clickTargets) {
    const origin = originOf(target);
    if (origin === null || !site.allowed_origins.includes(origin)) {
      throw new ApiError('validation_failed', `${path}: must be on one of the site's origins (${site.allowed_origins.join(', ')})`, {
        details: [{ path, message: 'not on the site’s origins' }],
      });
    }
  }
}

/** A URL's origin, or `null` for what is not a URL (never one of the site's origins). */
function originOf(target: string): string | null {
  try {
    return new URL(target).origin;
  } catch {
    return null;
  }
}

type Sized = { content: NotificationContent; localized: Record<string, LocalizedContent> };

/** Bytes the largest delivery of `content` is over the payload limit (≤ 0: it fits). */
function overflowBytes(id: string, content: NotificationContent, reportUrl: string): number {
  return worstCasePayloadBytes(id, worstCasePersonalised(content), reportUrl) - MAX_PAYLOAD_BYTES;
}

function fits(id: string, content: NotificationContent, reportUrl: string): boolean {
  return overflowBytes(id, content, reportUrl) <= 0;
}

/** The largest delivery, in any locale, must fit a push message (RFC 8030 §7.2): else a 413 saying by how much. */
function refuseOversize(id: string, content: NotificationContent, localized: Record<string, LocalizedContent>, reportUrl: string): Sized {
  const variants: Array<[string, NotificationContent]> = [
    ['', content],
    ...Object.entries(localized).map(([locale, text]): [string, NotificationContent] => [` in ${locale}`, { ...content, ...text }]),
  ];
  for (const [label, variant] of variants) {
    const bytes = worstCasePayloadBytes(id, worstCasePersonalised(variant), reportUrl);
    if (bytes > MAX_PAYLOAD_BYTES) {
      throw new ApiError(
        'payload_too_large',
        `The push payload${label} would be ${bytes} bytes, ${bytes - MAX_PAYLOAD_BYTES} over the ${MAX_PAYLOAD_BYTES}-byte limit of an encrypted push message; shorten the title, body or URLs`,
        { details: { bytes, limit: MAX_PAYLOAD_BYTES, overflow: bytes - MAX_PAYLOAD_BYTES } },
      );
    }
  }
  return { content, localized };
}

/**
 * Never fail at the push service: drop the image, then the actions, then shorten the body until the
 * payload fits; a translation that cannot fit next to the shared parts falls back to `content`.
 */
function shortenToFit(id: string, content: NotificationContent, localized: Record<string, LocalizedContent>, reportUrl: string): Sized {
  let fitted = content;
  if (!fits(id, fitted, reportUrl) && fitted.image) fitted = { ...fitted, image: undefined };
  if (!fits(id, fitted, reportUrl) && fitted.actions) fitted = { ...fitted, actions: undefined };
  for (let over = overflowBytes(id, fitted, reportUrl); over > 0 && fitted.body.length > 0; over = overflowBytes(id, fitted, reportUrl)) {
    const body = [...fitted.body];
    // Most characters of a shop's text take 1–3 bytes of UTF-8: cut a third of the overflow in
    // characters (and one for the ellipsis), then measure again, so no more is cut than needed.
    fitted = { ...fitted, body: body.slice(0, Math.max(0, body.length - Math.max(1, Math.ceil(over / 3)) - 1)).join('') + '…' };
    if (utf8Bytes(fitted.body) <= 3) fitted = { ...fitted, body: '' };
  }
  // Dropped fields leave `undefined` behind: stored JSON has no key for them.
  const shared = JSON.parse(JSON.stringify(fitted)) as NotificationContent;
  const kept: Record<string, LocalizedContent> = {};
  for (const [locale, text] of Object.entries(localized)) {
    if (fits(id, { ...shared, ...text }, reportUrl)) kept[locale] = text;
  }
  return { content: shared, localized: kept };
}

/** JSON with keys sorted, so the same request written in another key order hashes the same. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The send API's request (`POST /v1/notifications`, validated by `sendNotificationSchema`) as a
 * `send` request: what the route and `pushcart send` both queue.
 */
export function apiSendRequest(site: SiteRow, input: SendNotificationInput, idempotencyKey?: string): SendRequest {
  const { to, kind, ttl, urgency, topic, sendAtBestHour, ...content } = input;
  // Waiting up to a day is for pushes that can wait: a transactional push (an order update) or an
  // urgent one goes now, so asking for both is a mistake to refuse, not to ignore.
  if (sendAtBestHour && kind !== 'marketing') {
    throw new ApiError('validation_failed', 'sendAtBestHour is for marketing pushes; a transactional push goes at once', { details: [{ path: 'sendAtBestHour', message: 'marketing pushes only' }] });
  }
  if (sendAtBestHour && urgency === 'high') {
    throw new ApiError('validation_failed', 'sendAtBestHour cannot wait with urgency "high"', { details: [{ path: 'sendAtBestHour', message: 'not with urgency high' }] });
  }
  return {
    site,
    source: 'api',
    kind,
    content,
    to: { by: 'selectors', selectors: to },
    ttlSeconds: ttl,
    urgency,
    topic: topic ?? null,
    whenTooLarge: 'refuse',
    ...(sendAtBestHour ? { bestHour: true } : {}),
    ...(idempotencyKey === undefined ? {} : { idempotency: { key: idempotencyKey, request: input } }),
  };
}
