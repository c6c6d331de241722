/**
 * The page shells every dashboard page is drawn in, with Hono's `html` template: every value put
 * into a template is escaped unless it is itself a template (DESIGN §6.8: everything rendered
 * from stored data is escaped). Nothing here is inline script or style: the CSP forbids both.
 */
import { html } from 'hono/html';
import type { Role } from '../db/database.ts';
import { CSRF_FIELD_NAME } from '../accounts/csrf.ts';
import { can, type Action } from '../accounts/roles.ts';
import type { DashboardAssets } from './assets/assets.ts';

export type Html = ReturnType<typeof html>;

export const DASHBOARD_PATH = '/dashboard';

/** Where a shop's pages start: its overview. */
export function siteHomePath(siteId: string): string {
  return `${DASHBOARD_PATH}/sites/${siteId}/overview`;
}

export function assetUrl(name: string): string {
  return `${DASHBOARD_PATH}/assets/${name}`;
}

function head(title: string, assets: DashboardAssets): Html {
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Pushcart</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl(assets.css.name)}">
<script src="${assetUrl(assets.js.name)}" defer></script>
</head>`;
}

function brand(): Html {
  return html`<span class="brand-mark" aria-hidden="true"></span>Pushcart`;
}

/** The hidden field that carries the CSRF token in every form that posts. */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="${CSRF_FIELD_NAME}" value="${token}">`;
}

/** Pages for someone not (yet) signed in: sign-in, set a password, accept an invite, errors. */
export function authPage(input: { title: string; assets: DashboardAssets; body: Html }): Html {
  return html`<!doctype html>
<html lang="en">
${head(input.title, input.assets)}
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="auth-brand"><a class="brand" href="${DASHBOARD_PATH}">${brand()}</a></header>
<main id="main" class="auth-main" tabindex="-1">
${input.body}
</main>
</body>
</html>`;
}

export interface SignedInChrome {
  user: { email: string; name: string | null };
  csrfToken: string;
  /** The site the page is about, when it is about one. */
  site?: { id: string; name: string; role: Role };
  /** How many sites the user may open: a switch link appears from two on. */
  siteCount: number;
  /** The section of a site page the user is on, marked in the navigation. */
  current?: 'overview' | 'install' | 'subscribers' | 'health' | 'campaigns' | 'segments' | 'automations' | 'templates' | 'prompt' | 'keys' | 'team' | 'audit';
}

/** A section with `only` is linked for the roles that may take that action (its page refuses the others). */
const SITE_SECTIONS: Array<{ key: NonNullable<SignedInChrome['current']>; label: string; path: string; only?: Action }> = [
  { key: 'overview', label: 'Overview', path: 'overview' },
  { key: 'install', label: 'Install', path: 'install' },
  { key: 'subscribers', label: 'Subscribers', path: 'subscribers' },
  { key: 'health', label: 'Delivery health', path: 'health' },
  { key: 'campaigns', label: 'Campaigns', path: 'campaigns' },
  { key: 'segments', label: 'Segments', path: 'segments' },
  { key: 'automations', label: 'Automations', path: 'automations' },
  { key: 'templates', label: 'Templates', path: 'templates' },
  { key: 'prompt', label: 'Prompt', path: 'prompt' },
  { key: 'keys', label: 'Keys', path: 'keys', only: 'manage_keys' },
  { key: 'team', label: 'Team', path: 'team' },
  { key: 'audit', label: 'Audit log', path: 'audit', only: 'manage_users' },
];

/** Pages for a signed-in user: the top bar (site, switch, account, sign out), the site's sections, the content. */
export function appPage(input: { title: string; assets: DashboardAssets; chrome: SignedInChrome; body: Html }): Html {
  const { chrome } = input;
  const who = chrome.user.name ? chrome.user.name : chrome.user.email;
  return html`<!doctype html>
<html lang="en">
${head(input.title, input.assets)}
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
<div class="topbar-inner">
<a class="brand" href="${DASHBOARD_PATH}">${brand()}</a>
${chrome.site
  ? html`<span class="site-name"><span class="visually-hidden">Shop:</span><strong>${chrome.site.name}</strong><span class="badge">${chrome.site.role}</span>${chrome.siteCount > 1
      ? html`<a href="${DASHBOARD_PATH}/sites">Switch shop</a>`
      : ''}</span>`
  : ''}
<div class="topbar-account">
<a class="who" href="${DASHBOARD_PATH}/account" title="${chrome.user.email}">${who}</a>
<form method="post" action="${DASHBOARD_PATH}/sign-out">${csrfField(chrome.csrfToken)}<button class="button secondary small" type="submit">Sign out</button></form>
</div>
</div>
</header>
${chrome.site
  ? html`<nav class="subnav" aria-label="Shop sections"><ul>${SITE_SECTIONS.filter((section) => !section.only || can(chrome.site!.role, section.only)).map(
      (section) =>
        html`<li><a href="${DASHBOARD_PATH}/sites/${chrome.site!.id}/${section.path}"${chrome.current === section.key ? html` aria-current="page"` : ''}>${section.label}</a></li>`,
    )}</ul></nav>`
  : ''}
<main id="main" tabindex="-1">
${input.body}
</main>
<div id="copy-status" class="visually-hidden" role="status" aria-live="polite"></div>
</body>
</html>`;
}

/** A notice box; errors are announced (`role="alert"`) since they arrive with a re-drawn form. */
export function notice(kind: 'error' | 'success' | 'info', content: Html | string): Html {
  return html`<div class="notice ${kind}"${kind === 'error' ? html` role="alert"` : html` role="status"`}>${content}</div>`;
}
