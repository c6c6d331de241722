// The Subscribers pages in real Chromium (playwright-core, as dashboard-browser.test.ts): a shop
// with 30 subscribers → the list, its filter form and paging links → a shopper's detail → erase
// with its confirmation → what was erased. Every page is checked with axe-core (no serious or
// critical violation), must log no error or CSP violation, must not scroll sideways at 390 px, and
// is photographed at 1280 and 390 px into the test artifacts (dashboard-subscribers/).
import { describe, expect, it } from 'vitest';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { addMember, useDashboardBrowser } from '../testing/dashboard-browser-session.ts';

const missing = chromiumMissing();
if (missing) console.warn(`subscriber pages browser tests skipped: ${missing}`);

/** The seeded data's clock: the pages show what is stored, so no test depends on today's date. */
const SEEDED_AT = Date.UTC(2030, 0, 15, 9, 0, 0);
const BROWSERS = ['chrome', 'firefox', 'safari', 'edge', 'samsung'];
const LOCALES = ['en-GB', 'de-DE', 'fr-FR', 'nl', 'es-ES'];
const ZONES = ['Europe/London', 'Europe/Berlin', 'Europe/Paris', 'Europe/Amsterdam', 'Europe/Madrid'];

let site: CreatedSite;
let annaPhone: string;

const dashboard = useDashboardBrowser({
  shots: 'dashboard-subscribers',
  statusPagesExpected: true,
  app: () => ({ now: () => SEEDED_AT + 3_600_000 }),
  async setUp({ db }) {
    site = await createSite(db, { name: 'Browser test shop', origins: ['https://shop.example'] }, undefined);
    await db.updateTable('sites').set({ settings: JSON.stringify({ engagement: { defaultTimeZone: 'Europe/Berlin' } }) }).where('id', '=', site.id).execute();
    // Signed in as the shop's owner by a session made directly: sign-in has its own browser test.
    return { signedIn: await addMember(db, site.id, { email: 'owner@shop.example', name: 'Olivia Owner', role: 'owner' }, new Date(SEEDED_AT)) };
  },
});

/** 30 subscribers as a month of a small shop leaves them, and Anna with two browsers and a history. */
async function seed(): Promise<void> {
  const db = dashboard.db;
  const rows = Array.from({ length: 30 }, (_, i) => ({
    site_id: site.id,
    endpoint: `https://fcm.googleapis.com/fcm/send/seed-${i}`,
    p256dh: 'BPublicKeyOfTheBrowser',
    auth: 'AuthSecretOfTheBrowser',
    vapid_public_key: 'BVapid',
    visitor_id: `v_${(0x5f3a9c + i * 7919).toString(16)}${(0xa1b2 + i * 31).toString(16)}`,
    external_user_id: i % 3 === 0 ? `customer-${1000 + i}` : null,
    locale: LOCALES[i % LOCALES.length]!,
    time_zone: ZONES[i % ZONES.length]!,
    user_agent_family: BROWSERS[i % BROWSERS.length]!,
    tags: JSON.stringify(i % 4 === 0 ? { plan: 'vip', newsletter: true } : i % 4 === 1 ? { plan: 'basic' } : {}),
    status: (i % 9 === 4 ? 'expired' : i % 11 === 6 ? 'unsubscribed' : 'active') as 'active' | 'expired' | 'unsubscribed',
    created_at: new Date(SEEDED_AT - (30 - i) * 86_400_000 + i * 3_600_000),
    updated_at: new Date(SEEDED_AT),
    last_seen_at: new Date(SEEDED_AT - i * 1_800_000),
  }));
  await db.insertInto('subscriptions').values(rows).execute();
  const anna = await db
    .insertInto('subscriptions')
    .values(
      ['anna-laptop-7f2c', 'anna-phone-19be'].map((visitorId, i) => ({
        site_id: site.id,
        endpoint: `https://fcm.googleapis.com/fcm/send/anna-${i}`,
        p256dh: 'BPublicKeyOfTheBrowser',
        auth: 'AuthSecretOfTheBrowser',
        vapid_public_key: 'BVapid',
        visitor_id: visitorId,
        external_user_id: 'customer-<b>anna</b>',
        locale: 'de-DE',
        time_zone: 'Europe/Berlin',
        user_agent_family: i === 0 ? 'firefox' : 'safari',
        tags: JSON.stringify({ plan: 'vip' }),
        created_at: new Date(SEEDED_AT - (2 - i) * 3_600_000),
        updated_at: new Date(SEEDED_AT),
        last_seen_at: new Date(SEEDED_AT),
      })),
    )
    .returning('id')
    .execute();
  annaPhone = anna[1]!.id;
  const pushes = [
    { title: 'Your lamp is still in the cart', source: 'cart_reminder', subscription: anna[0]!.id, status: 'sent' as const, error: null, httpStatus: 201 },
    { title: 'Lamps 20% off today', source: 'api', subscription: anna[1]!.id, status: 'failed' as const, error: 'push_rejected: 403 from web.push.apple.com', httpStatus: 403 },
    { title: 'The oak lamp is back', source: 'back_in_stock', subscription: anna[1]!.id, status: 'queued' as const, error: 'quiet_hours: until 09:00 Europe/Berlin', httpStatus: null },
  ];
  for (const [i, item] of pushes.entries()) {
    const at = new Date(SEEDED_AT - i * 600_000);
    const notification = await db
      .insertInto('notifications')
      .values({ site_id: site.id, source: item.source, kind: 'marketing', content: JSON.stringify({ title: item.title, body: 'Body', url: 'https://shop.example/' }), audience: '{}', ttl_seconds: 3600, created_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    const delivery = await db
      .insertInto('deliveries')
      .values({
        notification_id: notification.id,
        subscription_id: item.subscription,
        endpoint: 'https://fcm.googleapis.com/fcm/send/anna',
        report_token: crypto.randomUUID(),
        status: item.status,
        attempts: 1,
        due_at: at,
        last_status: item.httpStatus,
        last_error: item.error,
        sent_at: item.status === 'sent' ? at : null,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (item.status === 'sent') {
      await db.insertInto('interactions').values({ delivery_id: delivery.id, notification_id: notification.id, type: 'clicked', action: '', created_at: new Date(at.getTime() + 60_000) }).execute();
      await db
        .insertInto('conversions')
        .values({ site_id: site.id, delivery_id: delivery.id, notification_id: notification.id, order_id: 'order-2031', value: '89.90', currency: 'EUR', source: 'server', created_at: new Date(at.getTime() + 600_000) })
        .execute();
    }
  }
  await db
    .insertInto('events')
    .values(
      ['product_viewed', 'cart_updated', '<svg onload=alert(1)>'].map((type, i) => ({
        site_id: site.id,
        source: 'browser' as const,
        type,
        visitor_id: 'anna-laptop-7f2c',
        external_user_id: null,
        properties: JSON.stringify({ productId: 'oak-lamp', price: 89.9, currency: 'EUR' }),
        client_event_id: null,
        created_at: new Date(SEEDED_AT - 7_200_000 + i * 60_000),
      })),
    )
    .execute();
}

describe.skipIf(missing !== undefined)('the Subscribers pages in Chromium', { timeout: 180_000 }, () => {
  it('an empty shop is told to install the snippet', async () => {
    const { page, origin, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${site.id}/subscribers`);
    await page.getByRole('heading', { name: 'No subscribers yet' }).waitFor();
    expect(await page.getByRole('link', { name: 'Install the snippet' }).getAttribute('href')).toBe(`/dashboard/sites/${site.id}/install`);
    await checkPage('subscribers-empty');
  });

  it('the list: rows, filters and paging, readable at 390 px inside a scrolling region', async () => {
    const { page, origin, checkPage } = dashboard;
    await seed();
    await page.goto(`${origin}/dashboard/sites/${site.id}/install`);
    await page.getByRole('navigation', { name: 'Shop sections' }).getByRole('link', { name: 'Subscribers' }).click();
    await page.waitForURL(`${origin}/dashboard/sites/${site.id}/subscribers`);
    const region = page.getByRole('region', { name: /^Subscribers.*newest first$/ });
    expect(await region.locator('tbody tr').count()).toBe(25);
    // 24 of the 30 are active (3 expired, 3 unsubscribed), and Anna's two.
    expect(await page.locator('.page-header .count').textContent()).toBe('26');
    await checkPage('subscribers-list');

    // At 390 px the table scrolls inside its region (focusable, so a keyboard can scroll it), not the page.
    await page.setViewportSize({ width: 390, height: 844 });
    const widths = await region.evaluate((element: any) => ({ client: element.clientWidth as number, scroll: element.scrollWidth as number }));
    expect(widths.scroll).toBeGreaterThan(widths.client);
    await region.focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => region.evaluate((element: any) => element.scrollLeft as number)).toBeGreaterThan(0);
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.getByRole('link', { name: 'Older →' }).click();
    await page.waitForURL(/after=/);
    expect(await region.locator('tbody tr').count()).toBe(7);
    await checkPage('subscribers-list-page-2');
    await page.getByRole('link', { name: '← Newer' }).click();
    await page.waitForURL(/before=/);
    expect(await region.locator('tbody tr').count()).toBe(25);

    await page.getByLabel('Status').selectOption('expired');
    await page.getByLabel('Tag').fill('plan:vip');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=expired/);
    const filtered = await region.locator('tbody tr').count();
    expect(filtered).toBeGreaterThan(0);
    for (const status of await region.locator('tbody .badge').allTextContents()) expect(status).toBe('Expired');
    await checkPage('subscribers-list-filtered');
  });

  it('a shopper’s detail, then erase with its confirmation', async () => {
    const { db, page, origin, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${site.id}/subscribers?search=anna-phone`);
    await page.getByRole('link', { name: 'anna-phone-19be' }).click();
    await page.getByRole('heading', { name: /Subscriber anna-phone-19be/ }).waitFor();
    await page.getByText('The push service refused it.').waitFor();
    expect(await page.getByText('customer-<b>anna</b>').count()).toBeGreaterThan(0);
    expect(await page.getByText('<svg onload=alert(1)>').count()).toBe(1);
    await checkPage('subscriber-detail');

    await page.getByRole('link', { name: 'Erase this shopper…' }).click();
    await page.getByRole('heading', { name: 'Erase this shopper?' }).waitFor();
    await checkPage('subscriber-erase-confirm');
    // The box is required; without script the server refuses too (subscriber-routes.test.ts).
    await page.getByRole('button', { name: 'Erase this shopper' }).click();
    expect(page.url()).toBe(`${origin}/dashboard/sites/${site.id}/subscribers/${annaPhone}/erase`);
    await page.getByLabel(/I understand that this erases/).check();
    await page.getByRole('button', { name: 'Erase this shopper' }).click();
    await page.getByRole('heading', { name: 'Shopper erased' }).waitFor();
    expect(await page.locator('dt:text-is("Subscriptions deleted") + dd').textContent()).toBe('2');
    await checkPage('subscriber-erased');
    const left = await db.selectFrom('subscriptions').select('id').where('site_id', '=', site.id).where('external_user_id', '=', 'customer-<b>anna</b>').execute();
    expect(left).toEqual([]);
  });
});
