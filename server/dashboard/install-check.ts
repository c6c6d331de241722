/**
 * The install page's installation check: from what the snippet's requests left behind
 * (server/db/origins-seen.ts), the site's allowed origins and the time now, what to tell the shop
 * owner per origin — that it works, or what is most likely wrong, in words they can act on.
 * Pure: no database, no clock of its own.
 */
import type { OriginSeen } from '../db/origins-seen.ts';
import { DAY_MS } from '../time.ts';

/** After this long without a request, an origin that used to send them is worth a word. */
export const QUIET_AFTER_MS = 7 * DAY_MS;

/** Refused origins outside the allowed list shown at most; the rest are counted. */
export const MAX_REFUSED_ORIGINS_SHOWN = 10;

export type CheckTone = 'working' | 'waiting' | 'problem';

export interface OriginCheck {
  origin: string;
  allowed: boolean;
  tone: CheckTone;
  /** One sentence: what was seen, or that nothing was. */
  headline: string;
  /** What is likely wrong and what to do, one sentence each; empty when all is well. */
  advice: string[];
  /** A refused origin the owner may want to add (shown with an "add it" button to those who can edit). */
  suggestAdding: boolean;
}

export interface InstallCheck {
  origins: OriginCheck[];
  /** Refused origins beyond MAX_REFUSED_ORIGINS_SHOWN. */
  moreRefused: number;
  timeZone: string;
}

export function installCheck(input: {
  allowedOrigins: readonly string[];
  seen: readonly OriginSeen[];
  now: Date;
  timeZone: string;
  serviceWorkerPath: string;
}): InstallCheck {
  const at = (date: Date) => formatSeenTime(date, input.now, input.timeZone);
  const byOrigin = new Map(input.seen.map((row) => [row.origin, row]));
  const origins = input.allowedOrigins.map((origin) => allowedOriginCheck(origin, byOrigin.get(origin), input, at));
  const refused = input.seen
    .filter((row) => row.refused !== null && !input.allowedOrigins.includes(row.origin))
    .sort((a, b) => b.refused!.at.getTime() - a.refused!.at.getTime());
  for (const row of refused.slice(0, MAX_REFUSED_ORIGINS_SHOWN)) origins.push(refusedOriginCheck(row, input.allowedOrigins, at));
  return { origins, moreRefused: Math.max(0, refused.length - MAX_REFUSED_ORIGINS_SHOWN), timeZone: input.timeZone };
}

function allowedOriginCheck(
  origin: string,
  seen: OriginSeen | undefined,
  input: { now: Date; serviceWorkerPath: string },
  at: (date: Date) => string,
): OriginCheck {
  const advice: string[] = [];
  const configAt = seen?.configAt ?? null;
  const subscriptionAt = seen?.subscriptionAt ?? null;
  let tone: CheckTone;
  let headline: string;
  if (configAt && subscriptionAt) {
    tone = 'working';
    headline = `Seen from ${origin} at ${at(configAt)} (config), last subscription ${at(subscriptionAt)}.`;
  } else if (subscriptionAt) {
    // The config is cached by the browser for minutes, so a subscription alone is no warning sign.
    tone = 'working';
    headline = `Last subscription from ${origin} at ${at(subscriptionAt)}.`;
  } else if (configAt) {
    tone = 'waiting';
    headline = `Seen from ${origin} at ${at(configAt)} (config), but no subscription has arrived from it yet.`;
    advice.push(
      `Open ${origin}${input.serviceWorkerPath}: it must show the one line from step 2 (or, with data-sw, your own worker must import it). Without that file the browser cannot subscribe.`,
      'If the file is there, nobody may have allowed notifications yet: allow them yourself on a page of the shop to try it.',
    );
  } else {
    tone = 'problem';
    headline = `No request from ${origin} yet.`;
    advice.push(
      seen?.refused
        ? 'Nothing from this origin has got through yet.'
        : 'Either the script tag is not on the shop’s pages, or no page with it has been opened since it was added. Open a page of the shop, then reload this page.',
    );
  }
  const lastHeard = latest(configAt, subscriptionAt);
  if (lastHeard && input.now.getTime() - lastHeard.getTime() > QUIET_AFTER_MS) {
    tone = 'problem';
    advice.push(`Nothing since ${at(lastHeard)}: if the shop still has visitors, check that the script tag is still on its pages.`);
  }
  const refusal = seen?.refused;
  if (refusal && (!lastHeard || refusal.at > lastHeard)) {
    if (tone === 'working') tone = 'waiting';
    advice.push(`${refusal.request === 'config' ? 'A config request' : 'A subscription'} from here was refused at ${at(refusal.at)}: ${refusalInWords(refusal.code, refusal.detail)}`);
  }
  if (!pushCapable(origin)) {
    tone = 'problem';
    advice.push(`Push needs https: browsers allow service workers and push only on https pages (and on http://localhost for trying things out). Serve the shop on https and list ${origin.replace(/^http:/, 'https:')} instead.`);
  }
  return { origin, allowed: true, tone, headline, advice, suggestAdding: false };
}

function refusedOriginCheck(row: OriginSeen, allowedOrigins: readonly string[], at: (date: Date) => string): OriginCheck {
  const refusal = row.refused!;
  const advice: string[] = [];
  const notAllowed = refusal.code === 'origin_not_allowed';
  if (notAllowed && !isPlainOrigin(row.origin)) {
    // Browsers send a scheme and host only (or "null"): anything else came from a script or a tool.
    advice.push('No browser on a shop page sends an origin like this: it came from a script or a tool, or from a sandboxed page. Nothing to add.');
  } else if (notAllowed) {
    const related = relatedAllowedOrigin(row.origin, allowedOrigins);
    if (related?.kind === 'http') {
      advice.push(`It is the http:// address of ${related.origin}: make the shop redirect http to https rather than adding it (push needs https).`);
    } else {
      if (related?.kind === 'www') advice.push(`It is another address of ${related.origin} (with or without www.): if shoppers reach the shop there too, list both.`);
      advice.push(`If it is your shop, add exactly ${row.origin} to the allowed origins.`);
      if (!pushCapable(row.origin)) advice.push('Push would not work there anyway: it needs an https page.');
    }
  } else {
    advice.push(refusalInWords(refusal.code, refusal.detail));
  }
  return {
    origin: row.origin,
    allowed: false,
    tone: 'problem',
    headline: notAllowed ? `${row.origin} tried at ${at(refusal.at)} but isn’t allowed.` : `A request from ${row.origin} was refused at ${at(refusal.at)}.`,
    advice,
    suggestAdding: notAllowed && pushCapable(row.origin) && isPlainOrigin(row.origin),
  };
}

/** What a refusal's error code means for the shop, in words (the codes of server/errors.ts). */
export function refusalInWords(code: string, detail: string | null): string {
  switch (code) {
    case 'origin_not_allowed':
      return 'the origin is not one of the allowed origins.';
    case 'endpoint_not_allowed':
      return `the browser’s push address was not accepted${detail ? ` (${detail})` : ''}. Browsers in a test or privacy mode sometimes give one no push service answers.`;
    case 'invalid_signature':
      return 'the identify signature did not match the shop’s user id: the shop’s server must sign it with this site’s identify secret (README: identify).';
    case 'endpoint_conflict':
      return 'that browser is already subscribed to another Pushcart site (the same shop set up twice?).';
    case 'invalid_key':
      return 'the key in the tag is not this site’s publishable key any more: copy the tag again.';
    case 'validation_failed':
    case 'invalid_json':
    case 'malformed_request':
      return `the request was not understood${detail ? ` (${detail})` : ''}. Is the shop serving an old or edited copy of the snippet?`;
    default:
      return `refused with ${code}${detail ? ` (${detail})` : ''}.`;
  }
}

/**
 * Service workers, and so push, need a secure context: https, or a local address (W3C Secure
 * Contexts §3.1, "potentially trustworthy origin": localhost and loopback addresses).
 */
export function pushCapable(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  const host = url.hostname;
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Scheme, host and port and nothing else, as the allowed-origins form takes them. */
function isPlainOrigin(origin: string): boolean {
  try {
    return new URL(origin).origin === origin;
  } catch {
    return false;
  }
}

/** The allowed origin a refused one is a near miss of: its http:// twin, or its www./bare twin. */
function relatedAllowedOrigin(origin: string, allowedOrigins: readonly string[]): { kind: 'http' | 'www'; origin: string } | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  for (const allowed of allowedOrigins) {
    let other: URL;
    try {
      other = new URL(allowed);
    } catch {
      continue;
    }
    if (url.protocol === 'http:' && other.protocol === 'https:' && url.hostname === other.hostname) return { kind: 'http', origin: allowed };
    const bare = (host: string) => host.replace(/^www\./, '');
    if (url.protocol === other.protocol && url.hostname !== other.hostname && bare(url.hostname) === bare(other.hostname)) return { kind: 'www', origin: allowed };
  }
  return undefined;
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

/**
 * A time as the owner reads it, in the site's time zone: "11:02" today, "yesterday 11:02", "28 Nov 11:02"
 * within the year, "28 Nov 2025 11:02" before.
 */
export function formatSeenTime(at: Date, now: Date, timeZone: string): string {
  const day = (date: Date) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
  const time = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
  const today = day(now);
  const thatDay = day(at);
  if (thatDay === today) return time;
  const yesterday = day(new Date(now.getTime() - DAY_MS));
  if (thatDay === yesterday) return `yesterday ${time}`;
  const sameYear = thatDay.slice(0, 4) === today.slice(0, 4);
  const date = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) }).format(at);
  return `${date} ${time}`;
}
