import { classifyError, classifyResponse, type PushOutcome } from './push-outcome.ts';
import type { PushRequest } from './push-request.ts';

/** The subset of fetch a transport needs; global fetch on Workers, undici's with a pooled Agent on Node. */
export type PushFetch = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: Uint8Array; redirect: 'manual'; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; arrayBuffer(): Promise<ArrayBuffer> }>;

export interface PushTransport {
  send(request: PushRequest): Promise<PushOutcome>;
}

/** Longest a push service may take to answer before the request is aborted and retried later. */
export const DEFAULT_PUSH_TIMEOUT_MS = 10_000;

/**
 * Sends one push request and classifies the answer. Redirects are never followed (a push service
 * has no reason to redirect, and following one would bypass the endpoint policy); the timeout
 * really aborts the request, freeing its stream or socket.
 */
export function fetchTransport(fetchImpl: PushFetch, options: { timeoutMs?: number; now?: () => number } = {}): PushTransport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  return {
    async send(request) {
      try {
        const response = await fetchImpl(request.url, {
          method: 'POST',
          headers: request.headers,
          body: request.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        // Read the (small) answer to the end so the connection or HTTP/2 stream is released for reuse.
        await response.arrayBuffer().catch(() => undefined);
        return classifyResponse(response.status, response.headers, now());
      } catch (error) {
        return classifyError(error);
      }
    },
  };
}
