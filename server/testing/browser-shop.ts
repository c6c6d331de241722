import { serve } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type App } from '../app.ts';
import { parseConfig } from '../config.ts';
import type { Db } from '../db/database.ts';
import { BackgroundWorker } from '../background/background-worker.ts';
import { memoryLogger } from '../logger.ts';
import type { ClientScripts } from '../client-bundle.ts';
import { buildClientBundles } from '../runtime/node/client-bundles.ts';
import { nodePushTransport } from '../runtime/node/push-transport.ts';
import { createSite, type CreatedSite } from '../sites/create-site.ts';
import { installSnippet } from '../sites/install-snippet.ts';
import { markDemoSite } from '../db/sites.ts';
import { setEngagement } from './fixtures.ts';
import type { MockPushService } from './mock-push-service.ts';

/**
 * The dev server as a shopper's browser meets it, on a real port: the API, the built snippet and
 * service worker, the demo shop at /demo (whose own origin is the site's origin, so the service
 * worker file is same-origin) and an in-process delivery worker sending to the strict mock.
 */
export interface BrowserShop {
  /** `http://localhost:PORT`: the public URL, the shop's origin and the site's only allowed origin. */
  origin: string;
  site: CreatedSite;
  app: App;
  logger: ReturnType<typeof memoryLogger>;
  /** Calls the API with a secret key, by default the site's. */
  api(method: string, path: string, body?: unknown, secretKey?: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startBrowserShop(
  db: Db,
  mock: MockPushService,
  settings: Record<string, unknown>,
  /** The snippet and service worker to serve; by default built from the sources, as `npm start` does. */
  clientScripts?: ClientScripts,
): Promise<BrowserShop> {
  const logger = memoryLogger();
  let app: App | undefined;
  // Listen first: the public URL (and so the site's origin) needs the port.
  const server = serve({
    fetch: (request, env) => (app ? app.fetch(request, env) : new Response('starting', { status: 503 })),
    port: 0,
    hostname: '127.0.0.1',
  }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;

  const config = parseConfig({ PUSHCART_PUBLIC_URL: origin, PUSHCART_PUSH_HOSTS: mock.host });
  const push = nodePushTransport({ ca: mock.ca, timeoutMs: 5_000 });
  const worker = new BackgroundWorker({ db, config, logger, transport: push.transport, settings: { idlePollMs: 200 } });
  const stopWorker = new AbortController();
  const working = worker.run(stopWorker.signal);
  const site = await createSite(db, { name: 'Browser test shop', origins: [origin] }, undefined);
  await markDemoSite(db, site.id);
  await db.updateTable('sites').set({ settings: JSON.stringify(settings) }).where('id', '=', site.id).execute();
  // Browser tests run at any hour and push one shopper many times: no quiet hours, no cap.
  await setEngagement(db, site.id, { quietHours: false, marketingPer24h: 100 });
  app = createApp({
    config,
    db,
    logger,
    clientIp: () => '127.0.0.1',
    // One browser makes every request from one address; the limits are not what is tested here.
    rateLimits: { perIp: { capacity: 100_000, refillPerSecond: 1_000 } },
    onNotificationQueued: () => worker.wake(),
    clientScripts: clientScripts ?? (await buildClientBundles()),
    demo: true,
  });
  const current = app;

  return {
    origin,
    site,
    app: current,
    logger,
    async api(method, path, body, secretKey = site.secretKey) {
      const response = await current.request(path, {
        method,
        headers: { Authorization: `Bearer ${secretKey}`, 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      stopWorker.abort();
      await working;
      await push.close();
    },
  };
}

/**
 * A shop on its own origin (`http://127.0.0.1:PORT`, another origin than the push host's
 * `http://localhost:PORT`), installed exactly as the README says: the tag in its page, and
 * `/pushcart-sw.js` as the one `importScripts` line. Every call the snippet and the service worker
 * make is then cross-origin, with CORS preflights, as on a real shop.
 */
export async function startOtherOriginShop(pushOrigin: string): Promise<{ origin: string; setPublishableKey(key: string): void; close(): Promise<void> }> {
  let publishableKey = '';
  const server = createServer((request, response) => {
    if (request.url === '/pushcart-sw.js') {
      const { serviceWorkerFile } = installSnippet(pushOrigin, publishableKey);
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(`${serviceWorkerFile}\n`);
      return;
    }
    if (request.url === '/') {
      const { scriptTag } = installSnippet(pushOrigin, publishableKey);
      response
        .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another shop</title><link rel="icon" href="data:,">\n${scriptTag}\n</head><body><h1>Another shop</h1></body></html>`);
      return;
    }
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setPublishableKey(key) {
      publishableKey = key;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
