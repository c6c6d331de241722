import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { describeRoutes, openApiDocument, type RouteEntry } from '../openapi/document.ts';
import { EXTERNALLY_DECLARED_OPERATIONS } from '../openapi/external-operations.ts';
import { operation } from '../openapi/operation.ts';

/**
 * The reference page's script: Scalar's standalone bundle, pinned, from jsDelivr. It is about
 * 3 MB, too large to ship inside a Worker (whose whole script is limited to 3 MiB compressed on
 * the free plan), so the page loads it from the CDN; `PUSHCART_DOCS_SCRIPT_URL` points it elsewhere
 * (a copy on a host an offline network reaches). `/openapi.json` itself needs nothing
 * from outside.
 */
export const DEFAULT_DOCS_SCRIPT_URL = 'https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0/dist/browser/standalone.js';

const openApiSchema = z.looseObject({ openapi: z.literal('3.1.0'), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) });

/**
 * `GET /openapi.json` (the OpenAPI 3.1 document, made from the routes' own declarations and
 * schemas) and `GET /docs` (a reference page that reads it). `routes` is the whole app's route
 * table, read on the first request, once every route is mounted.
 */
export function apiReferenceRoutes(routes: () => readonly RouteEntry[], options: { publicUrl: string; docsScriptUrl?: string }) {
  let document: ReturnType<typeof openApiDocument> | undefined;
  const scriptUrl = options.docsScriptUrl ?? DEFAULT_DOCS_SCRIPT_URL;
  return new Hono<AppEnv>()
    .get(
      '/openapi.json',
      operation({
        summary: 'This API as an OpenAPI 3.1 document',
        tag: 'Reference',
        access: 'public',
        responses: { 200: { description: 'The document', schema: openApiSchema } },
      }),
      (c) => {
        document ??= openApiDocument(describeRoutes(routes(), EXTERNALLY_DECLARED_OPERATIONS).described, { serverUrl: options.publicUrl });
        c.header('Access-Control-Allow-Origin', '*');
        return c.json(document);
      },
    )
    .get(
      '/docs',
      operation({
        summary: 'The API reference page',
        description: `Renders \`/openapi.json\` with Scalar, loaded from ${scriptUrl}.`,
        tag: 'Reference',
        access: 'public',
        responses: { 200: { description: 'An HTML page', contentType: 'text/html' } },
      }),
      (c) =>
        c.html(
          `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pushcart API reference</title>
</head>
<body>
<noscript>This page needs JavaScript; the document itself is at <a href="./openapi.json">/openapi.json</a>.</noscript>
<script id="api-reference" data-url="./openapi.json"></script>
<script src="${escapeAttribute(scriptUrl)}" crossorigin="anonymous"></script>
</body>
</html>
`,
        ),
    );
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
