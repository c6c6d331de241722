import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * sites/ owns what a site is and what it stores (keys, settings and their schemas); delivery/ and
 * triggers/ read those settings. An import the other way would make the settings depend on the
 * code that applies them, and bring it into every module that only reads a site.
 */
const sitesDir = fileURLToPath(new URL('.', import.meta.url));
const serverDir = resolve(sitesDir, '..');
const FORBIDDEN = ['delivery', 'triggers'].map((folder) => join(serverDir, folder));

/** Module specifiers of static imports, re-exports and dynamic imports. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)['"]([^'"]+)['"]/gm;

/** The relative specifiers in `source` (a file in `dir`) that resolve into delivery/ or triggers/. */
function forbiddenImports(source: string, dir: string): string[] {
  return [...source.matchAll(SPECIFIER)]
    .map((match) => match[1]!)
    .filter((specifier) => specifier.startsWith('.'))
    .filter((specifier) => {
      const target = resolve(dir, specifier);
      return FORBIDDEN.some((folder) => target === folder || target.startsWith(folder + sep));
    });
}

describe('sites/ imports', () => {
  it('recognises an import, a type import, a re-export and a dynamic import into delivery/ or triggers/', () => {
    const source = [
      "import { decideEngagement } from '../delivery/engagement-rules.ts';",
      "import type { TemplateContext } from '../triggers/template-rendering.ts';",
      "export { renderMessage } from '../../server/triggers/template-rendering.ts';",
      "const lookup = await import('../triggers/template-lookup.ts');",
      "import { text } from '../validation.ts';",
      "import { HH_MM } from './engagement-settings.ts';",
    ].join('\n');
    expect(forbiddenImports(source, sitesDir)).toEqual([
      '../delivery/engagement-rules.ts',
      '../triggers/template-rendering.ts',
      '../../server/triggers/template-rendering.ts',
      '../triggers/template-lookup.ts',
    ]);
  });

  it('nothing under sites/ imports from delivery/ or triggers/', async () => {
    const files = (await readdir(sitesDir, { recursive: true })).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
    expect(files).toContain('site-settings.ts');
    const offenders: string[] = [];
    for (const file of files) {
      const path = join(sitesDir, file);
      for (const specifier of forbiddenImports(await readFile(path, 'utf8'), dirname(path))) {
        offenders.push(`${relative(serverDir, path)} imports ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
