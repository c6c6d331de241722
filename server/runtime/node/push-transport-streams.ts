import {
  constants as http2Constants,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { classifyError, type PushOutcome } from '../../push/push-outcome.ts';
import type { PushRequest } from '../../push/push-request.ts';
import { MAX_UNPROCESSED_RESENDS, streamAnswer } from './push-transport-answer.ts';
import type { OriginPool, SessionSlot } from './push-transport-sessions.ts';

/** One push from send() to its outcome; doubles as the header view classifyResponse reads Retry-After from. */
export class PendingPush {
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
 * Every push not yet resolved, and the one timer that expires them: a push without an answer
 * `timeoutMs` after send() (queueing included) resolves as timed out, and its stream, if it has
 * one, is reset with CANCEL (RFC 9113 §8.7). One timeout for all pushes, so the order they were
 * sent in is their deadline order and the timer only ever waits for the oldest.
 */
export class Deadlines {
  /** In deadline order. */
  private readonly inFlight = new Set<PendingPush>();
  private timer: NodeJS.Timeout | undefined;
  private readonly timeoutError: Error;

  constructor(readonly timeoutMs: number) {
    this.timeoutError = Object.assign(new Error(`push service did not answer within ${timeoutMs} ms`), { name: 'TimeoutError' });
  }

  /** Starts the clock of a push just sent. */
  track(push: PendingPush): void {
    this.inFlight.add(push);
    this.arm();
  }

  /** Resolves a push with its outcome, once: a later answer (or deadline) for it changes nothing. */
  settle(push: PendingPush, outcome: PushOutcome): void {
    if (push.done) return;
    push.done = true;
    this.inFlight.delete(push);
    push.resolve(outcome);
  }

  /** Resolves a push as timed out. */
  expire(push: PendingPush): void {
    this.settle(push, classifyError(this.timeoutError));
  }

  /** The push leaves these deadlines for a transport that keeps its own (the HTTP/1.1 fallback). */
  handOver(push: PendingPush): void {
    push.done = true;
    this.inFlight.delete(push);
  }

  /** Expires the pushes past their deadline (the oldest first) and waits for the next one. */
  private expireOverdue = (): void => {
    this.timer = undefined;
    const nowMs = Date.now();
    for (const push of this.inFlight) {
      if (push.deadlineMs > nowMs) break;
      const stream = push.stream;
      this.expire(push);
      // RST_STREAM CANCEL: the push service stops work on it and the stream slot is free again.
      if (stream && !stream.closed) stream.close(http2Constants.NGHTTP2_CANCEL);
    }
    this.arm();
  };

  private arm(): void {
    if (this.timer || this.inFlight.size === 0) return;
    const oldest = this.inFlight.values().next().value!;
    this.timer = setTimeout(this.expireOverdue, Math.max(0, oldest.deadlineMs - Date.now()));
    this.timer.unref();
  }
}

/**
 * Sends a push as one stream on a ready session with room, and settles it when the stream closes:
 * with the push service's answer, or sent again once when the peer provably did not process it.
 */
export function startStream(push: PendingPush, slot: SessionSlot, deadlines: Deadlines): void {
  const session = slot.h2!;
  let stream: ClientHttp2Stream;
  try {
    stream = session.request(push.headers);
  } catch (error) {
    // The session went away between GOAWAY and our noticing (ERR_HTTP2_GOAWAY_SESSION, ..._INVALID_SESSION,
    // ..._OUT_OF_STREAMS when its stream ids ran out): nothing was sent, so try another session once.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.endsWith('_SESSION') || code === 'ERR_HTTP2_OUT_OF_STREAMS') {
      slot.pool.retire(slot);
      if (push.resends++ < MAX_UNPROCESSED_RESENDS) return push.pool.dispatch(push);
    }
    return deadlines.settle(push, classifyError(error));
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
    if (!push.done) {
      const answer = streamAnswer(push, stream, slot);
      if (answer === 'resend') {
        push.resends++;
        push.error = undefined;
        push.pool.dispatch(push);
      } else {
        deadlines.settle(push, answer);
      }
    }
    slot.pool.drain();
  });
  // The answer is a few bytes at most; read it to the end (discarding it) so the stream closes.
  stream.resume();
  stream.end(push.request.body);
}
