import { createApp } from '../app.ts';
import type { AppDeps } from '../app-env.ts';
import { resolveClientAddress } from '../client-address.ts';
import { parseConfig } from '../config.ts';
import type { Db } from '../db/database.ts';
import { findSiteById, updateSiteSettings } from '../db/sites.ts';
import { memoryLogger } from '../logger.ts';
import { reportUrl } from '../notifications/payload.ts';
import { send } from '../notifications/send.ts';
import { encodeBase64Url } from '../push/base64url.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { declaredResponseChecker, type SeenResponse } from './declared-responses.ts';

export const SHOP_ORIGIN = 'https://shop.example';
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** A subscription as a real browser would post it: a fresh P-256 key pair and 16-byte auth secret. */
export async function browserSubscription(endpoint = `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`) {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as {
    publicKey: Parameters<typeof crypto.subtle.exportKey>[1];
  };
  const p256dh = encodeBase64Url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
  const auth = encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  return { endpoint, expirationTime: null, keys: { p256dh, auth } };
}

export function testApp(db: Db, overrides: Partial<AppDeps> & { env?: Record<string, string> } = {}) {
  const logger = memoryLogger();
  const { env, ...rest } = overrides;
  const config = parseConfig({ PUSHCART_ADMIN_TOKEN: ADMIN_TOKEN, ...env });
  const app = createApp({
    config,
    db,
    logger,
    // The test names the socket peer; forwarding headers are read as the Node entry reads them.
    clientIp: (c) => resolveClientAddress(c.req.header('X-Test-Client-Ip') ?? '198.51.100.1', c.req.raw.headers, config.trustedProxies),
    ...rest,
  });
  checkResponsesAgainstDocument(app);
  return { app, logger, config };
}

/** Every answer a test app gave in this test file, by operation: what `recordSeenResponses` keeps. */
export const seenResponses: SeenResponse[] = [];

/**
 * Every answer the app gives in a test is checked against the OpenAPI document's declaration of
 * its route (declared-responses.ts); one that does not match fails the request, and so the test.
 */
function checkResponsesAgainstDocument(app: ReturnType<typeof createApp>): void {
  const check = declaredResponseChecker(() => app.routes);
  const answer = app.fetch;
  app.fetch = async (request, ...rest) => {
    const response = await answer(request, ...rest);
    const seen = await check(request, response);
    if (seen) seenResponses.push(seen);
    return response;
  };
}

/**
 * A site for a test. Quiet hours are off unless asked for: tests run at any hour of the day, and a
 * marketing push sent at night would otherwise wait for the morning (issue 5's quiet hours).
 */
export async function testSite(db: Db, origins: string[] = [SHOP_ORIGIN], options: { quietHours?: boolean } = {}): Promise<CreatedSite> {
  const site = await createSite(db, { name: 'Test shop', origins }, undefined);
  if (!options.quietHours) await setEngagement(db, site.id, { quietHours: false });
  return site;
}

/** Switches a site's quiet hours and sets its frequency cap, keeping every other setting. */
export async function setEngagement(db: Db, siteId: string, rules: { quietHours?: boolean; marketingPer24h?: number }): Promise<void> {
  const settings = readSiteSettings((await findSiteById(db, siteId))?.settings);
  const { engagement } = settings;
  await updateSiteSettings(db, siteId, {
    ...settings,
    engagement: {
      ...engagement,
      quietHours: { ...engagement.quietHours, enabled: rules.quietHours ?? engagement.quietHours.enabled },
      frequencyCap: { marketingPer24h: rules.marketingPer24h ?? engagement.frequencyCap.marketingPer24h },
    },
  });
}

/** Headers of a browser on `origin` calling a browser route with the site's publishable key. */
export function browserHeaders(site: { publishableKey: string }, origin = SHOP_ORIGIN): Record<string, string> {
  return { Authorization: `Bearer ${site.publishableKey}`, Origin: origin, 'Content-Type': 'application/json' };
}

/** A transactional push to everyone on the site, queued at `nowMs` through `send`, as the send API queues one. */
export async function queueTestSend(db: Db, siteId: string, nowMs: number): Promise<string> {
  const site = await findSiteById(db, siteId);
  if (!site) throw new Error(`no site ${siteId}`);
  const { id } = await send(
    { db, now: new Date(nowMs), reportUrl: reportUrl('https://push.shop.example') },
    {
      site,
      source: 'api',
      kind: 'transactional',
      content: { title: 'Your order shipped', body: 'It arrives tomorrow', url: `${SHOP_ORIGIN}/orders/1` },
      to: { by: 'selectors', selectors: { all: true } },
      ttlSeconds: 3_600,
      urgency: 'normal',
      whenTooLarge: 'refuse',
    },
  );
  return id;
}

/** Subscriptions stored (on one site, or all): what a refused request must leave unchanged. */
export async function countSubscriptions(db: Db, siteId?: string): Promise<number> {
  let query = db.selectFrom('subscriptions').select((eb) => eb.fn.countAll<string>().as('count'));
  if (siteId !== undefined) query = query.where('site_id', '=', siteId);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}
// In a vitest run, a route test file fails after its tests when an operation it is listed for in
// operations-exercised.ts got no success answer (benchmarks import this file outside vitest).
if (typeof process !== 'undefined' && process.env.VITEST) {
  const { afterAll, expect } = await import('vitest');
  const { operationsMissed } = await import('./operations-exercised.ts');
  afterAll(() => {
    const missed = operationsMissed(expect.getState().testPath ?? '', seenResponses);
    if (missed.length > 0) throw new Error(`No declared success answer in this file for ${missed.join(', ')} (server/testing/operations-exercised.ts)`);
  });
}
