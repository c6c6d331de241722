import { describe, expect, it } from 'vitest';
import { updateSiteSettings } from '../db/sites.ts';
import { readSiteSettings } from '../sites/site-settings.ts';
import { SHOP_ORIGIN } from '../testing/fixtures.ts';
import { PUBLIC_URL, usePushWorld } from '../testing/push-world.ts';
import { fireDueBirthdays, isBirthdayOn } from './birthdays.ts';
import { scheduleDueOccasions } from './occasions.ts';

// Each test starts from an empty outbox: a push deferred in one must not be claimed by the next.
const pushWorld = usePushWorld({ emptyOutboxAfterEach: true });

/** A shop, its subscribers at the strict mock push service, the API and a deliverer on one controllable clock. */
async function world(startIso: string, settings: Record<string, unknown>) {
  const s = await pushWorld.shop({ startMs: Date.parse(startIso), settings });

  /** A subscriber at the mock, subscribed as a browser would, with a zone and locale, and known to the shop as `userId`. */
  const subscriber = (options: { timeZone: string; locale?: string; userId?: string }) => s.subscriber({ ...options, locale: options.locale ?? 'en' });

  async function birthday(userId: string, month: number | null, day: number | null) {
    const answer = await s.call('POST', '/v1/subscribers/birthday', { externalUserId: userId, month, day });
    expect(answer.status).toBe(204);
  }

  /** The birthday step alone, at the clock's time. */
  const birthdays = async () => fireDueBirthdays(pushWorld.db, await s.siteRow(), { now: new Date(s.clock.nowMs), publicUrl: PUBLIC_URL });

  const notificationsOf = async (source: string) =>
    pushWorld.db.selectFrom('notifications').select(['id', 'best_hour', 'audience', 'campaign_id']).where('site_id', '=', s.site.id).where('source', '=', source).execute();

  return { ...s, created: s.site, site: s.siteRow, subscriber, birthday, birthdays, notificationsOf };
}

const at = (iso: string) => Date.parse(iso);

describe('birthdays', () => {
  it('29 February is the 28th in a year without one, and only the 29th in a leap year', () => {
    const leapling = { month: 2, day: 29 };
    expect(isBirthdayOn(leapling, { year: 2027, month: 2, day: 28 })).toBe(true);
    expect(isBirthdayOn(leapling, { year: 2027, month: 3, day: 1 })).toBe(false);
    expect(isBirthdayOn(leapling, { year: 2028, month: 2, day: 28 })).toBe(false);
    expect(isBirthdayOn(leapling, { year: 2028, month: 2, day: 29 })).toBe(true);
    expect(isBirthdayOn({ month: 2, day: 28 }, { year: 2028, month: 2, day: 29 })).toBe(false);
  });

  it('refuses a day the month does not have, and takes null to remove a birthday', async () => {
    const w = await world('2026-03-01T12:00:00Z', {});
    expect((await w.call('POST', '/v1/subscribers/birthday', { externalUserId: 'u1', month: 4, day: 31 })).status).toBe(400);
    expect((await w.call('POST', '/v1/subscribers/birthday', { externalUserId: 'u1', month: 4, day: null })).status).toBe(400);
    await w.birthday('u1', 2, 29);
    expect(await pushWorld.db.selectFrom('shopper_birthdays').select(['month', 'day']).where('site_id', '=', w.created.id).execute()).toEqual([{ month: 2, day: 29 }]);
    await w.birthday('u1', null, null);
    expect(await pushWorld.db.selectFrom('shopper_birthdays').selectAll().where('site_id', '=', w.created.id).execute()).toEqual([]);
  });

  it('fires at the local time on the local day in Berlin (the day summer time starts) and New York, not the day before or after, nor on other birthdays', async () => {
    // Berlin moves to summer time (UTC+2) at 02:00 on 29 March 2026; New York has been on EDT (UTC−4) since 8 March.
    const w = await world('2026-03-28T22:30:00Z', { birthday: { enabled: true, sendAtBestHour: false, localTime: '10:00', holdoutPercent: 0 } });
    await w.subscriber({ timeZone: 'Europe/Berlin', userId: 'anna' });
    await w.subscriber({ timeZone: 'America/New_York', userId: 'bob' });
    await w.subscriber({ timeZone: 'Europe/Berlin', userId: 'carla' });
    await w.birthday('anna', 3, 29);
    await w.birthday('bob', 3, 29);
    await w.birthday('carla', 3, 30);

    const firedAt: Record<string, string> = {};
    // Every quarter hour from 28 March 23:30 in Berlin until 31 March.
    for (let ms = w.clock.nowMs; ms < at('2026-03-31T12:00:00Z'); ms += 15 * 60_000) {
      w.clock.nowMs = ms;
      await w.birthdays();
      for (const row of await pushWorld.db.selectFrom('birthday_pushes').select(['external_user_id', 'sent_at']).where('site_id', '=', w.created.id).execute()) {
        firedAt[row.external_user_id] ??= row.sent_at.toISOString();
      }
    }
    expect(firedAt).toEqual({
      anna: '2026-03-29T08:00:00.000Z', // 10:00 CEST, the new offset
      bob: '2026-03-29T14:00:00.000Z', // 10:00 EDT
      carla: '2026-03-30T08:00:00.000Z',
    });
    expect(await w.notificationsOf('birthday')).toHaveLength(3);
  });

  it('fires once a year across two workers at the same moment and a restart, and again the next year', async () => {
    const w = await world('2026-07-14T09:00:00Z', { birthday: { enabled: true, sendAtBestHour: false, localTime: '09:00', holdoutPercent: 0 } });
    await w.subscriber({ timeZone: 'Europe/Paris', userId: 'dora' });
    await w.subscriber({ timeZone: 'Europe/Paris', userId: 'dora' }); // a second browser: one push to both, one claim
    await w.birthday('dora', 7, 14);
    const [first, second] = await Promise.all([w.birthdays(), w.birthdays()]);
    expect(first.queued.length + second.queued.length).toBe(1);
    w.clock.nowMs = at('2026-07-14T20:00:00Z');
    expect((await w.birthdays()).queued).toEqual([]);
    const [sent] = await w.notificationsOf('birthday');
    expect(await pushWorld.db.selectFrom('deliveries').select('id').where('notification_id', '=', sent!.id).execute()).toHaveLength(2);

    w.clock.nowMs = at('2027-07-14T09:00:00Z');
    expect((await w.birthdays()).queued).toHaveLength(1);
    expect(await pushWorld.db.selectFrom('birthday_pushes').select('year').where('site_id', '=', w.created.id).orderBy('year').execute()).toEqual([{ year: 2026 }, { year: 2027 }]);
  });

  it('sends a 29 February birthday on 28 February in 2027, and on the 29th in 2028', async () => {
    const w = await world('2027-02-28T09:30:00Z', { birthday: { enabled: true, sendAtBestHour: false, localTime: '10:00', holdoutPercent: 0 } });
    await w.subscriber({ timeZone: 'Europe/London', userId: 'leap' });
    await w.birthday('leap', 2, 29);
    expect((await w.birthdays()).queued).toEqual([]); // 09:30 in London: not yet
    w.clock.nowMs = at('2027-02-28T10:00:00Z');
    expect((await w.birthdays()).queued).toHaveLength(1);
    w.clock.nowMs = at('2027-03-01T10:00:00Z');
    expect((await w.birthdays()).queued).toEqual([]);
    w.clock.nowMs = at('2028-02-28T12:00:00Z');
    expect((await w.birthdays()).queued).toEqual([]);
    w.clock.nowMs = at('2028-02-29T12:00:00Z');
    expect((await w.birthdays()).queued).toHaveLength(1);
  });

  it('sends nothing while switched off or to a shopper without an active subscription', async () => {
    const w = await world('2026-05-05T12:00:00Z', { birthday: { enabled: false } });
    await w.subscriber({ timeZone: 'Europe/Berlin', userId: 'eve' });
    await w.birthday('eve', 5, 5);
    await w.birthday('nobody', 5, 5);
    expect((await w.birthdays()).queued).toEqual([]);
    await updateSiteSettings(pushWorld.db, w.created.id, { ...readSiteSettings((await w.site()).settings), birthday: { enabled: true, sendAtBestHour: false, localTime: '10:00', holdoutPercent: 0 } });
    expect((await w.birthdays()).queued).toHaveLength(1);
    expect(await pushWorld.db.selectFrom('birthday_pushes').select('external_user_id').where('site_id', '=', w.created.id).execute()).toEqual([{ external_user_id: 'eve' }]);
  });

  it('goes at the shopper’s best hour of their birthday, in German with the birthday code, end to end to the push service', async () => {
    // Just after midnight in Berlin on Lena's birthday; she visits at 19:xx local (17:xx UTC in summer).
    const w = await world('2026-06-09T22:05:00Z', { birthday: { enabled: true, sendAtBestHour: true, localTime: '10:00', discountCode: 'HAPPY10', holdoutPercent: 0 } });
    const lena = await w.subscriber({ timeZone: 'Europe/Berlin', locale: 'de', userId: 'lena' });
    await w.visits(lena.visitorId, ['2026-06-01T17:05:00Z', '2026-06-02T17:40:00Z', '2026-06-04T17:20:00Z', '2026-06-06T17:10:00Z', '2026-06-08T17:55:00Z']);
    await w.birthday('lena', 6, 10);
    await w.runRounds();
    const [sent] = await w.notificationsOf('birthday');
    expect(sent).toMatchObject({ best_hour: true, audience: { trigger: 'birthday', year: 2026 } });
    expect(w.received(lena.endpoint)).toEqual([]);
    const delivery = await pushWorld.db.selectFrom('deliveries').selectAll().where('notification_id', '=', sent!.id).executeTakeFirstOrThrow();
    expect(delivery).toMatchObject({ status: 'queued', due_at: new Date('2026-06-10T17:00:00Z') });

    w.clock.nowMs = at('2026-06-10T16:59:00Z');
    await w.runRounds();
    expect(w.received(lena.endpoint)).toEqual([]);
    w.clock.nowMs = at('2026-06-10T17:00:00Z');
    await w.runRounds();
    const [payload] = w.received(lena.endpoint);
    expect(payload).toMatchObject({ id: sent!.id, title: 'Alles Gute zum Geburtstag! 🎂', body: 'Wir wünschen dir einen wunderschönen Tag.\nEin kleines Geschenk: Gib beim Bezahlen den Code HAPPY10 ein.', url: `${SHOP_ORIGIN}/` });
    expect(await w.notificationsOf('birthday')).toHaveLength(1);
  });
});

describe('occasions', () => {
  it('sends an occasion on its date at its local time in each shopper’s zone, to its segment only, once', async () => {
    const w = await world('2030-12-03T12:00:00Z', {});
    const segment = await w.call('POST', '/v1/segments', { name: 'German speakers', definition: { match: 'all', rules: [{ type: 'language', values: ['de'] }] } });
    expect(segment.status).toBe(201);
    const current = readSiteSettings((await w.site()).settings);
    await updateSiteSettings(pushWorld.db, w.created.id, {
      ...current,
      occasions: {
        list: [
          {
            id: 'sinterklaas',
            name: 'Sinterklaas',
            enabled: true,
            month: 12,
            day: 5,
            localTime: '10:00',
            segmentId: segment.body.id,
            url: `${SHOP_ORIGIN}/sinterklaas`,
            texts: { en: { title: 'Happy Sinterklaas', body: 'Gifts for the whole family' }, de: { title: 'Frohen Nikolaus', body: 'Geschenke für die ganze Familie' } },
          },
        ],
      },
    });
    const berlin = await w.subscriber({ timeZone: 'Europe/Berlin', locale: 'de' });
    const newYork = await w.subscriber({ timeZone: 'America/New_York', locale: 'de' });
    const english = await w.subscriber({ timeZone: 'Europe/Berlin', locale: 'en' });

    await w.runRounds(); // two days ahead: nothing yet
    expect(await pushWorld.db.selectFrom('occasion_sends').selectAll().where('site_id', '=', w.created.id).execute()).toEqual([]);

    // A day before the first zone (+14) reaches 5 December 10:00: two workers at once schedule one campaign.
    w.clock.nowMs = at('2030-12-03T21:00:00Z');
    const site = await w.site();
    const both = await Promise.all([0, 1].map(() => scheduleDueOccasions(pushWorld.db, site, { now: new Date(w.clock.nowMs), publicUrl: PUBLIC_URL })));
    expect(both.flat()).toHaveLength(1);
    const campaignId = both.flat()[0]!;
    const campaign = await w.call('GET', `/v1/campaigns/${campaignId}`);
    expect(campaign.body).toMatchObject({ name: 'Sinterklaas 2030', status: 'scheduled' });

    for (const [iso, expected] of [
      ['2030-12-05T08:59:00Z', 0],
      ['2030-12-05T09:00:00Z', 1], // 10:00 CET
      ['2030-12-05T14:59:00Z', 1],
      ['2030-12-05T15:00:00Z', 2], // 10:00 EST
      ['2030-12-06T15:00:00Z', 2],
    ] as const) {
      w.clock.nowMs = at(iso);
      await w.runRounds();
      expect(w.received(berlin.endpoint).length + w.received(newYork.endpoint).length, iso).toBe(expected);
    }
    expect(w.received(berlin.endpoint)).toEqual([expect.objectContaining({ title: 'Frohen Nikolaus', body: 'Geschenke für die ganze Familie', url: `${SHOP_ORIGIN}/sinterklaas` })]);
    expect(w.received(newYork.endpoint)).toHaveLength(1);
    expect(w.received(english.endpoint)).toEqual([]);
    // A restart on the day and the next: still the one campaign.
    expect(await scheduleDueOccasions(pushWorld.db, await w.site(), { now: new Date(w.clock.nowMs), publicUrl: PUBLIC_URL })).toEqual([]);
    expect(await pushWorld.db.selectFrom('occasion_sends').select(['occasion_id', 'year', 'campaign_id']).where('site_id', '=', w.created.id).execute()).toEqual([
      { occasion_id: 'sinterklaas', year: 2030, campaign_id: campaignId },
    ]);
  });
});

describe('campaigns at the best hour', () => {
  it('defers each delivery to the shopper’s best hour, end to end to the push service', async () => {
    const w = await world('2026-06-10T06:00:00Z', {}); // 08:00 in Berlin
    const mia = await w.subscriber({ timeZone: 'Europe/Berlin' });
    await w.visits(mia.visitorId, ['2026-06-01T14:05:00Z', '2026-06-02T14:40:00Z', '2026-06-04T14:20:00Z', '2026-06-06T14:10:00Z', '2026-06-08T14:55:00Z']);
    const content = { title: 'Summer sale', body: 'Everything 20 % off', url: `${SHOP_ORIGIN}/sale` };
    const created = await w.call('POST', '/v1/campaigns', { name: 'Summer sale', content, audience: { all: true }, sendAtBestHour: true });
    expect(created.status).toBe(201);
    expect((await w.call('POST', `/v1/campaigns/${created.body.id}/send`, {})).status).toBe(200);
    await w.runRounds();
    expect(w.received(mia.endpoint)).toEqual([]);
    const [sent] = await w.notificationsOf('campaign');
    expect(sent).toMatchObject({ best_hour: true, campaign_id: created.body.id });
    expect(await pushWorld.db.selectFrom('deliveries').select(['status', 'due_at']).where('notification_id', '=', sent!.id).execute()).toEqual([{ status: 'queued', due_at: new Date('2026-06-10T14:00:00Z') }]);
    w.clock.nowMs = at('2026-06-10T13:59:00Z');
    await w.runRounds();
    expect(w.received(mia.endpoint)).toEqual([]);
    w.clock.nowMs = at('2026-06-10T14:00:00Z'); // 16:00 CEST, her hour
    await w.runRounds();
    expect(w.received(mia.endpoint)).toEqual([expect.objectContaining({ title: 'Summer sale', body: 'Everything 20 % off', url: `${SHOP_ORIGIN}/sale` })]);
  });

  it('is refused with a local-time schedule, which already sets the hour', async () => {
    const w = await world('2026-06-10T06:00:00Z', {});
    const content = { title: 'Summer sale', body: '', url: `${SHOP_ORIGIN}/sale` };
    const refused = await w.call('POST', '/v1/campaigns', { name: 'x', content, audience: { all: true }, schedule: { localTime: '2026-06-12T10:00' }, sendAtBestHour: true });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', message: expect.stringContaining('sendAtBestHour') });
    const draft = await w.call('POST', '/v1/campaigns', { name: 'x', content, audience: { all: true }, schedule: { localTime: '2026-06-12T10:00' } });
    expect(draft.status).toBe(201);
    expect((await w.call('PATCH', `/v1/campaigns/${draft.body.id}`, { sendAtBestHour: true })).status).toBe(400);
  });
});
