/**
 * A shop's Keys, Team and Audit log pages. Who may do what:
 *
 * - Keys (`manage_keys`, owners): other roles get a 403 page and no link. A secret key is shown
 *   whole once, in the answer to the POST that made it (`Cache-Control: no-store`, never stored:
 *   only its hash is kept), so no later page, reload of a GET, or cache can show it again.
 * - Team: every member may read who else is a member and with which role (knowing who to ask
 *   for a change is part of working on a shop; emails of one's own colleagues are not secret
 *   among them). Changing roles, removing people, invites and their links are `manage_users`
 *   (owners). A change never leaves a shop without an owner: `changeMembership` locks the shop's
 *   owner rows and refuses to demote or remove the last one.
 * - Audit log (`manage_users`, owners): it names every member, invite and key, so it is read by
 *   those who manage them.
 *
 * Every change is recorded in the audit log in the same transaction as the change (for role
 * changes and removals, inside `changeMembership`'s, after its owner guard).
 */
import type { Hono } from 'hono';
import type { AppDeps } from '../app-env.ts';
import { normalizeEmail } from '../accounts/email.ts';
import { createInvite } from '../accounts/links.ts';
import { can, isRole, type Action } from '../accounts/roles.ts';
import { AUDIT_RETENTION_DAYS, auditPage, recordAudit, userActor, type AuditActor, type AuditEvent } from '../audit/audit-log.ts';
import type { Role } from '../db/database.ts';
import { listPendingInvites, revokeInvite } from '../db/invites.ts';
import { changeMembership, findSiteForMember } from '../db/memberships.ts';
import type { LiveSession } from '../db/sessions.ts';
import { listSecretKeys, revokeSecretKey, type SecretKeySummary } from '../db/secret-keys.ts';
import type { SiteRow } from '../db/sites.ts';
import { listUsersOfSite } from '../db/users.ts';
import { createSecretKey } from '../sites/create-site.ts';
import { dashboardAssets } from './assets/assets.ts';
import { DASHBOARD_PATH, type Html, type SignedInChrome } from './layout.ts';
import { inviteLinkUrl } from './links.ts';
import {
  auditLogPage,
  inviteCreatedPage,
  keyCreatedPage,
  keysPage,
  removeMemberPage,
  revokeKeyPage,
  teamPage,
  type KeyListItem,
  type MemberListItem,
} from './pages/team-pages.ts';
import type { DashboardContext, DashboardEnv, Refusal } from './routes.ts';

/** A key's name: short enough for a table cell, long enough to say what uses it. */
export const KEY_NAME_MAX_CHARACTERS = 60;

/** What routes.ts lends these routes: its page helpers and checks, so every page is guarded alike. */
export interface DashboardKit {
  now: () => Date;
  publicUrl: string;
  page: (c: DashboardContext, body: Html, status?: 200 | 403 | 404 | 422 | 429 | 500 | 503) => Promise<Response>;
  message: (c: DashboardContext, status: 403 | 404 | 500 | 503, heading: string, text: string, link?: { href: string; label: string }) => Promise<Response>;
  refuse: (c: DashboardContext, refusal: Refusal) => Promise<Response>;
  signedInPost: (c: DashboardContext) => Promise<{ refusal: Refusal } | { live: LiveSession; token: string; fields: Record<string, string> }>;
  toSignIn: (c: DashboardContext) => Response;
  chromeFor: (live: LiveSession, token: string) => Promise<{ chrome: SignedInChrome }>;
}

type Member = NonNullable<Awaited<ReturnType<typeof findSiteForMember>>>;


/** What an install form changed (the shop's name, origins added and removed), for the audit log. */
export function installChange(before: Pick<SiteRow, 'name' | 'allowed_origins'>, after: { name: string; origins: string[] }): AuditEvent {
  return {
    action: 'install_changed',
    ...(before.name !== after.name ? { renamed: { from: before.name, to: after.name } } : {}),
    originsAdded: after.origins.filter((origin) => !before.allowed_origins.includes(origin)),
    originsRemoved: before.allowed_origins.filter((origin) => !after.origins.includes(origin)),
  };
}

function keyItem(key: SecretKeySummary): KeyListItem {
  return { id: key.id, name: key.name, prefix: key.prefix, createdAt: key.created_at, lastUsedAt: key.last_used_at, revokedAt: key.revoked_at };
}

const NOT_ALLOWED: Partial<Record<Action, string>> = {
  manage_keys: 'see or change the secret keys',
  manage_users: 'change the team or read the audit log',
};

export function registerTeamRoutes(app: Hono<DashboardEnv>, deps: AppDeps, kit: DashboardKit): void {
  const db = deps.db;

  function notFound(c: DashboardContext) {
    return kit.message(c, 404, 'Page not found', 'There is no such shop among yours.');
  }

  function notAllowed(c: DashboardContext, member: Member, action: Action, back: string) {
    return kit.message(c, 403, 'Not allowed', `Your role on ${member.site.name} (${member.role}) cannot ${NOT_ALLOWED[action] ?? action}. Nothing was changed.`, {
      href: `${DASHBOARD_PATH}/sites/${member.site.id}/${back}`,
      label: 'Back',
    });
  }

  /** A GET of a site page: signed in, a member (404 otherwise), allowed `action` (403 otherwise). */
  async function sitePage(c: DashboardContext, action: Action) {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return { response: kit.toSignIn(c) };
    const member = await findSiteForMember(db, live.user.id, c.req.param('siteId') ?? '');
    if (!member) return { response: await notFound(c) };
    if (!can(member.role, action)) return { response: await notAllowed(c, member, action, 'install') };
    return { live, token, member };
  }

  /** A POST of a site form: same site, CSRF, a member (404), allowed `action` (403). */
  async function siteForm(c: DashboardContext, action: Action, back: string) {
    const checked = await kit.signedInPost(c);
    if ('refusal' in checked) return { response: await kit.refuse(c, checked.refusal) };
    const member = await findSiteForMember(db, checked.live.user.id, c.req.param('siteId') ?? '');
    if (!member) return { response: await notFound(c) };
    if (!can(member.role, action)) return { response: await notAllowed(c, member, action, back) };
    return { ...checked, member };
  }

  async function siteChrome(live: LiveSession, token: string, member: Member) {
    const [assets, { chrome }] = await Promise.all([dashboardAssets(), kit.chromeFor(live, token)]);
    return { assets, chrome: { ...chrome, site: { id: member.site.id, name: member.site.name, role: member.role } } };
  }

  const sitePath = (member: Member, rest: string) => `${DASHBOARD_PATH}/sites/${member.site.id}/${rest}`;

  // --- keys ---

  async function renderKeys(c: DashboardContext, live: LiveSession, token: string, member: Member, extra: { form?: { name: string; error: string }; revoked?: string } = {}) {
    const [{ assets, chrome }, keys] = await Promise.all([siteChrome(live, token, member), listSecretKeys(db, member.site.id)]);
    return kit.page(c, keysPage({ assets, chrome, publishableKey: member.site.publishable_key, keys: keys.map(keyItem), ...extra }), extra.form ? 422 : 200);
  }

  app.get('/sites/:siteId/keys', async (c) => {
    const found = await sitePage(c, 'manage_keys');
    if ('response' in found) return found.response;
    const revokedId = c.req.query('revoked');
    const revoked = revokedId ? (await listSecretKeys(db, found.member.site.id)).find((key) => key.id === revokedId) : undefined;
    return renderKeys(c, found.live, found.token, found.member, revoked ? { revoked: revoked.name ? `“${revoked.name}” (${revoked.prefix}…)` : `${revoked.prefix}…` } : {});
  });

  app.post('/sites/:siteId/keys', async (c) => {
    const found = await siteForm(c, 'manage_keys', 'keys');
    if ('response' in found) return found.response;
    const { live, token, member, fields } = found;
    const name = (fields.name ?? '').trim();
    const problem =
      name === ''
        ? 'Give the key a name, so you can tell later what uses it.'
        : [...name].length > KEY_NAME_MAX_CHARACTERS
          ? `The name is too long: at most ${KEY_NAME_MAX_CHARACTERS} characters, it has ${[...name].length}.`
          : undefined;
    if (problem) return renderKeys(c, live, token, member, { form: { name, error: problem } });
    const now = kit.now();
    const created = await db.transaction().execute(async (trx) => {
      // A live key of the same name is refused: names tell keys apart, and a form sent twice
      // (a reload of this answer) then makes no second key.
      const liveKeys = (await listSecretKeys(trx, member.site.id)).filter((key) => key.revoked_at === null);
      if (liveKeys.some((key) => key.name === name)) return undefined;
      const made = await createSecretKey(trx, member.site.id, name);
      await recordAudit(trx, member.site.id, userActor(found.live.user), { action: 'key_created', key: made.key }, now);
      return made;
    });
    if (!created) return renderKeys(c, live, token, member, { form: { name, error: `A live key is already called “${name}”. Choose another name, or revoke that key first.` } });
    deps.logger.log('info', 'secret key created', { siteId: member.site.id, keyId: created.key.id, userId: live.user.id, requestId: c.get('requestId') });
    const { assets, chrome } = await siteChrome(live, token, member);
    // The one answer that holds the key: never cached, never sent on in a Referer.
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    return kit.page(c, keyCreatedPage({ assets, chrome, key: keyItem(created.key), secretKey: created.secretKey }));
  });

  app.get('/sites/:siteId/keys/revoke', async (c) => {
    const found = await sitePage(c, 'manage_keys');
    if ('response' in found) return found.response;
    const keyId = c.req.query('key');
    const key = keyId ? (await listSecretKeys(db, found.member.site.id)).find((candidate) => candidate.id === keyId && candidate.revoked_at === null) : undefined;
    if (!key) return c.redirect(sitePath(found.member, 'keys'), 303);
    const { assets, chrome } = await siteChrome(found.live, found.token, found.member);
    return kit.page(c, revokeKeyPage({ assets, chrome, key: keyItem(key) }));
  });

  app.post('/sites/:siteId/keys/revoke', async (c) => {
    const found = await siteForm(c, 'manage_keys', 'keys');
    if ('response' in found) return found.response;
    const { member, fields } = found;
    const now = kit.now();
    const revoked = await db.transaction().execute(async (trx) => {
      const key = (await listSecretKeys(trx, member.site.id)).find((candidate) => candidate.id === fields.key);
      // Unknown, another shop's, or revoked already: nothing to do (and nothing to record).
      if (!key || key.revoked_at !== null) return key;
      const done = await revokeSecretKey(trx, member.site.id, key.id, now);
      if (done) await recordAudit(trx, member.site.id, userActor(found.live.user), { action: 'key_revoked', key: done }, now);
      return done;
    });
    if (!revoked) return kit.message(c, 404, 'No such key', 'This shop has no such secret key. Nothing was changed.', { href: sitePath(member, 'keys'), label: 'Back to the keys' });
    deps.logger.log('info', 'secret key revoked', { siteId: member.site.id, keyId: revoked.id, userId: found.live.user.id, requestId: c.get('requestId') });
    return c.redirect(sitePath(member, `keys?revoked=${revoked.id}`), 303);
  });

  // --- team ---

  async function members(siteId: string): Promise<MemberListItem[]> {
    const users = await listUsersOfSite(db, siteId);
    return users.map((user) => ({ id: user.id, email: user.email, name: user.name, role: user.role, lastSignInAt: user.last_sign_in_at }));
  }

  async function renderTeam(
    c: DashboardContext,
    live: LiveSession,
    token: string,
    member: Member,
    extra: { error?: string; success?: string; inviteForm?: { email: string; role: Role }; status?: 200 | 422 } = {},
  ) {
    const canManage = can(member.role, 'manage_users');
    const [{ assets, chrome }, people, invites] = await Promise.all([
      siteChrome(live, token, member),
      members(member.site.id),
      canManage ? listPendingInvites(db, member.site.id, kit.now()) : Promise.resolve([]),
    ]);
    return kit.page(
      c,
      teamPage({
        assets,
        chrome,
        currentUserId: live.user.id,
        members: people,
        invites: invites.map((invite) => ({ id: invite.id, email: invite.email, role: invite.role, expiresAt: invite.expires_at })),
        canManage,
        ...(extra.error ? { error: extra.error } : {}),
        ...(extra.success ? { success: extra.success } : {}),
        ...(extra.inviteForm ? { inviteForm: extra.inviteForm } : {}),
      }),
      extra.status ?? 200,
    );
  }

  const TEAM_MESSAGES: Record<string, string> = {
    role: 'The role was changed.',
    removed: 'The member was removed.',
    withdrawn: 'The invite was withdrawn; its link no longer works.',
  };

  app.get('/sites/:siteId/team', async (c) => {
    const found = await sitePage(c, 'read');
    if ('response' in found) return found.response;
    const done = TEAM_MESSAGES[c.req.query('done') ?? ''];
    return renderTeam(c, found.live, found.token, found.member, done ? { success: done } : {});
  });

  const lastOwner = (member: Member, who: MemberListItem) =>
    `${who.name ?? who.email} is the only owner of ${member.site.name}, and a shop must keep at least one owner (someone has to be able to manage its keys and team). Make someone else an owner first. Nothing was changed.`;

  app.post('/sites/:siteId/team/role', async (c) => {
    const found = await siteForm(c, 'manage_users', 'team');
    if ('response' in found) return found.response;
    const { live, token, member, fields } = found;
    const role = fields.role;
    const target = (await members(member.site.id)).find((person) => person.id === fields.user);
    if (!target || !isRole(role)) return renderTeam(c, live, token, member, { error: 'That person is not a member of this shop, or that is not a role. Nothing was changed.', status: 422 });
    if (target.role === role) return c.redirect(sitePath(member, 'team'), 303);
    const outcome = await changeMembership(db, member.site.id, target.id, role, (trx) =>
      recordAudit(trx, member.site.id, userActor(live.user), { action: 'member_role_changed', email: target.email, from: target.role, to: role }, kit.now()),
    );
    if (outcome === 'last_owner') return renderTeam(c, live, token, member, { error: lastOwner(member, target), status: 422 });
    if (outcome === 'not_found') return renderTeam(c, live, token, member, { error: 'That person is no longer a member of this shop. Nothing was changed.', status: 422 });
    deps.logger.log('info', 'member role changed', { siteId: member.site.id, userId: live.user.id, memberId: target.id, requestId: c.get('requestId') });
    return c.redirect(sitePath(member, 'team?done=role'), 303);
  });

  app.get('/sites/:siteId/team/remove', async (c) => {
    const found = await sitePage(c, 'manage_users');
    if ('response' in found) return found.response;
    const target = (await members(found.member.site.id)).find((person) => person.id === c.req.query('user'));
    if (!target) return c.redirect(sitePath(found.member, 'team'), 303);
    const { assets, chrome } = await siteChrome(found.live, found.token, found.member);
    return kit.page(c, removeMemberPage({ assets, chrome, member: target, self: target.id === found.live.user.id }));
  });

  app.post('/sites/:siteId/team/remove', async (c) => {
    const found = await siteForm(c, 'manage_users', 'team');
    if ('response' in found) return found.response;
    const { live, token, member, fields } = found;
    const target = (await members(member.site.id)).find((person) => person.id === fields.user);
    if (!target) return renderTeam(c, live, token, member, { error: 'That person is not a member of this shop. Nothing was changed.', status: 422 });
    const outcome = await changeMembership(db, member.site.id, target.id, undefined, (trx) =>
      recordAudit(trx, member.site.id, userActor(live.user), { action: 'member_removed', email: target.email, role: target.role }, kit.now()),
    );
    if (outcome === 'last_owner') return renderTeam(c, live, token, member, { error: lastOwner(member, target), status: 422 });
    if (outcome === 'changed') {
      deps.logger.log('info', 'member removed', { siteId: member.site.id, userId: live.user.id, memberId: target.id, requestId: c.get('requestId') });
    }
    // Someone who removed themselves can no longer open the shop.
    if (target.id === live.user.id) return c.redirect(DASHBOARD_PATH, 303);
    return c.redirect(sitePath(member, 'team?done=removed'), 303);
  });

  app.post('/sites/:siteId/team/invite', async (c) => {
    const found = await siteForm(c, 'manage_users', 'team');
    if ('response' in found) return found.response;
    const { live, token, member, fields } = found;
    const email = (fields.email ?? '').trim();
    const role = fields.role;
    if (!isRole(role)) return renderTeam(c, live, token, member, { error: 'Choose a role: owner, editor or viewer.', inviteForm: { email, role: 'editor' }, status: 422 });
    const normalized = normalizeEmail(email);
    const existing = normalized === undefined ? undefined : (await members(member.site.id)).find((person) => person.email === normalized);
    if (existing) {
      return renderTeam(c, live, token, member, {
        error: `${email} is already a member (${existing.role}). Change their role in the list instead.`,
        inviteForm: { email, role },
        status: 422,
      });
    }
    const now = kit.now();
    const created = await db.transaction().execute(async (trx) => {
      const made = await createInvite(trx, { siteId: member.site.id, email, role, createdBy: live.user.id }, now);
      if (made.outcome === 'created') await recordAudit(trx, member.site.id, userActor(live.user), { action: 'member_invited', email: made.invite.email, role }, now);
      return made;
    });
    if (created.outcome !== 'created') {
      return renderTeam(c, live, token, member, { error: `“${email}” is not an email address. Check it and try again.`, inviteForm: { email, role }, status: 422 });
    }
    deps.logger.log('info', 'invite created', { siteId: member.site.id, userId: live.user.id, inviteId: created.invite.id, requestId: c.get('requestId') });
    const { assets, chrome } = await siteChrome(live, token, member);
    // The link is a one-time secret like a key: shown in this answer only, never cached.
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    return kit.page(
      c,
      inviteCreatedPage({ assets, chrome, email: created.invite.email, role, url: inviteLinkUrl(kit.publicUrl, created.token), expiresAt: created.invite.expires_at }),
    );
  });

  app.post('/sites/:siteId/team/invites/revoke', async (c) => {
    const found = await siteForm(c, 'manage_users', 'team');
    if ('response' in found) return found.response;
    const { live, member, fields } = found;
    const now = kit.now();
    const withdrawn = await db.transaction().execute(async (trx) => {
      const invite = (await listPendingInvites(trx, member.site.id, now)).find((candidate) => candidate.id === fields.invite);
      if (!invite || !(await revokeInvite(trx, member.site.id, invite.id, now))) return false;
      await recordAudit(trx, member.site.id, userActor(live.user), { action: 'invite_revoked', email: invite.email, role: invite.role }, now);
      return true;
    });
    if (!withdrawn) return renderTeam(c, live, found.token, member, { error: 'That invite was already used, withdrawn or expired. Nothing was changed.', status: 422 });
    return c.redirect(sitePath(member, 'team?done=withdrawn'), 303);
  });

  // --- audit log ---

  app.get('/sites/:siteId/audit', async (c) => {
    const found = await sitePage(c, 'manage_users');
    if ('response' in found) return found.response;
    const before = c.req.query('before');
    const [{ assets, chrome }, entries] = await Promise.all([siteChrome(found.live, found.token, found.member), auditPage(db, found.member.site.id, before)]);
    return kit.page(
      c,
      auditLogPage({
        assets,
        chrome,
        rows: entries.rows.map((row) => ({ id: row.id, at: row.at, words: row.words, actorKind: row.actor_kind })),
        ...(entries.next ? { next: entries.next } : {}),
        older: before !== undefined,
        retentionDays: AUDIT_RETENTION_DAYS,
      }),
    );
  });
}
