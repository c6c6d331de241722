/**
 * The pages of a signed-in user: the list of their shops, a shop's install page, their account.
 */
import { html } from 'hono/html';
import type { Role } from '../../db/database.ts';
import { installSnippet } from '../../sites/install-snippet.ts';
import type { DashboardAssets } from '../assets/assets.ts';
import type { CheckTone, InstallCheck } from '../install-check.ts';
import { testPushSection, type TestPushSectionInput } from './test-push-section.ts';
import { describeUserAgent } from '../user-agent.ts';
import { appPage, csrfField, DASHBOARD_PATH, notice, siteHomePath, type Html, type SignedInChrome } from '../layout.ts';

export function siteListPage(input: {
  assets: DashboardAssets;
  chrome: SignedInChrome;
  sites: Array<{ siteId: string; name: string; role: Role }>;
}): Html {
  const body =
    input.sites.length === 0
      ? html`<div class="page-header"><h1>No shops yet</h1></div>
<section class="card" aria-labelledby="no-shops">
<h2 id="no-shops">Your account is not part of any shop</h2>
<p>Ask an owner of the shop to invite you from Pushcart, then open the invite link.</p>
</section>`
      : html`<div class="page-header"><h1>Your shops</h1><p>Choose the shop to work on.</p></div>
<section class="card" aria-label="Shops">
<ul class="site-list">
${input.sites.map(
  (site) => html`<li><a href="${siteHomePath(site.siteId)}"><span class="site-title">${site.name}</span><span class="badge">${site.role}</span></a></li>`,
)}
</ul>
</section>`;
  return appPage({ title: 'Your shops', assets: input.assets, chrome: input.chrome, body });
}

export interface InstallForm {
  name: string;
  originsText: string;
  errors: string[];
}

function snippetBlock(id: string, label: string, code: string, hint: Html): Html {
  return html`<div class="snippet">
<div class="snippet-label"><span id="${id}-label">${label}</span><button type="button" class="button secondary small" data-copy-target="${id}" aria-describedby="${id}-label" hidden>Copy</button></div>
<pre id="${id}" tabindex="0"><code>${code}</code></pre>
<p class="hint">${hint}</p>
</div>`;
}

export function installPage(input: {
  assets: DashboardAssets;
  chrome: SignedInChrome & { site: { id: string; name: string; role: Role } };
  publicUrl: string;
  publishableKey: string;
  origins: string[];
  canEdit: boolean;
  /** The form as posted, when it came back with errors. */
  form?: InstallForm;
  saved?: boolean;
  /** The installation check; absent, the section is left out. */
  check?: InstallCheck;
  /** "Send me a test push"; absent, the section is left out. */
  testPush?: TestPushSectionInput;
}): Html {
  const install = installSnippet(input.publicUrl, input.publishableKey);
  const firstOrigin = input.origins[0] ?? 'https://your-shop.example';
  const action = `${DASHBOARD_PATH}/sites/${input.chrome.site.id}/install`;
  const form = input.form ?? { name: input.chrome.site.name, originsText: input.origins.join('\n'), errors: [] };
  const invalid = form.errors.length > 0;

  const originsSection = html`<section class="card" aria-labelledby="origins-title">
<h2 id="origins-title">Allowed origins</h2>
<p class="lede">The shop addresses the snippet may run on. Requests from any other origin are refused, so a copied tag does not work elsewhere.</p>
${input.saved ? notice('success', 'Saved. The new origins apply to the next request.') : ''}
${invalid
  ? notice(
      'error',
      html`<p>The changes were not saved:</p><ul>${form.errors.map((error) => html`<li>${error}</li>`)}</ul>`,
    )
  : ''}
${input.canEdit
  ? html`<form method="post" action="${action}" novalidate>
${csrfField(input.chrome.csrfToken)}
<div class="field">
<label for="site-name">Shop name</label>
<input id="site-name" name="name" type="text" required maxlength="200" value="${form.name}"${invalid ? html` aria-invalid="true"` : ''}>
<p class="help">Shown in the dashboard only.</p>
</div>
<div class="field">
<label for="origins">Origins, one per line</label>
<textarea id="origins" name="origins" class="mono" rows="4" required aria-describedby="origins-help"${invalid ? html` aria-invalid="true"` : ''}>${form.originsText}</textarea>
<p class="help" id="origins-help">Scheme and host, with a port only if it is not the usual one: <code>https://shop.example</code>, <code>https://www.shop.example</code>. No paths. List both the www and the bare address if the shop answers on both.</p>
</div>
<div class="card-footer"><button class="button" type="submit">Save</button></div>
</form>`
  : html`<ul class="origin-list" aria-label="Allowed origins">${input.origins.map((origin) => html`<li>${origin}</li>`)}</ul>
<p class="meta">Your role (${input.chrome.site.role}) can see the install but not change it. An owner of the shop can.</p>`}
</section>`;

  const body = html`<div class="page-header">
<h1>Install</h1>
<p>Two small additions to ${input.chrome.site.name} and shoppers can opt in to notifications.</p>
</div>
<section class="card" aria-labelledby="tag-title">
<h2 id="tag-title">1. Add the script tag</h2>
<p class="lede">Paste it into every page of the shop, inside <code>&lt;head&gt;</code>. It loads in the background and never blocks the page.</p>
${snippetBlock('install-script-tag', 'Script tag', install.scriptTag, html`The <code>data-site</code> value is the shop’s publishable key: it is safe in a page. Never put a secret key (<code>sk_…</code>) in one.`)}
</section>
<section class="card" aria-labelledby="sw-title">
<h2 id="sw-title">2. Serve the service worker</h2>
<p class="lede">Create a file named <code>${install.serviceWorkerPath}</code> at the root of the shop, so that it opens at <code>${firstOrigin}${install.serviceWorkerPath}</code>, containing this one line:</p>
${snippetBlock('install-service-worker', `Contents of ${install.serviceWorkerPath}`, install.serviceWorkerFile, html`Browsers only accept a service worker from the shop’s own origin, which is why this file cannot be served by Pushcart itself.`)}
</section>
<section class="card" aria-labelledby="existing-sw-title">
<h2 id="existing-sw-title">Already have a service worker?</h2>
<p>A shop has one registration per scope, so a second worker would replace the first. Instead:</p>
<ol class="steps">
<li>Add the line above, <code>${install.serviceWorkerFile}</code>, at the top of your existing worker file.</li>
<li>Name that file in the tag with <code>data-sw</code>, for example <code>data-sw="/sw.js"</code>. The snippet then uses your registration instead of making its own.</li>
</ol>
</section>
${input.check ? installCheckSection(input.check, { action, siteName: input.chrome.site.name, origins: input.origins, canEdit: input.canEdit, csrfToken: input.chrome.csrfToken }) : ''}
${originsSection}
${input.testPush ? testPushSection(input.testPush) : ''}`;
  return appPage({ title: `Install · ${input.chrome.site.name}`, assets: input.assets, chrome: { ...input.chrome, current: 'install' }, body });
}

export function accountPage(input: {
  assets: DashboardAssets;
  chrome: SignedInChrome;
  sessions: Array<{ userAgent: string | null; lastSeenAt: Date; current: boolean }>;
  message?: string;
}): Html {
  const body = html`<div class="page-header"><h1>Your account</h1><p>${input.chrome.user.email}</p></div>
${input.message ? notice('success', input.message) : ''}
<section class="card" aria-labelledby="sessions-title">
<h2 id="sessions-title">Where you are signed in</h2>
<p class="lede">${input.sessions.length === 1 ? 'Only here.' : `${input.sessions.length} browsers or devices, this one included.`} Signing out everywhere also ends this session.</p>
<ul class="session-list" aria-label="Sessions">
${input.sessions.map(
  (session) =>
    html`<li><span class="session-browser" title="${session.userAgent ?? ''}">${describeUserAgent(session.userAgent)}</span>${session.current ? html` <span class="badge current">This browser</span>` : ''}<br><span class="meta">Last active ${session.lastSeenAt.toISOString().slice(0, 16).replace('T', ' ')} UTC</span></li>`,
)}
</ul>
<form method="post" action="${DASHBOARD_PATH}/sign-out-everywhere">
${csrfField(input.chrome.csrfToken)}
<button class="button danger" type="submit">Sign out everywhere</button>
</form>
</section>`;
  return appPage({ title: 'Your account', assets: input.assets, chrome: input.chrome, body });
}

/** The install form takes at most this many origins (newSiteSchema, sites/site-input.ts): no "add" button past it. */
const MAX_ALLOWED_ORIGINS = 50;

const CHECK_TONE_LABEL: Record<CheckTone, string> = { working: 'Working', waiting: 'Waiting', problem: 'Needs a look' };

/**
 * "Installation check": a line per origin with what the snippet's requests showed and, when
 * something is off, what to do. A refused origin can be added with one button: it posts the
 * install form with the current name and origins plus that one, so it needs no script.
 */
function installCheckSection(
  check: InstallCheck,
  form: { action: string; siteName: string; origins: string[]; canEdit: boolean; csrfToken: string },
): Html {
  return html`<section class="card" aria-labelledby="check-title">
<h2 id="check-title">Installation check</h2>
<p class="lede">What the shop’s pages have sent from each origin: the snippet asks for its config on page views and sends a subscription when a shopper allows notifications. Times are in ${check.timeZone}; a new request shows within a minute or so.</p>
<ul class="check-list" aria-label="Origins">
${check.origins.map(
  (origin) => html`<li class="check ${origin.tone}">
<p class="check-headline"><span class="badge check-badge ${origin.tone}">${CHECK_TONE_LABEL[origin.tone]}</span> ${origin.headline}</p>
${origin.advice.length > 0 ? html`<ul class="check-advice">${origin.advice.map((line) => html`<li>${line}</li>`)}</ul>` : ''}
${origin.suggestAdding && form.canEdit && form.origins.length < MAX_ALLOWED_ORIGINS
  ? html`<form method="post" action="${form.action}" class="check-add">
${csrfField(form.csrfToken)}
<input type="hidden" name="name" value="${form.siteName}">
<input type="hidden" name="origins" value="${[...form.origins, origin.origin].join('\n')}">
<button class="button secondary small" type="submit">Add ${origin.origin} to the allowed origins</button>
</form>`
  : ''}
</li>`,
)}
</ul>
${check.moreRefused > 0 ? html`<p class="meta">And ${check.moreRefused} more refused origins, not shown.</p>` : ''}
</section>`;
}
