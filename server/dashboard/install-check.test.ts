import { describe, expect, it } from 'vitest';
import type { OriginSeen } from '../db/origins-seen.ts';
import { formatSeenTime, installCheck, MAX_REFUSED_ORIGINS_SHOWN, pushCapable, type OriginCheck } from './install-check.ts';

// 11:30 in Berlin (UTC+1 in January).
const NOW = new Date(Date.UTC(2030, 0, 15, 10, 30, 0));
const berlin = (hours: number, minutes: number, day = 15) => new Date(Date.UTC(2030, 0, day, hours - 1, minutes));
const SHOP = 'https://shop.example';

function row(origin: string, fields: Partial<OriginSeen> = {}): OriginSeen {
  return { origin, configAt: null, subscriptionAt: null, refused: null, ...fields };
}

function check(allowedOrigins: string[], seen: OriginSeen[]): OriginCheck[] {
  return installCheck({ allowedOrigins, seen, now: NOW, timeZone: 'Europe/Berlin', serviceWorkerPath: '/pushcart-sw.js' }).origins;
}

describe('installCheck, per allowed origin', () => {
  const cases: Array<{ name: string; allowed?: string[]; seen: OriginSeen[]; tone: OriginCheck['tone']; headline: string; advice: RegExp[] }> = [
    {
      name: 'config and subscription seen: working, with both times in the site’s zone',
      seen: [row(SHOP, { configAt: berlin(11, 2), subscriptionAt: berlin(10, 58) })],
      tone: 'working',
      headline: 'Seen from https://shop.example at 11:02 (config), last subscription 10:58.',
      advice: [],
    },
    {
      name: 'nothing at all: the tag is missing or no page was opened',
      seen: [],
      tone: 'problem',
      headline: 'No request from https://shop.example yet.',
      advice: [/script tag is not on the shop’s pages, or no page with it has been opened/],
    },
    {
      name: 'config but no subscription: the worker file, or nobody allowed yet',
      seen: [row(SHOP, { configAt: berlin(11, 2) })],
      tone: 'waiting',
      headline: 'Seen from https://shop.example at 11:02 (config), but no subscription has arrived from it yet.',
      advice: [/^Open https:\/\/shop\.example\/pushcart-sw\.js: it must show the one line/, /nobody may have allowed notifications yet/],
    },
    {
      name: 'a subscription alone (the config was cached): working',
      seen: [row(SHOP, { subscriptionAt: berlin(9, 15) })],
      tone: 'working',
      headline: 'Last subscription from https://shop.example at 09:15.',
      advice: [],
    },
    {
      name: 'quiet for over a week: is the tag still there?',
      seen: [row(SHOP, { configAt: berlin(11, 2, 3), subscriptionAt: berlin(10, 58, 2) })],
      tone: 'problem',
      headline: 'Seen from https://shop.example at 3 Jan 11:02 (config), last subscription 2 Jan 10:58.',
      advice: [/^Nothing since 3 Jan 11:02: .*still on its pages/],
    },
    {
      name: 'a subscription refused after the last success: the reason in words',
      seen: [
        row(SHOP, {
          configAt: berlin(11, 0),
          refused: { at: berlin(11, 1), request: 'subscription', code: 'endpoint_not_allowed', detail: 'push.evil.example is not a known push service' },
        }),
      ],
      tone: 'waiting',
      headline: 'Seen from https://shop.example at 11:00 (config), but no subscription has arrived from it yet.',
      advice: [/pushcart-sw\.js/, /allowed notifications/, /^A subscription from here was refused at 11:01: the browser’s push address was not accepted \(push\.evil\.example is not a known push service\)/],
    },
    {
      name: 'a refusal older than the last success is no longer news',
      seen: [
        row(SHOP, {
          configAt: berlin(11, 0),
          subscriptionAt: berlin(11, 5),
          refused: { at: berlin(10, 0), request: 'subscription', code: 'invalid_signature', detail: null },
        }),
      ],
      tone: 'working',
      headline: 'Seen from https://shop.example at 11:00 (config), last subscription 11:05.',
      advice: [],
    },
    {
      name: 'a plain http origin: push needs https',
      allowed: ['http://shop.example'],
      seen: [row('http://shop.example', { configAt: berlin(11, 2) })],
      tone: 'problem',
      headline: 'Seen from http://shop.example at 11:02 (config), but no subscription has arrived from it yet.',
      advice: [/pushcart-sw\.js/, /allowed notifications/, /^Push needs https: .* list https:\/\/shop\.example instead\.$/],
    },
    {
      name: 'http://localhost is fine for trying out',
      allowed: ['http://localhost:3000'],
      seen: [row('http://localhost:3000', { configAt: berlin(11, 2), subscriptionAt: berlin(11, 3) })],
      tone: 'working',
      headline: 'Seen from http://localhost:3000 at 11:02 (config), last subscription 11:03.',
      advice: [],
    },
  ];

  it.each(cases)('$name', ({ allowed, seen, tone, headline, advice }) => {
    const [result] = check(allowed ?? [SHOP], seen);
    expect(result).toMatchObject({ origin: (allowed ?? [SHOP])[0], allowed: true, tone, headline, suggestAdding: false });
    expect(result!.advice).toHaveLength(advice.length);
    advice.forEach((pattern, i) => expect(result!.advice[i]).toMatch(pattern));
  });

  it('lists every allowed origin, in the site’s order, whether seen or not', () => {
    const results = check([SHOP, 'https://www.shop.example'], [row('https://www.shop.example', { configAt: berlin(11, 0), subscriptionAt: berlin(11, 0) })]);
    expect(results.map((result) => [result.origin, result.tone])).toEqual([
      [SHOP, 'problem'],
      ['https://www.shop.example', 'working'],
    ]);
  });
});

describe('installCheck, refused origins outside the list', () => {
  const refused = (origin: string, minute: number, code = 'origin_not_allowed') =>
    row(origin, { refused: { at: berlin(10, minute), request: 'config', code, detail: `Origin ${origin} is not one of this site’s origins` } });

  it('names the exact origin and when it tried, and offers to add it', () => {
    const [, result] = check([SHOP], [refused('https://www.shop.example', 40)]);
    expect(result).toEqual({
      origin: 'https://www.shop.example',
      allowed: false,
      tone: 'problem',
      headline: 'https://www.shop.example tried at 10:40 but isn’t allowed.',
      advice: [
        'It is another address of https://shop.example (with or without www.): if shoppers reach the shop there too, list both.',
        'If it is your shop, add exactly https://www.shop.example to the allowed origins.',
      ],
      suggestAdding: true,
    });
  });

  it('says to redirect rather than add the http twin of an allowed https origin', () => {
    const [, result] = check([SHOP], [refused('http://shop.example', 40)]);
    expect(result!.advice).toEqual(['It is the http:// address of https://shop.example: make the shop redirect http to https rather than adding it (push needs https).']);
    expect(result!.suggestAdding).toBe(false);
  });

  it('does not offer to add what is no plain origin or cannot push', () => {
    const results = check([SHOP], [refused('http://elsewhere.example', 41), refused('null', 42), refused('https://x.example/<b>', 43)]);
    expect(results.slice(1).map((result) => [result.origin, result.suggestAdding])).toEqual([
      ['https://x.example/<b>', false],
      ['null', false],
      ['http://elsewhere.example', false],
    ]);
    expect(results[3]!.advice).toEqual(['If it is your shop, add exactly http://elsewhere.example to the allowed origins.', 'Push would not work there anyway: it needs an https page.']);
    for (const odd of results.slice(1, 3)) expect(odd.advice).toEqual([expect.stringMatching(/^No browser on a shop page sends an origin like this/)]);
  });

  it(`shows the ${MAX_REFUSED_ORIGINS_SHOWN} most recent and counts the rest; origins once allowed but not refused are left out`, () => {
    const seen = Array.from({ length: MAX_REFUSED_ORIGINS_SHOWN + 4 }, (_, i) => refused(`https://made-up-${i}.example`, i));
    seen.push(row('https://formerly-allowed.example', { configAt: berlin(11, 0) }));
    const result = installCheck({ allowedOrigins: [SHOP], seen, now: NOW, timeZone: 'UTC', serviceWorkerPath: '/pushcart-sw.js' });
    expect(result.origins).toHaveLength(1 + MAX_REFUSED_ORIGINS_SHOWN);
    expect(result.origins[1]!.origin).toBe(`https://made-up-${MAX_REFUSED_ORIGINS_SHOWN + 3}.example`);
    expect(result.moreRefused).toBe(4);
    expect(result.timeZone).toBe('UTC');
  });
});

describe('formatSeenTime', () => {
  it.each([
    ['today', berlin(11, 2), 'Europe/Berlin', '11:02'],
    ['today, in another zone', berlin(11, 2), 'America/New_York', '05:02'],
    ['yesterday', berlin(23, 59, 14), 'Europe/Berlin', 'yesterday 23:59'],
    ['earlier this year', berlin(8, 0, 3), 'Europe/Berlin', '3 Jan 08:00'],
    ['a year before', new Date(Date.UTC(2029, 11, 20, 12, 0)), 'Europe/Berlin', '20 Dec 2029 13:00'],
    // 00:30 in Berlin on the 15th is still the 14th in UTC: the day is the zone's.
    ['the zone’s day, not UTC’s', new Date(Date.UTC(2030, 0, 14, 23, 30)), 'Europe/Berlin', '00:30'],
  ])('%s', (_name, at, zone, expected) => {
    expect(formatSeenTime(at, NOW, zone)).toBe(expected);
  });
});

describe('pushCapable', () => {
  it.each([
    ['https://shop.example', true],
    ['https://shop.example:8443', true],
    ['http://localhost:3000', true],
    ['http://shop.localhost', true],
    ['http://127.0.0.1:8080', true],
    ['http://[::1]:8080', true],
    ['http://shop.example', false],
    ['http://192.168.1.10', false],
    ['null', false],
    ['file://', false],
  ])('%s → %s', (origin, expected) => {
    expect(pushCapable(origin)).toBe(expected);
  });
});
