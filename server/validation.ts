import { zValidator } from '@hono/zod-validator';
import type { Context, ValidationTargets } from 'hono';
import { z } from 'zod';
import { ApiError } from './errors.ts';

/**
 * Deepest nesting of objects and arrays accepted anywhere in a JSON body. A shop's event
 * properties need a handful of levels; thousands of levels only exhaust stacks (the parser's, the
 * validator's, Postgres's jsonb input) and turn a bad request into a server error.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Keys that reach an object's prototype when code assigns or merges by key (`target[key] = …`).
 * JSON.parse makes `"__proto__"` an ordinary own property, so it survives parsing and bites later,
 * in a spread, a merge or an assignment.
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A UTF-16 code unit of a surrogate pair without its partner (the regex's `u` flag reads pairs as one code point). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why Postgres could not store this text, or undefined. `text` and `jsonb` refuse NUL
 * ("invalid byte sequence for encoding UTF8: 0x00", "unsupported Unicode escape sequence"), and a
 * lone surrogate has no UTF-8 encoding at all (RFC 3629 §3), so either would fail the insert as a 500.
 */
export function postgresTextProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (a lone surrogate such as \\ud800 was found)';
  return undefined;
}

export interface InputProblem {
  path: Array<string | number>;
  message: string;
}

/**
 * The first thing in a parsed JSON value that must not be stored: a string or key Postgres cannot
 * hold, a prototype key, or nesting deeper than `MAX_JSON_DEPTH` objects and arrays.
 */
export function jsonValueProblem(value: unknown): InputProblem | undefined {
  return findJsonProblem(value, MAX_JSON_DEPTH, []);
}

/** Recursion stops once `levelsLeft` is spent, so a hostile depth cannot exhaust the stack here. */
function findJsonProblem(value: unknown, levelsLeft: number, path: Array<string | number>): InputProblem | undefined {
  if (typeof value === 'string') {
    const problem = postgresTextProblem(value);
    return problem === undefined ? undefined : { path, message: problem };
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (levelsLeft < 1) return { path, message: `is nested too deep (at most ${MAX_JSON_DEPTH} levels of objects and arrays)` };
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const problem = findJsonProblem(value[index], levelsLeft - 1, [...path, index]);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const [key, inner] of Object.entries(value)) {
    if (PROTOTYPE_KEYS.has(key)) return { path, message: `key ${JSON.stringify(key)} is not allowed` };
    const keyProblem = postgresTextProblem(key);
    if (keyProblem !== undefined) return { path, message: `key ${JSON.stringify(key)} ${keyProblem}` };
    const problem = findJsonProblem(inner, levelsLeft - 1, [...path, key]);
    if (problem) return problem;
  }
  return undefined;
}

/** The check every string schema carries; tests find it on each string a route accepts. */
export const postgresTextCheck = z.superRefine<string>((value, ctx) => {
  const problem = postgresTextProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: value });
});

/** The check on free-form JSON (event properties): every nested key and string, and the depth. */
export const jsonValueCheck = z.superRefine<unknown>((value, ctx) => {
  const problem = jsonValueProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path, input: value });
});

/** A string Postgres can store: use this, never a bare `z.string()`, in a schema of request input. */
export function text() {
  return z.string().check(postgresTextCheck);
}

/**
 * A free-form JSON object (keys and values are the sender's), checked at every depth. The check
 * runs on the input, before the record is copied: zod drops a `__proto__` key while copying, which
 * would hide it rather than refuse it.
 */
export function jsonObject() {
  return z.unknown().check(jsonValueCheck).pipe(z.record(text(), z.unknown()));
}

/**
 * The largest amount of money accepted (a price, a cart or order total), in the currency's major
 * unit. It leaves room for every real price in every currency (45,990,000 VND is a phone) and keeps
 * four decimals exact in a double, where `1e308` would make every sum over it Infinity.
 */
export const MAX_MONEY_AMOUNT = 1e11;
/** ISO 4217 minor units go up to 4 (CLF); more decimals are a bug in the sender, not a price. */
const MONEY_DECIMALS = 4;
const MONEY_SCALE = 10 ** MONEY_DECIMALS;

/** `true` when `value` has at most four decimals, forgiving the last bits of binary rounding (0.1 + 0.2). */
function hasAtMostMoneyDecimals(value: number): boolean {
  const scaled = value * MONEY_SCALE;
  return Math.abs(scaled - Math.round(scaled)) <= Math.abs(scaled) * Number.EPSILON * 8;
}

/** The visitor ids the snippet makes: random, first-party, a short opaque token — never an e-mail or a name. */
export function visitorIdText() {
  return text().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8–64 characters of A–Z, a–z, 0–9, _ or -');
}

/** An absolute http(s) URL, as browsers and push payloads use them. */
export function httpUrlText() {
  return z
    .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })
    .max(2048)
    .check(postgresTextCheck);
}

/**
 * An IANA time zone name (Europe/Berlin, America/Argentina/Buenos_Aires, UTC) that this runtime
 * knows, in the database's own spelling (`europe/berlin` → `Europe/Berlin`). Offsets such as
 * `+02:00` are refused: quiet hours need a zone's daylight-saving rules, not one offset.
 */
export function timeZoneText() {
  return text()
    .max(64)
    .refine((zone) => /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone) && canonicalTimeZone(zone) !== undefined, {
      message: 'must be an IANA time zone such as Europe/Berlin',
    })
    .transform((zone) => canonicalTimeZone(zone)!);
}

function canonicalTimeZone(zone: string): string | undefined {
  return remembered(canonicalZones, zone, () => {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    } catch {
      return undefined;
    }
  });
}

/**
 * Answers of Intl remembered per spelling: building an Intl.DateTimeFormat costs about half a
 * millisecond of CPU, paid twice on every subscription (check, then spelling) — more than the rest
 * of the request. There are a few hundred zones and as many spellings in real use; past
 * `MAX_REMEMBERED_SPELLINGS` (a client sending made-up names) nothing more is remembered.
 */
const MAX_REMEMBERED_SPELLINGS = 2_000;
const canonicalZones = new Map<string, string | undefined>();
const canonicalLocales = new Map<string, string | undefined>();

function remembered(cache: Map<string, string | undefined>, key: string, compute: () => string | undefined): string | undefined {
  if (cache.has(key)) return cache.get(key);
  const value = compute();
  if (cache.size < MAX_REMEMBERED_SPELLINGS) cache.set(key, value);
  return value;
}

/** A notification button's id, reported back when it is clicked. */
export function actionIdText() {
  return text().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 characters of A–Z, a–z, 0–9, _ or -');
}

/** An id from the shop's own systems: a product, cart, order or user id, opaque to us. */
export function externalIdText() {
  return text().min(1).max(200);
}

/**
 * The canonical spelling of a BCP 47 language tag (`de-at` → `de-AT`), or undefined when it is not
 * one. Intl is the authority because Intl does the formatting.
 */
export function canonicalLocale(tag: string): string | undefined {
  return remembered(canonicalLocales, tag, () => {
    try {
      return Intl.getCanonicalLocales(tag)[0];
    } catch {
      return undefined;
    }
  });
}

/** A BCP 47 language tag, in its canonical spelling; 35 characters is what RFC 5646 §4.4.1 asks every implementation to hold. */
export function localeTag() {
  return text()
    .max(35)
    .refine((tag) => canonicalLocale(tag) !== undefined, 'must be a BCP 47 language tag such as en or de-DE')
    .transform((tag) => canonicalLocale(tag)!);
}

/** An ISO 4217 currency code. */
export function currencyCode() {
  return text().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');
}

/** A non-negative amount of money with at most four decimals, rounded to them (0.30000000000000004 → 0.3). */
export function money() {
  return z
    .number()
    .finite()
    .nonnegative()
    .max(MAX_MONEY_AMOUNT)
    .refine(hasAtMostMoneyDecimals, `must have at most ${MONEY_DECIMALS} decimals`)
    .transform((value) => Math.round(value * MONEY_SCALE) / MONEY_SCALE);
}

/**
 * A path segment or query parameter whose percent-encoding does not decode to UTF-8 (RFC 3986
 * §2.1, RFC 3629) is refused: the router hands such a value over raw, and `%E0%A4%A` would be
 * stored as a product id no shop ever wrote.
 */
function refuseBrokenPercentEncoding(c: Context, part: 'path' | 'query'): void {
  // The URL parser keeps percent-escapes as they were sent; only decoding reveals broken ones.
  const url = new URL(c.req.url);
  const pieces = part === 'path' ? url.pathname.split('/') : url.search.slice(1).split('&');
  for (const piece of pieces) {
    try {
      decodeURIComponent(piece);
    } catch {
      throw new ApiError('validation_failed', `${part}: broken percent-encoding (each %XX must decode to UTF-8)`, {
        details: [{ path: part, message: 'broken percent-encoding' }],
      });
    }
  }
}

/**
 * zod issues as the error details: `path` dotted, one entry per unknown key with the key in its
 * path (zod reports them together, on the object that holds them).
 */
export function issueDetails(issues: readonly z.core.$ZodIssue[]): Array<{ path: string; message: string }> {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...issue.path, key].map(String).join('.'), message: 'unknown key' }));
    // A record's key that fails its schema: zod says only "Invalid key in record"; the key's own issues say why.
    const why = issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join('; ') : '';
    return [{ path: issue.path.map(String).join('.'), message: why ? `key ${why}` : issue.message }];
  });
}

function refuse(issues: Array<{ path: string; message: string }>, target: string): never {
  const first = issues[0];
  throw new ApiError('validation_failed', first ? `${first.path || target}: ${first.message}` : 'invalid request', { details: issues });
}

/** What `validate` was given, kept on the middleware so tests can list every validated input of the app. */
export interface RouteValidation {
  target: keyof ValidationTargets;
  schema: z.ZodType;
}

/**
 * zod validation for a request part; failures become the one error shape (validation_failed)
 * with every issue listed, so a developer fixes all fields in one round. A JSON body is first
 * searched whole for what must never be stored (`jsonValueProblem`), before the schema reads it;
 * path and query parameters are refused when their percent-encoding is broken.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(target: Target, schema: Schema) {
  const validator = zValidator(
    target,
    schema,
    (result, c) => {
      if (target === 'json' && !/^application\/([\w.-]+\+)?json\b/i.test(c.req.header('Content-Type') ?? '')) {
        throw new ApiError('validation_failed', 'Content-Type must be application/json');
      }
      if (!result.success) refuse(issueDetails(result.error.issues), target);
    },
    {
      validationFunction: (inner, value) => {
        const problem = target === 'json' ? jsonValueProblem(value) : undefined;
        if (problem !== undefined) refuse([{ path: problem.path.map(String).join('.'), message: problem.message }], target);
        // The validator's result type is conditional on the (generic) schema; it is zod 4's own result.
        return inner.safeParseAsync(value) as never;
      },
    },
  );
  const middleware = (async (c, next) => {
    if (target === 'param') refuseBrokenPercentEncoding(c, 'path');
    if (target === 'query') refuseBrokenPercentEncoding(c, 'query');
    return validator(c, next);
  }) as typeof validator;
  const validation: RouteValidation = { target, schema };
  return Object.assign(middleware, { validation });
}
