/**
 * The audit log: who changed what on a site. Each change calls `recordAudit` with the actor (a
 * dashboard user, a secret key, the admin token, the command line), what it did and to what;
 * pages read the rows back in words (`describeAuditEntry`). A row keeps the actor's and the
 * target's names as they were then, so it still reads right after a user is removed or a key
 * revoked. Only what is needed to say what happened is kept: never a key, a token, a password or a
 * shopper's data.
 */
import type { Db, Role } from '../db/database.ts';
import { deleteAuditEntriesBefore, findSecretKeyLabel, insertAuditEntry, listAuditEntries, type AuditCursor, type AuditLogRow } from '../db/audit-log.ts';
import { DAY_MS } from '../time.ts';

/** Kept 400 days: a year of changes to look back on, and a month to spare for the year's review. */
export const AUDIT_RETENTION_DAYS = 400;
/** Rows deleted per purge call: a short statement each round rather than one long one. */
export const AUDIT_PURGE_BATCH = 5000;

export type AuditActor =
  | { kind: 'user'; id: string; email: string; name: string | null }
  | { kind: 'secret_key'; id: string; name: string | null; prefix: string }
  | { kind: 'admin_token' }
  /** The `pushcart` command, run by the operator at the server: it signs in as nobody, so it has no id. */
  | { kind: 'cli' };

/** The command line as the audit log's actor. */
export const CLI_ACTOR: AuditActor = { kind: 'cli' };

export type SettingsSection = string;

/** A signed-in dashboard user as the audit log's actor. */
export function userActor(user: { id: string; email: string; name: string | null }): AuditActor {
  return { kind: 'user', id: user.id, email: user.email, name: user.name };
}

/** A secret key as the log names it. */
export interface AuditKey {
  id: string;
  name: string | null;
  prefix: string;
}

export type AuditEvent =
  | { action: 'settings_changed'; sections: SettingsSection[] }
  | { action: 'key_created'; key: AuditKey }
  | { action: 'key_revoked'; key: AuditKey }
  | { action: 'member_invited'; email: string; role: Role }
  | { action: 'invite_revoked'; email: string; role: Role }
  | { action: 'member_role_changed'; email: string; from: Role; to: Role }
  | { action: 'member_removed'; email: string; role: Role }
  | { action: 'member_joined'; email: string; role: Role }
  /** Given a role directly, without an invite (`pushcart user create`). */
  | { action: 'member_added'; email: string; role: Role }
  | { action: 'install_changed'; renamed?: { from: string; to: string }; originsAdded: string[]; originsRemoved: string[] }
  | { action: 'notification_sent'; notificationId: string; audience: string; subscriptions: number }
  | { action: CampaignAuditAction; campaignId: string; name: string };

/** A campaign's changes of state, by whoever made them (the API's key, a dashboard member). */
export type CampaignAuditAction = 'campaign_scheduled' | 'campaign_sent' | 'campaign_cancelled' | 'campaign_winner_picked';

const CAMPAIGN_ACTION_WORDS: Record<CampaignAuditAction, string> = {
  campaign_scheduled: 'scheduled',
  campaign_sent: 'sent',
  campaign_cancelled: 'cancelled',
  campaign_winner_picked: 'picked the A/B winner of',
};

export type AuditAction = AuditEvent['action'];

/** How a key is named in words: `'backend' (sk_AbCdEfGh…)`, or the prefix alone when it has no name. */
export function keyLabel(key: { name: string | null; prefix: string }): string {
  return key.name ? `'${key.name}' (${key.prefix}…)` : `${key.prefix}…`;
}

function actorLabel(actor: AuditActor): string {
  switch (actor.kind) {
    case 'user':
      return actor.name ? actor.name : actor.email;
    case 'secret_key':
      return `key ${keyLabel(actor)}`;
    case 'admin_token':
      return 'the admin token';
    case 'cli':
      return 'the command line';
  }
}

function targetOf(event: AuditEvent): string | null {
  switch (event.action) {
    case 'key_created':
    case 'key_revoked':
      return event.key.id;
    case 'member_invited':
    case 'invite_revoked':
    case 'member_role_changed':
    case 'member_removed':
    case 'member_joined':
    case 'member_added':
      return event.email;
    case 'notification_sent':
      return event.notificationId;
    case 'campaign_scheduled':
    case 'campaign_sent':
    case 'campaign_cancelled':
    case 'campaign_winner_picked':
      return event.campaignId;
    default:
      return null;
  }
}

/**
 * Records one change. Pass the transaction the change is written in where there is one, so a
 * change is never kept without its row (nor a row without its change).
 */
export async function recordAudit(db: Db, siteId: string, actor: AuditActor, event: AuditEvent, now: Date): Promise<void> {
  const { action, ...details } = event;
  await insertAuditEntry(
    db,
    {
      siteId,
      actorKind: actor.kind,
      actorId: actor.kind === 'admin_token' || actor.kind === 'cli' ? null : actor.id,
      actorLabel: actorLabel(actor),
      action,
      target: targetOf(event),
      details,
    },
    now,
  );
}

/**
 * The settings sections a change touched (PATCH /v1/settings, the dashboard's forms): the
 * top-level ones whose value differs after the change, in a stable order. `engagement` bundles
 * three unrelated settings, so it is named by its parts (`engagement.quietHours`): "changed quiet
 * hours" says more than "changed engagement".
 */
export function changedSections(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
  const changed: string[] = [];
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const [a, b] = [before[key], after[key]];
    if (!differs(a, b)) continue;
    if (key === 'engagement' && isObject(a) && isObject(b)) {
      for (const part of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) if (differs(a[part], b[part])) changed.push(`${key}.${part}`);
    } else {
      changed.push(key);
    }
  }
  return changed;
}

/** Which selector a send named (never the ids or tag values themselves: those are shoppers' data). */
export function audienceKind(to: Record<string, unknown>): string {
  if (to.all === true) return 'all';
  return (['subscriptionIds', 'externalUserIds', 'visitorIds', 'tags', 'segment', 'segmentId'] as const).filter((key) => to[key] !== undefined).join('+') || 'none';
}

const SECTION_WORDS: Record<string, string> = {
  'engagement.quietHours': 'quiet hours',
  'engagement.frequencyCap': 'the frequency cap',
  'engagement.defaultTimeZone': 'the default time zone',
  'engagement.budget': 'the engagement budget',
  'engagement.bestHour': 'best-hour sends',
  templates: 'templates',
  cartReminders: 'cart reminders',
  priceDrop: 'price drop alerts',
  backInStock: 'back-in-stock alerts',
  prompt: 'the prompt',
  defaultLocale: 'the default language',
  attribution: 'the attribution window',
};

function sectionWords(section: string): string {
  return SECTION_WORDS[section] ?? section.replace(/^.*\./, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

const AUDIENCE_WORDS: Record<string, string> = {
  all: 'everyone',
  subscriptionIds: 'chosen subscriptions',
  externalUserIds: 'chosen shoppers (by user id)',
  visitorIds: 'chosen visitors',
  tags: 'subscribers with chosen tags',
};

function article(role: string): string {
  return /^[aeiou]/.test(role) ? `an ${role}` : `a ${role}`;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** One row in words, as the Audit page shows it: "Ana changed quiet hours". Plain text; the page escapes it. */
export function describeAuditEntry(row: Pick<AuditLogRow, 'actor_label' | 'action' | 'details'>): string {
  const who = row.actor_label;
  const d = row.details;
  const key = (): string => {
    const stored = (d.key ?? {}) as Record<string, unknown>;
    return keyLabel({ name: text(stored.name) || null, prefix: text(stored.prefix) });
  };
  switch (row.action) {
    case 'settings_changed': {
      const sections = strings(d.sections).map(sectionWords);
      return sections.length === 0 ? `${who} saved the settings without changing them` : `${who} changed ${list(sections)}`;
    }
    case 'key_created':
      return `${who} created the secret key ${key()}`;
    case 'key_revoked':
      return `${who} revoked the secret key ${key()}`;
    case 'member_invited':
      return `${who} invited ${text(d.email)} as ${article(text(d.role))}`;
    case 'invite_revoked':
      return `${who} withdrew the invite for ${text(d.email)}`;
    case 'member_role_changed':
      return `${who} made ${text(d.email)} ${article(text(d.to))} (was ${article(text(d.from))})`;
    case 'member_removed':
      return `${who} removed ${text(d.email)} (${text(d.role)}) from the shop`;
    case 'member_joined':
      return `${who} joined the shop as ${article(text(d.role))}`;
    case 'member_added':
      return `${who} added ${text(d.email)} to the shop as ${article(text(d.role))}`;
    case 'install_changed': {
      const parts: string[] = [];
      const renamed = d.renamed as { from?: unknown; to?: unknown } | undefined;
      if (renamed && typeof renamed === 'object') parts.push(`renamed the shop from “${text(renamed.from)}” to “${text(renamed.to)}”`);
      const added = strings(d.originsAdded);
      const removed = strings(d.originsRemoved);
      if (added.length > 0) parts.push(`allowed ${list(added)}`);
      if (removed.length > 0) parts.push(`stopped allowing ${list(removed)}`);
      return parts.length === 0 ? `${who} saved the install without changing it` : `${who} ${list(parts)}`;
    }
    case 'notification_sent': {
      const audience = text(d.audience)
        .split('+')
        .map((kind) => AUDIENCE_WORDS[kind] ?? kind);
      const count = typeof d.subscriptions === 'number' ? d.subscriptions : 0;
      return `${who} sent notification ${text(d.notificationId)} to ${list(audience)} (${count} ${count === 1 ? 'subscription' : 'subscriptions'})`;
    }
    case 'campaign_scheduled':
    case 'campaign_sent':
    case 'campaign_cancelled':
    case 'campaign_winner_picked':
      return `${who} ${CAMPAIGN_ACTION_WORDS[row.action]} campaign “${text(d.name)}”`;
    default:
      return `${who}: ${row.action}`;
  }
}

export interface AuditPage {
  rows: Array<AuditLogRow & { words: string }>;
  /** Where the next (older) page starts, when there is one. */
  next?: string;
}

export const AUDIT_PAGE_SIZE = 50;

/** The cursor in a URL: `<ms since epoch>.<id>`; anything else is the first page. */
export function parseAuditCursor(value: string | undefined): AuditCursor | undefined {
  const match = value === undefined ? null : /^(\d{1,15})\.(\d{1,19})$/.exec(value);
  if (!match) return undefined;
  return { at: new Date(Number(match[1])), id: match[2]! };
}

/** A page of a site's log, newest first, each row with its words. */
export async function auditPage(db: Db, siteId: string, before: string | undefined, limit = AUDIT_PAGE_SIZE): Promise<AuditPage> {
  const cursor = parseAuditCursor(before);
  const rows = await listAuditEntries(db, siteId, { limit, ...(cursor ? { before: cursor } : {}) });
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    rows: shown.map((row) => ({ ...row, words: describeAuditEntry(row) })),
    ...(rows.length > limit && last ? { next: `${last.at.getTime()}.${last.id}` } : {}),
  };
}

/**
 * Deletes rows older than the retention, a batch at a time; for the background round, which calls
 * it once per round (it is cheap when there is nothing to delete: the `at` index answers).
 */
export async function purgeExpiredAuditEntries(db: Db, now: Date, batch = AUDIT_PURGE_BATCH): Promise<number> {
  return deleteAuditEntriesBefore(db, new Date(now.getTime() - AUDIT_RETENTION_DAYS * DAY_MS), batch);
}

/** The secret key a request was made with, as an actor (the API routes know only its id). */
export async function secretKeyActor(db: Db, keyId: string | undefined): Promise<AuditActor | undefined> {
  const key = keyId === undefined ? undefined : await findSecretKeyLabel(db, keyId);
  return key ? { kind: 'secret_key', ...key } : undefined;
}
