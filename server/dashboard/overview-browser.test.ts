// The overview page in real Chromium (Debian's /usr/bin/chromium driven by playwright-core), on a
// demo shop seeded with a month of sample data and on an empty shop: the charts are drawn (one
// drawing per width, the other hidden), the numbers open under "Show numbers", the range picker
// and its quick links work without JavaScript, axe-core finds no serious or critical violation,
// nothing scrolls sideways at 390 px, no error or CSP violation; screenshots at 1280 and 390 px
// go to the test artifacts (dashboard/overview-*.png).
import { describe, expect, it } from 'vitest';
import { upsertMembership } from '../db/memberships.ts';
import { markDemoSite } from '../db/sites.ts';
import { seedDemoData, seededRandom } from '../demo/demo-data.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { chromiumMissing } from '../testing/browser-chromium.ts';
import { addMember, useDashboardBrowser } from '../testing/dashboard-browser-session.ts';

const missing = chromiumMissing();
if (missing) console.warn(`overview browser tests skipped: ${missing}`);

const NOW = new Date(Date.UTC(2030, 2, 20, 15, 30, 0));

let demo: CreatedSite;
let empty: CreatedSite;

const dashboard = useDashboardBrowser({
  shots: 'dashboard',
  statusPagesExpected: true,
  app: () => ({ now: () => NOW.getTime() }),
  chromium: { timezoneId: 'UTC' },
  async setUp({ db, origin }) {
    demo = await createSite(db, { name: 'Demo <b>shop</b> & “friends”', origins: [origin] }, undefined);
    await markDemoSite(db, demo.id);
    const seeded = await seedDemoData(db, demo.id, NOW, seededRandom(11));
    expect(seeded.outcome).toBe('seeded');
    empty = await createSite(db, { name: 'Brand-new shop', origins: ['https://new.example'] }, undefined);
    const owner = await addMember(db, demo.id, { email: 'owner@shop.example', name: 'Olga Owner', role: 'owner' }, NOW);
    await upsertMembership(db, { userId: owner, siteId: empty.id, role: 'viewer' }, NOW);
    return { signedIn: owner };
  },
});

/** The drawing of `chartId` that is shown at the current width: wide or narrow. */
async function visibleDrawing(chartId: string): Promise<string> {
  const shown = await dashboard.page.locator(`#${chartId} svg.chart-svg:visible`).all();
  expect(shown).toHaveLength(1);
  return (await shown[0]!.getAttribute('class'))!;
}

describe.skipIf(missing !== undefined)('the overview in Chromium', { timeout: 180_000 }, () => {
  it('draws the demo month: charts for each width, numbers on demand, the lift in words', async () => {
    const { page, origin, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${demo.id}`);
    await page.goto(`${origin}/dashboard/sites/${demo.id}/overview`);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(await page.title()).toBe('Overview · Demo <b>shop</b> & “friends” · Pushcart');
    expect(await page.locator('.subnav a').first().textContent()).toBe('Overview');
    expect(await page.locator('.subnav a[aria-current="page"]').textContent()).toBe('Overview');
    expect(await page.locator('.stat-tile .stat-value').first().textContent()).toMatch(/^\d{1},\d{3}$/);
    for (const chart of ['chart-subscribers', 'chart-funnel', 'chart-pushes', 'chart-clicks', 'chart-revenue', 'chart-lift']) expect(await visibleDrawing(chart)).toContain('chart-wide');
    expect(await page.getByRole('img', { name: /New, lost and net subscribers per day/ }).count()).toBe(1);
    await expect.poll(() => page.locator('.lift-item').first().textContent()).toMatch(/Cart reminders brought \d+ % more orders than the held-out group/);
    // The numbers are hidden until asked for, then a real table.
    const table = page.getByRole('table', { name: 'Subscribers per day' });
    expect(await table.isVisible()).toBe(false);
    await page.locator('#subscribers-title').locator('..').getByText('Show numbers').click();
    expect(await table.isVisible()).toBe(true);
    expect(await table.locator('tbody tr').count()).toBe(30);
    await checkPage('overview');

    await page.setViewportSize({ width: 390, height: 844 });
    for (const chart of ['chart-subscribers', 'chart-funnel', 'chart-pushes', 'chart-clicks', 'chart-revenue', 'chart-lift']) expect(await visibleDrawing(chart)).toContain('chart-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('changes the range with the quick links and the form, and says in words what is wrong', async () => {
    const { page, origin, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${demo.id}/overview`);
    await page.getByRole('link', { name: 'Last 7 days' }).click();
    await page.waitForURL(/from=2030-03-14&to=2030-03-20/);
    expect(await page.getByRole('link', { name: 'Last 7 days' }).getAttribute('aria-current')).toBe('true');
    expect(await page.locator('#chart-subscribers svg.chart-wide rect').count()).toBeGreaterThan(0);
    await checkPage('overview-7-days');

    await page.getByLabel('From', { exact: true }).fill('2030-03-19');
    await page.getByLabel('To', { exact: true }).fill('2030-03-01');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('The start date is after the end date.').waitFor();
    expect(await page.getByLabel('From', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await checkPage('overview-range-error');
  });

  it('an empty shop says what to do instead of drawing empty charts', async () => {
    const { page, origin, checkPage } = dashboard;
    await page.goto(`${origin}/dashboard/sites/${empty.id}/overview`);
    await page.getByRole('heading', { name: 'No figures yet' }).waitFor();
    expect(await page.locator('svg.chart-svg').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Install the snippet and the service worker' }).getAttribute('href')).toBe(`/dashboard/sites/${empty.id}/install`);
    await checkPage('overview-empty');
  });
});
