/**
 * The delivery health page's reading: the facts read from the database (db/delivery-health.ts)
 * turned into findings in words, the problems first. Pure: the clock and the shop's zone come in.
 */
import type { ExpiryWeek, HostBackoff, HostFailures, QuietHoursWait, SuppressionCount } from '../db/delivery-health.ts';
import type { IgnoringShare } from '../db/engagement-history.ts';
import { reasonOf } from '../delivery/delivery-reasons.ts';
import { wallClockAt } from '../delivery/time-zones.ts';

export interface HealthFacts {
  nowMs: number;
  /** The shop's zone (`engagement.defaultTimeZone`): every time is written in it. */
  timeZone: string;
  quietHours: QuietHoursWait | null;
  backoffs: HostBackoff[];
  suppressions: SuppressionCount[];
  failures: HostFailures[];
  expiry: ExpiryWeek[];
  /** Subscribers who clicked none of their last IGNORING_LAST_PUSHES marketing pushes; absent: not read. */
  ignoring?: IgnoringShare & { budgetEnabled: boolean };
}

/** "Ignores everything" means: clicked none of this many last marketing pushes (of the last IGNORING_WINDOW_DAYS days). */
export const IGNORING_LAST_PUSHES = 5;
export const IGNORING_WINDOW_DAYS = 30;
/** From this share of judged subscribers on, ignoring is a warning rather than a figure; below this many judged, a figure only. */
export const IGNORING_WARNING_SHARE = 0.5;
export const IGNORING_MIN_JUDGED = 20;

/** problem: pushes are lost or held against the owner's wishes; warning: worth a look; info: the owner's own rules at work. */
export type FindingLevel = 'problem' | 'warning' | 'info';

export interface Finding {
  key: string;
  level: FindingLevel;
  title: string;
  sentences: string[];
}

export interface ExpiryReading {
  verdict: 'typical' | 'elevated' | 'high' | 'not_enough_data';
  /** expired ÷ active at the week's start, over all eight weeks together; null without subscribers. */
  weeklyRate: number | null;
  reading: string;
  weeks: Array<ExpiryWeek & { rate: number | null }>;
}

export interface HealthReport {
  allGood: boolean;
  summary: string;
  /** Problems, then warnings, then what the shop's own rules are doing. */
  findings: Finding[];
  expiry: ExpiryReading;
}

/*
 * Expiry thresholds, per week, as a share of the subscriptions active at the week's start.
 * Endpoints expire for reasons no shop controls: browser data cleared, the browser or app
 * removed, the browser revoking the permission of sites not visited for a while (Chrome does so
 * since 2024). That adds up to roughly a third to a half of a list per year, about 1 % a week,
 * so up to 2.5 % a week (~73 % a year) is read as typical. Above 5 % a week (over 90 % of a list
 * gone within a year) the cause is usually on our side of the line: a service worker that is
 * not served at the shop's root or does not resubscribe on `pushsubscriptionchange`, or VAPID
 * keys that changed (every old subscription then answers 403/410). Below 100 subscriber-weeks
 * a handful of expiries swings the share by whole percents, so no verdict is given.
 */
export const TYPICAL_WEEKLY_EXPIRY = 0.025;
export const HIGH_WEEKLY_EXPIRY = 0.05;
export const MIN_SUBSCRIBER_WEEKS = 100;

const integer = new Intl.NumberFormat('en-US');
const count = (n: number) => integer.format(n);
const pushes = (n: number) => `${count(n)} ${n === 1 ? 'push' : 'pushes'}`;

/** 0.0213 → `2.1 %`. */
export function percent(share: number): string {
  return `${(Math.round(share * 1000) / 10).toFixed(1)} %`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An instant in the shop's zone, as a person says it relative to now: `today 14:05`, `tomorrow 07:00`, `3 Dec 07:00`. */
export function whenText(ms: number, nowMs: number, timeZone: string): string {
  const at = wallClockAt(ms, timeZone);
  const now = wallClockAt(nowMs, timeZone);
  const time = `${String(at.hour).padStart(2, '0')}:${String(at.minute).padStart(2, '0')}`;
  const dayNumber = (c: { year: number; month: number; day: number }) => Date.UTC(c.year, c.month - 1, c.day) / 86_400_000;
  const days = dayNumber(at) - dayNumber(now);
  if (days === 0) return `today ${time}`;
  if (days === 1) return `tomorrow ${time}`;
  if (days === -1) return `yesterday ${time}`;
  return `${at.day} ${MONTHS[at.month - 1]}${at.year === now.year ? '' : ` ${at.year}`} ${time}`;
}

/** A push service by the host of its endpoints: the name an owner knows it by. */
export function pushServiceName(host: string): string {
  const h = host.toLowerCase();
  const under = (domain: string) => h === domain || h.endsWith(`.${domain}`);
  if (under('googleapis.com')) return `Google FCM (${host})`;
  if (under('push.services.mozilla.com')) return `Mozilla autopush (${host})`;
  if (under('push.apple.com')) return `Apple web push (${host})`;
  if (under('notify.windows.com')) return `Windows WNS (${host})`;
  return host;
}

/** Why pushes were suppressed, in words, per reason code (delivery/delivery-reasons.ts). */
const SUPPRESSION_WORDS: Record<string, string> = {
  frequency_cap: 'over the frequency cap (marketing pushes per subscriber per 24 hours)',
  engagement_budget: 'over the subscriber’s engagement budget (they ignored the marketing pushes before)',
  quiet_hours: 'their time to live would have run out before quiet hours ended',
  cart_ordered: 'the cart was bought or emptied before the reminder was due',
  already_ordered: 'the shopper ordered before their welcome went',
  subscription_inactive: 'the shopper opted out, or the subscription expired, after the push was queued',
  ttl_elapsed: 'their time to live ran out before they could be sent',
  cancelled: 'the send was cancelled before they went',
  // Rows written before reasons were stored (delivery/delivery-reasons.ts `reasonOf`).
  other: 'no reason was recorded',
};

export function suppressionWords(reason: string): string {
  return SUPPRESSION_WORDS[reason] ?? `another reason (${reason})`;
}

/** The detail after `code: ` of a stored reason, or the whole text when it has no code. */
function detailOf(lastError: string | null): string | null {
  if (lastError === null) return null;
  const code = reasonOf(lastError);
  return code === 'other' ? lastError : lastError.slice(code.length + 1).trim();
}

/** What an owner can do about a push service's answer (RFC 8030 §5, RFC 8292 §4.2). */
function hintFor(status: number | null, reason: string): string {
  if (reason === 'payload_too_large' || status === 413) return 'The message was too large for the push service: shorten the title, body or links.';
  if (status === 401 || status === 403) return 'The push service refused our VAPID signature: check that the site’s VAPID keys and PUSHCART_VAPID_SUBJECT have not changed.';
  if (status === 400) return 'The push service found the request malformed; the error says what it disliked.';
  if (reason === 'endpoint_not_allowed') return 'The endpoint’s host is not a known push service: add it to PUSHCART_PUSH_HOSTS if it is one.';
  if (status !== null && status >= 500) return 'The push service is having trouble on its side; the pushes are retried with growing pauses.';
  return 'Network errors and timeouts are retried with growing pauses.';
}

function statusText(status: number | null): string {
  return status === null ? 'no answer' : `HTTP ${status}`;
}

function backoffFindings(facts: HealthFacts): Finding[] {
  return facts.backoffs.map((backoff) => ({
    key: `backoff-${backoff.host}`,
    level: 'problem',
    title: `${pushServiceName(backoff.host)} is holding us back`,
    sentences: [
      `${pushes(backoff.count)} wait${backoff.count === 1 ? 's' : ''} until ${whenText(backoff.untilMs, facts.nowMs, facts.timeZone)} because the push service asked us to slow down${backoff.lastStatus !== null ? ` (${statusText(backoff.lastStatus)}${backoff.lastStatus === 429 ? ', too many requests' : backoff.lastStatus === 503 ? ', unavailable' : ''})` : ' or its circuit is open'}.`,
      'They go by themselves when the pause ends and cost none of their attempts; their time to live still applies.',
    ],
  }));
}

function failureFindings(facts: HealthFacts): Finding[] {
  return facts.failures.map((failure) => {
    const reason = reasonOf(failure.last.error);
    const parts = [failure.failed > 0 ? `${pushes(failure.failed)} failed for good` : '', failure.retrying > 0 ? `${pushes(failure.retrying)} wait${failure.retrying === 1 ? 's' : ''} for a retry after an error` : '']
      .filter(Boolean)
      .join(' and ');
    const detail = detailOf(failure.last.error);
    return {
      key: `failing-${failure.host}`,
      level: failure.failed > 0 ? 'problem' : 'warning',
      title: `${pushServiceName(failure.host)} is failing`,
      sentences: [
        `In the last 24 hours ${parts}.`,
        `The last error, ${whenText(failure.last.atMs, facts.nowMs, facts.timeZone)}: ${statusText(failure.last.status)}${detail ? `, “${detail}”` : ''}.`,
        hintFor(failure.last.status, reason),
      ],
    };
  });
}

function quietHoursFinding(facts: HealthFacts): Finding[] {
  const wait = facts.quietHours;
  if (!wait) return [];
  const earliest = whenText(wait.earliestMs, facts.nowMs, facts.timeZone);
  const latest = whenText(wait.latestMs, facts.nowMs, facts.timeZone);
  return [
    {
      key: 'quiet-hours',
      level: 'info',
      title: 'Waiting for quiet hours to end',
      sentences: [
        wait.count === 1 || earliest === latest
          ? `${pushes(wait.count)} ${wait.count === 1 ? 'waits' : 'wait'} for the subscriber’s quiet hours to end, until ${earliest}.`
          : `${pushes(wait.count)} wait for their subscribers’ quiet hours to end, the first at ${earliest}, the last at ${latest}.`,
        'They go by themselves then; change quiet hours on the Automations page.',
      ],
    },
  ];
}

function suppressionFinding(facts: HealthFacts): Finding[] {
  const week = facts.suppressions.reduce((sum, s) => sum + s.lastWeek, 0);
  if (week === 0) return [];
  const day = facts.suppressions.reduce((sum, s) => sum + s.lastDay, 0);
  const cap = facts.suppressions.find((s) => s.reason === 'frequency_cap');
  return [
    {
      key: 'suppressed',
      level: 'info',
      title: 'Not sent, by the shop’s rules',
      sentences: [
        `${pushes(day)} in the last 24 hours and ${pushes(week)} in the last 7 days were not sent.`,
        ...(cap ? [`The frequency cap held back ${pushes(cap.lastDay)} in the last 24 hours and ${pushes(cap.lastWeek)} in the last 7 days; raise it on the Automations page if that is too strict.`] : []),
        ...facts.suppressions
          .filter((s) => s.reason !== 'frequency_cap')
          .map((s) => `${pushes(s.lastWeek)} in 7 days (${count(s.lastDay)} in 24 hours): ${suppressionWords(s.reason)}.`),
      ],
    },
  ];
}

export function readExpiry(weeks: ExpiryWeek[]): ExpiryReading {
  const withRates = weeks.map((week) => ({ ...week, rate: week.activeAtStart > 0 ? week.expired / week.activeAtStart : null }));
  const exposure = weeks.reduce((sum, w) => sum + w.activeAtStart, 0);
  const expired = weeks.reduce((sum, w) => sum + w.expired, 0);
  const weeklyRate = exposure > 0 ? expired / exposure : null;
  if (weeklyRate === null || exposure < MIN_SUBSCRIBER_WEEKS) {
    return {
      verdict: 'not_enough_data',
      weeklyRate,
      weeks: withRates,
      reading: `Not enough subscribers yet to judge: ${count(expired)} expired over ${weeks.length} weeks.`,
    };
  }
  const rate = percent(weeklyRate);
  if (weeklyRate <= TYPICAL_WEEKLY_EXPIRY) {
    return { verdict: 'typical', weeklyRate, weeks: withRates, reading: `${rate} of subscriptions expire a week, typical for web push.` };
  }
  if (weeklyRate <= HIGH_WEEKLY_EXPIRY) {
    return {
      verdict: 'elevated',
      weeklyRate,
      weeks: withRates,
      reading: `${rate} of subscriptions expire a week, more than the usual 1 to 2.5 %: check that the service worker line is still served from the shop’s root.`,
    };
  }
  return {
    verdict: 'high',
    weeklyRate,
    weeks: withRates,
    reading: `High: ${rate} of subscriptions expire a week. Check that the service worker is served from the shop’s root on every page, that no other worker replaced it, and that the site’s VAPID keys did not change.`,
  };
}

function expiryFinding(expiry: ExpiryReading): Finding[] {
  if (expiry.verdict !== 'elevated' && expiry.verdict !== 'high') return [];
  return [{ key: 'expiry', level: expiry.verdict === 'high' ? 'problem' : 'warning', title: 'Subscriptions are expiring fast', sentences: [expiry.reading] }];
}

/**
 * Chrome revokes the notification permission of sites whose notifications get little engagement
 * (issue 14): the owner sees how many subscribers ignore everything before the browser decides.
 */
function ignoringFinding(facts: HealthFacts): Finding[] {
  const share = facts.ignoring;
  if (!share || share.judged === 0) return [];
  const ratio = share.ignoring / share.judged;
  const warn = share.judged >= IGNORING_MIN_JUDGED && ratio >= IGNORING_WARNING_SHARE;
  return [
    {
      key: 'ignoring',
      level: warn ? 'warning' : 'info',
      title: 'Subscribers who ignore your pushes',
      sentences: [
        `${percent(ratio)} of your subscribers clicked none of their last ${IGNORING_LAST_PUSHES} marketing pushes (${count(share.ignoring)} of the ${count(share.judged)} who got at least ${IGNORING_LAST_PUSHES} in the last ${IGNORING_WINDOW_DAYS} days).`,
        'Chrome takes the notification permission away from sites whose notifications are rarely clicked, and then no push reaches those shoppers, order updates included.',
        share.budgetEnabled
          ? 'The engagement budget sends them fewer marketing pushes until they click one again.'
          : 'The engagement budget is switched off: turning it on (engagement.budget in the settings) sends them fewer marketing pushes until they click one again.',
      ],
    },
  ];
}

const ORDER: Record<FindingLevel, number> = { problem: 0, warning: 1, info: 2 };

export function healthReport(facts: HealthFacts): HealthReport {
  const expiry = readExpiry(facts.expiry);
  const findings = [...backoffFindings(facts), ...failureFindings(facts), ...expiryFinding(expiry), ...quietHoursFinding(facts), ...suppressionFinding(facts), ...ignoringFinding(facts)].sort(
    (a, b) => ORDER[a.level] - ORDER[b.level],
  );
  const problems = findings.filter((f) => f.level === 'problem').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  const allGood = problems + warnings === 0;
  const summary = allGood
    ? `No push service is failing or holding us back${expiry.verdict === 'typical' ? ', and subscriptions expire at a usual pace' : ''}.`
    : [problems > 0 ? `${count(problems)} ${problems === 1 ? 'problem' : 'problems'}` : '', warnings > 0 ? `${count(warnings)} to keep an eye on` : '']
        .filter(Boolean)
        .join(' and ')
        .replace(/^./, (c) => c.toUpperCase()) + ', below.';
  return { allGood, summary, findings, expiry };
}
