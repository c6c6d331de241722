import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDeliveries } from '../db/deliveries.ts';
import { findSiteById, type SiteRow } from '../db/sites.ts';
import { upsertSubscription } from '../db/subscriptions.ts';
import { PRIORITY } from '../delivery/engagement-rules.ts';
import { ApiError } from '../errors.ts';
import { browserSubscription, SHOP_ORIGIN, testSite } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { MAX_PAYLOAD_BYTES, reportUrl, worstCasePayloadBytes } from './payload.ts';
import { send, type SendDeps, type SendRequest } from './send.ts';

let database: TestDatabase;
/** A fixed instant; the tests compare due times only with each other, never with the wall clock. */
const NOW = new Date('2026-03-14T12:00:00Z');
const REPORT_URL = reportUrl('https://push.example');

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

/** A fresh site with one active subscriber per visitor id, so each test counts only its own rows. */
async function siteWith(visitorIds: string[]): Promise<SiteRow> {
  const created = await testSite(database.db);
  const site = (await findSiteById(database.db, created.id))!;
  for (const visitorId of visitorIds) {
    const { endpoint, keys } = await browserSubscription();
    await upsertSubscription(
      database.db,
      { siteId: site.id, endpoint, ...keys, vapidPublicKey: site.vapid_public_key, visitorId, locale: null, timeZone: null, userAgentFamily: null },
      NOW,
    );
  }
  return site;
}

function deps(overrides: Partial<SendDeps> = {}): SendDeps {
  return { db: database.db, now: NOW, reportUrl: REPORT_URL, ...overrides };
}

function apiPush(site: SiteRow, extra: Partial<SendRequest> = {}): SendRequest {
  return {
    site,
    source: 'api',
    kind: 'marketing',
    content: { title: 'Spring sale', body: 'Everything 20 % off', url: `${SHOP_ORIGIN}/sale` },
    to: { by: 'selectors', selectors: { all: true } },
    ttlSeconds: 3600,
    urgency: 'normal',
    whenTooLarge: 'refuse',
    ...extra,
  };
}

async function notificationCount(siteId: string): Promise<number> {
  const row = await database.db
    .selectFrom('notifications')
    .select(sql<string>`count(*)`.as('n'))
    .where('site_id', '=', siteId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('send: content checks (nothing stored when refused)', () => {
  it.each([
    ['a click URL off the site', { url: 'https://evil.example/sale' }],
    ['a javascript: URL', { url: 'javascript:alert(1)' }],
    ['an action URL off the site', { actions: [{ action: 'buy', title: 'Buy', url: 'https://evil.example/' }] }],
  ])('refuses %s', async (_label, change) => {
    const site = await siteWith(['visitor-a']);
    const push = apiPush(site);
    const error = await refusal(send(deps(), { ...push, content: { ...push.content, ...change } }));
    expect(error.code).toBe('validation_failed');
    expect(await notificationCount(site.id)).toBe(0);
  });

  it('refuses a translation whose action leads off the site', async () => {
    const site = await siteWith(['visitor-a']);
    const localized = { de: { title: 'Ausverkauf', body: '', actions: [{ action: 'buy', title: 'Kaufen', url: 'https://evil.example/' }] } };
    const error = await refusal(send(deps(), apiPush(site, { localized })));
    expect(error.code).toBe('validation_failed');
    expect(error.message).toContain('localized.de.actions.0.url');
    expect(await notificationCount(site.id)).toBe(0);
  });
});

describe('send: payload size', () => {
  it('refuses a push whose largest delivery would not fit, by how many bytes, when asked to refuse', async () => {
    const site = await siteWith(['visitor-a']);
    const push = apiPush(site, { content: { title: 'Sale', body: '€'.repeat(1400), url: `${SHOP_ORIGIN}/sale` } });
    const error = await refusal(send(deps(), push));
    expect(error.code).toBe('payload_too_large');
    const details = error.options.details as { bytes: number; limit: number; overflow: number };
    expect(details.bytes - details.overflow).toBe(MAX_PAYLOAD_BYTES);
    expect(await notificationCount(site.id)).toBe(0);
  });

  it('shortens instead when asked to: the image goes first, then the body is cut, and the push is queued', async () => {
    const site = await siteWith(['visitor-a']);
    const longImage = `https://cdn.example/${'i'.repeat(2000)}.png`;
    const content = { title: 'Back in stock', body: 'ü'.repeat(2200), url: `${SHOP_ORIGIN}/p/1`, image: longImage };
    const sent = await send(deps(), apiPush(site, { source: 'back_in_stock', content, whenTooLarge: 'shorten' }));
    expect(sent.audience).toBe(1);
    const stored = await database.db.selectFrom('notifications').select('content').where('id', '=', sent.id).executeTakeFirstOrThrow();
    expect(stored.content.image).toBeUndefined();
    expect(stored.content.body.endsWith('…')).toBe(true);
    expect(stored.content.body.length).toBeLessThan(content.body.length);
    expect(worstCasePayloadBytes(sent.id, stored.content, REPORT_URL)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it('lets a translation that cannot fit fall back to the default text when shortening', async () => {
    const site = await siteWith(['visitor-a']);
    const localized = {
      de: { title: 'Wieder da', body: 'Kurz.' },
      fr: { title: 'De retour', body: 'é'.repeat(2000) },
    };
    const sent = await send(deps(), apiPush(site, { source: 'back_in_stock', localized, whenTooLarge: 'shorten' }));
    const stored = await database.db.selectFrom('notifications').select('localized').where('id', '=', sent.id).executeTakeFirstOrThrow();
    expect(Object.keys(stored.localized ?? {})).toEqual(['de']);
  });
});

describe('send: Idempotency-Key', () => {
  it('replays the first result for the same key and request, and stores nothing twice', async () => {
    const site = await siteWith(['visitor-a', 'visitor-b']);
    const request = { any: 'fingerprint', n: 1 };
    const first = await send(deps(), apiPush(site, { idempotency: { key: 'order-1', request } }));
    const again = await send(deps(), apiPush(site, { idempotency: { key: 'order-1', request: { n: 1, any: 'fingerprint' } } }));
    expect(first).toEqual({ id: first.id, audience: 2, resolving: false, replayed: false });
    expect(again).toEqual({ id: first.id, audience: 2, resolving: false, replayed: true });
    expect(await notificationCount(site.id)).toBe(1);
  });

  it('refuses the same key with another request (409), and stores nothing for it', async () => {
    const site = await siteWith(['visitor-a']);
    await send(deps(), apiPush(site, { idempotency: { key: 'order-2', request: { title: 'first' } } }));
    const error = await refusal(send(deps(), apiPush(site, { idempotency: { key: 'order-2', request: { title: 'second' } } })));
    expect(error.code).toBe('idempotency_conflict');
    expect(error.status).toBe(409);
    expect(await notificationCount(site.id)).toBe(1);
  });

  it('refuses a key outside 1–255 printable ASCII characters', async () => {
    const site = await siteWith([]);
    for (const key of ['', 'with space', 'k'.repeat(256)]) {
      const error = await refusal(send(deps(), apiPush(site, { idempotency: { key, request: {} } })));
      expect(error.code).toBe('validation_failed');
    }
    expect(await notificationCount(site.id)).toBe(0);
  });
});

describe('send: priority from the kind and source', () => {
  it('claims a transactional API push before a marketing one queued earlier for the same due time', async () => {
    // Only this site's deliveries are due at this instant: a minute before any other test's.
    const earlier = new Date(NOW.getTime() - 60_000);
    const site = await siteWith(['visitor-a']);
    const marketing = await send(deps({ now: earlier }), apiPush(site, { kind: 'marketing' }));
    const transactional = await send(deps({ now: earlier }), apiPush(site, { kind: 'transactional' }));
    const claimed = await claimDeliveries(database.db, { leaseId: 'priority-test', limit: 1, nowMs: earlier.getTime(), leaseMs: 60_000 });
    expect(claimed.map((d) => d.notification_id)).toEqual([transactional.id]);
    expect(claimed[0]!.priority).toBeGreaterThan(PRIORITY.campaign);
    const rest = await claimDeliveries(database.db, { leaseId: 'priority-test', limit: 1, nowMs: earlier.getTime(), leaseMs: 60_000 });
    expect(rest.map((d) => d.notification_id)).toEqual([marketing.id]);
  });

  it('stores the priority of each source on the notification and its deliveries', async () => {
    const site = await siteWith(['visitor-a']);
    const expected = {
      api: PRIORITY.campaign,
      demo: PRIORITY.campaign,
      cart_reminder: PRIORITY.cart_reminder,
      price_drop: PRIORITY.price_drop,
      back_in_stock: PRIORITY.back_in_stock,
    } as const;
    for (const [source, priority] of Object.entries(expected) as Array<[keyof typeof expected, number]>) {
      const { id } = await send(deps(), apiPush(site, { source }));
      const notification = await database.db.selectFrom('notifications').select('priority').where('id', '=', id).executeTakeFirstOrThrow();
      const delivery = await database.db.selectFrom('deliveries').select('priority').where('notification_id', '=', id).executeTakeFirstOrThrow();
      expect([source, notification.priority, delivery.priority]).toEqual([source, priority, priority]);
    }
  });
});

describe('send: audiences and transactions', () => {
  it('sends to the subscriptions a trigger chose in SQL, and stores its record of why', async () => {
    const site = await siteWith(['visitor-chosen', 'visitor-other']);
    const record = { trigger: 'cart_reminder', cartId: 'cart-1', step: 1 };
    const sent = await send(
      deps(),
      apiPush(site, { source: 'cart_reminder', to: { by: 'query', where: sql`s.visitor_id = ${'visitor-chosen'}`, record } }),
    );
    expect(sent.audience).toBe(1);
    const stored = await database.db.selectFrom('notifications').select('audience').where('id', '=', sent.id).executeTakeFirstOrThrow();
    expect(stored.audience).toEqual(record);
  });

  it('is all or nothing: a send that fails after taking its Idempotency-Key leaves the key free for the retry', async () => {
    const site = await siteWith(['visitor-a']);
    const idempotency = { key: 'retry-after-failure', request: { order: 7 } };
    const failing = apiPush(site, { idempotency, to: { by: 'query', where: sql`1 / 0 = 1`, record: { trigger: 'broken' } } });
    await expect(send(deps(), failing)).rejects.toThrow(/division by zero/);
    const retried = await send(deps(), apiPush(site, { idempotency }));
    expect(retried).toMatchObject({ audience: 1, replayed: false });
    expect(await notificationCount(site.id)).toBe(1);
  });

  it('joins the caller’s transaction: when the caller rolls back, nothing was stored', async () => {
    const site = await siteWith(['visitor-a']);
    const rolledBack = new Error('the caller changed its mind');
    await expect(
      database.db.transaction().execute(async (trx) => {
        await send(deps({ db: trx }), apiPush(site));
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect(await notificationCount(site.id)).toBe(0);
  });
});

describe('no side door', () => {
  it('only send.ts writes notifications: no other server module imports insertNotificationWithDeliveries', async () => {
    const serverDir = fileURLToPath(new URL('..', import.meta.url));
    const files = (await readdir(serverDir, { recursive: true })).filter(
      // Tests set up their own rows; the function itself lives in db/notifications.ts.
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.startsWith('testing'),
    );
    const importers: string[] = [];
    for (const file of files) {
      const source = await readFile(join(serverDir, file), 'utf8');
      if (/import\s*{[^}]*\binsertNotificationWithDeliveries\b[^}]*}/.test(source)) importers.push(relative(serverDir, join(serverDir, file)));
    }
    expect(importers.sort()).toEqual([join('notifications', 'send.ts')]);
  });
});
