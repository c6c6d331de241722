import { describe, expect, it } from 'vitest';
import type { ExpiryWeek } from '../db/delivery-health.ts';
import { healthReport, percent, pushServiceName, readExpiry, suppressionWords, whenText, type HealthFacts } from './delivery-health.ts';

// 10:00 UTC on Sunday 24 March 2030 = 11:00 in Berlin (winter time until the 31st).
const NOW = Date.UTC(2030, 2, 24, 10, 0, 0);
const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

const nothing: HealthFacts = { nowMs: NOW, timeZone: 'Europe/Berlin', quietHours: null, backoffs: [], suppressions: [], failures: [], expiry: weeks(1000, 10) };

/** Eight weeks of `active` subscribers at each start with `expired` expiring in each. */
function weeks(active: number, expired: number): ExpiryWeek[] {
  return Array.from({ length: 8 }, (_, i) => ({ startMs: NOW - (8 - i) * WEEK, activeAtStart: active, expired }));
}

describe('delivery health in words', () => {
  it.each([
    ['fcm.googleapis.com', 'Google FCM (fcm.googleapis.com)'],
    ['updates.push.services.mozilla.com', 'Mozilla autopush (updates.push.services.mozilla.com)'],
    ['web.push.apple.com', 'Apple web push (web.push.apple.com)'],
    ['wns2-db5p.notify.windows.com', 'Windows WNS (wns2-db5p.notify.windows.com)'],
    ['push.example', 'push.example'],
    // A look-alike under another domain is not the service it imitates.
    ['fcm.googleapis.com.evil.example', 'fcm.googleapis.com.evil.example'],
  ])('names the push service of %s', (host, name) => {
    expect(pushServiceName(host)).toBe(name);
  });

  it.each([
    [NOW + 3 * HOUR, 'today 14:00'],
    [NOW + 20 * HOUR, 'tomorrow 07:00'],
    [NOW - 12 * HOUR, 'yesterday 23:00'],
    [NOW + 3 * 24 * HOUR, '27 Mar 11:00'],
    [Date.UTC(2031, 0, 2, 8, 0), '2 Jan 2031 09:00'],
  ])('writes %s in the shop’s zone as %s', (ms, text) => {
    expect(whenText(ms, NOW, 'Europe/Berlin')).toBe(text);
  });

  it.each([
    [0.021, '2.1 %'],
    [0.05, '5.0 %'],
    [0, '0.0 %'],
  ])('percent(%s) is %s', (share, text) => expect(percent(share)).toBe(text));

  it.each([
    ['frequency_cap', 'over the frequency cap (marketing pushes per subscriber per 24 hours)'],
    ['cart_ordered', 'the cart was bought or emptied before the reminder was due'],
    ['other', 'no reason was recorded'],
    ['something_new', 'another reason (something_new)'],
  ])('says why %s suppressed a push', (reason, words) => expect(suppressionWords(reason)).toBe(words));

  it.each([
    [weeks(1000, 21), 'typical', '2.1 % of subscriptions expire a week, typical for web push.'],
    [weeks(1000, 25), 'typical', '2.5 % of subscriptions expire a week, typical for web push.'],
    [weeks(1000, 40), 'elevated', '4.0 % of subscriptions expire a week, more than the usual'],
    [weeks(1000, 80), 'high', 'High: 8.0 % of subscriptions expire a week. Check that the service worker'],
    [weeks(10, 1), 'not_enough_data', 'Not enough subscribers yet to judge: 8 expired over 8 weeks.'],
    [weeks(0, 0), 'not_enough_data', 'Not enough subscribers yet to judge: 0 expired over 8 weeks.'],
  ] as const)('reads weekly expiry %#: %s', (input, verdict, reading) => {
    const expiry = readExpiry(input);
    expect(expiry.verdict).toBe(verdict);
    expect(expiry.reading.startsWith(reading)).toBe(true);
  });

  it('pools the weeks: the share is all expired over all subscriber-weeks, each week with its own rate', () => {
    const input: ExpiryWeek[] = [
      { startMs: 0, activeAtStart: 0, expired: 0 },
      { startMs: WEEK, activeAtStart: 100, expired: 10 },
      { startMs: 2 * WEEK, activeAtStart: 300, expired: 2 },
    ];
    const expiry = readExpiry(input);
    expect(expiry.weeklyRate).toBeCloseTo(12 / 400);
    expect(expiry.weeks.map((w) => w.rate)).toEqual([null, 0.1, 2 / 300]);
  });

  it('says all good when nothing is wrong, and lists the rules at work below it', () => {
    expect(healthReport(nothing)).toMatchObject({
      allGood: true,
      summary: 'No push service is failing or holding us back, and subscriptions expire at a usual pace.',
      findings: [],
    });
    const ruled = healthReport({
      ...nothing,
      quietHours: { count: 12, earliestMs: NOW + 9 * HOUR, latestMs: NOW + 20 * HOUR },
      suppressions: [
        { reason: 'frequency_cap', lastDay: 3, lastWeek: 40 },
        { reason: 'ttl_elapsed', lastDay: 0, lastWeek: 1 },
      ],
    });
    expect(ruled.allGood).toBe(true);
    expect(ruled.findings.map((f) => [f.key, f.level])).toEqual([
      ['quiet-hours', 'info'],
      ['suppressed', 'info'],
    ]);
    expect(ruled.findings[0]!.sentences[0]).toBe('12 pushes wait for their subscribers’ quiet hours to end, the first at today 20:00, the last at tomorrow 07:00.');
    expect(ruled.findings[1]!.sentences).toEqual([
      '3 pushes in the last 24 hours and 41 pushes in the last 7 days were not sent.',
      'The frequency cap held back 3 pushes in the last 24 hours and 40 pushes in the last 7 days; raise it on the Automations page if that is too strict.',
      '1 push in 7 days (0 in 24 hours): their time to live ran out before they could be sent.',
    ]);
  });

  it('puts the problems first: a backoff, a failing service, fast expiry, then the rules', () => {
    const report = healthReport({
      ...nothing,
      quietHours: { count: 1, earliestMs: NOW + HOUR, latestMs: NOW + HOUR },
      expiry: weeks(1000, 40),
      backoffs: [{ host: 'web.push.apple.com', count: 30, untilMs: NOW + 2 * 60_000, lastStatus: 429, lastError: 'push_host_backoff: too many requests (429)' }],
      failures: [
        { host: 'fcm.googleapis.com', failed: 5, retrying: 2, last: { atMs: NOW - HOUR, status: 403, error: 'failed_after_attempts: gave up after 5 attempts; the last: forbidden' } },
        { host: 'updates.push.services.mozilla.com', failed: 0, retrying: 1, last: { atMs: NOW - 2 * HOUR, status: 502, error: 'push_error: bad gateway' } },
      ],
    });
    expect(report.allGood).toBe(false);
    expect(report.summary).toBe('2 problems and 2 to keep an eye on, below.');
    expect(report.findings.map((f) => [f.key, f.level])).toEqual([
      ['backoff-web.push.apple.com', 'problem'],
      ['failing-fcm.googleapis.com', 'problem'],
      ['failing-updates.push.services.mozilla.com', 'warning'],
      ['expiry', 'warning'],
      ['quiet-hours', 'info'],
    ]);
    const [backoff, fcm, mozilla] = report.findings;
    expect(backoff!.title).toBe('Apple web push (web.push.apple.com) is holding us back');
    expect(backoff!.sentences[0]).toBe('30 pushes wait until today 11:02 because the push service asked us to slow down (HTTP 429, too many requests).');
    expect(fcm!.sentences).toEqual([
      'In the last 24 hours 5 pushes failed for good and 2 pushes wait for a retry after an error.',
      'The last error, today 10:00: HTTP 403, “gave up after 5 attempts; the last: forbidden”.',
      'The push service refused our VAPID signature: check that the site’s VAPID keys and PUSHCART_VAPID_SUBJECT have not changed.',
    ]);
    expect(mozilla!.sentences[0]).toBe('In the last 24 hours 1 push waits for a retry after an error.');
    expect(mozilla!.sentences[2]).toBe('The push service is having trouble on its side; the pushes are retried with growing pauses.');
    expect(report.findings[4]!.sentences[0]).toBe('1 push waits for the subscriber’s quiet hours to end, until today 12:00.');
  });

  it('a backoff without a stored answer is an open circuit or a held host', () => {
    const report = healthReport({ ...nothing, backoffs: [{ host: 'fcm.googleapis.com', count: 1, untilMs: NOW + 60_000, lastStatus: null, lastError: 'push_host_backoff: held' }] });
    expect(report.findings[0]!.sentences[0]).toBe('1 push waits until today 11:01 because the push service asked us to slow down or its circuit is open.');
  });

  it('does not claim a usual expiry pace it could not judge', () => {
    expect(healthReport({ ...nothing, expiry: weeks(5, 0) }).summary).toBe('No push service is failing or holding us back.');
  });
});
