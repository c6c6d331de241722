import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingDue, runBackgroundRound } from '../../background/background-round.ts';
import { parseConfig } from '../../config.ts';
import { findSiteById, markDemoSite, type SiteRow } from '../../db/sites.ts';
import { createDeliverer } from '../../delivery/delivery-engine.ts';
import { seedDemoData } from '../../demo/demo-data.ts';
import { memoryLogger } from '../../logger.ts';
import { notificationStatus } from '../../notifications/notification-status.ts';
import type { PushOutcome } from '../../push/push-outcome.ts';
import { browserSubscription, SHOP_ORIGIN, testSite } from '../../testing/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.ts';
import { messageFromFlags, sendCommand, SendUsageError, statsReport, statsTable, type CliIo } from './cli-send.ts';

// A fixed instant; the fake sleep moves the clock.
const START_MS = Date.parse('2030-02-10T08:00:00Z');
const config = parseConfig({ PUSHCART_PUBLIC_URL: 'https://push.example' });

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.destroy());

async function siteWith(subscribers: number): Promise<SiteRow> {
  const created = await testSite(database.db);
  const { keys } = await browserSubscription();
  await sql`insert into subscriptions (site_id, endpoint, p256dh, auth, vapid_public_key, visitor_id, tags)
    select ${created.id}, 'https://fcm.googleapis.com/fcm/send/' || gen_random_uuid(), ${keys.p256dh}, ${keys.auth}, ${created.vapidPublicKey}, 'v' || g,
      case when g % 3 = 0 then '{"plan":"vip"}'::jsonb else '{}'::jsonb end
    from generate_series(1, ${subscribers}) g`.execute(database.db);
  return (await findSiteById(database.db, created.id))!;
}

/**
 * The command's world: a clock, stdout and stderr captured, and a sleep that stands for time
 * passing — during which, when `worker` is given, one background round runs with that push outcome.
 */
function world(options: { worker?: PushOutcome; isTTY?: boolean; stopAfterTicks?: number } = {}) {
  const clock = { nowMs: START_MS };
  const stdout: string[] = [];
  const stderr: string[] = [];
  const controller = new AbortController();
  let ticks = 0;
  const deliverer = options.worker
    ? createDeliverer({ db: database.db, config, logger: memoryLogger(), transport: { send: async () => options.worker! }, now: () => clock.nowMs, random: () => 0.5, settings: { batchSize: 7, maxAttempts: 1 } })
    : undefined;
  const io: CliIo = {
    db: database.db,
    config,
    now: () => clock.nowMs,
    print: (line) => void stdout.push(line),
    progress: { isTTY: options.isTTY ?? false, write: (text) => void stderr.push(text) },
    sleep: async (ms) => {
      clock.nowMs += ms;
      ticks++;
      if (options.stopAfterTicks !== undefined && ticks >= options.stopAfterTicks) controller.abort();
      // One round per tick, with a small push budget, so the send takes several ticks.
      if (deliverer) await runBackgroundRound(deliverer, { budget: { timeMs: Number.POSITIVE_INFINITY, pushes: 7 }, timetable: everythingDue(), lanes: 1, audienceChunk: 10 });
    },
    signal: controller.signal,
  };
  return { io, stdout, stderr, clock };
}

describe('pushcart send', () => {
  it('queues from flags, follows with progress until every delivery went, and records the command line in the audit log', async () => {
    const site = await siteWith(20);
    const { io, stdout, stderr } = world({ worker: { kind: 'sent', status: 201 } });
    const code = await sendCommand(io, site, messageFromFlags({ title: 'Spring sale', body: '20 % off', url: `${SHOP_ORIGIN}/sale`, all: true }), { follow: true, json: false });
    expect(code).toBe(0);
    expect(stdout[0]).toMatch(new RegExp(`^Queued [0-9a-f-]{36} for 20 subscriber\\(s\\) of ${site.name}\\.$`));
    expect(stdout.at(-1)).toBe('Done: 20 sent, 0 failed, 0 expired (subscription gone), 0 suppressed, 0 held out, 0 waiting.');
    // Without a terminal: a first line, then one at the end (not one a second).
    expect(stderr.length).toBeGreaterThanOrEqual(2);
    expect(stderr.at(-1)).toMatch(/^\[█{24}\]  100 %   20 \/ 20 sent  .*done in \d+s\n$/);
    const audit = await database.db.selectFrom('audit_log').select(['actor_kind', 'action']).where('site_id', '=', site.id).execute();
    expect(audit).toEqual([{ actor_kind: 'cli', action: 'notification_sent' }]);
  });

  it('redraws one line on a terminal, and prints the final status as JSON with --json', async () => {
    const site = await siteWith(12);
    const { io, stdout, stderr } = world({ worker: { kind: 'sent', status: 201 }, isTTY: true });
    const message = { title: 'VIP preview', url: `${SHOP_ORIGIN}/vip`, to: { tags: { plan: 'vip' } } };
    expect(await sendCommand(io, site, message, { follow: true, json: true })).toBe(0);
    expect(stdout).toHaveLength(1);
    const printed = JSON.parse(stdout[0]!) as { id: string; status: string; progress: { total: number } };
    expect(printed).toMatchObject({ status: 'completed', progress: { total: 4 } });
    expect(printed).toEqual(JSON.parse(JSON.stringify(await notificationStatus(database.db, site.id, printed.id, io.now()))));
    expect(stderr.every((chunk) => chunk.startsWith('\r\x1b[2K'))).toBe(true);
    expect(stderr.at(-1)!.endsWith('\n')).toBe(true);
  });

  it('exits 1 when deliveries failed, naming why', async () => {
    const site = await siteWith(3);
    const { io, stdout } = world({ worker: { kind: 'rejected', status: 403, reason: 'push service refused with 403', hostAlert: false } });
    expect(await sendCommand(io, site, messageFromFlags({ title: 'Hi', url: `${SHOP_ORIGIN}/`, all: true }), { follow: true, json: false })).toBe(1);
    expect(stdout.at(-2)).toBe('Done: 0 sent, 3 failed, 0 expired (subscription gone), 0 suppressed, 0 held out, 0 waiting.');
    expect(stdout.at(-1)).toMatch(/^ {2}failed push_rejected: 3 \(e\.g\. push_rejected: /);
  });

  it('with no worker running says so after a while; Ctrl-C stops following and leaves the send going', async () => {
    const site = await siteWith(2);
    const { io, stdout, stderr } = world({ stopAfterTicks: 20 });
    expect(await sendCommand(io, site, messageFromFlags({ title: 'Hi', url: `${SHOP_ORIGIN}/`, all: true }), { follow: true, json: false })).toBe(130);
    expect(stderr.join('')).toContain('Nothing has gone out yet: is a worker running?');
    expect(stdout.at(-1)).toMatch(/^Still sending; pushcart send does not stop it\. Cancel with POST \/v1\/notifications\/[0-9a-f-]{36}\/cancel\.$/);
  });

  it('refuses a message the API would refuse, naming the field, and queues nothing', async () => {
    const site = await siteWith(1);
    const { io } = world();
    const count = async () => (await database.db.selectFrom('notifications').select('id').where('site_id', '=', site.id).execute()).length;
    await expect(sendCommand(io, site, messageFromFlags({ url: `${SHOP_ORIGIN}/`, all: true }), { follow: false, json: false })).rejects.toThrow(/^title: /);
    await expect(sendCommand(io, site, messageFromFlags({ title: 'Hi', url: 'https://elsewhere.example/', all: true }), { follow: false, json: false })).rejects.toThrow(SendUsageError);
    await expect(sendCommand(io, site, messageFromFlags({ title: 'Hi', url: `${SHOP_ORIGIN}/` }), { follow: false, json: false })).rejects.toThrow(/^to: /);
    expect(() => messageFromFlags({ tag: ['plan'] })).toThrow('--tag plan: write it as key=value');
    expect(() => messageFromFlags({ file: 'm.json', fileText: '{', title: 'x' })).toThrow('give the other flags or --file, not both');
    expect(() => messageFromFlags({ file: 'm.json', fileText: '{' })).toThrow(/^m\.json: not JSON/);
    expect(await count()).toBe(0);
  });
});

describe('pushcart stats', () => {
  it('prints the funnel per trigger and each holdout reading, from the overview’s figures', async () => {
    const created = await testSite(database.db);
    await markDemoSite(database.db, created.id);
    await seedDemoData(database.db, created.id, new Date(START_MS));
    const site = (await findSiteById(database.db, created.id))!;
    const report = await statsReport({ db: database.db, now: () => START_MS }, site, {});
    const lines = statsTable(site, report);
    expect(lines[0]).toMatch(new RegExp(`^${site.name}: \\d{4}-\\d{2}-\\d{2} to \\d{4}-\\d{2}-\\d{2} \\(UTC\\); [\\d,]+ active subscribers now\\.$`));
    expect(lines[2]).toMatch(/^trigger\s+audience\s+sent\s+shown\s+clicked\s+click rate\s+converted\s+revenue$/);
    const triggers = Object.keys(report.triggers);
    expect(triggers.length).toBeGreaterThan(0);
    for (const trigger of triggers) {
      const row = lines.find((line) => line.startsWith(`${trigger} `));
      expect(row, trigger).toContain(report.triggers[trigger]!.sent.toLocaleString('en-US'));
    }
    for (const [trigger, figures] of Object.entries(report.triggers)) {
      if (figures.holdout) expect(lines).toContain(`${trigger}: ${figures.holdout.reading}`);
    }
    await expect(statsReport({ db: database.db, now: () => START_MS }, site, { from: '2030-02-10', to: '2030-02-01' })).rejects.toThrow('--from must not be after --to');
    await expect(statsReport({ db: database.db, now: () => START_MS }, site, { from: '10/02/2030' })).rejects.toThrow('--from 10/02/2030: a date such as 2026-11-01');
  });
});
