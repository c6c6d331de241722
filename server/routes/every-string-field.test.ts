import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ADMIN_TOKEN, browserHeaders, browserSubscription, SHOP_ORIGIN } from '../testing/fixtures.ts';
import { databaseFingerprint } from '../testing/database-fingerprint.ts';
import { documentedSchema } from '../openapi/operation.ts';
import { routeTestWorld } from '../testing/route-test.ts';
import { jsonValueCheck, postgresTextCheck, postgresTextProblem, type RouteValidation } from '../validation.ts';

/*
 * Every string a route accepts, found by walking the zod schemas the app's routes validate with
 * (not a hand-picked list): each must carry the Postgres text check, and each, given a NUL or a
 * lone surrogate, must be answered 400 in the error shape with nothing stored. A new route, or a
 * new field that uses a bare z.string(), fails here until it is covered.
 */

const LOTS = { capacity: 100_000, refillPerSecond: 100_000 };
const world = routeTestWorld({ demo: true, rateLimits: { perIp: LOTS, perSite: LOTS, perSecretKey: LOTS, admin: LOTS } });

// ---------------------------------------------------------------------------------------------
// The validated inputs of the app, from its route table.

interface ValidatedInput extends RouteValidation {
  method: string;
  path: string;
}

function validatedInputs(app: { routes: Array<{ method: string; path: string; handler: unknown }> }): ValidatedInput[] {
  const found = new Map<string, ValidatedInput>();
  for (const route of app.routes) {
    const handler = route.handler as { validation?: RouteValidation; __COMPOSED_HANDLER?: { validation?: RouteValidation } };
    const validation = handler.validation ?? handler.__COMPOSED_HANDLER?.validation;
    if (validation) found.set(`${route.method} ${route.path} ${validation.target}`, { method: route.method, path: route.path, ...validation });
  }
  return [...found.values()];
}

// ---------------------------------------------------------------------------------------------
// Where a schema accepts text.

/** A step into a request part: an object field, an array item, or a record's keys or values. */
type Step = { field: string } | { item: true } | { key: true } | { value: true };

interface TextLeaf {
  steps: Step[];
  /** Whether the string (or free-form JSON) is checked for what Postgres cannot store. */
  covered: boolean;
  kind: 'string' | 'free-form JSON';
}

interface ZodDefinition {
  type: string;
  checks?: unknown[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  in?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  items?: z.ZodType[];
  getter?: () => z.ZodType;
}

const definitionOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: ZodDefinition } })._zod.def;

/** Types that hold no text a sender chooses (an enum's values and a literal are the schema's own). */
const TEXT_FREE = new Set(['number', 'int', 'boolean', 'bigint', 'null', 'undefined', 'enum', 'literal', 'never', 'nan', 'date', 'transform', 'void']);

function textLeaves(schema: z.ZodType, steps: Step[] = [], seen = new Set<z.ZodType>()): TextLeaf[] {
  const def = definitionOf(schema);
  if (def.checks?.includes(jsonValueCheck)) return [{ steps, covered: true, kind: 'free-form JSON' }];
  if (seen.has(schema)) return [];
  const inner = (child: z.ZodType | undefined, childSteps = steps) => (child ? textLeaves(child, childSteps, new Set([...seen, schema])) : []);
  switch (def.type) {
    case 'string':
      return [{ steps, covered: def.checks?.includes(postgresTextCheck) === true, kind: 'string' }];
    case 'object': {
      const fields = Object.entries(def.shape ?? {}).flatMap(([field, child]) => inner(child, [...steps, { field }]));
      const rest = def.catchall && definitionOf(def.catchall).type !== 'never' ? inner(def.catchall, [...steps, { value: true }]) : [];
      return [...fields, ...rest];
    }
    case 'array':
      return inner(def.element, [...steps, { item: true }]);
    case 'record':
      return [...inner(def.keyType, [...steps, { key: true }]), ...inner(def.valueType, [...steps, { value: true }])];
    case 'union':
      return (def.options ?? []).flatMap((option) => inner(option));
    case 'intersection':
      return [...inner(def.left), ...inner(def.right)];
    case 'tuple':
      return (def.items ?? []).flatMap((item) => inner(item, [...steps, { item: true }]));
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return inner(def.innerType);
    case 'pipe':
      // What the sender controls is the pipe's input; its output is made from that.
      return inner(def.in);
    case 'lazy':
      return inner(def.getter?.());
    default:
      if (TEXT_FREE.has(def.type)) return [];
      // unknown, any, custom…: a value no schema looked into.
      return [{ steps, covered: false, kind: 'free-form JSON' }];
  }
}

const describeSteps = (steps: Step[]) =>
  steps.map((step) => ('field' in step ? step.field : 'item' in step ? '[]' : 'key' in step ? '{key}' : '{value}')).join('.') || '(whole)';

// ---------------------------------------------------------------------------------------------
// A valid request per validated route, and how to put a bad string into it.

interface BaseRequest {
  headers: () => Record<string, string>;
  json?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  param?: () => Record<string, string>;
  query?: () => Record<string, string>;
}

const secret = () => ({ Authorization: `Bearer ${world.site.secretKey}`, 'Content-Type': 'application/json' });
const admin = () => ({ Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' });
const serviceWorker = () => ({ Origin: SHOP_ORIGIN, 'Content-Type': 'application/json' });
const browser = () => browserHeaders(world.site);
const message = { title: 'Sale', body: 'Everything 20% off', url: `${SHOP_ORIGIN}/sale`, icon: `${SHOP_ORIGIN}/i.png`, image: `${SHOP_ORIGIN}/s.png`, badge: `${SHOP_ORIGIN}/b.png`, topic: 'sale', actions: [{ action: 'shop', title: 'Shop now', url: `${SHOP_ORIGIN}/shop` }] };
const template = { title: '{{product.name}} für {{price.new}}', body: 'Vorher {{price.old}}', actions: [{ action: 'view', title: 'Ansehen' }] };
const product = { name: 'Lamp', url: `${SHOP_ORIGIN}/p/lamp`, image: `${SHOP_ORIGIN}/lamp.jpg`, price: 30, currency: 'EUR', inStock: true };

/** A segment with one rule of each kind that takes text, in a group as well. */
const SEGMENT = {
  match: 'all',
  rules: [
    { type: 'tag', key: 'plan', op: 'equals', value: 'vip' },
    { type: 'locale', values: ['de-DE'] },
    { type: 'language', values: ['de'] },
    { type: 'time_zone', values: ['Europe/Berlin'] },
    { type: 'country', values: ['DE'] },
    { type: 'browser', values: ['Firefox'] },
    { type: 'subscribed', op: 'before', at: '2026-11-01T00:00:00Z' },
    { match: 'any', rules: [{ type: 'product', action: 'viewed', productIdPrefix: 'shoes-', days: 30 }, { type: 'product', action: 'ordered', productId: 'sku-1', days: 30 }] },
  ],
};

/** Keyed by `METHOD path`, as the app's route table names them. */
const BASE_REQUESTS: Record<string, BaseRequest> = {
  'GET /v1/sites/:publishableKey/config': { headers: () => ({ Origin: SHOP_ORIGIN }), param: () => ({ publishableKey: world.site.publishableKey }) },
  'OPTIONS /v1/sites/:publishableKey/config': { headers: () => ({ Origin: SHOP_ORIGIN }), param: () => ({ publishableKey: world.site.publishableKey }) },
  'POST /v1/subscriptions': {
    headers: browser,
    json: async () => ({ subscription: await browserSubscription(), visitorId: 'visitor-strings', locale: 'de-DE', timeZone: 'Europe/Berlin', externalUserId: 'customer-1', signature: 'a'.repeat(64) }),
  },
  'DELETE /v1/subscriptions': { headers: browser, json: () => ({ endpoint: 'https://fcm.googleapis.com/fcm/send/nobody' }) },
  'POST /v1/subscriptions/renew': {
    headers: serviceWorker,
    json: async () => ({ oldEndpoint: 'https://fcm.googleapis.com/fcm/send/nobody', subscription: await browserSubscription() }),
  },
  'POST /v1/subscriptions/tags': { headers: browser, json: () => ({ visitorId: 'visitor-strings', endpoint: 'https://fcm.googleapis.com/fcm/send/nobody', set: { size: 'M' }, remove: ['newsletter'] }) },
  'POST /v1/subscribers/tags': { headers: secret, json: () => ({ externalUserId: 'customer-1', set: { plan: 'vip' }, remove: ['trial'] }) },
  'POST /v1/subscribers/birthday': { headers: secret, json: () => ({ externalUserId: 'customer-1', month: 2, day: 29 }) },
  'POST /v1/notifications': { headers: secret, json: () => ({ ...message, to: { tags: { plan: 'vip' } } }) },
  'GET /v1/notifications/:id': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'POST /v1/notifications/:id/cancel': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'POST /v1/campaigns': {
    headers: secret,
    json: () => ({
      name: 'Weekend sale',
      content: { title: 'Hi {{firstName|there}}', body: message.body, url: message.url, icon: message.icon, image: message.image, badge: message.badge, actions: message.actions },
      localized: { de: { title: 'Hallo', body: 'Alles 20 % billiger', actions: [{ action: 'shop', title: 'Kaufen', url: `${SHOP_ORIGIN}/shop` }] } },
      audience: { tags: { plan: 'vip' } },
      schedule: { localTime: '2030-12-05T10:00', fallbackTimeZone: 'Europe/Berlin' },
      endsAt: '2030-12-06T22:00:00Z',
      topic: 'sale',
      abTest: { variants: [{ name: 'Plain' }, { name: 'Urgent', title: 'Last day', body: 'Now', url: `${SHOP_ORIGIN}/sale`, icon: `${SHOP_ORIGIN}/i.png`, image: `${SHOP_ORIGIN}/s.png`, actions: [{ action: 'go', title: 'Go' }], localized: { de: { title: 'Letzter Tag', body: 'Jetzt' } } }], decideAt: '2030-12-05T20:00:00Z' },
    }),
  },
  'GET /v1/campaigns': { headers: secret, query: () => ({ limit: '10', cursor: `2030-01-01T00:00:00.000Z~${crypto.randomUUID()}` }) },
  'GET /v1/campaigns/:id': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'GET /v1/campaigns/:id/timeline': { headers: secret, param: () => ({ id: crypto.randomUUID() }), query: () => ({ timeZone: 'Europe/Berlin' }) },
  'PATCH /v1/campaigns/:id': { headers: secret, param: () => ({ id: crypto.randomUUID() }), json: () => ({ name: 'Renamed', schedule: { at: '2030-12-05T09:00:00Z' } }) },
  'DELETE /v1/campaigns/:id': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'POST /v1/campaigns/:id/schedule': { headers: secret, param: () => ({ id: crypto.randomUUID() }), json: () => ({ confirmAudience: 10 }) },
  'POST /v1/campaigns/:id/send': { headers: secret, param: () => ({ id: crypto.randomUUID() }), json: () => ({}) },
  'POST /v1/campaigns/:id/cancel': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'POST /v1/campaigns/:id/winner': { headers: secret, param: () => ({ id: crypto.randomUUID() }), json: () => ({ variant: 'B' }) },
  'POST /v1/campaigns/:id/test': { headers: secret, param: () => ({ id: crypto.randomUUID() }), json: () => ({ subscriptionIds: [crypto.randomUUID()], variant: 'A' }) },
  'POST /v1/welcome-codes': { headers: secret, json: () => ({ codes: ['WELCOME-1', 'WELCOME-2'] }) },
  'POST /v1/interactions': { headers: serviceWorker, json: () => ({ token: `1.${'a'.repeat(32)}`, type: 'clicked', action: 'shop' }) },
  'POST /v1/events': {
    headers: browser,
    json: () => ({
      type: 'cart_updated',
      visitorId: 'visitor-strings',
      eventId: 'event-1',
      properties: { cartId: 'cart-1', items: [{ productId: 'sku-1', name: 'Lamp', price: 30, quantity: 1, url: `${SHOP_ORIGIN}/p/lamp`, image: `${SHOP_ORIGIN}/lamp.jpg`, colour: 'blue' }], total: 30, currency: 'EUR', url: `${SHOP_ORIGIN}/cart`, note: { gift: 'wrap it' } },
    }),
  },
  'POST /v1/watches': { headers: browser, json: () => ({ visitorId: 'visitor-strings', productId: 'sku-1', kind: 'price_drop', price: 20 }) },
  'POST /v1/products/batch': { headers: secret, json: () => ({ products: [{ id: 'sku-1', ...product }] }) },
  'PUT /v1/products/:id': { headers: secret, param: () => ({ id: 'sku-1' }), json: () => product },
  'GET /v1/products/:id': { headers: secret, param: () => ({ id: 'sku-1' }) },
  'POST /v1/segments': { headers: secret, json: () => ({ name: 'Strings', definition: SEGMENT }) },
  'GET /v1/segments': { headers: secret },
  'POST /v1/segments/count': { headers: secret, json: () => ({ definition: SEGMENT }) },
  'GET /v1/segments/:id': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'PATCH /v1/segments/:id': { headers: secret, param: () => ({ id: crypto.randomUUID() }), json: () => ({ name: 'Strings', definition: SEGMENT }) },
  'DELETE /v1/segments/:id': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'GET /v1/segments/:id/count': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'PATCH /v1/settings': {
    headers: secret,
    json: () => ({
      prompt: { title: 'Deals?', body: 'We tell you when prices drop', allowLabel: 'Yes', laterLabel: 'Later' },
      defaultLocale: 'de',
      engagement: { quietHours: { start: '22:00', end: '08:00' }, defaultTimeZone: 'Europe/Berlin' },
      cartReminders: { steps: [{ delayMinutes: 60, discountCode: 'SAVE10' }] },
      templates: { price_drop: { de: template } },
    }),
  },
  'GET /v1/stats': { headers: secret, query: () => ({ from: '2026-11-01', to: '2026-11-02T00:00:00Z' }) },
  'GET /v1/subscribers': { headers: secret, query: () => ({ limit: '10', search: 'visitor', locale: 'de', tag: 'plan:vip' }) },
  'GET /v1/subscribers/:id': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'DELETE /v1/subscribers/:id': { headers: secret, param: () => ({ id: crypto.randomUUID() }) },
  'POST /v1/subscribers/erase': { headers: secret, json: () => ({ visitorId: 'visitor-to-erase' }) },
  'POST /v1/subscribers/export': { headers: secret, json: () => ({ externalUserId: 'customer-to-export' }) },
  'GET /v1/stats/daily': { headers: secret, query: () => ({ from: '2026-11-01', to: '2026-11-02' }) },
  'POST /demo/test-push': { headers: () => ({ Origin: SHOP_ORIGIN, 'Content-Type': 'application/json' }), json: () => ({ visitorId: 'visitor-strings' }) },
  'POST /v1/admin/sites': { headers: admin, json: () => ({ name: 'Another shop', origins: ['https://another.example'] }) },
  'GET /v1/admin/sites/:siteId': { headers: admin, param: () => ({ siteId: world.site.id }) },
  'GET /v1/admin/sites/:siteId/identify-secret': { headers: admin, param: () => ({ siteId: world.site.id }) },
  'GET /v1/admin/sites/:siteId/keys': { headers: admin, param: () => ({ siteId: world.site.id }) },
  'POST /v1/admin/sites/:siteId/keys': { headers: admin, param: () => ({ siteId: world.site.id }) },
  'DELETE /v1/admin/sites/:siteId/keys/:keyId': { headers: admin, param: () => ({ siteId: world.site.id, keyId: crypto.randomUUID() }) },
};

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * `base` with `bad` put where `steps` lead, creating what is missing; returns the body and the
 * path a refusal should name (a bad key is named by the object that holds it).
 */
function substitute(base: unknown, steps: Step[], bad: string): { value: unknown; path: Array<string | number> } {
  const [step, ...rest] = steps;
  if (step === undefined) return { value: bad, path: [] };
  if ('field' in step) {
    const object = isObject(base) ? base : {};
    const inner = substitute(object[step.field], rest, bad);
    return { value: { ...object, [step.field]: inner.value }, path: [step.field, ...inner.path] };
  }
  if ('item' in step) {
    const array = Array.isArray(base) ? base : [];
    const inner = substitute(array[0], rest, bad);
    return { value: [inner.value, ...array.slice(1)], path: [0, ...inner.path] };
  }
  const object = isObject(base) ? base : {};
  const [firstKey, firstValue] = Object.entries(object)[0] ?? ['sample', 'sample'];
  if ('key' in step) return { value: { ...object, [bad]: firstValue }, path: [] };
  const inner = substitute(object[firstKey], rest, bad);
  return { value: { ...object, [firstKey]: inner.value }, path: [firstKey, ...inner.path] };
}

/** Every string and key in a concrete JSON value, as steps (free-form properties included). */
function concreteTextSteps(value: unknown, steps: Step[] = []): Step[][] {
  if (typeof value === 'string') return [steps];
  if (Array.isArray(value)) return value.length > 0 ? concreteTextSteps(value[0], [...steps, { item: true }]) : [];
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([field, inner]) => [[...steps, { key: true }], ...concreteTextSteps(inner, [...steps, { field }])]);
}

function urlOf(path: string, params: Record<string, string>, query: Record<string, string> | undefined): string {
  const filled = path.replace(/:(\w+)/g, (_, name: string) => params[name]!);
  return query ? `${filled}?${Object.entries(query).map(([k, v]) => `${k}=${v}`).join('&')}` : filled;
}

const encodeAll = (values: Record<string, string> | undefined) =>
  values && Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encodeURIComponent(v)]));

const BAD_STRINGS = [
  { name: 'a NUL', value: 'a\u0000b' },
  { name: 'a lone surrogate', value: 'a\ud800b' },
];
/** A lone surrogate has no UTF-8 form, so in a URL it can only arrive as broken percent-encoding. */
const LONE_SURROGATE_IN_URL = '%ED%A0%80';

// ---------------------------------------------------------------------------------------------

describe('every string a route accepts', () => {
  let inputs: ValidatedInput[];
  beforeAll(() => {
    inputs = validatedInputs(world.app);
  });

  it('is found: the walk sees the routes and their fields', () => {
    const names = inputs.map((input) => `${input.method} ${input.path} ${input.target}`);
    expect(names).toEqual(expect.arrayContaining(['POST /v1/notifications json', 'PUT /v1/products/:id param', 'GET /v1/stats query', 'PATCH /v1/settings json']));
    const send = inputs.find((input) => input.path === '/v1/notifications' && input.target === 'json')!;
    expect(textLeaves(send.schema).map((leaf) => describeSteps(leaf.steps))).toEqual(expect.arrayContaining(['title', 'actions.[].title', 'to.tags.{key}', 'to.tags.{value}']));
    const event = inputs.find((input) => input.path === '/v1/events' && input.target === 'json')!;
    expect(textLeaves(documentedSchema(event.schema)).map((leaf) => describeSteps(leaf.steps))).toEqual(expect.arrayContaining(['properties.productId', 'properties.items.[].name', 'properties.orderId']));
  });

  it('carries the Postgres text check (no bare z.string(), no unchecked free-form JSON)', () => {
    // A schema the API reference shows in another form (the events body, one variant per event
    // type) is walked in both: the per-type property schemas parse request input too.
    const uncovered = inputs.flatMap((input) =>
      [...new Set([input.schema, documentedSchema(input.schema)])]
        .flatMap((schema) => textLeaves(schema))
        .filter((leaf) => !leaf.covered)
        .map((leaf) => `${input.method} ${input.path} ${input.target}: ${describeSteps(leaf.steps)} (${leaf.kind})`),
    );
    expect(uncovered).toEqual([]);
  });

  it('has a valid request in this test’s table, and that request passes validation', async () => {
    const missing = inputs.map((input) => `${input.method} ${input.path}`).filter((route) => !(route in BASE_REQUESTS));
    expect(missing, 'add a valid request for each to BASE_REQUESTS').toEqual([]);
    for (const [route, base] of Object.entries(BASE_REQUESTS)) {
      const [method, path] = route.split(' ') as [string, string];
      const json = await base.json?.();
      const response = await world.app.request(urlOf(path, encodeAll(base.param?.()) ?? {}, encodeAll(base.query?.())), {
        method,
        headers: base.headers(),
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
      expect(response.status, `${route}: ${await response.clone().text()}`).not.toBe(400);
      expect(response.status, route).toBeLessThan(500);
    }
  });

  /** Sends one request and expects the refusal, naming `path`, with nothing stored. */
  async function expectRefused(label: string, request: { method: string; url: string; headers: Record<string, string>; body?: string }, path: string, messages: string[]) {
    const before = await databaseFingerprint(world.database.db);
    const response = await world.app.request(request.url, { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) });
    const body = (await response.json()) as { error?: { code: string; message: string; requestId: string; details?: Array<{ path: string; message: string }> } };
    expect(response.status, `${label}: ${JSON.stringify(body)}`).toBe(400);
    expect(body.error, label).toMatchObject({ code: 'validation_failed', requestId: expect.stringMatching(/.+/) });
    const named = body.error!.details?.some((detail) => detail.path === path && messages.some((m) => detail.message.includes(m)));
    expect(named, `${label}: expected an issue at "${path}", got ${JSON.stringify(body.error!.details)}`).toBe(true);
    expect(await databaseFingerprint(world.database.db), label).toEqual(before);
  }

  it('is refused with 400, naming the field, and nothing stored, when it holds a NUL or a lone surrogate', { timeout: 120_000 }, async () => {
    let checked = 0;
    for (const input of inputs) {
      const route = `${input.method} ${input.path}`;
      const base = BASE_REQUESTS[route]!;
      const json = await base.json?.();
      const params = base.param?.() ?? {};
      const query = base.query?.();
      const send = (overrides: { json?: unknown; params?: Record<string, string>; query?: Record<string, string> }) => ({
        method: input.method,
        url: urlOf(input.path, overrides.params ?? encodeAll(params)!, overrides.query ?? encodeAll(query)),
        headers: base.headers(),
        ...((overrides.json ?? json) === undefined ? {} : { body: JSON.stringify(overrides.json ?? json) }),
      });

      if (input.target === 'json') {
        const stepsList = [...textLeaves(input.schema).filter((leaf) => leaf.kind === 'string').map((leaf) => leaf.steps), ...concreteTextSteps(json)];
        const sent = new Set<string>();
        for (const steps of stepsList) {
          for (const bad of BAD_STRINGS) {
            const { value, path } = substitute(json, steps, bad.value);
            // The schema's walk and the concrete body's often lead to the same place.
            if (sent.has(JSON.stringify(value))) continue;
            sent.add(JSON.stringify(value));
            await expectRefused(`${route} ${describeSteps(steps)} with ${bad.name}`, send({ json: value }), path.join('.'), [postgresTextProblem(bad.value)!]);
            checked++;
          }
        }
      } else if (input.target === 'param' || input.target === 'query') {
        const values = input.target === 'param' ? params : query!;
        for (const leaf of textLeaves(input.schema)) {
          const name = (leaf.steps[0] as { field: string }).field;
          const withNul = { ...encodeAll(values), [name]: encodeURIComponent('a\u0000b') };
          const withSurrogate = { ...encodeAll(values), [name]: LONE_SURROGATE_IN_URL };
          const as = (encoded: Record<string, string>) => (input.target === 'param' ? { params: encoded } : { query: encoded });
          await expectRefused(`${route} ${name} with a NUL`, send(as(withNul)), name, [postgresTextProblem('\u0000')!]);
          await expectRefused(`${route} ${name} with a lone surrogate`, send(as(withSurrogate)), input.target === 'param' ? 'path' : 'query', ['broken percent-encoding']);
          checked += 2;
        }
      } else {
        throw new Error(`${route}: no bad-string case for target ${input.target}`);
      }
    }
    // A walk that silently found nothing would pass vacuously.
    expect(checked).toBeGreaterThan(100);
  });
});

describe('the walk itself', () => {
  it('notices a route whose string field bypasses the check', async () => {
    const { z } = await import('zod');
    const { text } = await import('../validation.ts');
    const leaves = textLeaves(z.object({ good: text(), bad: z.string(), loose: z.record(text(), z.unknown()) }));
    expect(leaves.filter((leaf) => !leaf.covered).map((leaf) => describeSteps(leaf.steps))).toEqual(['bad', 'loose.{value}']);
  });

});
