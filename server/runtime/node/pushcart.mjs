#!/usr/bin/env node
// The `pushcart` command. Bundles the TypeScript server with esbuild (already a dependency: it
// builds the snippet) and runs plain JavaScript: a TypeScript loader at run time costs about
// 110 MiB of RSS per process (its hooks thread, and again in each encryption thread), measured
// with `pushcart worker` idle: 216 MiB under tsx, 104 MiB bundled.
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { build, stop } from 'esbuild';

const here = new URL('./', import.meta.url);
const root = new URL('../../../', here);
const result = await build({
  entryPoints: [new URL('cli.ts', here).pathname, new URL('encryption-worker.ts', here).pathname],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dependencies stay in node_modules; only the project's own code is bundled.
  packages: 'external',
  outExtension: { '.js': '.mjs' },
  outdir: 'out',
  sourcemap: 'linked',
  write: false,
  logLevel: 'warning',
});
// esbuild's service process would otherwise stay for the life of the server (about 30 MiB).
await stop();
// One directory per build, named by its content and written whole before it is renamed into
// place: two processes starting at once (say two workers) never read a half-written file. It sits
// three levels below the project root, like this file, so paths the code makes relative to
// `import.meta.url` (the snippet sources, client-bundles.ts) resolve the same as from source.
const hash = createHash('sha256');
for (const file of result.outputFiles) hash.update(file.path).update(file.contents);
const outdir = new URL(`node_modules/.cache/pushcart-${hash.digest('hex').slice(0, 16)}/`, root);
if (!(await stat(outdir).catch(() => null))) {
  const staging = new URL(`node_modules/.cache/pushcart-staging-${process.pid}-${Date.now()}/`, root);
  await mkdir(staging, { recursive: true });
  for (const file of result.outputFiles) await writeFile(new URL(file.path.split('/').pop(), staging), file.contents);
  await rename(staging, outdir).catch(async (error) => {
    // Another process put the same build in place first: use theirs.
    await rm(staging, { recursive: true, force: true });
    if (!(await stat(outdir).catch(() => null))) throw error;
  });
}
process.setSourceMapsEnabled(true);
await import(new URL('cli.mjs', outdir).href);
// `start` has finished starting (it builds the client bundles with esbuild too): same again.
await stop();
