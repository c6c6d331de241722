import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usablePasswordLink } from '../accounts/links.ts';
import { hashPassword } from '../accounts/password.ts';
import { findUserByEmail, setPasswordHash } from '../db/users.ts';
import { createSite } from '../sites/create-site.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { HOUR_MS } from '../time.ts';
import { createDashboardUserLink, createFirstOwnerLink, createPasswordResetLink, inviteLinkUrl, passwordLinkUrl } from './links.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const PUBLIC_URL = 'https://push.example.com';

let database: TestDatabase;
let siteId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  siteId = (await createSite(database.db, { name: 'Shop', origins: ['https://shop.example'] }, undefined)).id;
});
afterAll(async () => database?.destroy());

function tokenOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

describe('the links printed for the dashboard', () => {
  it('are under the public URL, with or without its trailing slash', () => {
    expect(passwordLinkUrl('https://push.example.com/', 'abc')).toBe('https://push.example.com/dashboard/password/abc');
    expect(inviteLinkUrl('https://push.example.com', 'abc')).toBe('https://push.example.com/dashboard/invite/abc');
  });

  it('the first owner gets a 24-hour link to set a password, and once it is set, the sign-in page', async () => {
    const first = await createFirstOwnerLink(database.db, { siteId, email: 'Owner@Shop.Example', now: NOW, publicUrl: PUBLIC_URL });
    expect(first.outcome).toBe('password_link');
    if (first.outcome !== 'password_link') return;
    expect(first.url).toMatch(/^https:\/\/push\.example\.com\/dashboard\/password\/[A-Za-z0-9_-]{43}$/);
    expect(first.expiresAt).toEqual(new Date(NOW.getTime() + 24 * HOUR_MS));
    const link = await usablePasswordLink(database.db, tokenOf(first.url), NOW);
    expect(link).toMatchObject({ user_id: first.userId, purpose: 'set' });
    const membership = await database.db.selectFrom('memberships').selectAll().where('user_id', '=', first.userId).execute();
    expect(membership.map((row) => [row.site_id, row.role])).toEqual([[siteId, 'owner']]);

    // Printed again before the password is set: a fresh link, and the first one stops working.
    const again = await createFirstOwnerLink(database.db, { siteId, email: 'owner@shop.example', now: NOW, publicUrl: PUBLIC_URL });
    expect(again.outcome).toBe('password_link');
    expect(await usablePasswordLink(database.db, tokenOf(first.url), NOW)).toBeUndefined();

    await setPasswordHash(database.db, first.userId, await hashPassword('a long enough password'), NOW);
    expect(await createFirstOwnerLink(database.db, { siteId, email: 'owner@shop.example', now: NOW, publicUrl: PUBLIC_URL })).toEqual({
      outcome: 'has_password',
      userId: first.userId,
      url: 'https://push.example.com/dashboard/login',
    });
  });

  it('refuses an email that is not one, and demoting the only owner', async () => {
    expect(await createDashboardUserLink(database.db, { siteId, email: 'not an email', role: 'viewer', now: NOW, publicUrl: PUBLIC_URL })).toEqual({ outcome: 'invalid_email' });
    expect(await createDashboardUserLink(database.db, { siteId, email: 'owner@shop.example', role: 'viewer', now: NOW, publicUrl: PUBLIC_URL })).toEqual({ outcome: 'last_owner' });
  });

  it('a reset link lasts an hour and is only made for an existing account', async () => {
    const reset = await createPasswordResetLink(database.db, { email: ' OWNER@shop.example', now: NOW, publicUrl: PUBLIC_URL });
    expect(reset.outcome).toBe('reset_link');
    if (reset.outcome !== 'reset_link') return;
    expect(reset.userId).toBe((await findUserByEmail(database.db, 'owner@shop.example'))!.id);
    expect(reset.expiresAt).toEqual(new Date(NOW.getTime() + HOUR_MS));
    expect(await usablePasswordLink(database.db, tokenOf(reset.url), NOW)).toMatchObject({ purpose: 'reset' });
    expect(await createPasswordResetLink(database.db, { email: 'nobody@shop.example', now: NOW, publicUrl: PUBLIC_URL })).toEqual({ outcome: 'no_such_user' });
  });
});
