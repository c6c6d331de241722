import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { ClientBundle, ClientScripts } from '../../client-bundle.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Bundles the snippet, the service worker and the dashboard's prompt preview (which draws with the
 * snippet's own prompt code, so the preview is the prompt) in memory (esbuild, minified IIFEs). A function of the
 * source files only, so every server process built from the same checkout serves identical bytes
 * and ETags: the Node server calls it at start, and the Workers build step
 * (server/runtime/worker/build-client-scripts.ts) at deploy, so a Worker serves them too.
 */
export async function buildClientBundles(): Promise<ClientScripts> {
  const [snippet, serviceWorker, promptPreview] = await Promise.all([
    bundle('client-snippet/src/index.ts'),
    bundle('service-worker/src/index.ts'),
    bundle('client-snippet/src/dashboard-prompt-preview.ts'),
  ]);
  return { snippet, serviceWorker, promptPreview };
}

async function bundle(entryPoint: string): Promise<ClientBundle> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entryPoint],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome90', 'firefox90', 'safari15'],
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
    // workbox-window's "module" entry is its ES5 build (regenerator runtime, ~1 KB gz more); the
    // ES2017 build covers every browser that has web push.
    alias: { 'workbox-window': 'workbox-window/build/workbox-window.prod.mjs' },
  });
  const body = result.outputFiles[0]!.text;
  const hash = createHash('sha256').update(body).digest('hex');
  return { body, etag: `"${hash}"`, version: hash.slice(0, 10) };
}
