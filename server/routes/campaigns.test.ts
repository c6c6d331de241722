import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { everythingDue, runBackgroundRound } from '../background/background-round.ts';
import { SPLIT_BUCKETS } from '../db/notifications.ts';
import type { CreatedSite } from '../sites/create-site.ts';
import { SHOP_ORIGIN, setEngagement } from '../testing/fixtures.ts';
import { usePushWorld } from '../testing/push-world.ts';
import { HOUR_MS } from '../time.ts';

// A fixed clock: every instant below is relative to it (a Saturday morning UTC).
const START_MS = Date.parse('2030-10-26T08:00:00Z');

const pushWorld = usePushWorld();

interface Campaign {
  id: string;
  status: string;
  startAt: string | null;
  progress: { resolving: boolean; resolved: number; total: number; sent: number; remaining: number };
  results: Array<{ variant: string; notificationId: string; audience: number; sent: number; clicked: number }>;
  abTest: { decideAt: string | null; decision: { winner: string | null; reason: string; summary: string } | null } | null;
  checks?: { audience: number; matchesEveryone: boolean; confirmationRequired: boolean; warnings: Array<{ code: string; subscribers: number }> };
}

/** A shop, its subscribers at the strict mock push service, the API and a deliverer on one controllable clock. */
async function world(options: { batchSize?: number } = {}) {
  const s = await pushWorld.shop({ startMs: START_MS, ...(options.batchSize ? { delivery: { batchSize: options.batchSize } } : {}) });

  const call = (method: string, path: string, body?: unknown) =>
    s.call(method, path, body) as Promise<{ status: number; body: Campaign & { error?: { code: string; message: string; details?: { audience?: number } } } }>;

  /** Background rounds until nothing more is due now (at most `rounds`). */
  const runRounds = (rounds = 5) => s.runRounds(rounds);

  /** The decrypted pushes this site's subscribers received, by endpoint. */
  const received = (endpoints: string[]) => pushWorld.mock.received.filter((push) => endpoints.includes(push.endpoint)).map((push) => ({ endpoint: push.endpoint, ...(JSON.parse(push.payload) as { title: string; body: string; id: string }) }));

  return { ...s, call, runRounds, received };
}

const content = { title: 'Weekend sale', body: 'Hi {{firstName|there}}, everything is 20 % off', url: `${SHOP_ORIGIN}/sale` };

/** The bucket of a subscriber in a campaign's split, computed here independently of the SQL: md5(id ‖ campaign id), first 16 bits. */
function bucketOf(subscriptionId: string, campaignId: string): number {
  const digest = createHash('md5').update(subscriptionId + campaignId).digest();
  return digest[0]! * 256 + digest[1]!;
}

describe('campaigns, end to end to the push service', () => {
  it('a draft sent now reaches every subscriber once, personalised, and the campaign reads sent with its figures', async () => {
    const w = await world();
    const anna = await w.subscriber({ tags: { firstName: 'Anna' } });
    const ben = await w.subscriber();
    const created = await w.call('POST', '/v1/campaigns', { name: 'Weekend sale', content, audience: { all: true } });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('draft');
    expect(created.body.checks).toMatchObject({ audience: 2, matchesEveryone: true, confirmationRequired: false });

    const sent = await w.call('POST', `/v1/campaigns/${created.body.id}/send`, {});
    expect(sent.status).toBe(200);
    expect(sent.body.status).toBe('sending');
    await w.runRounds();

    const pushes = w.received([anna.endpoint, ben.endpoint]);
    expect(pushes.map((p) => [p.endpoint, p.body]).sort()).toEqual(
      [
        [anna.endpoint, 'Hi Anna, everything is 20 % off'],
        [ben.endpoint, 'Hi there, everything is 20 % off'],
      ].sort(),
    );
    const after = await w.call('GET', `/v1/campaigns/${created.body.id}`);
    expect(after.body.status).toBe('sent');
    expect(after.body.results).toEqual([expect.objectContaining({ variant: 'all', audience: 2, sent: 2 })]);
    expect(after.body.progress).toMatchObject({ resolving: false, total: 2, sent: 2, remaining: 0 });
    // Over time, on the shop's wall clock: both went in the hour it was sent (08:00 UTC is 10:00 in Berlin, still on summer time).
    const timeline = (await w.call('GET', `/v1/campaigns/${created.body.id}/timeline?timeZone=Europe/Berlin`)).body as unknown as { unit: string; periods: string[]; series: Array<{ variant: string; sent: number[] }> };
    expect(timeline.unit).toBe('hour');
    expect(timeline.periods[0]).toBe('2030-10-26T10:00');
    expect(timeline.series).toEqual([expect.objectContaining({ variant: 'all', sent: [2] })]);
  });

  it('sending twice, even at the same moment, starts the campaign once', async () => {
    const w = await world();
    await w.subscriber();
    await w.subscriber();
    const { body } = await w.call('POST', '/v1/campaigns', { name: 'Once', content, audience: { all: true } });
    const answers = await Promise.all([w.call('POST', `/v1/campaigns/${body.id}/send`, {}), w.call('POST', `/v1/campaigns/${body.id}/send`, {}), w.call('POST', `/v1/campaigns/${body.id}/send`, {})]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const notifications = await pushWorld.db.selectFrom('notifications').select('id').where('campaign_id', '=', body.id).execute();
    expect(notifications).toHaveLength(1);
    // Scheduling a campaign that is already going changes nothing either.
    expect((await w.call('POST', `/v1/campaigns/${body.id}/schedule`, {})).body.status).toBe('sending');
    expect(await pushWorld.db.selectFrom('deliveries').select('id').where('notification_id', '=', notifications[0]!.id).execute()).toHaveLength(2);
    // Leave nothing queued for the next test's rounds.
    await w.runRounds();
  });

  it('an A/B test splits the audience by a fixed hash of subscriber and campaign, and each subscriber decrypts their own variant', async () => {
    const w = await world();
    const subscribers = [];
    for (let i = 0; i < 12; i++) subscribers.push(await w.subscriber());
    const { body } = await w.call('POST', '/v1/campaigns', {
      name: 'Subject lines',
      content,
      audience: { all: true },
      abTest: { variants: [{ name: 'Plain' }, { name: 'Urgent', title: 'Last day: 20 % off' }], testPercent: 100 },
    });
    await w.call('POST', `/v1/campaigns/${body.id}/send`, {});
    await w.runRounds();
    const pushes = w.received(subscribers.map((s) => s.endpoint));
    expect(pushes).toHaveLength(12);
    for (const s of subscribers) {
      // Variant A takes buckets [0, 32768), B [32768, 65536) when everyone is in the test.
      const expected = bucketOf(s.subscriptionId, body.id) < SPLIT_BUCKETS / 2 ? 'Weekend sale' : 'Last day: 20 % off';
      expect(pushes.find((p) => p.endpoint === s.endpoint)?.title).toBe(expected);
    }
    const view = (await w.call('GET', `/v1/campaigns/${body.id}`)).body;
    expect(view.results.map((r) => r.variant)).toEqual(['A', 'B']);
    expect(view.results.reduce((sum, r) => sum + r.sent, 0)).toBe(12);
    // Everyone was in the test: no decision is due and the campaign is done.
    expect(view.abTest?.decideAt).toBeNull();
    expect(view.status).toBe('sent');
  });

  it('cancelling mid-send stops what has not gone: nothing more reaches the push service', async () => {
    const w = await world({ batchSize: 3 });
    const subscribers = [];
    for (let i = 0; i < 9; i++) subscribers.push(await w.subscriber());
    const { body } = await w.call('POST', '/v1/campaigns', { name: 'Stop me', content, audience: { all: true } });
    await w.call('POST', `/v1/campaigns/${body.id}/send`, {});
    // One small round: a few pushes go, the rest wait.
    await runBackgroundRound(w.deliverer, { budget: { timeMs: Number.POSITIVE_INFINITY, pushes: 3 }, timetable: everythingDue(), audienceChunk: 3, lanes: 1 });
    const before = w.received(subscribers.map((s) => s.endpoint)).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(9);

    const cancelled = await w.call('POST', `/v1/campaigns/${body.id}/cancel`, {});
    expect(cancelled.body.status).toBe('cancelled');
    w.clock.nowMs += HOUR_MS;
    await w.runRounds();
    expect(w.received(subscribers.map((s) => s.endpoint))).toHaveLength(before);
    const [notification] = await pushWorld.db.selectFrom('notifications').select('id').where('campaign_id', '=', body.id).execute();
    const rows = await pushWorld.db.selectFrom('deliveries').select(['status', 'last_error']).where('notification_id', '=', notification!.id).execute();
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(before);
    expect(rows.filter((r) => r.status !== 'sent').every((r) => r.status === 'suppressed' && r.last_error?.startsWith('cancelled:'))).toBe(true);
    // A cancelled campaign is not sent again, and cancelling again changes nothing.
    expect((await w.call('POST', `/v1/campaigns/${body.id}/send`, {})).body.error?.code).toBe('invalid_state');
    expect((await w.call('POST', `/v1/campaigns/${body.id}/cancel`, {})).status).toBe(200);
  });
});

describe('at a wall-clock time in each subscriber’s own zone', () => {
  it('each zone’s deliveries fall due at 10:00 local, across a DST change and in half- and quarter-hour zones; Auckland first, Honolulu last', async () => {
    const w = await world();
    // Saturday 2030-10-26 10:00 local. Europe leaves summer time on Sunday 27 October 2030 at 01:00 UTC,
    // so Berlin is still on +2 on Saturday; New York still on −4 (it changes on 3 November); Auckland
    // is already on summer time (+13, since 29 September).
    const zones: Record<string, string> = {
      'Pacific/Auckland': '2030-10-25T21:00:00.000Z',
      'Asia/Kathmandu': '2030-10-26T04:15:00.000Z',
      'Asia/Kolkata': '2030-10-26T04:30:00.000Z',
      'Europe/Berlin': '2030-10-26T08:00:00.000Z',
      'America/New_York': '2030-10-26T14:00:00.000Z',
      'Pacific/Honolulu': '2030-10-26T20:00:00.000Z',
    };
    w.clock.nowMs = Date.parse('2030-10-25T12:00:00Z');
    const byZone = new Map<string, string>();
    for (const zone of Object.keys(zones)) byZone.set((await w.subscriber({ timeZone: zone })).subscriptionId, zone);
    const noZone = (await w.subscriber()).subscriptionId;

    const { body } = await w.call('POST', '/v1/campaigns', {
      name: 'Saturday 10:00',
      content,
      audience: { all: true },
      schedule: { localTime: '2030-10-26T10:00', fallbackTimeZone: 'America/Sao_Paulo' },
    });
    const scheduled = await w.call('POST', `/v1/campaigns/${body.id}/schedule`, {});
    expect(scheduled.body.status).toBe('scheduled');
    // It starts when the first zone in use anywhere (+14) reaches 10:00.
    expect(scheduled.body.startAt).toBe('2030-10-25T20:00:00.000Z');

    await w.runRounds();
    expect((await w.call('GET', `/v1/campaigns/${body.id}`)).body.status).toBe('scheduled');

    w.clock.nowMs = Date.parse('2030-10-25T20:00:30Z');
    await w.runRounds();
    const [notification] = await pushWorld.db.selectFrom('notifications').select('id').where('campaign_id', '=', body.id).execute();
    const rows = await pushWorld.db.selectFrom('deliveries').select(['subscription_id', 'due_at', 'status']).where('notification_id', '=', notification!.id).execute();
    expect(rows).toHaveLength(7);
    for (const row of rows) {
      const zone = byZone.get(row.subscription_id!);
      // São Paulo (−3, no DST since 2019) for the subscriber whose browser sent no zone.
      expect(new Date(row.due_at).toISOString()).toBe(zone ? zones[zone] : '2030-10-26T13:00:00.000Z');
      expect(row.status).toBe('queued');
    }

    // Auckland's 10:00 comes first: only its subscriber has it.
    w.clock.nowMs = Date.parse('2030-10-25T21:00:00Z');
    await w.runRounds();
    const sentNow = async () => (await pushWorld.db.selectFrom('deliveries').select('subscription_id').where('notification_id', '=', notification!.id).where('status', '=', 'sent').execute()).map((r) => byZone.get(r.subscription_id!) ?? 'none');
    expect(await sentNow()).toEqual(['Pacific/Auckland']);
    w.clock.nowMs = Date.parse('2030-10-26T19:59:00Z');
    await w.runRounds();
    expect((await sentNow()).sort()).toEqual(['America/New_York', 'Asia/Kathmandu', 'Asia/Kolkata', 'Europe/Berlin', 'Pacific/Auckland', 'none']);
    w.clock.nowMs = Date.parse('2030-10-26T20:00:00Z');
    await w.runRounds();
    expect(await sentNow()).toHaveLength(7);
    expect((await w.call('GET', `/v1/campaigns/${body.id}`)).body.status).toBe('sent');
  });

  it('a wave whose time comes after the campaign’s end sends nothing to those zones, and says so before it is scheduled', async () => {
    const w = await world();
    w.clock.nowMs = Date.parse('2030-10-25T12:00:00Z');
    const honolulu = await w.subscriber({ timeZone: 'Pacific/Honolulu' });
    const berlin = await w.subscriber({ timeZone: 'Europe/Berlin' });
    const { body } = await w.call('POST', '/v1/campaigns', {
      name: 'Ends at noon UTC',
      content,
      audience: { all: true },
      schedule: { localTime: '2030-10-26T10:00' },
      endsAt: '2030-10-26T12:00:00Z',
    });
    expect(body.checks?.warnings).toEqual([expect.objectContaining({ code: 'after_end', subscribers: 1 })]);
    await w.call('POST', `/v1/campaigns/${body.id}/schedule`, {});
    for (const at of ['2030-10-25T20:00:00Z', '2030-10-26T08:00:00Z', '2030-10-26T20:00:00Z']) {
      w.clock.nowMs = Date.parse(at);
      await w.runRounds();
    }
    const pushes = w.received([honolulu.endpoint, berlin.endpoint]);
    expect(pushes.map((p) => p.endpoint)).toEqual([berlin.endpoint]);
    const rows = await pushWorld.db.selectFrom('deliveries').select(['status', 'last_error']).where('subscription_id', '=', honolulu.subscriptionId).execute();
    expect(rows).toEqual([expect.objectContaining({ status: 'suppressed', last_error: expect.stringMatching(/^campaign_ended:/) })]);
  });

  it('warns when quiet hours would hold a push past its TTL, before it is scheduled', async () => {
    const w = await world();
    await setEngagement(pushWorld.db, w.site.id, { quietHours: true });
    w.clock.nowMs = Date.parse('2030-10-25T12:00:00Z');
    await w.subscriber({ timeZone: 'Europe/Berlin' });
    await w.subscriber({ timeZone: 'Asia/Tokyo' });
    // 22:00 local is inside the default quiet hours (21:00–09:00): held 11 h, longer than a 2 h TTL.
    const { body } = await w.call('POST', '/v1/campaigns', { name: 'Late', content, ttl: 7200, audience: { all: true }, schedule: { localTime: '2030-10-26T22:00' } });
    expect(body.checks?.warnings).toEqual([expect.objectContaining({ code: 'ttl_lapses', subscribers: 2 })]);
    const longer = await w.call('PATCH', `/v1/campaigns/${body.id}`, { ttl: 86_400 });
    expect(longer.body.checks?.warnings).toEqual([expect.objectContaining({ code: 'quiet_hours', subscribers: 2 })]);
  });
});

describe('A/B decisions', () => {
  /** A campaign in test with 60 % split over A and B; `clicks` per variant are recorded as if reported by service workers. */
  async function testedCampaign(options: { fallback?: string; clicks: { A: number; B: number }; subscribers?: number }) {
    const w = await world();
    const subscribers = [];
    for (let i = 0; i < (options.subscribers ?? 200); i++) subscribers.push((await subscriberRow(w.site)).id);
    const { body } = await w.call('POST', '/v1/campaigns', {
      name: 'Decide',
      content,
      audience: { all: true },
      abTest: { variants: [{}, { title: 'Variant B title' }], testPercent: 60, decideAfterHours: 2, fallback: options.fallback ?? 'leader' },
    });
    await w.call('POST', `/v1/campaigns/${body.id}/send`, {});
    // The test's pushes went out and some were clicked (written as the delivery engine and the
    // interactions route would, without 200 real pushes).
    const notifications = await pushWorld.db.selectFrom('notifications').select(['id', 'variant']).where('campaign_id', '=', body.id).execute();
    for (const n of notifications) {
      await pushWorld.db.updateTable('deliveries').set({ status: 'sent', sent_at: new Date(w.clock.nowMs) }).where('notification_id', '=', n.id).execute();
      const clicked = await pushWorld.db.selectFrom('deliveries').select('id').where('notification_id', '=', n.id).limit(options.clicks[n.variant as 'A' | 'B']).execute();
      for (const d of clicked) await pushWorld.db.insertInto('interactions').values({ delivery_id: d.id, notification_id: n.id, type: 'clicked', action: null, created_at: new Date(w.clock.nowMs) }).execute();
    }
    return { w, id: body.id, subscribers };
  }

  async function subscriberRow(site: CreatedSite) {
    return pushWorld.db
      .insertInto('subscriptions')
      .values({ site_id: site.id, endpoint: `https://fcm.googleapis.com/fcm/send/${crypto.randomUUID()}`, p256dh: 'p', auth: 'a', vapid_public_key: site.vapidPublicKey, visitor_id: `v-${crypto.randomUUID()}`, created_at: new Date(START_MS), updated_at: new Date(START_MS), last_seen_at: new Date(START_MS) })
      .returning('id')
      .executeTakeFirstOrThrow();
  }

  const winnerOf = async (campaignId: string) =>
    pushWorld.db.selectFrom('notifications').select(['id', 'content']).where('campaign_id', '=', campaignId).where('variant', '=', 'winner').executeTakeFirst();

  it('at the decision time a significant winner goes to exactly the subscribers outside the test', async () => {
    const { w, id, subscribers } = await testedCampaign({ clicks: { A: 3, B: 30 } });
    // Before the decision time nothing more goes.
    w.clock.nowMs += 2 * HOUR_MS - 1000;
    await w.runRounds(1);
    expect(await winnerOf(id)).toBeUndefined();
    w.clock.nowMs += 1000;
    await w.runRounds(1);
    const winner = await winnerOf(id);
    expect(winner?.content.title).toBe('Variant B title');
    const view = (await w.call('GET', `/v1/campaigns/${id}`)).body;
    expect(view.abTest?.decision).toMatchObject({ winner: 'B', reason: 'significant' });
    // The rest: every subscriber whose bucket is at or past 60 % of 65,536, computed here.
    const testBuckets = Math.round(0.6 * SPLIT_BUCKETS);
    const rest = subscribers.filter((s) => bucketOf(s, id) >= testBuckets).sort();
    const got = (await pushWorld.db.selectFrom('deliveries').select('subscription_id').where('notification_id', '=', winner!.id).execute()).map((r) => r.subscription_id).sort();
    expect(got).toEqual(rest);
    const tested = (await pushWorld.db.selectFrom('deliveries').innerJoin('notifications', 'notifications.id', 'deliveries.notification_id').select('subscription_id').where('campaign_id', '=', id).where('variant', 'in', ['A', 'B']).execute()).map((r) => r.subscription_id);
    expect(new Set([...tested, ...got]).size).toBe(subscribers.length);
    expect(tested.length + got.length).toBe(subscribers.length);
    // Deciding again (another round) sends nothing more.
    w.clock.nowMs += HOUR_MS;
    await w.runRounds(1);
    expect(await pushWorld.db.selectFrom('notifications').select('id').where('campaign_id', '=', id).execute()).toHaveLength(3);
  });

  it('not significant: the fallback "variant A" sends A to the rest', async () => {
    const { w, id } = await testedCampaign({ clicks: { A: 6, B: 8 }, fallback: 'variant_a' });
    w.clock.nowMs += 2 * HOUR_MS;
    await w.runRounds(1);
    expect((await winnerOf(id))?.content.title).toBe('Weekend sale');
    const decision = (await w.call('GET', `/v1/campaigns/${id}`)).body.abTest?.decision;
    expect(decision).toMatchObject({ winner: 'A', reason: 'fallback_variant_a' });
    // Not significant, in words: whichever reason the random split leads to (the difference could be
    // chance, the two are level, too few clicks to tell), the summary ends the same way.
    expect(decision).toMatchObject({ significant: false });
    expect(decision?.summary).toMatch(/not enough to call a winner at 95 %\.$/);
  });

  it('not significant with the fallback "wait for me": nothing goes until the owner picks, then the pick goes', async () => {
    const { w, id } = await testedCampaign({ clicks: { A: 6, B: 8 }, fallback: 'manual' });
    w.clock.nowMs += 2 * HOUR_MS;
    await w.runRounds(1);
    expect(await winnerOf(id)).toBeUndefined();
    const waiting = (await w.call('GET', `/v1/campaigns/${id}`)).body;
    expect(waiting.abTest?.decision).toMatchObject({ winner: null, reason: 'waiting_for_pick' });
    expect(waiting.status).toBe('sending');
    const picked = await w.call('POST', `/v1/campaigns/${id}/winner`, { variant: 'B' });
    expect(picked.status).toBe(200);
    expect(picked.body.abTest?.decision).toMatchObject({ winner: 'B', reason: 'picked' });
    expect((await winnerOf(id))?.content.title).toBe('Variant B title');
    expect((await w.call('POST', `/v1/campaigns/${id}/winner`, { variant: 'A' })).body.error?.code).toBe('invalid_state');
  });
});

describe('safe by design', () => {
  it('above the site’s threshold, send and schedule need the count; the 409 names it', async () => {
    const w = await world();
    for (let i = 0; i < 3; i++) await w.subscriber();
    const settings = await w.call('PATCH', '/v1/settings', { campaigns: { confirmAbove: 2 } });
    expect(settings.status).toBe(200);
    const { body } = await w.call('POST', '/v1/campaigns', { name: 'Big', content, audience: { all: true } });
    expect(body.checks).toMatchObject({ audience: 3, confirmationRequired: true, matchesEveryone: true });
    const refused = await w.call('POST', `/v1/campaigns/${body.id}/send`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'confirmation_required', details: { audience: 3 } });
    expect(refused.body.error?.message).toContain('3 subscribers');
    expect(await pushWorld.db.selectFrom('notifications').select('id').where('campaign_id', '=', body.id).execute()).toHaveLength(0);
    // A count from long ago (the audience has since grown past it by more than 10 %) is not enough either.
    expect((await w.call('POST', `/v1/campaigns/${body.id}/send`, { confirmAudience: 1 })).status).toBe(409);
    expect((await w.call('POST', `/v1/campaigns/${body.id}/send`, { confirmAudience: 3 })).body.status).toBe('sending');
  });

  it('refuses what cannot work: a time already past, a change to a campaign that went, deleting one that is not a draft', async () => {
    const w = await world();
    await w.subscriber();
    const past = await w.call('POST', '/v1/campaigns', { name: 'Past', content, audience: { all: true }, schedule: { at: '2030-10-26T07:00:00Z' } });
    const scheduled = await w.call('POST', `/v1/campaigns/${past.body.id}/schedule`, {});
    expect(scheduled.status).toBe(400);
    expect(scheduled.body.error?.message).toMatch(/passed/);
    await w.call('POST', `/v1/campaigns/${past.body.id}/send`, {});
    expect((await w.call('PATCH', `/v1/campaigns/${past.body.id}`, { name: 'Renamed' })).body.error?.code).toBe('invalid_state');
    expect((await w.call('DELETE', `/v1/campaigns/${past.body.id}`)).body.error?.code).toBe('invalid_state');
    const draft = await w.call('POST', '/v1/campaigns', { name: 'Draft', content, audience: { all: true } });
    expect((await w.call('DELETE', `/v1/campaigns/${draft.body.id}`)).status).toBe(204);
    expect((await w.call('GET', `/v1/campaigns/${draft.body.id}`)).status).toBe(404);
    // Unknown fields and unknown placeholders are refused by name.
    const unknown = await w.call('POST', '/v1/campaigns', { name: 'X', content, audience: { all: true }, sendAt: 'now' });
    expect(unknown.status).toBe(400);
    const placeholder = await w.call('POST', '/v1/campaigns', { name: 'X', content: { ...content, title: 'Hi {{first_name}}' }, audience: { all: true } });
    expect(placeholder.status).toBe(400);
    expect(JSON.stringify(placeholder.body)).toContain('{{first_name}}');
  });

  it('a saved segment a campaign waits on is kept: its rules are read when the campaign starts', async () => {
    const w = await world();
    await w.subscriber({ tags: { plan: 'vip' } });
    await w.subscriber();
    const segment = await w.call('POST', '/v1/segments', { name: 'VIPs', definition: { match: 'all', rules: [{ type: 'tag', key: 'plan', op: 'equals', value: 'vip' }] } });
    expect(segment.status).toBe(201);
    const segmentId = (segment.body as unknown as { id: string }).id;
    const { body } = await w.call('POST', '/v1/campaigns', { name: 'VIP sale', content, audience: { segmentId } });
    expect(body.checks).toMatchObject({ audience: 1, matchesEveryone: false });
    const refused = await w.call('DELETE', `/v1/segments/${segmentId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.message).toContain('VIP sale');
    await w.call('POST', `/v1/campaigns/${body.id}/cancel`, {});
    expect((await w.call('DELETE', `/v1/segments/${segmentId}`)).status).toBe(204);
  });

  it('a scheduled campaign starts once at its time, and is listed with its status', async () => {
    const w = await world();
    await w.subscriber();
    const { body } = await w.call('POST', '/v1/campaigns', { name: 'At nine', content, audience: { all: true }, schedule: { at: '2030-10-26T09:00:00Z' } });
    expect((await w.call('POST', `/v1/campaigns/${body.id}/schedule`, {})).body.status).toBe('scheduled');
    await w.runRounds();
    expect(await pushWorld.db.selectFrom('notifications').select('id').where('campaign_id', '=', body.id).execute()).toHaveLength(0);
    w.clock.nowMs = Date.parse('2030-10-26T09:00:00Z');
    await w.runRounds();
    await w.runRounds();
    expect(await pushWorld.db.selectFrom('notifications').select('id').where('campaign_id', '=', body.id).execute()).toHaveLength(1);
    const list = await w.call('GET', '/v1/campaigns?limit=1');
    expect((list.body as unknown as { campaigns: Campaign[] }).campaigns[0]).toMatchObject({ id: body.id, status: 'sent' });
  });

  it('a test push goes at once to the chosen subscriptions only, in none of the campaign’s figures', async () => {
    const w = await world();
    const owner = await w.subscriber({ tags: { firstName: 'Olga' } });
    const shopper = await w.subscriber();
    const { body } = await w.call('POST', '/v1/campaigns', { name: 'Try me', content, audience: { all: true }, abTest: { variants: [{}, { body: 'Variant B for {{firstName|you}}' }] } });
    const test = await w.call('POST', `/v1/campaigns/${body.id}/test`, { subscriptionIds: [owner.subscriptionId], variant: 'B' });
    expect(test.status).toBe(202);
    await w.runRounds();
    expect(w.received([owner.endpoint, shopper.endpoint]).map((p) => [p.endpoint, p.body])).toEqual([[owner.endpoint, 'Variant B for Olga']]);
    expect((await w.call('GET', `/v1/campaigns/${body.id}`)).body).toMatchObject({ status: 'draft', results: [] });
  });
});
