import type { OutgoingHttpHeaders } from 'node:http2';
import { createSecureContext, rootCertificates } from 'node:tls';
import { DEFAULT_PUSH_TIMEOUT_MS, type PushTransport } from '../../push/fetch-transport.ts';
import { classifyError, type PushOutcome } from '../../push/push-outcome.ts';
import { undiciPushTransport } from './push-transport-http1.ts';
import { OriginPool, SESSION_IDLE_TIMEOUT_MS, type PoolSettings } from './push-transport-sessions.ts';
import { Deadlines, PendingPush } from './push-transport-streams.ts';

export interface NodePushTransportOptions {
  /** Extra CA certificate (PEM) to trust beside the system's, e.g. a local mock push service. */
  ca?: string;
  timeoutMs?: number;
  /** Connections per push-service origin: HTTP/2 sessions (or HTTP/1.1 sockets for the fallback). */
  connectionsPerOrigin?: number;
  /** Requests in flight on one connection: HTTP/2 streams (or HTTP/1.1 pipelining depth). */
  streamsPerConnection?: number;
}

/** Sessions per origin unless told otherwise; more are opened only when the open ones are full. */
const DEFAULT_CONNECTIONS_PER_ORIGIN = 4;
/** Our own cap on streams per session; the peer's SETTINGS_MAX_CONCURRENT_STREAMS lowers it. */
const DEFAULT_STREAMS_PER_CONNECTION = 100;
/** A path (and query) that needs no normalisation: sent as is, without parsing the URL again. */
const PLAIN_PATH = /^\/[\w\-.~!$&'()*+,;=:@/?%]*$/;
const HTTPS_PREFIX_LENGTH = 'https://'.length;

/**
 * Push over Node's own HTTP/2 client (RFC 9113), which every big push service speaks (FCM, Mozilla
 * autopush, Apple, WNS): a few long-lived sessions per origin carry every push as a stream, so one
 * TLS handshake serves thousands of messages. undici did the same for about twice the CPU per push
 * (bench:fanout, transport phase); the sender is the hot path of a fan-out, so it is done here with
 * as little per-push work as node:http2 allows: one header object, no URL parsing for ordinary
 * endpoints, one timer for all deadlines, one TLS context for all connections.
 *
 * - Sessions per origin: up to `connectionsPerOrigin`, a new one opened only when the open ones are
 *   full; each carries at most min(`streamsPerConnection`, the peer's SETTINGS_MAX_CONCURRENT_STREAMS,
 *   RFC 9113 §5.1.2) streams, the rest wait here in order. A session gets its first stream only after
 *   the peer's SETTINGS: before them nghttp2 assumes 100, and a peer allowing fewer refuses the rest.
 * - Timeout: a push without an answer after `timeoutMs` (queueing included) has its stream reset with
 *   CANCEL (RFC 9113 §8.7) and resolves as "timed out". Redirects are never followed: a 3xx is just
 *   classified (refused) like any other status.
 * - GOAWAY, a session error or a closed socket: the session leaves the pool at once and the next
 *   push opens a fresh one; its unanswered pushes resolve as retryable, except streams the peer
 *   provably did not process (REFUSED_STREAM, RFC 9113 §8.7), which are sent again once.
 * - Idle sessions close after 60 s and never keep the process alive (they are unref'd while no
 *   stream is open); close() closes everything.
 * - HTTP/1.1 fallback: ALPN offers h2 and http/1.1; an origin that picks http/1.1 (or none) is
 *   remembered for an hour and its pushes, the one that found out included, go through undici.
 *
 * The parts: this file takes a request to its origin's pool and closes everything;
 * push-transport-sessions.ts keeps the sessions of one origin (connect, ALPN, SETTINGS, GOAWAY,
 * idle) and the pushes waiting for a stream; push-transport-streams.ts sends one push as a stream
 * and holds the deadlines; push-transport-answer.ts tells what a closed stream came to;
 * push-transport-http1.ts is the fallback.
 */
export function nodePushTransport(options: NodePushTransportOptions = {}): { transport: PushTransport; close(): Promise<void> } {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  const pools = new Map<string, OriginPool>();
  const deadlines = new Deadlines(timeoutMs);
  let fallback: { transport: PushTransport; close(): Promise<void> } | undefined;
  let closed = false;
  const settings: PoolSettings = {
    maxSessions: Math.max(1, options.connectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN),
    maxStreams: Math.max(1, options.streamsPerConnection ?? DEFAULT_STREAMS_PER_CONNECTION),
    connectTimeoutMs: timeoutMs,
    // One TLS context for every connection: given `ca`, tls.connect would otherwise parse ~140 root PEMs per connect.
    secureContext: createSecureContext(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
    deadlines,
    live: new Set(),
    isClosed: () => closed,
    http1() {
      fallback ??= undiciPushTransport({
        ca: options.ca,
        timeoutMs: options.timeoutMs,
        connections: options.connectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
        streams: options.streamsPerConnection ?? DEFAULT_STREAMS_PER_CONNECTION,
        keepAliveTimeoutMs: SESSION_IDLE_TIMEOUT_MS,
      });
      return fallback.transport;
    },
  };

  function poolFor(url: URL): OriginPool {
    let pool = pools.get(url.origin);
    if (!pool) {
      pool = OriginPool.forUrl(url, settings);
      pools.set(url.origin, pool);
    }
    return pool;
  }

  const transport: PushTransport = {
    send(request) {
      return new Promise<PushOutcome>((resolve) => {
        const url = request.url;
        // The fast path: `https://host[:port]/path` as push services hand them out is split without a URL object.
        const pathStart = url.startsWith('https://') ? url.indexOf('/', HTTPS_PREFIX_LENGTH) : -1;
        let pool = pathStart > 0 ? pools.get(url.slice(0, pathStart)) : undefined;
        let path: string;
        if (pool && PLAIN_PATH.test(url.slice(pathStart))) {
          path = url.slice(pathStart);
        } else {
          let parsed: URL;
          try {
            parsed = new URL(url);
          } catch (error) {
            return resolve(classifyError(error));
          }
          // The endpoint policy admits only https:, so this is for tests and odd callers: not ours to speak h2c.
          if (parsed.protocol !== 'https:') return settings.http1().send(request).then(resolve);
          pool = poolFor(parsed);
          path = `${parsed.pathname}${parsed.search}`;
        }
        const body = request.body;
        // Node lower-cases the names (RFC 9113 §8.2 wants them so) and adds :scheme and :authority.
        const headers: OutgoingHttpHeaders = { ':method': 'POST', ':path': path, 'content-length': body.byteLength };
        for (const name in request.headers) headers[name] = request.headers[name];
        const push = new PendingPush(request, pool, headers, Date.now() + timeoutMs, resolve);
        deadlines.track(push);
        pool.dispatch(push);
      });
    },
  };

  return {
    transport,
    async close() {
      closed = true;
      const closing: Array<Promise<unknown>> = [];
      for (const pool of pools.values()) {
        for (const push of pool.queue.splice(0)) deadlines.settle(push, classifyError(new Error('push transport closed')));
        pool.sessions.length = 0;
      }
      for (const slot of settings.live) {
        closing.push(new Promise((resolve) => slot.socket.once('close', resolve)));
        // A graceful close lets the open streams finish (or reach their deadline); a handshake in progress is cut.
        if (slot.h2) slot.h2.close();
        else slot.socket.destroy();
      }
      if (fallback) closing.push(fallback.close());
      await Promise.all(closing);
    },
  };
}
