import type { SiteRow } from '../db/sites.ts';

/** A URL template with `{orderId}` filled in (URL-encoded), or null when there is none. */
export function orderUrlFrom(template: string | undefined, orderId: string): string | null {
  return !template ? null : template.replaceAll('{orderId}', encodeURIComponent(orderId));
}

/** `url` if it is on one of the site's origins, else null. */
export function onSiteOrNull(url: string | null | undefined, site: SiteRow): string | null {
  if (!url) return null;
  try {
    return site.allowed_origins.includes(new URL(url).origin) ? url : null;
  } catch {
    return null;
  }
}
