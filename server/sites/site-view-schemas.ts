import { z } from 'zod';

/** How JSON writes a `Date`: ISO 8601 in UTC. */
export const isoInstant = z.iso.datetime();

/** `publicSiteView` as JSON (sites/create-site.ts): never a private or secret key. */
export const publicSiteSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  origins: z.array(z.string()),
  publishableKey: z.string().startsWith('pk_'),
  vapidPublicKey: z.string(),
  createdAt: isoInstant,
});

/** `secretKeyView` as JSON: a key by its visible prefix, never the key or its hash. */
export const secretKeySchema = z.strictObject({
  id: z.uuid(),
  prefix: z.string(),
  createdAt: isoInstant,
  revokedAt: isoInstant.nullable(),
  lastUsedAt: isoInstant.nullable(),
});

/** `createSite`'s answer: the new site with its first secret key, shown this once. */
export const createdSiteSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  origins: z.array(z.string()),
  publishableKey: z.string().startsWith('pk_'),
  secretKey: z.string().startsWith('sk_'),
  vapidPublicKey: z.string(),
});
