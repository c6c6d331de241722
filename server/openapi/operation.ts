import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import type { ErrorCode } from '../errors.ts';

/**
 * Who may call an operation, as the key middlewares check it (server/middleware/*):
 * - `secretKey`: `Authorization: Bearer sk_…` (the shop's backend);
 * - `publishableKey`: `Authorization: Bearer pk_…` from a page on one of the site's origins;
 * - `publishableKeyInPath`: the `pk_…` key is a path segment, the origin is checked the same way;
 * - `eitherKey`: a publishable key from a page or a secret key from a backend;
 * - `adminToken`: `Authorization: Bearer $PUSHCART_ADMIN_TOKEN`;
 * - `metricsToken`: `Authorization: Bearer $PUSHCART_METRICS_TOKEN` (else the admin token);
 * - `serviceWorker`: no key; the body carries its own proof (a report token, the old endpoint);
 * - `public`: anyone.
 */
export type Access = 'secretKey' | 'publishableKey' | 'publishableKeyInPath' | 'eitherKey' | 'adminToken' | 'metricsToken' | 'serviceWorker' | 'public';

export interface DeclaredResponse {
  description: string;
  /** The JSON body; omitted for an answer without one (204, 304) or one that is not JSON. */
  schema?: z.ZodType;
  /** The media type when it is not `application/json` (`text/html`, `text/javascript`). */
  contentType?: string;
  headers?: Record<string, string>;
}

/** What a route declares about itself beyond its request schemas (which `validate()` carries). */
export interface Operation {
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  /** Request headers the route reads, by name, with what they mean. */
  requestHeaders?: Record<string, string>;
  /** Success answers (2xx, 304) by status. */
  responses: Record<number, DeclaredResponse>;
  /** Error codes this route's own handler may answer, beyond those its access, validation and the app imply. */
  errors?: ErrorCode[];
  /** The OpenAPI path, when the router's pattern cannot say it (a regex segment). */
  path?: string;
}

export type OperationMiddleware = MiddlewareHandler<AppEnv> & { operation: Operation };

/**
 * Declares a route's operation for the OpenAPI document (server/openapi/document.ts). A no-op at
 * request time: the document reads the declaration from the route table, next to the schemas
 * `validate()` leaves there, so each schema is written once and used both to check and to describe.
 */
export function operation(spec: Operation): OperationMiddleware {
  const middleware: MiddlewareHandler<AppEnv> = (_c, next) => next();
  return Object.assign(middleware, { operation: spec });
}

const documentation = new WeakMap<z.ZodType, z.ZodType>();

/**
 * `schema`, described in the document by `documented`: for a schema whose shape JSON Schema cannot
 * show (a transform that picks the properties' schema by the event type), made from the same parts.
 */
export function documentAs<Schema extends z.ZodType>(schema: Schema, documented: z.ZodType): Schema {
  documentation.set(schema, documented);
  return schema;
}

/** The schema the document shows for `schema`. */
export function documentedSchema(schema: z.ZodType): z.ZodType {
  return documentation.get(schema) ?? schema;
}
