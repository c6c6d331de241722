import { describe, expect, it } from 'vitest';
import { ACTIONS, ROLES, actionsOf, can, isAction, isRole, type Action, type Role } from './roles.ts';

// Written out in full, row by row, so a change of a permission has to change this table too.
const EXPECTED: Record<Action, Record<Role, boolean>> = {
  read: { owner: true, editor: true, viewer: true },
  edit_automations: { owner: true, editor: true, viewer: false },
  edit_templates: { owner: true, editor: true, viewer: false },
  edit_prompt: { owner: true, editor: true, viewer: false },
  edit_campaigns: { owner: true, editor: true, viewer: false },
  send: { owner: true, editor: true, viewer: false },
  manage_subscribers: { owner: true, editor: false, viewer: false },
  manage_keys: { owner: true, editor: false, viewer: false },
  manage_users: { owner: true, editor: false, viewer: false },
  edit_install: { owner: true, editor: false, viewer: false },
};

describe('the permission table', () => {
  it('covers exactly the closed list of actions', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...ACTIONS].sort());
  });

  const rows = ACTIONS.flatMap((action) => ROLES.map((role) => ({ action, role, allowed: EXPECTED[action][role] })));
  it.each(rows)('$role may $action: $allowed', ({ action, role, allowed }) => {
    expect(can(role, action)).toBe(allowed);
  });

  it('lets a viewer only read', () => {
    expect(actionsOf('viewer')).toEqual(['read']);
  });

  it('keeps keys, users, the install and shoppers’ data from an editor', () => {
    for (const action of ['manage_keys', 'manage_users', 'edit_install', 'manage_subscribers'] as const) {
      expect(actionsOf('editor')).not.toContain(action);
    }
  });

  it('gives an owner every action', () => {
    expect(actionsOf('owner')).toEqual([...ACTIONS]);
  });

  it('recognises roles and actions by their exact names only', () => {
    expect(ROLES.every(isRole)).toBe(true);
    expect(isRole('Owner')).toBe(false);
    expect(isRole('admin')).toBe(false);
    expect(isRole(undefined)).toBe(false);
    expect(ACTIONS.every(isAction)).toBe(true);
    expect(isAction('delete_site')).toBe(false);
  });
});
