import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/database.ts';
import type { CreatedSite } from '../../sites/create-site.ts';
import { SHOP_ORIGIN, testApp, testSite } from '../../testing/fixtures.ts';
import { startMockPushService, type MockPushService } from '../../testing/mock-push-service.ts';
import { createPostgresTestDatabase, reachablePostgresUrl, type TestDatabase } from '../../testing/test-database.ts';

const BIN = fileURLToPath(new URL('./pushcart.mjs', import.meta.url));
const serverUrl = await reachablePostgresUrl();
if (!serverUrl) console.warn('worker processes: skipped — several processes need a Postgres server (set DATABASE_URL)');

/** Real subscriptions at the mock, inserted in bulk (the subscription API is tested elsewhere). */
async function subscribeMany(db: Db, mock: MockPushService, site: CreatedSite, count: number) {
  const subs = await Promise.all(Array.from({ length: count }, () => mock.subscribe({ applicationServerKey: site.vapidPublicKey })));
  for (let i = 0; i < subs.length; i += 1_000) {
    await db
      .insertInto('subscriptions')
      .values(
        subs.slice(i, i + 1_000).map((s) => ({
          site_id: site.id,
          endpoint: s.endpoint,
          p256dh: s.keys.p256dh,
          auth: s.keys.auth,
          vapid_public_key: site.vapidPublicKey,
          visitor_id: `v-${s.id}`.slice(0, 64),
        })),
      )
      .execute();
  }
  return subs;
}

describe.skipIf(!serverUrl)('delivery worker processes on one Postgres', { timeout: 240_000 }, () => {
  let database: TestDatabase;
  let mock: MockPushService;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    [database, mock] = await Promise.all([createPostgresTestDatabase(serverUrl!), startMockPushService()]);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await mock?.close();
    await database?.destroy();
  });

  function startWorker(): ChildProcess {
    const { DATABASE_URL: _unused, ...env } = process.env;
    const child = spawn(process.execPath, [BIN, 'worker'], {
      env: {
        ...env,
        DATABASE_URL: database.connectionString,
        PUSHCART_PUSH_HOSTS: mock.host,
        // How a worker process trusts the local mock's certificate: Node's standard NODE_EXTRA_CA_CERTS, as an operator would.
        NODE_EXTRA_CA_CERTS: mock.caPath,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (chunk) => process.stderr.write(chunk));
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }

  async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  async function send(site: CreatedSite): Promise<string> {
    const { app } = testApp(database.db);
    const response = await app.request('/v1/notifications', {
      method: 'POST',
      headers: { Authorization: `Bearer ${site.secretKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'Back in stock', body: 'Your size is back', url: `${SHOP_ORIGIN}/p/9`, to: { all: true } }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  function receivedBy(subscriptionIds: string[], notificationId: string) {
    const wanted = new Set(subscriptionIds);
    const perSubscription = new Map<string, string[]>();
    for (const message of mock.received) {
      if (!wanted.has(message.subscriptionId)) continue;
      const payload = JSON.parse(message.payload) as { id: string; tag: string };
      if (payload.id !== notificationId) continue;
      perSubscription.set(message.subscriptionId, [...(perSubscription.get(message.subscriptionId) ?? []), payload.tag]);
    }
    return perSubscription;
  }

  async function statuses(notificationId: string) {
    const rows = await database.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
      .where('notification_id', '=', notificationId)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }

  it('two workers, 5,000 deliveries: each subscription receives exactly one push', async () => {
    const site = await testSite(database.db);
    const subs = await subscribeMany(database.db, mock, site, 5_000);
    const id = await send(site);
    const workers = [startWorker(), startWorker()];
    const before = mock.accepted;
    await mock.waitForReceived(before + 5_000, 180_000);
    await Promise.all(workers.map((worker) => stop(worker, 'SIGTERM')));

    const perSubscription = receivedBy(subs.map((s) => s.id), id);
    expect(perSubscription.size).toBe(5_000);
    expect([...perSubscription.values()].every((tags) => tags.length === 1)).toBe(true);
    expect(await statuses(id)).toEqual({ sent: 5_000 });
  });

  it('a worker killed mid fan-out: after a restart every subscription has it, duplicates share the tag', async () => {
    const site = await testSite(database.db);
    const subs = await subscribeMany(database.db, mock, site, 3_000);
    const id = await send(site);
    const before = mock.accepted;
    const doomed = startWorker();
    await mock.waitForReceived(before + 300, 120_000);
    await stop(doomed, 'SIGKILL');
    const midway = await statuses(id);
    expect(midway.sent ?? 0).toBeLessThan(3_000);

    // Its leases would lapse after leaseMs; move them to now rather than wait a minute.
    await database.db.updateTable('deliveries').set({ due_at: new Date() }).where('notification_id', '=', id).where('status', '=', 'sending').execute();
    const survivor = startWorker();
    const deadline = Date.now() + 180_000;
    while ((await statuses(id)).sent !== 3_000) {
      if (Date.now() > deadline) throw new Error(`not all sent: ${JSON.stringify(await statuses(id))}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await stop(survivor, 'SIGTERM');

    const perSubscription = receivedBy(subs.map((s) => s.id), id);
    expect(perSubscription.size).toBe(3_000);
    for (const tags of perSubscription.values()) expect(new Set(tags)).toEqual(new Set([id]));
  });
});
