import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { liveSecretKeyHashes } from '../db/secret-keys.ts';
import { findSiteById } from '../db/sites.ts';
import { isStorageUnavailable } from '../db/storage-errors.ts';
import { changeSubscriptionTags } from '../db/subscription-tags.ts';
import { findSubscriptionByEndpoint, renewSubscription, unsubscribeByEndpoint, upsertSubscriptions, type SubscriptionInput } from '../db/subscriptions.ts';
import { createGroupCommitter } from '../ingest/group-commit.ts';
import { ApiError } from '../errors.ts';
import { browserAccess, checkOrigin, grantOrigin } from '../middleware/browser-access.ts';
import { recordOrigins, type OriginsSeenRecorder } from '../middleware/origins-seen.ts';
import type { RateLimiters } from '../middleware/rate-limit.ts';
import { serviceWorkerAccess } from '../middleware/service-worker-access.ts';
import { operation } from '../openapi/operation.ts';
import { verifyIdentitySignature } from '../sites/identity-signature.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { checkTagChange, MAX_TAGS_PER_SUBSCRIPTION, tagChangeAnswer, tagChangeFields, tagChangeOf, tagsUpdatedSchema } from '../subscribers/subscriber-tags.ts';
import { checkPushEndpoint, MAX_ENDPOINT_LENGTH } from '../push/endpoint-policy.ts';
import { checkSubscriptionKeys } from '../push/subscription-keys.ts';
import { externalIdText, localeTag, text, timeZoneText, validate, visitorIdText } from '../validation.ts';

const timeZone = timeZoneText();

const locale = localeTag();

const visitorId = visitorIdText();

const endpoint = text().min(1).max(MAX_ENDPOINT_LENGTH * 2);

/**
 * The browser's own `PushSubscription.toJSON()` (Push API §"PushSubscriptionJSON"): not strict,
 * unlike every other request object, because browsers may add members to it (and to `keys`) in
 * later versions; what is not read here is dropped, never stored.
 */
const pushSubscriptionJson = z.object({
  endpoint,
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: text().max(200), auth: text().max(100) }),
});

const subscribeBody = z
  .strictObject({
    subscription: pushSubscriptionJson,
    visitorId,
    locale: locale.optional(),
    timeZone: timeZone.optional(),
    externalUserId: externalIdText().optional(),
    signature: text().max(128).optional(),
    // Named so that a page sending tags here learns where they go, rather than an "unknown key".
    tags: z.never({ error: 'tags are not stored with the subscription: set them with POST /v1/subscriptions/tags (README: Tags)' }).optional(),
  })
  .refine((body) => (body.externalUserId === undefined) === (body.signature === undefined), {
    message: 'externalUserId and signature come together (see README: identify)',
    path: ['signature'],
  });

const renewBody = z.strictObject({ oldEndpoint: endpoint, subscription: pushSubscriptionJson });

const unsubscribeBody = z.strictObject({ endpoint });

const browserTagsBody = z
  .strictObject({
    visitorId,
    /** Only the subscription with this push endpoint (this browser's), not all of the visitor's. */
    endpoint: endpoint.optional(),
    ...tagChangeFields,
  })
  .superRefine(checkTagChange);

const subscriptionAnswer = (status: 'active' | 'unsubscribed') => z.strictObject({ id: z.string(), status: z.literal(status) });

/** `POST /v1/subscriptions` and `DELETE /v1/subscriptions` (opt-out by endpoint). */
export function subscriptionRoutes(deps: AppDeps, limiters: RateLimiters, originsSeen: OriginsSeenRecorder) {
  const subscriptionGroups = createGroupCommitter((group: SubscriptionInput[]) => upsertSubscriptions(deps.db, group, now(deps)), {
    // A database that cannot be reached fails the whole group (503 each); any other error may be one
    // subscription's own, so its group is written again one by one.
    isolateFailure: (error) => !isStorageUnavailable(error),
    ...(deps.ingestGroups ? { settings: deps.ingestGroups } : {}),
  });
  return new Hono<AppEnv>()
    // Around the origin check, so the dashboard's installation check hears of refusals too.
    .use('/v1/subscriptions', recordOrigins(originsSeen, 'subscription', 'POST'))
    .use('/v1/subscriptions', browserAccess(deps, limiters, { keyFrom: 'header' }))
    .post(
      '/v1/subscriptions',
      operation({
        summary: 'Store a browser’s push subscription',
        description:
          'The endpoint must be https on port 443 at a known push service. `externalUserId` links the subscriber to the shop’s user and must come with its `signature` (README: identify).',
        tag: 'Browser',
        access: 'publishableKey',
        responses: {
          201: { description: 'A new subscription', schema: subscriptionAnswer('active') },
          200: { description: 'The endpoint was known to this site; it is updated', schema: subscriptionAnswer('active') },
        },
        errors: ['endpoint_not_allowed', 'invalid_signature', 'endpoint_conflict'],
      }),
      validate('json', subscribeBody),
      async (c) => {
      const site = c.get('site');
      const body = c.req.valid('json');
      const verdict = checkNewSubscription(deps, body.subscription);
      if (body.externalUserId !== undefined) {
        const identify = {
          siteId: site.id,
          masterKey: deps.config.masterKey,
          legacyIdentifyUntil: site.legacy_identify_until,
          nowMs: (deps.now ?? Date.now)(),
          legacySigningKeys: () => liveSecretKeyHashes(deps.db, site.id),
        };
        if (!(await verifyIdentitySignature(identify, body.externalUserId, body.signature ?? ''))) {
          throw new ApiError('invalid_signature', 'The identify signature does not match this externalUserId (see README: identify)');
        }
      }
      // Written with the other subscriptions arriving now, answered once its row is committed.
      const result = await subscriptionGroups.submit({
        siteId: site.id,
        endpoint: verdict.url.href,
        p256dh: body.subscription.keys.p256dh,
        auth: body.subscription.keys.auth,
        vapidPublicKey: site.vapid_public_key,
        visitorId: body.visitorId,
        externalUserId: body.externalUserId ?? null,
        locale: body.locale ?? null,
        timeZone: body.timeZone ?? null,
        userAgentFamily: userAgentFamily(c.req.header('User-Agent')),
      });
      if (result.outcome === 'held_by_other_site') {
        throw new ApiError('endpoint_conflict', 'This push endpoint is registered to another site');
      }
      return c.json({ id: result.id, status: 'active' }, result.outcome === 'created' ? 201 : 200);
    })
    .delete(
      '/v1/subscriptions',
      operation({
        summary: 'Opt out by endpoint',
        tag: 'Browser',
        access: 'publishableKey',
        responses: { 200: { description: 'Unsubscribed; nothing more is sent to it', schema: subscriptionAnswer('unsubscribed') } },
        errors: ['not_found'],
      }),
      validate('json', unsubscribeBody),
      async (c) => {
      const site = c.get('site');
      const { endpoint } = c.req.valid('json');
      // Stored endpoints are normalised URLs; look up the same form the browser's endpoint was stored as.
      const id = await unsubscribeByEndpoint(deps.db, site.id, normalisedUrl(endpoint), now(deps));
      if (id === undefined) throw new ApiError('not_found', 'No subscription with this endpoint for this site');
      return c.json({ id, status: 'unsubscribed' });
    })
    .use('/v1/subscriptions/tags', browserAccess(deps, limiters, { keyFrom: 'header' }))
    .post(
      '/v1/subscriptions/tags',
      operation({
        summary: 'Set and remove tags from the browser',
        description:
          'What `pushcart.tag()` and `pushcart.untag()` send: changes the tags of the visitor’s subscriptions on this site (only the one with `endpoint`, when given). Only keys the site lists in its `browserTagKeys` setting may be set or removed; any other is refused with 403 `key_not_allowed`, naming it. Limits as `POST /v1/subscribers/tags`.',
        tag: 'Browser',
        access: 'publishableKey',
        responses: { 200: { description: 'How many subscriptions were changed', schema: tagsUpdatedSchema } },
        errors: ['not_found'],
      }),
      validate('json', browserTagsBody),
      async (c) => {
        const site = c.get('site');
        const body = c.req.valid('json');
        const change = tagChangeOf(body);
        // A page can be made to call the snippet by any script on it, so it writes only the keys the shop chose.
        const allowed = new Set(readSiteSettings(site.settings).browserTagKeys);
        const refused = [...Object.keys(change.set), ...change.remove].find((key) => !allowed.has(key));
        if (refused !== undefined) {
          throw new ApiError('key_not_allowed', `Tag key "${refused}" may not be written from a browser: list it in the site setting browserTagKeys, or set it from your backend with POST /v1/subscribers/tags`);
        }
        const target = { visitorId: body.visitorId, ...(body.endpoint === undefined ? {} : { endpoint: normalisedUrl(body.endpoint) }) };
        const result = await changeSubscriptionTags(deps.db, site.id, target, change, { now: now(deps), maxTags: MAX_TAGS_PER_SUBSCRIPTION });
        if (result.outcome === 'not_found') throw new ApiError('not_found', 'This visitor has no subscription on this site (tags are kept on subscriptions: subscribe first)');
        return c.json({ updated: tagChangeAnswer(result) });
      },
    )
    // pushsubscriptionchange, from the service worker: no site key there, the old endpoint (a secret
    // URL only that browser and we know) proves the caller, and picks the site for the origin check.
    .use('/v1/subscriptions/renew', serviceWorkerAccess(deps, limiters))
    .post(
      '/v1/subscriptions/renew',
      operation({
        summary: 'Replace a subscription the browser renewed',
        description: 'Sent by the service worker on `pushsubscriptionchange`: the old endpoint proves the caller and names the site.',
        tag: 'Browser',
        access: 'serviceWorker',
        responses: { 200: { description: 'The subscription now pushes to the new endpoint', schema: subscriptionAnswer('active') } },
        errors: ['not_found', 'endpoint_not_allowed'],
      }),
      validate('json', renewBody),
      async (c) => {
      const { oldEndpoint, subscription } = c.req.valid('json');
      const old = await findSubscriptionByEndpoint(deps.db, normalisedUrl(oldEndpoint));
      const site = old ? await findSiteById(deps.db, old.site_id) : undefined;
      if (!old || !site) throw new ApiError('not_found', 'No subscription with this oldEndpoint');
      const origin = c.req.header('Origin');
      checkOrigin(c, site, origin);
      grantOrigin(c, origin);
      const verdict = checkNewSubscription(deps, subscription);
      const id = await renewSubscription(deps.db, old, {
        endpoint: verdict.url.href,
        p256dh: subscription.keys.p256dh,
        auth: subscription.keys.auth,
        vapidPublicKey: site.vapid_public_key,
      }, now(deps));
      if (id === undefined) throw new ApiError('not_found', 'The subscription changed meanwhile; retry');
      return c.json({ id, status: 'active' });
    });
}

/** The endpoint policy and key checks every stored subscription passes, whichever route stores it. */
function checkNewSubscription(deps: AppDeps, subscription: z.infer<typeof pushSubscriptionJson>) {
  const verdict = checkPushEndpoint(subscription.endpoint, deps.config.extraPushHosts);
  if (!verdict.ok) throw new ApiError('endpoint_not_allowed', verdict.reason);
  const keyProblem = checkSubscriptionKeys(subscription.keys);
  if (keyProblem) {
    throw new ApiError('validation_failed', keyProblem.message, {
      details: [{ path: `subscription.keys.${keyProblem.field}`, message: keyProblem.message }],
    });
  }
  return verdict;
}

function now(deps: AppDeps): Date {
  return new Date((deps.now ?? Date.now)());
}

function normalisedUrl(value: string): string {
  try {
    return new URL(value).href;
  } catch {
    throw new ApiError('validation_failed', 'endpoint: must be a URL');
  }
}

/** A coarse browser family from User-Agent: enough to read delivery figures by browser, nothing more. */
export function userAgentFamily(userAgent: string | undefined): string | null {
  if (!userAgent) return null;
  if (/\bEdg(e|A|iOS)?\//.test(userAgent)) return 'edge';
  if (/\bOPR\//.test(userAgent)) return 'opera';
  if (/\bSamsungBrowser\//.test(userAgent)) return 'samsung';
  if (/\bFirefox\//.test(userAgent)) return 'firefox';
  if (/\b(HeadlessChrome|Chrome|Chromium|CriOS)\//.test(userAgent)) return 'chrome';
  if (/\bSafari\//.test(userAgent)) return 'safari';
  return 'other';
}
