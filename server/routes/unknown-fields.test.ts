import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeRoutes, type DescribedRoute } from '../openapi/document.ts';
import { EXTERNALLY_DECLARED_OPERATIONS } from '../openapi/external-operations.ts';
import type { Access } from '../openapi/operation.ts';
import { ADMIN_TOKEN, browserHeaders, SHOP_ORIGIN } from '../testing/fixtures.ts';
import { routeTestWorld } from '../testing/route-test.ts';

/*
 * Unknown fields are refused on every route (issue 13), not dropped in silence: a misspelt
 * `extrnalUserId` or a `tags` the route does not store must come back as a 400 naming it. The
 * operations are walked from the app's route table, so a new route that forgets `.strict()` fails
 * here. The one exception is the browser's own PushSubscriptionJSON, which browsers may extend.
 */

const LOTS = { capacity: 100_000, refillPerSecond: 100_000 };
const world = routeTestWorld({ demo: true, rateLimits: { perIp: LOTS, perSite: LOTS, perSecretKey: LOTS, admin: LOTS } });

const EXTRA_FIELD = 'unexpectedField';

/** Objects a route reads without `.strict()` on purpose, as `METHOD path target: field.path`, and why. */
const NOT_STRICT_ON_PURPOSE: Record<string, string> = {
  'POST /v1/subscriptions json: subscription': 'PushSubscriptionJSON, which browsers may extend',
  'POST /v1/subscriptions json: subscription.keys': 'PushSubscriptionJSON, which browsers may extend',
  'POST /v1/subscriptions/renew json: subscription': 'PushSubscriptionJSON, which browsers may extend',
  'POST /v1/subscriptions/renew json: subscription.keys': 'PushSubscriptionJSON, which browsers may extend',
};

function headersFor(access: Access): Record<string, string> {
  const json = { 'Content-Type': 'application/json' };
  switch (access) {
    case 'secretKey':
      return { ...json, Authorization: `Bearer ${world.site.secretKey}` };
    case 'publishableKey':
    case 'eitherKey':
      return browserHeaders(world.site);
    case 'adminToken':
    case 'metricsToken':
      return { ...json, Authorization: `Bearer ${ADMIN_TOKEN}` };
    case 'publishableKeyInPath':
    case 'serviceWorker':
    case 'public':
      return { ...json, Origin: SHOP_ORIGIN };
  }
}

function urlOf(route: DescribedRoute, query = ''): string {
  const params: Record<string, string> = { publishableKey: world.site.publishableKey, siteId: world.site.id };
  return route.routerPath.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => params[name] ?? crypto.randomUUID()) + query;
}

function operations(): DescribedRoute[] {
  return describeRoutes(world.app.routes, EXTERNALLY_DECLARED_OPERATIONS).described;
}

const name = (route: DescribedRoute) => `${route.method} ${route.path}`;

interface Refusal {
  error?: { code: string; details?: Array<{ path: string; message: string }> };
}

/** Every object in `schema` that drops unknown keys (zod's default), by field path. */
function strippingObjects(schema: z.ZodType, path: string[] = [], seen = new Set<z.ZodType>()): string[] {
  if (seen.has(schema)) return [];
  seen = new Set([...seen, schema]);
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const inner = (child: unknown, childPath = path) => (child ? strippingObjects(child as z.ZodType, childPath, seen) : []);
  switch (def.type) {
    case 'object': {
      // A catchall of `never` is `.strict()`; another catchall (free-form fields of a known type) keeps them, on purpose.
      const own = def.catchall === undefined ? [path.join('.') || '(whole)'] : [];
      const shape = def.shape as Record<string, z.ZodType>;
      return [...own, ...Object.entries(shape).flatMap(([field, child]) => inner(child, [...path, field]))];
    }
    case 'array':
      return inner(def.element, [...path, '[]']);
    case 'record':
      return inner(def.valueType, [...path, '{value}']);
    case 'union':
      return (def.options as z.ZodType[]).flatMap((option) => inner(option));
    case 'intersection':
      return [...inner(def.left), ...inner(def.right)];
    case 'pipe':
      return [...inner(def.in), ...inner(def.out)];
    case 'lazy':
      return inner((def.getter as () => z.ZodType)());
    default:
      return 'innerType' in def ? inner(def.innerType) : [];
  }
}

describe('unknown fields', () => {
  it('the walk finds the app’s JSON bodies and query strings', () => {
    const found = operations().flatMap((route) => route.validations.map((validation) => `${name(route)} ${validation.target}`));
    expect(found).toEqual(
      expect.arrayContaining([
        'POST /v1/subscriptions json',
        'POST /v1/subscriptions/tags json',
        'POST /v1/subscribers/tags json',
        'POST /v1/notifications json',
        'PATCH /v1/settings json',
        'POST /v1/admin/sites json',
        'POST /demo/test-push json',
        'GET /v1/subscribers query',
        'GET /v1/sites/{publishableKey}/config query',
      ]),
    );
  });

  it('are refused with 400 validation_failed naming the field, in every JSON body', async () => {
    const checked: string[] = [];
    const failures: string[] = [];
    for (const route of operations()) {
      if (!route.validations.some((validation) => validation.target === 'json')) continue;
      // The extra field alone: the required fields' absence is reported beside it. (A body whose
      // schema picks its shape by a field first would need that field here.)
      const body = { [EXTRA_FIELD]: 1 };
      const response = await world.app.request(urlOf(route), { method: route.method, headers: headersFor(route.operation.access), body: JSON.stringify(body) });
      const answer = (await response.json()) as Refusal;
      const named = answer.error?.details?.some((detail) => detail.path === EXTRA_FIELD && detail.message === 'unknown key');
      if (response.status !== 400 || answer.error?.code !== 'validation_failed' || !named) failures.push(`${name(route)}: ${response.status} ${JSON.stringify(answer)}`);
      checked.push(name(route));
    }
    expect(failures).toEqual([]);
    expect(checked.length).toBeGreaterThanOrEqual(15);
  });

  it('are refused with 400 validation_failed naming the parameter, in every query string a route reads', async () => {
    const checked: string[] = [];
    const failures: string[] = [];
    for (const route of operations()) {
      if (!route.validations.some((validation) => validation.target === 'query')) continue;
      const response = await world.app.request(urlOf(route, `?${EXTRA_FIELD}=1`), { method: route.method, headers: headersFor(route.operation.access) });
      const answer = (await response.json()) as Refusal;
      const named = answer.error?.details?.some((detail) => detail.path === EXTRA_FIELD && detail.message === 'unknown key');
      if (response.status !== 400 || answer.error?.code !== 'validation_failed' || !named) failures.push(`${name(route)}: ${response.status} ${JSON.stringify(answer)}`);
      checked.push(name(route));
    }
    expect(failures).toEqual([]);
    expect(checked.length).toBeGreaterThanOrEqual(4);
  });

  it('are refused at every depth: no object in a request schema drops unknown keys, but the browser’s own subscription', () => {
    const stripping = operations().flatMap((route) =>
      route.validations
        .filter((validation) => validation.target === 'json' || validation.target === 'query')
        .flatMap((validation) => strippingObjects(validation.schema).map((path) => `${name(route)} ${validation.target}: ${path}`)),
    );
    expect(stripping.filter((found) => !(found in NOT_STRICT_ON_PURPOSE))).toEqual([]);
    // Each exception is still there (and still an exception): a stale entry would hide nothing.
    expect(Object.keys(NOT_STRICT_ON_PURPOSE).filter((entry) => !stripping.includes(entry))).toEqual([]);
  });

  it('the depth walk notices an object that drops unknown keys', () => {
    const schema = z.strictObject({ good: z.strictObject({ a: z.string() }), bad: z.array(z.object({ b: z.string() })), loose: z.looseObject({}) });
    expect(strippingObjects(schema)).toEqual(['bad.[]']);
  });
});
