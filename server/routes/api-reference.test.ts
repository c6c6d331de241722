import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';
import { ERROR_STATUS } from '../errors.ts';
import { describeRoutes } from '../openapi/document.ts';
import { EXTERNALLY_DECLARED_OPERATIONS } from '../openapi/external-operations.ts';
import { routeTestWorld } from '../testing/route-test.ts';
import { testApp } from '../testing/fixtures.ts';
import { DEFAULT_DOCS_SCRIPT_URL } from './api-reference.ts';

const world = routeTestWorld({ demo: true });

interface OpenApiOperation {
  operationId: string;
  security: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string; bearerFormat?: string }>; schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }> };
}

async function fetchDocument(): Promise<OpenApiDocument> {
  const response = await world.app.request('/openapi.json');
  expect(response.status).toBe(200);
  return (await response.json()) as OpenApiDocument;
}

const operationsOf = (document: OpenApiDocument) =>
  Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })));

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const document = await fetchDocument();
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    // The schema cannot say this one (OpenAPI 3.1 §4.8.10.1: operationId is unique in the document).
    const ids = operationsOf(document).map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes every route of the app (a route without a declaration is listed here)', async () => {
    const { described, undescribed } = describeRoutes(world.app.routes, EXTERNALLY_DECLARED_OPERATIONS);
    expect(undescribed).toEqual([]);
    const document = await fetchDocument();
    const names = operationsOf(document).map((operation) => operation.name);
    expect(names.sort()).toEqual(described.map((route) => `${route.method} ${route.path}`).sort());
    expect(names).toEqual(expect.arrayContaining(['POST /v1/notifications', 'GET /v1/products/{id}', 'POST /v1/admin/sites', 'GET /pushcart.{version}.js', 'GET /openapi.json', 'GET /docs', 'POST /demo/test-push']));
  });

  it('names every error code in the shared error shape, each answered by some operation with its status', async () => {
    const document = await fetchDocument();
    expect(document.components.schemas.Error!.properties.error.properties.code.enum.sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      const answering = operationsOf(document).filter(({ operation }) => operation.responses[String(status)]?.description.includes(`\`${code}\``));
      expect(answering.length, code).toBeGreaterThan(0);
    }
  });

  it('declares both key schemes and the admin token, and every operation its security requirement', async () => {
    const document = await fetchDocument();
    expect(document.components.securitySchemes).toMatchObject({
      publishableKey: { type: 'http', scheme: 'bearer', bearerFormat: 'pk_…' },
      secretKey: { type: 'http', scheme: 'bearer', bearerFormat: 'sk_…' },
      adminToken: { type: 'http', scheme: 'bearer' },
    });
    for (const { name, operation } of operationsOf(document)) expect(Array.isArray(operation.security), name).toBe(true);
    const security = (method: string, path: string) => document.paths[path]![method]!.security;
    expect(security('post', '/v1/notifications')).toEqual([{ secretKey: [] }]);
    expect(security('post', '/v1/subscriptions')).toEqual([{ publishableKey: [] }]);
    expect(security('post', '/v1/events')).toEqual([{ publishableKey: [] }, { secretKey: [] }]);
    expect(security('delete', '/v1/admin/sites/{siteId}/keys/{keyId}')).toEqual([{ adminToken: [] }]);
    expect(security('get', '/healthz')).toEqual([]);
    // A secret-key route answers the key errors; a public one does not.
    expect(document.paths['/v1/notifications']!.post!.responses['401']!.description).toContain('`invalid_key`');
    expect(document.paths['/healthz']!.get!.responses['401']).toBeUndefined();
  });

  it('shows each known event type with its own properties', async () => {
    const document = await fetchDocument();
    const body = document.paths['/v1/events']!.post!.requestBody!.content['application/json']!.schema as { anyOf: Array<{ properties: { type: { const?: string }; properties: { required?: string[] } } }> };
    const byType = new Map(body.anyOf.map((variant) => [variant.properties.type.const, variant.properties.properties]));
    expect(byType.get('product_viewed')?.required).toEqual(expect.arrayContaining(['productId', 'price', 'currency', 'url']));
    expect(byType.get('order_completed')?.required).toEqual(expect.arrayContaining(['orderId', 'value', 'currency']));
    // And a type of the shop's own.
    expect(byType.has(undefined)).toBe(true);
  });

  it('names the server it was configured with', async () => {
    const { app } = testApp(world.database.db, { env: { PUSHCART_PUBLIC_URL: 'https://push.shop.example' } });
    const document = (await (await app.request('/openapi.json')).json()) as { servers: Array<{ url: string }> };
    expect(document.servers).toEqual([{ url: 'https://push.shop.example' }]);
  });
});

describe('GET /docs', () => {
  it('is a page that renders /openapi.json with the reference script', async () => {
    const response = await world.app.request('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain('data-url="./openapi.json"');
    expect(page).toContain(`<script src="${DEFAULT_DOCS_SCRIPT_URL}"`);
  });

  it('loads the script from where the deployment points it', async () => {
    const { app } = testApp(world.database.db, { env: { PUSHCART_DOCS_SCRIPT_URL: 'https://static.shop.example/scalar.js?a=1&b="2"' } });
    const page = await (await app.request('/docs')).text();
    expect(page).toContain('<script src="https://static.shop.example/scalar.js?a=1&amp;b=&quot;2&quot;"');
  });

  it('refuses at start a script address that is not an http(s) URL', () => {
    expect(() => parseConfig({ PUSHCART_DOCS_SCRIPT_URL: 'javascript:alert(1)' })).toThrow(/PUSHCART_DOCS_SCRIPT_URL: must be an absolute http\(s\) URL/);
  });
});

describe('the route tests', () => {
  it('answer every operation of the document with a success, or say why not', async () => {
    const { OPERATIONS_EXERCISED_BY, OPERATIONS_NOT_EXERCISED } = await import('../testing/operations-exercised.ts');
    const { existsSync } = await import('node:fs');
    const assigned = new Set([...Object.values(OPERATIONS_EXERCISED_BY).flat(), ...Object.keys(OPERATIONS_NOT_EXERCISED)]);
    const document = await fetchDocument();
    expect(operationsOf(document).map((operation) => operation.name).filter((name) => !assigned.has(name))).toEqual([]);
    // No stale names: each listed operation is in the document, each listed file exists.
    expect([...assigned].filter((name) => !operationsOf(document).some((operation) => operation.name === name))).toEqual([]);
    expect(Object.keys(OPERATIONS_EXERCISED_BY).filter((file) => !existsSync(new URL(`../../${file}`, import.meta.url)))).toEqual([]);
  });
});
