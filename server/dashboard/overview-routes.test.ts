import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyReport } from '../db/daily-stats.ts';
import type { Role } from '../db/database.ts';
import { countPromptStep, promptFunnel } from '../db/prompt-funnel.ts';
import { markDemoSite } from '../db/sites.ts';
import { seedDemoData, seededRandom } from '../demo/demo-data.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { siteSettingsSchema } from '../sites/site-settings.ts';
import { localDays } from '../stats/local-days.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { parseRange } from './overview-routes.ts';
import { TestBrowser, signedInBrowser, dashboardMember } from './test-client.ts';

// 15:30 UTC on 20 March: still the 20th in UTC (the demo site's zone by default).
const NOW = new Date(Date.UTC(2030, 2, 20, 15, 30, 0));
const TODAY = '2030-03-20';
const n = (value: number) => new Intl.NumberFormat('en-US').format(value);

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];
let demo: CreatedSite;
let quiet: CreatedSite;
const members: Record<'owner' | 'viewer', string> = { owner: '', viewer: '' };

function signedIn(userId: string): Promise<TestBrowser> {
  return signedInBrowser(app, database.db, userId, NOW);
}

function member(email: string, sites: Array<[string, Role]>): Promise<string> {
  return dashboardMember(database.db, email, sites, NOW);
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: 'http://localhost:8787' } }).app;
  demo = await createSite(database.db, { name: 'Demo <i>shop</i>', origins: ['http://localhost:8787'] }, undefined);
  await markDemoSite(database.db, demo.id);
  expect((await seedDemoData(database.db, demo.id, NOW, seededRandom(3))).outcome).toBe('seeded');
  quiet = await createSite(database.db, { name: 'Quiet shop', origins: ['https://quiet.example'] }, undefined);
  members.owner = await member('owner@shop.example', [[demo.id, 'owner'], [quiet.id, 'owner']]);
  members.viewer = await member('viewer@shop.example', [[demo.id, 'viewer']]);
});
afterAll(async () => database?.destroy());

describe('the overview page', () => {
  it('shows the figures dailyReport gives for the same range, day by day and per trigger', async () => {
    const page = await (await signedIn(members.owner)).get(`/dashboard/sites/${demo.id}/overview`);
    expect(page.status).toBe(200);
    const report = await dailyReport(database.db, demo.id, localDays('2030-02-19', TODAY, 'UTC'), 'UTC', 24);
    expect(report.days).toHaveLength(30);

    expect(page.body).toContain(`<dt>Active subscribers now</dt><dd><span class="stat-value">${n(report.activeNow)}</span>`);
    // Every day's row of the subscribers table carries that day's figures, in order.
    for (const day of report.days) {
      const s = day.subscribers;
      const cells = [s.new, s.returned, s.lostExpired, s.lostUnsubscribed, s.lostErased, s.net, s.active].map((value) => `<td class="num">${n(value)}</td>`).join('');
      expect(page.body, day.date).toContain(cells);
    }
    // Pushes per day, and per trigger with its name in words.
    for (const day of report.days) {
      expect(page.body, day.date).toContain(`<td class="num">${n(day.pushes.sent)}</td><td class="num">${n(day.pushes.shown)}</td><td class="num">${n(day.pushes.clicked)}</td><td class="num">${n(day.pushes.converted)}</td>`);
    }
    const cart = report.triggers.cart_reminder!;
    expect(page.body).toContain(`<th scope="row">Cart reminders</th><td class="num">${n(cart.sent)}</td><td class="num">${n(cart.heldOut)}</td><td class="num">${n(cart.shown)}</td><td class="num">${n(cart.clicked)}</td>`);
    const revenue = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR', maximumFractionDigits: cart.revenue.EUR! >= 100 ? 0 : 2 }).format(cart.revenue.EUR!);
    expect(page.body).toContain(`<td class="num">${n(cart.converted)}</td><td class="num">${revenue}</td></tr>`);
    // The lift in words, as the report reads it.
    expect(cart.holdout!.reading).toMatch(/more orders than the held-out group/);
    expect(page.body).toContain(`<p class="lift-reading">${cart.holdout!.reading}</p>`);
    expect(page.body).toContain(`Pushed: ${n(cart.holdout!.recipients.ordered)} of ${n(cart.holdout!.recipients.subscribers)} ordered`);
    expect(page.body).toContain(`Held out: ${n(cart.holdout!.heldOut.ordered)} of ${n(cart.holdout!.heldOut.subscribers)} ordered`);
    expect(page.body).toContain(`<p class="lift-reading">${report.triggers.price_drop!.holdout!.reading}</p>`);

    // The funnel, summed over the same days (the shop's zone is UTC).
    const funnel = await promptFunnel(database.db, demo.id, localDays('2030-02-19', TODAY, 'UTC'));
    const shown = funnel.reduce((sum, day) => sum + day.prompt_shown, 0);
    const subscribed = funnel.reduce((sum, day) => sum + day.push_subscribed, 0);
    expect(shown).toBeGreaterThan(0);
    expect(page.body).toContain(`<th scope="row">Prompt shown</th><td class="num">${n(shown)}</td><td class="num">100 %</td>`);
    expect(page.body).toContain(`<th scope="row">Subscribed</th><td class="num">${n(subscribed)}</td><td class="num">${Math.round((subscribed / shown) * 100)} %</td>`);

    // Each chart is an image with a title, drawn for both widths, and the site's name is escaped.
    for (const id of ['chart-subscribers', 'chart-funnel', 'chart-pushes', 'chart-clicks', 'chart-revenue', 'chart-lift']) {
      expect(page.body).toContain(`aria-labelledby="${id}-wide-title ${id}-wide-desc"`);
      expect(page.body).toContain(`aria-labelledby="${id}-narrow-title ${id}-narrow-desc"`);
    }
    expect(page.body).toContain('Demo &lt;i&gt;shop&lt;/i&gt;');
    expect(page.body).not.toContain('<i>shop</i>');
    expect(page.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('takes a range from the form and marks the quick range it matches', async () => {
    const browser = await signedIn(members.viewer);
    const week = await browser.get(`/dashboard/sites/${demo.id}/overview?from=2030-03-14&to=2030-03-20`);
    expect(week.status).toBe(200);
    expect(week.body).toContain('14 Mar 2030 to 20 Mar 2030');
    expect(week.body).toContain(`<a href="/dashboard/sites/${demo.id}/overview?from=2030-03-14&amp;to=2030-03-20" aria-current="true">Last 7 days</a>`);
    expect(week.body).toContain(`<a href="/dashboard/sites/${demo.id}/overview?from=2029-12-21&amp;to=2030-03-20">Last 90 days</a>`);
    const report = await dailyReport(database.db, demo.id, localDays('2030-03-14', TODAY, 'UTC'), 'UTC', 24);
    expect(week.body.match(/<tr><th scope="row">\d+ (?:Feb|Mar) 2030<\/th><td class="num">/g)).toHaveLength(2 * 7);
    const sent = report.days.reduce((sum, day) => sum + day.pushes.sent, 0);
    expect(week.body).toContain(`<dt>Pushes sent</dt><dd><span class="stat-value">${n(sent)}</span>`);
  });

  it.each([
    [{ from: '2030-02-30' }, 'from', 'The start date is not a date'],
    [{ to: 'yesterday' }, 'to', 'The end date is not a date'],
    [{ from: '2030-03-19', to: '2030-03-01' }, 'from', 'The start date is after the end date'],
    [{ from: '2029-01-01', to: '2030-03-20' }, 'from', 'That is 444 days; the overview shows at most 366 at a time'],
  ])('refuses the range %o in words beside the field, and shows the last 30 days', async (query, field, words) => {
    const page = await (await signedIn(members.owner)).get(`/dashboard/sites/${demo.id}/overview?${new URLSearchParams(query)}`);
    expect(page.status).toBe(422);
    expect(page.body).toContain(`<p class="field-error" id="range-${field}-error">${words}`);
    expect(page.body).toMatch(new RegExp(`id="range-${field}" name="${field}" type="date" value="[^"]*"[^>]*aria-invalid="true" aria-describedby="range-${field}-error"`));
    expect(page.body).toContain('That range cannot be shown, so these are the last 30 days instead.');
    expect(page.body).toContain('19 Feb 2030 to 20 Mar 2030');
  });

  it('parseRange: empty fields take the defaults, a single day is a range, 366 days is the most', () => {
    expect(parseRange({}, TODAY)).toEqual({ from: '2030-02-19', to: TODAY });
    expect(parseRange({ from: '', to: '2030-01-31' }, TODAY)).toEqual({ from: '2030-01-02', to: '2030-01-31' });
    expect(parseRange({ from: '2030-03-20', to: '2030-03-20' }, TODAY)).toEqual({ from: TODAY, to: TODAY });
    expect(parseRange({ from: '2029-03-20', to: '2030-03-20' }, TODAY)).toEqual({ from: '2029-03-20', to: TODAY });
    expect(parseRange({ from: '2029-03-19', to: '2030-03-20' }, TODAY)).toHaveProperty('form.errors.from');
  });

  it('escapes a trigger name and a currency from stored data, in the tables and the charts', async () => {
    const source = '<img src=x onerror=alert(1)>';
    const subscription = await sql<{ id: string }>`
      insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, created_at, updated_at, last_seen_at)
      values (${quiet.id}, 'https://fcm.googleapis.com/fcm/send/escape-test', 'p', 'a', 'v', 'escape-visitor', ${NOW}, ${NOW}, ${NOW}) returning id`.execute(database.db);
    const notification = await sql<{ id: string }>`
      insert into notifications (site_id, source, kind, content, audience, ttl_seconds, created_at)
      values (${quiet.id}, ${source}, 'marketing', '{}', '{}', 60, ${new Date(NOW.getTime() - 3_600_000)}) returning id`.execute(database.db);
    const delivery = await sql<{ id: string }>`insert into deliveries (notification_id, subscription_id, endpoint, report_token, status, created_at, due_at, updated_at)
      values (${notification.rows[0]!.id}, ${subscription.rows[0]!.id}, 'https://fcm.googleapis.com/fcm/send/escape-test', 'escape-token', 'sent', ${NOW}, ${NOW}, ${NOW}) returning id`.execute(database.db);
    // A currency no one validated on the way in (Intl does not know it): written out, escaped.
    await sql`insert into conversions (site_id, order_id, notification_id, delivery_id, value, currency, source, created_at)
      values (${quiet.id}, 'escape-order', ${notification.rows[0]!.id}, ${delivery.rows[0]!.id}, 12.5, '<s>', 'server', ${NOW})`.execute(database.db);
    const page = await (await signedIn(members.owner)).get(`/dashboard/sites/${quiet.id}/overview`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<th scope="row">Pushes from “&lt;img src=x onerror=alert(1)&gt;”</th>');
    expect(page.body).not.toContain(source);
    expect(page.body).toContain('<td class="num">12.50 &lt;s&gt;</td>');
    expect(page.body).toContain('Revenue per day (&lt;s&gt;)');
    expect(page.body).not.toContain('<s>');
    await sql`delete from subscriptions where site_id = ${quiet.id}`.execute(database.db);
  });

  it('counts the opt-in funnel by the shop’s own days, as every other figure', async () => {
    const site = await createSite(database.db, { name: 'Auckland shop', origins: ['https://nz.example'] }, undefined);
    const settings = siteSettingsSchema.parse({ engagement: { defaultTimeZone: 'Pacific/Auckland' } });
    await database.db.updateTable('sites').set({ settings: JSON.stringify(settings) as never }).where('id', '=', site.id).execute();
    const owner = await member('nz-owner@shop.example', [[site.id, 'owner']]);
    // Auckland is 13 hours ahead in March: 10:50 UTC on the 20th is 23:50 there; 11:10 UTC is ten past midnight on the 21st.
    await countPromptStep(database.db, site.id, 'prompt_shown', 'visitor-nz-late', new Date(Date.UTC(2030, 2, 20, 10, 50)));
    await countPromptStep(database.db, site.id, 'prompt_shown', 'visitor-nz-early', new Date(Date.UTC(2030, 2, 20, 11, 10)));
    await countPromptStep(database.db, site.id, 'prompt_accepted', 'visitor-nz-early', new Date(Date.UTC(2030, 2, 20, 11, 11)));
    const browser = await signedIn(owner);
    const shownOn = async (date: string) => {
      const page = await browser.get(`/dashboard/sites/${site.id}/overview?from=${date}&to=${date}`);
      expect(page.status).toBe(200);
      return /<th scope="row">Prompt shown<\/th><td class="num">(\d+)<\/td>/.exec(page.body)?.[1];
    };
    expect(await shownOn('2030-03-20')).toBe('1');
    expect(await shownOn('2030-03-21')).toBe('1');
    const today = await browser.get(`/dashboard/sites/${site.id}/overview`);
    expect(today.body).toContain('<th scope="row">Said yes</th><td class="num">1</td>');
    expect(today.body).toContain('Counted by day in Pacific/Auckland');
  });

  it('an empty shop says what to do instead of drawing empty charts', async () => {
    const site = await createSite(database.db, { name: 'Brand-new shop', origins: ['https://new.example'] }, undefined);
    const owner = await member('new-owner@shop.example', [[site.id, 'owner']]);
    const page = await (await signedIn(owner)).get(`/dashboard/sites/${site.id}/overview`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('No figures yet');
    expect(page.body).toContain(`<a href="/dashboard/sites/${site.id}/install">Install the snippet and the service worker</a>`);
    expect(page.body).not.toContain('<svg class="chart-svg');
  });

  it('is the shop’s home: /dashboard opens it, and it leads the shop’s navigation', async () => {
    const browser = await signedIn(members.viewer);
    expect((await browser.get('/dashboard')).location).toBe(`/dashboard/sites/${demo.id}/overview`);
    const page = await browser.get(`/dashboard/sites/${demo.id}/install`);
    expect(page.body).toMatch(new RegExp(`<nav class="subnav" aria-label="Shop sections"><ul><li><a href="/dashboard/sites/${demo.id}/overview">Overview</a></li><li><a href="/dashboard/sites/${demo.id}/install" aria-current="page">Install</a>`));
  });
});
