import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_FIELD_NAME } from '../accounts/csrf.ts';
import { campaignInputSchema } from '../campaigns/campaign-input.ts';
import type { Db } from '../db/database.ts';
import { findSiteById, updateSiteSettings } from '../db/sites.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { campaignFields, campaignFromFields } from './campaign-form.ts';
import { csrfTokenIn, dashboardMember, signedInBrowser, type TestBrowser } from './test-client.ts';
import type { PushPayload } from '../../service-worker/src/contract.ts';
import { saveTestDevice } from '../db/test-devices.ts';
import { nodePushTransport } from '../runtime/node/push-transport.ts';
import { startMockPushService } from '../testing/mock-push-service.ts';

// A Saturday morning in Berlin (UTC+1 in winter).
const NOW = new Date(Date.UTC(2030, 0, 12, 8, 0, 0));
const PUBLIC_URL = 'http://localhost:8787';
const ZONE = 'Europe/Berlin';

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];
let site: CreatedSite;
let owner = '';
let editor = '';
let viewer = '';

async function subscribe(db: Db, siteId: string, tags: Record<string, unknown>, timeZone: string | null = 'Europe/Berlin'): Promise<string> {
  const row = await db
    .insertInto('subscriptions')
    .values({
      site_id: siteId,
      endpoint: `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`,
      p256dh: 'BPublicKeyOfTheBrowser',
      auth: 'AuthSecretOfTheBrowser',
      vapid_public_key: 'BVapid',
      visitor_id: crypto.randomUUID(),
      time_zone: timeZone,
      tags: JSON.stringify(tags),
      created_at: NOW,
      updated_at: NOW,
      last_seen_at: NOW,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function setConfirmAbove(siteId: string, confirmAbove: number): Promise<void> {
  const settings = readSiteSettings((await findSiteById(database.db, siteId))!.settings);
  await updateSiteSettings(database.db, siteId, { ...settings, engagement: { ...settings.engagement, defaultTimeZone: ZONE, quietHours: { ...settings.engagement.quietHours, enabled: false } }, campaigns: { confirmAbove } });
}

const base = () => `/dashboard/sites/${site.id}/campaigns`;

/** The composer's fields for a small campaign; `extra` overrides. */
function composerForm(extra: Record<string, string> = {}): Record<string, string> {
  return { intent: 'save', name: 'Winter sale', title: 'Hi {{firstName|there}}, 20 % off', body: 'Only this weekend.', url: 'https://shop.example/sale', audience: 'everyone', when: 'now', ttlHours: '24', urgency: 'normal', testPercent: '20', metric: 'clicks', decideAfterHours: '4', confidence: '0.95', fallback: 'leader', ...extra };
}

async function compose(browser: TestBrowser, extra: Record<string, string> = {}): Promise<string> {
  const response = await browser.submit(`${base()}/new`, composerForm(extra));
  expect(response.status, response.body.slice(0, 2000)).toBe(303);
  const id = /campaigns\/([0-9a-f-]{36})\?done=saved$/.exec(response.location!)?.[1];
  expect(id).toBeDefined();
  return id!;
}

async function storedDefinition(id: string) {
  const row = await database.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return { status: row.status, definition: campaignInputSchema.parse(row.definition) };
}

async function auditActions(): Promise<Array<{ action: string; actor_kind: string; actor_id: string | null }>> {
  return database.db.selectFrom('audit_log').select(['action', 'actor_kind', 'actor_id']).where('site_id', '=', site.id).where('action', 'like', 'campaign_%').orderBy('at').orderBy('id').execute();
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: PUBLIC_URL } }).app;
  site = await createSite(database.db, { name: 'Lamps & more', origins: ['https://shop.example'] }, undefined);
  await setConfirmAbove(site.id, 1000);
  owner = await dashboardMember(database.db, 'owner@shop.example', [[site.id, 'owner']], NOW);
  editor = await dashboardMember(database.db, 'editor@shop.example', [[site.id, 'editor']], NOW);
  viewer = await dashboardMember(database.db, 'viewer@shop.example', [[site.id, 'viewer']], NOW);
  await subscribe(database.db, site.id, { plan: 'gold', firstName: 'Ada' });
  await subscribe(database.db, site.id, { plan: 'gold' }, 'Pacific/Auckland');
  await subscribe(database.db, site.id, { plan: 'basic' }, null);
});
afterAll(async () => database?.destroy());

describe('the composer', () => {
  it('stores what the form says: tag audience, translations, a local-time wave, an end and an A/B test', async () => {
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    const id = await compose(browser, {
      'actions.0.title': 'Shop now',
      'actions.0.url': 'https://shop.example/sale?b=1',
      'localized.0.locale': 'de-at',
      'localized.0.title': 'Hallo {{firstName|}}',
      'localized.0.body': 'Nur am Wochenende.',
      audience: 'tag',
      tagKey: 'plan',
      tagValue: 'gold',
      when: 'local',
      localTime: '2030-01-18T10:00',
      endsAt: '2030-01-20T23:00',
      ttlHours: '6',
      urgency: 'high',
      ab: 'on',
      'variants.1.title': 'Last chance, {{firstName|friend}}',
      'variants.1.body': 'Ends Sunday.',
      testPercent: '30',
      metric: 'conversions',
      decideAfterHours: '6',
      confidence: '0.9',
      fallback: 'manual',
    });
    const { status, definition } = await storedDefinition(id);
    expect(status).toBe('draft');
    expect(definition).toEqual({
      name: 'Winter sale',
      content: { title: 'Hi {{firstName|there}}, 20 % off', body: 'Only this weekend.', url: 'https://shop.example/sale', actions: [{ action: 'button-1', title: 'Shop now', url: 'https://shop.example/sale?b=1' }] },
      localized: { 'de-AT': { title: 'Hallo {{firstName|}}', body: 'Nur am Wochenende.' } },
      ttl: 6 * 3600,
      urgency: 'high',
      audience: { tags: { plan: 'gold' } },
      schedule: { localTime: '2030-01-18T10:00' },
      // 23:00 in Berlin is 22:00 UTC in January.
      endsAt: '2030-01-20T22:00:00.000Z',
      abTest: { variants: [{}, { title: 'Last chance, {{firstName|friend}}', body: 'Ends Sunday.' }], testPercent: 30, metric: 'conversions', decideAfterHours: 6, confidence: 0.9, fallback: 'manual' },
    });
    // The editor opens it again with the same values, and the round trip changes nothing.
    const values = campaignFields(definition, ZONE);
    expect(values).toMatchObject({ audience: 'tag', tagKey: 'plan', tagValue: 'gold', when: 'local', localTime: '2030-01-18T10:00', endsAt: '2030-01-20T23:00', ttlHours: '6', ab: 'on', 'localized.0.locale': 'de-AT' });
    expect(campaignFromFields(values, ZONE, definition)).toEqual({ definition });
    const edit = await browser.get(`${base()}/${id}/edit`);
    expect(edit.status).toBe(200);
    expect(edit.body).toContain('value="Last chance, {{firstName|friend}}"');
  });

  it('an instant is typed in the shop’s zone, and said so', async () => {
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    const page = await browser.get(`${base()}/new`);
    expect(page.body).toContain(`Date and time (${ZONE})`);
    expect(page.body).toContain(`Auckland gets it first, Honolulu last; subscribers without a known zone get it at this time in ${ZONE}.`);
    const id = await compose(browser, { when: 'at', at: '2030-01-12T18:30' });
    expect((await storedDefinition(id)).definition.schedule).toEqual({ at: '2030-01-12T17:30:00.000Z' });
  });

  it('the best-hour box is stored and shown again; with a local-time wave it is refused beside the box', async () => {
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    const id = await compose(browser, { sendAtBestHour: 'on' });
    expect((await storedDefinition(id)).definition.sendAtBestHour).toBe(true);
    const edit = await browser.get(`${base()}/${id}/edit`);
    expect(edit.body).toMatch(/name="sendAtBestHour" type="checkbox" value="on" checked/);
    const refused = await browser.submit(`${base()}/new`, composerForm({ sendAtBestHour: 'on', when: 'local', localTime: '2030-01-18T10:00' }));
    expect(refused.status).toBe(422);
    expect(refused.body).toMatch(/<p class="field-error">A local-time schedule already sets the hour/);
  });

  it('refuses what the API refuses, each problem beside its field, and stores nothing', async () => {
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    const before = await database.db.selectFrom('campaigns').select('id').execute();
    const response = await browser.submit(`${base()}/new`, composerForm({ title: '', url: 'ftp://shop.example/', 'localized.0.locale': 'not a tag', 'localized.0.title': 'x', when: 'at', at: '', ab: 'on', 'actions.1.url': 'https://shop.example/x', title2: 'ignored' }));
    expect(response.status).toBe(422);
    expect(response.body).toMatch(/id="c-title-error">[^<]+</);
    expect(response.body).toMatch(/id="c-url-error">[^<]+</);
    expect(response.body).toContain('“not a tag” is not a language tag');
    expect(response.body).toContain('id="c-at-error">Choose a date and a time.');
    expect(response.body).toContain('Write at least variant B’s title for an A/B test.');
    expect(response.body).toContain('Give the button a label, or clear its link.');
    // The form comes back as typed.
    expect(response.body).toContain('value="ftp://shop.example/"');
    expect(await database.db.selectFrom('campaigns').select('id').execute()).toEqual(before);

    const unknown = await browser.submit(`${base()}/new`, composerForm({ title: 'Hi {{first_name}}' }));
    expect(unknown.status).toBe(422);
    expect(unknown.body).toContain('Unknown placeholder {{first_name}}');
  });

  it('the preview fills the placeholders with the example name, follows the form as typed, and stores nothing', async () => {
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    const before = await database.db.selectFrom('campaigns').select('id').execute();
    const response = await browser.submit(`${base()}/new`, composerForm({ intent: 'preview', title: 'Hi {{firstName|there}}, <b>new</b> lamps', body: 'For {{tags.city|you}}', 'actions.0.title': 'See {{firstName}}’s picks' }));
    expect(response.status).toBe(200);
    const preview = response.body.slice(response.body.indexOf('id="notification-preview"'));
    expect(preview).toContain('<p class="n-title">Hi Maria, &lt;b&gt;new&lt;/b&gt; lamps</p>');
    expect(preview).toContain('<p class="n-body">For you</p>');
    expect(preview).toContain('<span class="win-button">See Maria’s picks</span>');
    expect(preview).toMatch(/[\d,]+ bytes left<\/strong>/);
    expect(await database.db.selectFrom('campaigns').select('id').execute()).toEqual(before);
  });

  it('counts the chosen audience live (JSON), and says when it matches everyone', async () => {
    const browser = await signedInBrowser(app, database.db, viewer, NOW);
    const gold = await browser.get(`${base()}/audience-count?audience=tag&tagKey=plan&tagValue=gold`);
    expect(gold.status).toBe(200);
    expect(JSON.parse(gold.body)).toMatchObject({ audience: 2, activeSubscribers: 3, matchesEveryone: false, words: '2 subscribers would get it now.' });
    const everyone = JSON.parse((await browser.get(`${base()}/audience-count?audience=everyone`)).body);
    expect(everyone).toMatchObject({ audience: 3, matchesEveryone: true, words: '3 subscribers would get it now. This matches everyone.' });
    const unfinished = JSON.parse((await browser.get(`${base()}/audience-count?audience=tag&tagKey=`)).body);
    expect(unfinished.audience).toBe(0);
  });

  it('a viewer reads the campaigns but gets no composer', async () => {
    const browser = await signedInBrowser(app, database.db, viewer, NOW);
    const list = await browser.get(base());
    expect(list.status).toBe(200);
    expect(list.body).toContain('<h1>Campaigns</h1>');
    expect(list.body).not.toContain('New campaign</a>');
    expect(list.body).toContain('can see the campaigns but not create or send them');
    const composer = await browser.get(`${base()}/new`);
    expect(composer.status).toBe(403);
    expect(composer.body).toContain('cannot create or change campaigns');
  });
});

describe('review, confirmation and sending', () => {
  it('above confirmAbove the review names the count; without the tick nothing is sent, with it the send goes and is audited', async () => {
    await setConfirmAbove(site.id, 2);
    const browser = await signedInBrowser(app, database.db, owner, NOW);
    const id = await compose(browser);
    const review = await browser.get(`${base()}/${id}?done=saved`);
    expect(review.body).toContain('<strong>3 subscribers</strong> would get it now — <strong>this matches everyone</strong>');
    expect(review.body).toContain('<label for="confirm-audience">Send to 3 subscribers</label>');
    expect(review.body).toContain('name="confirmAudience" type="checkbox" value="3"');

    const csrf = csrfTokenIn(review.body);
    const unconfirmed = await browser.post(`${base()}/${id}/send`, { [CSRF_FIELD_NAME]: csrf, intent: 'now' });
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.body).toContain('Nothing was sent: this campaign goes to 3 subscribers. Tick “Send to 3 subscribers” to confirm.');
    expect((await storedDefinition(id)).status).toBe('draft');
    expect(await database.db.selectFrom('notifications').select('id').where('campaign_id', '=', id).execute()).toEqual([]);

    const confirmed = await browser.post(`${base()}/${id}/send`, { [CSRF_FIELD_NAME]: csrf, intent: 'now', confirmAudience: '3' });
    expect(confirmed.status).toBe(303);
    expect(confirmed.location).toBe(`${base()}/${id}?done=sent`);
    expect((await storedDefinition(id)).status).toBe('sending');
    // Sending again (a double click) sends nothing again and records nothing again.
    const again = await browser.post(`${base()}/${id}/send`, { [CSRF_FIELD_NAME]: csrf, intent: 'now', confirmAudience: '3' });
    expect(again.status).toBe(303);
    expect(await database.db.selectFrom('notifications').select('id').where('campaign_id', '=', id).execute()).toHaveLength(1);
    const audited = (await auditActions()).filter((row) => row.action === 'campaign_sent');
    expect(audited).toEqual([{ action: 'campaign_sent', actor_kind: 'user', actor_id: owner }]);

    const sending = await browser.get(`${base()}/${id}`);
    expect(sending.body).toMatch(/<progress id="progress-bar" max="3" value="0"/);
    expect(sending.body).toContain('href="/dashboard/sites/' + site.id + '/campaigns/' + id + '/cancel"');
    const progress = JSON.parse((await browser.get(`${base()}/${id}/progress`)).body);
    expect(progress).toMatchObject({ status: 'sending', progress: { total: 3, sent: 0, remaining: 3 } });
    await setConfirmAbove(site.id, 1000);
  });

  it('an editor schedules at an instant (audited); a past time is refused in words', async () => {
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    const id = await compose(browser, { when: 'at', at: '2030-01-13T09:00' });
    const review = await browser.get(`${base()}/${id}`);
    expect(review.body).toContain('>Schedule</button>');
    expect(review.body).not.toContain('confirm-audience');
    const scheduled = await browser.post(`${base()}/${id}/send`, { [CSRF_FIELD_NAME]: csrfTokenIn(review.body), intent: 'schedule' });
    expect(scheduled.status).toBe(303);
    expect(await storedDefinition(id)).toMatchObject({ status: 'scheduled' });
    expect((await browser.get(scheduled.location!)).body).toContain('Scheduled: Sun 13 Jan 2030, 09:00 (Europe/Berlin).');
    expect((await auditActions()).some((row) => row.action === 'campaign_scheduled' && row.actor_id === editor)).toBe(true);

    const late = await compose(browser, { when: 'at', at: '2030-01-12T08:30' });
    const refusedPage = await browser.get(`${base()}/${late}`);
    const refused = await browser.post(`${base()}/${late}/send`, { [CSRF_FIELD_NAME]: csrfTokenIn(refusedPage.body), intent: 'schedule' });
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('Nothing was changed: Schedule: that time has passed everywhere');
    expect((await storedDefinition(late)).status).toBe('draft');
  });

  it('cancel asks first, then stops it (audited); a cancelled campaign cannot be edited', async () => {
    const browser = await signedInBrowser(app, database.db, owner, NOW);
    const id = await compose(browser, { when: 'at', at: '2030-01-14T09:00' });
    const ask = await browser.get(`${base()}/${id}/cancel`);
    expect(ask.status).toBe(200);
    expect(ask.body).toContain('It has not started: nothing of it will be sent.');
    const cancelled = await browser.post(`${base()}/${id}/cancel`, { [CSRF_FIELD_NAME]: csrfTokenIn(ask.body) });
    expect(cancelled.status).toBe(303);
    expect((await storedDefinition(id)).status).toBe('cancelled');
    expect((await auditActions()).some((row) => row.action === 'campaign_cancelled' && row.actor_id === owner)).toBe(true);
    const edit = await browser.get(`${base()}/${id}/edit`);
    expect(edit.body).toContain('The campaign is cancelled: only a draft or a scheduled campaign can be changed.');
    const post = await browser.post(`${base()}/${id}/edit`, { [CSRF_FIELD_NAME]: csrfTokenIn(edit.body), ...composerForm({ name: 'Changed' }) });
    expect(post.status).toBe(403);
    expect((await storedDefinition(id)).definition.name).toBe('Winter sale');
  });

  it('another shop’s campaign is a 404 here', async () => {
    const other = await createSite(database.db, { name: 'Other shop', origins: ['https://other.example'] }, undefined);
    const row = await database.db
      .insertInto('campaigns')
      .values({ site_id: other.id, name: 'Theirs', definition: JSON.stringify(composerForm()), created_at: NOW, updated_at: NOW })
      .returning('id')
      .executeTakeFirstOrThrow();
    const browser = await signedInBrowser(app, database.db, owner, NOW);
    for (const path of [`${base()}/${row.id}`, `${base()}/${row.id}/edit`, `${base()}/${row.id}/cancel`, `${base()}/not-an-id`]) {
      const response = await browser.get(path);
      expect(response.status, path).toBe(404);
      expect(response.body).not.toContain('Theirs');
    }
  });
});

describe('results', () => {
  it('the page’s figures are the API’s, per variant; a test waiting for a pick offers the pick, which is audited', async () => {
    const browser = await signedInBrowser(app, database.db, owner, NOW);
    const id = await compose(browser, { ab: 'on', 'variants.1.title': 'Variant B title', testPercent: '100', fallback: 'manual' });
    const review = await browser.get(`${base()}/${id}`);
    expect((await browser.post(`${base()}/${id}/send`, { [CSRF_FIELD_NAME]: csrfTokenIn(review.body), intent: 'now' })).status).toBe(303);
    // What the delivery workers and the service workers would leave: every delivery sent, some shown, clicked, an order.
    const notifications = await database.db.selectFrom('notifications').select(['id']).where('campaign_id', '=', id).execute();
    expect(notifications).toHaveLength(2);
    const deliveries = await database.db.selectFrom('deliveries').select(['id', 'notification_id']).where('notification_id', 'in', notifications.map((n) => n.id)).execute();
    expect(deliveries.length).toBe(3);
    await database.db.updateTable('deliveries').set({ status: 'sent', sent_at: NOW }).where('id', 'in', deliveries.map((d) => d.id)).execute();
    for (const delivery of deliveries) {
      await database.db.insertInto('interactions').values({ delivery_id: delivery.id, notification_id: delivery.notification_id, type: 'shown', action: '', created_at: NOW }).execute();
    }
    const first = deliveries[0]!;
    await database.db.insertInto('interactions').values({ delivery_id: first.id, notification_id: first.notification_id, type: 'clicked', action: '', created_at: NOW }).execute();
    await database.db.insertInto('conversions').values({ site_id: site.id, order_id: 'order-1', notification_id: first.notification_id, delivery_id: first.id, value: 54.9, currency: 'EUR', source: 'server', created_at: NOW }).execute();

    const api = await app.request(`/v1/campaigns/${id}`, { headers: { Authorization: `Bearer ${site.secretKey}` } });
    expect(api.status).toBe(200);
    const view = (await api.json()) as { status: string; results: Array<Record<string, any>>; totals: Record<string, any> };
    const page = await browser.get(`${base()}/${id}`);
    expect(page.status).toBe(200);
    const cell = (variant: string, figure: string) => new RegExp(`<tr data-variant="${variant}">[\\s\\S]*?data-figure="${figure}">([^<]*)<`).exec(page.body)?.[1];
    for (const row of view.results) {
      for (const figure of ['sent', 'shown', 'clicked', 'converted'] as const) expect(cell(row.variant, figure), `${row.variant} ${figure}`).toBe(row[figure].toLocaleString('en'));
    }
    expect(view.results.map((row) => row.variant)).toEqual(['A', 'B']);
    expect(view.results.reduce((sum, row) => sum + row.sent, 0)).toBe(3);
    for (const figure of ['sent', 'shown', 'clicked', 'converted'] as const) {
      expect(new RegExp(`data-total="${figure}">([^<]*)<`).exec(page.body)?.[1]).toBe(view.totals[figure].toLocaleString('en'));
    }
    expect(page.body).toContain('€54.90');
    // A chart per variant that sent anything, drawn on the server; the others say so.
    for (const row of view.results) {
      if (row.sent > 0) expect(page.body).toContain(`id="chart-${row.variant}"`);
      else expect(page.body).not.toContain(`id="chart-${row.variant}"`);
    }
    expect((page.body.match(/Nothing sent to this variant yet\./g) ?? []).length).toBe(view.results.filter((row) => row.sent === 0).length);

    // Over time, as GET …/timeline answers: started two hours ago, one push sent then, the rest now.
    const twoHoursAgo = new Date(NOW.getTime() - 2 * 3_600_000);
    await database.db.updateTable('campaigns').set({ started_at: twoHoursAgo }).where('id', '=', id).execute();
    await database.db.updateTable('deliveries').set({ sent_at: twoHoursAgo }).where('id', '=', first.id).execute();
    const timelineAnswer = await app.request(`/v1/campaigns/${id}/timeline`, { headers: { Authorization: `Bearer ${site.secretKey}` } });
    const timeline = (await timelineAnswer.json()) as { unit: string; periods: string[]; series: Array<{ variant: string; sent: number[]; clicked: number[]; revenue: number[] }> };
    expect(timeline.unit).toBe('hour');
    expect(timeline.periods).toHaveLength(3);
    const overTime = await browser.get(`${base()}/${id}`);
    for (const chart of ['timeline-sent', 'timeline-clicked', 'timeline-revenue']) expect(overTime.body).toContain(`id="${chart}"`);
    for (const series of timeline.series) {
      const sent = series.sent.reduce((a, b) => a + b, 0);
      expect(overTime.body).toContain(`Variant ${series.variant}: ${sent} sent`);
    }
    expect(timeline.series.flatMap((series) => series.sent).reduce((a, b) => a + b, 0)).toBe(view.totals.sent);

    // A test without a rest has no pick; a waiting one (test share below 100 %) offers it.
    expect(page.body).not.toContain('as the winner</button>');
    const definition = (await storedDefinition(id)).definition;
    await database.db
      .updateTable('campaigns')
      .set({
        definition: JSON.stringify({ ...definition, abTest: { ...definition.abTest, testPercent: 50 } }),
        decide_at: NOW,
        decision: JSON.stringify({ winner: null, reason: 'waiting_for_pick', decidedAt: NOW.toISOString(), metric: 'clicks', confidence: 0.95, significant: false, pValue: 0.5, summary: 'A 1 of 2; B 0 of 1: not significant.', results: [] }),
      })
      .where('id', '=', id)
      .execute();
    const waiting = await browser.get(`${base()}/${id}`);
    expect(waiting.body).toContain('you chose to pick the winner yourself');
    expect(waiting.body).toContain('>Pick B as the winner</button>');
    const viewerPage = await (await signedInBrowser(app, database.db, viewer, NOW)).get(`${base()}/${id}`);
    expect(viewerPage.body).not.toContain('as the winner</button>');
    const picked = await browser.post(`${base()}/${id}/winner`, { [CSRF_FIELD_NAME]: csrfTokenIn(waiting.body), variant: 'B' });
    expect(picked.status).toBe(303);
    const row = await database.db.selectFrom('campaigns').select('decision').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.decision).toMatchObject({ winner: 'B', reason: 'picked' });
    expect((await auditActions()).some((entry) => entry.action === 'campaign_winner_picked' && entry.actor_id === owner)).toBe(true);
    const after = await browser.get(picked.location!);
    expect(after.body).toContain('You picked variant B; it went to the rest of the audience.');

    // The list shows the same totals.
    const list = await browser.get(base());
    const listRow = new RegExp(`href="${base()}/${id}"[\\s\\S]*?data-figure="sent">([^<]*)<[\\s\\S]*?data-figure="clicked">([^<]*)<[\\s\\S]*?data-figure="converted">([^<]*)<`).exec(list.body);
    expect(listRow?.slice(1)).toEqual(['3', '1', '1']);
  });

  it('“Send test to my browsers” says so when this server has no push transport, and sends nothing', async () => {
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    const id = await compose(browser);
    const review = await browser.get(`${base()}/${id}`);
    expect(review.body).toContain('Send test to my browsers');
    const response = await browser.post(`${base()}/${id}/test`, { [CSRF_FIELD_NAME]: csrfTokenIn(review.body) });
    expect(response.status).toBe(200);
    expect(response.body).toContain('This server cannot send test pushes');
    expect(await database.db.selectFrom('notifications').select('id').where('campaign_id', '=', id).execute()).toEqual([]);
  });
});

describe('a test of the campaign to my browsers', () => {
  it('sends the chosen variant’s text, filled in for the example shopper, to the member’s own test browser and nowhere else', async () => {
    const mock = await startMockPushService();
    const push = nodePushTransport({ ca: mock.ca, timeoutMs: 5_000 });
    try {
      const withPush = testApp(database.db, {
        now: () => NOW.getTime(),
        env: { PUSHCART_PUBLIC_URL: PUBLIC_URL, PUSHCART_PUSH_HOSTS: mock.host, PUSHCART_VAPID_SUBJECT: 'mailto:ops@shop.example' },
        pushTransport: push.transport,
      }).app;
      const browser = await signedInBrowser(withPush, database.db, editor, NOW);
      const subscription = await mock.subscribe({ applicationServerKey: site.vapidPublicKey });
      await saveTestDevice(database.db, { siteId: site.id, userId: editor, endpoint: subscription.endpoint, ...subscription.keys, vapidPublicKey: site.vapidPublicKey, userAgent: null, at: NOW });
      const response = await browser.submit(`${base()}/new`, composerForm({ ab: 'on', 'variants.1.title': 'Last chance, {{firstName|friend}}', 'variants.1.body': 'B’s text', 'actions.0.title': 'Go, {{firstName}}' }));
      const id = /campaigns\/([0-9a-f-]{36})/.exec(response.location!)![1]!;
      const review = await browser.get(`${base()}/${id}`);
      expect(review.body).toContain('<option value="B">Variant B</option>');
      const before = mock.received.length;
      const sent = await browser.post(`${base()}/${id}/test`, { [CSRF_FIELD_NAME]: csrfTokenIn(review.body), variant: 'B' });
      expect(sent.status).toBe(200);
      expect(sent.body).toContain('Sent: accepted by localhost (201)');
      expect(mock.received.length).toBe(before + 1);
      const payload = JSON.parse(mock.received.at(-1)!.payload) as PushPayload;
      expect(payload).toMatchObject({ title: 'Last chance, Maria', body: 'B’s text', url: `${PUBLIC_URL}${base()}/${id}`, actions: [{ action: 'button-1', title: 'Go, Maria' }], report: null });
      // In none of the campaign's figures: no send of the campaign was made.
      expect(await database.db.selectFrom('notifications').select('id').where('campaign_id', '=', id).execute()).toEqual([]);
    } finally {
      await push.close();
      await mock.close();
    }
  });
});
