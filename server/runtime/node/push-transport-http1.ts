import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import { fetchTransport, type PushFetch, type PushTransport } from '../../push/fetch-transport.ts';

export interface Http1FallbackOptions {
  /** Extra CA certificate (PEM) to trust beside the system's. */
  ca?: string | undefined;
  /** Absent: fetchTransport's default. */
  timeoutMs?: number | undefined;
  /** Connections per origin. */
  connections: number;
  /** Requests pipelined on one connection (streams, should the origin speak HTTP/2 after all). */
  streams: number;
  /** An idle connection is closed after this long. */
  keepAliveTimeoutMs: number;
}

/**
 * The HTTP/1.1 fallback, over undici with pooled keep-alive connections (and HTTP/2 should the
 * origin offer it after all), for push services whose ALPN answer is not h2.
 *
 * `agent.request` rather than undici's `fetch`: fetch treats a POST as non-idempotent and sends
 * one at a time per connection. A push is safe to have in flight beside others (at worst delivered
 * twice, and its `tag` collapses that on screen), so requests are marked idempotent and pipelined.
 */
export function undiciPushTransport(options: Http1FallbackOptions): { transport: PushTransport; close(): Promise<void> } {
  const agent = new Agent({
    allowH2: true,
    connections: options.connections,
    pipelining: options.streams,
    maxConcurrentStreams: options.streams,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    ...(options.ca ? { connect: { ca: [...rootCertificates, options.ca] } } : {}),
  });
  const send: PushFetch = async (url, init) => {
    const target = new URL(url);
    const response = await agent.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'POST',
      headers: init.headers,
      body: Buffer.from(init.body.buffer, init.body.byteOffset, init.body.byteLength),
      idempotent: true,
      signal: init.signal,
    });
    return {
      status: response.statusCode,
      headers: {
        get(name) {
          const value = response.headers[name.toLowerCase()];
          return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
        },
      },
      arrayBuffer: () => response.body.arrayBuffer(),
    };
  };
  return {
    transport: fetchTransport(send, { timeoutMs: options.timeoutMs }),
    close: () => agent.close(),
  };
}
