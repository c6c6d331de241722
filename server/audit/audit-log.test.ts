import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries } from '../db/audit-log.ts';
import { changeMembership, upsertMembership } from '../db/memberships.ts';
import { insertUser } from '../db/users.ts';
import { DAY_MS, MINUTE_MS } from '../time.ts';
import { ADMIN_TOKEN, testApp, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import {
  AUDIT_RETENTION_DAYS,
  audienceKind,
  auditPage,
  changedSections,
  describeAuditEntry,
  keyLabel,
  purgeExpiredAuditEntries,
  CLI_ACTOR,
  recordAudit,
  type AuditActor,
} from './audit-log.ts';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const ANA: AuditActor = { kind: 'user', id: '00000000-0000-4000-8000-000000000001', email: 'ana@shop.example', name: 'Ana' };

let database: TestDatabase;
let site: CreatedSite;
let app: ReturnType<typeof testApp>['app'];

beforeAll(async () => {
  database = await createTestDatabase();
  site = await testSite(database.db);
  app = testApp(database.db, { now: () => NOW.getTime() }).app;
});
afterAll(async () => database?.destroy());

async function rowsOf(siteId: string) {
  return listAuditEntries(database.db, siteId, { limit: 1000 });
}

describe('the words of an entry', () => {
  const words = (actor: string, event: Record<string, unknown>) => {
    const { action, ...details } = event;
    return describeAuditEntry({ actor_label: actor, action: action as string, details });
  };

  it('names the settings sections a change touched, quiet hours by their name', () => {
    expect(words('Ana', { action: 'settings_changed', sections: ['engagement.quietHours'] })).toBe('Ana changed quiet hours');
    expect(words('Ana', { action: 'settings_changed', sections: ['cartReminders', 'engagement.frequencyCap', 'templates'] })).toBe(
      'Ana changed cart reminders, the frequency cap and templates',
    );
  });

  it('names a key by its name and prefix, and a send by its notification and audience kind', () => {
    expect(keyLabel({ name: 'backend', prefix: 'sk_AbCdEfGh' })).toBe("'backend' (sk_AbCdEfGh…)");
    expect(keyLabel({ name: null, prefix: 'sk_AbCdEfGh' })).toBe('sk_AbCdEfGh…');
    expect(words("key 'backend' (sk_AbCdEfGh…)", { action: 'notification_sent', notificationId: 'n-1', audience: 'tags', subscriptions: 12 })).toBe(
      "key 'backend' (sk_AbCdEfGh…) sent notification n-1 to subscribers with chosen tags (12 subscriptions)",
    );
    expect(words('Ana', { action: 'key_revoked', key: { id: 'k', name: 'backend', prefix: 'sk_AbCdEfGh' } })).toBe("Ana revoked the secret key 'backend' (sk_AbCdEfGh…)");
  });

  it('says who joined, was invited, changed role or was removed', () => {
    expect(words('Ana', { action: 'member_invited', email: 'bo@shop.example', role: 'editor' })).toBe('Ana invited bo@shop.example as an editor');
    expect(words('Ana', { action: 'member_role_changed', email: 'bo@shop.example', from: 'editor', to: 'owner' })).toBe('Ana made bo@shop.example an owner (was an editor)');
    expect(words('Ana', { action: 'member_removed', email: 'bo@shop.example', role: 'viewer' })).toBe('Ana removed bo@shop.example (viewer) from the shop');
    expect(words('bo@shop.example', { action: 'member_joined', email: 'bo@shop.example', role: 'viewer' })).toBe('bo@shop.example joined the shop as a viewer');
    expect(words('the command line', { action: 'member_added', email: 'bo@shop.example', role: 'owner' })).toBe('the command line added bo@shop.example to the shop as an owner');
    expect(words('Ana', { action: 'install_changed', originsAdded: ['https://b.example'], originsRemoved: ['https://a.example'] })).toBe(
      'Ana allowed https://b.example and stopped allowing https://a.example',
    );
  });
});

describe('the command line as an actor', () => {
  it('is stored without an id, named "the command line", and read back so on the Audit page', async () => {
    const own = await testSite(database.db);
    await recordAudit(database.db, own.id, CLI_ACTOR, { action: 'key_created', key: { id: own.id, name: null, prefix: 'sk_AbCdEfGh' } }, NOW);
    const rows = await rowsOf(own.id);
    expect(rows).toMatchObject([{ actor_kind: 'cli', actor_id: null, actor_label: 'the command line', action: 'key_created' }]);
    expect((await auditPage(database.db, own.id, undefined)).rows.map((row) => row.words)).toEqual(['the command line created the secret key sk_AbCdEfGh…']);
  });
});

describe('changedSections and audienceKind', () => {
  it('lists the top-level sections that differ, and engagement by its parts', () => {
    const before = { engagement: { quietHours: { enabled: false }, frequencyCap: { marketingPer24h: 3 } }, templates: {}, defaultLocale: 'en' };
    const after = { engagement: { quietHours: { enabled: true }, frequencyCap: { marketingPer24h: 3 } }, templates: { a: {} }, defaultLocale: 'en' };
    expect(changedSections(before, after)).toEqual(['engagement.quietHours', 'templates']);
    expect(changedSections(before, before)).toEqual([]);
  });

  it('says which selector a send used, never its values', () => {
    expect(audienceKind({ all: true })).toBe('all');
    expect(audienceKind({ externalUserIds: ['u-1'], tags: { vip: true } })).toBe('externalUserIds+tags');
  });
});

describe('paging and retention', () => {
  it('pages a site’s rows newest first, 50 at a time, and the cursor continues where the page ended', async () => {
    const own = await testSite(database.db, ['https://paging.example']);
    for (let i = 0; i < 55; i += 1) {
      // Two rows share each minute: the id breaks the tie in the order they were written.
      await recordAudit(database.db, own.id, ANA, { action: 'member_invited', email: `p${i}@shop.example`, role: 'viewer' }, new Date(NOW.getTime() - Math.floor((55 - i) / 2) * MINUTE_MS));
    }
    const first = await auditPage(database.db, own.id, undefined);
    expect(first.rows).toHaveLength(50);
    expect(first.rows[0]!.words).toBe('Ana invited p54@shop.example as a viewer');
    expect(first.rows[49]!.words).toBe('Ana invited p5@shop.example as a viewer');
    expect(first.next).toBeDefined();
    const second = await auditPage(database.db, own.id, first.next);
    expect(second.rows.map((row) => row.words)).toEqual([4, 3, 2, 1, 0].map((i) => `Ana invited p${i}@shop.example as a viewer`));
    expect(second.next).toBeUndefined();
    // A cursor it did not make is the first page; another site's rows never show.
    expect((await auditPage(database.db, own.id, 'x; drop table')).rows[0]!.words).toBe(first.rows[0]!.words);
    expect((await auditPage(database.db, site.id, undefined)).rows.some((row) => row.words.includes('p54@'))).toBe(false);
  });

  it('purges rows older than the retention and keeps the rest', async () => {
    const own = await testSite(database.db, ['https://purge.example']);
    const cutoff = NOW.getTime() - AUDIT_RETENTION_DAYS * DAY_MS;
    await recordAudit(database.db, own.id, ANA, { action: 'settings_changed', sections: ['templates'] }, new Date(cutoff - 1));
    await recordAudit(database.db, own.id, ANA, { action: 'settings_changed', sections: ['prompt'] }, new Date(cutoff));
    await recordAudit(database.db, own.id, ANA, { action: 'settings_changed', sections: ['priceDrop'] }, NOW);
    expect(await purgeExpiredAuditEntries(database.db, NOW)).toBeGreaterThanOrEqual(1);
    const left = (await rowsOf(own.id)).map((row) => describeAuditEntry(row));
    expect(left).toEqual(['Ana changed price drop alerts', 'Ana changed the prompt']);
    expect(await purgeExpiredAuditEntries(database.db, NOW)).toBe(0);
  });

  it('refuses an oversized details object (the table is for short facts)', async () => {
    await expect(
      recordAudit(database.db, site.id, ANA, { action: 'settings_changed', sections: Array.from({ length: 500 }, (_, i) => `section-${i}`) }, NOW),
    ).rejects.toThrow();
  });
});

describe('a change and its row', () => {
  it('a role change commits with its row, and not at all when the row cannot be written', async () => {
    const own = await testSite(database.db, ['https://together.example']);
    const users = await Promise.all(
      ['one', 'two'].map(async (name) => (await insertUser(database.db, { email: `${name}@together.example` }, NOW))!.id),
    );
    for (const userId of users) await upsertMembership(database.db, { userId, siteId: own.id, role: 'owner' }, NOW);
    const roleOf = async (userId: string) =>
      (await database.db.selectFrom('memberships').select('role').where('site_id', '=', own.id).where('user_id', '=', userId).executeTakeFirstOrThrow()).role;

    const tooBig = { action: 'member_role_changed', email: 'x'.repeat(5000), from: 'owner', to: 'viewer' } as const;
    await expect(changeMembership(database.db, own.id, users[0]!, 'viewer', (trx) => recordAudit(trx, own.id, ANA, tooBig, NOW))).rejects.toThrow();
    expect(await roleOf(users[0]!)).toBe('owner');
    expect(await rowsOf(own.id)).toEqual([]);

    const fine = { action: 'member_role_changed', email: 'one@together.example', from: 'owner', to: 'viewer' } as const;
    expect(await changeMembership(database.db, own.id, users[0]!, 'viewer', (trx) => recordAudit(trx, own.id, ANA, fine, NOW))).toBe('changed');
    expect(await roleOf(users[0]!)).toBe('viewer');
    expect((await rowsOf(own.id)).map((row) => describeAuditEntry(row))).toEqual(['Ana made one@together.example a viewer (was an owner)']);
    // The guard still comes first: the last owner is refused and nothing is recorded.
    expect(await changeMembership(database.db, own.id, users[1]!, undefined, (trx) => recordAudit(trx, own.id, ANA, fine, NOW))).toBe('last_owner');
    expect(await rowsOf(own.id)).toHaveLength(1);
  });
});

describe('the API records what it changes', () => {
  it('PATCH /v1/settings: one row naming the sections changed, by the key that changed them', async () => {
    const own = await testSite(database.db, ['https://settings.example']);
    const response = await app.request('/v1/settings', {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${own.secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ engagement: { quietHours: { enabled: true } }, attribution: { windowHours: 48 } }),
    });
    expect(response.status).toBe(200);
    const rows = await rowsOf(own.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_kind: 'secret_key', action: 'settings_changed', details: { sections: ['attribution', 'engagement.quietHours'] } });
    expect(rows[0]!.at).toEqual(NOW);
    expect(describeAuditEntry(rows[0]!)).toBe(`key ${own.secretKey.slice(0, 11)}… changed the attribution window and quiet hours`);
  });

  it('POST /v1/notifications: one row per send, with the notification and the audience kind, not per recipient', async () => {
    const own = await testSite(database.db, ['https://send.example']);
    const send = () =>
      app.request('/v1/notifications', {
        method: 'POST',
        headers: { Authorization: `Bearer ${own.secretKey}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'send-once' },
        body: JSON.stringify({ to: { all: true }, title: 'Sale', body: 'Today only', url: 'https://send.example/sale' }),
      });
    const first = await send();
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    // A replay of the same request is not a second send.
    expect((await send()).status).toBe(202);
    const rows = await rowsOf(own.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_kind: 'secret_key', action: 'notification_sent', target: id, details: { notificationId: id, audience: 'all', subscriptions: 0 } });
    expect(JSON.stringify(rows[0]!.details)).not.toContain('Today only');
  });

  it('the admin API: creating and revoking a key, once each, by the admin token', async () => {
    const own = await testSite(database.db, ['https://admin.example']);
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
    const created = await app.request(`/v1/admin/sites/${own.id}/keys`, { method: 'POST', headers: admin });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; prefix: string };
    for (let i = 0; i < 2; i += 1) expect((await app.request(`/v1/admin/sites/${own.id}/keys/${key.id}`, { method: 'DELETE', headers: admin })).status).toBe(200);
    const rows = await rowsOf(own.id);
    expect(rows.map((row) => [row.action, row.actor_kind, row.target])).toEqual([
      ['key_revoked', 'admin_token', key.id],
      ['key_created', 'admin_token', key.id],
    ]);
    expect(describeAuditEntry(rows[0]!)).toBe(`the admin token revoked the secret key ${key.prefix}…`);
  });
});
