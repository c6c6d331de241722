/**
 * Tells a database that cannot be reached (answer 503, try again) from a query that failed
 * (a bug: answer 500). Covers node-postgres socket errors, Postgres SQLSTATE class 08
 * (connection exception), 57P01–57P03 (shutdown / cannot connect now), 53300 (too many
 * connections), and a database closed during shutdown.
 */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

const UNAVAILABLE_MESSAGES = [
  'connection terminated',
  'timeout exceeded when trying to connect',
  'connection timeout',
  'client has encountered a connection error',
  'cannot use a pool after calling end',
  'driver has already been destroyed', // Kysely, after db.destroy() during shutdown
  'network connection lost',
  'stream was closed',
];

export function isStorageUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') break;
    const { code, message, errors, cause } = current as {
      code?: unknown;
      message?: unknown;
      errors?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string') {
      if (NETWORK_ERROR_CODES.has(code)) return true;
      if (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
    }
    if (typeof message === 'string') {
      const lower = message.toLowerCase();
      if (UNAVAILABLE_MESSAGES.some((fragment) => lower.includes(fragment))) return true;
    }
    // Node reports a refused dual-stack connect as an AggregateError of per-address errors.
    if (Array.isArray(errors) && errors.some((inner) => isStorageUnavailable(inner))) return true;
    current = cause;
  }
  return false;
}
