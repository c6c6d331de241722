import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The closed set of error codes: part of the public contract, so a new one is a deliberate change. Each maps to exactly one HTTP status, here and nowhere
 * else, so a client can switch on `code` and trust the status to agree.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_json: 400,
  endpoint_not_allowed: 400,
  malformed_request: 400,
  invalid_key: 401,
  admin_token_required: 401,
  key_not_allowed: 403,
  invalid_signature: 403,
  origin_not_allowed: 403,
  not_found: 404,
  endpoint_conflict: 409,
  idempotency_conflict: 409,
  confirmation_required: 409,
  invalid_state: 409,
  interaction_replayed: 409,
  request_timeout: 408,
  payload_too_large: 413,
  headers_too_large: 431,
  rate_limited: 429,
  internal_error: 500,
  storage_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { details?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

/** The one error body, for the app and for answers an entry gives before the app sees a request. */
export function errorBody(code: ErrorCode, message: string, requestId: string, details?: unknown): ErrorBody {
  return { error: { code, message, requestId, ...(details === undefined ? {} : { details }) } };
}

export function errorResponse(c: Context, error: ApiError): Response {
  const body = errorBody(error.code, error.message, c.get('requestId') ?? '', error.options.details);
  if (error.options.retryAfterSeconds !== undefined) {
    c.header('Retry-After', String(Math.max(1, Math.ceil(error.options.retryAfterSeconds))));
  }
  return c.json(body, error.status);
}
