/**
 * The install form (shop name, allowed origins one per line) read with the same schema as the
 * admin API and the CLI (`newSiteSchema`), its problems said in words a shop owner can act on.
 */
import { newSiteSchema } from '../sites/site-input.ts';

/** Origins are typed one per line; commas and spaces separate them too, as people paste lists. */
export function splitOrigins(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
}

export function installFormProblems(name: string, originsText: string): { value: { name: string; origins: string[] } } | { errors: string[] } {
  const origins = splitOrigins(originsText);
  const result = newSiteSchema.safeParse({ name, origins });
  if (result.success) return { value: result.data };
  const errors = new Set<string>();
  for (const issue of result.error.issues) {
    const [field, index] = issue.path;
    if (field === 'name') {
      errors.add(issue.code === 'custom' ? `The shop name ${issue.message}.` : 'Give the shop a name of 1 to 200 characters.');
    } else if (field === 'origins' && typeof index === 'number') {
      errors.add(`“${origins[index] ?? ''}” is not an origin: write the scheme and host only, such as https://shop.example (no path, no trailing text).`);
    } else if (issue.code === 'too_small') {
      errors.add('List at least one origin: the address of the shop, such as https://shop.example.');
    } else if (issue.code === 'too_big') {
      errors.add('List at most 50 origins.');
    } else {
      errors.add(issue.message);
    }
  }
  return { errors: [...errors] };
}
