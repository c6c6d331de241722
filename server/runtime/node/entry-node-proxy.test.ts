import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config.ts';
import { memoryLogger } from '../../logger.ts';
import { startNodeServer } from './entry-node.ts';
import { freePort } from '../../testing/free-port.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pushcart-proxy-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the Node server behind a reverse proxy', { timeout: 120_000 }, () => {
  it('counts each client named by its trusted proxy, not the proxy’s socket address', async () => {
    const port = await freePort();
    const config = parseConfig({
      PUSHCART_DATA_DIR: dataDir,
      PORT: String(port),
      PUSHCART_TRUSTED_PROXIES: '127.0.0.1, ::1',
      PUSHCART_RATE_LIMIT_PER_IP: '2/0.01',
    });
    const server = await startNodeServer(config, memoryLogger(), () => {});
    try {
      // The per-address limit is checked before the key, so an unknown key shows it just as well.
      const siteConfig = (client: string) =>
        fetch(`http://127.0.0.1:${port}/v1/sites/pk_unknown/config`, { headers: { 'X-Forwarded-For': `${client}, 127.0.0.1` } });
      expect((await siteConfig('203.0.113.1')).status).toBe(401);
      expect((await siteConfig('203.0.113.1')).status).toBe(401);
      const limited = await siteConfig('203.0.113.1');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
      expect((await siteConfig('203.0.113.2')).status).toBe(401);
      expect((await siteConfig('2001:db8::2')).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
