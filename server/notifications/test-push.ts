/**
 * "Send me a test push": one push to each of a dashboard user's own browsers, sent at once and
 * answered with what each push service said, so the owner sees in seconds whether pushes reach
 * them. It goes around the outbox on purpose: a test push is no notification of the shop — it is in
 * no audience, no count and no figure, and it carries no report (the payload's `report` is null).
 * It is built and sent like every delivery: the pure builder (RFC 8291 encryption, RFC 8292 VAPID
 * with the site's key) and the thin transport, whose answer is classified the same way.
 */
import type { Config } from '../config.ts';
import type { Db, NotificationContent } from '../db/database.ts';
import type { SiteRow } from '../db/sites.ts';
import { deleteTestDevice, recordTestPushOutcome, type TestDeviceRow } from '../db/test-devices.ts';
import type { PushTransport } from '../push/fetch-transport.ts';
import { checkPushEndpoint } from '../push/endpoint-policy.ts';
import type { PushOutcome } from '../push/push-outcome.ts';
import { assemblePushRequest, encryptPushPayload } from '../push/push-request.ts';
import type { VapidHeaderCache } from '../push/vapid-cache.ts';
import { openVapidPrivateKey } from '../sites/vapid-private-key.ts';
import { buildPayload, MAX_PAYLOAD_BYTES, utf8Bytes } from './payload.ts';

/** A test push not shown within ten minutes is of no use to the person waiting for it (RFC 8030 §5.2). */
export const TEST_PUSH_TTL_SECONDS = 600;

export interface TestPushDeps {
  db: Db;
  config: Pick<Config, 'vapidSubject' | 'masterKey' | 'extraPushHosts'>;
  transport: PushTransport;
  vapidCache: VapidHeaderCache;
  now: () => number;
}

/**
 * What became of the push to one browser. `sent`: the push service accepted it (it shows within
 * seconds if the browser is online). `removed`: the browser's subscription is gone (404/410), or
 * was made with a VAPID key the site no longer has, or points where pushes may not go; the device
 * was forgotten. `failed`: refused or not answered; the device is kept.
 */
export interface TestPushResult {
  deviceId: string;
  outcome: 'sent' | 'removed' | 'failed';
  /** In words, for the page: "accepted by fcm.googleapis.com (201)". */
  detail: string;
}

function describe(outcome: PushOutcome, host: string): { outcome: TestPushResult['outcome']; detail: string } {
  switch (outcome.kind) {
    case 'sent':
      return { outcome: 'sent', detail: `accepted by ${host} (${outcome.status})` };
    case 'gone':
      return { outcome: 'removed', detail: `${host} says this browser’s subscription no longer exists (${outcome.status}); allow test pushes in it again` };
    case 'rejected':
      return { outcome: 'failed', detail: `${host} refused it: ${outcome.reason}` };
    case 'retry':
      return { outcome: 'failed', detail: outcome.status === null ? `${host} did not answer (${outcome.reason})` : `${host} answered ${outcome.status} (${outcome.reason}); try again in a minute` };
  }
}

/**
 * Sends `content` to each device, one after the other (a person has a handful). The payload is
 * checked against the push size limit here too: a template can be at the limit, and a test push
 * must fail the same way a real one would be refused at the API.
 */
export async function sendTestPush(deps: TestPushDeps, site: SiteRow, devices: readonly TestDeviceRow[], content: NotificationContent): Promise<TestPushResult[]> {
  const payload = buildPayload(`test-${crypto.randomUUID()}`, content, null);
  if (utf8Bytes(payload) > MAX_PAYLOAD_BYTES) {
    return devices.map((device) => ({ deviceId: device.id, outcome: 'failed', detail: `the push is ${utf8Bytes(payload) - MAX_PAYLOAD_BYTES} bytes over the ${MAX_PAYLOAD_BYTES}-byte limit` }));
  }
  const privateKey = await openVapidPrivateKey(site.vapid_private_key, deps.config.masterKey, site.id);
  const vapid = { subject: deps.config.vapidSubject, publicKey: site.vapid_public_key, privateKey };
  const results: TestPushResult[] = [];
  for (const device of devices) {
    const at = new Date(deps.now());
    let result: TestPushResult;
    const verdict = checkPushEndpoint(device.endpoint, deps.config.extraPushHosts);
    if (!verdict.ok) {
      result = { deviceId: device.id, outcome: 'removed', detail: `its push address is not one Pushcart sends to (${verdict.reason}); it was removed` };
    } else if (device.vapid_public_key !== site.vapid_public_key) {
      result = { deviceId: device.id, outcome: 'removed', detail: 'it subscribed with a key this shop no longer uses; allow test pushes in it again' };
    } else {
      let outcome: PushOutcome;
      try {
        const body = encryptPushPayload(device, payload);
        outcome = await deps.transport.send(
          assemblePushRequest(device.endpoint, body, vapid, { ttlSeconds: TEST_PUSH_TTL_SECONDS, urgency: 'high', topic: null }, deps.vapidCache),
        );
      } catch {
        // Keys the browser gave that cannot be encrypted to (checked when saved, so only a stored row changed by hand).
        outcome = { kind: 'gone', status: 0 };
      }
      result = { deviceId: device.id, ...describe(outcome, verdict.url.hostname) };
    }
    if (result.outcome === 'removed') await deleteTestDevice(deps.db, device.site_id, device.user_id, device.id);
    else await recordTestPushOutcome(deps.db, device.id, at, result.detail);
    results.push(result);
  }
  return results;
}
