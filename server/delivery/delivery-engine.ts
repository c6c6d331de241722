import type { Config } from '../config.ts';
import type { Db, NotificationContent } from '../db/database.ts';
import { claimDeliveries, type ClaimedDelivery } from '../db/deliveries.ts';
import { describeError, type Logger } from '../logger.ts';
import { MINUTE_MS } from '../time.ts';
import { buildPayload, reportUrl } from '../notifications/payload.ts';
import { personalise } from '../notifications/personalisation.ts';
import { checkPushEndpoint } from '../push/endpoint-policy.ts';
import type { PushTransport } from '../push/fetch-transport.ts';
import type { PushOutcome } from '../push/push-outcome.ts';
import { inThreadEncryptor, type EncryptionResult, type PushEncryptor } from '../push/push-encryptor.ts';
import { assemblePushRequest, type Urgency } from '../push/push-request.ts';
import { VapidHeaderCache, type VapidKeys } from '../push/vapid-cache.ts';
import { openVapidPrivateKey, VapidKeyUnavailableError } from '../sites/vapid-private-key.ts';
import type { MetricsRecorder } from '../metrics/metrics.ts';
import { BatchRecorder, type BatchResult } from './batch-recorder.ts';
import { deliveryOutcomeCounter, timedSend } from './delivery-metrics.ts';
import { reasonOf, reasonText, type DeliveryReason } from './delivery-reasons.ts';
import { engagementVerdicts, type SiteBestHourCache, type SiteSettingsCache, type Verdict } from './engagement-step.ts';
import { DEFAULT_HOST_GATE_SETTINGS, HostGates, type HostGateSettings } from './host-gates.ts';

export interface DeliverySettings {
  /** Deliveries claimed per round trip. */
  batchSize: number;
  /** How long a claim is held before another worker may take the delivery (the first one died). */
  leaseMs: number;
  /** Tries before a delivery that keeps failing with errors is given up (dead letter: `failed`). */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Batches in flight at once per worker (a round's lanes): keeps the CPU busy while Postgres writes the last one. */
  concurrentBatches: number;
  /** Pause after a background round that found nothing due, unless a wake-up cuts it short. */
  idlePollMs: number;
  /**
   * A batch's results are written while it is still sending, in groups: at most this long after a
   * result arrives, or at once when `resultFlushCount` are waiting. One slow push service then
   * delays only its own deliveries, and a fast batch still costs a few statements.
   */
  resultFlushMs: number;
  resultFlushCount: number;
  hostGates: HostGateSettings;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  batchSize: 500,
  leaseMs: 60_000,
  maxAttempts: 5,
  retryBaseMs: 5_000,
  retryMaxMs: 60 * 60_000,
  concurrentBatches: 3,
  idlePollMs: 1_000,
  resultFlushMs: 250,
  resultFlushCount: 250,
  hostGates: DEFAULT_HOST_GATE_SETTINGS,
};

/**
 * How long a delivery waits when its site's VAPID private key cannot be opened (PUSHCART_MASTER_KEY
 * missing or wrong). That is the operator's setting, not the delivery's fault: it stays queued
 * without spending an attempt, and goes out once the setting is fixed (its TTL still bounds the
 * wait). Also how often the log says so, per site.
 */
export const KEY_UNAVAILABLE_HOLD_MS = 5 * MINUTE_MS;

export interface DeliveryDeps {
  db: Db;
  config: Config;
  logger: Logger;
  transport: PushTransport;
  now?: () => number;
  random?: () => number;
  workerId?: string;
  settings?: Partial<DeliverySettings>;
  /**
   * Where bodies are encrypted. Default: in this thread (Workers). Node's entries pass a worker_threads
   * pool (runtime/node/encryption-pool.ts), so encryption takes another core, not the event loop.
   */
  encryptor?: PushEncryptor;
  /**
   * Signed VAPID headers to reuse. Default: a cache of this deliverer's own. The Workers entry passes
   * its isolate's, which outlives the per-invocation deliverer.
   */
  vapidCache?: VapidHeaderCache;
  /** Counts outcomes and send latency (metrics/metrics.ts). Default: counts nothing. */
  metrics?: MetricsRecorder;
}

/** A delivery worker's long-lived state: caches and gates that outlive one batch. */
export interface Deliverer {
  deps: DeliveryDeps;
  settings: DeliverySettings;
  now: () => number;
  random: () => number;
  workerId: string;
  readonly vapidCache: VapidHeaderCache;
  encryptor: PushEncryptor;
  hostGates: HostGates;
  /** Opened VAPID private keys by site and stored form (decrypting with the master key costs a WebCrypto call). */
  privateKeys: Map<string, Promise<string>>;
  /** When the log last said that a site's key cannot be opened: once per site per hold, not per push. */
  keyProblemLoggedAt: Map<string, number>;
  /** Sites' settings (caps, quiet hours), re-read every few seconds. */
  siteSettings: SiteSettingsCache;
  /** Sites' click hours for best-hour sends, re-read hourly. */
  siteBestHours: SiteBestHourCache;
  claims: number;
}

export function createDeliverer(deps: DeliveryDeps): Deliverer {
  const now = deps.now ?? Date.now;
  const settings = { ...DEFAULT_DELIVERY_SETTINGS, ...deps.settings };
  return {
    deps,
    settings,
    now,
    random: deps.random ?? Math.random,
    workerId: deps.workerId ?? `worker-${crypto.randomUUID().slice(0, 8)}`,
    // Real time, whatever clock schedules deliveries: the push service checks the JWT's exp against
    // its own clock (RFC 8292 §2), and web-push refuses an exp more than 24 h from Date.now().
    vapidCache: deps.vapidCache ?? new VapidHeaderCache(Date.now),
    encryptor: deps.encryptor ?? inThreadEncryptor,
    hostGates: new HostGates(settings.hostGates, now, deps.logger),
    privateKeys: new Map(),
    keyProblemLoggedAt: new Map(),
    siteSettings: new Map(),
    siteBestHours: new Map(),
    claims: 0,
  };
}

/**
 * Deliveries encrypted per call to the encryptor. The batch goes in as several calls at once, so a
 * thread pool works on the next chunk while the event loop sends the one that came back.
 */
const ENCRYPTION_CHUNK_DELIVERIES = 50;

/**
 * Claims one batch, sends it, records every outcome. Returns how many deliveries it claimed (0: no
 * work due). The same function runs in `npx pushcart worker`, in `npm start`, and on Workers.
 *
 * Three steps: each delivery is checked and its payload built (or it ends here: suppressed, not
 * allowed, held); the bodies are encrypted in chunks through the encryptor (worker threads on Node);
 * each chunk is sent as soon as it is back, while later ones are still being encrypted. Outcomes
 * are written as they come in (BatchRecorder), not when the slowest push service has answered.
 * Deliveries that failed for good are logged once per reason, with a count and an example.
 */
export async function deliverBatch(deliverer: Deliverer): Promise<number> {
  const { deps, settings } = deliverer;
  const leaseId = `${deliverer.workerId}:${++deliverer.claims}`;
  const claimed = await claimDeliveries(deps.db, {
    leaseId,
    limit: settings.batchSize,
    nowMs: deliverer.now(),
    leaseMs: settings.leaseMs,
  });
  if (claimed.length === 0) return 0;

  const recorder = new BatchRecorder(deps.db, leaseId, deliverer.now, deps.logger, {
    flushMs: settings.resultFlushMs,
    flushCount: settings.resultFlushCount,
  });
  const failures = new Map<string, { count: number; example: OneResult }>();
  const countOutcome = deliveryOutcomeCounter(deps, claimed);
  const record = (result: OneResult): void => {
    recorder.add(result);
    countOutcome(result);
    if (result.status !== 'failed') return;
    const reason = reasonOf(result.lastError);
    const group = failures.get(reason);
    if (group) group.count++;
    else failures.set(reason, { count: 1, example: result });
  };
  const ready: ReadyDelivery[] = [];
  // A cancelled notification's deliveries are closed here, as they come up, before any rule or
  // push: cheaper than one update of every queued row when the sender cancels.
  const live: ClaimedDelivery[] = [];
  for (const delivery of claimed) {
    if (delivery.notification_cancelled_at !== null) {
      record({ id: delivery.id, status: 'suppressed', dueAtMs: deliverer.now(), attemptDelta: -1, lastStatus: null, lastError: reasonText('cancelled', 'the notification was cancelled before this push went') });
    } else if (delivery.notification_ends_at !== null && deliverer.now() >= new Date(delivery.notification_ends_at).getTime()) {
      record({ id: delivery.id, status: 'suppressed', dueAtMs: deliverer.now(), attemptDelta: -1, lastStatus: null, lastError: reasonText('campaign_ended', `the campaign ended at ${new Date(delivery.notification_ends_at).toISOString()} before this push went`) });
    } else live.push(delivery);
  }
  const verdicts = await engagementVerdicts(deps.db, live, { nowMs: deliverer.now(), leaseId, settingsCache: deliverer.siteSettings, bestHourCache: deliverer.siteBestHours });
  await Promise.all(
    live.map(async (delivery) => {
      const verdict = verdicts.get(delivery.id);
      const prepared = verdict ? judged(deliverer, delivery, verdict) : await prepare(deliverer, delivery);
      if ('status' in prepared) record(prepared);
      else ready.push(prepared);
    }),
  );
  const sending: Array<Promise<void>> = [];
  for (let start = 0; start < ready.length; start += ENCRYPTION_CHUNK_DELIVERIES) {
    const chunk = ready.slice(start, start + ENCRYPTION_CHUNK_DELIVERIES);
    sending.push(
      deliverer.encryptor.encrypt(chunk.map((r) => ({ p256dh: r.delivery.p256dh, auth: r.delivery.auth, payload: r.payload }))).then(
        async (bodies) => {
          await Promise.all(chunk.map((r, i) => send(deliverer, r, bodies[i]!).then(record)));
        },
        (error: unknown) => {
          // Not these deliveries' fault (a thread died, the pool closed): tried again later, like a network error.
          deps.logger.log('error', 'encryption failed', { deliveries: chunk.length, ...describeError(error) });
          const detail = error instanceof Error ? error.message : String(error);
          for (const r of chunk) record(retryOrGiveUp(deliverer, r.delivery, r.base, null, 'encryption_unavailable', detail));
        },
      ),
    );
  }
  try {
    await Promise.all(sending);
  } finally {
    // Whatever happened to the sending, what came back is logged and written (or its write
    // failure reported): a result left unwritten is sent again once the lease lapses.
    logFailures(deliverer, claimed, failures);
    await recorder.close();
  }
  return claimed.length;
}

type OneResult = BatchResult;

/**
 * One line per reason a batch's deliveries failed for good, not one per push: a broken key or a
 * push service refusing a whole site would otherwise write thousands of identical lines.
 */
function logFailures(deliverer: Deliverer, claimed: ClaimedDelivery[], failures: Map<string, { count: number; example: OneResult }>): void {
  for (const [reason, { count, example }] of failures) {
    const delivery = claimed.find((d) => d.id === example.id);
    deliverer.deps.logger.log('error', 'deliveries failed', {
      reason,
      count,
      example: {
        deliveryId: example.id,
        notificationId: delivery?.notification_id,
        siteId: delivery?.site_id,
        lastStatus: example.lastStatus,
        lastError: example.lastError,
      },
    });
  }
}

/** A delivery that passed its checks, with its payload built: what is left is to encrypt and send it. */
interface ReadyDelivery {
  delivery: ClaimedDelivery;
  base: OneResult;
  endpoint: string;
  host: string;
  payload: string;
  vapid: VapidKeys;
}

/** The checks made at send time, and the payload; a delivery that goes no further gets its result here. */
async function prepare(deliverer: Deliverer, delivery: ClaimedDelivery): Promise<ReadyDelivery | OneResult> {
  const { deps } = deliverer;
  const nowMs = deliverer.now();
  const base: OneResult = { id: delivery.id, status: 'sending', dueAtMs: nowMs, attemptDelta: 0, lastStatus: null, lastError: null };

  // Re-checked at send time: the subscriber may have opted out since the notification was queued.
  if (delivery.subscription_status !== 'active') {
    return { ...base, status: 'suppressed', lastError: reasonText('subscription_inactive', `the subscription is ${delivery.subscription_status}`) };
  }
  const expiresAtMs = new Date(delivery.scheduled_at).getTime() + delivery.ttl_seconds * 1000;
  if (delivery.ttl_seconds > 0 && nowMs >= expiresAtMs) {
    return { ...base, status: 'suppressed', lastError: reasonText('ttl_elapsed', 'the notification expired before it could be sent') };
  }
  // The subscription's current endpoint: if it was renewed since queuing, the new one is right.
  const endpoint = delivery.subscription_endpoint;
  const verdict = checkPushEndpoint(endpoint, deps.config.extraPushHosts);
  if (!verdict.ok) return { ...base, status: 'failed', lastError: reasonText('endpoint_not_allowed', verdict.reason) };
  const host = verdict.url.host;

  // Before spending CPU on encryption; checked again when a send slot is ours.
  const pausedUntil = deliverer.hostGates.pausedUntil(host);
  if (pausedUntil > 0) return hold(base, pausedUntil);

  let privateKey: string;
  try {
    privateKey = await openPrivateKey(deliverer, delivery.site_id, delivery.vapid_private_key);
  } catch (error) {
    if (error instanceof VapidKeyUnavailableError) return keyUnavailable(deliverer, delivery, base, error);
    return buildFailed(base, error);
  }
  try {
    const content = delivery.tags === null ? localizedContent(delivery) : personalise(localizedContent(delivery), delivery.tags);
    const payload = buildPayload(delivery.notification_id, content, {
      url: reportUrl(deps.config.publicUrl),
      token: `${delivery.id}.${delivery.report_token}`,
    });
    return { delivery, base, endpoint, host, payload, vapid: { subject: deps.config.vapidSubject, publicKey: delivery.vapid_public_key, privateKey } };
  } catch (error) {
    return buildFailed(base, error);
  }
}

/** Deferred by quiet hours (not tried: the attempt is given back) or suppressed by a rule, with its reason. */
function judged(deliverer: Deliverer, delivery: ClaimedDelivery, verdict: Verdict): OneResult {
  const base: OneResult = { id: delivery.id, status: 'suppressed', dueAtMs: deliverer.now(), attemptDelta: 0, lastStatus: null, lastError: verdict.reason };
  return verdict.action === 'defer' ? { ...base, status: 'queued', dueAtMs: verdict.untilMs, attemptDelta: -1 } : base;
}

/** Held, not tried: the attempt counted at claim is given back. */
function hold(base: OneResult, until: number): OneResult {
  return { ...base, status: 'queued', dueAtMs: until, attemptDelta: -1, lastError: reasonText('push_host_backoff', `held while the push host backs off, until ${new Date(until).toISOString()}`) };
}

/** Held, not tried, while the site's private key cannot be opened: a setting to fix, never a failed push. */
function keyUnavailable(deliverer: Deliverer, delivery: ClaimedDelivery, base: OneResult, error: VapidKeyUnavailableError): OneResult {
  const nowMs = deliverer.now();
  const loggedAt = deliverer.keyProblemLoggedAt.get(delivery.site_id);
  if (loggedAt === undefined || nowMs - loggedAt >= KEY_UNAVAILABLE_HOLD_MS) {
    deliverer.keyProblemLoggedAt.set(delivery.site_id, nowMs);
    deliverer.deps.logger.log('error', 'VAPID private key cannot be opened; the site’s deliveries stay queued', {
      siteId: delivery.site_id,
      error: error.message,
      heldForMs: KEY_UNAVAILABLE_HOLD_MS,
    });
  }
  return { ...base, status: 'queued', dueAtMs: nowMs + KEY_UNAVAILABLE_HOLD_MS, attemptDelta: -1, lastError: reasonText('vapid_key_unavailable', error.message) };
}

/** Logged with the batch's other failures (logFailures), once per reason rather than per delivery. */
function buildFailed(base: OneResult, error: unknown): OneResult {
  return { ...base, status: 'failed', lastError: reasonText('build_failed', error instanceof Error ? error.message : String(error)) };
}

/** A delivery that may be tried again after a backoff, unless it has used up its attempts (dead letter). */
function retryOrGiveUp(
  deliverer: Deliverer,
  delivery: ClaimedDelivery,
  base: OneResult,
  lastStatus: number | null,
  reason: DeliveryReason,
  detail: string,
): OneResult {
  if (delivery.attempts >= deliverer.settings.maxAttempts) {
    return { ...base, status: 'failed', lastStatus, lastError: reasonText('failed_after_attempts', `gave up after ${delivery.attempts} attempts; the last: ${detail}`) };
  }
  return { ...base, status: 'queued', dueAtMs: base.dueAtMs + retryDelayMs(deliverer, delivery.attempts), lastStatus, lastError: reasonText(reason, detail) };
}

/** Sends one encrypted delivery through its host's gate and turns the answer into the delivery's result. */
async function send(deliverer: Deliverer, ready: ReadyDelivery, body: EncryptionResult): Promise<OneResult> {
  const { deps } = deliverer;
  const { delivery, base, endpoint, host } = ready;
  // A key the encryptor refused (not a P-256 point, a short auth secret): this delivery alone fails.
  if (body instanceof Error) return buildFailed(base, body);

  let outcome: PushOutcome | undefined;
  let heldUntil = 0;
  let backoffUntil = 0;
  try {
    const request = assemblePushRequest(
      endpoint,
      body,
      ready.vapid,
      { ttlSeconds: remainingTtlSeconds(delivery, deliverer.now()), urgency: delivery.urgency as Urgency, topic: delivery.topic },
      deliverer.vapidCache,
    );
    await deliverer.hostGates.run(host, async () => {
      // Checked again once a slot is ours: a 429 or a 403 burst may have paused the host meanwhile.
      heldUntil = deliverer.hostGates.pausedUntil(host);
      if (heldUntil !== 0) return;
      outcome = await timedSend(deps, endpoint, () => deps.transport.send(request));
      // Host-wide consequences are applied before the slot is released, so the next request in
      // line already sees the pause or the open circuit.
      if (outcome.kind === 'rejected' && outcome.hostAlert) deliverer.hostGates.forbidden(host);
      if (outcome.kind === 'retry' && outcome.hostBackoff) backoffUntil = deliverer.hostGates.backOff(host, outcome.retryAfterMs);
    });
  } catch (error) {
    return buildFailed(base, error);
  }

  if (outcome === undefined) return hold(base, heldUntil);
  switch (outcome.kind) {
    case 'sent':
      return { ...base, status: 'sent', lastStatus: outcome.status };
    case 'gone':
      return {
        ...base,
        status: 'expired',
        lastStatus: outcome.status,
        lastError: reasonText('subscription_gone', `the push service answered ${outcome.status}`),
        gone: { subscriptionId: delivery.subscription_id, endpoint },
      };
    case 'rejected':
      return {
        ...base,
        status: 'failed',
        lastStatus: outcome.status,
        lastError:
          outcome.status === 413
            ? reasonText('payload_too_large', 'the push service refused the message as too large (413)')
            : reasonText('push_rejected', outcome.reason),
      };
    case 'retry':
      if (outcome.hostBackoff) {
        // The host asked everyone to slow down: not this delivery's failure, so it costs no attempt;
        // its TTL still bounds how long it waits.
        return {
          ...base,
          status: 'queued',
          dueAtMs: backoffUntil,
          attemptDelta: -1,
          lastStatus: outcome.status,
          lastError: reasonText('push_host_backoff', `${outcome.reason} (${outcome.status}); the host waits until ${new Date(backoffUntil).toISOString()}`),
        };
      }
      return retryOrGiveUp(deliverer, delivery, base, outcome.status, 'push_error', outcome.reason);
  }
}

/**
 * The notification in the subscriber's language when a trigger rendered one: the exact locale
 * (`de-AT`), else its language (`de`), else the notification's default text.
 */
function localizedContent(delivery: ClaimedDelivery): NotificationContent {
  const { localized, locale, content } = delivery;
  if (!localized || !locale) return content;
  const text = localized[locale] ?? localized[locale.split('-')[0]!];
  if (!text) return content;
  const { actions: _defaultActions, ...shared } = content;
  return { ...shared, title: text.title, body: text.body, ...(text.actions ? { actions: text.actions } : {}) };
}

/**
 * The TTL left (RFC 8030 §5.2): a push that waited (quiet hours, retries) must not live its whole
 * TTL again at the push service and show up, say, during the next night.
 */
function remainingTtlSeconds(delivery: ClaimedDelivery, nowMs: number): number {
  if (delivery.ttl_seconds === 0) return 0;
  const expiresAtMs = new Date(delivery.scheduled_at).getTime() + delivery.ttl_seconds * 1000;
  return Math.max(1, Math.min(delivery.ttl_seconds, Math.ceil((expiresAtMs - nowMs) / 1000)));
}

/** Exponential backoff with full jitter: spreads retries so a recovering host is not hit at once. */
export function retryDelayMs(deliverer: Pick<Deliverer, 'settings' | 'random'>, attempts: number): number {
  const { retryBaseMs, retryMaxMs } = deliverer.settings;
  const ceiling = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.max(retryBaseMs / 2, Math.round(deliverer.random() * ceiling));
}

function openPrivateKey(deliverer: Deliverer, siteId: string, stored: string): Promise<string> {
  // By site too: a sealed key opens only for the site it was sealed for, also when cached.
  const cacheKey = `${siteId}:${stored}`;
  let opened = deliverer.privateKeys.get(cacheKey);
  if (!opened) {
    opened = openVapidPrivateKey(stored, deliverer.deps.config.masterKey, siteId);
    opened.catch(() => deliverer.privateKeys.delete(cacheKey));
    deliverer.privateKeys.set(cacheKey, opened);
  }
  return opened;
}
