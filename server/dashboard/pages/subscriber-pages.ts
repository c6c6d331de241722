/**
 * The Subscribers pages: the list, a shopper's detail, the erase confirmation and its result.
 * Every id, tag, event name and text here comes from shops and browsers, so it only ever enters
 * the page through the `html` template, which escapes it.
 */
import { html } from 'hono/html';
import type { Role } from '../../db/database.ts';
import type { ErasedCounts, Shopper, ShopperDelivery, ShopperEvent, ShopperInteraction, ShopperOrder, SubscriberListRow } from '../../db/subscribers.ts';
import type { SubscriptionRow } from '../../db/subscriptions.ts';
import { reasonOf, type DeliveryReason } from '../../delivery/delivery-reasons.ts';
import type { DashboardAssets } from '../assets/assets.ts';
import { appPage, csrfField, DASHBOARD_PATH, notice, type Html, type SignedInChrome } from '../layout.ts';

/** The list's filter choices, as the API takes them. */
export const STATUS_FILTERS = ['active', 'expired', 'unsubscribed'] as const;
export const BROWSER_FILTERS = ['chrome', 'edge', 'firefox', 'safari', 'opera', 'samsung', 'other'] as const;

const BROWSER_NAMES: Record<string, string> = {
  chrome: 'Chrome',
  edge: 'Edge',
  firefox: 'Firefox',
  safari: 'Safari',
  opera: 'Opera',
  samsung: 'Samsung Internet',
  other: 'Other',
};

const STATUS_WORDS: Record<string, string> = { active: 'Active', expired: 'Expired', unsubscribed: 'Opted out' };

const DELIVERY_STATUS_WORDS: Record<string, string> = {
  queued: 'Waiting',
  sending: 'Sending',
  sent: 'Sent',
  failed: 'Failed',
  expired: 'Subscription gone',
  suppressed: 'Not sent',
  held_out: 'Held out',
};

/** Each code of server/delivery/delivery-reasons.ts in words an owner reads: a new code fails to compile until it has its words. */
const REASON_WORDS: Record<DeliveryReason, string> = {
  quiet_hours: 'Held for the shopper’s quiet hours (or dropped: it would have expired before they ended).',
  frequency_cap: 'Over the shop’s limit of marketing pushes per day.',
  engagement_budget: 'Over this shopper’s engagement budget: they ignored the last marketing pushes, so they get fewer until they click one.',
  best_hour: 'Waiting for the hour of the day this shopper most often clicks or visits.',
  cart_ordered: 'The cart was bought or emptied before the reminder went.',
  already_ordered: 'The shopper ordered before the welcome went.',
  subscription_inactive: 'The subscription had ended (opted out, expired or erased) before it went.',
  ttl_elapsed: 'Its time to live ran out before it could be sent.',
  cancelled: 'The send was cancelled before this push went.',
  campaign_ended: 'The campaign had ended before this push could go.',
  endpoint_not_allowed: 'The browser’s push address is not a known push service.',
  build_failed: 'The browser’s keys could not be used to encrypt the push.',
  vapid_key_unavailable: 'The shop’s signing key could not be opened (check PUSHCART_MASTER_KEY); it goes once that is fixed.',
  encryption_unavailable: 'Encryption was unavailable for a moment; it will be tried again.',
  push_host_backoff: 'The push service asked us to slow down; it will be tried again.',
  push_error: 'The push service failed or did not answer; it will be tried again.',
  push_rejected: 'The push service refused it.',
  payload_too_large: 'The push service refused it as too large.',
  failed_after_attempts: 'It failed on every attempt and was given up.',
  subscription_gone: 'The push service says this subscription no longer exists.',
};

const HELD_OUT_WORDS = 'In the holdout group: kept back on purpose to measure what the pushes bring.';

/** The reason a delivery did not go, in words; undefined when nothing went wrong. */
export function deliveryReasonWords(delivery: Pick<ShopperDelivery, 'status' | 'last_error'>): string | undefined {
  if (delivery.last_error === null) return delivery.status === 'held_out' ? HELD_OUT_WORDS : undefined;
  return REASON_WORDS[reasonOf(delivery.last_error) as DeliveryReason] ?? 'It did not go; the detail below says why.';
}

/**
 * A time as the shop's clock reads it ("29 Nov 2026, 14:05"), or in a narrow column as the date
 * over the time; the zone is named once per page.
 */
function formatterFor(timeZone: string) {
  const dateFormat = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'short', day: 'numeric' });
  const timeFormat = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return (instant: Date | string | null, stacked = false): Html | string => {
    if (instant === null) return '—';
    const date = instant instanceof Date ? instant : new Date(instant);
    return stacked
      ? html`<time datetime="${date.toISOString()}">${dateFormat.format(date)}<span class="sub-line">${timeFormat.format(date)}</span></time>`
      : html`<time datetime="${date.toISOString()}">${dateFormat.format(date)}, ${timeFormat.format(date)}</time>`;
  };
}

function zoneNote(timeZone: string): Html {
  return html`<p class="meta">Times are in ${timeZone === 'UTC' ? 'UTC' : html`the shop’s time zone, ${timeZone}`}.</p>`;
}

function tagList(tags: Record<string, unknown>): Html | string {
  const entries = Object.entries(tags);
  if (entries.length === 0) return html`<span class="meta">none</span>`;
  return html`<ul class="tag-list">${entries.map(([key, value]) => html`<li><span class="tag">${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}</span></li>`)}</ul>`;
}

function statusBadge(status: string): Html {
  return html`<span class="badge status-${status}">${STATUS_WORDS[status] ?? status}</span>`;
}

type SiteChrome = SignedInChrome & { site: { id: string; name: string; role: Role } };

export interface ListFilterForm {
  search: string;
  status: string;
  browser: string;
  locale: string;
  tag: string;
}

function option(value: string, label: string, selected: string): Html {
  return html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
}

/** The list's address with the filters kept and one cursor. */
function listHref(siteId: string, form: ListFilterForm, cursor: { after?: string; before?: string }): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) if (value !== '') params.set(key, value);
  if (cursor.after) params.set('after', cursor.after);
  if (cursor.before) params.set('before', cursor.before);
  const query = params.toString();
  return `${DASHBOARD_PATH}/sites/${siteId}/subscribers${query ? `?${query}` : ''}`;
}

export function subscriberListPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  timeZone: string;
  rows: SubscriberListRow[];
  /** Exact, or "more than" past the count's cap. */
  activeCount: number | { atLeast: number };
  form: ListFilterForm;
  filtered: boolean;
  problems: string[];
  /** Whether this is a page after the first (reached by a cursor). */
  paged: boolean;
  newerCursor: string | undefined;
  olderCursor: string | undefined;
}): Html {
  const { chrome, form } = input;
  const siteId = chrome.site.id;
  const when = formatterFor(input.timeZone);
  const detail = (id: string) => `${DASHBOARD_PATH}/sites/${siteId}/subscribers/${id}`;

  const filterForm = html`<form class="filter-form" method="get" action="${DASHBOARD_PATH}/sites/${siteId}/subscribers" role="search" aria-label="Filter subscribers">
<div class="field filter-search">
<label for="filter-search">Visitor id or user id</label>
<input id="filter-search" name="search" type="search" value="${form.search}" maxlength="200" aria-describedby="filter-search-help">
<p class="help" id="filter-search-help">The start of the id is enough.</p>
</div>
<div class="field">
<label for="filter-status">Status</label>
<select id="filter-status" name="status">${option('', 'Any', form.status)}${STATUS_FILTERS.map((status) => option(status, STATUS_WORDS[status]!, form.status))}</select>
</div>
<div class="field">
<label for="filter-browser">Browser</label>
<select id="filter-browser" name="browser">${option('', 'Any', form.browser)}${BROWSER_FILTERS.map((browser) => option(browser, BROWSER_NAMES[browser]!, form.browser))}</select>
</div>
<div class="field">
<label for="filter-locale">Language</label>
<input id="filter-locale" name="locale" type="text" value="${form.locale}" maxlength="35" placeholder="de" aria-describedby="filter-locale-help">
<p class="help" id="filter-locale-help"><code>de</code> also finds de-DE.</p>
</div>
<div class="field">
<label for="filter-tag">Tag</label>
<input id="filter-tag" name="tag" type="text" value="${form.tag}" maxlength="265" placeholder="plan:vip" aria-describedby="filter-tag-help">
<p class="help" id="filter-tag-help">key:value</p>
</div>
<div class="filter-actions"><button class="button" type="submit">Filter</button>${input.filtered ? html`<a class="button secondary" href="${DASHBOARD_PATH}/sites/${siteId}/subscribers">Clear</a>` : ''}</div>
</form>`;

  const table = html`<div class="table-region" role="region" aria-labelledby="subscribers-caption" tabindex="0">
<table class="data-table subscriber-table">
<caption id="subscribers-caption" class="visually-hidden">Subscribers${input.filtered ? ' matching the filters' : ''}, newest first</caption>
<thead><tr><th scope="col">Visitor id</th><th scope="col">User id</th><th scope="col">Browser</th><th scope="col">Locale, time zone</th><th scope="col">Tags</th><th scope="col">Subscribed</th><th scope="col">Last seen</th><th scope="col">Status</th></tr></thead>
<tbody>
${input.rows.map(
  (row) => html`<tr>
<th scope="row" class="mono id-cell"><a href="${detail(row.id)}">${row.visitor_id}</a></th>
<td class="mono id-cell">${row.external_user_id ?? html`<span class="meta">—</span>`}</td>
<td>${row.user_agent_family === null ? '—' : (BROWSER_NAMES[row.user_agent_family] ?? row.user_agent_family)}</td>
<td>${row.locale ?? '—'}<span class="sub-line">${row.time_zone ?? 'no time zone'}</span></td>
<td class="tags-cell">${tagList(row.tags)}</td>
<td class="nowrap">${when(row.created_at, true)}</td>
<td class="nowrap">${when(row.last_seen_at, true)}</td>
<td>${statusBadge(row.status)}</td>
</tr>`,
)}
</tbody>
</table>
</div>`;

  const pager =
    input.newerCursor || input.olderCursor
      ? html`<nav class="pager" aria-label="Pages of subscribers">
${input.newerCursor ? html`<a class="button secondary" rel="prev" href="${listHref(siteId, form, { before: input.newerCursor })}">← Newer</a>` : html`<span></span>`}
${input.olderCursor ? html`<a class="button secondary" rel="next" href="${listHref(siteId, form, { after: input.olderCursor })}">Older →</a>` : ''}
</nav>`
      : '';

  let content: Html;
  if (input.rows.length > 0) {
    content = html`${table}${pager}`;
  } else if (input.filtered) {
    content = html`<div class="empty-state"><h2>No subscriber matches these filters</h2><p>Change the filters above, or <a href="${DASHBOARD_PATH}/sites/${siteId}/subscribers">show every subscriber</a>.</p></div>`;
  } else if (input.paged) {
    content = html`<div class="empty-state"><h2>No more subscribers</h2><p><a href="${DASHBOARD_PATH}/sites/${siteId}/subscribers">Back to the newest</a>.</p></div>`;
  } else {
    content = html`<div class="empty-state"><h2>No subscribers yet</h2>
<p>Shoppers appear here once they allow notifications on the shop. For that, the shop needs Pushcart’s script tag on its pages and the service-worker file at its root.</p>
<p><a class="button" href="${DASHBOARD_PATH}/sites/${siteId}/install">Install the snippet</a></p></div>`;
  }

  const body = html`<div class="page-header">
<h1>Subscribers</h1>
<p>${typeof input.activeCount === 'number'
  ? html`<strong class="count">${input.activeCount.toLocaleString('en-GB')}</strong> active ${input.activeCount === 1 ? 'subscription' : 'subscriptions'}`
  : html`More than <strong class="count">${input.activeCount.atLeast.toLocaleString('en-GB')}</strong> active subscriptions`}: browsers that will receive the shop’s pushes.</p>
</div>
<section class="card" aria-labelledby="subscribers-title">
<h2 id="subscribers-title" class="visually-hidden">List of subscribers</h2>
${filterForm}
${input.problems.length > 0 ? notice('error', html`<ul>${input.problems.map((problem) => html`<li>${problem}</li>`)}</ul>`) : ''}
${content}
${input.rows.length > 0 ? zoneNote(input.timeZone) : ''}
</section>`;
  return appPage({ title: `Subscribers · ${chrome.site.name}`, assets: input.assets, chrome, body });
}

function shopperIds(shopper: Shopper): Html {
  return html`<dl class="facts">
<dt>Visitor ids</dt><dd><ul class="id-list">${shopper.visitorIds.map((id) => html`<li class="mono">${id}</li>`)}</ul></dd>
<dt>User ids</dt><dd>${shopper.externalUserIds.length === 0
    ? html`<span class="meta">None: the shop has not told us who this is.</span>`
    : html`<ul class="id-list">${shopper.externalUserIds.map((id) => html`<li class="mono">${id}</li>`)}</ul>`}</dd>
</dl>`;
}

function tableRegion(id: string, caption: string, head: Html, rows: Html[], empty: string): Html {
  if (rows.length === 0) return html`<p class="meta">${empty}</p>`;
  return html`<div class="table-region" role="region" aria-labelledby="${id}" tabindex="0">
<table class="data-table">
<caption id="${id}" class="visually-hidden">${caption}</caption>
<thead><tr>${head}</tr></thead>
<tbody>${rows}</tbody>
</table>
</div>`;
}

function money(value: string, currency: string): string {
  const amount = Number(value);
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

/** A short look at an event's properties: the first few, as key: value. */
function propertySummary(properties: Record<string, unknown>): string {
  const entries = Object.entries(properties).filter(([, value]) => value === null || typeof value !== 'object');
  const shown = entries.slice(0, 4).map(([key, value]) => `${key}: ${String(value)}`);
  const rest = Object.keys(properties).length - shown.length;
  return `${shown.join(', ')}${rest > 0 ? `${shown.length > 0 ? ', ' : ''}+${rest} more` : ''}`.slice(0, 300);
}

/** The welcome push of this subscription, and the first-order code it gave (each code is given once). */
function welcomeLine(welcome: { state: string; code: string | null; updatedAt: Date }, when: (at: Date) => Html | string): Html {
  if (welcome.state === 'scheduled') return html`<p class="welcome">Welcome push: due soon.</p>`;
  if (welcome.state === 'skipped') return html`<p class="welcome">Welcome push: not sent (off, a returning shopper, or already ordered).</p>`;
  return html`<p class="welcome">Welcome push sent ${when(welcome.updatedAt)}. ${welcome.code ? html`Welcome code: <span class="mono">${welcome.code}</span>` : 'Welcome code: none.'}</p>`;
}

export function subscriberDetailPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  timeZone: string;
  subscription: SubscriptionRow;
  shopper: Shopper;
  subscriptions: SubscriptionRow[];
  events: ShopperEvent[];
  deliveries: ShopperDelivery[];
  clicks: ShopperInteraction[];
  orders: ShopperOrder[];
  /** This subscription's welcome push, when the site's welcome was on as it subscribed. */
  welcome?: { state: string; code: string | null; updatedAt: Date };
  recentLimit: number;
  canManage: boolean;
}): Html {
  const { chrome, subscription } = input;
  const siteId = chrome.site.id;
  const when = formatterFor(input.timeZone);
  const subscriberPath = `${DASHBOARD_PATH}/sites/${siteId}/subscribers/${subscription.id}`;
  const titles = new Map(input.deliveries.map((delivery) => [delivery.notification_id, delivery.title]));
  const latest = (count: number, noun: string) => (count >= input.recentLimit ? `The latest ${input.recentLimit} ${noun}; the export has them all.` : '');

  const actions = input.canManage
    ? html`<section class="card" aria-labelledby="data-title">
<h2 id="data-title">This shopper’s data</h2>
<p class="lede">Everything stored about them, for a request to see or take their data (GDPR art. 15 and 20), or erased for a request to be forgotten (art. 17).</p>
<div class="action-row">
<form method="post" action="${subscriberPath}/export">${csrfField(chrome.csrfToken)}<button class="button secondary" type="submit">Download their data (JSON)</button></form>
<a class="button danger" href="${subscriberPath}/erase">Erase this shopper…</a>
</div>
</section>`
    : '';

  const subscriptionRows = input.subscriptions.map(
    (row) => html`<tr${row.id === subscription.id ? html` class="current-row"` : ''}>
<th scope="row" class="mono id-cell">${row.id === subscription.id ? html`${row.visitor_id} <span class="badge current">This one</span>` : html`<a href="${DASHBOARD_PATH}/sites/${siteId}/subscribers/${row.id}">${row.visitor_id}</a>`}</th>
<td>${row.user_agent_family === null ? '—' : (BROWSER_NAMES[row.user_agent_family] ?? row.user_agent_family)}</td>
<td>${row.locale ?? '—'}<span class="sub-line">${row.time_zone ?? 'no time zone'}</span></td>
<td class="tags-cell">${tagList(row.tags)}</td>
<td class="nowrap">${when(row.created_at, true)}</td>
<td class="nowrap">${when(row.last_seen_at, true)}</td>
<td class="nowrap">${when(row.last_success_at, true)}</td>
<td>${statusBadge(row.status)}</td>
</tr>`,
  );

  const deliveryRows = input.deliveries.map((delivery) => {
    const reason = deliveryReasonWords(delivery);
    return html`<tr>
<td>${delivery.title || html`<span class="meta">(no title)</span>`}</td>
<td>${delivery.trigger}</td>
<td class="nowrap">${when(delivery.created_at)}</td>
<td><span class="badge delivery-${delivery.status}">${DELIVERY_STATUS_WORDS[delivery.status] ?? delivery.status}</span>${delivery.sent_at ? html`<br><span class="meta">sent ${when(delivery.sent_at)}</span>` : ''}</td>
<td>${reason ?? html`<span class="meta">—</span>`}${delivery.last_error ? html`<br><span class="meta detail">${delivery.last_error}${delivery.last_status !== null ? ` (HTTP ${delivery.last_status})` : ''}</span>` : ''}</td>
</tr>`;
  });

  const body = html`<p class="breadcrumb"><a href="${DASHBOARD_PATH}/sites/${siteId}/subscribers">← Subscribers</a></p>
<div class="page-header">
<h1>Subscriber <span class="mono">${subscription.visitor_id}</span></h1>
<p>${statusBadge(subscription.status)} Subscribed ${when(subscription.created_at)}; last seen ${when(subscription.last_seen_at)}.</p>
${input.welcome ? welcomeLine(input.welcome, when) : ''}
</div>
${zoneNote(input.timeZone)}
<section class="card" aria-labelledby="shopper-title">
<h2 id="shopper-title">Who this is</h2>
<p class="lede">A shopper is every browser and account their subscriptions tie together: the shop’s user id links the browsers someone signed in on.</p>
${shopperIds(input.shopper)}
</section>
${actions}
<section class="card" aria-labelledby="subscriptions-title">
<h2 id="subscriptions-title">Subscriptions <span class="meta">(${input.subscriptions.length})</span></h2>
${tableRegion(
  'subscriptions-caption',
  'The shopper’s subscriptions',
  html`<th scope="col">Visitor id</th><th scope="col">Browser</th><th scope="col">Locale, time zone</th><th scope="col">Tags</th><th scope="col">Subscribed</th><th scope="col">Last seen</th><th scope="col">Last push received</th><th scope="col">Status</th>`,
  subscriptionRows,
  'None.',
)}
</section>
<section class="card" aria-labelledby="deliveries-title">
<h2 id="deliveries-title">Pushes</h2>
<p class="lede">What was sent to their browsers, and why a push did not go. ${latest(input.deliveries.length, 'pushes')}</p>
${tableRegion(
  'deliveries-caption',
  'Pushes to the shopper, newest first',
  html`<th scope="col">Title</th><th scope="col">Trigger</th><th scope="col">Queued</th><th scope="col">Outcome</th><th scope="col">Why</th>`,
  deliveryRows,
  'No push has been sent to this shopper yet.',
)}
</section>
<section class="card" aria-labelledby="clicks-title">
<h2 id="clicks-title">Clicks</h2>
${tableRegion(
  'clicks-caption',
  'Clicks on pushes, newest first',
  html`<th scope="col">Push</th><th scope="col">Clicked on</th><th scope="col">When</th>`,
  input.clicks.map(
    (click) => html`<tr><td>${titles.get(click.notification_id) ?? html`<span class="mono">${click.notification_id}</span>`}</td><td>${click.action ? html`the button <span class="mono">${click.action}</span>` : 'the notification'}</td><td class="nowrap">${when(click.created_at)}</td></tr>`,
  ),
  'No clicks yet.',
)}
</section>
<section class="card" aria-labelledby="orders-title">
<h2 id="orders-title">Orders</h2>
${tableRegion(
  'orders-caption',
  'Orders, newest first',
  html`<th scope="col">Order</th><th scope="col">Value</th><th scope="col">When</th><th scope="col">Credited to a push</th>`,
  input.orders.map(
    (order) => html`<tr><td class="mono">${order.order_id}</td><td class="nowrap">${money(order.value, order.currency)}</td><td class="nowrap">${when(order.created_at)}</td><td>${order.notification_id === null ? 'No' : html`Yes: ${titles.get(order.notification_id) ?? 'a push'}`}</td></tr>`,
  ),
  'No orders reported.',
)}
</section>
<section class="card" aria-labelledby="events-title">
<h2 id="events-title">Recent events</h2>
<p class="lede">What the shop and the snippet reported. ${latest(input.events.length, 'events')}</p>
${tableRegion(
  'events-caption',
  'Events, newest first',
  html`<th scope="col">Event</th><th scope="col">From</th><th scope="col">When</th><th scope="col">Details</th>`,
  input.events.map(
    (event) => html`<tr><td class="mono">${event.type}</td><td>${event.source === 'server' ? 'The shop' : 'The browser'}</td><td class="nowrap">${when(event.created_at)}</td><td class="detail">${propertySummary(event.properties)}</td></tr>`,
  ),
  'No events.',
)}
</section>`;
  return appPage({ title: `Subscriber ${subscription.visitor_id} · ${chrome.site.name}`, assets: input.assets, chrome, body });
}

export function subscriberErasePage(input: { assets: DashboardAssets; chrome: SiteChrome; subscription: SubscriptionRow; shopper: Shopper; error?: string }): Html {
  const { chrome, subscription } = input;
  const subscriberPath = `${DASHBOARD_PATH}/sites/${chrome.site.id}/subscribers/${subscription.id}`;
  const body = html`<p class="breadcrumb"><a href="${subscriberPath}">← Back to the subscriber</a></p>
<div class="page-header"><h1>Erase this shopper?</h1><p>A request to be forgotten (GDPR art. 17).</p></div>
<section class="card" aria-labelledby="erase-title">
<h2 id="erase-title">What happens</h2>
${input.error ? notice('error', input.error) : ''}
<p>Everything Pushcart stores about this shopper on ${chrome.site.name} is deleted: their subscriptions, events, carts, watches and the prices they saw. Pushes already sent stay only as anonymous counts, so the shop’s figures do not change; pushes still waiting for them will not go.</p>
${shopperIds(input.shopper)}
<form method="post" action="${subscriberPath}/erase" class="erase-form">
${csrfField(chrome.csrfToken)}
<div class="check-field">
<input id="erase-understood" name="understood" type="checkbox" value="yes" required${input.error ? html` aria-invalid="true"` : ''}>
<label for="erase-understood">I understand that this erases the shopper’s data for good and cannot be undone.</label>
</div>
<div class="card-footer"><button class="button danger" type="submit">Erase this shopper</button><a href="${subscriberPath}">Cancel</a></div>
</form>
</section>`;
  return appPage({ title: `Erase a shopper · ${chrome.site.name}`, assets: input.assets, chrome, body });
}

const ERASED_LABELS: Array<[keyof ErasedCounts, string]> = [
  ['subscriptions', 'Subscriptions deleted'],
  ['events', 'Events deleted'],
  ['carts', 'Carts deleted'],
  ['watches', 'Watches deleted'],
  ['pricesSeen', 'Prices seen deleted'],
  ['priceAlerts', 'Price alerts deleted'],
  ['deliveriesAnonymised', 'Pushes kept as anonymous counts'],
  ['deliveriesCancelled', 'Waiting pushes cancelled'],
  ['ordersAnonymised', 'Orders kept without the order id'],
  ['notificationAudiencesScrubbed', 'Sends with their ids removed'],
];

export function subscriberErasedPage(input: { assets: DashboardAssets; chrome: SiteChrome; result: { shopper: Shopper; erased: ErasedCounts } }): Html {
  const { chrome } = input;
  const body = html`<div class="page-header"><h1>Shopper erased</h1></div>
${notice('success', html`The shopper is erased. Nothing that leads to them is left in Pushcart.`)}
<section class="card" aria-labelledby="erased-title">
<h2 id="erased-title">What was erased</h2>
<dl class="counts">
${ERASED_LABELS.map(([key, label]) => html`<div><dt>${label}</dt><dd>${input.result.erased[key]}</dd></div>`)}
</dl>
<p class="meta">The shop’s own records (its orders, accounts and emails) are not Pushcart’s to erase: a request to be forgotten needs them erased there too.</p>
<p><a class="button secondary" href="${DASHBOARD_PATH}/sites/${chrome.site.id}/subscribers">Back to the subscribers</a></p>
</section>`;
  return appPage({ title: `Shopper erased · ${chrome.site.name}`, assets: input.assets, chrome, body });
}
