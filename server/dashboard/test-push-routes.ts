/**
 * "Send me a test push" (the install page's last section, and the template editor's "Send to my
 * browsers"): a dashboard user allows pushes in their own browser on the dashboard's origin, and
 * sends a push to it at once through the push service, seeing what the service answered.
 *
 * - `POST /dashboard/sites/:siteId/test-devices` — the page script's subscription for this browser;
 * - `POST /dashboard/sites/:siteId/test-devices/:deviceId/delete` — forget one of them;
 * - `POST /dashboard/sites/:siteId/test-push` — a test push to all of the user's browsers.
 *
 * Sending is the `send` permission (owner, editor); a viewer sees the section without its controls.
 * Test pushes are not audited: they reach only the sender's own browsers, and change nothing.
 */
import type { Hono } from 'hono';
import type { AppDeps } from '../app-env.ts';
import { can } from '../accounts/roles.ts';
import type { NotificationContent } from '../db/database.ts';
import { findSiteForMember } from '../db/memberships.ts';
import type { SiteRow } from '../db/sites.ts';
import { deleteTestDevice, listTestDevices, saveTestDevice, MAX_TEST_DEVICES_PER_MEMBER } from '../db/test-devices.ts';
import { sendTestPush, type TestPushResult } from '../notifications/test-push.ts';
import { checkPushEndpoint, MAX_ENDPOINT_LENGTH } from '../push/endpoint-policy.ts';
import { checkSubscriptionKeys } from '../push/subscription-keys.ts';
import { VapidHeaderCache } from '../push/vapid-cache.ts';
import { DASHBOARD_PATH } from './layout.ts';
import type { AutomationRouteKit } from './automation-routes.ts';
import type { DashboardContext, DashboardEnv } from './routes.ts';

/** Sends `content` to the user's own browsers for the site; `unavailable` where no transport is wired (only some tests). */
export type OwnTestPush = (site: SiteRow, userId: string, content: NotificationContent) => Promise<TestPushResult[] | 'unavailable'>;

export function createOwnTestPush(deps: AppDeps): OwnTestPush {
  const clock = deps.now ?? Date.now;
  // Real time for the JWT, whatever clock the app runs on (RFC 8292 §2: the push service checks `exp`).
  const vapidCache = new VapidHeaderCache(Date.now);
  return async (site, userId, content) => {
    if (!deps.pushTransport) return 'unavailable';
    const devices = await listTestDevices(deps.db, site.id, userId);
    return sendTestPush({ db: deps.db, config: deps.config, transport: deps.pushTransport, vapidCache, now: clock }, site, devices, content);
  };
}

/** The install page's test push: what it is, from which shop, and a click back to the page. */
export function installTestContent(site: SiteRow, publicUrl: string, at: Date): NotificationContent {
  const time = at.toISOString().slice(11, 16);
  return {
    title: `Test push from ${site.name}`,
    body: `Pushes from ${site.name} reach this browser. Sent at ${time} UTC from the dashboard.`,
    url: `${publicUrl}/dashboard/sites/${site.id}/install#test-push`,
    tag: 'pushcart-test',
  };
}

/** Counts for the page's notice after a send, as the query string carries them. */
export function resultQuery(results: readonly TestPushResult[]): string {
  const count = (outcome: TestPushResult['outcome']) => results.filter((result) => result.outcome === outcome).length;
  return `test-push=${count('sent')}.${count('failed')}.${count('removed')}`;
}

export function registerTestPushRoutes(app: Hono<DashboardEnv>, deps: AppDeps, kit: AutomationRouteKit & { ownTestPush: OwnTestPush }): void {
  const installPath = (siteId: string) => `${DASHBOARD_PATH}/sites/${siteId}/install`;

  async function memberWhoMaySend(c: DashboardContext, userId: string) {
    const member = await findSiteForMember(deps.db, userId, c.req.param('siteId')!);
    if (!member) return { response: await kit.message(c, 404, 'Page not found', 'There is no such shop among yours.') };
    if (!can(member.role, 'send')) {
      return {
        response: await kit.message(c, 403, 'Not allowed', `Your role on ${member.site.name} (${member.role}) cannot send test pushes. Nothing was sent.`, {
          href: installPath(member.site.id),
          label: 'Back to the install page',
        }),
      };
    }
    return { member };
  }

  app.post('/sites/:siteId/test-devices', async (c) => {
    const checked = await kit.signedInPost(c);
    if ('refusal' in checked) return kit.refuse(c, checked.refusal);
    const found = await memberWhoMaySend(c, checked.live.user.id);
    if ('response' in found) return found.response;
    const { site } = found.member;
    const back = installPath(site.id);
    const endpoint = checked.fields.endpoint ?? '';
    const keys = { p256dh: checked.fields.p256dh ?? '', auth: checked.fields.auth ?? '' };
    // The same checks as a shopper's subscription (routes/subscriptions.ts): a push address Pushcart
    // may send to, and keys that can be encrypted to.
    const verdict = endpoint.length <= MAX_ENDPOINT_LENGTH ? checkPushEndpoint(endpoint, deps.config.extraPushHosts) : { ok: false as const, reason: 'too long' };
    const keyProblem = checkSubscriptionKeys(keys);
    if (!verdict.ok || keyProblem) {
      return kit.message(c, 403, 'This browser was not added', `Its push subscription cannot be used: ${!verdict.ok ? `push address ${verdict.reason}` : keyProblem!.message}. Nothing was saved.`, {
        href: back,
        label: 'Back to the install page',
      });
    }
    const saved = await saveTestDevice(deps.db, {
      siteId: site.id,
      userId: checked.live.user.id,
      endpoint,
      ...keys,
      vapidPublicKey: site.vapid_public_key,
      userAgent: c.req.header('User-Agent')?.slice(0, 500) ?? null,
      at: kit.now(),
    });
    if (saved.outcome === 'too_many') {
      return kit.message(c, 403, 'Too many browsers', `You already have ${MAX_TEST_DEVICES_PER_MEMBER} browsers for test pushes on ${site.name}. Remove one on the install page first.`, {
        href: `${back}#test-push`,
        label: 'Back to the install page',
      });
    }
    deps.logger.log('info', 'test push browser added', { siteId: site.id, userId: checked.live.user.id, requestId: c.get('requestId') });
    return c.redirect(`${back}?test-device=added#test-push`, 303);
  });

  app.post('/sites/:siteId/test-devices/:deviceId/delete', async (c) => {
    const checked = await kit.signedInPost(c);
    if ('refusal' in checked) return kit.refuse(c, checked.refusal);
    const found = await memberWhoMaySend(c, checked.live.user.id);
    if ('response' in found) return found.response;
    const deviceId = c.req.param('deviceId');
    // Someone else's device, or one already removed, reads the same: nothing of yours by that id.
    const removed = /^[0-9a-f-]{36}$/i.test(deviceId) && (await deleteTestDevice(deps.db, found.member.site.id, checked.live.user.id, deviceId));
    return c.redirect(`${installPath(found.member.site.id)}?test-device=${removed ? 'removed' : 'unknown'}#test-push`, 303);
  });

  app.post('/sites/:siteId/test-push', async (c) => {
    const checked = await kit.signedInPost(c);
    if ('refusal' in checked) return kit.refuse(c, checked.refusal);
    const found = await memberWhoMaySend(c, checked.live.user.id);
    if ('response' in found) return found.response;
    const { site } = found.member;
    const results = await kit.ownTestPush(site, checked.live.user.id, installTestContent(site, kit.publicUrl, kit.now()));
    if (results === 'unavailable') return c.redirect(`${installPath(site.id)}?test-push=unavailable#test-push`, 303);
    deps.logger.log('info', 'test push sent', { siteId: site.id, userId: checked.live.user.id, browsers: results.length, requestId: c.get('requestId') });
    return c.redirect(`${installPath(site.id)}?${resultQuery(results)}#test-push`, 303);
  });
}
