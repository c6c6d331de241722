import { describe, expect, it } from 'vitest';
import {
  canonicalLocale,
  externalIdText,
  httpUrlText,
  jsonObject,
  jsonValueProblem,
  localeTag,
  MAX_JSON_DEPTH,
  MAX_MONEY_AMOUNT,
  money,
  postgresTextProblem,
  text,
  timeZoneText,
} from './validation.ts';

function nestedArrays(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('postgresTextProblem', () => {
  it.each([
    ['a NUL', 'a\u0000b', /NUL/],
    ['a lone high surrogate', 'a\ud800b', /lone surrogate/],
    ['a lone low surrogate', '\udc00', /lone surrogate/],
    ['a high surrogate at the end', 'abc\ud83d', /lone surrogate/],
  ])('names %s', (_name, value, message) => {
    expect(postgresTextProblem(value)).toMatch(message);
  });

  it.each([['plain ASCII', 'Blue sneakers'], ['a surrogate pair (emoji)', 'Sale 🛒'], ['other control characters', 'a\tb\nc'], ['the empty string', '']])('accepts %s', (_name, value) => {
    expect(postgresTextProblem(value)).toBeUndefined();
  });
});

describe('jsonValueProblem', () => {
  it('accepts exactly the maximum depth and refuses one level more, with the path to it', () => {
    expect(jsonValueProblem(nestedArrays(MAX_JSON_DEPTH))).toBeUndefined();
    const problem = jsonValueProblem(nestedArrays(MAX_JSON_DEPTH + 1));
    expect(problem?.message).toMatch(/nested too deep/);
    expect(problem?.path).toHaveLength(MAX_JSON_DEPTH);
  });

  it('stops at the limit instead of recursing through 100,000 levels', () => {
    expect(jsonValueProblem(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`))?.message).toMatch(/nested too deep/);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the prototype key %s at any depth, naming the object that holds it', (key) => {
    const value = JSON.parse(`{"a":[{"b":{"${key}":{"polluted":true}}}]}`);
    expect(jsonValueProblem(value)).toEqual({ path: ['a', 0, 'b'], message: `key "${key}" is not allowed` });
  });

  it('finds a bad string or key deep inside, with its path', () => {
    expect(jsonValueProblem({ items: [{ name: 'ok' }, { name: 'x\u0000' }] })?.path).toEqual(['items', 1, 'name']);
    expect(jsonValueProblem({ items: [{ ['\ud800']: 1 }] })).toMatchObject({ path: ['items', 0], message: expect.stringMatching(/lone surrogate/) });
  });

  it('accepts ordinary JSON', () => {
    expect(jsonValueProblem({ a: [1, true, null, 'x', { b: 'é🛒' }], constructorName: 'fine' })).toBeUndefined();
  });
});

describe('text() and jsonObject()', () => {
  it('text() refuses what Postgres cannot store and keeps the other rules it is given', () => {
    expect(text().max(3).safeParse('a\u0000').success).toBe(false);
    expect(text().max(3).safeParse('abcd').success).toBe(false);
    expect(text().max(3).safeParse('abc').success).toBe(true);
  });

  it('jsonObject() refuses a top-level __proto__ key that a record would silently drop', () => {
    const result = jsonObject().safeParse(JSON.parse('{"__proto__":{"x":1},"a":1}'));
    expect(result.success).toBe(false);
    expect(jsonObject().safeParse({ a: { b: 'c' } }).success).toBe(true);
  });
});

describe('money()', () => {
  it.each([
    ['1e308', 1e308],
    ['just over the maximum', MAX_MONEY_AMOUNT + 1],
    ['a negative amount', -1],
    ['five decimals', 1.00001],
    ['six decimals', 19.999999],
  ])('refuses %s', (_name, value) => {
    expect(money().safeParse(value).success).toBe(false);
  });

  it.each([
    ['the maximum', MAX_MONEY_AMOUNT, MAX_MONEY_AMOUNT],
    ['a price in dong', 45_990_000, 45_990_000],
    ['four decimals', 1.2345, 1.2345],
    ['a sum with binary rounding noise', 0.1 + 0.2, 0.3],
    ['zero', 0, 0],
  ])('accepts %s', (_name, value, expected) => {
    expect(money().parse(value)).toBe(expected);
  });
});

describe('httpUrlText()', () => {
  it.each([
    ['a relative path', '/cart'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['an http URL without //', 'http:example.com/cart'],
    ['an ftp URL', 'ftp://shop.example/cart'],
  ])('refuses %s, saying what it wants', (_name, value) => {
    const result = httpUrlText().safeParse(value);
    expect(result.error?.issues.map((issue) => issue.message)).toEqual(['must be an absolute http(s) URL']);
  });

  it('accepts http and https URLs as written', () => {
    expect(httpUrlText().parse('https://shop.example/cart?id=1')).toBe('https://shop.example/cart?id=1');
    expect(httpUrlText().parse('http://localhost:8080/')).toBe('http://localhost:8080/');
  });
});

describe('localeTag() and canonicalLocale()', () => {
  it.each([
    ['de-at', 'de-AT'],
    ['EN', 'en'],
    ['zh-hant-tw', 'zh-Hant-TW'],
  ])('stores %s in its canonical spelling %s', (tag, canonical) => {
    expect(canonicalLocale(tag)).toBe(canonical);
    expect(localeTag().parse(tag)).toBe(canonical);
  });

  it.each([
    ['an underscore', 'de_AT'],
    ['an empty tag', ''],
    ['words', 'not a locale!'],
  ])('refuses a tag with %s', (_name, tag) => {
    expect(canonicalLocale(tag)).toBeUndefined();
    expect(localeTag().safeParse(tag).error?.issues[0]?.message).toBe('must be a BCP 47 language tag such as en or de-DE');
  });

  it('refuses a tag longer than the 35 characters RFC 5646 asks implementations to hold', () => {
    const long = 'en-x-abcdefgh-abcdefgh-abcdefgh-abcdefgh'; // 40 characters, valid BCP 47
    expect(canonicalLocale(long)).toBeDefined();
    expect(localeTag().safeParse(long).success).toBe(false);
  });
});

describe('externalIdText()', () => {
  it('takes the shop\'s ids of 1 to 200 characters', () => {
    expect(externalIdText().safeParse('').success).toBe(false);
    expect(externalIdText().safeParse('x'.repeat(201)).success).toBe(false);
    expect(externalIdText().parse('sku-42/blue')).toBe('sku-42/blue');
  });
});

describe('timeZoneText()', () => {
  it.each([
    ['Europe/Berlin', 'Europe/Berlin'],
    ['europe/berlin', 'Europe/Berlin'],
    ['asia/tokyo', 'Asia/Tokyo'],
    ['utc', 'UTC'],
  ])('stores %s as %s', (zone, canonical) => {
    expect(timeZoneText().parse(zone)).toBe(canonical);
  });

  it.each([
    ['an unknown zone', 'Mars/Olympus_Mons'],
    ['an offset', '+02:00'],
    ['an empty name', ''],
  ])('refuses %s', (_name, zone) => {
    expect(timeZoneText().safeParse(zone).error?.issues[0]?.message).toBe('must be an IANA time zone such as Europe/Berlin');
  });
});
