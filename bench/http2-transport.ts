import { connect, constants, type ClientHttp2Session } from 'node:http2';
import type { PushTransport } from '../server/push/fetch-transport.ts';
import { classifyError, classifyResponse } from '../server/push/push-outcome.ts';

/**
 * EXPERIMENT for `bench:fanout --transport=http2`, not used by the server: a push transport on
 * Node's own http2 client, to measure how much of the per-push CPU is undici's. A few sessions
 * per origin, round robin; a per-stream timeout that resets the stream; no redirects (a 3xx is
 * classified like any other status). It lacks what a real transport needs (reconnect backoff,
 * HTTP/1.1 fallback for push services without h2, GOAWAY handling beyond replacing the session).
 */
export function http2PushTransport(options: { ca?: string; sessionsPerOrigin?: number; timeoutMs?: number } = {}) {
  const sessionsPerOrigin = options.sessionsPerOrigin ?? 4;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pools = new Map<string, { sessions: Array<ClientHttp2Session | undefined>; next: number }>();

  function session(origin: string): ClientHttp2Session {
    let pool = pools.get(origin);
    if (!pool) {
      pool = { sessions: new Array(sessionsPerOrigin).fill(undefined), next: 0 };
      pools.set(origin, pool);
    }
    const slot = pool.next++ % sessionsPerOrigin;
    let current = pool.sessions[slot];
    if (!current || current.closed || current.destroyed) {
      current = connect(origin, options.ca ? { ca: options.ca } : {});
      current.on('error', () => {});
      const mine = current;
      current.once('close', () => {
        if (pool!.sessions[slot] === mine) pool!.sessions[slot] = undefined;
      });
      current.once('goaway', () => {
        if (pool!.sessions[slot] === mine) pool!.sessions[slot] = undefined;
      });
      pool.sessions[slot] = current;
    }
    return current;
  }

  const transport: PushTransport = {
    send(request) {
      return new Promise((resolve) => {
        let settled = false;
        const settle = (outcome: ReturnType<typeof classifyError>) => {
          if (!settled) {
            settled = true;
            resolve(outcome);
          }
        };
        try {
          const url = new URL(request.url);
          const headers: Record<string, string | number> = { ':method': 'POST', ':path': `${url.pathname}${url.search}`, 'content-length': request.body.byteLength };
          for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
          const stream = session(url.origin).request(headers);
          stream.setTimeout(timeoutMs, () => {
            stream.close(constants.NGHTTP2_CANCEL);
            settle(classifyError(Object.assign(new Error('push timed out'), { name: 'TimeoutError' })));
          });
          let status = 0;
          let retryAfter: string | null = null;
          stream.on('response', (responseHeaders) => {
            status = Number(responseHeaders[':status']);
            const value = responseHeaders['retry-after'];
            retryAfter = value === undefined ? null : String(value);
          });
          stream.on('data', () => {});
          stream.on('error', (error) => settle(classifyError(error)));
          stream.on('close', () => {
            if (status > 0) settle(classifyResponse(status, { get: (name) => (name.toLowerCase() === 'retry-after' ? retryAfter : null) }, Date.now()));
            else settle(classifyError(new Error(`stream closed without a response (code ${stream.rstCode})`)));
          });
          stream.end(request.body);
        } catch (error) {
          settle(classifyError(error));
        }
      });
    },
  };
  return {
    transport,
    close: async () => {
      for (const pool of pools.values()) for (const s of pool.sessions) s?.close();
    },
  };
}
