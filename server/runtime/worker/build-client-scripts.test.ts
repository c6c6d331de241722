import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientScripts } from '../../client-bundle.ts';
import { buildClientBundles } from '../node/client-bundles.ts';
import { clientScriptsModuleSource, writeClientScriptsModule } from './build-client-scripts.ts';

/** The module the Workers build step writes must evaluate to exactly what the Node server builds at start. */

let directory: string;
let nodeBuilt: ClientScripts;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pushcart-client-scripts-'));
  nodeBuilt = await buildClientBundles();
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function importModule(path: string): Promise<ClientScripts> {
  // A query string per import: Node caches modules by URL, and a test imports a path more than once.
  const module = (await import(`${pathToFileURL(path).href}?${Math.random()}`)) as { clientScripts: ClientScripts };
  return module.clientScripts;
}

describe('the Workers build step', () => {
  it('writes a module whose clientScripts are the bytes, ETags and versions Node serves', async () => {
    const path = join(directory, 'written.js');
    const written = await writeClientScriptsModule(path);
    expect(written).toEqual(nodeBuilt);
    const imported = await importModule(path);
    expect(imported).toEqual(nodeBuilt);
    // Byte for byte: the ETag is a hash of these, so any change in escaping would break revalidation.
    expect(imported.snippet.body).toBe(nodeBuilt.snippet.body);
    expect(imported.serviceWorker.body).toBe(nodeBuilt.serviceWorker.body);
    // The dashboard's prompt preview too: a Worker's prompt page serves the bytes a Node server's does.
    expect(imported.promptPreview.body).toBe(nodeBuilt.promptPreview.body);
    expect(imported.promptPreview.etag).toBe(nodeBuilt.promptPreview.etag);
    expect(nodeBuilt.promptPreview.body).toContain('pushcart-prompt-preview');
  });

  it('round-trips script text that JSON and JavaScript escape differently', async () => {
    // U+2028/U+2029 end a line in old JavaScript string literals; quotes, backslashes and a closing
    // script tag must come back unchanged too.
    const awkward = 'a\u2028b\u2029c "quoted" \\ back\\slash </script> `tick` ${x}';
    const scripts: ClientScripts = {
      snippet: { body: awkward, etag: '"e1"', version: 'e1' },
      serviceWorker: { body: `${awkward}\n`, etag: '"e2"', version: 'e2' },
      promptPreview: { body: `${awkward}\n\n`, etag: '"e3"', version: 'e3' },
    };
    const path = join(directory, 'awkward.js');
    await writeFile(path, clientScriptsModuleSource(scripts));
    expect(await importModule(path)).toEqual(scripts);
  });

  it('leaves an up-to-date module untouched and replaces a stale one', async () => {
    const path = join(directory, 'rebuilt.js');
    await writeFile(path, clientScriptsModuleSource(nodeBuilt));
    const before = await stat(path);
    await writeClientScriptsModule(path);
    // Unchanged: not rewritten (a watcher or a concurrent wrangler sees no change).
    expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);

    await writeFile(path, 'export const clientScripts = {};\n');
    await writeClientScriptsModule(path);
    expect(await readFile(path, 'utf8')).toBe(clientScriptsModuleSource(nodeBuilt));
  });
});
