import { describe, expect, it } from 'vitest';
import { classifyError, classifyResponse, parseRetryAfter } from './push-outcome.ts';

const NOW_MS = Date.parse('2026-11-22T12:00:00Z');
const headers = (values: Record<string, string> = {}) => ({ get: (name: string) => values[name] ?? null });

describe('classifyResponse', () => {
  it.each([
    [201, 'sent'],
    [404, 'gone'],
    [410, 'gone'],
    [413, 'rejected'],
    [400, 'rejected'],
    [401, 'rejected'],
    [403, 'rejected'],
    [429, 'retry'],
    [503, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [301, 'rejected'],
  ])('%i → %s', (status, kind) => {
    expect(classifyResponse(status, headers(), NOW_MS).kind).toBe(kind);
  });

  it('names 413 payload_too_large and flags only 403 for the circuit breaker', () => {
    expect(classifyResponse(413, headers(), NOW_MS)).toMatchObject({ reason: 'payload_too_large', hostAlert: false });
    expect(classifyResponse(403, headers(), NOW_MS)).toMatchObject({ hostAlert: true });
    expect(classifyResponse(401, headers(), NOW_MS)).toMatchObject({ hostAlert: false });
  });

  it('makes 429 and 503 back the whole host off, other 5xx only the delivery', () => {
    expect(classifyResponse(429, headers({ 'Retry-After': '7' }), NOW_MS)).toMatchObject({ hostBackoff: true, retryAfterMs: 7000 });
    expect(classifyResponse(503, headers(), NOW_MS)).toMatchObject({ hostBackoff: true, retryAfterMs: null });
    expect(classifyResponse(500, headers({ 'Retry-After': '7' }), NOW_MS)).toMatchObject({ hostBackoff: false });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP-dates, and ignores nonsense', () => {
    expect(parseRetryAfter('120', NOW_MS)).toBe(120_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 12:00:30 GMT', NOW_MS)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 11:00:00 GMT', NOW_MS)).toBe(0);
    expect(parseRetryAfter('soon', NOW_MS)).toBeNull();
    expect(parseRetryAfter(null, NOW_MS)).toBeNull();
  });
});

describe('classifyError', () => {
  it('retries timeouts and network failures', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyError(timeout)).toMatchObject({ kind: 'retry', reason: 'timed out', hostBackoff: false });
    const reset = new TypeError('fetch failed', { cause: new Error('other side closed') });
    expect(classifyError(reset)).toMatchObject({ kind: 'retry', reason: 'network error: fetch failed: other side closed' });
  });
});
