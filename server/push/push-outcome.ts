/**
 * What a push service's answer means for one delivery (RFC 8030 §5, §6.2, §7). Exhaustive: every
 * status and every transport failure lands in exactly one of these.
 */
export type PushOutcome =
  | { kind: 'sent'; status: number }
  /** 404/410: the subscription is gone for good (RFC 8030 §7.3). */
  | { kind: 'gone'; status: number }
  /** Will not succeed if repeated: the delivery fails. `hostAlert` marks 403s for the circuit breaker. */
  | { kind: 'rejected'; status: number; reason: string; hostAlert: boolean }
  /** Worth another try. `hostBackoff`: the service asked the whole host to slow down (429/503). */
  | { kind: 'retry'; status: number | null; reason: string; retryAfterMs: number | null; hostBackoff: boolean };

/** Reads Retry-After as delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return null;
  return Math.max(0, dateMs - nowMs);
}

export function classifyResponse(status: number, headers: { get(name: string): string | null }, nowMs: number): PushOutcome {
  if (status === 201 || status === 200 || status === 202) return { kind: 'sent', status };
  if (status === 404 || status === 410) return { kind: 'gone', status };
  if (status === 413) return { kind: 'rejected', status, reason: 'payload_too_large', hostAlert: false };
  if (status === 429 || status === 503) {
    return {
      kind: 'retry',
      status,
      reason: status === 429 ? 'rate limited by push service' : 'push service unavailable',
      retryAfterMs: parseRetryAfter(headers.get('Retry-After'), nowMs),
      hostBackoff: true,
    };
  }
  if (status >= 500) return { kind: 'retry', status, reason: `push service error ${status}`, retryAfterMs: null, hostBackoff: false };
  if (status >= 300 && status < 400) {
    // Push services never redirect; following one would send the subscriber's data somewhere unvetted.
    return { kind: 'rejected', status, reason: 'redirect refused', hostAlert: false };
  }
  // 400 bad request, 401 bad VAPID, 403 key mismatch, anything else 4xx: the same request fails again.
  return { kind: 'rejected', status, reason: `push service refused with ${status}`, hostAlert: status === 403 };
}

/** A request that got no answer: reset, refused, TLS failure or our own timeout. All retryable. */
export function classifyError(error: unknown): PushOutcome {
  const name = error instanceof Error ? error.name : '';
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const reason =
    name === 'TimeoutError' || name === 'AbortError'
      ? 'timed out'
      : `network error: ${error instanceof Error ? error.message : String(error)}${cause}`;
  return { kind: 'retry', status: null, reason: reason.slice(0, 500), retryAfterMs: null, hostBackoff: false };
}
