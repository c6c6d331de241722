// The campaign pages in real Chromium (Debian's /usr/bin/chromium driven by playwright-core), as a
// shop owner uses them: sign in, write a campaign with the preview following the typing, choose an
// audience and see its count follow, set up an A/B test, review it with the confirmation naming
// the count, send it, watch its progress (the page script refreshing the figures), read its
// results, cancel it; and schedule a second one as a local-time wave. Every page is checked with
// axe-core (no serious or critical violation), must log no error and no CSP violation, must not
// scroll sideways at 390 px, and is photographed at 1280 and 390 px into the test artifacts (dashboard/).
import { describe, expect, it } from 'vitest';
import { findSiteById, updateSiteSettings } from '../db/sites.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { addMember, useDashboardBrowser } from '../testing/dashboard-browser-session.ts';
import { cspViolations } from '../testing/dashboard-page-checks.ts';

const missing = chromiumMissing();
if (missing) console.warn(`campaigns browser tests skipped: ${missing}`);

const PASSWORD = 'correct horse battery staple';
const ZONE = 'Europe/Berlin';

let site: CreatedSite;

const dashboard = useDashboardBrowser({
  shots: 'dashboard',
  statusPagesExpected: true,
  async setUp({ db }) {
    site = await createSite(db, { name: 'Lamps <b>&</b> more', origins: ['https://shop.example'] }, undefined);
    const settings = readSiteSettings((await findSiteById(db, site.id))!.settings);
    // A low confirmation threshold, so this small shop's campaign needs the count confirmed; no
    // quiet hours, so the test's time of day changes nothing.
    await updateSiteSettings(db, site.id, {
      ...settings,
      engagement: { ...settings.engagement, defaultTimeZone: ZONE, quietHours: { ...settings.engagement.quietHours, enabled: false } },
      campaigns: { confirmAbove: 2 },
    });
    await addMember(db, site.id, { email: 'owner@shop.example', name: 'Olga <i>Owner</i>', role: 'owner', password: PASSWORD });
    await subscribe({ plan: 'gold', firstName: 'Ada' }, 'Europe/Berlin');
    await subscribe({ plan: 'gold' }, 'Pacific/Auckland');
    await subscribe({ plan: 'basic' }, null);
  },
});

async function subscribe(tags: Record<string, unknown>, timeZone: string | null): Promise<void> {
  const now = new Date();
  await dashboard.db
    .insertInto('subscriptions')
    .values({
      site_id: site.id,
      endpoint: `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`,
      p256dh: 'BPublicKeyOfTheBrowser',
      auth: 'AuthSecretOfTheBrowser',
      vapid_public_key: 'BVapid',
      visitor_id: crypto.randomUUID(),
      time_zone: timeZone,
      tags: JSON.stringify(tags),
      created_at: now,
      updated_at: now,
      last_seen_at: now,
    })
    .execute();
}

/** A wall-clock time `days` ahead at 10:00, as a datetime-local field takes it. */
function daysAheadAtTen(days: number): string {
  const date = new Date(Date.now() + days * 24 * 60 * 60 * 1000);
  return `${date.toISOString().slice(0, 10)}T10:00`;
}

describe.skipIf(missing !== undefined)('the campaign pages in Chromium', { timeout: 240_000 }, () => {
  it('an owner writes an A/B campaign, confirms the count, sends it, watches it go and cancels it', async () => {
    const { db, page, origin, problems, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/login`);
    await page.getByLabel('Email').fill('owner@shop.example');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
    await checkPage('campaigns-empty');

    await page.getByRole('link', { name: 'New campaign', exact: true }).click();
    await page.getByRole('heading', { name: 'New campaign', level: 1 }).waitFor();
    const windowsTitle = page.locator('#notification-preview .toast.win .n-title');
    const marker = await page.evaluate(() => ((globalThis as any).__samePage = true));
    expect(marker).toBe(true);
    await page.getByLabel('Campaign name').fill('Winter <sale>');
    await page.getByLabel('Title', { exact: true }).fill('Hi {{firstName|there}}, lamps are 20 % off');
    await expect.poll(() => windowsTitle.textContent()).toBe('Hi Maria, lamps are 20 % off');
    await page.getByLabel('Text', { exact: true }).fill('Only this weekend, in every colour.');
    await page.getByLabel('Opens', { exact: true }).fill('https://shop.example/sale');
    await page.getByLabel('Button 1 label').fill('Shop the sale');
    await expect.poll(() => page.locator('#notification-preview .toast.android .android-actions').textContent()).toBe('Shop the sale');
    await page.getByLabel('Language 1: tag').fill('de');
    await page.getByLabel('Language 1: title').fill('Hallo {{firstName|}}, Lampen 20 % günstiger');

    // The audience's count follows the choice, without a reload.
    const count = page.locator('#audience-count');
    expect(await count.textContent()).toBe('3 subscribers would get it now. This matches everyone.');
    await page.getByLabel('Subscribers with a tag').check();
    await page.getByRole('textbox', { name: 'Tag', exact: true }).fill('plan');
    await page.getByRole('textbox', { name: 'Value', exact: true }).fill('gold');
    await expect.poll(() => count.textContent()).toBe('2 subscribers would get it now.');
    await page.getByLabel('Everyone').check();
    await expect.poll(() => count.textContent()).toBe('3 subscribers would get it now. This matches everyone.');

    // The A/B set-up: B rewrites the title; half the audience in the test; the owner picks if unclear.
    await page.getByLabel('Test 2 to 4 versions first').check();
    await page.getByLabel('Variant B title').fill('Last chance, {{firstName|friend}}: 20 % off lamps');
    // Everyone in the test (split between A and B): with 3 subscribers a smaller share could hold none of them.
    await page.getByLabel('Test share').fill('100');
    await page.getByLabel('Wait for me to pick').check();
    expect(await page.evaluate(() => (globalThis as any).__samePage)).toBe(true);
    // The preview is sticky beside the form: the photograph is taken from the top of the page.
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await checkPage('campaign-composer');

    await page.getByRole('button', { name: 'Save and review' }).click();
    await page.getByText('Saved. Look it over below, then send or schedule it.').waitFor();
    expect(await page.locator('#review-count').textContent()).toBe('3 subscribers would get it now — this matches everyone, every active subscriber of the shop.');
    const confirm = page.getByLabel('Send to 3 subscribers');
    await confirm.waitFor();
    await checkPage('campaign-review');

    // Without the tick nothing goes; the page says what to tick.
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByText('Nothing was sent: this campaign goes to 3 subscribers.').waitFor();
    expect(await db.selectFrom('notifications').select('id').where('campaign_id', 'is not', null).execute()).toEqual([]);
    await page.getByLabel('Send to 3 subscribers').check();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByText('Sending. Pushes go out as the workers take them.').waitFor();
    await page.getByRole('heading', { name: 'Progress' }).waitFor();
    expect(await page.locator('#progress-bar').getAttribute('value')).toBe('0');
    await checkPage('campaign-sending');
    await page.evaluate(() => ((globalThis as any).__samePage = 'sending'));

    // The delivery workers' part, done here: all but one delivery sent, one clicked. The
    // page's script picks the new figures up without a reload.
    const campaign = await db.selectFrom('campaigns').select('id').executeTakeFirstOrThrow();
    const sends = await db.selectFrom('notifications').select('id').where('campaign_id', '=', campaign.id).execute();
    const deliveries = await db.selectFrom('deliveries').select(['id', 'notification_id']).where('notification_id', 'in', sends.map((send) => send.id)).execute();
    expect(deliveries.length).toBe(3);
    // One is left waiting: the campaign is still going, so it can be cancelled below.
    const gone = deliveries.slice(0, -1);
    await db.updateTable('deliveries').set({ status: 'sent', sent_at: new Date() }).where('id', 'in', gone.map((d) => d.id)).execute();
    const first = deliveries[0]!;
    await db.insertInto('interactions').values({ delivery_id: first.id, notification_id: first.notification_id, type: 'shown', action: '', created_at: new Date() }).execute();
    await db.insertInto('interactions').values({ delivery_id: first.id, notification_id: first.notification_id, type: 'clicked', action: '', created_at: new Date() }).execute();
    await expect.poll(() => page.locator('[data-progress="sent"]').textContent(), { timeout: 15_000 }).toBe(String(gone.length));
    expect(Number(await page.locator('#progress-bar').getAttribute('value'))).toBeGreaterThan(0);
    expect(await page.evaluate(() => (globalThis as any).__samePage)).toBe('sending');

    await page.reload();
    await page.getByRole('heading', { name: 'Results' }).waitFor();
    expect(await page.locator('.results-table tbody tr').count()).toBe(2);
    expect(await page.locator('.variant-charts figure.chart').count()).toBeGreaterThan(0);
    await checkPage('campaign-results');

    await page.getByRole('link', { name: 'Cancel campaign' }).click();
    await page.getByRole('heading', { name: /Cancel “Winter <sale>”\?/ }).waitFor();
    await checkPage('campaign-cancel');
    await page.getByRole('button', { name: 'Yes, cancel the campaign' }).click();
    await page.getByText('Cancelled. Nothing more of it is sent.').waitFor();
    expect((await db.selectFrom('campaigns').select('status').where('id', '=', campaign.id).executeTakeFirstOrThrow()).status).toBe('cancelled');
    await checkPage('campaign-cancelled');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('a second campaign is scheduled as a wave in each subscriber’s own time zone, and the list shows both', async () => {
    const { page, origin, problems, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${site.id}/campaigns/new`);
    await page.getByLabel('Campaign name').fill('Weekend wave');
    await page.getByLabel('Title', { exact: true }).fill('Good morning, {{firstName|there}}');
    await page.getByLabel('Opens', { exact: true }).fill('https://shop.example/');
    await page.getByLabel('At this time in each subscriber’s own time zone').check();
    await page.getByLabel('Date and time on each subscriber’s clock').fill(daysAheadAtTen(7));
    await page.getByRole('button', { name: 'Save and review' }).click();
    await page.getByText('Saved. Look it over below, then send or schedule it.').waitFor();
    expect(await page.locator('.facts').textContent()).toContain('in each subscriber’s own time zone');
    await page.getByLabel('Schedule for 3 subscribers').check();
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.getByText(/^Scheduled: 10:00 on /).waitFor();

    await page.getByRole('link', { name: 'Campaigns', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
    const rows = page.locator('.campaign-table tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toContain('Scheduled');
    expect(await rows.nth(1).textContent()).toContain('Cancelled');
    await checkPage('campaigns-list');
    expect(problems).toEqual([]);
  });
});
