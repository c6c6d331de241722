import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../errors.ts';
import type { RouteValidation } from '../validation.ts';
import { documentedSchema, type Access, type DeclaredResponse, type Operation } from './operation.ts';

/** A route as Hono's route table lists it: one entry per handler or middleware. */
export interface RouteEntry {
  method: string;
  path: string;
  handler: unknown;
}

/** One operation of the app: its declaration, the schemas it validates with, and every error it may answer. */
export interface DescribedRoute {
  method: string;
  /** The router's pattern (`/v1/products/:id`). */
  routerPath: string;
  /** The OpenAPI path (`/v1/products/{id}`). */
  path: string;
  operationId: string;
  operation: Operation;
  validations: RouteValidation[];
  /** Error codes by HTTP status: the route's own, plus those its access, validation and the app imply. */
  errors: Map<number, ErrorCode[]>;
}

/** What the key middlewares answer (server/middleware/*). */
const ACCESS_ERRORS: Record<Access, ErrorCode[]> = {
  secretKey: ['invalid_key', 'key_not_allowed', 'rate_limited'],
  publishableKey: ['invalid_key', 'key_not_allowed', 'origin_not_allowed', 'rate_limited'],
  publishableKeyInPath: ['invalid_key', 'key_not_allowed', 'origin_not_allowed', 'rate_limited'],
  eitherKey: ['invalid_key', 'key_not_allowed', 'origin_not_allowed', 'rate_limited'],
  adminToken: ['admin_token_required', 'rate_limited'],
  metricsToken: ['admin_token_required', 'rate_limited'],
  serviceWorker: ['origin_not_allowed', 'rate_limited'],
  public: [],
};

/**
 * Answered for any request: by the app's error handler (an unexpected error, the database down), or
 * by the Node server before the app sees the request (a request that is not valid HTTP, headers
 * over 16 KiB, a request that does not arrive in time: server/runtime/node/entry-node.ts).
 */
const ANY_REQUEST_ERRORS: ErrorCode[] = ['internal_error', 'storage_unavailable', 'malformed_request', 'headers_too_large', 'request_timeout'];

/** Statuses whose answers carry `Retry-After` (RFC 9110 §10.2.3). */
const RETRY_AFTER_STATUSES = new Set([ERROR_STATUS.rate_limited, ERROR_STATUS.storage_unavailable]);

const handlerProperty = <Key extends string, Value>(handler: unknown, key: Key): Value | undefined => {
  const own = handler as Record<string, unknown> & { __COMPOSED_HANDLER?: Record<string, unknown> };
  return (own[key] ?? own.__COMPOSED_HANDLER?.[key]) as Value | undefined;
};

/** `/v1/products/:id` → `/v1/products/{id}`. */
const openApiPath = (routerPath: string) => routerPath.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');

/**
 * The app's operations, read from its route table: `operation()` and `validate()` leave their
 * declarations on the middlewares they return. `declaredElsewhere` holds operations of routes whose
 * files carry none, keyed `METHOD path`. CORS preflights (OPTIONS) and `use()` middlewares are not
 * operations. `undescribed` lists routes with no declaration, which the document must not miss.
 */
/**
 * The dashboard's pages are HTML for people signed in with a session cookie, not operations of the
 * API: the document leaves them out, and the response checker does not hold them to it.
 */
export function isDashboardPath(path: string): boolean {
  return path === '/dashboard' || path.startsWith('/dashboard/');
}

export function describeRoutes(routes: readonly RouteEntry[], declaredElsewhere: Record<string, Operation> = {}): { described: DescribedRoute[]; undescribed: string[] } {
  const byRoute = new Map<string, { method: string; path: string; operation?: Operation; validations: RouteValidation[] }>();
  for (const route of routes) {
    if (route.method === 'ALL' || route.method === 'OPTIONS' || isDashboardPath(route.path)) continue;
    const key = `${route.method} ${route.path}`;
    const entry = byRoute.get(key) ?? { method: route.method, path: route.path, validations: [], operation: declaredElsewhere[key] };
    byRoute.set(key, entry);
    const operation = handlerProperty<'operation', Operation>(route.handler, 'operation');
    if (operation) entry.operation = operation;
    const validation = handlerProperty<'validation', RouteValidation>(route.handler, 'validation');
    if (validation && !entry.validations.some((known) => known.target === validation.target)) entry.validations.push(validation);
  }
  const described: DescribedRoute[] = [];
  const undescribed: string[] = [];
  for (const [key, entry] of byRoute) {
    if (!entry.operation) {
      undescribed.push(key);
      continue;
    }
    const path = entry.operation.path ?? openApiPath(entry.path);
    described.push({
      method: entry.method,
      routerPath: entry.path,
      path,
      operationId: `${entry.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(\w?)/g, (_, letter: string) => letter.toUpperCase())}`,
      operation: entry.operation,
      validations: entry.validations,
      errors: errorsByStatus(entry.operation, entry.validations),
    });
  }
  return { described, undescribed };
}

function errorsByStatus(operation: Operation, validations: RouteValidation[]): Map<number, ErrorCode[]> {
  const codes = new Set<ErrorCode>([...ACCESS_ERRORS[operation.access], ...(operation.errors ?? []), ...ANY_REQUEST_ERRORS]);
  if (validations.length > 0) codes.add('validation_failed');
  if (validations.some((validation) => validation.target === 'json')) {
    codes.add('invalid_json');
    codes.add('payload_too_large');
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of Object.keys(ERROR_STATUS) as ErrorCode[]) {
    if (!codes.has(code)) continue;
    byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

type JsonSchema = Record<string, unknown>;

/**
 * A zod schema as JSON Schema 2020-12, the dialect of OpenAPI 3.1 (§4.8.24). `input` describes
 * what a client may send (before defaults and transforms), `output` what the server answers.
 * Checks written as code (refinements) have no JSON Schema form and are left to the descriptions.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(documentedSchema(schema), {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: (context) => {
      // A transform's output has no JSON Schema; those in answers (canonical spellings, a typed
      // view of the same record) keep their input's shape, so the input's output describes them.
      const definition = context.zodSchema._zod.def as { type: string; in?: z.ZodType; out?: z.ZodType };
      if (io !== 'output' || definition.type !== 'pipe' || definition.out?._zod.def.type !== 'transform' || !definition.in) return;
      const shape = jsonSchemaOf(definition.in, 'output');
      for (const key of Object.keys(context.jsonSchema)) delete (context.jsonSchema as JsonSchema)[key];
      Object.assign(context.jsonSchema, shape);
    },
  }) as JsonSchema;
  return json;
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'The one error shape of every failed request. `code` is a closed set, each code always with the same HTTP status.',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'requestId'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_STATUS), description: errorCodeTable() },
        message: { type: 'string', description: 'For people; may change. Switch on `code`.' },
        requestId: { type: 'string', description: 'The `X-Request-Id` of this request, for the server log.' },
        details: { description: 'For `validation_failed`, every issue as `{path, message}`; for some codes, the figures behind the refusal.' },
      },
    },
  },
};

function errorCodeTable(): string {
  return ['Code → HTTP status:', ...Object.entries(ERROR_STATUS).map(([code, status]) => `- \`${code}\`: ${status}`)].join('\n');
}

/** The zod schema of the error shape for one status, limited to `codes`: what the response check parses. */
export function errorBodySchema(codes: readonly ErrorCode[]) {
  return z.strictObject({
    error: z.strictObject({
      code: z.enum(codes as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  });
}

const SECURITY_SCHEMES = {
  publishableKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'pk_…',
    description: 'The site’s publishable key, as the snippet sends it from a page on one of the site’s allowed origins (checked against `Origin`). It can never send notifications.',
  },
  secretKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'sk_…',
    description: 'A secret key of the site, for the shop’s backend only. Shown once when made; revoked keys are refused at once.',
  },
  adminToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The operator’s `PUSHCART_ADMIN_TOKEN`; without that setting the admin API is off (401 `admin_token_required`).',
  },
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The scraper’s `PUSHCART_METRICS_TOKEN`, or `PUSHCART_ADMIN_TOKEN` when that is unset; without either, metrics are off (404 `not_found`).',
  },
} as const;

const SECURITY: Record<Access, Array<Record<string, string[]>>> = {
  secretKey: [{ secretKey: [] }],
  publishableKey: [{ publishableKey: [] }],
  // The key is a path segment, which no OpenAPI security scheme can name; the parameter says so.
  publishableKeyInPath: [],
  eitherKey: [{ publishableKey: [] }, { secretKey: [] }],
  adminToken: [{ adminToken: [] }],
  metricsToken: [{ metricsToken: [] }],
  serviceWorker: [],
  public: [],
};

const ACCESS_NOTES: Partial<Record<Access, string>> = {
  publishableKeyInPath: 'Authenticated by the publishable key in the path; CORS limited to the site’s origins.',
  serviceWorker: 'Called by the shop’s service worker without a key: the request carries its own proof, and `Origin` must be one of that site’s origins.',
  eitherKey: 'From a page with the publishable key, or from the shop’s backend with a secret key.',
};

/** The OpenAPI 3.1 document of the app's operations. */
export function openApiDocument(operations: readonly DescribedRoute[], options: { serverUrl: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, JsonSchema> = {};
  for (const route of operations) {
    const { operation } = route;
    const parameters: JsonSchema[] = [];
    for (const validation of route.validations) {
      if (validation.target !== 'param' && validation.target !== 'query') continue;
      const json = hoist(jsonSchemaOf(validation.schema, 'input'), components);
      const required = new Set((json.required as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries((json.properties ?? {}) as Record<string, JsonSchema>)) {
        const where = validation.target === 'param' ? 'path' : 'query';
        parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema });
      }
    }
    for (const name of [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!)) {
      if (!parameters.some((parameter) => parameter.in === 'path' && parameter.name === name)) parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    }
    for (const [name, description] of Object.entries(operation.requestHeaders ?? {})) {
      parameters.push({ name, in: 'header', required: false, description, schema: { type: 'string' } });
    }
    const body = route.validations.find((validation) => validation.target === 'json');
    const responses: Record<string, unknown> = {};
    for (const [status, declared] of Object.entries(operation.responses)) responses[status] = describeResponse(declared, components);
    for (const [status, codes] of route.errors) {
      responses[String(status)] = {
        description: codes.map((code) => `\`${code}\``).join(', '),
        ...(RETRY_AFTER_STATUSES.has(status as 429 | 503) ? { headers: { 'Retry-After': { description: 'Seconds to wait before trying again (RFC 9110 §10.2.3).', schema: { type: 'integer', minimum: 1 } } } } : {}),
        content: {
          'application/json': {
            schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { properties: { code: { enum: codes } } } } }] },
          },
        },
      };
    }
    const note = ACCESS_NOTES[operation.access];
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: operation.summary,
      ...(operation.description || note ? { description: [operation.description, note].filter(Boolean).join('\n\n') } : {}),
      tags: [operation.tag],
      security: SECURITY[operation.access],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: hoist(jsonSchemaOf(body.schema, 'input'), components) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Pushcart',
      version: 'v1',
      description:
        'Web push for online shops: the browser routes the snippet and service worker call, the send API and catalogue feed a shop’s backend calls, and the admin API.\n\nEvery error is `{"error":{"code","message","requestId"}}` (the `Error` schema); a `429` and a `503` say when to retry in `Retry-After`.',
    },
    servers: [{ url: options.serverUrl }],
    tags: [...new Set(operations.map((route) => route.operation.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: SECURITY_SCHEMES,
      schemas: { Error: ERROR_SCHEMA, ...components },
    },
  };
}

function describeResponse(declared: DeclaredResponse, components: Record<string, JsonSchema>) {
  const headers = Object.entries(declared.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: 'string' } }]);
  const content = declared.schema
    ? { [declared.contentType ?? 'application/json']: { schema: hoist(jsonSchemaOf(declared.schema, 'output'), components) } }
    : declared.contentType
      ? { [declared.contentType]: { schema: { type: 'string' } } }
      : undefined;
  return { description: declared.description, ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}), ...(content ? { content } : {}) };
}

/**
 * Moves a schema's `$defs` (zod writes them for recursive and named schemas) to the document's
 * components: a `#/$defs/…` reference inside a path item would resolve against the document root.
 */
function hoist(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  const { $defs, ...rest } = schema as JsonSchema & { $defs?: Record<string, JsonSchema> };
  for (const [name, definition] of Object.entries($defs ?? {})) components[name] = rewriteRefs(definition) as JsonSchema;
  return rewriteRefs(rest) as JsonSchema;
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, key === '$ref' && typeof inner === 'string' ? inner.replace(/^#\/\$defs\//, '#/components/schemas/') : rewriteRefs(inner)]),
  );
}
