/**
 * What each role may do on a site: one table, read through `can`. A person reaches a site only
 * through a membership (server/db/memberships.ts), which names the role; routes ask `can(role,
 * action)` and nothing else, so a permission changes here and only here.
 */
import type { Role } from '../db/database.ts';

export type { Role };

export const ROLES = ['owner', 'editor', 'viewer'] as const satisfies readonly Role[];

/** The closed list of things a dashboard user may try; every state-changing route names one. */
export const ACTIONS = [
  /** See the site's pages: install, overview, subscribers, automations, health, team. */
  'read',
  'edit_automations',
  'edit_templates',
  'edit_prompt',
  'edit_campaigns',
  /** Send pushes (campaigns, test pushes). */
  'send',
  /** Erase or export a shopper's data (GDPR art. 15, 17, 20): personal data leaves or is destroyed. */
  'manage_subscribers',
  /** Create and revoke secret keys. */
  'manage_keys',
  /** Invite, change the role of, or remove users; make their password-reset links. */
  'manage_users',
  /** The install: allowed origins and the site's name. */
  'edit_install',
] as const;

export type Action = (typeof ACTIONS)[number];

const EDITOR_ACTIONS: ReadonlySet<Action> = new Set<Action>([
  'read',
  'edit_automations',
  'edit_templates',
  'edit_prompt',
  'edit_campaigns',
  'send',
]);

const PERMISSIONS: Record<Role, ReadonlySet<Action>> = {
  // An owner may do everything, including keys and users.
  owner: new Set<Action>(ACTIONS),
  // An editor shapes what shoppers receive, never who may sign in, the keys or the install.
  editor: EDITOR_ACTIONS,
  viewer: new Set<Action>(['read']),
};

export function can(role: Role, action: Action): boolean {
  return PERMISSIONS[role].has(action);
}

/** Every action `role` may take, in the order of `ACTIONS` (for a page to show or hide controls). */
export function actionsOf(role: Role): Action[] {
  return ACTIONS.filter((action) => can(role, action));
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}
