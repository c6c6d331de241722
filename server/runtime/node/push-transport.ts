import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { fetchTransport, type PushFetch, type PushTransport } from '../../push/fetch-transport.ts';

export interface NodePushTransportOptions {
  /** Extra CA certificate (PEM) to trust beside the system's, e.g. a local mock push service. */
  ca?: string;
  timeoutMs?: number;
  /** Sockets per push-service origin; HTTP/2 multiplexes up to 100 streams on each. */
  connectionsPerOrigin?: number;
}

/**
 * Push over undici with pooled keep-alive connections and HTTP/2 where the push service offers it
 * (FCM, Mozilla and Apple all do): one TLS handshake serves thousands of messages, where
 * web-push's sendNotification opens a new connection for each.
 */
export function nodePushTransport(options: NodePushTransportOptions = {}): { transport: PushTransport; close(): Promise<void> } {
  const agent = new Agent({
    allowH2: true,
    connections: options.connectionsPerOrigin ?? 8,
    keepAliveTimeout: 60_000,
    ...(options.ca ? { connect: { ca: [...rootCertificates, options.ca] } } : {}),
  });
  const send: PushFetch = (url, init) => undiciFetch(url, { ...init, dispatcher: agent });
  return {
    transport: fetchTransport(send, { timeoutMs: options.timeoutMs }),
    close: () => agent.close(),
  };
}
