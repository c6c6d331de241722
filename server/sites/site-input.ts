import { z } from 'zod';
import { text } from '../validation.ts';
import { normalizeOrigin } from './create-site.ts';

/** Site name and allowed origins, as the admin API and the CLI both take them. */
export const newSiteSchema = z.strictObject({
  name: text().trim().min(1).max(200),
  origins: z
    .array(
      text()
        .refine((value) => normalizeOrigin(value) !== undefined, {
          message: 'must be an origin such as https://shop.example (scheme, host, optional port; no path)',
        })
        .transform((value) => normalizeOrigin(value)!),
    )
    .min(1, 'at least one origin is required')
    .max(50)
    .transform((origins) => [...new Set(origins)]),
});
