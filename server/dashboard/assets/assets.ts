/**
 * The dashboard's static files: a stylesheet and one small script, kept as strings in the code
 * (the Worker has no file system) and served under names that carry a hash of their content, so a
 * browser may keep them for a year (`immutable`, RFC 8246) and a new release is fetched at once
 * because its pages name new files.
 */
import type { ClientBundle } from '../../client-bundle.ts';
import { sha256Hex } from '../../sha256.ts';
import { CAMPAIGN_JS } from './campaign-js.ts';
import { DASHBOARD_CSS } from './dashboard-css.ts';
import { DASHBOARD_JS } from './dashboard-js.ts';
import { TEMPLATE_PREVIEW_JS } from './template-preview-js.ts';
import { SEGMENT_JS } from './segment-js.ts';
import { TEST_PUSH_JS } from './test-push-js.ts';

/**
 * Scripts of one page each, by stem (the page names its stem to find the hashed name): one line
 * per page script, so pages do not load what only another page uses.
 */
const PAGE_SCRIPTS: Record<string, string> = {
  'template-preview': TEMPLATE_PREVIEW_JS,
  'test-push': TEST_PUSH_JS,
  campaign: CAMPAIGN_JS,
  segment: SEGMENT_JS,
};

/** One year: the longest lifetime caches honour (RFC 9111 §5.2.2.1 leaves it open; a year is the common cap). */
export const ASSET_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;
/** Enough of the hash to tell releases apart in a URL; the ETag carries all of it. */
const HASH_CHARACTERS_IN_NAME = 16;

export interface DashboardAsset {
  /** The path under /dashboard/assets/, e.g. `dashboard.3f2a….css`. */
  name: string;
  contentType: string;
  body: string;
  /** A strong ETag (RFC 9110 §8.8.3): the full SHA-256 of the body. */
  etag: string;
}

export interface DashboardAssets {
  css: DashboardAsset;
  js: DashboardAsset;
  /** The page scripts, by stem. */
  pageScripts: Map<string, DashboardAsset>;
  byName: Map<string, DashboardAsset>;
}

async function asset(stem: string, extension: string, contentType: string, body: string): Promise<DashboardAsset> {
  const hash = await sha256Hex(body);
  return { name: `${stem}.${hash.slice(0, HASH_CHARACTERS_IN_NAME)}.${extension}`, contentType, body, etag: `"${hash}"` };
}

/**
 * A script bundled with the client scripts (server/runtime/node/client-bundles.ts) as a dashboard
 * asset: named by its own SHA-256, as the others are, so both runtimes name and serve it alike.
 */
export function bundledAsset(stem: string, bundle: ClientBundle): DashboardAsset {
  const hash = bundle.etag.slice(1, -1);
  return { name: `${stem}.${hash.slice(0, HASH_CHARACTERS_IN_NAME)}.js`, contentType: 'text/javascript; charset=utf-8', body: bundle.body, etag: bundle.etag };
}

let built: Promise<DashboardAssets> | undefined;

/** Hashed once per process (or isolate): the bodies never change while it runs. */
export function dashboardAssets(): Promise<DashboardAssets> {
  built ??= (async () => {
    const [css, js, ...scripts] = await Promise.all([
      asset('dashboard', 'css', 'text/css; charset=utf-8', DASHBOARD_CSS),
      asset('dashboard', 'js', 'text/javascript; charset=utf-8', DASHBOARD_JS),
      ...Object.entries(PAGE_SCRIPTS).map(([stem, body]) => asset(stem, 'js', 'text/javascript; charset=utf-8', body)),
    ]);
    const pageScripts = new Map(Object.keys(PAGE_SCRIPTS).map((stem, i) => [stem, scripts[i]!]));
    return { css, js, pageScripts, byName: new Map([css, js, ...scripts].map((file) => [file.name, file])) };
  })();
  return built;
}

/** Whether an If-None-Match header (RFC 9110 §13.1.2) names this ETag, weakly compared as the RFC asks for GET. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}
