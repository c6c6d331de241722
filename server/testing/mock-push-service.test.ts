import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Agent, fetch, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import webpush from 'web-push';
import { decodeBase64Url, encodeBase64Url } from '../push/base64url.ts';
import {
  MAX_PUSH_BODY_BYTES,
  startMockPushService,
  type FaultMode,
  type MockPushService,
  type MockSubscription,
} from './mock-push-service.ts';

const execFileAsync = promisify(execFile);
const SUBJECT = 'mailto:ops@shop.example';
/** RFC 8291 §4 overhead of one aes128gcm record: 86-byte header + 0x02 delimiter + 16-byte tag. */
const AES128GCM_OVERHEAD_BYTES = 86 + 1 + 16;
const HOUR_SECONDS = 60 * 60;
const ABORT_AFTER_MS = 200;

type VapidKeys = { publicKey: string; privateKey: string };

interface SendOptions {
  payload?: string;
  body?: Uint8Array;
  headers?: Record<string, string | undefined>;
  authorization?: string;
  agent?: Agent;
  signal?: AbortSignal;
}

/** Signs a VAPID JWT ourselves, for claims web-push refuses to produce (exp > 24 h, other alg, http: sub). */
function signJwt(keys: VapidKeys, header: object, claims: object): string {
  const pub = decodeBase64Url(keys.publicKey)!;
  const key = createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: keys.privateKey,
      x: encodeBase64Url(pub.subarray(1, 33)),
      y: encodeBase64Url(pub.subarray(33, 65)),
    },
  });
  const encode = (value: object) => encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)));
  const input = `${encode(header)}.${encode(claims)}`;
  // JWS ES256 (RFC 7518 §3.4) is r || s, not DER.
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${encodeBase64Url(signature)}`;
}

/**
 * undici multiplexes a request on a busy HTTP/2 connection only when it is idempotent and its body is
 * not a stream, so fetch() (body always a stream) never does: concurrency tests use request() with
 * a Buffer body, `idempotent: true` and a high `pipelining`.
 */
function multiplexedAgent(ca: string): Agent {
  return new Agent({ allowH2: true, connections: 1, pipelining: 10_000, connect: { ca } });
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

describe('mock push service (verify on)', () => {
  let svc: MockPushService;
  let h2: Agent;
  let h1: Agent;
  let vapid: VapidKeys;

  function vapidHeader(keys: VapidKeys = vapid, audience = svc.origin, expiration?: number): string {
    return webpush.getVapidHeaders(audience, SUBJECT, keys.publicKey, keys.privateKey, 'aes128gcm', expiration).Authorization;
  }

  function send(sub: MockSubscription, options: SendOptions = {}) {
    const body = options.body ?? webpush.encrypt(sub.keys.p256dh, sub.keys.auth, options.payload ?? 'hello', 'aes128gcm').cipherText;
    const headers: Record<string, string> = {
      ttl: '60',
      'content-encoding': 'aes128gcm',
      'content-type': 'application/octet-stream',
      authorization: options.authorization ?? vapidHeader(),
    };
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    return fetch(sub.endpoint, {
      method: 'POST',
      headers,
      body,
      dispatcher: options.agent ?? h2,
      redirect: 'manual',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async function expectRejected(response: Awaited<ReturnType<typeof send>>, status: number, reason: RegExp) {
    const text = await response.text();
    expect(response.status, text).toBe(status);
    expect(text).toMatch(reason);
    expect(svc.rejected.at(-1)?.reason).toMatch(reason);
  }

  beforeAll(async () => {
    svc = await startMockPushService();
    h2 = new Agent({ allowH2: true, connect: { ca: svc.ca } });
    h1 = new Agent({ connect: { ca: svc.ca } });
    vapid = webpush.generateVAPIDKeys();
  });

  afterEach(() => svc.setHostMode('ok'));

  afterAll(async () => {
    await Promise.all([h2.close(), h1.close()]);
    await svc.close();
  });

  it('exposes origin, host, port and the CA in memory and on disk', async () => {
    expect(svc.origin).toBe(`https://localhost:${svc.port}`);
    expect(svc.host).toBe(`localhost:${svc.port}`);
    expect(svc.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(await readFile(svc.caPath, 'utf8')).toBe(svc.ca);
    // The certificate names IP 127.0.0.1 too, so a client given the bare address also verifies it.
    const byIp = await fetch(`https://127.0.0.1:${svc.port}/push/unknown`, { method: 'POST', dispatcher: h2 });
    expect(byIp.status).toBe(404);
  });

  it('makes subscriptions like a browser: 65-byte p256dh, 16-byte auth, unpadded base64url, endpoint on the origin', async () => {
    const sub = await svc.subscribe();
    expect(sub.endpoint).toBe(`${svc.origin}/push/${sub.id}`);
    expect(decodeBase64Url(sub.keys.p256dh)).toHaveLength(65);
    expect(decodeBase64Url(sub.keys.p256dh)![0]).toBe(0x04);
    expect(decodeBase64Url(sub.keys.auth)).toHaveLength(16);
    expect(sub.keys.p256dh + sub.keys.auth).not.toMatch(/[=+/]/);
    expect((await svc.subscribe()).keys.p256dh).not.toBe(sub.keys.p256dh);
  });

  it('accepts a valid message over HTTP/2 with 201 + Location and records the decrypted payload', async () => {
    const sub = await svc.subscribe({ applicationServerKey: vapid.publicKey });
    const payload = JSON.stringify({ title: 'Price drop', body: 'Ünïcode ✓ 🛒' });
    const before = svc.received.length;
    const response = await send(sub, { payload, headers: { ttl: '3600', urgency: 'high', topic: 'cart-42' } });
    expect(response.status, await response.text()).toBe(201);
    expect(response.headers.get('location')).toMatch(new RegExp(`^${svc.origin}/message/`));
    expect(svc.received).toHaveLength(before + 1);
    const message = svc.received.at(-1)!;
    expect(message).toMatchObject({
      subscriptionId: sub.id,
      endpoint: sub.endpoint,
      payload,
      ttl: 3600,
      urgency: 'high',
      topic: 'cart-42',
      httpVersion: '2.0',
      vapid: { aud: svc.origin, sub: SUBJECT, k: vapid.publicKey },
    });
    expect(message.vapid.exp).toBeGreaterThan(nowSeconds());
  });

  it('also speaks HTTP/1.1 to a client without h2 (ALPN fallback)', async () => {
    const sub = await svc.subscribe();
    const response = await send(sub, { payload: 'over h1', agent: h1 });
    expect(response.status, await response.text()).toBe(201);
    expect(svc.received.at(-1)).toMatchObject({ subscriptionId: sub.id, payload: 'over h1', httpVersion: '1.1' });
  });

  it('accepts a 4,096-byte body (3,993 bytes of plaintext) and refuses 4,097 bytes with 413', async () => {
    const sub = await svc.subscribe();
    const maxPlaintext = 'x'.repeat(MAX_PUSH_BODY_BYTES - AES128GCM_OVERHEAD_BYTES);
    const fits = webpush.encrypt(sub.keys.p256dh, sub.keys.auth, maxPlaintext, 'aes128gcm').cipherText;
    expect(fits).toHaveLength(MAX_PUSH_BODY_BYTES);
    const ok = await send(sub, { body: fits });
    expect(ok.status, await ok.text()).toBe(201);
    expect(svc.received.at(-1)?.payload).toBe(maxPlaintext);

    const tooBig = webpush.encrypt(sub.keys.p256dh, sub.keys.auth, `${maxPlaintext}x`, 'aes128gcm').cipherText;
    expect(tooBig).toHaveLength(MAX_PUSH_BODY_BYTES + 1);
    await expectRejected(await send(sub, { body: tooBig }), 413, /4097 bytes/);
  });

  it('checks the size before anything else: 413 even without TTL or VAPID', async () => {
    const sub = await svc.subscribe();
    const response = await send(sub, { body: randomBytes(MAX_PUSH_BODY_BYTES + 1), headers: { ttl: undefined, authorization: undefined } });
    await expectRejected(response, 413, /exceeds 4096/);
  });

  it('refuses a missing TTL with 400 (RFC 8030 §5.2), and a malformed one', async () => {
    const sub = await svc.subscribe();
    await expectRejected(await send(sub, { headers: { ttl: undefined } }), 400, /missing TTL/);
    await expectRejected(await send(sub, { headers: { ttl: '-1' } }), 400, /invalid TTL/);
    await expectRejected(await send(sub, { headers: { ttl: '1.5' } }), 400, /invalid TTL/);
    const ok = await send(sub, { headers: { ttl: '0' } });
    expect(ok.status).toBe(201);
    expect(svc.received.at(-1)?.ttl).toBe(0);
  });

  it('refuses a malformed Urgency or Topic with 400 (RFC 8030 §5.3, §5.4)', async () => {
    const sub = await svc.subscribe();
    await expectRejected(await send(sub, { headers: { urgency: 'urgent' } }), 400, /Urgency/);
    await expectRejected(await send(sub, { headers: { topic: 'a'.repeat(33) } }), 400, /Topic/);
    await expectRejected(await send(sub, { headers: { topic: 'no spaces' } }), 400, /Topic/);
  });

  it('requires Content-Encoding aes128gcm: missing → 400, aesgcm → 415', async () => {
    const sub = await svc.subscribe();
    await expectRejected(await send(sub, { headers: { 'content-encoding': undefined } }), 400, /Content-Encoding/);
    await expectRejected(await send(sub, { headers: { 'content-encoding': 'aesgcm' } }), 415, /aesgcm/);
  });

  it('refuses a body that does not decrypt with 400: garbage, a flipped bit, or another subscriber’s keys', async () => {
    const sub = await svc.subscribe();
    const other = await svc.subscribe();
    const before = svc.received.length;
    await expectRejected(await send(sub, { body: randomBytes(200) }), 400, /aes128gcm/);

    const tampered = Buffer.from(webpush.encrypt(sub.keys.p256dh, sub.keys.auth, 'hello', 'aes128gcm').cipherText);
    tampered[tampered.length - 1]! ^= 0x01;
    await expectRejected(await send(sub, { body: tampered }), 400, /decryption failed/);

    const forOther = webpush.encrypt(other.keys.p256dh, other.keys.auth, 'hello', 'aes128gcm').cipherText;
    await expectRejected(await send(sub, { body: forOther }), 400, /decryption failed/);
    expect(svc.received).toHaveLength(before);
  });

  it('refuses a missing or non-vapid Authorization with 401', async () => {
    const sub = await svc.subscribe();
    await expectRejected(await send(sub, { headers: { authorization: undefined } }), 401, /missing Authorization/);
    const token = vapidHeader().match(/t=([^,\s]+)/)![1]!;
    await expectRejected(await send(sub, { authorization: `WebPush ${token}` }), 401, /not vapid/);
    await expectRejected(await send(sub, { authorization: `vapid t=${token}` }), 401, /both t and k/);
  });

  it('refuses an aud with the wrong port, scheme or host with 401 (aud is the origin incl. port, RFC 8292 §2)', async () => {
    const sub = await svc.subscribe();
    await expectRejected(await send(sub, { authorization: vapidHeader(vapid, `https://localhost:${svc.port + 1}`) }), 401, /aud/);
    await expectRejected(await send(sub, { authorization: vapidHeader(vapid, 'https://localhost') }), 401, /aud/);
    await expectRejected(await send(sub, { authorization: vapidHeader(vapid, `https://127.0.0.1:${svc.port}`) }), 401, /aud/);
  });

  it('refuses an expired JWT and one whose exp is more than 24 h ahead with 401', async () => {
    const sub = await svc.subscribe();
    await expectRejected(await send(sub, { authorization: vapidHeader(vapid, svc.origin, nowSeconds() - 60) }), 401, /expired/);
    const k = vapid.publicKey;
    const farExp = nowSeconds() + 24 * HOUR_SECONDS + 120;
    const far = signJwt(vapid, { typ: 'JWT', alg: 'ES256' }, { aud: svc.origin, sub: SUBJECT, exp: farExp });
    await expectRejected(await send(sub, { authorization: `vapid t=${far}, k=${k}` }), 401, /24 hours/);
    // The same self-signed JWT within 24 h passes, so the failure above is the exp and not the signer.
    const near = signJwt(vapid, { typ: 'JWT', alg: 'ES256' }, { aud: svc.origin, sub: SUBJECT, exp: nowSeconds() + 23 * HOUR_SECONDS });
    const ok = await send(sub, { authorization: `vapid t=${near}, k=${k}` });
    expect(ok.status, await ok.text()).toBe(201);
  });

  it('refuses a JWT signed by another key than k with 401', async () => {
    const sub = await svc.subscribe();
    const other = webpush.generateVAPIDKeys();
    const token = vapidHeader(other).match(/t=([^,\s]+)/)![1]!;
    await expectRejected(await send(sub, { authorization: `vapid t=${token}, k=${vapid.publicKey}` }), 401, /signature/);
    // A signature that is not 64 octets of r || s (e.g. DER) is refused too.
    const [h, c] = token.split('.');
    const derLength = `vapid t=${h}.${c}.${encodeBase64Url(randomBytes(70))}, k=${other.publicKey}`;
    await expectRejected(await send(sub, { authorization: derLength }), 401, /64 octets/);
  });

  it('refuses alg other than ES256, a sub that is not mailto:/https:, and a k that is not a P-256 point with 401', async () => {
    const sub = await svc.subscribe();
    const claims = { aud: svc.origin, sub: SUBJECT, exp: nowSeconds() + HOUR_SECONDS };
    const hs = signJwt(vapid, { typ: 'JWT', alg: 'HS256' }, claims);
    await expectRejected(await send(sub, { authorization: `vapid t=${hs}, k=${vapid.publicKey}` }), 401, /ES256/);
    const http = signJwt(vapid, { typ: 'JWT', alg: 'ES256' }, { ...claims, sub: 'http://shop.example' });
    await expectRejected(await send(sub, { authorization: `vapid t=${http}, k=${vapid.publicKey}` }), 401, /sub/);
    const good = signJwt(vapid, { typ: 'JWT', alg: 'ES256' }, claims);
    const shortK = encodeBase64Url(decodeBase64Url(vapid.publicKey)!.subarray(1));
    await expectRejected(await send(sub, { authorization: `vapid t=${good}, k=${shortK}` }), 401, /P-256/);
  });

  it('answers 403 when k is not the applicationServerKey the subscription was made with (like FCM)', async () => {
    const sub = await svc.subscribe({ applicationServerKey: vapid.publicKey });
    const other = webpush.generateVAPIDKeys();
    await expectRejected(await send(sub, { authorization: vapidHeader(other) }), 403, /applicationServerKey/);
    const ok = await send(sub);
    expect(ok.status).toBe(201);
  });

  it('answers 404 for an unknown subscription id and for other paths', async () => {
    const sub = await svc.subscribe();
    const unknown = { ...sub, id: 'nope', endpoint: `${svc.origin}/push/nope` };
    await expectRejected(await send(unknown), 404, /unknown subscription/);
    await expectRejected(await send({ ...sub, endpoint: `${svc.origin}/elsewhere` }), 404, /no such push resource/);
  });

  describe('fault modes', () => {
    const cases: Array<{ mode: FaultMode; status: number; retryAfter?: string }> = [
      { mode: 'gone', status: 410 },
      { mode: 'not_found', status: 404 },
      { mode: 'too_large', status: 413 },
      { mode: 'unavailable', status: 503 },
      { mode: { status: 429, retryAfter: '2' }, status: 429, retryAfter: '2' },
      { mode: { status: 429, retryAfter: 'Wed, 21 Oct 2037 07:28:00 GMT' }, status: 429, retryAfter: 'Wed, 21 Oct 2037 07:28:00 GMT' },
      { mode: { status: 503, retryAfter: '120' }, status: 503, retryAfter: '120' },
      { mode: { status: 500 }, status: 500 },
      { mode: { status: 403 }, status: 403 },
    ];

    it.each(cases)('$mode → $status, a valid message is not recorded', async ({ mode, status, retryAfter }) => {
      const sub = await svc.subscribe({ mode });
      const before = svc.received.length;
      const response = await send(sub);
      await response.text();
      expect(response.status).toBe(status);
      expect(response.headers.get('retry-after')).toBe(retryAfter ?? null);
      expect(svc.received).toHaveLength(before);
      expect(svc.rejected.at(-1)).toMatchObject({ subscriptionId: sub.id, status });
    });

    it('setMode by id or endpoint, and back to ok', async () => {
      const sub = await svc.subscribe();
      svc.setMode(sub.endpoint, 'gone');
      expect((await send(sub)).status).toBe(410);
      svc.setMode(sub.id, 'ok');
      expect((await send(sub)).status).toBe(201);
      expect(() => svc.setMode('unknown-id', 'gone')).toThrow(/no subscription/);
    });

    it('setHostMode applies to every subscription until set back to ok', async () => {
      const a = await svc.subscribe();
      const b = await svc.subscribe({ mode: 'gone' });
      svc.setHostMode({ status: 429, retryAfter: '7' });
      const [ra, rb] = await Promise.all([send(a), send(b)]);
      expect([ra.status, rb.status]).toEqual([429, 429]);
      expect(ra.headers.get('retry-after')).toBe('7');
      svc.setHostMode('ok');
      expect((await send(a)).status).toBe(201);
      expect((await send(b)).status).toBe(410);
    });

    it('hang: never answers, the client aborts with AbortSignal.timeout and the stream is released', async () => {
      const sub = await svc.subscribe({ mode: 'hang' });
      const started = Date.now();
      await expect(send(sub, { signal: AbortSignal.timeout(ABORT_AFTER_MS) })).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(ABORT_AFTER_MS - 20);
      await expect.poll(() => svc.hanging).toBe(0);
      // The connection is still good for the next message.
      svc.setMode(sub.id, 'ok');
      expect((await send(sub)).status).toBe(201);
    });

    it('reset over HTTP/2: the client sees a network error, other streams on the session still work', async () => {
      const sub = await svc.subscribe({ mode: 'reset' });
      const ok = await svc.subscribe();
      const error = await send(sub).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TypeError); // fetch failed
      expect((error as { cause?: unknown }).cause).toMatchObject({
        code: 'ERR_HTTP2_STREAM_ERROR',
        message: expect.stringMatching(/NGHTTP2_INTERNAL_ERROR/),
      });
      const okResponse = await send(ok);
      expect(okResponse.status).toBe(201);
      expect(svc.received.at(-1)?.httpVersion).toBe('2.0');
    });

    it('reset over HTTP/1.1: the socket is destroyed and the client sees a network error', async () => {
      const sub = await svc.subscribe({ mode: 'reset' });
      await expect(send(sub, { agent: h1 })).rejects.toMatchObject({ name: 'TypeError', cause: { code: 'UND_ERR_SOCKET' } });
    });
  });

  it('verifies 500 messages multiplexed concurrently on one HTTP/2 connection', async () => {
    const N = 500;
    const agent = multiplexedAgent(svc.ca);
    try {
      const subs = await Promise.all(Array.from({ length: 20 }, () => svc.subscribe()));
      const authorization = vapidHeader(); // one JWT for all, as a real sender caches it
      const messages = Array.from({ length: N }, (_, i) => {
        const sub = subs[i % subs.length]!;
        return { sub, body: webpush.encrypt(sub.keys.p256dh, sub.keys.auth, `m${i}`, 'aes128gcm').cipherText };
      });
      const startAccepted = svc.accepted;
      const startConnections = svc.connections;
      const startMax = svc.maxInFlight;
      const statuses = await Promise.all(
        messages.map(async ({ sub, body }) => {
          const response = await request(sub.endpoint, {
            method: 'POST',
            body,
            headers: { ttl: '60', 'content-encoding': 'aes128gcm', authorization },
            dispatcher: agent,
            idempotent: true,
          });
          await response.body.text();
          return response.statusCode;
        }),
      );
      expect(statuses.filter((s) => s !== 201)).toEqual([]);
      await svc.waitForReceived(startAccepted + N, 1000);
      // Each payload decrypted under the subscription it was encrypted for, none lost or duplicated.
      const got = svc.received.slice(-N).map((m) => `${m.subscriptionId}:${m.payload}`).sort();
      const sent = messages.map(({ sub }, i) => `${sub.id}:m${i}`).sort();
      expect(got).toEqual(sent);
      expect(svc.connections - startConnections).toBe(1);
      expect(startMax).toBeLessThan(10);
      expect(svc.maxInFlight).toBeGreaterThan(10); // really concurrent streams, not one after another
      expect(svc.received.slice(-N).every((m) => m.httpVersion === '2.0')).toBe(true);
    } finally {
      await agent.destroy();
    }
  });

  it('checks exp on every request, also for a JWT whose signature was verified before', async () => {
    const sub = await svc.subscribe();
    const authorization = vapidHeader(vapid, svc.origin, nowSeconds() + 60);
    expect((await send(sub, { authorization })).status).toBe(201);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 120_000);
      await expectRejected(await send(sub, { authorization }), 401, /expired/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('accepts many connections: 100 clients, one TLS connection each', async () => {
    const sub = await svc.subscribe();
    const before = svc.connections;
    const agents = Array.from({ length: 100 }, () => new Agent({ connect: { ca: svc.ca } }));
    try {
      const statuses = await Promise.all(agents.map(async (agent) => {
        const response = await send(sub, { agent, payload: 'many' });
        await response.text();
        return response.status;
      }));
      expect(statuses.filter((s) => s !== 201)).toEqual([]);
      expect(svc.connections - before).toBe(100);
      await expect.poll(() => svc.inFlight).toBe(0);
    } finally {
      await Promise.all(agents.map((agent) => agent.destroy()));
    }
  });

  it('is trusted by a child process through NODE_EXTRA_CA_CERTS=caPath', async () => {
    const script = `fetch(process.argv[1], { method: 'POST', headers: { TTL: '0' } })
      .then((r) => console.log(r.status), (e) => console.log('error', e.cause?.code ?? e.message))`;
    const { stdout } = await execFileAsync(process.execPath, ['-e', script, `${svc.origin}/push/not-a-subscription`], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: svc.caPath },
    });
    expect(stdout.trim()).toBe('404');
  });

  it('waitForReceived rejects after its timeout with the counts', async () => {
    await expect(svc.waitForReceived(svc.accepted + 1, 50)).rejects.toThrow(/accepted after 50 ms/);
  });
});

describe('mock push service (verify off, for benchmarks)', () => {
  let svc: MockPushService;
  let h2: Agent;

  beforeAll(async () => {
    svc = await startMockPushService({ verify: false });
    h2 = new Agent({ allowH2: true, connect: { ca: svc.ca } });
  });

  afterAll(async () => {
    await h2.close();
    await svc.close();
  });

  function post(endpoint: string, body: Uint8Array, headers: Record<string, string> = { ttl: '60' }) {
    return fetch(endpoint, { method: 'POST', body, headers, dispatcher: h2 });
  }

  it('accepts any body on any /push/<id> without crypto, and keeps no log by default', async () => {
    const response = await post(`${svc.origin}/push/minted-by-bench`, randomBytes(300));
    expect(response.status).toBe(201);
    expect(svc.accepted).toBe(1);
    expect(svc.received).toHaveLength(0);
  });

  it('still requires TTL and the 4,096-byte limit', async () => {
    const noTtl = await post(`${svc.origin}/push/x`, randomBytes(10), {});
    expect(noTtl.status).toBe(400);
    const tooBig = await post(`${svc.origin}/push/x`, randomBytes(MAX_PUSH_BODY_BYTES + 1));
    expect(tooBig.status).toBe(413);
  });

  it('still applies fault modes', async () => {
    const sub = await svc.subscribe({ mode: 'gone' });
    expect((await post(sub.endpoint, randomBytes(10))).status).toBe(410);
  });

  it('answers 3,000 concurrent streams on one HTTP/2 connection; waitForReceived counts them', async () => {
    const N = 3000;
    const agent = multiplexedAgent(svc.ca);
    try {
      const start = svc.accepted;
      const startConnections = svc.connections;
      const body = randomBytes(1000);
      const statuses = await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          const response = await request(`${svc.origin}/push/s${i}`, {
            method: 'POST',
            body,
            headers: { ttl: '60' },
            dispatcher: agent,
            idempotent: true,
          });
          await response.body.arrayBuffer();
          return response.statusCode;
        }),
      );
      expect(statuses.filter((s) => s !== 201)).toEqual([]);
      await svc.waitForReceived(start + N, 1000);
      expect(svc.accepted).toBe(start + N);
      expect(svc.connections - startConnections).toBe(1);
      expect(svc.maxInFlight).toBeGreaterThan(100);
    } finally {
      await agent.destroy();
    }
  });
});

describe('mock push service close()', () => {
  it('ends 1,000 hanging streams of one connection promptly; the clients see an error, not a hang', async () => {
    const N = 1000;
    const svc = await startMockPushService({ verify: false });
    const agent = multiplexedAgent(svc.ca);
    try {
      svc.setHostMode('hang');
      const pending = Array.from({ length: N }, (_, i) =>
        request(`${svc.origin}/push/h${i}`, {
          method: 'POST',
          body: Buffer.from('x'),
          headers: { ttl: '60' },
          dispatcher: agent,
          idempotent: true,
        }).then(
          () => 'answered',
          () => 'error',
        ),
      );
      await expect.poll(() => svc.hanging, { timeout: 5000 }).toBe(N);
      expect(svc.connections).toBe(1);
      const started = Date.now();
      await svc.close();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(new Set(await Promise.all(pending))).toEqual(new Set(['error']));
      expect(svc.hanging).toBe(0);
    } finally {
      await agent.destroy();
      await svc.close();
    }
  });

  it('removes its temp dir (caPath) on close', async () => {
    const svc = await startMockPushService();
    await svc.close();
    await expect(readFile(svc.caPath, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('logs accepted messages with acceptedLog, with unverified claims', async () => {
    const svc = await startMockPushService({ verify: false, acceptedLog: true });
    const agent = new Agent({ allowH2: true, connect: { ca: svc.ca } });
    try {
      const keys = webpush.generateVAPIDKeys();
      const authorization = webpush.getVapidHeaders(svc.origin, SUBJECT, keys.publicKey, keys.privateKey, 'aes128gcm').Authorization;
      const response = await fetch(`${svc.origin}/push/b1`, {
        method: 'POST',
        body: 'x',
        headers: { ttl: '5', authorization },
        dispatcher: agent,
      });
      expect(response.status).toBe(201);
      expect(svc.received).toHaveLength(1);
      expect(svc.received[0]).toMatchObject({
        subscriptionId: 'b1',
        ttl: 5,
        payload: '',
        httpVersion: '2.0',
        vapid: { aud: svc.origin, sub: SUBJECT, k: keys.publicKey },
      });
    } finally {
      await agent.close();
      await svc.close();
    }
  });
});
