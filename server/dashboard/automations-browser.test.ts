// The automations and templates pages in real Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): a setting refused in words then saved; a template edited with its preview
// following the typing (the page script posting the form for a fresh server-drawn preview), the
// byte budget going over, then saved. Every page is checked with axe-core (no serious or critical
// violation), must log no error and no CSP violation, must not scroll sideways at 390 px, and is
// photographed at 1280 and 390 px into the test artifacts (dashboard/).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSegment } from '../db/segments.ts';
import { findSiteById } from '../db/sites.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { addMember, useDashboardBrowser } from '../testing/dashboard-browser-session.ts';
import { cspViolations, DASHBOARD_WIDTHS } from '../testing/dashboard-page-checks.ts';

const missing = chromiumMissing();
if (missing) console.warn(`automations browser tests skipped: ${missing}`);

let site: CreatedSite;

const dashboard = useDashboardBrowser({
  shots: 'dashboard',
  statusPagesExpected: true,
  async setUp({ db }) {
    site = await createSite(db, { name: 'Lamps <b>&</b> more', origins: ['https://shop.example'] }, undefined);
    const editor = await addMember(db, site.id, { email: 'editor@shop.example', name: 'Eda <i>Editor</i>', role: 'editor' });
    await seedPushes('cart_reminder', 48, 11, [54.9, 120, 32.5]);
    await seedPushes('price_drop', 20, 6, [89]);
    await createSegment(db, site.id, { name: 'Dutch shoppers', definition: { match: 'all', rules: [{ type: 'tag', key: 'country', op: 'equals', value: 'nl' }] } }, new Date());
    return { signedIn: editor };
  },
});

/** A month of a trigger's pushes as the delivery worker and the order attribution would leave them. */
async function seedPushes(source: string, sent: number, clicked: number, orders: number[]) {
  const created = new Date(Date.now() - 3 * 24 * 60 * 60 * 1000);
  const notification = await dashboard.db
    .insertInto('notifications')
    .values({ site_id: site.id, source, kind: 'marketing', content: JSON.stringify({ title: 'A push', body: '', url: 'https://shop.example/', tag: 't' }), audience: JSON.stringify({ trigger: source }), ttl_seconds: 3600, trigger_key: crypto.randomUUID(), created_at: created })
    .returning('id')
    .executeTakeFirstOrThrow();
  const ids: string[] = [];
  for (let i = 0; i < sent; i += 1) {
    const row = await dashboard.db
      .insertInto('deliveries')
      .values({ notification_id: notification.id, subscription_id: null, endpoint: `https://push.example/${i}-${crypto.randomUUID()}`, report_token: crypto.randomUUID(), status: 'sent', due_at: created, sent_at: created, created_at: created, updated_at: created })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
  }
  for (const id of ids.slice(0, clicked)) await dashboard.db.insertInto('interactions').values({ delivery_id: id, notification_id: notification.id, type: 'clicked', action: '', created_at: created }).execute();
  for (const [i, value] of orders.entries()) {
    await dashboard.db.insertInto('conversions').values({ site_id: site.id, order_id: `o-${i}-${source}`, notification_id: notification.id, delivery_id: ids[i]!, value, currency: 'EUR', source: 'server', created_at: created }).execute();
  }
}

describe.skipIf(missing !== undefined)('the automations and templates pages in Chromium', { timeout: 180_000 }, () => {
  it('the automations page: figures beside each form, a refusal in words, then Saved', async () => {
    const { db, page, origin, problems, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${site.id}/automations`);
    await page.getByRole('heading', { name: 'Automations', level: 1 }).waitFor();
    const cart = page.locator('#cart-reminders');
    expect(await cart.locator('.figures dd').first().textContent()).toBe('48');
    expect(await cart.locator('.figures').textContent()).toContain('€207.40');
    await checkPage('automations');

    await page.getByLabel('Smallest drop worth a push').fill('95');
    await page.getByRole('button', { name: 'Save price drops' }).click();
    await page.locator('#f-priceDrop-thresholdPercent-error').waitFor();
    expect(await page.locator('#f-priceDrop-thresholdPercent-error').textContent()).toBe('Must be 90 or less.');
    await checkPage('automations-error');

    await page.getByLabel('Smallest drop worth a push').fill('12.5');
    await page.getByRole('button', { name: 'Save price drops' }).click();
    await page.getByText('Saved. Price drops use the new settings from now on.').waitFor();
    expect(readSiteSettings((await findSiteById(db, site.id))!.settings).priceDrop.thresholdPercent).toBe(12.5);
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('an occasion added through the form: refused in words beside its field, fixed and saved; then the engagement budget changed', async () => {
    const { db, page, origin, problems, shotsDir, checkPage } = dashboard;
    const settings = async () => readSiteSettings((await findSiteById(db, site.id))!.settings);
    /** The section as a person sees it, at both widths, to look at. */
    const shootSection = async (id: string, name: string) => {
      for (const width of DASHBOARD_WIDTHS) {
        await page.setViewportSize({ width, height: 800 });
        await page.locator(`#${id}`).screenshot({ path: join(shotsDir, `${name}-${width}.png`) });
      }
      await page.setViewportSize({ width: 1280, height: 800 });
    };
    await page.goto(`${origin}/dashboard/sites/${site.id}/automations`);
    const occasions = page.locator('#occasions');
    expect(await occasions.getByText('No occasions yet.').count()).toBe(1);
    await occasions.getByRole('button', { name: 'Add an occasion' }).click();
    const added = page.locator('#occasion-0');
    await added.waitFor();
    expect(await occasions.getByRole('status').textContent()).toContain('Nothing is saved until you save the occasions.');
    await added.getByLabel('Name').fill('Sinterklaas');
    await added.getByLabel('Day').fill('31');
    await added.getByLabel('Month').selectOption({ label: 'November' });
    await added.getByLabel('Time', { exact: true }).fill('09:30');
    await added.getByLabel('Send to').selectOption({ label: 'Dutch shoppers' });
    // The first language is English already; the spare row takes Dutch.
    expect(await page.locator('#f-occasions-list-0-texts-0-locale').inputValue()).toBe('en');
    await page.locator('#f-occasions-list-0-texts-0-title').fill('Happy Sinterklaas');
    await page.locator('#f-occasions-list-0-texts-0-body').fill('Gifts for everyone');
    await shootSection('occasions', 'automations-occasion-typed');
    await occasions.getByRole('button', { name: 'Save occasions' }).click();

    await page.locator('#f-occasions-list-0-day-error').waitFor();
    expect(await page.locator('#f-occasions-list-0-day-error').textContent()).toBe('No such day in that month.');
    expect(await page.locator('#occasions [role="alert"]').textContent()).toContain('Nothing was saved');
    expect(await page.locator('#f-occasions-list-0-name').inputValue()).toBe('Sinterklaas');
    expect(await page.locator('#f-occasions-list-0-texts-0-body').inputValue()).toBe('Gifts for everyone');
    expect(await page.locator('#f-occasions-list-0-segmentId option:checked').textContent()).toBe('Dutch shoppers');
    expect((await settings()).occasions.list).toEqual([]);
    await checkPage('automations-occasion-error');
    await shootSection('occasions', 'automations-occasion-error');

    await page.locator('#f-occasions-list-0-day').fill('5');
    await page.locator('#f-occasions-list-0-month').selectOption({ label: 'December' });
    await page.locator('#f-occasions-list-0-texts-1-locale').fill('nl');
    await page.locator('#f-occasions-list-0-texts-1-title').fill('Fijne Sinterklaas');
    await occasions.getByRole('button', { name: 'Save occasions' }).click();
    await page.getByText('Saved. Occasions use the new settings from now on.').waitFor();
    const [segment] = await db.selectFrom('segments').select('id').where('site_id', '=', site.id).execute();
    expect((await settings()).occasions.list).toEqual([
      {
        id: 'sinterklaas',
        name: 'Sinterklaas',
        enabled: true,
        month: 12,
        day: 5,
        localTime: '09:30',
        segmentId: segment!.id,
        texts: { en: { title: 'Happy Sinterklaas', body: 'Gifts for everyone' }, nl: { title: 'Fijne Sinterklaas', body: '' } },
      },
    ]);
    expect(await page.locator('#occasion-0 legend').first().textContent()).toBe('Sinterklaas');
    await shootSection('occasions', 'automations-occasion-saved');

    const budget = page.locator('#engagement-budget');
    await budget.getByLabel('Never fewer than').fill('8');
    await budget.getByRole('button', { name: 'Save engagement budget' }).click();
    await page.locator('#f-engagement-budget-minPerWeek-error').waitFor();
    expect(await page.locator('#f-engagement-budget-minPerWeek-error').textContent()).toBe('Must be 7 or less.');
    await page.locator('#f-engagement-budget-minPerWeek').fill('2');
    await page.locator('#f-engagement-budget-ignoredPerHalving').fill('4');
    await page.getByRole('button', { name: 'Save engagement budget' }).click();
    await page.getByText('Saved. Marketing pushes follow the new engagement budget from now on.').waitFor();
    expect((await settings()).engagement.budget).toEqual({ enabled: true, ignoredPerHalving: 4, minPerWeek: 2 });
    await shootSection('engagement-budget', 'automations-budget-saved');
    await shootSection('best-hour', 'automations-best-hour');
    await checkPage('automations-rules-saved');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('a template edited with its preview following the typing, over budget, then saved', async () => {
    const { db, page, origin, problems, shotsDir, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${site.id}/templates`);
    await page.getByRole('heading', { name: 'Templates', level: 1 }).waitFor();
    await checkPage('templates');

    await page.getByRole('link', { name: 'Edit Price drop, en' }).click();
    await page.getByRole('heading', { name: /Price drop/, level: 1 }).waitFor();
    const windowsTitle = page.locator('#notification-preview .toast.win .n-title');
    expect(await windowsTitle.textContent()).toBe('Merino wool sweater is now $69.00');
    await checkPage('template-editor');

    // Typing: the page script posts the form and puts the server's preview in place, no reload.
    const marker = await page.evaluate(() => ((globalThis as any).__samePage = true));
    expect(marker).toBe(true);
    await page.getByLabel('Title').fill('{{price.percent}} off <b>{{product.name}}</b>');
    await page.getByLabel('Text').fill('Was {{price.old}}, now {{price.new}}.\nOnly while stocks last.');
    await page.getByLabel('Button 1 label').fill('See it');
    await page.getByLabel('Button 1 id').fill('view');
    await expect.poll(() => windowsTitle.textContent()).toBe('22% off <b>Merino wool sweater</b>');
    await expect.poll(() => page.locator('#notification-preview .toast.android .android-actions').textContent()).toBe('See it');
    expect(await page.locator('#notification-preview .toast.mac .n-body').textContent()).toBe('Was $89.00, now $69.00.\nOnly while stocks last.');
    expect(await page.evaluate(() => (globalThis as any).__samePage)).toBe(true);
    for (const width of DASHBOARD_WIDTHS) {
      await page.setViewportSize({ width, height: 800 });
      await page.locator('.preview-card').screenshot({ path: join(shotsDir, `template-preview-${width}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await checkPage('template-editor-typed');

    // Far too long: the budget says by how much before anything is saved.
    await page.getByLabel('Text').fill(`${'{{product.name}} '.repeat(12)}${'ü'.repeat(700)}`);
    await expect.poll(() => page.locator('#byte-budget').textContent()).toMatch(/[\d,]+ bytes too long\./);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/Too long by [\d,]+ bytes/).first().waitFor();
    expect(readSiteSettings((await findSiteById(db, site.id))!.settings).templates).toEqual({});
    await checkPage('template-editor-too-long');

    await page.getByLabel('Text').fill('Was {{price.old}}, now {{price.new}}.');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved. The next pushes use this text.').waitFor();
    expect(readSiteSettings((await findSiteById(db, site.id))!.settings).templates).toEqual({
      price_drop: { en: { title: '{{price.percent}} off <b>{{product.name}}</b>', body: 'Was {{price.old}}, now {{price.new}}.', actions: [{ action: 'view', title: 'See it' }] } },
    });
    await checkPage('template-editor-saved');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
