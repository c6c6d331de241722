import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../app.ts';
import { resolveClientAddress } from '../../client-address.ts';
import type { Config } from '../../config.ts';
import type { Socket } from 'node:net';
import { countSites, findDemoSite, listSites, markDemoSite } from '../../db/sites.ts';
import { listUsersWithMemberships } from '../../db/users.ts';
import { createFirstOwnerLink, signInUrl, type DashboardUserLink } from '../../dashboard/links.ts';
import { errorBody, ERROR_STATUS } from '../../errors.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import type { Logger } from '../../logger.ts';
import { seedDemoData } from '../../demo/demo-data.ts';
import { createSite } from '../../sites/create-site.ts';
import { checkStoredKeys } from '../../sites/stored-keys.ts';
import { SITE_CACHE_MS } from '../../sites/site-lookup-cache.ts';
import { installInstructions } from '../../sites/install-snippet.ts';
import { startBackgroundWork, type RunningBackgroundWork } from './background-work.ts';
import { buildClientBundles } from './client-bundles.ts';
import { announceWork } from './work-notifications.ts';
import { openDatabase } from './database.ts';
import { createNodeMetrics } from './node-metrics.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `npm start`: opens the database, migrates, serves the API, and on an empty database creates a
 * demo site and its owner's dashboard account, and prints how to install the site and a one-time
 * link to set the owner's password — so the first run needs nothing else.
 */
export interface StartOptions {
  /** `--demo-data`: seed the demo site with a month of sample data (server/demo/demo-data.ts). */
  demoData?: boolean;
}

export async function startNodeServer(config: Config, logger: Logger, print: (line: string) => void, options: StartOptions = {}): Promise<RunningServer> {
  const database = await openDatabase(config, logger, { server: true });
  let background: RunningBackgroundWork | undefined;
  try {
    await migrateToLatest(database.db);
    // Refuses a missing or wrong master key before anything is served or claimed.
    await checkStoredKeys(database.db, { masterKey: config.masterKey, nowMs: Date.now(), logger });
    // Background work in-process (delivery, cart reminders, purges), so `npm start` alone sends;
    // more can run as `pushcart worker`.
    // One registry for the process: the API's counters and its in-process worker's, served at /metrics.
    const metrics = createNodeMetrics({ pool: database.poolStats });
    const work = startBackgroundWork({ db: database.db, config, logger, metrics, listenOn: database.connectionString });
    background = work;
    const app = createApp({
      config,
      db: database.db,
      logger,
      metrics,
      clientIp: (c) => resolveClientAddress(getConnInfo(c).remote.address, c.req.raw.headers, config.trustedProxies),
      siteCacheMs: SITE_CACHE_MS,
      // This process's worker at once; `pushcart worker` processes through Postgres.
      onNotificationQueued: () => {
        work.wake();
        void announceWork(database.db, logger);
      },
      pushTransport: work.pushTransport,
      clientScripts: await buildClientBundles(),
      demo: true,
    });
    const server = serve({ fetch: app.fetch, port: config.port });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, logger));
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const { port } = server.address() as AddressInfo;
    logger.log('info', 'listening', { port, database: database.describe });

    print(`Pushcart is running on http://localhost:${port} (${database.describe}).`);
    await printInstallInstructions(config, database.db, print);
    if (options.demoData) await seedDemoSite(database.db, print);
    return {
      url: `http://localhost:${port}`,
      close: async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await work.stop();
        await database.close();
      },
    };
  } catch (error) {
    await background?.stop();
    await database.close();
    throw error;
  }
}

/**
 * `--demo-data`: a month of sample data into the site marked as the demo, never a real shop; one
 * line either way. The clock is the real one here, at the edge; the data is seeded, so every run
 * writes the same month relative to now.
 */
async function seedDemoSite(db: Parameters<typeof countSites>[0], print: (line: string) => void) {
  const demo = (await listSites(db)).find((site) => site.demo);
  if (!demo) {
    print('--demo-data: there is no demo site (only `npm start` on an empty database or `pushcart site create --demo` makes one), and sample data never goes into a real shop: nothing was written.');
    return;
  }
  const started = Date.now();
  const result = await seedDemoData(db, demo.id, new Date());
  if (result.outcome === 'seeded') {
    print(`--demo-data: seeded ${demo.name} with a month of sample data (${result.subscriptions} subscriptions, ${result.deliveries} deliveries, ${result.orders} orders) in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } else if (result.outcome === 'already_seeded') {
    print(`--demo-data: ${demo.name} already has its sample data; nothing was added.`);
  } else {
    print(`--demo-data: ${demo.name} is not marked as the demo site; nothing was written.`);
  }
}

async function printInstallInstructions(config: Config, db: Parameters<typeof countSites>[0], print: (line: string) => void) {
  let firstOwner: DashboardUserLink | undefined;
  if ((await countSites(db)) === 0) {
    const origin = new URL(config.publicUrl).origin;
    const demo = await createSite(db, { name: 'Demo shop', origins: [origin] }, config.masterKey);
    await markDemoSite(db, demo.id);
    print(`Created a demo site for ${origin} (id ${demo.id}).`);
    print(`Its secret key, shown only this once: ${demo.secretKey}`);
    firstOwner = await createFirstOwnerLink(db, { siteId: demo.id, email: config.ownerEmail, now: new Date(), publicUrl: config.publicUrl });
  }
  const demo = await findDemoSite(db, new URL(config.publicUrl).origin);
  const site = demo ?? (await listSites(db))[0];
  if (!site) return;
  print('');
  installInstructions(site.name, config.publicUrl, site.publishable_key).forEach(print);
  if (demo) print(`Try it in the demo shop: ${config.publicUrl}/demo`);
  print('');
  await printDashboardAccess(config, db, firstOwner, print);
  if (!config.adminToken) print('The admin API is off; set PUSHCART_ADMIN_TOKEN to turn it on.');
}

/**
 * The way into the dashboard: on the first start the owner's one-time link (the only time it is
 * printed; `pushcart user create` makes a new one), later the sign-in address, and a hint when
 * nobody can sign in yet (a database from before the dashboard, or a link that was never used).
 */
async function printDashboardAccess(config: Config, db: Parameters<typeof countSites>[0], firstOwner: DashboardUserLink | undefined, print: (line: string) => void) {
  if (firstOwner?.outcome === 'password_link') {
    print(`Dashboard: created the owner account ${config.ownerEmail} (PUSHCART_OWNER_EMAIL). Set its password at this one-time link (until ${firstOwner.expiresAt.toISOString()}):`);
    print(`  ${firstOwner.url}`);
    return;
  }
  print(`Dashboard: ${signInUrl(config.publicUrl)}`);
  const users = await listUsersWithMemberships(db);
  if (users.some((user) => user.hasPassword)) return;
  const waiting = users.find((user) => user.memberships.some((membership) => membership.role === 'owner'));
  const owned = waiting?.memberships.find((membership) => membership.role === 'owner');
  if (waiting && owned) {
    print(`  Nobody has set a password yet; a new one-time link for ${waiting.email}: npx pushcart user create --email ${waiting.email} --site ${owned.siteId} --role owner`);
  } else {
    const first = (await listSites(db))[0];
    print(`  No dashboard account yet; make the first owner with: npx pushcart user create --email you@shop.example --site ${first?.id ?? 'SITE_ID'} --role owner`);
  }
}

const CLIENT_ERRORS: Record<string, { code: 'headers_too_large' | 'request_timeout' | 'malformed_request'; reason: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { code: 'headers_too_large', reason: 'Request Header Fields Too Large', message: 'Request headers are larger than the server accepts (16 KiB)' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', reason: 'Request Timeout', message: 'The request did not arrive in time' },
  default: { code: 'malformed_request', reason: 'Bad Request', message: 'The request is not valid HTTP' },
};

/**
 * What Node's HTTP parser refuses before the app sees a request (headers over the 16 KiB limit, a
 * malformed request line) still gets the one error shape with a request id, so a client and the
 * operator's log can name the refusal; Node's own answer is a bare 431 or 400 with no body.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  // A response still being written on this connection (pipelining) must not get a second one
  // spliced into it; Node detaches a finished response from its socket (`_httpMessage`), so a
  // kept-alive connection whose last answer is complete still gets this one.
  const inFlight = (socket as Socket & { _httpMessage?: unknown })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight) {
    socket.destroy();
    return;
  }
  const refusal = CLIENT_ERRORS[error.code ?? ''] ?? CLIENT_ERRORS.default!;
  const requestId = crypto.randomUUID();
  const body = JSON.stringify(errorBody(refusal.code, refusal.message, requestId));
  const status = ERROR_STATUS[refusal.code];
  socket.end(
    `HTTP/1.1 ${status} ${refusal.reason}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
  logger.log('warn', 'request refused by the HTTP parser', { requestId, status, errorCode: error.code });
}
