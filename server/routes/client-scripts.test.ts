import { describe, expect, it } from 'vitest';
import type { ClientScripts } from '../client-bundle.ts';
import type { ErrorBody } from '../errors.ts';
import { testApp } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';

const scripts: ClientScripts = {
  snippet: { body: 'console.log("snippet")', etag: '"abc123"', version: 'abc123' },
  serviceWorker: { body: 'console.log("sw")', etag: '"def456"', version: 'def456' },
  promptPreview: { body: 'console.log("preview")', etag: '"fed987"', version: 'fed987' },
};
const world = routeTestWorld({ clientScripts: scripts });

describe('client scripts', () => {
  it('serves the snippet with a short cache, and the versioned URL immutable', async () => {
    const plain = await world.app.request('/pushcart.js');
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe('console.log("snippet")');
    expect(plain.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('Cache-Control')).toBe('public, max-age=300');
    expect(plain.headers.get('ETag')).toBe('"abc123"');
    // Loaded by shops that set Cross-Origin-Embedder-Policy.
    expect(plain.headers.get('Cross-Origin-Resource-Policy')).toBe('cross-origin');
    const versioned = await world.app.request('/pushcart.abc123.js');
    expect(versioned.status).toBe(200);
    expect(await versioned.text()).toBe('console.log("snippet")');
    expect(versioned.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
  });

  it('answers an unknown snippet version 404 in the error shape, pointing to the plain URL', async () => {
    const response = await world.app.request('/pushcart.000000.js', { headers: { 'X-Request-Id': 'req-old-version' } });
    expect(response.status).toBe(404);
    expect((await response.json()) as ErrorBody).toEqual({
      error: { code: 'not_found', message: 'No snippet version 000000; use /pushcart.js', requestId: 'req-old-version' },
    });
  });

  it('answers 304 with no body to a matching If-None-Match, also inside a list, and the bytes to any other', async () => {
    const matching = await world.app.request('/pushcart-sw.js', { headers: { 'If-None-Match': '"def456"' } });
    expect(matching.status).toBe(304);
    expect(await matching.text()).toBe('');
    expect(matching.headers.get('ETag')).toBe('"def456"');
    expect((await world.app.request('/pushcart.js', { headers: { 'If-None-Match': '"zzz", "abc123"' } })).status).toBe(304);
    const stale = await world.app.request('/pushcart-sw.js', { headers: { 'If-None-Match': '"stale"' } });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe('console.log("sw")');
  });

  it('makes the service worker revalidate on every update check', async () => {
    expect((await world.app.request('/pushcart-sw.js')).headers.get('Cache-Control')).toBe('no-cache');
  });

  it('answers 404 in the error shape where no scripts were built', async () => {
    const { app } = testApp(world.database.db);
    const response = await app.request('/pushcart.js', { headers: { 'X-Request-Id': 'req-no-scripts' } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as ErrorBody).error).toEqual({
      code: 'not_found',
      message: 'Client scripts are not built in this deployment',
      requestId: 'req-no-scripts',
    });
  });
});
