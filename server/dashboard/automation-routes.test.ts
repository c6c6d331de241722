import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSession } from '../accounts/sessions.ts';
import type { Role } from '../db/database.ts';
import { upsertMembership } from '../db/memberships.ts';
import { createSegment } from '../db/segments.ts';
import { findSiteById, updateSiteSettings } from '../db/sites.ts';
import { insertUser } from '../db/users.ts';
import { MAX_PAYLOAD_BYTES } from '../notifications/payload.ts';
import { templatePayloadBytes } from '../settings/change-settings.ts';
import { createSite } from '../sites/create-site.ts';
import { readSiteSettings, siteSettingsSchema } from '../sites/site-settings.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { notificationPreview, sampleValues } from './notification-preview.ts';
import { holdoutLift } from '../stats/lift.ts';
import { liftReading, type TriggerFigures } from './pages/automation-pages.ts';
import { TestBrowser } from './test-client.ts';
import { occasionIdFrom } from './automation-routes.ts';
import { scheduleDueOccasions } from '../triggers/occasions.ts';
import { dashboardAssets } from './assets/assets.ts';
import { gzipSync } from 'node:zlib';

const NOW = new Date(Date.UTC(2030, 0, 15, 9, 0, 0));
const PUBLIC_URL = 'http://localhost:8787';
const DAY = 24 * 60 * 60 * 1000;

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];
let site: { id: string };
const userOf = {} as Record<Role, string>;

async function signedIn(role: Role): Promise<TestBrowser> {
  const browser = new TestBrowser(app);
  const { token } = await startSession(database.db, { userId: userOf[role] }, NOW);
  browser.cookies.set('pushcart-session', token);
  return browser;
}

async function storedSettings() {
  return readSiteSettings((await findSiteById(database.db, site.id))!.settings);
}

const automations = () => `/dashboard/sites/${site.id}/automations`;
const editor = (key = 'price_drop', locale = 'de') => `/dashboard/sites/${site.id}/templates/${key}/${locale}`;

/**
 * A trigger's notification `daysAgo` with `sent` deliveries, `clicked` of them clicked, orders
 * attributed to it, and `heldOut` shoppers held out of it.
 */
async function seedPushes(source: string, daysAgo: number, sent: number, clicked: number, orders: Array<{ value: number; currency: string }>, heldOut = 0) {
  const created = new Date(NOW.getTime() - daysAgo * DAY);
  const notification = await database.db
    .insertInto('notifications')
    .values({
      site_id: site.id,
      source,
      kind: 'marketing',
      content: JSON.stringify({ title: 'A push', body: '', url: 'https://shop.example/', tag: 't' }),
      audience: JSON.stringify({ trigger: source }),
      ttl_seconds: 3600,
      trigger_key: crypto.randomUUID(),
      created_at: created,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const deliveries = [];
  for (let i = 0; i < sent; i += 1) {
    deliveries.push(
      await database.db
        .insertInto('deliveries')
        .values({ notification_id: notification.id, subscription_id: null, endpoint: `https://push.example/${crypto.randomUUID()}`, report_token: crypto.randomUUID(), status: 'sent', due_at: created, sent_at: created, created_at: created, updated_at: created })
        .returning('id')
        .executeTakeFirstOrThrow(),
    );
  }
  for (let i = 0; i < heldOut; i += 1) {
    await database.db
      .insertInto('deliveries')
      .values({ notification_id: notification.id, subscription_id: null, endpoint: `https://push.example/${crypto.randomUUID()}`, report_token: crypto.randomUUID(), status: 'held_out', due_at: created, created_at: created, updated_at: created })
      .execute();
  }
  for (const delivery of deliveries.slice(0, clicked)) {
    await database.db.insertInto('interactions').values({ delivery_id: delivery.id, notification_id: notification.id, type: 'clicked', action: '', created_at: created }).execute();
  }
  for (const [i, order] of orders.entries()) {
    await database.db
      .insertInto('conversions')
      .values({ site_id: site.id, order_id: `order-${crypto.randomUUID()}`, notification_id: notification.id, delivery_id: deliveries[i]!.id, value: order.value, currency: order.currency, source: 'server', created_at: created })
      .execute();
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: PUBLIC_URL } }).app;
  site = await createSite(database.db, { name: 'Lamps <b>&</b> more', origins: ['https://shop.example'] }, undefined);
  for (const role of ['owner', 'editor', 'viewer'] as const) {
    const user = await insertUser(database.db, { email: `${role}@shop.example`, name: null, passwordHash: null }, NOW);
    await upsertMembership(database.db, { userId: user!.id, siteId: site.id, role }, NOW);
    userOf[role] = user!.id;
  }
  await seedPushes('cart_reminder', 2, 4, 1, [{ value: 42.5, currency: 'EUR' }]);
  await seedPushes('cart_reminder', 40, 9, 9, [{ value: 1000, currency: 'EUR' }]);
  await seedPushes('price_drop', 1, 2, 2, [], 3);
  // 2029-12-16 12:00 UTC: before the first of the last 30 days in UTC (2029-12-17), within them
  // in Auckland (2029-12-17 00:00 NZDT is 2029-12-16 11:00 UTC).
  await seedPushes('back_in_stock', (NOW.getTime() - Date.UTC(2029, 11, 16, 12, 0, 0)) / DAY, 5, 0, []);
});
afterAll(async () => database?.destroy());
beforeEach(async () => {
  await updateSiteSettings(database.db, site.id, siteSettingsSchema.parse({}));
});

describe('the automations page', () => {
  it('shows each automation’s last 30 days beside its form, older pushes left out', async () => {
    const page = await (await signedIn('viewer')).get(automations());
    expect(page.status).toBe(200);
    const cart = page.body.slice(page.body.indexOf('id="cart-reminders"'), page.body.indexOf('id="price-drop"'));
    expect(cart).toContain('<div><dt>Sent</dt><dd>4</dd></div>');
    expect(cart).toContain('<dt>Clicked</dt><dd>1 <span class="rate">25 %</span>');
    expect(cart).toContain('<dt>Orders</dt><dd>1 <span class="rate">25 %</span>');
    expect(cart).toContain('€42.50');
    expect(cart).not.toContain('1,000');
    expect(cart).toContain('No holdout');
    const price = page.body.slice(page.body.indexOf('id="price-drop"'), page.body.indexOf('id="back-in-stock"'));
    expect(price).toContain('<div><dt>Sent</dt><dd>2</dd></div>');
    expect(price).toContain('<dt>Clicked</dt><dd>2 <span class="rate">100 %</span>');
    // The 2 pushed and 3 held-out shoppers of the seeded price drop, read through the holdout lift.
    expect(price).toContain('Not enough data yet: no orders so far from 2 recipients and 3 held-out shoppers.');
  });

  it('counts the last 30 calendar days ending today in the shop’s time zone', async () => {
    const backInStock = (body: string) => body.slice(body.indexOf('id="back-in-stock"'));
    const inUtc = await (await signedIn('viewer')).get(automations());
    expect(backInStock(inUtc.body)).toContain('<div><dt>Sent</dt><dd>0</dd></div>');
    await updateSiteSettings(database.db, site.id, siteSettingsSchema.parse({ engagement: { defaultTimeZone: 'Pacific/Auckland' } }));
    const inAuckland = await (await signedIn('viewer')).get(automations());
    expect(backInStock(inAuckland.body)).toContain('<div><dt>Sent</dt><dd>5</dd></div>');
  });

  it('is read-only for a viewer: the fields are there, disabled, and no Save button', async () => {
    const page = await (await signedIn('viewer')).get(automations());
    expect(page.body).toContain('can see the automations but not change them');
    expect(page.body).toMatch(/name="priceDrop.thresholdPercent" type="text" value="5"[^>]* disabled/);
    expect(page.body).not.toContain('Save price drops');
  });

  it('an editor saves a section: stored, then a Saved notice after the redirect, other sections untouched', async () => {
    const browser = await signedIn('editor');
    const response = await browser.submit(automations(), {
      section: 'cart-reminders',
      'cartReminders.enabled': 'on',
      'cartReminders.steps.0.delayMinutes': '45',
      'cartReminders.steps.0.discountCode': '',
      'cartReminders.secondStep': 'on',
      'cartReminders.steps.1.delayMinutes': '1440',
      'cartReminders.steps.1.discountCode': ' COMEBACK10 ',
      'cartReminders.holdoutPercent': '7,5',
    });
    expect(response.status).toBe(303);
    expect(response.location).toBe(`${automations()}?saved=cart-reminders#cart-reminders`);
    const settings = await storedSettings();
    expect(settings.cartReminders).toEqual({ enabled: true, steps: [{ delayMinutes: 45 }, { delayMinutes: 1440, discountCode: 'COMEBACK10' }], holdoutPercent: 7.5 });
    expect(settings.engagement).toEqual(siteSettingsSchema.parse({}).engagement);
    const after = await browser.get(response.location!);
    expect(after.body).toContain('Saved. Cart reminders use the new settings from now on.');
    expect(after.body).toContain('value="COMEBACK10"');
  });

  it('one reminder step when the second is unticked; switching an automation off', async () => {
    const browser = await signedIn('owner');
    await browser.submit(automations(), { section: 'cart-reminders', 'cartReminders.steps.0.delayMinutes': '60', 'cartReminders.steps.1.delayMinutes': '30', 'cartReminders.holdoutPercent': '0' });
    expect((await storedSettings()).cartReminders).toEqual({ enabled: false, steps: [{ delayMinutes: 60 }], holdoutPercent: 0 });
  });

  it('refuses what the API refuses, in words beside the field, keeps what was typed, stores nothing', async () => {
    const browser = await signedIn('editor');
    const before = await storedSettings();
    const cases: Array<{ form: Record<string, string>; field: string; words: RegExp }> = [
      { form: { section: 'price-drop', 'priceDrop.enabled': 'on', 'priceDrop.thresholdPercent': '95', 'priceDrop.renotifyWindowHours': '168', 'priceDrop.holdoutPercent': '0' }, field: 'priceDrop.thresholdPercent', words: /^Must be 90 or less\.$/ },
      { form: { section: 'price-drop', 'priceDrop.thresholdPercent': 'lots', 'priceDrop.renotifyWindowHours': '168', 'priceDrop.holdoutPercent': '0' }, field: 'priceDrop.thresholdPercent', words: /“lots” is not a number/ },
      { form: { section: 'frequency-cap', 'engagement.frequencyCap.marketingPer24h': '' }, field: 'engagement.frequencyCap.marketingPer24h', words: /Enter a number/ },
      { form: { section: 'quiet-hours', 'engagement.quietHours.enabled': 'on', 'engagement.quietHours.start': '9:00', 'engagement.quietHours.end': '07:00', 'engagement.defaultTimeZone': 'UTC' }, field: 'engagement.quietHours.start', words: /HH:MM/ },
      { form: { section: 'quiet-hours', 'engagement.quietHours.enabled': 'on', 'engagement.quietHours.start': '22:00', 'engagement.quietHours.end': '22:00', 'engagement.defaultTimeZone': 'UTC' }, field: 'engagement.quietHours.end', words: /start and end must differ/i },
      { form: { section: 'quiet-hours', 'engagement.quietHours.start': '22:00', 'engagement.quietHours.end': '07:00', 'engagement.defaultTimeZone': 'Mars/<b>Olympus</b>' }, field: 'engagement.defaultTimeZone', words: /IANA time zone/ },
      { form: { section: 'back-in-stock', 'backInStock.holdoutPercent': '101' }, field: 'backInStock.holdoutPercent', words: /^Must be 100 or less\.$/ },
    ];
    for (const { form, field, words } of cases) {
      const response = await browser.submit(automations(), form);
      expect(response.status, field).toBe(422);
      expect(response.body).toContain('Nothing was saved');
      const id = `f-${field.replace(/\./g, '-')}`;
      const error = new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(response.body);
      expect(error?.[1], field).toMatch(words);
      expect(response.body).toMatch(new RegExp(`id="${id}"[^>]*aria-describedby="[^"]*${id}-error"[^>]*aria-invalid="true"`));
      // What was typed comes back, escaped.
      expect(response.body).toContain(`value="${form[field]!.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')}"`);
    }
    expect(await storedSettings()).toEqual(before);
  });

  it('reminder steps out of order are refused for the steps, nothing stored', async () => {
    const browser = await signedIn('editor');
    const response = await browser.submit(automations(), {
      section: 'cart-reminders',
      'cartReminders.enabled': 'on',
      'cartReminders.steps.0.delayMinutes': '600',
      'cartReminders.secondStep': 'on',
      'cartReminders.steps.1.delayMinutes': '60',
      'cartReminders.holdoutPercent': '0',
    });
    expect(response.status).toBe(422);
    expect(response.body).toContain('Reminder steps: each step must come later than the one before.');
    expect((await storedSettings()).cartReminders.steps).toEqual([{ delayMinutes: 60 }, { delayMinutes: 1440 }]);
  });
});

describe('the templates', () => {
  it('lists every key in the built-in locales, the default and the shop’s own, marking customised ones', async () => {
    await updateSiteSettings(database.db, site.id, siteSettingsSchema.parse({ defaultLocale: 'fr', templates: { back_in_stock: { 'pt-BR': { title: 'Voltou', body: '' } } } }));
    const page = await (await signedIn('viewer')).get(`/dashboard/sites/${site.id}/templates`);
    expect(page.status).toBe(200);
    for (const locale of ['de', 'en', 'fr', 'pt-BR']) expect(page.body).toContain(`href="/dashboard/sites/${site.id}/templates/price_drop/${locale}"`);
    const backInStock = page.body.slice(page.body.indexOf('id="key-back_in_stock"'));
    expect(backInStock).toMatch(/<span class="locale">pt-BR<\/span><span class="badge custom">Customised<\/span>/);
    expect(backInStock).toMatch(/<span class="locale">de<\/span><span class="badge builtin">Built-in<\/span>/);
  });

  it('opens another language by its tag, canonical, and says in words when the tag is none', async () => {
    const browser = await signedIn('viewer');
    const open = await browser.get(`/dashboard/sites/${site.id}/templates?key=back_in_stock&locale=${encodeURIComponent('de-at')}`);
    expect(open.location).toBe(editor('back_in_stock', 'de-AT'));
    expect((await browser.get(editor('back_in_stock', 'de-at'))).location).toBe(editor('back_in_stock', 'de-AT'));
    const bad = await browser.get(`/dashboard/sites/${site.id}/templates?key=back_in_stock&locale=${encodeURIComponent('<b>x</b>_')}`);
    expect(bad.status).toBe(422);
    expect(bad.body).toContain('“&lt;b&gt;x&lt;/b&gt;_” is not a language tag');
    expect((await browser.get(editor('no_such_key', 'en'))).status).toBe(404);
  });

  it('the editor starts from the built-in text, lists the placeholders with samples for the locale, and previews it', async () => {
    const page = await (await signedIn('editor')).get(editor('price_drop', 'de'));
    expect(page.status).toBe(200);
    expect(page.body).toContain('value="{{product.name}} jetzt für {{price.new}}"');
    // German formatting of the sample prices, in the placeholder table and the three looks.
    expect(page.body).toContain('<td><code>{{price.old}}</code></td><td>the price before the drop</td><td>89,00\u00a0€</td>');
    expect(page.body).toContain('<td><code>{{price.percent}}</code></td><td>percent off, rounded down</td><td>22\u00a0%</td>');
    expect(page.body.match(/<p class="n-title">Merino wool sweater jetzt für 69,00\u00a0€<\/p>/g)).toHaveLength(3);
    expect(page.body).toContain('<p class="n-origin">shop.example</p>');
    expect(page.body).toMatch(/<strong>[\d,]+ bytes left<\/strong> of 3,993/);
    expect(page.body).toContain('data-live-preview="notification-preview"');
    expect(page.body).toMatch(/<script src="\/dashboard\/assets\/template-preview\.[0-9a-f]{16}\.js" defer><\/script>/);
    expect(page.body).not.toContain('Use the built-in text');
  });

  it('“Preview” draws the page from the form and stores nothing; markup in the template and the name is text', async () => {
    const browser = await signedIn('editor');
    const response = await browser.submit(editor(), {
      intent: 'preview',
      title: '<img src=x onerror=alert(1)> {{product.name}}',
      body: 'Line one <script>alert(1)</script>\nUse {{discount.code}}',
      'actions.0.title': '<b>Buy</b>',
      'actions.0.action': 'buy',
    });
    expect(response.status).toBe(200);
    expect(response.body).not.toContain('<img src=x');
    expect(response.body).not.toContain('<script>alert');
    expect(response.body).not.toContain('<b>Buy</b>');
    expect(response.body).toContain('<p class="n-title">&lt;img src=x onerror=alert(1)&gt; Merino wool sweater</p>');
    // The discount line is left out for a price drop (no code there), as the trigger would.
    expect(response.body).toContain('<p class="n-body">Line one &lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(response.body).toContain('<span class="win-button">&lt;b&gt;Buy&lt;/b&gt;</span>');
    expect((await storedSettings()).templates).toEqual({});
  });

  it('the preview escapes markup in product names rendered through placeholders', () => {
    const preview = notificationPreview({ template: { title: '{{product.name}}', body: '' }, locale: 'en', origin: 'https://shop.example', discountCode: '<i>CODE</i>', publicUrl: PUBLIC_URL });
    expect(preview.message.title).toBe('Merino wool sweater');
    const samples = sampleValues('cart_reminder.2', 'en-US', '<i>CODE</i>');
    expect(samples.find((row) => row.name === 'discount.code')?.sample).toBe('<i>CODE</i>');
    expect(samples.find((row) => row.name === 'cart.total')?.sample).toBe('$148.50');
  });

  it('shows a cart reminder step’s own discount code in the sample, escaped', async () => {
    await updateSiteSettings(database.db, site.id, siteSettingsSchema.parse({ cartReminders: { steps: [{ delayMinutes: 60 }, { delayMinutes: 1440, discountCode: '<b>BACK</b>' }] } }));
    const page = await (await signedIn('editor')).get(editor('cart_reminder.2', 'en'));
    expect(page.body).toContain('<td><code>{{discount.code}}</code></td>');
    expect(page.body).toContain('Use code &lt;b&gt;BACK&lt;/b&gt; at checkout.');
    expect(page.body).not.toContain('<b>BACK</b>');
  });

  it('saves a valid template (trimmed, CRLF as \\n), then says Saved; reset deletes it again', async () => {
    const browser = await signedIn('editor');
    const response = await browser.submit(editor(), {
      intent: 'save',
      title: '  {{product.name}}: jetzt {{price.new}} ',
      body: 'Vorher {{price.old}}.\r\nSchnell sein!',
      'actions.0.title': 'Ansehen',
      'actions.0.action': 'view',
      'actions.1.title': '',
      'actions.1.action': '',
    });
    expect(response.status).toBe(303);
    expect(response.location).toBe(`${editor()}?saved`);
    expect((await storedSettings()).templates).toEqual({
      price_drop: { de: { title: '{{product.name}}: jetzt {{price.new}}', body: 'Vorher {{price.old}}.\nSchnell sein!', actions: [{ action: 'view', title: 'Ansehen' }] } },
    });
    const after = await browser.get(response.location!);
    expect(after.body).toContain('Saved. The next pushes use this text.');
    expect(after.body).toContain('This shop’s own text.');
    expect(after.body).toContain('<span class="win-button">Ansehen</span>');

    const reset = await browser.submit(editor(), { intent: 'reset' });
    expect(reset.status).toBe(303);
    expect(reset.location).toBe(`/dashboard/sites/${site.id}/templates?reset`);
    expect((await storedSettings()).templates).toEqual({});
    expect((await browser.get(reset.location!)).body).toContain('back to the built-in text');
  });

  it('refuses an invalid template in words beside its field, keeping what was typed, storing nothing', async () => {
    const browser = await signedIn('owner');
    const cases: Array<{ form: Record<string, string>; field: string; words: RegExp }> = [
      { form: { title: '', body: 'x' }, field: 'title', words: /^Must not be empty\.$/ },
      { form: { title: 'Now {{price.nwe}}', body: '' }, field: 'title', words: /^Unknown placeholder \{\{price\.nwe\}\}; known: /i },
      { form: { title: 'Ok', body: '', 'actions.0.title': 'Go', 'actions.0.action': 'no spaces' }, field: 'actions.0.action', words: /A–Z, a–z, 0–9/ },
      { form: { title: 'Ok', body: '', 'actions.0.title': '', 'actions.0.action': 'go' }, field: 'actions.0.title', words: /^Must not be empty\.$/ },
    ];
    for (const { form, field, words } of cases) {
      const response = await browser.submit(editor(), { intent: 'save', ...form });
      expect(response.status, field).toBe(422);
      const id = `f-${field.replace(/\./g, '-')}`;
      expect(new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(response.body)?.[1], field).toMatch(words);
      expect(response.body).toContain('before this can be saved');
      expect(response.body).toContain(`name="title" type="text" value="${form.title}"`);
    }
    expect((await storedSettings()).templates).toEqual({});
  });

  it('a template too big for a push says by how many bytes, the same count the API uses, and stores nothing', async () => {
    const browser = await signedIn('editor');
    const body = `${'{{product.name}} '.repeat(8)}${'ü'.repeat(990 - 17 * 8)}`;
    const template = { title: '{{product.name}} {{product.name}}', body: body.trim(), actions: [{ action: 'a', title: '{{product.name}}' }, { action: 'b', title: '{{product.name}}' }] };
    const over = templatePayloadBytes(template, PUBLIC_URL) - MAX_PAYLOAD_BYTES;
    expect(over).toBeGreaterThan(0);
    const form = { title: template.title, body: template.body, 'actions.0.title': '{{product.name}}', 'actions.0.action': 'a', 'actions.1.title': '{{product.name}}', 'actions.1.action': 'b' };
    const response = await browser.submit(editor(), { intent: 'save', ...form });
    expect(response.status).toBe(422);
    expect(response.body).toContain(`Too long by ${over.toLocaleString('en')} bytes`);
    expect(response.body).toContain(`<strong>${over.toLocaleString('en')} bytes too long.</strong>`);
    expect((await storedSettings()).templates).toEqual({});
    // The preview says so before saving, too.
    const preview = await browser.submit(editor(), { intent: 'preview', ...form });
    expect(preview.status).toBe(200);
    expect(preview.body).toContain(`<strong>${over.toLocaleString('en')} bytes too long.</strong>`);
  });

  it('a viewer sees the template and its preview, without a form or the preview script', async () => {
    const page = await (await signedIn('viewer')).get(editor('back_in_stock', 'en'));
    expect(page.status).toBe(200);
    expect(page.body).toContain('can see the templates but not change them');
    expect(page.body).not.toContain('<form method="post" action="/dashboard/sites');
    expect(page.body).not.toContain('template-preview.');
    expect(page.body.match(/<p class="n-title">Merino wool sweater is back in stock<\/p>/g)).toHaveLength(3);
  });
});

describe('the pages’ markup and script', () => {
  it('carries no inline script, style or event handler, and the preview script is served hashed and small', async () => {
    const browser = await signedIn('owner');
    for (const path of [automations(), `/dashboard/sites/${site.id}/templates`, editor('cart_reminder.1', 'en')]) {
      const page = await browser.get(path);
      expect(page.status, path).toBe(200);
      expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
      expect(page.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    }
    const script = (await dashboardAssets()).pageScripts.get('template-preview')!;
    expect(script.name).toMatch(/^template-preview\.[0-9a-f]{16}\.js$/);
    const served = await app.request(`/dashboard/assets/${script.name}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(await served.text()).toBe(script.body);
    // The editor loads the shared script and this one: both stay within 30 KB gzipped together.
    expect(gzipSync(script.body).length + gzipSync((await dashboardAssets()).js.body).length).toBeLessThanOrEqual(30 * 1024);
  });
});

describe('the holdout reading beside an automation', () => {
  const figures = (holdout: TriggerFigures['holdout'], holdoutPercent = 10): TriggerFigures => ({ sent: 0, clicked: 0, converted: 0, revenue: {}, holdoutPercent, holdout });
  const lift = (source: string, recipients: { subscribers: number; ordered: number }, heldOut: { subscribers: number; ordered: number }) => ({
    recipients,
    heldOut,
    ...holdoutLift(source, recipients, heldOut),
  });

  it('says in words how many more (or fewer) orders the pushes brought than the held-out group, with its interval', () => {
    const more = lift('cart_reminder', { subscribers: 9000, ordered: 900 }, { subscribers: 1000, ordered: 50 });
    expect(liftReading(figures(more))).toBe('Cart reminders brought 100 % more orders than the held-out group (95 % interval: 52 % to 164 %).');
    const fewer = lift('price_drop', { subscribers: 10000, ordered: 300 }, { subscribers: 1000, ordered: 60 });
    expect(liftReading(figures(fewer))).toBe('Price-drop alerts brought 50 % fewer orders than the held-out group (95 % interval: 35 % to 62 % fewer).');
  });

  it('says when there is no holdout, or not enough data yet', () => {
    expect(liftReading(figures(null, 0))).toMatch(/^No holdout/);
    expect(liftReading(figures(null))).toBe('Not enough data yet to compare with the held-out group.');
    // Shoppers were held out before the holdout was turned off: what they show is still read.
    const few = lift('back_in_stock', { subscribers: 30, ordered: 1 }, { subscribers: 3, ordered: 0 });
    expect(liftReading(figures(few, 0))).toBe('Not enough data yet: 3 held-out shoppers, at least 165 needed.');
  });
});

describe('the order updates and rating requests forms', () => {
  it('show their last 30 days, the rating answers counted per button', async () => {
    await seedPushes('order_update', 3, 6, 2, []);
    await seedPushes('rating_request', 4, 3, 0, []);
    const ratingDeliveries = await database.db
      .selectFrom('deliveries as d')
      .innerJoin('notifications as n', 'n.id', 'd.notification_id')
      .select(['d.id', 'd.notification_id'])
      .where('n.site_id', '=', site.id)
      .where('n.source', '=', 'rating_request')
      .orderBy('d.id')
      .execute();
    for (const [i, answer] of ['good', 'good', 'bad'].entries()) {
      const delivery = ratingDeliveries[i]!;
      await database.db.insertInto('interactions').values({ delivery_id: delivery.id, notification_id: delivery.notification_id, type: 'clicked', action: answer, created_at: new Date(NOW.getTime() - 4 * DAY) }).execute();
    }
    const page = await (await signedIn('viewer')).get(automations());
    const orders = page.body.slice(page.body.indexOf('id="order-updates"'), page.body.indexOf('id="rating-request"'));
    expect(orders).toContain('<div><dt>Sent</dt><dd>6</dd></div>');
    expect(orders).toContain('Transactional: shoppers expect these');
    expect(orders).toMatch(/name="orderUpdates.types.order_shipped" type="checkbox" value="on" checked/);
    const rating = page.body.slice(page.body.indexOf('id="rating-request"'), page.body.indexOf('id="frequency-cap"'));
    expect(rating).toContain('<div><dt>Sent</dt><dd>3</dd></div>');
    expect(rating).toContain('<dt>Clicked</dt><dd>3 <span class="rate">100 %</span>');
    expect(rating).toContain('<div><dt>Answered 👍 Good</dt><dd>2</dd></div>');
    expect(rating).toContain('<div><dt>Answered 👎 Not good</dt><dd>1</dd></div>');
    expect(rating).toMatch(/<span class="badge off">Off<\/span>/);
  });

  it('an editor saves each: types switched one by one, the pages stored, an emptied page cleared', async () => {
    const browser = await signedIn('editor');
    const orders = await browser.submit(automations(), {
      section: 'order-updates',
      'orderUpdates.enabled': 'on',
      'orderUpdates.types.order_shipped': 'on',
      'orderUpdates.types.order_delivered': 'on',
      'orderUpdates.orderPageUrl': 'https://shop.example/account/orders/{orderId}',
    });
    expect(orders.status).toBe(303);
    const rating = await browser.submit(automations(), {
      section: 'rating-request',
      'ratingRequest.enabled': 'on',
      'ratingRequest.delayDays': '5',
      'ratingRequest.pageUrl': 'https://shop.example/orders/{orderId}/review',
      'ratingRequest.holdoutPercent': '10',
      'ratingRequest.sendAtBestHour': 'on',
    });
    expect(rating.location).toBe(`${automations()}?saved=rating-request#rating-request`);
    let settings = await storedSettings();
    expect(settings.orderUpdates).toEqual({
      enabled: true,
      types: { order_shipped: true, order_delivered: true, order_ready_for_pickup: false, order_cancelled: false, refund_issued: false },
      orderPageUrl: 'https://shop.example/account/orders/{orderId}',
    });
    expect(settings.ratingRequest).toEqual({ enabled: true, delayDays: 5, pageUrl: 'https://shop.example/orders/{orderId}/review', holdoutPercent: 10, sendAtBestHour: true });
    await browser.submit(automations(), { section: 'rating-request', 'ratingRequest.delayDays': '5', 'ratingRequest.pageUrl': '', 'ratingRequest.holdoutPercent': '10' });
    settings = await storedSettings();
    expect(settings.ratingRequest).toMatchObject({ enabled: false, pageUrl: '', sendAtBestHour: false });
  });

  it('refuses a rating page off the shop or a delay out of range, beside the field, storing nothing', async () => {
    const browser = await signedIn('editor');
    const before = await storedSettings();
    const cases: Array<{ form: Record<string, string>; field: string; words: RegExp }> = [
      { form: { section: 'rating-request', 'ratingRequest.enabled': 'on', 'ratingRequest.delayDays': '3', 'ratingRequest.pageUrl': 'https://reviews.example/{orderId}', 'ratingRequest.holdoutPercent': '0' }, field: 'ratingRequest.pageUrl', words: /site&#39;s origins/ },
      { form: { section: 'rating-request', 'ratingRequest.delayDays': '0', 'ratingRequest.pageUrl': '', 'ratingRequest.holdoutPercent': '0' }, field: 'ratingRequest.delayDays', words: /^Must be 1 or more\.$/ },
      { form: { section: 'order-updates', 'orderUpdates.orderPageUrl': 'javascript:alert(1)' }, field: 'orderUpdates.orderPageUrl', words: /http\(s\) URL/ },
    ];
    for (const { form, field, words } of cases) {
      const response = await browser.submit(automations(), form);
      expect(response.status, field).toBe(422);
      const id = `f-${field.replace(/\./g, '-')}`;
      const error = new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(response.body);
      expect(error?.[1], field).toMatch(words);
    }
    expect(await storedSettings()).toEqual(before);
  });

  it('lists the order and rating templates in the template editor', async () => {
    const list = await (await signedIn('viewer')).get(`/dashboard/sites/${site.id}/templates`);
    for (const key of ['order_shipped', 'order_delivered', 'order_ready_for_pickup', 'order_cancelled', 'refund_issued', 'rating_request']) expect(list.body).toContain(`/templates/${key}/de`);
    const rating = await (await signedIn('viewer')).get(editor('rating_request', 'de'));
    expect(rating.status).toBe(200);
    expect(rating.body).toContain('Wie war deine Bestellung?');
    expect(rating.body).toContain('👎 Nicht gut');
    expect(rating.body).toContain('<code>{{order.id}}</code>');
    expect(rating.body).toContain('each opens your rating page, with its id (good, bad) as the answer');
  });
});

describe('low stock and the price-drop comparison on the automations page', () => {
  it('shows the low stock form off by default with its last 30 days, and the 30-day low chosen for price drops', async () => {
    await seedPushes('low_stock', 3, 6, 3, [{ value: 80, currency: 'EUR' }]);
    const page = await (await signedIn('viewer')).get(automations());
    const low = page.body.slice(page.body.indexOf('id="low-stock"'), page.body.indexOf('id="frequency-cap"'));
    expect(low).toContain('<span class="badge off">Off</span>');
    expect(low).toContain('<div><dt>Sent</dt><dd>6</dd></div>');
    expect(low).toContain('<dt>Clicked</dt><dd>3 <span class="rate">50 %</span>');
    expect(low).toContain('€80.00');
    expect(low).toMatch(/name="lowStock.threshold" type="text" value="3"/);
    expect(low).toMatch(/name="lowStock.withinDays" type="text" value="14"/);
    const price = page.body.slice(page.body.indexOf('id="price-drop"'), page.body.indexOf('id="back-in-stock"'));
    expect(price).toMatch(/name="priceDrop.compareWith" type="radio" value="lowest30" checked/);
    expect(price).toMatch(/name="priceDrop.compareWith" type="radio" value="previous" aria/);
  });

  it('an editor turns low stock on and compares price drops with the price before; other sections untouched', async () => {
    const browser = await signedIn('editor');
    const saved = await browser.submit(automations(), { section: 'low-stock', 'lowStock.enabled': 'on', 'lowStock.threshold': '5', 'lowStock.withinDays': '7', 'lowStock.holdoutPercent': '10' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`${automations()}?saved=low-stock#low-stock`);
    const price = await browser.submit(automations(), {
      section: 'price-drop',
      'priceDrop.enabled': 'on',
      'priceDrop.thresholdPercent': '5',
      'priceDrop.renotifyWindowHours': '168',
      'priceDrop.holdoutPercent': '0',
      'priceDrop.compareWith': 'previous',
    });
    expect(price.status).toBe(303);
    const settings = await storedSettings();
    expect(settings.lowStock).toEqual({ enabled: true, threshold: 5, withinDays: 7, holdoutPercent: 10, sendAtBestHour: false });
    expect(settings.priceDrop.compareWith).toBe('previous');
    expect(settings.cartReminders).toEqual(siteSettingsSchema.parse({}).cartReminders);
  });

  it('refuses a threshold of 0 and an unknown comparison in words beside the field, storing nothing', async () => {
    const browser = await signedIn('editor');
    const low = await browser.submit(automations(), { section: 'low-stock', 'lowStock.enabled': 'on', 'lowStock.threshold': '0', 'lowStock.withinDays': '14', 'lowStock.holdoutPercent': '0' });
    expect(low.status).toBe(422);
    expect(low.body).toContain('id="f-lowStock-threshold-error">Must be 1 or more.</p>');
    const price = await browser.submit(automations(), {
      section: 'price-drop',
      'priceDrop.enabled': 'on',
      'priceDrop.thresholdPercent': '5',
      'priceDrop.renotifyWindowHours': '168',
      'priceDrop.holdoutPercent': '0',
      'priceDrop.compareWith': 'cheapest-ever',
    });
    expect(price.status).toBe(422);
    expect(price.body).toContain('id="f-priceDrop-compareWith-error">');
    const settings = await storedSettings();
    expect(settings.lowStock.enabled).toBe(false);
    expect(settings.priceDrop.compareWith).toBe('lowest30');
  });
});

describe('welcome and reactivation on the automations page', () => {
  const section = (body: string, id: string, next: string) => body.slice(body.indexOf(`id="${id}"`), body.indexOf(`id="${next}"`));

  it('shows both off by default with their last 30 days, and the welcome codes left', async () => {
    await seedPushes('welcome', 2, 8, 4, [{ value: 30, currency: 'EUR' }]);
    await seedPushes('reactivation', 5, 10, 1, []);
    const page = await (await signedIn('viewer')).get(automations());
    const welcome = section(page.body, 'welcome', 'reactivation');
    expect(welcome).toContain('<span class="badge off">Off</span>');
    expect(welcome).toContain('<div><dt>Sent</dt><dd>8</dd></div>');
    expect(welcome).toContain('<dt>Clicked</dt><dd>4 <span class="rate">50 %</span>');
    expect(welcome).toContain('€30.00');
    expect(welcome).toMatch(/name="welcome.delayMinutes" type="text" value="10"/);
    expect(welcome).toMatch(/name="welcome.codeMode" type="radio" value="fixed" checked/);
    expect(welcome).toContain('Codes left: 0');
    const comeback = section(page.body, 'reactivation', 'frequency-cap');
    expect(comeback).toContain('<span class="badge off">Off</span>');
    expect(comeback).toContain('<div><dt>Sent</dt><dd>10</dd></div>');
    expect(comeback).toMatch(/name="reactivation.afterDays" type="text" value="60"/);
    expect(comeback).toMatch(/name="reactivation.quietForDays" type="text" value="90"/);
  });

  it('an editor turns the welcome on with a list of pasted codes, and reactivation with a code', async () => {
    const browser = await signedIn('editor');
    const welcome = await browser.submit(automations(), {
      section: 'welcome',
      'welcome.enabled': 'on',
      'welcome.delayMinutes': '15',
      'welcome.codeMode': 'list',
      'welcome.code': '',
      'welcome.holdoutPercent': '5',
      'welcomeCodes.paste': 'PASTE-1\r\nPASTE-2, PASTE-3\r\n\r\nPASTE-1',
    });
    expect(welcome.status).toBe(303);
    expect(welcome.location).toBe(`${automations()}?saved=welcome#welcome`);
    const comeback = await browser.submit(automations(), {
      section: 'reactivation',
      'reactivation.enabled': 'on',
      'reactivation.afterDays': '45',
      'reactivation.quietForDays': '120',
      'reactivation.code': 'MISSYOU',
      'reactivation.holdoutPercent': '0',
    });
    expect(comeback.status).toBe(303);
    const settings = await storedSettings();
    expect(settings.welcome).toEqual({ enabled: true, delayMinutes: 15, codeMode: 'list', code: '', holdoutPercent: 5 });
    expect(settings.reactivation).toEqual({ enabled: true, afterDays: 45, quietForDays: 120, code: 'MISSYOU', holdoutPercent: 0 });
    const page = await browser.get(automations());
    expect(section(page.body, 'welcome', 'reactivation')).toContain('Codes left: 3');
  });

  it('refuses a code too long and a quiet period of 0 beside their fields, storing nothing', async () => {
    const browser = await signedIn('editor');
    const welcome = await browser.submit(automations(), {
      section: 'welcome',
      'welcome.enabled': 'on',
      'welcome.delayMinutes': '10',
      'welcome.codeMode': 'list',
      'welcome.code': '',
      'welcome.holdoutPercent': '0',
      'welcomeCodes.paste': 'X'.repeat(65),
    });
    expect(welcome.status).toBe(422);
    expect(welcome.body).toContain('id="f-welcomeCodes-paste-error">Each code must be at most 64 characters.</p>');
    const comeback = await browser.submit(automations(), {
      section: 'reactivation',
      'reactivation.enabled': 'on',
      'reactivation.afterDays': '60',
      'reactivation.quietForDays': '0',
      'reactivation.code': '',
      'reactivation.holdoutPercent': '0',
    });
    expect(comeback.status).toBe(422);
    expect(comeback.body).toContain('id="f-reactivation-quietForDays-error">Must be 1 or more.</p>');
    const settings = await storedSettings();
    expect([settings.welcome.enabled, settings.reactivation.enabled]).toEqual([false, false]);
  });
});

describe('birthdays on the automations page', () => {
  it('an editor turns birthdays on with a code at a fixed time', async () => {
    const browser = await signedIn('editor');
    const page = await browser.get(automations());
    expect(page.body).toContain('id="birthday"');
    expect(page.body).toMatch(/name="birthday.sendAtBestHour" type="checkbox" value="on" checked/);
    const saved = await browser.submit(automations(), {
      section: 'birthday',
      'birthday.enabled': 'on',
      'birthday.localTime': '09:30',
      'birthday.discountCode': 'HAPPY10',
      'birthday.holdoutPercent': '5',
    });
    expect(saved.location).toBe(`${automations()}?saved=birthday#birthday`);
    expect((await storedSettings()).birthday).toEqual({ enabled: true, sendAtBestHour: false, localTime: '09:30', discountCode: 'HAPPY10', holdoutPercent: 5 });
  });
});

/** A field's problem as the page shows it beside the field, by the field's name. */
function fieldError(body: string, name: string): string | undefined {
  const id = `f-${name.replace(/\./g, '-')}`;
  return new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(body)?.[1];
}

/** The value a one-line field shows, by its name. */
function fieldValue(body: string, name: string): string | undefined {
  return new RegExp(`name="${name.replace(/\./g, '\\.')}" type="(?:text|hidden)" value="([^"]*)"`).exec(body)?.[1];
}

/** The option a drop-down shows chosen, by its name: its label. */
function chosen(body: string, name: string): string | undefined {
  const select = new RegExp(`<select [^>]*name="${name.replace(/\./g, '\\.')}"[^>]*>(.*?)</select>`, 's').exec(body)?.[1] ?? '';
  return /<option value="[^"]*" selected>([^<]*)<\/option>/.exec(select)?.[1];
}

describe('occasions on the automations page', () => {
  const sinterklaas = {
    id: 'sinterklaas',
    name: 'Sinterklaas',
    enabled: true,
    month: 12,
    day: 5,
    localTime: '09:00',
    url: 'https://shop.example/sinterklaas',
    texts: { en: { title: 'Happy Sinterklaas', body: 'Gifts for everyone' }, de: { title: 'Frohen Nikolaus', body: '' } },
  };
  const blackFriday = { id: 'bf', name: 'Black Friday', enabled: false, month: 11, day: 27, year: 2030, localTime: '10:00', texts: { en: { title: 'Black Friday starts now', body: '' } } };

  async function withOccasions(list: unknown[]) {
    await updateSiteSettings(database.db, site.id, siteSettingsSchema.parse({ occasions: { list } }));
  }

  /** The form as a browser would post it back unchanged from the page. */
  function formOf(body: string): Record<string, string> {
    const form: Record<string, string> = { section: 'occasions' };
    const part = body.slice(body.indexOf('id="occasions"'), body.indexOf('id="low-stock"'));
    for (const [, name, value] of part.matchAll(/name="(occasions\.list\.[^"]+)" type="(?:text|hidden)" value="([^"]*)"/g)) form[name!] = value!.replaceAll('&amp;', '&');
    for (const [, name] of part.matchAll(/name="(occasions\.list\.[^"]+)" type="checkbox" value="on" checked/g)) form[name!] = 'on';
    for (const [, name, options] of part.matchAll(/<select [^>]*name="(occasions\.list\.[^"]+)"[^>]*>(.*?)<\/select>/gs)) form[name!] = /<option value="([^"]*)" selected>/.exec(options!)?.[1] ?? '';
    return form;
  }

  it('shows each occasion as fields with its values, the segment by name, a spare language row, and no JSON', async () => {
    const made = await createSegment(database.db, site.id, { name: 'Dutch <shoppers>', definition: { match: 'all', rules: [{ type: 'tag', key: 'country', op: 'equals', value: 'nl' }] } }, NOW);
    if (made.outcome !== 'created') throw new Error(made.outcome);
    await withOccasions([{ ...sinterklaas, segmentId: made.segment.id }, blackFriday]);
    const body = (await (await signedIn('editor')).get(automations())).body;
    expect(body).not.toContain('A JSON list');
    expect(fieldValue(body, 'occasions.list.0.id')).toBe('sinterklaas');
    expect(fieldValue(body, 'occasions.list.0.name')).toBe('Sinterklaas');
    expect(fieldValue(body, 'occasions.list.0.day')).toBe('5');
    expect(chosen(body, 'occasions.list.0.month')).toBe('December');
    expect(fieldValue(body, 'occasions.list.0.year')).toBe('');
    expect(fieldValue(body, 'occasions.list.0.localTime')).toBe('09:00');
    expect(chosen(body, 'occasions.list.0.segmentId')).toBe('Dutch &lt;shoppers&gt;');
    expect(fieldValue(body, 'occasions.list.0.url')).toBe('https://shop.example/sinterklaas');
    expect(body).toMatch(/name="occasions.list.0.enabled" type="checkbox" value="on" checked/);
    expect([0, 1, 2].map((j) => fieldValue(body, `occasions.list.0.texts.${j}.locale`))).toEqual(['en', 'de', '']);
    expect(fieldValue(body, 'occasions.list.0.texts.0.title')).toBe('Happy Sinterklaas');
    expect(fieldValue(body, 'occasions.list.0.texts.0.body')).toBe('Gifts for everyone');
    expect(fieldValue(body, 'occasions.list.0.texts.1.title')).toBe('Frohen Nikolaus');
    expect(fieldValue(body, 'occasions.list.1.year')).toBe('2030');
    expect(chosen(body, 'occasions.list.1.month')).toBe('November');
    expect(chosen(body, 'occasions.list.1.segmentId')).toBe('Every subscriber');
    expect(body).toMatch(/name="occasions.list.1.enabled" type="checkbox" value="on" aria-describedby/);
    expect(body).toContain('Remove this occasion when saving');
    expect(body).toContain('>Add an occasion</button>');
    await database.db.deleteFrom('segments').where('id', '=', made.segment.id).execute();
  });

  it('Add an occasion draws a blank row after what was typed, saving nothing; saved, a new one gets its id from the name and a renamed one keeps its own', async () => {
    await withOccasions([sinterklaas, blackFriday]);
    const browser = await signedIn('editor');
    const typed = { ...formOf((await browser.get(automations())).body), 'occasions.list.0.name': 'Sinterklaas & Pakjesavond', intent: 'add' };
    const added = await browser.submit(automations(), typed);
    expect(added.status).toBe(200);
    expect(added.body).toContain('A blank occasion is added at the end. Nothing is saved until you save the occasions.');
    expect(fieldValue(added.body, 'occasions.list.0.name')).toBe('Sinterklaas &amp; Pakjesavond');
    expect(added.body).toContain('<fieldset class="occasion" id="occasion-2"><legend>New occasion</legend>');
    expect(fieldValue(added.body, 'occasions.list.2.texts.0.locale')).toBe('en');
    expect(fieldValue(added.body, 'occasions.list.2.localTime')).toBe('10:00');
    expect((await storedSettings()).occasions.list.map((occasion) => occasion.name)).toEqual(['Sinterklaas', 'Black Friday']);

    const filled = {
      ...formOf(added.body),
      'occasions.list.1.remove': 'on',
      'occasions.list.2.name': 'Koningsdag',
      'occasions.list.2.day': '27',
      'occasions.list.2.month': '4',
      'occasions.list.2.localTime': '08:30',
      'occasions.list.2.texts.0.title': 'Oranje boven',
      'occasions.list.2.texts.0.body': 'Alles oranje, 20 % korting',
      'occasions.list.2.texts.1.locale': 'EN-gb',
      'occasions.list.2.texts.1.title': 'King’s Day',
    };
    const saved = await browser.submit(automations(), filled);
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`${automations()}?saved=occasions#occasions`);
    expect((await storedSettings()).occasions.list).toEqual([
      { ...sinterklaas, name: 'Sinterklaas & Pakjesavond' },
      {
        id: 'koningsdag',
        name: 'Koningsdag',
        enabled: true,
        month: 4,
        day: 27,
        localTime: '08:30',
        texts: { en: { title: 'Oranje boven', body: 'Alles oranje, 20 % korting' }, 'en-GB': { title: 'King’s Day', body: '' } },
      },
    ]);
    const after = await browser.get(saved.location!);
    expect(after.body).toContain('Saved. Occasions use the new settings from now on.');
    expect(fieldValue(after.body, 'occasions.list.1.id')).toBe('koningsdag');
    const entry = await database.db.selectFrom('audit_log').select(['action', 'details']).where('site_id', '=', site.id).orderBy('at', 'desc').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ action: 'settings_changed', details: { sections: ['occasions'] } });
  });

  it('a new occasion named as one removed after it was sent this year gets an id of its own, so it still goes out this year', async () => {
    // Black Friday on 16 January 2030: within a day of the clock, so the scheduler claims it now.
    const sale = { id: 'black-friday', name: 'Black Friday', enabled: true, month: 1, day: 16, localTime: '10:00', texts: { en: { title: 'Black Friday starts now', body: '' } } };
    await withOccasions([sinterklaas, sale]);
    const schedule = async () => scheduleDueOccasions(database.db, (await findSiteById(database.db, site.id))!, { now: NOW, publicUrl: PUBLIC_URL });
    expect(await schedule()).toHaveLength(1);

    const browser = await signedIn('editor');
    const removed = await browser.submit(automations(), { ...formOf((await browser.get(automations())).body), 'occasions.list.1.remove': 'on' });
    expect(removed.status).toBe(303);
    expect((await storedSettings()).occasions.list.map((occasion) => occasion.id)).toEqual(['sinterklaas']);

    const added = await browser.submit(automations(), { ...formOf((await browser.get(automations())).body), intent: 'add' });
    const saved = await browser.submit(automations(), {
      ...formOf(added.body),
      'occasions.list.1.name': 'Black Friday',
      'occasions.list.1.day': '16',
      'occasions.list.1.month': '1',
      'occasions.list.1.texts.0.title': 'Black Friday, again',
    });
    expect(saved.status).toBe(303);
    expect((await storedSettings()).occasions.list.map((occasion) => occasion.id)).toEqual(['sinterklaas', 'black-friday-2']);
    // Under its own id, this year's claim is its own: it is scheduled, not taken for already sent.
    expect(await schedule()).toHaveLength(1);
    const sends = await database.db.selectFrom('occasion_sends').select(['occasion_id', 'year']).where('site_id', '=', site.id).orderBy('occasion_id').execute();
    expect(sends).toEqual([
      { occasion_id: 'black-friday', year: 2030 },
      { occasion_id: 'black-friday-2', year: 2030 },
    ]);
    await database.db.deleteFrom('occasion_sends').where('site_id', '=', site.id).execute();
  });

  it('a new row with only its time, audience or switch changed is refused with the missing name and text beside their fields, keeping what was typed', async () => {
    await withOccasions([sinterklaas]);
    const made = await createSegment(database.db, site.id, { name: 'Only the time row', definition: { match: 'all', rules: [{ type: 'tag', key: 'country', op: 'equals', value: 'be' }] } }, NOW);
    if (made.outcome !== 'created') throw new Error(made.outcome);
    const browser = await signedIn('editor');
    const added = await browser.submit(automations(), { ...formOf((await browser.get(automations())).body), intent: 'add' });
    const blank = formOf(added.body);
    expect(blank['occasions.list.1.enabled']).toBe('on');
    // Saved untouched, the blank row is no occasion: nothing to refuse.
    expect((await browser.submit(automations(), blank)).status).toBe(303);

    const { 'occasions.list.1.enabled': _on, ...unticked } = blank;
    const changes = [
      { form: { ...blank, 'occasions.list.1.localTime': '08:30' }, kept: (body: string) => expect(fieldValue(body, 'occasions.list.1.localTime')).toBe('08:30') },
      { form: { ...blank, 'occasions.list.1.segmentId': made.segment.id }, kept: (body: string) => expect(chosen(body, 'occasions.list.1.segmentId')).toBe('Only the time row') },
      { form: unticked, kept: (body: string) => expect(body).toMatch(/name="occasions.list.1.enabled" type="checkbox" value="on" aria-describedby/) },
    ];
    for (const { form, kept } of changes) {
      const refused = await browser.submit(automations(), form);
      expect(refused.status).toBe(422);
      expect(fieldError(refused.body, 'occasions.list.1.name')).toBe('Enter a name, such as Black Friday.');
      expect(fieldError(refused.body, 'occasions.list.1.texts.0.title')).toBe('Give the text in at least one locale.');
      expect(fieldError(refused.body, 'occasions.list.1.month')).toBe('Choose a month.');
      kept(refused.body);
      expect(fieldValue(refused.body, 'occasions.list.0.name')).toBe('Sinterklaas');
      expect((await storedSettings()).occasions.list).toEqual([sinterklaas]);
    }
    await database.db.deleteFrom('segments').where('id', '=', made.segment.id).execute();
  });

  it('refuses a bad occasion beside the right field of the right row, in words, keeping every typed value and storing nothing', async () => {
    await withOccasions([sinterklaas, blackFriday]);
    const browser = await signedIn('editor');
    const form = {
      ...formOf((await browser.get(automations())).body),
      'occasions.list.1.day': '31',
      'occasions.list.1.month': '2',
      'occasions.list.0.texts.1.title': ' ',
      'occasions.list.0.texts.1.body': 'Geschenke <für> alle',
      'occasions.list.0.url': 'shop.example/sinterklaas',
      'occasions.list.2.name': 'Pakjesavond',
      'occasions.list.2.day': 'fifth',
      'occasions.list.2.month': '',
      'occasions.list.2.texts.0.locale': 'not a tag',
      'occasions.list.2.texts.0.title': 'Heerlijk avondje',
    };
    const refused = await browser.submit(automations(), form);
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('Nothing was saved');
    // The row's own problems first (no month, no number, no language), before the schema looks.
    expect(fieldError(refused.body, 'occasions.list.2.month')).toBe('Choose a month.');
    expect(fieldError(refused.body, 'occasions.list.2.day')).toMatch(/“fifth” is not a number/);
    expect(fieldError(refused.body, 'occasions.list.2.texts.0.locale')).toMatch(/“not a tag” is not a language tag/);
    expect(fieldValue(refused.body, 'occasions.list.2.name')).toBe('Pakjesavond');
    expect(fieldValue(refused.body, 'occasions.list.0.texts.1.body')).toBe('Geschenke &lt;für&gt; alle');

    // Those fixed, the schema's problems land on their rows and fields.
    const again = await browser.submit(automations(), { ...form, 'occasions.list.2.day': '5', 'occasions.list.2.month': '12', 'occasions.list.2.texts.0.locale': 'nl' });
    expect(again.status).toBe(422);
    expect(fieldError(again.body, 'occasions.list.1.day')).toBe('No such day in that month.');
    expect(fieldError(again.body, 'occasions.list.0.texts.1.title')).toBe('Must not be empty.');
    expect(fieldError(again.body, 'occasions.list.0.url')).toMatch(/^Must be an absolute http\(s\) URL/);
    expect(fieldError(again.body, 'occasions.list.2.day')).toBeUndefined();
    expect(again.body).toMatch(/id="f-occasions-list-1-day"[^>]*aria-describedby="[^"]*f-occasions-list-1-day-error"[^>]*aria-invalid="true"/);
    expect(fieldValue(again.body, 'occasions.list.1.day')).toBe('31');
    expect(chosen(again.body, 'occasions.list.1.month')).toBe('February');
    expect(fieldValue(again.body, 'occasions.list.0.url')).toBe('shop.example/sinterklaas');
    expect(fieldValue(again.body, 'occasions.list.2.texts.0.title')).toBe('Heerlijk avondje');
    expect((await storedSettings()).occasions.list).toEqual([sinterklaas, blackFriday]);
  });

  it('an occasion with no text in any language is refused beside its first title; the same language twice beside the second', async () => {
    await withOccasions([]);
    const browser = await signedIn('editor');
    const empty = await browser.get(automations());
    expect(empty.body).toContain('No occasions yet.');
    const added = await browser.submit(automations(), { section: 'occasions', intent: 'add' });
    const form = { ...formOf(added.body), 'occasions.list.0.name': 'Día de Reyes', 'occasions.list.0.day': '6', 'occasions.list.0.month': '1' };
    const noText = await browser.submit(automations(), form);
    expect(noText.status).toBe(422);
    expect(fieldError(noText.body, 'occasions.list.0.texts.0.title')).toBe('Give the text in at least one locale.');
    const twice = await browser.submit(automations(), { ...form, 'occasions.list.0.texts.0.title': 'Feliz día', 'occasions.list.0.texts.1.locale': 'EN', 'occasions.list.0.texts.1.title': 'Happy day' });
    expect(fieldError(twice.body, 'occasions.list.0.texts.1.locale')).toBe('en has a text above already; give each language once.');
    const saved = await browser.submit(automations(), { ...form, 'occasions.list.0.texts.0.title': 'Feliz día' });
    expect(saved.status).toBe(303);
    expect((await storedSettings()).occasions.list.map((occasion) => occasion.id)).toEqual(['dia-de-reyes']);
  });

  it('a post of the earlier JSON box is refused, not read as "no occasions"', async () => {
    await withOccasions([sinterklaas]);
    const refused = await (await signedIn('editor')).submit(automations(), { section: 'occasions', 'occasions.list': '[]' });
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('This form is from an earlier version of this page.');
    expect(fieldValue(refused.body, 'occasions.list.0.name')).toBe('Sinterklaas');
    expect((await storedSettings()).occasions.list).toEqual([sinterklaas]);
  });

  it('a viewer sees the occasions but cannot add, remove or save', async () => {
    await withOccasions([sinterklaas]);
    const body = (await (await signedIn('viewer')).get(automations())).body;
    expect(body).toMatch(/name="occasions.list.0.name" type="text" value="Sinterklaas"[^>]* disabled/);
    expect(body).not.toContain('Add an occasion');
    expect(body).not.toContain('Remove this occasion');
    expect(body).not.toContain('Save occasions');
  });
});

describe('occasion ids', () => {
  it('come from the name in lowercase ASCII, unique among the others', () => {
    expect(occasionIdFrom('Black Friday 2030!', new Set())).toBe('black-friday-2030');
    expect(occasionIdFrom('Día de Reyes', new Set(['dia-de-reyes']))).toBe('dia-de-reyes-2');
    expect(occasionIdFrom('クリスマス', new Set())).toBe('occasion');
    expect(occasionIdFrom(`${'long '.repeat(20)}`, new Set())).toMatch(/^[a-z0-9][a-z0-9-]{0,39}$/);
  });
});

describe('the engagement budget and best hour on the automations page', () => {
  it('shows the budget with its current values and the rule in words; a valid post is stored and read back', async () => {
    const browser = await signedIn('editor');
    const page = await browser.get(automations());
    const part = page.body.slice(page.body.indexOf('id="engagement-budget"'), page.body.indexOf('id="best-hour"'));
    expect(part).toContain('halve the number they may get per 7 days');
    expect(part).toMatch(/name="engagement.budget.enabled" type="checkbox" value="on" checked/);
    expect(fieldValue(part, 'engagement.budget.ignoredPerHalving')).toBe('3');
    expect(fieldValue(part, 'engagement.budget.minPerWeek')).toBe('1');
    const saved = await browser.submit(automations(), { section: 'engagement-budget', 'engagement.budget.ignoredPerHalving': '5', 'engagement.budget.minPerWeek': '0' });
    expect(saved.location).toBe(`${automations()}?saved=engagement-budget#engagement-budget`);
    const settings = await storedSettings();
    expect(settings.engagement.budget).toEqual({ enabled: false, ignoredPerHalving: 5, minPerWeek: 0 });
    expect(settings.engagement.frequencyCap).toEqual(siteSettingsSchema.parse({}).engagement.frequencyCap);
    const after = await browser.get(saved.location!);
    expect(after.body).toContain('Saved. Marketing pushes follow the new engagement budget from now on.');
    expect(fieldValue(after.body, 'engagement.budget.ignoredPerHalving')).toBe('5');
    expect(after.body).toMatch(/name="engagement.budget.enabled" type="checkbox" value="on">/);
  });

  it('shows the best hour’s threshold explained; a valid post is stored and read back', async () => {
    const browser = await signedIn('editor');
    const page = await browser.get(automations());
    expect(fieldValue(page.body, 'engagement.bestHour.minOwnDataPoints')).toBe('5');
    expect(page.body).toContain('A shopper with fewer clicks and visits than this gets the shop’s best hour');
    const saved = await browser.submit(automations(), { section: 'best-hour', 'engagement.bestHour.minOwnDataPoints': '12' });
    expect(saved.location).toBe(`${automations()}?saved=best-hour#best-hour`);
    expect((await storedSettings()).engagement.bestHour).toEqual({ minOwnDataPoints: 12 });
    const after = await browser.get(saved.location!);
    expect(after.body).toContain('Saved. Best-hour sends use the new threshold from now on.');
    expect(fieldValue(after.body, 'engagement.bestHour.minOwnDataPoints')).toBe('12');
  });

  it('refuses a bad budget or threshold beside its field, in words, keeping what was typed, storing nothing', async () => {
    const browser = await signedIn('editor');
    const before = await storedSettings();
    const cases: Array<{ form: Record<string, string>; field: string; words: RegExp }> = [
      { form: { section: 'engagement-budget', 'engagement.budget.enabled': 'on', 'engagement.budget.ignoredPerHalving': '3', 'engagement.budget.minPerWeek': '9' }, field: 'engagement.budget.minPerWeek', words: /^Must be 7 or less\.$/ },
      { form: { section: 'engagement-budget', 'engagement.budget.enabled': 'on', 'engagement.budget.ignoredPerHalving': '2.5', 'engagement.budget.minPerWeek': '1' }, field: 'engagement.budget.ignoredPerHalving', words: /^Must be a whole number\.$/ },
      { form: { section: 'engagement-budget', 'engagement.budget.ignoredPerHalving': 'three', 'engagement.budget.minPerWeek': '1' }, field: 'engagement.budget.ignoredPerHalving', words: /“three” is not a number/ },
      { form: { section: 'best-hour', 'engagement.bestHour.minOwnDataPoints': '0' }, field: 'engagement.bestHour.minOwnDataPoints', words: /^Must be 1 or more\.$/ },
    ];
    for (const { form, field, words } of cases) {
      const response = await browser.submit(automations(), form);
      expect(response.status, field).toBe(422);
      expect(response.body).toContain('Nothing was saved');
      expect(fieldError(response.body, field), field).toMatch(words);
      expect(fieldValue(response.body, field)).toBe(form[field]);
    }
    expect(await storedSettings()).toEqual(before);
  });
});
