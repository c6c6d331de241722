import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { AddressInfo } from 'node:net';
import type { AppDeps } from '../../app-env.ts';
import { resolveClientAddress } from '../../client-address.ts';
import { metricsOnlyApp } from '../../routes/metrics.ts';

/** Where `pushcart worker --metrics-port` listens unless `--metrics-host` says otherwise: this machine only. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface RunningMetricsServer {
  /** `http://host:port`, with the port actually bound (`--metrics-port=0` picks a free one). */
  url: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` of a worker process on its own port (routes/metrics.ts's `metricsOnlyApp`). */
export async function serveMetrics(deps: Omit<AppDeps, 'clientIp'>, options: { port: number; hostname?: string }): Promise<RunningMetricsServer> {
  const hostname = options.hostname ?? DEFAULT_METRICS_HOST;
  const app = metricsOnlyApp({
    ...deps,
    clientIp: (c) => resolveClientAddress(getConnInfo(c).remote.address, c.req.raw.headers, deps.config.trustedProxies),
  });
  const server = serve({ fetch: app.fetch, port: options.port, hostname });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
