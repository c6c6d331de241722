/** Structured logs: one JSON object per line, so an operator's log pipeline can query them. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

/**
 * Writes JSON lines with secrets taken out (`redactSecrets`): a log is read by more people, and
 * kept longer, than the keys it could leak.
 */
export function jsonLogger(write: (line: string) => void, now: () => Date = () => new Date()): Logger {
  return {
    log(level, message, fields = {}) {
      write(redactSecrets(JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields })));
    },
  };
}

/**
 * `sk_` (a secret key) or `pcid_` (a site's identify secret) and the 8 characters a key listing
 * shows; the rest is never logged. No word boundary in front: a key may follow `_`, an escaped
 * newline (`\nsk_…` in a JSON line) or URL encoding (`key%3Dsk_…`).
 */
const SECRET_KEY = /((?:sk|pcid)_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]{8,}/g;
/** A delivery's report token (`<delivery id>.<32 hex>`), which lets its holder report interactions. */
const REPORT_TOKEN = /\b\d{1,20}\.[0-9a-f]{32}\b/g;
/**
 * A dashboard one-time link's token (`/dashboard/password/<token>`, `/dashboard/invite/<token>`):
 * whoever holds it sets a password or joins a shop. Taken out whatever its characters (a token with
 * no digit would slip past the capability rule below), in a path, a full URL or URL-encoded.
 */
const ONE_TIME_LINK = /((?:\/|%2F)dashboard(?:\/|%2F)(?:password|invite)(?:\/|%2F))[^\s"\\/?#&%]+/gi;
const BEARER = /\b(Bearer(?:\s+|%20|\+))[^\s"\\&]+/gi;
/**
 * A URL whose path or query carries a capability — a push endpoint (the path is the bearer secret
 * that lets anyone push to that browser, RFC 8030 §8), a reset or invite link: a run of 16 or more
 * token characters with a letter and a digit in it (a product slug such as `blue-sneakers-limited`
 * has no digit, a push service's token always has both). Its origin stays, so the log still says
 * which push service or host it was.
 */
const URL_WITH_CAPABILITY = /\b(https?:\/\/[^\s"\\/?#]+)([/?][^\s"\\]*)/g;
const TOKEN_RUN = /[A-Za-z0-9_:%=+-]{16,}/g;
const hasCapability = (text: string) => (text.match(TOKEN_RUN) ?? []).some((run) => /[A-Za-z]/.test(run) && /\d/.test(run));

/** Takes secret keys, report tokens, bearer credentials, one-time link tokens and capability URLs out of a log line or message. */
export function redactSecrets(text: string): string {
  return text
    .replace(ONE_TIME_LINK, '$1[redacted]')
    .replace(SECRET_KEY, '$1…[redacted]')
    .replace(REPORT_TOKEN, '[redacted token]')
    .replace(BEARER, '$1[redacted]')
    .replace(URL_WITH_CAPABILITY, (url, origin: string, rest: string) => (hasCapability(rest) ? `${origin}/[redacted]` : url));
}

/** For tests that assert on logs: records instead of writing. */
export function memoryLogger(): Logger & { entries: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> } {
  const entries: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> = [];
  return {
    entries,
    log(level, message, fields = {}) {
      entries.push({ level, message, fields });
    },
  };
}

export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { error: error.message, errorName: error.name, ...(code === undefined ? {} : { errorCode: code }), stack: error.stack };
  }
  return { error: String(error) };
}
