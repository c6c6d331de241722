/**
 * The large shop the dashboard benches measure against, seeded through SQL on a fresh database
 * made through the real migrations (so the rollup triggers count every seeded row as the app's
 * writes would be counted): two sites of 100,000 subscriptions each, and on the measured one
 * 1,000,000 deliveries over the 90 days before RANGE_END, with interactions, orders and
 * conversions. Used by bench/stats-queries.ts and bench/dashboard-pages.ts.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { createInvite } from '../server/accounts/links.ts';
import { recordAudit } from '../server/audit/audit-log.ts';
import type { Db } from '../server/db/database.ts';
import { upsertMembership } from '../server/db/memberships.ts';
import { findSiteById, updateSiteSettings } from '../server/db/sites.ts';
import { insertUser } from '../server/db/users.ts';
import { memoryLogger } from '../server/logger.ts';
import { openPostgres } from '../server/runtime/node/database.ts';
import { createSecretKey } from '../server/sites/create-site.ts';
import { readSiteSettings } from '../server/sites/site-settings.ts';
import { DEFAULT_TEMPLATES } from '../server/triggers/built-in-templates.ts';

export const SUBSCRIPTIONS = 100_000;
export const DAYS = 90;
/** The last seeded day; the seeded rows end at RANGE_END_MS, midnight UTC after it. */
export const RANGE_END = '2026-11-28';
export const RANGE_END_MS = Date.parse('2026-11-29T00:00:00Z');

export interface BenchDatabase {
  name: string;
  db: Db;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh database on the server `serverUrl` names, dropped again by `drop`. */
export async function createBenchDatabase(serverUrl: string, prefix: string): Promise<BenchDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`).finally(() => admin.end());
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const opened = openPostgres(url.toString(), memoryLogger());
  return {
    name,
    db: opened.db,
    async drop() {
      await opened.close();
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`).finally(() => dropper.end());
    },
  };
}

/** `work` run `warmups` times unmeasured (caches, plans, the code warm), then `runs` times: their wall times in ms, ascending. */
export async function timeRuns(work: () => Promise<unknown>, options: { warmups: number; runs: number }): Promise<number[]> {
  for (let i = 0; i < options.warmups; i++) await work();
  const times: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

export async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  console.log(`  ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

export interface LargeSite {
  siteId: string;
  otherSiteId: string;
  /** The first seeded instant: DAYS days before RANGE_END_MS. */
  start: Date;
}

/** Seeds the two sites (on a migrated database); the caller runs `vacuum analyze` when it has seeded all it wants. */
export async function seedLargeSite(db: Db): Promise<LargeSite> {
  const start = new Date(RANGE_END_MS - DAYS * 86_400_000);
  const siteId = (
    await sql<{ id: string }>`
      insert into sites (name, allowed_origins, publishable_key, vapid_public_key, vapid_private_key)
      values ('bench', '{https://shop.example}', 'pk_bench', 'v', 'p') returning id`.execute(db)
  ).rows[0]!.id;
  // A second site of the same size: the queries must find their site's rows, not scan everyone's.
  const otherSiteId = (
    await sql<{ id: string }>`
      insert into sites (name, allowed_origins, publishable_key, vapid_public_key, vapid_private_key)
      values ('other', '{https://other.example}', 'pk_other', 'v', 'p') returning id`.execute(db)
  ).rows[0]!.id;

  await timed(`${SUBSCRIPTIONS.toLocaleString('en')} subscriptions per site over 180 days, 15 % of them lost since`, async () => {
    for (const site of [siteId, otherSiteId]) {
      await sql`
        insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, created_at, updated_at)
        select ${site}, 'https://fcm.googleapis.com/fcm/send/' || ${site}::text || '-' || i, 'p', 'a', 'v', 'visitor-' || i,
          ${new Date(RANGE_END_MS)}::timestamptz - (i % 180) * interval '1 day' - (i % 1440) * interval '1 minute',
          ${new Date(RANGE_END_MS)}::timestamptz - (i % 180) * interval '1 day' - (i % 1440) * interval '1 minute'
        from generate_series(1, ${SUBSCRIPTIONS}::int) i`.execute(db);
      await sql`
        update subscriptions set status = case when hashtext(id::text) % 2 = 0 then 'expired' else 'unsubscribed' end,
          updated_at = least(created_at + (abs(hashtext(id::text)) % 60) * interval '1 day', ${new Date(RANGE_END_MS - 60_000)})
        where site_id = ${site} and abs(hashtext(endpoint)) % 100 < 15`.execute(db);
    }
  });

  // 1,000,000 deliveries on the measured site: 6 campaigns to every subscription (600,000), 250,000
  // cart reminders (one delivery each) and 1,500 price drops to 100 shoppers each; 10 % held out.
  await timed('1,000,000 deliveries over 90 days (6 campaigns, 250,000 cart reminders, 1,500 price drops)', async () => {
    await sql`
      insert into notifications (site_id, source, kind, content, audience, ttl_seconds, created_at)
      select ${siteId}, 'campaign', 'marketing', '{}', '{}', 86400, ${start}::timestamptz + (k * 15 + 3) * interval '1 day' + interval '9 hours'
      from generate_series(0, 5) k`.execute(db);
    await sql`
      insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, updated_at)
      select n.id, s.id, s.endpoint, 't',
        case when abs(hashtext(s.id::text || 'campaign')) % 10 = 0 then 'held_out'
             when abs(hashtext(s.id::text || n.id::text)) % 100 < 90 then 'sent'
             when abs(hashtext(s.id::text || n.id::text)) % 100 < 95 then 'suppressed' else 'failed' end,
        n.created_at, n.created_at
      from notifications n cross join lateral (select id, endpoint from subscriptions where site_id = ${siteId} limit ${SUBSCRIPTIONS}) s
      where n.site_id = ${siteId} and n.source = 'campaign'`.execute(db);
    for (let chunk = 0; chunk < 5; chunk++) {
      await sql`
        with made as (
          insert into notifications (site_id, source, kind, content, audience, ttl_seconds, trigger_key, created_at)
          select ${siteId}, 'cart_reminder', 'marketing', '{}', '{}', 86400, 'cart-' || i,
            ${start}::timestamptz + (i % ${DAYS * 1440}) * interval '1 minute'
          from generate_series(${chunk * 50_000 + 1}::int, ${(chunk + 1) * 50_000}::int) i
          returning id, trigger_key, created_at
        )
        insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, updated_at)
        select m.id, s.id, s.endpoint, 't',
          case when abs(hashtext(s.id::text || 'cart_reminder')) % 10 = 0 then 'held_out' else 'sent' end, m.created_at, m.created_at
        from made m join subscriptions s on s.site_id = ${siteId} and s.visitor_id = 'visitor-' || (1 + abs(hashtext(m.trigger_key)) % ${SUBSCRIPTIONS})`.execute(db);
    }
    await sql`
      with made as (
        insert into notifications (site_id, source, kind, content, audience, ttl_seconds, trigger_key, created_at)
        select ${siteId}, 'price_drop', 'marketing', '{}', '{}', 86400, 'product-' || i, ${start}::timestamptz + (i * 86) * interval '1 minute'
        from generate_series(1, 1500) i
        returning id, trigger_key, created_at
      )
      insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, updated_at)
      select m.id, s.id, s.endpoint, 't',
        case when abs(hashtext(s.id::text || 'price_drop')) % 10 = 0 then 'held_out' else 'sent' end, m.created_at, m.created_at
      from made m cross join lateral (
        select id, endpoint from subscriptions
        where site_id = ${siteId} and visitor_id in (select 'visitor-' || (1 + (abs(hashtext(m.trigger_key)) + j * 997) % ${SUBSCRIPTIONS}) from generate_series(1, 100) j)
      ) s`.execute(db);
  });

  await timed('interactions (70 % of sent shown, 5 % clicked), 20,000 orders, conversions on clicks', async () => {
    await sql`
      insert into interactions (delivery_id, notification_id, type, created_at)
      select d.id, d.notification_id, t.type, d.created_at + interval '1 minute'
      from deliveries d cross join (values ('shown', 70), ('clicked', 5)) t(type, percent)
      where d.status = 'sent' and abs(hashtext(d.id::text || t.type)) % 100 < t.percent`.execute(db);
    await sql`
      insert into events (site_id, source, type, visitor_id, properties, created_at)
      select ${siteId}, 'server', 'order_completed', 'visitor-' || (1 + abs(hashtext('order' || i)) % ${SUBSCRIPTIONS}), '{}',
        ${start}::timestamptz + (abs(hashtext('at' || i)) % ${DAYS * 1440}) * interval '1 minute'
      from generate_series(1, 20000) i`.execute(db);
    await sql`
      insert into conversions (site_id, order_id, notification_id, delivery_id, value, currency, source, created_at)
      select ${siteId}, 'order-' || i.id, i.notification_id, i.delivery_id, 10 + i.id % 90, case when i.id % 3 = 0 then 'USD' else 'EUR' end, 'server',
        i.created_at + interval '1 hour'
      from interactions i where i.type = 'clicked' and i.id % 4 = 0`.execute(db);
  });
  return { siteId, otherSiteId, start };
}

export interface DashboardSite {
  ownerId: string;
  /** A subscription whose shopper has a user id shared with another browser, deliveries, clicks and orders. */
  subscriberId: string;
}

const PAGE_PRODUCTS = 1_500;

/**
 * What the dashboard's pages read beyond the stats bench's rows, sized for a shop of this size:
 * the subscriptions' browser, language, tags and user ids (a quarter identified, some sharing a
 * user across browsers), 300,000 browsing events, the orders' properties, 20,000 carts, the
 * origins seen, the prompt funnel of 90 days, 2,000 audit entries, the last week's failed,
 * suppressed and still-waiting deliveries (quiet hours, a host's backoff, retries), secret keys,
 * a team of five with two open invites, and settings with the shop's own templates.
 * The owner is also a member of the other site. `now` is the dashboard's clock.
 */
export async function seedDashboardData(db: Db, site: LargeSite, now: Date): Promise<DashboardSite> {
  const { siteId, otherSiteId, start } = site;
  const nowMs = now.getTime();
  await timed('subscribers: browser, language, tags, 25 % identified (20,000 user ids)', async () => {
    await sql`
      update subscriptions set
        user_agent_family = (array['chrome','chrome','chrome','chrome','edge','firefox','safari','safari','samsung','opera','other'])[1 + abs(hashtext(visitor_id || 'ua')) % 11],
        locale = (array['en','en-US','en-GB','de','de-DE','de-AT','fr','nl','es','it'])[1 + abs(hashtext(visitor_id || 'locale')) % 10],
        time_zone = 'Europe/Berlin',
        tags = case abs(hashtext(visitor_id || 'tag')) % 20 when 0 then '{"plan":"vip"}'::jsonb when 1 then '{"plan":"trial","newsletter":true}'::jsonb else '{}'::jsonb end,
        external_user_id = case when abs(hashtext(visitor_id || 'user')) % 4 = 0 then 'user-' || abs(hashtext(visitor_id || 'uid')) % 20000 end,
        last_seen_at = updated_at
      where site_id = ${siteId}`.execute(db);
  });

  await timed('300,000 browsing events, order properties, 20,000 carts', async () => {
    await sql`
      insert into events (site_id, source, type, visitor_id, properties, created_at)
      select ${siteId}, 'browser', case when i % 5 = 0 then 'cart_updated' else 'product_viewed' end,
        'visitor-' || (1 + abs(hashtext('ev' || i)) % ${SUBSCRIPTIONS}),
        jsonb_build_object('productId', 'product-' || (i % ${PAGE_PRODUCTS}), 'price', 10 + i % 90, 'currency', 'EUR'),
        ${start}::timestamptz + (abs(hashtext('evat' || i)) % ${DAYS * 1440}) * interval '1 minute'
      from generate_series(1, 300000) i`.execute(db);
    await sql`
      update events set properties = jsonb_build_object('orderId', 'order-e' || id, 'value', 10 + id % 190, 'currency', 'EUR')
      where site_id = ${siteId} and type = 'order_completed'`.execute(db);
    await sql`
      insert into carts (site_id, cart_id, visitor_id, items, item_count, total, currency, url, status, reminders_sent, active_at, next_reminder_at, created_at)
      select ${siteId}, 'cart-' || i, 'visitor-' || (1 + abs(hashtext('cart-' || i)) % ${SUBSCRIPTIONS}),
        jsonb_build_array(jsonb_build_object('productId', 'product-' || (i % ${PAGE_PRODUCTS}), 'name', 'Product ' || (i % ${PAGE_PRODUCTS}), 'price', 10 + i % 90, 'quantity', 1 + i % 3)),
        1 + i % 3, (10 + i % 90) * (1 + i % 3), 'EUR', 'https://shop.example/cart',
        case when i % 10 < 6 then 'ordered' when i % 10 < 8 then 'empty' else 'open' end, i % 3,
        ${start}::timestamptz + (abs(hashtext('cartat' || i)) % ${DAYS * 1440}) * interval '1 minute',
        case when i % 10 >= 8 then ${now}::timestamptz + (i % 600) * interval '1 minute' end,
        ${start}::timestamptz + (abs(hashtext('cartat' || i)) % ${DAYS * 1440}) * interval '1 minute'
      from generate_series(1, 20000) i`.execute(db);
  });

  await timed('the last week: 40,000 deliveries decided or waiting (failed, suppressed, quiet hours, backoff, retries)', async () => {
    // Two campaigns to 20,000 active subscriptions each: one three days ago, all decided; one two
    // hours ago, partly still waiting. Outcomes are spread over the time since each was sent.
    for (const [hoursAgo, waiting] of [[72, false], [2, true]] as const) {
      const at = new Date(nowMs - hoursAgo * 3_600_000);
      await sql`
        with made as (
          insert into notifications (site_id, source, kind, content, audience, ttl_seconds, created_at)
          values (${siteId}, 'campaign', 'marketing', '{"title":"Winter sale","body":"20 % off"}', '{"all":true}', 86400, ${at}) returning id, created_at
        ), targets as (
          select s.id, s.endpoint, row_number() over (order by s.id) as k
          from subscriptions s where s.site_id = ${siteId} and s.status = 'active' limit 20000
        )
        insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, attempts, last_status, last_error, due_at, created_at, updated_at, sent_at)
        select m.id, t.id, t.endpoint, 't', x.status, x.attempts, x.last_status, x.last_error,
          case when x.status = 'queued' then x.due_at else m.created_at end, m.created_at,
          m.created_at + (t.k % ${hoursAgo * 60}) * interval '1 minute',
          case when x.status = 'sent' then m.created_at + (t.k % ${hoursAgo * 60}) * interval '1 minute' end
        from made m cross join targets t cross join lateral (
          select * from (values
            (t.k % 100 < 3, 'suppressed', 0, null::int, (array['frequency_cap: 3 marketing pushes in 24 h','quiet_hours: the TTL ends before quiet hours do','subscription_inactive: unsubscribed','ttl_elapsed: not sent within 86400 s'])[1 + (t.k % 4)::int], null::timestamptz),
            (t.k % 100 = 3, 'failed', 3, 403, 'push_rejected: 403 Forbidden', null),
            (t.k % 200 = 9, 'failed', 5, 503, 'failed_after_attempts: 503 Service Unavailable', null),
            (${waiting} and t.k % 100 between 10 and 17, 'queued', 0, null, 'quiet_hours: waiting until 08:00 in Europe/Berlin', ${now}::timestamptz + interval '9 hours'),
            (${waiting} and t.k % 100 = 18, 'queued', 0, 429, 'push_host_backoff: 429 Too Many Requests', ${now}::timestamptz + interval '10 minutes'),
            (${waiting} and t.k % 200 = 38, 'queued', 1, 503, 'push_error: 503 Service Unavailable', ${now}::timestamptz + interval '2 minutes'),
            (true, 'sent', 1, 201, null, null)
          ) v(hit, status, attempts, last_status, last_error, due_at) where v.hit limit 1
        ) x`.execute(db);
    }
  });

  const ownerId = await timed('origins seen, prompt funnel (90 days), 2,000 audit entries, keys, team, settings', async () => {
    await sql`
      insert into origins_seen (site_id, origin, config_at, subscription_at, refused_at, refused_request, refused_code, refused_detail)
      values (${siteId}, 'https://shop.example', ${new Date(nowMs - 60_000)}, ${new Date(nowMs - 300_000)}, null, null, null, null),
        (${siteId}, 'https://staging.shop.example', null, null, ${new Date(nowMs - 86_400_000)}, 'config', 'origin_not_allowed', 'https://staging.shop.example is not an allowed origin')`.execute(db);
    await sql`
      insert into prompt_funnel_days (site_id, day, step, shard, count)
      select ${siteId}, (${start}::timestamptz + d * interval '1 day')::date, step, shard, greatest(1, (n * (20 + abs(hashtext(d::text || step || shard)) % 10)) / 80)
      from generate_series(0, ${DAYS - 1}) d, generate_series(0, 7) shard,
        (values ('prompt_shown', 400), ('prompt_accepted', 120), ('prompt_postponed', 150), ('permission_granted', 90),
                ('permission_denied', 20), ('permission_dismissed', 10), ('push_subscribed', 88)) s(step, n)`.execute(db);

    const ownerId = (await insertUser(db, { email: 'owner@shop.example', name: 'Olga Owner', passwordHash: null }, now))!.id;
    await upsertMembership(db, { userId: ownerId, siteId, role: 'owner' }, now);
    await upsertMembership(db, { userId: ownerId, siteId: otherSiteId, role: 'owner' }, now);
    const owner = { kind: 'user' as const, id: ownerId, email: 'owner@shop.example', name: 'Olga Owner' };
    for (const [email, role] of [['eddie@shop.example', 'editor'], ['erin@shop.example', 'editor'], ['vic@shop.example', 'viewer'], ['val@shop.example', 'viewer']] as const) {
      const user = (await insertUser(db, { email, name: null, passwordHash: null }, now))!;
      await upsertMembership(db, { userId: user.id, siteId, role }, now);
      await recordAudit(db, siteId, owner, { action: 'member_joined', email, role }, now);
    }
    for (const email of ['new.editor@shop.example', 'agency@example.net']) {
      await createInvite(db, { siteId, email, role: 'editor', createdBy: ownerId }, now);
      await recordAudit(db, siteId, owner, { action: 'member_invited', email, role: 'editor' }, now);
    }
    for (const name of ['Backend orders', 'ERP price feed', 'Old integration']) {
      const made = await createSecretKey(db, siteId, name);
      await recordAudit(db, siteId, owner, { action: 'key_created', key: { id: made.key.id, prefix: made.key.prefix, name } }, now);
    }
    await sql`update secret_keys set revoked_at = ${now}, last_used_at = ${new Date(nowMs - 86_400_000)} where site_id = ${siteId} and name = 'Old integration'`.execute(db);
    await recordAudit(db, siteId, owner, { action: 'settings_changed', sections: ['templates'] }, now);
    // 2,000 more entries over the last 90 days, copies of those above at earlier times.
    await sql`
      insert into audit_log (site_id, at, actor_kind, actor_id, actor_label, action, target, details)
      select a.site_id, ${now}::timestamptz - (g * 65) * interval '1 minute', a.actor_kind, a.actor_id, a.actor_label, a.action, a.target, a.details
      from (select *, row_number() over (order by id) as r from audit_log where site_id = ${siteId}) a
      join generate_series(1, 2000) g on (g % 10) + 1 = a.r`.execute(db);

    const settings = readSiteSettings((await findSiteById(db, siteId))!.settings);
    const templates = {
      'cart_reminder.1': { en: { ...DEFAULT_TEMPLATES['cart_reminder.1'].en, title: 'Still thinking about {{item.name}}?' }, de: DEFAULT_TEMPLATES['cart_reminder.1'].de, fr: DEFAULT_TEMPLATES['cart_reminder.1'].en },
      'cart_reminder.2': { en: DEFAULT_TEMPLATES['cart_reminder.2'].en, de: DEFAULT_TEMPLATES['cart_reminder.2'].de },
      price_drop: { en: DEFAULT_TEMPLATES.price_drop.en, nl: DEFAULT_TEMPLATES.price_drop.en },
    };
    const written = { ...settings, templates, engagement: { ...settings.engagement, defaultTimeZone: 'Europe/Berlin' } };
    await updateSiteSettings(db, siteId, written);
    const read = readSiteSettings((await findSiteById(db, siteId))!.settings);
    if (Object.keys(read.templates).length !== 3 || read.engagement.defaultTimeZone !== 'Europe/Berlin') throw new Error('the seeded settings did not read back');
    return ownerId;
  });

  // The shopper whose detail page is measured: an identified subscription whose user id has another browser.
  const subscriber = await sql<{ id: string }>`
    select s.id from subscriptions s
    where s.site_id = ${siteId} and s.status = 'active' and s.external_user_id is not null
      and exists (select 1 from subscriptions o where o.site_id = s.site_id and o.external_user_id = s.external_user_id and o.id <> s.id)
      and exists (select 1 from events e where e.site_id = s.site_id and e.visitor_id = s.visitor_id and e.type = 'order_completed')
    order by s.created_at desc limit 1`.execute(db);
  if (!subscriber.rows[0]) throw new Error('no identified subscriber with an order to measure');
  return { ownerId, subscriberId: subscriber.rows[0].id };
}
