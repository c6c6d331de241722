import { ERROR_STATUS, type ErrorCode } from '../errors.ts';
import { describeRoutes, errorBodySchema, isDashboardPath, type DescribedRoute, type RouteEntry } from '../openapi/document.ts';
import { EXTERNALLY_DECLARED_OPERATIONS } from '../openapi/external-operations.ts';

/** One answer the app gave in a test, by the operation it belongs to. */
export interface SeenResponse {
  /** `METHOD /openapi/path`, or undefined for a request no route matched. */
  operation: string | undefined;
  status: number;
}

const anyError = errorBodySchema(Object.keys(ERROR_STATUS) as ErrorCode[]);

/** `/v1/products/:id` and `/:file{pushcart\.[0-9a-f]+\.js}` as regular expressions, as Hono's router reads them. */
function routerPathPattern(routerPath: string): RegExp {
  let source = '';
  for (const part of routerPath.split(/(:\w+(?:\{[^}]*\})?)/)) {
    const param = /^:\w+(?:\{([^}]*)\})?$/.exec(part);
    source += param ? `(?:${param[1] ?? '[^/]+'})` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}/?$`);
}

/**
 * Checks each answer of an app against its OpenAPI declarations: the status must be declared for
 * the operation, a JSON success body must parse with the declared response schema (strict objects:
 * an undeclared field fails too), and an error must be the one error shape with a code declared
 * for that status. A request no route matched must be answered in the error shape, with its code's
 * status. CORS preflights (OPTIONS) and the dashboard's pages are not operations and are not checked.
 */
export function declaredResponseChecker(routes: () => readonly RouteEntry[]) {
  let operations: Array<{ route: DescribedRoute; pattern: RegExp }> | undefined;
  const find = (method: string, pathname: string) => {
    operations ??= describeRoutes(routes(), EXTERNALLY_DECLARED_OPERATIONS).described.map((route) => ({ route, pattern: routerPathPattern(route.routerPath) }));
    const asked = method === 'HEAD' ? 'GET' : method;
    return operations.find(({ route, pattern }) => route.method === asked && pattern.test(pathname))?.route;
  };

  /** Returns what was seen, or throws naming what does not match the declaration. */
  return async function check(request: Request, response: Response): Promise<SeenResponse | undefined> {
    const { pathname } = new URL(request.url);
    if (request.method === 'OPTIONS' || isDashboardPath(pathname)) return undefined;
    const route = find(request.method, pathname);
    const status = response.status;
    const where = `${request.method} ${pathname} → ${status}`;
    const text = request.method === 'HEAD' ? '' : await response.clone().text();
    const json = () => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new Error(`${where}: the body is not JSON: ${text.slice(0, 200)}`);
      }
    };
    if (!route) {
      const parsed = anyError.safeParse(json());
      if (!parsed.success || ERROR_STATUS[parsed.data.error.code] !== status) throw new Error(`${where}: a request no route matched must get the error shape: ${text.slice(0, 300)}`);
      return { operation: undefined, status };
    }
    const name = `${route.method} ${route.path}`;
    const declared = route.operation.responses[status];
    if (declared) {
      const contentType = response.headers.get('Content-Type') ?? '';
      const expectedType = declared.contentType ?? (declared.schema ? 'application/json' : undefined);
      if (expectedType && text !== '' && !contentType.startsWith(expectedType)) throw new Error(`${where}: declared as ${expectedType}, answered ${contentType}`);
      if (declared.schema) {
        const parsed = declared.schema.safeParse(json());
        if (!parsed.success) throw new Error(`${where}: the body does not match ${name}'s declared ${status} schema: ${JSON.stringify(parsed.error.issues.slice(0, 5))}\n${text.slice(0, 500)}`);
      }
      return { operation: name, status };
    }
    const codes = route.errors.get(status);
    if (!codes) throw new Error(`${where}: status ${status} is not declared for ${name}: ${text.slice(0, 300)}`);
    const parsed = errorBodySchema(codes).safeParse(json());
    if (!parsed.success) throw new Error(`${where}: not the error shape with a code declared for ${name} (${codes.join(', ')}): ${text.slice(0, 300)}`);
    return { operation: name, status };
  };
}
