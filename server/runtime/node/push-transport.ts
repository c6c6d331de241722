import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import { fetchTransport, type PushFetch, type PushTransport } from '../../push/fetch-transport.ts';

export interface NodePushTransportOptions {
  /** Extra CA certificate (PEM) to trust beside the system's, e.g. a local mock push service. */
  ca?: string;
  timeoutMs?: number;
  /** Sockets per push-service origin. */
  connectionsPerOrigin?: number;
  /** Requests in flight on one connection: HTTP/2 streams (or HTTP/1.1 pipelining depth). */
  streamsPerConnection?: number;
}

/**
 * Push over undici with pooled keep-alive connections and HTTP/2 where the push service offers it
 * (FCM, Mozilla and Apple all do): one TLS handshake serves thousands of messages, where
 * web-push's sendNotification opens a new connection for each.
 *
 * `agent.request` rather than undici's `fetch`: fetch treats a POST as non-idempotent and sends
 * one at a time per connection, so HTTP/2 would multiplex nothing. A push is safe to have in
 * flight beside others (at worst delivered twice, and its `tag` collapses that on screen), so
 * requests are marked idempotent and share a connection as HTTP/2 streams.
 */
export function nodePushTransport(options: NodePushTransportOptions = {}): { transport: PushTransport; close(): Promise<void> } {
  const streams = options.streamsPerConnection ?? 100;
  const agent = new Agent({
    allowH2: true,
    connections: options.connectionsPerOrigin ?? 4,
    pipelining: streams,
    maxConcurrentStreams: streams,
    keepAliveTimeout: 60_000,
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
