import {
  connect as connectHttp2,
  constants as http2Constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { isIP } from 'node:net';
import { connect as connectTls, createSecureContext, rootCertificates, type TLSSocket } from 'node:tls';
import { Agent } from 'undici';
import { DEFAULT_PUSH_TIMEOUT_MS, fetchTransport, type PushFetch, type PushTransport } from '../../push/fetch-transport.ts';
import { classifyError, classifyResponse, type PushOutcome } from '../../push/push-outcome.ts';
import type { PushRequest } from '../../push/push-request.ts';

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
/** A session without a frame for this long is closed (as undici's keepAliveTimeout did before). */
const SESSION_IDLE_TIMEOUT_MS = 60_000;
/**
 * How long an origin that did not negotiate h2 stays on the HTTP/1.1 fallback before ALPN is tried
 * again: push services do not change protocol often, but one that gains h2 should get it.
 */
const HTTP1_ORIGIN_MEMORY_MS = 60 * 60_000;
/**
 * RFC 9113 §8.7: a stream refused with REFUSED_STREAM (or above a GOAWAY's last stream id) was not
 * processed, so it is safe to send again; once, on another session, before giving up as retryable.
 */
const MAX_UNPROCESSED_RESENDS = 1;
/**
 * ALPN (RFC 7301): offer both, so one handshake tells h2 from HTTP/1.1. Node's http2.connect offers
 * only h2, and a server without it answers with a fatal no_application_protocol alert.
 */
const ALPN_PROTOCOLS = ['h2', 'http/1.1'];
/** A path (and query) that needs no normalisation: sent as is, without parsing the URL again. */
const PLAIN_PATH = /^\/[\w\-.~!$&'()*+,;=:@/?%]*$/;
const HTTPS_PREFIX_LENGTH = 'https://'.length;

/** One push-service origin: its sessions (connecting or ready, never draining) and the pushes waiting for a stream. */
interface OriginPool {
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  readonly sessions: SessionSlot[];
  readonly queue: PendingPush[];
  /** Sessions between the TCP connect and the peer's first SETTINGS. */
  connecting: number;
  /** While in the future, pushes to this origin go through the HTTP/1.1 fallback. */
  http1UntilMs: number;
}

interface SessionSlot {
  readonly pool: OriginPool;
  readonly socket: TLSSocket;
  h2: ClientHttp2Session | undefined;
  /** True once the peer's SETTINGS arrived: before that nghttp2 assumes 100 streams, and the peer refuses the excess. */
  ready: boolean;
  /** Streams open on this session, and how many it may have. */
  active: number;
  limit: number;
  /** Why the connection failed, for the pushes that were on it. */
  error: unknown;
}

/** One push from send() to its outcome; doubles as the header view classifyResponse reads Retry-After from. */
class PendingPush {
  stream: ClientHttp2Stream | undefined = undefined;
  response: (IncomingHttpHeaders & IncomingHttpStatusHeader) | undefined = undefined;
  error: unknown = undefined;
  resends = 0;
  done = false;

  constructor(
    readonly request: PushRequest,
    readonly pool: OriginPool,
    readonly headers: OutgoingHttpHeaders,
    readonly deadlineMs: number,
    readonly resolve: (outcome: PushOutcome) => void,
  ) {}

  get(name: string): string | null {
    const value = this.response?.[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : String(value);
  }
}

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
 */
export function nodePushTransport(options: NodePushTransportOptions = {}): { transport: PushTransport; close(): Promise<void> } {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  const maxSessions = Math.max(1, options.connectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN);
  const maxStreams = Math.max(1, options.streamsPerConnection ?? DEFAULT_STREAMS_PER_CONNECTION);
  // One TLS context for every connection: given `ca`, tls.connect would otherwise parse ~140 root PEMs per connect.
  const secureContext = createSecureContext(options.ca ? { ca: [...rootCertificates, options.ca] } : {});
  const pools = new Map<string, OriginPool>();
  /** Every session whose socket is open, draining ones (after GOAWAY) included: what close() waits for. */
  const live = new Set<SessionSlot>();
  /** Every push not yet resolved, in deadline order (one timeout for all, so insertion order is deadline order). */
  const inFlight = new Set<PendingPush>();
  const timeoutError = Object.assign(new Error(`push service did not answer within ${timeoutMs} ms`), { name: 'TimeoutError' });
  let deadlineTimer: NodeJS.Timeout | undefined;
  let fallback: { transport: PushTransport; close(): Promise<void> } | undefined;
  let closed = false;

  function http1Transport(): PushTransport {
    fallback ??= undiciPushTransport(options);
    return fallback.transport;
  }

  function poolFor(url: URL): OriginPool {
    let pool = pools.get(url.origin);
    if (!pool) {
      // URL.hostname keeps an IPv6 literal's brackets; TLS wants the bare address.
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      pool = { origin: url.origin, host, port: Number(url.port || 443), sessions: [], queue: [], connecting: 0, http1UntilMs: 0 };
      pools.set(url.origin, pool);
    }
    return pool;
  }

  function settle(push: PendingPush, outcome: PushOutcome): void {
    if (push.done) return;
    push.done = true;
    inFlight.delete(push);
    push.resolve(outcome);
  }

  /** Expires the pushes past their deadline (the oldest first) and waits for the next one. */
  function expireOverdue(): void {
    deadlineTimer = undefined;
    const nowMs = Date.now();
    for (const push of inFlight) {
      if (push.deadlineMs > nowMs) break;
      const stream = push.stream;
      settle(push, classifyError(timeoutError));
      // RST_STREAM CANCEL: the push service stops work on it and the stream slot is free again.
      if (stream && !stream.closed) stream.close(http2Constants.NGHTTP2_CANCEL);
    }
    armDeadlineTimer();
  }

  function armDeadlineTimer(): void {
    if (deadlineTimer || inFlight.size === 0) return;
    const oldest = inFlight.values().next().value!;
    deadlineTimer = setTimeout(expireOverdue, Math.max(0, oldest.deadlineMs - Date.now()));
    deadlineTimer.unref();
  }

  /** The ready session with the most room, or undefined when all are full (or none is ready). */
  function freeSession(pool: OriginPool): SessionSlot | undefined {
    let best: SessionSlot | undefined;
    for (const slot of pool.sessions) {
      if (slot.ready && slot.active < slot.limit && (!best || slot.active < best.active)) best = slot;
    }
    return best;
  }

  function dispatch(push: PendingPush): void {
    const pool = push.pool;
    if (closed) return settle(push, classifyError(new Error('push transport closed')));
    if (pool.http1UntilMs > Date.now()) return sendOverHttp1(push);
    const slot = pool.queue.length === 0 ? freeSession(pool) : undefined;
    if (slot) return startStream(push, slot);
    pool.queue.push(push);
    drain(pool);
  }

  /** Starts queued pushes on sessions with room, and opens a session when they are all full. */
  function drain(pool: OriginPool): void {
    let nowMs = 0;
    while (pool.queue.length > 0) {
      const push = pool.queue[0]!;
      if (push.done) {
        pool.queue.shift();
        continue;
      }
      const slot = freeSession(pool);
      if (!slot) break;
      pool.queue.shift();
      // Past its deadline while it waited (the timer has not come round yet): not worth a stream.
      nowMs ||= Date.now();
      if (push.deadlineMs <= nowMs) settle(push, classifyError(timeoutError));
      else startStream(push, slot);
    }
    // One connect at a time: the first session's SETTINGS may show that it alone has room enough.
    if (pool.queue.length > 0 && pool.connecting === 0 && pool.sessions.length < maxSessions && !closed) openSession(pool);
  }

  function startStream(push: PendingPush, slot: SessionSlot): void {
    const session = slot.h2!;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(push.headers);
    } catch (error) {
      // The session went away between GOAWAY and our noticing (ERR_HTTP2_GOAWAY_SESSION, ..._INVALID_SESSION,
      // ..._OUT_OF_STREAMS when its stream ids ran out): nothing was sent, so try another session once.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.endsWith('_SESSION') || code === 'ERR_HTTP2_OUT_OF_STREAMS') {
        retire(slot);
        if (push.resends++ < MAX_UNPROCESSED_RESENDS) return dispatch(push);
      }
      return settle(push, classifyError(error));
    }
    if (slot.active++ === 0) session.ref();
    push.stream = stream;
    stream.on('response', (headers) => {
      push.response = headers;
    });
    stream.on('error', (error) => {
      push.error = error;
    });
    stream.on('close', () => {
      push.stream = undefined;
      if (--slot.active === 0) session.unref();
      if (!push.done) finish(push, stream, slot);
      drain(slot.pool);
    });
    // The answer is a few bytes at most; read it to the end (discarding it) so the stream closes.
    stream.resume();
    stream.end(push.request.body);
  }

  function finish(push: PendingPush, stream: ClientHttp2Stream, slot: SessionSlot): void {
    const status = push.response?.[':status'];
    if (status !== undefined) return settle(push, classifyResponse(status, push, Date.now()));
    if (stream.rstCode === http2Constants.NGHTTP2_REFUSED_STREAM && push.resends++ < MAX_UNPROCESSED_RESENDS) {
      push.error = undefined;
      return dispatch(push);
    }
    const cause = push.error ?? slot.error;
    settle(
      push,
      classifyError(
        cause ?? new Error(`stream closed without a response (${slot.h2?.destroyed ? 'connection closed' : `RST_STREAM ${stream.rstCode}`})`),
      ),
    );
  }

  /** Takes a session out of the pool: no new streams go to it; its open streams end on their own. */
  function retire(slot: SessionSlot): void {
    const index = slot.pool.sessions.indexOf(slot);
    if (index >= 0) slot.pool.sessions.splice(index, 1);
  }

  /** A session that never became ready: its connection failed, which fails the pushes waiting for it. */
  function connectFailed(slot: SessionSlot, error: unknown): void {
    const pool = slot.pool;
    pool.connecting--;
    retire(slot);
    if ((error as { code?: unknown } | undefined)?.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') return switchToHttp1(pool);
    if (pool.sessions.some((other) => other.ready) || pool.connecting > 0) return drain(pool);
    // No other way to reach this origin now: fail the waiting pushes rather than hold them until their
    // deadline; the delivery engine retries them with backoff (no reconnect storm from here).
    const failure = classifyError(error ?? new Error(`connection to ${pool.origin} closed before HTTP/2 was ready`));
    for (const push of pool.queue.splice(0)) settle(push, failure);
  }

  function openSession(pool: OriginPool): void {
    pool.connecting++;
    const socket = connectTls({
      host: pool.host,
      port: pool.port,
      // RFC 6066 §3: SNI carries host names only, never an IP literal.
      ...(isIP(pool.host) ? {} : { servername: pool.host }),
      ALPNProtocols: ALPN_PROTOCOLS,
      secureContext,
    });
    const slot: SessionSlot = { pool, socket, h2: undefined, ready: false, active: 0, limit: 0, error: undefined };
    pool.sessions.push(slot);
    live.add(slot);
    /** Set once the handshake settled the protocol: from then on the HTTP/2 session or the fallback owns the outcome. */
    let handshakeDone = false;
    // Up to the peer's SETTINGS, the connection is bounded by the push timeout (a black-holed SYN
    // would otherwise block this origin for the OS's TCP timeout, minutes).
    const connectTimer = setTimeout(() => socket.destroy(Object.assign(new Error(`connecting to ${pool.origin} timed out`), { code: 'ETIMEDOUT' })), timeoutMs);
    connectTimer.unref();
    socket.on('error', (error) => {
      slot.error ??= error;
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      live.delete(slot);
      if (!handshakeDone) connectFailed(slot, slot.error);
    });
    socket.once('secureConnect', () => {
      handshakeDone = true;
      if (socket.alpnProtocol !== 'h2') {
        // RFC 9113 §3.3: h2 over TLS needs ALPN; no protocol or http/1.1 means an HTTP/1.1 server.
        clearTimeout(connectTimer);
        pool.connecting--;
        retire(slot);
        socket.destroy();
        return switchToHttp1(pool);
      }
      // RFC 9113 §6.5.2: we never want server push.
      const session = connectHttp2(pool.origin, { createConnection: () => socket, settings: { enablePush: false } });
      slot.h2 = session;
      // Without an 'error' listener a failed connection would crash the process; 'close' follows and cleans up.
      session.on('error', (error) => {
        slot.error ??= error;
      });
      session.on('remoteSettings', (settings) => {
        slot.limit = Math.min(maxStreams, settings.maxConcurrentStreams ?? maxStreams);
        if (!slot.ready) {
          slot.ready = true;
          clearTimeout(connectTimer);
          pool.connecting--;
        }
        drain(pool);
        // Referenced while pushes wait for it or run on it (an awaited send must keep a script alive), never when idle.
        if (slot.active === 0) session.unref();
      });
      // RFC 9113 §6.8: after GOAWAY the session takes no new streams; Node closes it once the open ones end.
      session.once('goaway', () => {
        retire(slot);
        drain(pool);
      });
      session.setTimeout(SESSION_IDLE_TIMEOUT_MS, () => {
        retire(slot);
        session.close();
      });
      session.once('close', () => {
        retire(slot);
        if (!slot.ready) return connectFailed(slot, slot.error);
        drain(pool);
      });
    });
  }

  /** The origin spoke HTTP/1.1: remember it and send what waited for the handshake through undici. */
  function switchToHttp1(pool: OriginPool): void {
    pool.http1UntilMs = Date.now() + HTTP1_ORIGIN_MEMORY_MS;
    for (const push of pool.queue.splice(0)) if (!push.done) sendOverHttp1(push);
  }

  /** undici applies its own timeout (the full `timeoutMs`, so a push that queued here may wait a little longer). */
  function sendOverHttp1(push: PendingPush): void {
    push.done = true;
    inFlight.delete(push);
    void http1Transport().send(push.request).then(push.resolve);
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
          if (parsed.protocol !== 'https:') return http1Transport().send(request).then(resolve);
          pool = poolFor(parsed);
          path = `${parsed.pathname}${parsed.search}`;
        }
        const body = request.body;
        // Node lower-cases the names (RFC 9113 §8.2 wants them so) and adds :scheme and :authority.
        const headers: OutgoingHttpHeaders = { ':method': 'POST', ':path': path, 'content-length': body.byteLength };
        for (const name in request.headers) headers[name] = request.headers[name];
        const push = new PendingPush(request, pool, headers, Date.now() + timeoutMs, resolve);
        inFlight.add(push);
        armDeadlineTimer();
        dispatch(push);
      });
    },
  };

  return {
    transport,
    async close() {
      closed = true;
      const closing: Array<Promise<unknown>> = [];
      for (const pool of pools.values()) {
        for (const push of pool.queue.splice(0)) settle(push, classifyError(new Error('push transport closed')));
        pool.sessions.length = 0;
      }
      for (const slot of live) {
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

/**
 * The HTTP/1.1 fallback, over undici with pooled keep-alive connections (and HTTP/2 should the
 * origin offer it after all).
 *
 * `agent.request` rather than undici's `fetch`: fetch treats a POST as non-idempotent and sends
 * one at a time per connection. A push is safe to have in flight beside others (at worst delivered
 * twice, and its `tag` collapses that on screen), so requests are marked idempotent and pipelined.
 */
function undiciPushTransport(options: NodePushTransportOptions): { transport: PushTransport; close(): Promise<void> } {
  const streams = options.streamsPerConnection ?? DEFAULT_STREAMS_PER_CONNECTION;
  const agent = new Agent({
    allowH2: true,
    connections: options.connectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
    pipelining: streams,
    maxConcurrentStreams: streams,
    keepAliveTimeout: SESSION_IDLE_TIMEOUT_MS,
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
