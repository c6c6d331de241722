import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClientBundle, ClientScripts } from '../../client-bundle.ts';
import { buildClientBundles } from './client-bundles.ts';

// Budgets from the snippet issue (#4), measured on the served bytes at gzip level 9.
// Raised from 5,632 B (5.5 KB) by 128 B for the themed soft prompt in its own shadow root (so a
// shop's CSS neither breaks it nor is touched by it) and its funnel reports (shown, answered,
// permission, subscribed); the prompt's built-in texts moved to the server, which paid for part.
// Raised by 64 B for pushcart.tag() and untag() (issue 13: tags a page may set), a net 64 B.
const SNIPPET_BUDGET_GZIP_BYTES = 5824; // 5.6875 KB, workbox-window included
const SERVICE_WORKER_BUDGET_GZIP_BYTES = 3072; // 3 KB
// What any one dashboard page's own script may weigh (the dashboard's quality budget).
const DASHBOARD_PAGE_SCRIPT_BUDGET_GZIP_BYTES = 30 * 1024;

let bundles: ClientScripts;
const gzipBytes = (bundle: ClientBundle) => gzipSync(bundle.body, { level: 9 }).length;

beforeAll(async () => {
  bundles = await buildClientBundles();
  console.log(
    `client bundles (gzip -9): pushcart.js ${gzipBytes(bundles.snippet)} B of ${SNIPPET_BUDGET_GZIP_BYTES}, ` +
      `pushcart-sw.js ${gzipBytes(bundles.serviceWorker)} B of ${SERVICE_WORKER_BUDGET_GZIP_BYTES}, ` +
      `prompt preview ${gzipBytes(bundles.promptPreview)} B of ${DASHBOARD_PAGE_SCRIPT_BUDGET_GZIP_BYTES}`,
  );
});

describe('client bundles', () => {
  it('keeps the snippet, workbox-window included, within 5.6875 KB gzipped', () => {
    expect(bundles.snippet.body).toContain('workbox:window'); // workbox-window's own version marker: it is bundled
    expect(gzipBytes(bundles.snippet)).toBeLessThanOrEqual(SNIPPET_BUDGET_GZIP_BYTES);
  });

  it('keeps the service worker within 3 KB gzipped', () => {
    expect(gzipBytes(bundles.serviceWorker)).toBeLessThanOrEqual(SERVICE_WORKER_BUDGET_GZIP_BYTES);
  });

  it('keeps the dashboard’s prompt preview, the snippet’s prompt inside, within 30 KB gzipped', () => {
    // The prompt's own stylesheet and markup come with it: the preview draws the real prompt.
    expect(bundles.promptPreview.body).toContain('pushcart-prompt');
    expect(bundles.promptPreview.body).toContain('adoptedStyleSheets');
    expect(gzipBytes(bundles.promptPreview)).toBeLessThanOrEqual(DASHBOARD_PAGE_SCRIPT_BUDGET_GZIP_BYTES);
  });

  it('produces scripts that parse as classic scripts', () => {
    expect(() => new Function(bundles.snippet.body)).not.toThrow();
    expect(() => new Function(bundles.serviceWorker.body)).not.toThrow();
    expect(() => new Function(bundles.promptPreview.body)).not.toThrow();
  });

  it('puts no secret key prefix into the snippet', () => {
    expect(bundles.snippet.body).not.toContain('sk_');
  });

  it('derives a strong ETag and a 10-hex version from the body, identically on every build', async () => {
    const again = await buildClientBundles();
    for (const bundle of [bundles.snippet, bundles.serviceWorker, bundles.promptPreview]) {
      expect(bundle.etag).toMatch(/^"[0-9a-f]{64}"$/);
      expect(bundle.version).toBe(bundle.etag.slice(1, 11));
    }
    expect(again.snippet.etag).toBe(bundles.snippet.etag);
    expect(again.serviceWorker.body).toBe(bundles.serviceWorker.body);
    expect(again.promptPreview.body).toBe(bundles.promptPreview.body);
    expect(bundles.snippet.version).not.toBe(bundles.serviceWorker.version);
  });
});
