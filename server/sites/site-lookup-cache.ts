import type { Db } from '../db/database.ts';
import { findSiteByPublishableKey, type SiteRow } from '../db/sites.ts';

/** What the entries pass as `siteCacheMs`: a changed origin list or setting reaches the browser routes within 5 s. */
export const SITE_CACHE_MS = 5_000;

/** Sites remembered at most; past this the oldest is forgotten (a flood of made-up keys is never remembered: misses are not). */
export const MAX_CACHED_SITES = 10_000;

/**
 * Bumped after a change to a site row commits in this process: every cache then reads its sites
 * again, so a shop's own change (origins on the install page, settings) applies to the next
 * request. Other processes see it within their TTL.
 */
let sitesGeneration = 0;

/** Call once a transaction that changed a site's origins or settings has committed. */
export function forgetCachedSites(): void {
  sitesGeneration++;
}

export interface SiteLookupCache {
  /** The site with this publishable key, from memory when it was read within the last `ttlMs`. */
  find(publishableKey: string): Promise<SiteRow | undefined>;
}

/**
 * Every browser request names its site by publishable key; reading the site row for each one is a
 * database round trip per shopper event, most of a hot path that otherwise is one grouped write.
 * A site read here is reused for `ttlMs` (per process, per isolate on Workers): a change made in
 * this process applies at once (`forgetCachedSites`), one made elsewhere within that time. Unknown keys are not
 * remembered: a key made up by a client costs a lookup each time, as before, and no memory.
 * Concurrent lookups of one key share one query.
 */
export function createSiteLookupCache(db: Db, options: { ttlMs: number; now: () => number; maxEntries?: number }): SiteLookupCache {
  const maxEntries = options.maxEntries ?? MAX_CACHED_SITES;
  const entries = new Map<string, { site: SiteRow; readAtMs: number; generation: number }>();
  const inFlight = new Map<string, { lookup: Promise<SiteRow | undefined>; generation: number }>();
  return {
    async find(publishableKey) {
      const nowMs = options.now();
      const generation = sitesGeneration;
      const cached = entries.get(publishableKey);
      // A clock that went backwards makes the entry stale rather than fresh for longer.
      if (cached && cached.generation === generation && nowMs - cached.readAtMs < options.ttlMs && nowMs >= cached.readAtMs) return cached.site;
      const pending = inFlight.get(publishableKey);
      // A lookup begun before a change committed may have read the old row: not shared after it.
      if (pending && pending.generation === generation) return pending.lookup;
      const lookup = findSiteByPublishableKey(db, publishableKey)
        .then((site) => {
          entries.delete(publishableKey);
          if (site) {
            if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
            entries.set(publishableKey, { site, readAtMs: nowMs, generation });
          }
          return site;
        })
        .finally(() => {
          if (inFlight.get(publishableKey)?.lookup === lookup) inFlight.delete(publishableKey);
        });
      inFlight.set(publishableKey, { lookup, generation });
      return lookup;
    },
  };
}
