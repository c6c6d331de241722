import type { PushHostEntry } from '../config.ts';

/** Longest endpoint accepted. Real ones are well under 1 KB; longer is abuse. */
export const MAX_ENDPOINT_LENGTH = 2048;

/**
 * The real push services. An exact entry matches that host only; a `suffix` entry matches any
 * host below it (one or more labels in front), never the suffix itself nor a look-alike.
 */
const BUILT_IN_PUSH_HOSTS: ReadonlyArray<{ exact?: string; suffix?: string }> = [
  { exact: 'fcm.googleapis.com' },
  { exact: 'updates.push.services.mozilla.com' },
  { suffix: 'push.apple.com' }, // web.push.apple.com and Apple's regional hosts
  { suffix: 'notify.windows.com' }, // WNS: *.notify.windows.com
];

export type EndpointVerdict = { ok: true; url: URL } | { ok: false; reason: string };

function isIpLiteral(hostname: string): boolean {
  // WHATWG URL parsing has already normalised every IPv4 notation (2130706433, 0x7f.1, 0177.0.0.1)
  // to dotted decimal, and IPv6 literals keep their brackets. A host whose last label is numeric
  // is an IPv4 address to the parser, so nothing else can hide here.
  if (hostname.startsWith('[')) return true;
  const labels = hostname.split('.');
  return /^(0x[0-9a-f]*|\d+)$/i.test(labels[labels.length - 1] ?? '');
}

function labelsEndWith(hostLabels: string[], suffixLabels: string[]): boolean {
  if (hostLabels.length <= suffixLabels.length) return false;
  const offset = hostLabels.length - suffixLabels.length;
  return suffixLabels.every((label, index) => hostLabels[offset + index] === label);
}

/**
 * The SSRF guard for push endpoints: a subscription names a URL we will POST to, so only real push services on 443 may be named. Runs when a subscription is stored and again
 * before every request to a push service. Only the parsed URL is compared, never the raw string.
 */
export function checkPushEndpoint(endpoint: string, extraHosts: readonly PushHostEntry[]): EndpointVerdict {
  if (endpoint.length > MAX_ENDPOINT_LENGTH) {
    return { ok: false, reason: `endpoint is longer than ${MAX_ENDPOINT_LENGTH} characters` };
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, reason: 'endpoint is not a URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: 'endpoint must use https:' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'endpoint must not contain credentials' };

  const hostname = url.hostname.toLowerCase();
  const configured = extraHosts.find((entry) => entry.hostname === hostname && entry.port === url.port);
  if (configured) return { ok: true, url };

  if (url.port !== '') return { ok: false, reason: 'endpoint must use port 443' };
  if (isIpLiteral(hostname)) return { ok: false, reason: 'endpoint host must be a name, not an IP address' };

  const labels = hostname.split('.');
  const known = BUILT_IN_PUSH_HOSTS.some((entry) =>
    entry.exact !== undefined ? hostname === entry.exact : labelsEndWith(labels, entry.suffix!.split('.')),
  );
  if (!known) return { ok: false, reason: `endpoint host ${hostname} is not a known push service` };
  // Every label must be a plain DNS label: no empty labels (trailing dot) or odd characters.
  if (!labels.every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label))) {
    return { ok: false, reason: 'endpoint host is not a valid DNS name' };
  }
  return { ok: true, url };
}

/**
 * The push service an endpoint belongs to, as a metrics label: the built-in entry its host matches
 * (`push.apple.com` for every Apple host, `notify.windows.com` for every WNS host), a configured
 * host as `host[:port]`, else `other`. A bounded set, unlike hosts: WNS alone has many.
 */
export function pushServiceOf(endpoint: string, extraHosts: readonly PushHostEntry[]): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'other';
  }
  const hostname = url.hostname.toLowerCase();
  if (extraHosts.some((entry) => entry.hostname === hostname && entry.port === url.port)) return url.host;
  if (url.port !== '') return 'other';
  const labels = hostname.split('.');
  const known = BUILT_IN_PUSH_HOSTS.find((entry) => (entry.exact !== undefined ? hostname === entry.exact : labelsEndWith(labels, entry.suffix!.split('.'))));
  return known ? (known.exact ?? known.suffix!) : 'other';
}
