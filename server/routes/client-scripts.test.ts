import { describe, expect, it } from 'vitest';
import { createApp } from '../app.ts';
import { parseConfig } from '../config.ts';
import type { Db } from '../db/database.ts';
import { memoryLogger } from '../logger.ts';
import type { ClientScripts } from '../client-bundle.ts';

const scripts: ClientScripts = {
  snippet: { body: 'console.log("snippet")', etag: '"abc123"', version: 'abc123' },
  serviceWorker: { body: 'console.log("sw")', etag: '"def456"', version: 'def456' },
};
// These routes never touch the database.
const app = createApp({ config: parseConfig({}), db: {} as Db, logger: memoryLogger(), clientScripts: scripts });

describe('client scripts', () => {
  it('serves the snippet with a short cache, and the versioned URL immutable', async () => {
    const plain = await app.request('/pushcart.js');
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe('console.log("snippet")');
    expect(plain.headers.get('Content-Type')).toMatch(/^text\/javascript/);
    expect(plain.headers.get('Cache-Control')).toBe('public, max-age=300');
    expect(plain.headers.get('ETag')).toBe('"abc123"');
    const versioned = await app.request('/pushcart.abc123.js');
    expect(versioned.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect((await app.request('/pushcart.000000.js')).status).toBe(404);
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const response = await app.request('/pushcart-sw.js', { headers: { 'If-None-Match': '"def456"' } });
    expect(response.status).toBe(304);
    expect((await app.request('/pushcart-sw.js', { headers: { 'If-None-Match': '"stale"' } })).status).toBe(200);
  });

  it('makes the service worker revalidate on every update check', async () => {
    expect((await app.request('/pushcart-sw.js')).headers.get('Cache-Control')).toBe('no-cache');
  });
});
