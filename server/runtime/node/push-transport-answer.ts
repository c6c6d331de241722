import { constants as http2Constants, type ClientHttp2Stream } from 'node:http2';
import { classifyError, classifyResponse, type PushOutcome } from '../../push/push-outcome.ts';
import type { SessionSlot } from './push-transport-sessions.ts';
import type { PendingPush } from './push-transport-streams.ts';

/**
 * RFC 9113 §8.7: a stream refused with REFUSED_STREAM (or above a GOAWAY's last stream id) was not
 * processed, so it is safe to send again; once, on another session, before giving up as retryable.
 */
export const MAX_UNPROCESSED_RESENDS = 1;

/**
 * What a push whose stream has closed came to: the push service's answer classified (RFC 8030
 * status, Retry-After), `'resend'` when the peer provably did not process it and it has resends
 * left, or else the error that ended the stream or its connection, classified as retryable.
 */
export function streamAnswer(push: PendingPush, stream: ClientHttp2Stream, slot: SessionSlot): PushOutcome | 'resend' {
  const status = push.response?.[':status'];
  if (status !== undefined) return classifyResponse(status, push, Date.now());
  if (stream.rstCode === http2Constants.NGHTTP2_REFUSED_STREAM && push.resends < MAX_UNPROCESSED_RESENDS) return 'resend';
  const cause = push.error ?? slot.error;
  return classifyError(
    cause ?? new Error(`stream closed without a response (${slot.h2?.destroyed ? 'connection closed' : `RST_STREAM ${stream.rstCode}`})`),
  );
}
