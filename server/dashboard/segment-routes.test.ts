import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_FIELD_NAME, csrfTokenFor } from '../accounts/csrf.ts';
import { campaignInputSchema } from '../campaigns/campaign-input.ts';
import type { Db } from '../db/database.ts';
import { countSegment, createSegment, findSegment } from '../db/segments.ts';
import { findSiteById, updateSiteSettings } from '../db/sites.ts';
import { describeSegment, type SegmentDefinition } from '../segments/segment-rules.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { testApp } from '../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.ts';
import { builderFields, builderFromFields, builderOfDefinition, definitionFromBuilder } from './segment-form.ts';
import { csrfTokenIn, dashboardMember, signedInBrowser, type TestBrowser } from './test-client.ts';

const NOW = new Date(Date.UTC(2030, 0, 12, 8, 0, 0));
const DAY_MS = 24 * 60 * 60 * 1000;
const PUBLIC_URL = 'http://localhost:8787';
const ZONE = 'Europe/Berlin';

let database: TestDatabase;
let app: ReturnType<typeof testApp>['app'];
let site: CreatedSite;
let otherSite: CreatedSite;
let owner = '';
let editor = '';
let viewer = '';

async function subscribe(db: Db, siteId: string, row: { tags?: Record<string, unknown>; locale?: string; timeZone?: string; browser?: string; createdDaysAgo?: number; visitorId?: string }): Promise<string> {
  const created = new Date(NOW.getTime() - (row.createdDaysAgo ?? 1) * DAY_MS);
  const inserted = await db
    .insertInto('subscriptions')
    .values({
      site_id: siteId,
      endpoint: `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`,
      p256dh: 'BPublicKeyOfTheBrowser',
      auth: 'AuthSecretOfTheBrowser',
      vapid_public_key: 'BVapid',
      visitor_id: row.visitorId ?? crypto.randomUUID(),
      locale: row.locale ?? null,
      time_zone: row.timeZone ?? null,
      user_agent_family: row.browser ?? null,
      tags: JSON.stringify(row.tags ?? {}),
      created_at: created,
      updated_at: created,
      last_seen_at: created,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}

const base = () => `/dashboard/sites/${site.id}/segments`;

async function save(browser: TestBrowser, form: Record<string, string>, path = `${base()}/new`) {
  return browser.submit(path, { intent: 'save', ...form });
}

/** The segment a 303 to its edit page names. */
function savedId(location: string | null): string {
  const id = /segments\/([0-9a-f-]{36})\/edit\?done=saved$/.exec(location ?? '')?.[1];
  expect(id, location ?? 'no location').toBeDefined();
  return id!;
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = testApp(database.db, { now: () => NOW.getTime(), env: { PUSHCART_PUBLIC_URL: PUBLIC_URL } }).app;
  site = await createSite(database.db, { name: 'Lamps & more', origins: ['https://shop.example'] }, undefined);
  otherSite = await createSite(database.db, { name: 'Other shop', origins: ['https://other.example'] }, undefined);
  const settings = readSiteSettings((await findSiteById(database.db, site.id))!.settings);
  await updateSiteSettings(database.db, site.id, { ...settings, engagement: { ...settings.engagement, defaultTimeZone: ZONE } });
  owner = await dashboardMember(database.db, 'owner@shop.example', [[site.id, 'owner']], NOW);
  editor = await dashboardMember(database.db, 'editor@shop.example', [[site.id, 'editor']], NOW);
  viewer = await dashboardMember(database.db, 'viewer@shop.example', [[site.id, 'viewer']], NOW);
  await subscribe(database.db, site.id, { tags: { plan: 'gold' }, locale: 'de-DE', timeZone: 'Europe/Berlin', browser: 'Chrome', createdDaysAgo: 2 });
  await subscribe(database.db, site.id, { tags: { plan: 'gold' }, locale: 'de-AT', timeZone: 'Europe/Vienna', browser: 'Firefox', createdDaysAgo: 40 });
  await subscribe(database.db, site.id, { tags: { plan: 'basic' }, locale: 'fr-FR', timeZone: 'Europe/Paris', browser: 'Chrome', createdDaysAgo: 5 });
  await subscribe(database.db, site.id, { locale: 'en-US', timeZone: 'America/New_York', browser: 'Safari', createdDaysAgo: 100 });
  await subscribe(database.db, otherSite.id, { tags: { plan: 'gold' } });
});
afterAll(async () => database?.destroy());

/** Every row type of the builder, as a person fills it in, and the rule it stands for. */
const EVERY_RULE: Array<{ fields: Record<string, string>; rule: Record<string, unknown> }> = [
  { fields: { type: 'tag_equals', key: 'plan', valueKind: 'text', value: 'gold' }, rule: { type: 'tag', key: 'plan', op: 'equals', value: 'gold' } },
  { fields: { type: 'tag_equals', key: 'visits', valueKind: 'number', value: '3' }, rule: { type: 'tag', key: 'visits', op: 'equals', value: 3 } },
  { fields: { type: 'tag_exists', key: 'vip', negate: 'on' }, rule: { type: 'tag', key: 'vip', op: 'exists', negate: true } },
  { fields: { type: 'locale', values: 'de-de, fr-CA' }, rule: { type: 'locale', values: ['de-DE', 'fr-CA'] } },
  { fields: { type: 'language', values: 'DE; fr' }, rule: { type: 'language', values: ['de', 'fr'] } },
  { fields: { type: 'time_zone', values: 'Europe/Berlin' }, rule: { type: 'time_zone', values: ['Europe/Berlin'] } },
  { fields: { type: 'country', values: 'de, AT' }, rule: { type: 'country', values: ['DE', 'AT'] } },
  { fields: { type: 'browser', values: 'Chrome, Firefox', negate: 'on' }, rule: { type: 'browser', values: ['Chrome', 'Firefox'], negate: true } },
  // 10:00 in Berlin is 09:00 UTC in January.
  { fields: { type: 'subscribed_before', at: '2030-01-01T10:00' }, rule: { type: 'subscribed', op: 'before', at: '2030-01-01T09:00:00.000Z' } },
  { fields: { type: 'subscribed_after', at: '2029-12-01T00:00' }, rule: { type: 'subscribed', op: 'after', at: '2029-11-30T23:00:00.000Z' } },
  { fields: { type: 'subscribed_within', days: '30' }, rule: { type: 'subscribed', op: 'within_days', days: 30 } },
  { fields: { type: 'last_seen', days: '14', negate: 'on' }, rule: { type: 'last_seen', op: 'within_days', days: 14, negate: true } },
  { fields: { type: 'viewed', productMatch: 'prefix', product: 'lamps-', days: '30' }, rule: { type: 'product', action: 'viewed', productIdPrefix: 'lamps-', days: 30 } },
  { fields: { type: 'carted', productMatch: 'id', product: 'lamp-42', days: '7' }, rule: { type: 'product', action: 'carted', productId: 'lamp-42', days: 7 } },
  { fields: { type: 'watched', productMatch: 'any', product: '', days: '60' }, rule: { type: 'product', action: 'watched', days: 60 } },
  { fields: { type: 'ordered', productMatch: 'any', days: '90', negate: 'on' }, rule: { type: 'product', action: 'ordered', days: 90, negate: true } },
  { fields: { type: 'clicked_within', days: '10' }, rule: { type: 'clicked', op: 'within_days', days: 10 } },
  { fields: { type: 'clicked_ever' }, rule: { type: 'clicked', op: 'ever' } },
  { fields: { type: 'clicked_never' }, rule: { type: 'clicked', op: 'ever', negate: true } },
  { fields: { type: 'almost_buyer', days: '3' }, rule: { type: 'almost_buyer', days: 3 } },
  { fields: { type: 'orders', count: '2' }, rule: { type: 'orders', op: 'at_least', count: 2 } },
  { fields: { type: 'spent', amount: '99,90' }, rule: { type: 'spent', op: 'at_least', amount: 99.9 } },
  { fields: { type: 'received_marketing', hours: '24', negate: 'on' }, rule: { type: 'received_marketing', hours: 24, negate: true } },
];

function rowFields(prefix: string, fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([name, value]) => [`${prefix}.${name}`, value]));
}

describe('the segment builder', () => {
  it('stores every rule type as the form says, groups included, and draws it again the same', async () => {
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    // Twelve rules at the top (one spare row left empty between them), the rest in two groups.
    const top = EVERY_RULE.slice(0, 12);
    const groupOne = EVERY_RULE.slice(12, 18);
    const groupTwo = EVERY_RULE.slice(18);
    const form: Record<string, string> = { name: '  Everything  ', match: 'any', 'rules.12.type': '' };
    top.forEach((entry, i) => Object.assign(form, rowFields(`rules.${i < 5 ? i : i + 1}`, entry.fields)));
    form['rules.5.type'] = '';
    form['groups.0.match'] = 'all';
    groupOne.forEach((entry, i) => Object.assign(form, rowFields(`groups.0.rules.${i}`, entry.fields)));
    form['groups.3.match'] = 'any';
    groupTwo.forEach((entry, i) => Object.assign(form, rowFields(`groups.3.rules.${i * 2}`, entry.fields)));
    const response = await save(browser, form);
    expect(response.status, response.body.slice(0, 3000)).toBe(303);
    const id = savedId(response.location);
    const stored = await findSegment(database.db, site.id, id);
    const expected: SegmentDefinition = {
      match: 'any',
      rules: [
        ...top.map((entry) => entry.rule),
        { match: 'all', rules: groupOne.map((entry) => entry.rule) },
        { match: 'any', rules: groupTwo.map((entry) => entry.rule) },
      ] as SegmentDefinition['rules'],
    };
    expect(stored?.name).toBe('Everything');
    expect(stored?.definition).toEqual(expected);

    // Drawn again as rows, and read back from those rows, it is the same definition.
    const rows = builderOfDefinition(expected, ZONE);
    expect(definitionFromBuilder(builderFromFields(builderFields(rows)), ZONE)).toEqual({ definition: expected });
    const edit = await browser.get(`${base()}/${id}/edit?done=saved`);
    expect(edit.status).toBe(200);
    expect(edit.body).toContain('Saved.');
    expect(edit.body).toContain('value="2030-01-01T10:00"');
    expect(edit.body).toContain('<option value="clicked_never" selected>');
    expect(edit.body).toContain('value="lamps-"');
    expect(edit.body).toMatch(/name="groups\.1\.rules\.1\.type"[^>]*>[\s\S]*?<option value="orders" selected>/);
    // Saving the rows as drawn changes nothing.
    const again = await browser.submit(`${base()}/${id}/edit`, { intent: 'save', name: 'Everything', ...builderFields(rows) });
    expect(again.status).toBe(303);
    expect((await findSegment(database.db, site.id, id))?.definition).toEqual(expected);
  });

  it('puts each problem beside its field, stores nothing, and keeps what was typed', async () => {
    const browser = await signedInBrowser(app, database.db, owner, NOW);
    const before = await database.db.selectFrom('segments').select('id').where('site_id', '=', site.id).execute();
    const response = await save(browser, {
      name: '',
      match: 'all',
      ...rowFields('rules.0', { type: 'subscribed_within', days: '0' }),
      ...rowFields('rules.1', { type: 'country', values: 'DE, XX' }),
      ...rowFields('rules.2', { type: 'tag_equals', key: '', value: 'gold' }),
      ...rowFields('rules.3', { type: 'spent', amount: 'lots' }),
      'groups.0.match': 'any',
      ...rowFields('groups.0.rules.0', { type: 'viewed', productMatch: 'id', product: '', days: '30' }),
    });
    expect(response.status).toBe(422);
    const errorOf = (field: string) => new RegExp(`id="sb-${field}-error">([^<]*)<`).exec(response.body)?.[1];
    expect(errorOf('name')).toBe('Give the segment a name.');
    expect(errorOf('rules-0-days')).toBe('Must be 1 or more.');
    expect(errorOf('rules-1-values')).toMatch(/country/);
    expect(errorOf('rules-2-key')).toBe('Enter the tag’s name, such as plan.');
    expect(errorOf('rules-3-amount')).toBe('“lots” is not an amount; enter digits, such as 49.90.');
    expect(errorOf('groups-0-rules-0-product')).toBe('Enter the product’s id.');
    expect(response.body).toContain('value="DE, XX"');
    expect(response.body).toContain('aria-invalid="true"');
    expect(await database.db.selectFrom('segments').select('id').where('site_id', '=', site.id).execute()).toEqual(before);

    const empty = await save(browser, { name: 'Nothing', match: 'all', 'rules.0.type': '' });
    expect(empty.status).toBe(422);
    expect(empty.body).toContain('Add at least one rule');

    const taken = await save(browser, { name: 'EVERYTHING', match: 'all', ...rowFields('rules.0', { type: 'tag_exists', key: 'plan' }) });
    expect(taken.status).toBe(422);
    expect(taken.body).toContain('already has a segment called “EVERYTHING”');
  });

  it('without JavaScript, the buttons add and remove rows and groups, and store nothing', async () => {
    const browser = await signedInBrowser(app, database.db, owner, NOW);
    const page = await browser.get(`${base()}/new`);
    expect(page.status).toBe(200);
    const rowsIn = (body: string) => [...body.matchAll(/<li class="rule-row" data-prefix="([^"]+)"/g)].map((m) => m[1]).filter((prefix) => prefix !== '__p__');
    expect(rowsIn(page.body)).toEqual(['rules.0', 'rules.1', 'rules.2']);
    const csrf = csrfTokenIn(page.body);
    const typed = { name: 'Draft', match: 'all', ...rowFields('rules.0', { type: 'tag_exists', key: 'plan' }), 'rules.1.type': '', 'rules.2.type': '' };
    const added = await browser.post(`${base()}/new`, { [CSRF_FIELD_NAME]: csrf, ...typed, intent: 'add-rule' });
    expect(added.status).toBe(200);
    expect(rowsIn(added.body)).toEqual(['rules.0', 'rules.1', 'rules.2', 'rules.3']);
    expect(added.body).toContain('value="Draft"');
    // With its count: the rules as they stand (the tag plan is set for three of four).
    expect(added.body).toContain('3 of 4 active subscribers match now.');
    const grouped = await browser.post(`${base()}/new`, { [CSRF_FIELD_NAME]: csrf, ...typed, intent: 'add-group' });
    expect(rowsIn(grouped.body)).toEqual(['rules.0', 'rules.1', 'rules.2', 'groups.0.rules.0', 'groups.0.rules.1']);
    const removed = await browser.post(`${base()}/new`, { [CSRF_FIELD_NAME]: csrf, ...typed, intent: 'remove:rules.0' });
    expect(rowsIn(removed.body)).toEqual(['rules.0', 'rules.1']);
    expect(removed.body).not.toContain('value="plan"');
    // Choosing a type and "Update the rules" shows that type's inputs.
    const refreshed = await browser.post(`${base()}/new`, { [CSRF_FIELD_NAME]: csrf, ...typed, 'rules.1.type': 'orders', intent: 'refresh' });
    expect(refreshed.body).toMatch(/<div class="field rule-input rule-input-short" data-types="orders">\s*<label for="sb-rules-1-count">/);
    expect(refreshed.body).toMatch(/data-types="orders" hidden><label for="sb-rules-0-count">/);
    expect(await database.db.selectFrom('segments').select('id').where('name', '=', 'Draft').execute()).toEqual([]);
  });

  it('a viewer reads the list with its counts and cannot open the builder; an editor can', async () => {
    const made = await createSegment(database.db, site.id, { name: 'Gold plan', definition: { match: 'all', rules: [{ type: 'tag', key: 'plan', op: 'equals', value: 'gold' }] } }, NOW);
    expect(made.outcome).toBe('created');
    const reader = await signedInBrowser(app, database.db, viewer, NOW);
    const list = await reader.get(base());
    expect(list.status).toBe(200);
    expect(list.body).toContain('Gold plan');
    expect(list.body).toContain('Subscribers who have the tag “plan” set to &quot;gold&quot;');
    expect(list.body).toMatch(/data-figure="matching">2</);
    expect(list.body).not.toContain('New segment');
    expect(list.body).toContain('can see the segments but not create or change them');
    expect(list.body).toContain('aria-current="page">Segments<');
    for (const path of [`${base()}/new`, `${base()}/${(made as { segment: { id: string } }).segment.id}/edit`, `${base()}/${(made as { segment: { id: string } }).segment.id}/delete`]) {
      const refused = await reader.get(path);
      expect(refused.status, path).toBe(403);
      expect(refused.body).toContain('cannot create, change or delete segments');
    }
    const writer = await signedInBrowser(app, database.db, editor, NOW);
    expect((await writer.get(`${base()}/new`)).status).toBe(200);
    expect((await writer.get(base())).body).toContain('New segment');
  });

  it('another shop’s segment is a 404 on every page and form, and stays as it was', async () => {
    const theirs = await createSegment(database.db, otherSite.id, { name: 'Theirs', definition: { match: 'all', rules: [{ type: 'tag', key: 'plan', op: 'exists' }] } }, NOW);
    const id = (theirs as { segment: { id: string } }).segment.id;
    const browser = await signedInBrowser(app, database.db, owner, NOW);
    const csrf = await csrfTokenFor(browser.cookies.get('pushcart-session')!);
    for (const path of [`${base()}/${id}/edit`, `${base()}/${id}/delete`, `${base()}/not-a-uuid/edit`]) {
      const page = await browser.get(path);
      expect(page.status, path).toBe(404);
      expect(page.body).not.toContain('Theirs');
    }
    expect((await browser.post(`${base()}/${id}/edit`, { [CSRF_FIELD_NAME]: csrf, intent: 'save', name: 'Mine now', match: 'all', ...rowFields('rules.0', { type: 'tag_exists', key: 'x' }) })).status).toBe(404);
    expect((await browser.post(`${base()}/${id}/delete`, { [CSRF_FIELD_NAME]: csrf })).status).toBe(404);
    const after = await findSegment(database.db, otherSite.id, id);
    expect(after?.name).toBe('Theirs');
    expect(after?.definition).toEqual({ match: 'all', rules: [{ type: 'tag', key: 'plan', op: 'exists' }] });
  });
});

describe('the live count', () => {
  it('answers what countSegment and GET /v1/segments/{id}/count answer, with the rules in words', async () => {
    const browser = await signedInBrowser(app, database.db, viewer, NOW);
    const fields = {
      match: 'all',
      ...rowFields('rules.0', { type: 'language', values: 'de' }),
      'groups.0.match': 'any',
      ...rowFields('groups.0.rules.0', { type: 'browser', values: 'Firefox' }),
      ...rowFields('groups.0.rules.1', { type: 'subscribed_within', days: '7' }),
    };
    const answer = await browser.get(`${base()}/count?${new URLSearchParams(fields)}`);
    expect(answer.status).toBe(200);
    const json = JSON.parse(answer.body);
    const definition: SegmentDefinition = {
      match: 'all',
      rules: [
        { type: 'language', values: ['de'] },
        { match: 'any', rules: [{ type: 'browser', values: ['Firefox'] }, { type: 'subscribed', op: 'within_days', days: 7 }] },
      ],
    };
    const direct = await countSegment(database.db, site.id, definition, NOW);
    expect(direct).toEqual({ matching: 2, active: 4, matchesEveryone: false });
    expect(json).toEqual({ complete: true, ...direct, words: '2 of 4 active subscribers match now.', description: describeSegment(definition) });

    const saved = await createSegment(database.db, site.id, { name: 'German speakers', definition }, NOW);
    const api = await app.request(`/v1/segments/${(saved as { segment: { id: string } }).segment.id}/count`, { headers: { Authorization: `Bearer ${site.secretKey}` } });
    expect(api.status).toBe(200);
    const apiCount = (await api.json()) as { matching: number; active: number; matchesEveryone: boolean };
    expect({ matching: apiCount.matching, active: apiCount.active, matchesEveryone: apiCount.matchesEveryone }).toEqual({ matching: json.matching, active: json.active, matchesEveryone: json.matchesEveryone });
  });

  it('says when the rules match every subscriber, and when they are not complete', async () => {
    const browser = await signedInBrowser(app, database.db, owner, NOW);
    const everyone = JSON.parse((await browser.get(`${base()}/count?${new URLSearchParams({ match: 'all', ...rowFields('rules.0', { type: 'clicked_never' }) })}`)).body);
    expect(everyone).toMatchObject({ complete: true, matching: 4, active: 4, matchesEveryone: true, words: '4 of 4 active subscribers match now.' });
    const page = await save(browser, { name: 'Nobody clicked', match: 'all', ...rowFields('rules.0', { type: 'clicked_never' }) });
    const edit = await browser.get(page.location!);
    expect(edit.body).toMatch(/<p class="everyone-note" id="segment-everyone"><strong>This matches every subscriber\.<\/strong>/);
    const list = await browser.get(base());
    expect(list.body).toMatch(/Nobody clicked[\s\S]*?<span class="badge everyone-badge">everyone<\/span>/);
    const partial = JSON.parse((await browser.get(`${base()}/count?${new URLSearchParams({ match: 'all', ...rowFields('rules.0', { type: 'orders', count: '' }) })}`)).body);
    expect(partial).toMatchObject({ complete: false, words: 'Finish the rules to see how many subscribers match.' });
  });
});

describe('deleting a segment', () => {
  it('is refused, naming the campaign, while a campaign not started yet sends to it; allowed after', async () => {
    const browser = await signedInBrowser(app, database.db, owner, NOW);
    const made = await createSegment(database.db, site.id, { name: 'Lamp lovers', definition: { match: 'all', rules: [{ type: 'product', action: 'viewed', productIdPrefix: 'lamps-', days: 30 }] } }, NOW);
    const id = (made as { segment: { id: string } }).segment.id;
    const campaign = await database.db
      .insertInto('campaigns')
      .values({
        site_id: site.id,
        name: 'Lamp <week>',
        status: 'scheduled',
        definition: JSON.stringify({ name: 'Lamp <week>', content: { title: 'Lamps', body: '', url: 'https://shop.example/' }, ttl: 3600, urgency: 'normal', audience: { segmentId: id } }),
        created_at: NOW,
        updated_at: NOW,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Its builder says which campaigns wait on it.
    const edit = await browser.get(`${base()}/${id}/edit`);
    expect(edit.body).toContain('A campaign that has not started yet sends to this segment');
    expect(edit.body).toContain('Lamp &lt;week&gt;</a> (scheduled)');
    const confirm = await browser.get(`${base()}/${id}/delete`);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain(`<a href="/dashboard/sites/${site.id}/campaigns/${campaign.id}">Lamp &lt;week&gt;</a> (scheduled)`);
    expect(confirm.body).not.toContain('Yes, delete the segment');
    const refused = await browser.post(`${base()}/${id}/delete`, { [CSRF_FIELD_NAME]: csrfTokenIn((await browser.get(`${base()}/new`)).body) });
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('Nothing was deleted');
    expect(refused.body).toContain('Lamp &lt;week&gt;');
    expect(await findSegment(database.db, site.id, id)).toBeDefined();

    // Once the campaign has started (it has its own copy of the rules), the segment may go.
    await database.db.updateTable('campaigns').set({ status: 'sent' }).where('id', '=', campaign.id).execute();
    const page = await browser.get(`${base()}/${id}/delete`);
    expect(page.body).toContain('Yes, delete the segment');
    const deleted = await browser.post(`${base()}/${id}/delete`, { [CSRF_FIELD_NAME]: csrfTokenIn(page.body) });
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe(`${base()}?done=deleted`);
    expect(await findSegment(database.db, site.id, id)).toBeUndefined();
    expect((await browser.get(deleted.location!)).body).toContain('Deleted.');
  });
});

describe('the campaign composer', () => {
  const composer = () => `/dashboard/sites/${site.id}/campaigns/new`;
  const campaignForm = (extra: Record<string, string>) => ({ intent: 'save', name: 'Segment sale', title: 'Hi', body: 'Sale', url: 'https://shop.example/sale', when: 'now', ttlHours: '24', urgency: 'normal', ...extra });
  const storedAudience = async (location: string | null) => {
    const id = /campaigns\/([0-9a-f-]{36})\?done=saved$/.exec(location ?? '')?.[1];
    const row = await database.db.selectFrom('campaigns').select('definition').where('id', '=', id!).executeTakeFirstOrThrow();
    return campaignInputSchema.parse(row.definition).audience;
  };

  it('offers the saved segments with their counts, stores the one chosen, and counts it as countSegment does', async () => {
    const made = await createSegment(database.db, site.id, { name: 'Gold members', definition: { match: 'all', rules: [{ type: 'tag', key: 'plan', op: 'equals', value: 'gold' }] } }, NOW);
    const id = (made as { segment: { id: string } }).segment.id;
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    const page = await browser.get(composer());
    expect(page.body).toContain(`<option value="${id}">Gold members — 2 subscribers</option>`);
    expect(page.body).not.toContain('come here once the segments module');
    const saved = await browser.submit(composer(), campaignForm({ audience: 'segment', segmentId: id }));
    expect(saved.status, saved.body.slice(0, 2000)).toBe(303);
    expect(await storedAudience(saved.location)).toEqual({ segmentId: id });
    const review = await browser.get(saved.location!);
    expect(review.body).toContain('Segment “Gold members”');

    // The live preview's own requests leave the counts out; the Preview button's page has them.
    const csrf = csrfTokenIn(page.body);
    const previewOnly = await browser.post(composer(), { [CSRF_FIELD_NAME]: csrf, ...campaignForm({ intent: 'preview', audience: 'segment', segmentId: id }) }, { 'X-Pushcart-Preview': 'only' });
    expect(previewOnly.status).toBe(200);
    expect(previewOnly.body).toContain('id="notification-preview"');
    expect(previewOnly.body).not.toContain('Gold members — 2 subscribers');
    const previewPage = await browser.post(composer(), { [CSRF_FIELD_NAME]: csrf, ...campaignForm({ intent: 'preview', audience: 'segment', segmentId: id }) });
    expect(previewPage.body).toContain(`<option value="${id}" selected>Gold members — 2 subscribers</option>`);
    expect(previewPage.body).toContain('2 subscribers would get it now.');

    const counted = JSON.parse((await browser.get(`/dashboard/sites/${site.id}/campaigns/audience-count?audience=segment&segmentId=${id}`)).body);
    const direct = await countSegment(database.db, site.id, (made as { segment: { definition: SegmentDefinition } }).segment.definition, NOW);
    expect(counted).toMatchObject({ audience: direct.matching, activeSubscribers: direct.active, matchesEveryone: false, words: '2 subscribers would get it now.' });

    const theirs = await createSegment(database.db, otherSite.id, { name: 'Not yours', definition: { match: 'all', rules: [{ type: 'tag', key: 'plan', op: 'exists' }] } }, NOW);
    const refused = await browser.submit(composer(), campaignForm({ audience: 'segment', segmentId: (theirs as { segment: { id: string } }).segment.id }));
    expect(refused.status).toBe(422);
    expect(refused.body).toContain('id="c-segmentId-error">That segment is not one of this shop’s');
  });

  it('stores rules written in the composer, counts them live, and draws them again for editing', async () => {
    const browser = await signedInBrowser(app, database.db, editor, NOW);
    const rules = { match: 'any', ...rowFields('rules.0', { type: 'country', values: 'FR' }), 'groups.0.match': 'all', ...rowFields('groups.0.rules.0', { type: 'language', values: 'de' }), ...rowFields('groups.0.rules.1', { type: 'browser', values: 'Chrome' }) };
    const counted = JSON.parse((await browser.get(`/dashboard/sites/${site.id}/campaigns/audience-count?${new URLSearchParams({ audience: 'rules', ...rules })}`)).body);
    expect(counted).toMatchObject({ audience: 2, activeSubscribers: 4, description: 'Subscribers who are in FR (by time zone) or (speak de (any region) and use Chrome)' });
    // "Add a rule" without JavaScript draws the composer again with one more row, storing nothing.
    const more = await browser.submit(composer(), campaignForm({ audience: 'rules', ...rules, intent: 'add-rule' }));
    expect(more.status).toBe(200);
    expect(more.body).toContain('data-prefix="rules.1"');
    expect(more.body).toContain('value="Segment sale"');
    const saved = await browser.submit(composer(), campaignForm({ audience: 'rules', ...rules }));
    expect(saved.status, saved.body.slice(0, 2000)).toBe(303);
    const audience = await storedAudience(saved.location);
    expect(audience).toEqual({ segment: { match: 'any', rules: [{ type: 'country', values: ['FR'] }, { match: 'all', rules: [{ type: 'language', values: ['de'] }, { type: 'browser', values: ['Chrome'] }] }] } });
    const id = /campaigns\/([0-9a-f-]{36})/.exec(saved.location!)![1];
    const edit = await browser.get(`/dashboard/sites/${site.id}/campaigns/${id}/edit`);
    expect(edit.body).toMatch(/id="c-audience-rules" name="audience" value="rules" checked/);
    expect(edit.body).toContain('value="FR"');
    expect(edit.body).toContain('2 subscribers would get it now.');
    // A rules audience with a problem says so beside the row.
    const wrong = await browser.submit(composer(), campaignForm({ audience: 'rules', match: 'all', ...rowFields('rules.0', { type: 'last_seen', days: 'soon' }) }));
    expect(wrong.status).toBe(422);
    expect(wrong.body).toContain('id="sb-rules-0-days-error">“soon” is not a whole number');
  });
});
