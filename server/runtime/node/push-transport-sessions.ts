import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { isIP } from 'node:net';
import { connect as connectTls, type SecureContext, type TLSSocket } from 'node:tls';
import type { PushTransport } from '../../push/fetch-transport.ts';
import { classifyError } from '../../push/push-outcome.ts';
import { startStream, type Deadlines, type PendingPush } from './push-transport-streams.ts';

/** A session without a frame for this long is closed (as undici's keepAliveTimeout did before). */
export const SESSION_IDLE_TIMEOUT_MS = 60_000;
/**
 * How long an origin that did not negotiate h2 stays on the HTTP/1.1 fallback before ALPN is tried
 * again: push services do not change protocol often, but one that gains h2 should get it.
 */
const HTTP1_ORIGIN_MEMORY_MS = 60 * 60_000;
/**
 * ALPN (RFC 7301): offer both, so one handshake tells h2 from HTTP/1.1. Node's http2.connect offers
 * only h2, and a server without it answers with a fatal no_application_protocol alert.
 */
const ALPN_PROTOCOLS = ['h2', 'http/1.1'];

/** One connection of a pool: its TLS socket, and the HTTP/2 session on it once ALPN chose h2. */
export interface SessionSlot {
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

/** What the pools of one transport share. */
export interface PoolSettings {
  /** Sessions per origin at most. */
  readonly maxSessions: number;
  /** Our own cap on streams per session; the peer's SETTINGS_MAX_CONCURRENT_STREAMS lowers it. */
  readonly maxStreams: number;
  /** Bounds a connection up to the peer's first SETTINGS. */
  readonly connectTimeoutMs: number;
  /** One TLS context for every connection. */
  readonly secureContext: SecureContext;
  readonly deadlines: Deadlines;
  /** Every session whose socket is open, draining ones (after GOAWAY) included: what close() waits for. */
  readonly live: Set<SessionSlot>;
  isClosed(): boolean;
  /** The HTTP/1.1 fallback, made on first use. */
  http1(): PushTransport;
}

/**
 * One push-service origin: its sessions (connecting or ready, never draining) and the pushes waiting
 * for a stream. A push goes to the ready session with the most room; when all are full it waits
 * here in order, and a new session is opened, one connect at a time, up to `maxSessions`. GOAWAY, a
 * session error, a closed socket or 60 s idle take a session out of the pool at once, and the next
 * push opens a fresh one. An origin whose ALPN answer is not h2 goes to the HTTP/1.1 fallback for an
 * hour.
 */
export class OriginPool {
  readonly sessions: SessionSlot[] = [];
  readonly queue: PendingPush[] = [];
  /** Sessions between the TCP connect and the peer's first SETTINGS. */
  connecting = 0;
  /** While in the future, pushes to this origin go through the HTTP/1.1 fallback. */
  http1UntilMs = 0;

  constructor(
    readonly origin: string,
    readonly host: string,
    readonly port: number,
    private readonly settings: PoolSettings,
  ) {}

  static forUrl(url: URL, settings: PoolSettings): OriginPool {
    // URL.hostname keeps an IPv6 literal's brackets; TLS wants the bare address.
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    return new OriginPool(url.origin, host, Number(url.port || 443), settings);
  }

  /** Sends a push on a session with room now, or queues it (and opens a session if need be). */
  dispatch(push: PendingPush): void {
    const { deadlines } = this.settings;
    if (this.settings.isClosed()) return deadlines.settle(push, classifyError(new Error('push transport closed')));
    if (this.http1UntilMs > Date.now()) return this.sendOverHttp1(push);
    const slot = this.queue.length === 0 ? this.freeSession() : undefined;
    if (slot) return startStream(push, slot, deadlines);
    this.queue.push(push);
    this.drain();
  }

  /** Starts queued pushes on sessions with room, and opens a session when they are all full. */
  drain(): void {
    const { deadlines } = this.settings;
    let nowMs = 0;
    while (this.queue.length > 0) {
      const push = this.queue[0]!;
      if (push.done) {
        this.queue.shift();
        continue;
      }
      const slot = this.freeSession();
      if (!slot) break;
      this.queue.shift();
      // Past its deadline while it waited (the timer has not come round yet): not worth a stream.
      nowMs ||= Date.now();
      if (push.deadlineMs <= nowMs) deadlines.expire(push);
      else startStream(push, slot, deadlines);
    }
    // One connect at a time: the first session's SETTINGS may show that it alone has room enough.
    if (this.queue.length > 0 && this.connecting === 0 && this.sessions.length < this.settings.maxSessions && !this.settings.isClosed()) {
      this.openSession();
    }
  }

  /** Takes a session out of the pool: no new streams go to it; its open streams end on their own. */
  retire(slot: SessionSlot): void {
    const index = this.sessions.indexOf(slot);
    if (index >= 0) this.sessions.splice(index, 1);
  }

  /** The ready session with the most room, or undefined when all are full (or none is ready). */
  private freeSession(): SessionSlot | undefined {
    let best: SessionSlot | undefined;
    for (const slot of this.sessions) {
      if (slot.ready && slot.active < slot.limit && (!best || slot.active < best.active)) best = slot;
    }
    return best;
  }

  /** A session that never became ready: its connection failed, which fails the pushes waiting for it. */
  private connectFailed(slot: SessionSlot, error: unknown): void {
    this.connecting--;
    this.retire(slot);
    if ((error as { code?: unknown } | undefined)?.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') return this.switchToHttp1();
    if (this.sessions.some((other) => other.ready) || this.connecting > 0) return this.drain();
    // No other way to reach this origin now: fail the waiting pushes rather than hold them until their
    // deadline; the delivery engine retries them with backoff (no reconnect storm from here).
    const failure = classifyError(error ?? new Error(`connection to ${this.origin} closed before HTTP/2 was ready`));
    for (const push of this.queue.splice(0)) this.settings.deadlines.settle(push, failure);
  }

  /**
   * Opens a TLS connection offering h2 and http/1.1, then the HTTP/2 session on it; the session
   * takes streams once the peer's SETTINGS arrived.
   */
  private openSession(): void {
    const { live, maxStreams, connectTimeoutMs, secureContext } = this.settings;
    this.connecting++;
    const socket = connectTls({
      host: this.host,
      port: this.port,
      // RFC 6066 §3: SNI carries host names only, never an IP literal.
      ...(isIP(this.host) ? {} : { servername: this.host }),
      ALPNProtocols: ALPN_PROTOCOLS,
      secureContext,
    });
    const slot: SessionSlot = { pool: this, socket, h2: undefined, ready: false, active: 0, limit: 0, error: undefined };
    this.sessions.push(slot);
    live.add(slot);
    /** Set once the handshake settled the protocol: from then on the HTTP/2 session or the fallback owns the outcome. */
    let handshakeDone = false;
    // Up to the peer's SETTINGS, the connection is bounded by the push timeout (a black-holed SYN
    // would otherwise block this origin for the OS's TCP timeout, minutes).
    const connectTimer = setTimeout(
      () => socket.destroy(Object.assign(new Error(`connecting to ${this.origin} timed out`), { code: 'ETIMEDOUT' })),
      connectTimeoutMs,
    );
    connectTimer.unref();
    socket.on('error', (error) => {
      slot.error ??= error;
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      live.delete(slot);
      if (!handshakeDone) this.connectFailed(slot, slot.error);
    });
    socket.once('secureConnect', () => {
      handshakeDone = true;
      if (socket.alpnProtocol !== 'h2') {
        // RFC 9113 §3.3: h2 over TLS needs ALPN; no protocol or http/1.1 means an HTTP/1.1 server.
        clearTimeout(connectTimer);
        this.connecting--;
        this.retire(slot);
        socket.destroy();
        return this.switchToHttp1();
      }
      // RFC 9113 §6.5.2: we never want server push.
      const session = connectHttp2(this.origin, { createConnection: () => socket, settings: { enablePush: false } });
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
          this.connecting--;
        }
        this.drain();
        // Referenced while pushes wait for it or run on it (an awaited send must keep a script alive), never when idle.
        if (slot.active === 0) session.unref();
      });
      // RFC 9113 §6.8: after GOAWAY the session takes no new streams; Node closes it once the open ones end.
      session.once('goaway', () => {
        this.retire(slot);
        this.drain();
      });
      session.setTimeout(SESSION_IDLE_TIMEOUT_MS, () => {
        this.retire(slot);
        session.close();
      });
      session.once('close', () => {
        this.retire(slot);
        if (!slot.ready) return this.connectFailed(slot, slot.error);
        this.drain();
      });
    });
  }

  /** The origin spoke HTTP/1.1: remember it and send what waited for the handshake through undici. */
  private switchToHttp1(): void {
    this.http1UntilMs = Date.now() + HTTP1_ORIGIN_MEMORY_MS;
    for (const push of this.queue.splice(0)) if (!push.done) this.sendOverHttp1(push);
  }

  /** undici applies its own timeout (the full `timeoutMs`, so a push that queued here may wait a little longer). */
  private sendOverHttp1(push: PendingPush): void {
    this.settings.deadlines.handOver(push);
    void this.settings.http1().send(push.request).then(push.resolve);
  }
}
