/**
 * A shop's keys, team and audit log: the publishable key, the secret keys (a new one shown once),
 * the people and their roles, invites, and who changed what. Every value from stored data goes
 * through `html` and is escaped.
 */
import { html } from 'hono/html';
import type { Role } from '../../db/database.ts';
import type { DashboardAssets } from '../assets/assets.ts';
import { appPage, csrfField, DASHBOARD_PATH, notice, type Html, type SignedInChrome } from '../layout.ts';

type SiteChrome = SignedInChrome & { site: { id: string; name: string; role: Role } };

export interface KeyListItem {
  id: string;
  name: string | null;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface MemberListItem {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  lastSignInAt: Date | null;
}

export interface PendingInviteItem {
  id: string;
  email: string;
  role: Role;
  expiresAt: Date;
}

/** `2030-01-15 09:00 UTC`: one unambiguous form for every time on these pages. */
export function utcMinute(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function time(date: Date): Html {
  return html`<time datetime="${date.toISOString()}">${utcMinute(date)}</time>`;
}

function keyName(key: { name: string | null; prefix: string }): Html {
  return key.name ? html`<strong>${key.name}</strong>` : html`<span class="meta">(no name)</span>`;
}

function sitePath(chrome: SiteChrome, rest: string): string {
  return `${DASHBOARD_PATH}/sites/${chrome.site.id}/${rest}`;
}

function copyBlock(id: string, label: string, value: string, hint?: Html): Html {
  return html`<div class="snippet">
<div class="snippet-label"><span id="${id}-label">${label}</span><button type="button" class="button secondary small" data-copy-target="${id}" aria-describedby="${id}-label" hidden>Copy</button></div>
<pre id="${id}" tabindex="0"><code>${value}</code></pre>
${hint ? html`<p class="hint">${hint}</p>` : ''}
</div>`;
}

const ROLE_WORDS: Record<Role, string> = {
  owner: 'Owner: everything, including keys, the install and the team',
  editor: 'Editor: automations, templates, prompt and campaigns',
  viewer: 'Viewer: reads every page, changes nothing',
};

function roleOptions(selected: Role): Html {
  return html`${(['owner', 'editor', 'viewer'] as const).map((role) => html`<option value="${role}"${role === selected ? html` selected` : ''}>${role}</option>`)}`;
}

// --- keys ---

export function keysPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  publishableKey: string;
  keys: KeyListItem[];
  /** What the create form held when it came back with an error. */
  form?: { name: string; error: string };
  revoked?: string;
}): Html {
  const { chrome } = input;
  const live = input.keys.filter((key) => key.revokedAt === null);
  const body = html`<div class="page-header">
<h1>Keys</h1>
<p>The publishable key goes in the shop’s pages; secret keys are for the shop’s own server and scripts.</p>
</div>
<section class="card" aria-labelledby="publishable-title">
<h2 id="publishable-title">Publishable key</h2>
<p class="lede">Safe in a web page: it can only subscribe shoppers and report what they do, from the allowed origins.</p>
${copyBlock('publishable-key', 'Publishable key', input.publishableKey)}
</section>
<section class="card" aria-labelledby="secret-title">
<h2 id="secret-title">Secret keys</h2>
<p class="lede">A secret key sends notifications and changes settings through the API. Keep it on a server; never put it in a page or an app.</p>
${input.revoked ? notice('success', html`Revoked the key ${input.revoked}: requests with it are refused from now on.`) : ''}
${input.keys.length === 0
  ? html`<p>No secret keys yet.</p>`
  : html`<table class="data-table stacked-table">
<caption class="visually-hidden">Secret keys, oldest first</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Status</th></tr></thead>
<tbody>
${input.keys.map(
  (key) => html`<tr${key.revokedAt ? html` class="revoked"` : ''}>
<td data-label="Name">${keyName(key)}</td>
<td data-label="Key"><code>${key.prefix}…</code></td>
<td data-label="Created">${time(key.createdAt)}</td>
<td data-label="Last used">${key.lastUsedAt ? time(key.lastUsedAt) : html`<span class="meta">never</span>`}</td>
<td data-label="Status">${key.revokedAt
    ? html`<span class="badge">revoked</span> <span class="meta">${time(key.revokedAt)}</span>`
    : html`<span class="badge current">live</span> <a class="revoke-link" href="${sitePath(chrome, `keys/revoke?key=${key.id}`)}">Revoke<span class="visually-hidden"> ${key.name ?? ''} ${key.prefix}…</span></a>`}</td>
</tr>`,
)}
</tbody>
</table>`}
<p class="meta">${live.length === 1 ? '1 live key' : `${live.length} live keys`}. “Last used” is updated at most once an hour.</p>
</section>
<section class="card" aria-labelledby="create-key-title">
<h2 id="create-key-title">Create a secret key</h2>
${input.form ? notice('error', input.form.error) : ''}
<form method="post" action="${sitePath(chrome, 'keys')}" novalidate>
${csrfField(chrome.csrfToken)}
<div class="field">
<label for="key-name">Name</label>
<input id="key-name" name="name" type="text" required maxlength="60" value="${input.form?.name ?? ''}" aria-describedby="key-name-help"${input.form ? html` aria-invalid="true"` : ''}>
<p class="help" id="key-name-help">What uses it, so you know which one to revoke later: “backend”, “ERP export”.</p>
</div>
<div class="card-footer"><button class="button" type="submit">Create secret key</button></div>
</form>
</section>`;
  return appPage({ title: `Keys · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'keys' }, body });
}

/** The answer to creating a key: the only time the whole key is ever shown. */
export function keyCreatedPage(input: { assets: DashboardAssets; chrome: SiteChrome; key: KeyListItem; secretKey: string }): Html {
  const { chrome } = input;
  const body = html`<div class="page-header"><h1>Your new secret key</h1></div>
<section class="card" aria-labelledby="new-key-title">
<h2 id="new-key-title">${input.key.name ?? input.key.prefix}</h2>
${notice(
  'info',
  html`<p><strong>Copy this key now: it is shown only this once.</strong> Pushcart keeps only a hash of it, so nobody can show it to you again. If it is lost, create another and revoke this one.</p>`,
)}
${copyBlock('new-secret-key', 'Secret key', input.secretKey, html`Use it as <code>Authorization: Bearer …</code> from your server. Anyone who has it can send notifications to your shoppers.`)}
<div class="card-footer"><a class="button" href="${sitePath(chrome, 'keys')}">Done, back to the keys</a></div>
</section>`;
  return appPage({ title: `New secret key · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'keys' }, body });
}

export function revokeKeyPage(input: { assets: DashboardAssets; chrome: SiteChrome; key: KeyListItem }): Html {
  const { chrome, key } = input;
  const body = html`<div class="page-header"><h1>Revoke a secret key</h1></div>
<section class="card" aria-labelledby="revoke-title">
<h2 id="revoke-title">Revoke ${key.name ? html`“${key.name}” ` : ''}<code>${key.prefix}…</code>?</h2>
<p>Every request made with this key is refused from the moment you confirm, including any server or script still using it. This cannot be undone; a new key can be created at any time.</p>
<p class="meta">Last used: ${key.lastUsedAt ? time(key.lastUsedAt) : 'never'}.</p>
<form method="post" action="${sitePath(chrome, 'keys/revoke')}">
${csrfField(chrome.csrfToken)}
<input type="hidden" name="key" value="${key.id}">
<div class="card-footer"><button class="button danger" type="submit">Revoke the key</button><a href="${sitePath(chrome, 'keys')}">Cancel</a></div>
</form>
</section>`;
  return appPage({ title: `Revoke a key · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'keys' }, body });
}

// --- team ---

export function teamPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome & { user: { email: string } };
  currentUserId: string;
  members: MemberListItem[];
  invites: PendingInviteItem[];
  canManage: boolean;
  error?: string;
  success?: string;
  inviteForm?: { email: string; role: Role };
}): Html {
  const { chrome } = input;
  const body = html`<div class="page-header">
<h1>Team</h1>
<p>Who can open ${chrome.site.name} in Pushcart, and what each may do.</p>
</div>
${input.error ? notice('error', input.error) : ''}
${input.success ? notice('success', input.success) : ''}
<section class="card" aria-labelledby="members-title">
<h2 id="members-title">Members</h2>
<table class="data-table stacked-table">
<caption class="visually-hidden">Members and their roles</caption>
<thead><tr><th scope="col">Person</th><th scope="col">Role</th>${input.canManage ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}</tr></thead>
<tbody>
${input.members.map(
  (member) => html`<tr>
<td data-label="Person"><strong>${member.name ?? member.email}</strong>${member.id === input.currentUserId ? html` <span class="badge current">you</span>` : ''}${member.name ? html`<br><span class="meta">${member.email}</span>` : ''}<br><span class="meta">${member.lastSignInAt ? html`Last signed in ${time(member.lastSignInAt)}` : 'Has not signed in yet'}</span></td>
<td data-label="Role">${input.canManage
    ? html`<form class="inline-form" method="post" action="${sitePath(chrome, 'team/role')}">
${csrfField(chrome.csrfToken)}<input type="hidden" name="user" value="${member.id}">
<label class="visually-hidden" for="role-${member.id}">Role of ${member.email}</label>
<select id="role-${member.id}" name="role">${roleOptions(member.role)}</select>
<button class="button secondary small" type="submit">Change<span class="visually-hidden"> the role of ${member.email}</span></button>
</form>`
    : html`<span class="badge">${member.role}</span>`}</td>
${input.canManage
  ? html`<td data-label=""><a href="${sitePath(chrome, `team/remove?user=${member.id}`)}">Remove<span class="visually-hidden"> ${member.email}</span></a></td>`
  : ''}
</tr>`,
)}
</tbody>
</table>
<p class="meta">A shop always keeps at least one owner: the only owner cannot be made an editor or a viewer, nor removed. Make someone else an owner first.</p>
${input.canManage ? '' : html`<p class="meta">Your role (${chrome.site.role}) can see the team but not change it. An owner of the shop can.</p>`}
</section>
${input.canManage
  ? html`<section class="card" aria-labelledby="invite-title">
<h2 id="invite-title">Invite someone</h2>
<p class="lede">You get a link to send them yourself (Pushcart sends no email). It works once, for a week.</p>
<form method="post" action="${sitePath(chrome, 'team/invite')}" novalidate>
${csrfField(chrome.csrfToken)}
<div class="field">
<label for="invite-email">Email</label>
<input id="invite-email" name="email" type="email" required maxlength="254" autocomplete="off" value="${input.inviteForm?.email ?? ''}">
</div>
<div class="field">
<label for="invite-role">Role</label>
<select id="invite-role" name="role" aria-describedby="invite-role-help">${roleOptions(input.inviteForm?.role ?? 'editor')}</select>
<ul class="help role-help" id="invite-role-help">${(['owner', 'editor', 'viewer'] as const).map((role) => html`<li>${ROLE_WORDS[role]}</li>`)}</ul>
</div>
<div class="card-footer"><button class="button" type="submit">Make an invite link</button></div>
</form>
</section>
<section class="card" aria-labelledby="invites-title">
<h2 id="invites-title">Pending invites</h2>
${input.invites.length === 0
  ? html`<p class="meta">None waiting.</p>`
  : html`<ul class="plain-list" aria-label="Pending invites">${input.invites.map(
      (invite) => html`<li><span><strong>${invite.email}</strong> <span class="badge">${invite.role}</span><br><span class="meta">Expires ${time(invite.expiresAt)}</span></span>
<form method="post" action="${sitePath(chrome, 'team/invites/revoke')}">${csrfField(chrome.csrfToken)}<input type="hidden" name="invite" value="${invite.id}"><button class="button danger small" type="submit">Withdraw<span class="visually-hidden"> the invite for ${invite.email}</span></button></form></li>`,
    )}</ul>`}
</section>`
  : ''}`;
  return appPage({ title: `Team · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'team' }, body });
}

/** The answer to making an invite: its link, to hand over (the token is stored only as a hash). */
export function inviteCreatedPage(input: { assets: DashboardAssets; chrome: SiteChrome; email: string; role: Role; url: string; expiresAt: Date }): Html {
  const { chrome } = input;
  const body = html`<div class="page-header"><h1>Invite link for ${input.email}</h1></div>
<section class="card" aria-labelledby="invite-link-title">
<h2 id="invite-link-title">Send this link to ${input.email}</h2>
<p class="lede">Opening it lets them join ${chrome.site.name} as ${input.role === 'owner' ? 'an owner' : input.role === 'editor' ? 'an editor' : 'a viewer'}. It works once, until ${time(input.expiresAt)}. Copy it now: it is not shown again (you can withdraw it and make another).</p>
${copyBlock('invite-link', 'Invite link', input.url, html`Anyone with the link can join as this role, so send it only to ${input.email}.`)}
<div class="card-footer"><a class="button" href="${sitePath(chrome, 'team')}">Back to the team</a></div>
</section>`;
  return appPage({ title: `Invite link · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'team' }, body });
}

export function removeMemberPage(input: { assets: DashboardAssets; chrome: SiteChrome; member: MemberListItem; self: boolean }): Html {
  const { chrome, member } = input;
  const body = html`<div class="page-header"><h1>Remove a member</h1></div>
<section class="card" aria-labelledby="remove-title">
<h2 id="remove-title">Remove ${member.name ?? member.email} from ${chrome.site.name}?</h2>
<p>${input.self ? 'You will no longer be able to open this shop.' : `${member.email} will no longer be able to open this shop.`} Their account stays, with any other shops it belongs to. They can be invited again later.</p>
<form method="post" action="${sitePath(chrome, 'team/remove')}">
${csrfField(chrome.csrfToken)}
<input type="hidden" name="user" value="${member.id}">
<div class="card-footer"><button class="button danger" type="submit">Remove ${input.self ? 'me' : 'them'}</button><a href="${sitePath(chrome, 'team')}">Cancel</a></div>
</form>
</section>`;
  return appPage({ title: `Remove a member · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'team' }, body });
}

// --- audit ---

export function auditLogPage(input: {
  assets: DashboardAssets;
  chrome: SiteChrome;
  rows: Array<{ id: string; at: Date; words: string; actorKind: string }>;
  next?: string;
  older: boolean;
  retentionDays: number;
}): Html {
  const { chrome } = input;
  const body = html`<div class="page-header">
<h1>Audit log</h1>
<p>Who changed what on ${chrome.site.name}, newest first. Entries are kept ${input.retentionDays} days.</p>
</div>
<section class="card" aria-labelledby="audit-title">
<h2 id="audit-title">${input.older ? 'Older changes' : 'Recent changes'}</h2>
${input.rows.length === 0
  ? html`<p class="meta">${input.older ? 'No older entries.' : 'Nothing has been changed yet.'}</p>`
  : html`<ol class="audit-list">${input.rows.map(
      (row) => html`<li><span class="audit-time">${time(row.at)}</span><span class="audit-words">${row.words}</span></li>`,
    )}</ol>`}
<div class="pager">${input.older ? html`<a href="${sitePath(chrome, 'audit')}">Newest</a>` : ''}${input.next ? html`<a href="${sitePath(chrome, `audit?before=${input.next}`)}">Older entries</a>` : ''}</div>
</section>`;
  return appPage({ title: `Audit log · ${chrome.site.name}`, assets: input.assets, chrome: { ...chrome, current: 'audit' }, body });
}
