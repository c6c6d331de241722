/**
 * The Subscribers pages of a shop: the list, one shopper's detail, and erasing (GDPR art. 17) or
 * exporting (art. 15 and 20) a shopper. They call the same repository and domain functions as
 * `/v1/subscribers` (server/routes/subscribers.ts), in-process.
 *
 * Erase and export hand personal data out or destroy it, so both need `manage_subscribers`
 * (owners): other roles see neither control and are refused with 403 if they post anyway.
 */
import { welcomeOf } from '../db/welcome.ts';
import type { Hono } from 'hono';
import type { AppDeps } from '../app-env.ts';
import { can } from '../accounts/roles.ts';
import { findSiteForMember } from '../db/memberships.ts';
import type { LiveSession } from '../db/sessions.ts';
import { isUuid } from '../db/sites.ts';
import {
  countActiveSubscribers,
  findSubscriber,
  listSubscribers,
  resolveShopper,
  shopperDeliveries,
  shopperEvents,
  shopperInteractions,
  shopperOrders,
  shopperSubscriptions,
  type ListPosition,
  type SubscriberFilters,
} from '../db/subscribers.ts';
import type { SubscriptionRow } from '../db/subscriptions.ts';
import { isValidTimeZone } from '../delivery/time-zones.ts';
import { RECENT_ITEMS } from '../routes/subscribers.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { decodeCursor, encodeCursor } from '../subscribers/cursor.ts';
import { eraseShopperData, exportShopperData } from '../subscribers/shopper-records.ts';
import { dashboardAssets } from './assets/assets.ts';
import { DASHBOARD_PATH, type Html, type SignedInChrome } from './layout.ts';
import {
  BROWSER_FILTERS,
  STATUS_FILTERS,
  subscriberDetailPage,
  subscriberErasedPage,
  subscriberErasePage,
  subscriberListPage,
  type ListFilterForm,
} from './pages/subscriber-pages.ts';
import type { DashboardContext, DashboardEnv, Refusal } from './routes.ts';

/** Rows a list page shows. */
export const SUBSCRIBERS_PAGE_SIZE = 25;
/** The list counts active subscriptions up to this many, then says "more than". */
export const ACTIVE_COUNT_CAP = 10_000;

type Member = NonNullable<Awaited<ReturnType<typeof findSiteForMember>>>;

/** The helpers of server/dashboard/routes.ts these pages share (sessions, CSRF, message pages). */
export interface DashboardKit {
  now(): Date;
  page(c: DashboardContext, body: Html, status?: 200 | 403 | 404 | 422 | 429 | 500 | 503): Promise<Response>;
  message(c: DashboardContext, status: 403 | 404 | 500 | 503, heading: string, text: string, link?: { href: string; label: string }): Promise<Response>;
  refuse(c: DashboardContext, refusal: Refusal): Promise<Response>;
  signedInPost(c: DashboardContext): Promise<{ refusal: Refusal } | { live: LiveSession; token: string; fields: Record<string, string> }>;
  toSignIn(c: DashboardContext): Response;
  chromeFor(live: LiveSession, token: string): Promise<{ chrome: SignedInChrome }>;
}

/** The site's own zone (its engagement settings), for every time these pages show; UTC if unset or unknown here. */
function siteTimeZone(member: Member): string {
  const zone = readSiteSettings(member.site.settings).engagement.defaultTimeZone;
  return isValidTimeZone(zone) ? zone : 'UTC';
}

/** The filters as typed in the list's form, and the ones among them that are usable. */
function readFilters(query: Record<string, string>): { form: ListFilterForm; filters: SubscriberFilters; problems: string[] } {
  const form: ListFilterForm = {
    search: (query.search ?? '').trim().slice(0, 200),
    status: query.status ?? '',
    browser: query.browser ?? '',
    locale: (query.locale ?? '').trim().slice(0, 35),
    tag: (query.tag ?? '').trim().slice(0, 265),
  };
  const filters: SubscriberFilters = {};
  const problems: string[] = [];
  if (form.search !== '') filters.search = form.search;
  if ((STATUS_FILTERS as readonly string[]).includes(form.status)) filters.status = form.status as (typeof STATUS_FILTERS)[number];
  else form.status = '';
  if ((BROWSER_FILTERS as readonly string[]).includes(form.browser)) filters.browser = form.browser;
  else form.browser = '';
  if (form.locale !== '') {
    let canonical: string | undefined;
    try {
      canonical = Intl.getCanonicalLocales(form.locale)[0];
    } catch {
      canonical = undefined;
    }
    if (canonical === undefined) problems.push(`“${form.locale}” is not a language such as en or de-DE, so the list is not filtered by language.`);
    else filters.locale = canonical;
  }
  if (form.tag !== '') {
    const colon = form.tag.indexOf(':');
    if (colon < 1 || colon > 64 || colon === form.tag.length - 1) {
      problems.push('A tag filter is a key and a value with a colon between them, such as plan:vip; the list is not filtered by tag.');
    } else {
      const value = form.tag.slice(colon + 1);
      // As the API reads it: tags hold strings, numbers and booleans; `plan:3` finds "3" and 3.
      const values: Array<string | number | boolean> = [value];
      if (/^-?[0-9]+(\.[0-9]+)?$/.test(value)) values.push(Number(value));
      if (value === 'true' || value === 'false') values.push(value === 'true');
      filters.tag = { key: form.tag.slice(0, colon), values };
    }
  }
  return { form, filters, problems };
}

const positionOf = (row: { created_at_micros: string; id: string }): ListPosition => ({ createdAtMicros: row.created_at_micros, id: row.id });

export function subscriberPages(app: Hono<DashboardEnv>, deps: AppDeps, kit: DashboardKit): void {
  const base = (siteId: string) => `${DASHBOARD_PATH}/sites/${siteId}/subscribers`;
  const noSite = (c: DashboardContext) => kit.message(c, 404, 'Page not found', 'There is no such shop among yours.');
  const noSubscriber = (c: DashboardContext, member: Member) =>
    kit.message(c, 404, 'Subscriber not found', 'There is no such subscriber in this shop. It may have been erased.', { href: base(member.site.id), label: 'Back to the subscribers' });
  const notAllowed = (c: DashboardContext, member: Member) =>
    kit.message(c, 403, 'Not allowed', `Your role on ${member.site.name} (${member.role}) cannot erase or export a shopper’s data. Nothing was changed.`, {
      href: base(member.site.id),
      label: 'Back to the subscribers',
    });

  async function chrome(live: LiveSession, token: string, member: Member): Promise<SignedInChrome & { site: { id: string; name: string; role: Member['role'] } }> {
    const { chrome } = await kit.chromeFor(live, token);
    return { ...chrome, site: { id: member.site.id, name: member.site.name, role: member.role }, current: 'subscribers' };
  }

  /** The signed-in member of the URL's site, or the response that ends the request. */
  async function pageMember(c: DashboardContext): Promise<{ live: LiveSession; token: string; member: Member } | { response: Response }> {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return { response: kit.toSignIn(c) };
    const member = await findSiteForMember(deps.db, live.user.id, c.req.param('siteId') ?? '');
    if (!member) return { response: await noSite(c) };
    return { live, token, member };
  }

  async function subscriberOf(member: Member, id: string | undefined): Promise<SubscriptionRow | undefined> {
    return id !== undefined && isUuid(id) ? findSubscriber(deps.db, member.site.id, id) : undefined;
  }

  const shopperOf = (subscription: SubscriptionRow) => ({
    visitorIds: [subscription.visitor_id],
    externalUserIds: subscription.external_user_id === null ? [] : [subscription.external_user_id],
  });

  app.get('/sites/:siteId/subscribers', async (c) => {
    const found = await pageMember(c);
    if ('response' in found) return found.response;
    const { live, token, member } = found;
    const query = c.req.query();
    const { form, filters, problems } = readFilters(query);
    // `after` pages on (older), `before` pages back (newer); a cursor this server did not make starts over.
    const after = query.after ? decodeCursor(query.after) : undefined;
    const before = after === undefined && query.before ? decodeCursor(query.before) : undefined;
    const siteId = member.site.id;

    let rows;
    let hasNewer: boolean;
    let hasOlder: boolean;
    if (before) {
      const newer = await listSubscribers(deps.db, siteId, filters, before, SUBSCRIBERS_PAGE_SIZE, 'newer');
      hasNewer = newer.length > SUBSCRIBERS_PAGE_SIZE;
      rows = newer.slice(0, SUBSCRIBERS_PAGE_SIZE).reverse();
      hasOlder = true;
    } else {
      const older = await listSubscribers(deps.db, siteId, filters, after, SUBSCRIBERS_PAGE_SIZE);
      hasOlder = older.length > SUBSCRIBERS_PAGE_SIZE;
      rows = older.slice(0, SUBSCRIBERS_PAGE_SIZE);
      hasNewer = false;
    }
    const first = rows[0];
    const last = rows[rows.length - 1];
    // Whether a page lies beyond each end, each asked with one row from the list's index.
    if (after && first) hasNewer = (await listSubscribers(deps.db, siteId, filters, positionOf(first), 0, 'newer')).length > 0;
    if (before && last) hasOlder = (await listSubscribers(deps.db, siteId, filters, positionOf(last), 0)).length > 0;
    if (before && !last) hasOlder = false;

    const [assets, pageChrome, activeCount] = await Promise.all([dashboardAssets(), chrome(live, token, member), countActiveSubscribers(deps.db, siteId, ACTIVE_COUNT_CAP + 1)]);
    const filtered = Object.keys(filters).length > 0;
    return kit.page(
      c,
      subscriberListPage({
        assets,
        chrome: pageChrome,
        timeZone: siteTimeZone(member),
        rows,
        activeCount: activeCount > ACTIVE_COUNT_CAP ? { atLeast: ACTIVE_COUNT_CAP } : activeCount,
        form,
        filtered,
        problems,
        paged: after !== undefined || before !== undefined,
        newerCursor: hasNewer && first ? encodeCursor(positionOf(first)) : undefined,
        olderCursor: hasOlder && last ? encodeCursor(positionOf(last)) : undefined,
      }),
    );
  });

  app.get('/sites/:siteId/subscribers/:id', async (c) => {
    const found = await pageMember(c);
    if ('response' in found) return found.response;
    const { live, token, member } = found;
    const subscription = await subscriberOf(member, c.req.param('id'));
    if (!subscription) return noSubscriber(c, member);
    const siteId = member.site.id;
    const shopper = await resolveShopper(deps.db, siteId, shopperOf(subscription));
    const [subscriptions, events, deliveries, clicks, orders, welcome, assets, pageChrome] = await Promise.all([
      shopperSubscriptions(deps.db, siteId, shopper),
      shopperEvents(deps.db, siteId, shopper, RECENT_ITEMS),
      shopperDeliveries(deps.db, siteId, shopper, RECENT_ITEMS),
      shopperInteractions(deps.db, siteId, shopper, ['clicked'], RECENT_ITEMS),
      shopperOrders(deps.db, siteId, shopper, RECENT_ITEMS),
      welcomeOf(deps.db, subscription.id),
      dashboardAssets(),
      chrome(live, token, member),
    ]);
    return kit.page(
      c,
      subscriberDetailPage({
        assets,
        chrome: pageChrome,
        timeZone: siteTimeZone(member),
        subscription,
        shopper,
        subscriptions,
        events,
        deliveries,
        clicks,
        orders,
        ...(welcome ? { welcome } : {}),
        recentLimit: RECENT_ITEMS,
        canManage: can(member.role, 'manage_subscribers'),
      }),
    );
  });

  app.get('/sites/:siteId/subscribers/:id/erase', async (c) => {
    const found = await pageMember(c);
    if ('response' in found) return found.response;
    const { live, token, member } = found;
    if (!can(member.role, 'manage_subscribers')) return notAllowed(c, member);
    const subscription = await subscriberOf(member, c.req.param('id'));
    if (!subscription) return noSubscriber(c, member);
    const shopper = await resolveShopper(deps.db, member.site.id, shopperOf(subscription));
    const [assets, pageChrome] = await Promise.all([dashboardAssets(), chrome(live, token, member)]);
    return kit.page(c, subscriberErasePage({ assets, chrome: pageChrome, subscription, shopper }));
  });

  app.post('/sites/:siteId/subscribers/:id/erase', async (c) => {
    const checked = await kit.signedInPost(c);
    if ('refusal' in checked) return kit.refuse(c, checked.refusal);
    const member = await findSiteForMember(deps.db, checked.live.user.id, c.req.param('siteId'));
    if (!member) return noSite(c);
    if (!can(member.role, 'manage_subscribers')) return notAllowed(c, member);
    const subscription = await subscriberOf(member, c.req.param('id'));
    if (!subscription) return noSubscriber(c, member);
    const [assets, pageChrome] = await Promise.all([dashboardAssets(), chrome(checked.live, checked.token, member)]);
    if (checked.fields.understood !== 'yes') {
      // Erase cannot be undone: without the box ticked nothing happens, whatever sent the form.
      const shopper = await resolveShopper(deps.db, member.site.id, shopperOf(subscription));
      return kit.page(c, subscriberErasePage({ assets, chrome: pageChrome, subscription, shopper, error: 'Nothing was erased: tick the box to confirm that you understand it cannot be undone.' }), 422);
    }
    const result = await eraseShopperData(deps.db, member.site.id, shopperOf(subscription), kit.now());
    // The counts only, as the API's erase logs: the erased shopper's ids in a log would outlive the erase.
    deps.logger.log('info', 'shopper erased', { requestId: c.get('requestId'), siteId: member.site.id, userId: checked.live.user.id, ...result.erased });
    return kit.page(c, subscriberErasedPage({ assets, chrome: pageChrome, result }));
  });

  app.post('/sites/:siteId/subscribers/:id/export', async (c) => {
    const checked = await kit.signedInPost(c);
    if ('refusal' in checked) return kit.refuse(c, checked.refusal);
    const member = await findSiteForMember(deps.db, checked.live.user.id, c.req.param('siteId'));
    if (!member) return noSite(c);
    if (!can(member.role, 'manage_subscribers')) return notAllowed(c, member);
    const subscription = await subscriberOf(member, c.req.param('id'));
    if (!subscription) return noSubscriber(c, member);
    const exported = await exportShopperData(deps.db, member.site.id, shopperOf(subscription), kit.now());
    deps.logger.log('info', 'shopper exported', { requestId: c.get('requestId'), siteId: member.site.id, userId: checked.live.user.id });
    // A download, not a page (RFC 6266): the file is named by the subscription id, never by a shopper's id.
    c.header('Content-Disposition', `attachment; filename="shopper-${subscription.id}.json"`);
    c.header('Content-Type', 'application/json; charset=utf-8');
    return c.body(JSON.stringify(exported, null, 2), 200);
  });
}
