import { execFile } from 'node:child_process';
import { createDecipheriv, createECDH, hkdfSync, randomBytes, type ECDH, type webcrypto } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import {
  constants as http2Constants,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeBase64Url, encodeBase64Url } from '../push/base64url.ts';
import { DAY_SECONDS } from '../time.ts';

/**
 * A strict local push service (RFC 8030) for delivery tests and benchmarks: HTTPS with HTTP/2,
 * VAPID verified as RFC 8292 says, every body decrypted as RFC 8291 says with the subscriber's
 * keys, and fault modes that a test switches per subscription or for the whole host.
 */

/** RFC 8030 §7.2: a push service must accept 4,096 octets of payload; FCM and autopush reject more with 413. */
export const MAX_PUSH_BODY_BYTES = 4096;
/** RFC 8292 §2: the JWT `exp` must not be more than 24 hours after the request. */
export const MAX_VAPID_EXP_AHEAD_SECONDS = DAY_SECONDS;
const CERT_VALIDITY_DAYS = 2;
const SIGNATURE_CACHE_MAX_ENTRIES = 1024;
const P256_POINT_BYTES = 65;
const AUTH_SECRET_BYTES = 16;
/** RFC 8188 §2: salt (16) | rs (uint32) | idlen (uint8) | keyid. */
const ECE_SALT_BYTES = 16;
const ECE_HEADER_FIXED_BYTES = 21;
const AES_GCM_TAG_BYTES = 16;
/** RFC 8188 §2.1: an rs below 18 is invalid (16-octet tag, the delimiter, one octet of content). */
const ECE_MIN_RECORD_SIZE = 18;
/** Long enough for thousands of concurrent streams on one session without ENHANCE_YOUR_CALM. */
const HTTP2_MAX_SESSION_MEMORY_MB = 256;
const HTTP2_MAX_CONCURRENT_STREAMS = 100_000;

export type FaultMode =
  | 'ok' // 201 Created with a Location (RFC 8030 §5)
  | 'gone' // 410: the subscription expired (RFC 8030 §7.3)
  | 'not_found' // 404
  | 'too_large' // 413, whatever the size
  | 'unavailable' // 503 without Retry-After
  | 'hang' // never answers; the stream stays open until the client aborts or close()
  | 'reset' // the stream (HTTP/2 RST_STREAM INTERNAL_ERROR) or socket (HTTP/1.1) dies without an answer
  /** Any status, e.g. `{ status: 429, retryAfter: '2' }` or an HTTP-date; `retryAfter` is sent as is. */
  | { status: number; retryAfter?: string };

export interface MockPushServiceOptions {
  /** Default true: verify VAPID and decrypt every message. False (benchmarks): count and answer 201, no crypto. */
  verify?: boolean;
  /** Keep every accepted message in `received`. Default: the value of `verify`. */
  acceptedLog?: boolean;
  /** A service without HTTP/2: ALPN offers only http/1.1, as an old or proxied push service would. */
  http1Only?: boolean;
  /** SETTINGS_MAX_CONCURRENT_STREAMS announced to clients (RFC 9113 §6.5.2). Default 100,000. */
  maxConcurrentStreams?: number;
}

export interface SubscribeOptions {
  /** The base64url VAPID public key the "browser" subscribed with; a request signed with another `k` gets 403. */
  applicationServerKey?: string;
  mode?: FaultMode;
}

export interface MockSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface VapidClaims {
  aud: string;
  sub: string;
  exp: number;
  /** The `k` parameter of the Authorization header (base64url public key). */
  k: string;
}

export interface ReceivedPush {
  subscriptionId: string;
  endpoint: string;
  /** The decrypted plaintext (UTF-8); '' when `verify` is false or the push had no body. */
  payload: string;
  ttl: number;
  urgency?: string;
  topic?: string;
  /** Verified claims; with `verify: false`, decoded without any check (empty strings when absent). */
  vapid: VapidClaims;
  httpVersion: string;
  receivedAt: number;
}

export interface RejectedPush {
  subscriptionId?: string;
  status: number;
  reason: string;
}

export interface MockPushService {
  readonly origin: string;
  readonly port: number;
  /** `localhost:PORT`, as PUSHCART_PUSH_HOSTS expects it. */
  readonly host: string;
  /** PEM of the self-signed certificate, to trust it: undici `Agent({ connect: { ca } })`. */
  readonly ca: string;
  /** The same PEM in a file, for NODE_EXTRA_CA_CERTS of a child process. Removed by close(). */
  readonly caPath: string;
  readonly received: ReceivedPush[];
  readonly rejected: RejectedPush[];
  /** Every request that reached the handler, whatever its outcome. */
  readonly requests: number;
  /** Messages answered 201 (also counted when `acceptedLog` is off). */
  readonly accepted: number;
  /** Streams currently held open by the 'hang' mode. */
  readonly hanging: number;
  /** Requests being handled now (hanging ones included), and the peak: to check a client's in-flight bound. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** TLS connections accepted so far (to check that a client pools them). */
  readonly connections: number;
  subscribe(options?: SubscribeOptions): Promise<MockSubscription>;
  setMode(subscriptionIdOrEndpoint: string, mode: FaultMode): void;
  /** A mode for every subscription (known or not); back to 'ok' to let per-subscription modes apply again. */
  setHostMode(mode: FaultMode): void;
  /** Resolves once `accepted >= n` (that is `received.length >= n` when logging); rejects after timeoutMs. */
  waitForReceived(n: number, timeoutMs: number): Promise<void>;
  /** Sends GOAWAY on every HTTP/2 session (RFC 9113 §6.8), as a service does before a restart: open streams finish, new ones need a new connection. */
  goAway(): void;
  /** Stops listening, destroys every connection (hanging streams included) and removes the temp dir. */
  close(): Promise<void>;
}

interface SubscriptionState {
  id: string;
  endpoint: string;
  ecdh: ECDH;
  publicKey: Buffer;
  authSecret: Buffer;
  applicationServerKey: Uint8Array | undefined;
  mode: FaultMode;
}

type AnyRequest = Http2ServerRequest | IncomingMessage;
type AnyResponse = Http2ServerResponse | ServerResponse;

class PushRejection extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

const execFileAsync = promisify(execFile);
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
const TTL = /^\d{1,10}$/;
const PUSH_PATH = /^\/push\/([A-Za-z0-9_-]+)$/;
const NO_CLAIMS: VapidClaims = Object.freeze({ aud: '', sub: '', exp: 0, k: '' });

async function selfSignedCertificate(dir: string): Promise<{ key: string; cert: string; certPath: string }> {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      String(CERT_VALIDITY_DAYS),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
  } catch (error) {
    throw new Error(`mock push service: generating a certificate with openssl failed (is openssl on PATH?): ${String(error)}`);
  }
  const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  return { key, cert, certPath };
}

function faultStatus(mode: FaultMode): { status: number; retryAfter?: string } | undefined {
  switch (mode) {
    case 'ok':
    case 'hang':
    case 'reset':
      return undefined;
    case 'gone':
      return { status: 410 };
    case 'not_found':
      return { status: 404 };
    case 'too_large':
      return { status: 413 };
    case 'unavailable':
      return { status: 503 };
    default:
      return mode;
  }
}

function header(req: AnyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function decodeJsonSegment(segment: string): unknown {
  const bytes = decodeBase64Url(segment);
  if (!bytes) return undefined;
  try {
    return JSON.parse(textDecoder.decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

/** RFC 8292 §3.1: `Authorization: vapid t=<JWT>, k=<key>`; the scheme is case-insensitive (RFC 7235 §2.1). */
function parseVapidAuthorization(value: string | undefined): { t: string; k: string } {
  if (!value) throw new PushRejection(401, 'missing Authorization header (RFC 8292 vapid required)');
  const match = /^vapid\s+(.*)$/is.exec(value.trim());
  if (!match) throw new PushRejection(401, 'Authorization scheme is not vapid (RFC 8292 §3)');
  const params = new Map<string, string>();
  for (const part of match[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new PushRejection(400, 'malformed vapid Authorization parameter');
    params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const t = params.get('t');
  const k = params.get('k');
  if (!t || !k) throw new PushRejection(401, 'vapid Authorization needs both t and k (RFC 8292 §3)');
  return { t, k };
}

interface VerifiedToken {
  aud: string;
  sub: string;
  exp: number;
}

function parseClaims(token: string): { header: unknown; claims: unknown; parts: string[] } {
  const parts = token.split('.');
  if (parts.length !== 3) throw new PushRejection(401, 'vapid t is not a JWS compact serialization');
  return { header: decodeJsonSegment(parts[0]!), claims: decodeJsonSegment(parts[1]!), parts };
}

function decryptAes128gcm(body: Buffer, subscription: SubscriptionState): Buffer {
  // RFC 8188 §2 header; RFC 8291 §4: keyid is the application server's ECDH public key (65 octets).
  if (body.length < ECE_HEADER_FIXED_BYTES) throw new PushRejection(400, 'aes128gcm body shorter than its header');
  const salt = body.subarray(0, ECE_SALT_BYTES);
  const rs = body.readUInt32BE(ECE_SALT_BYTES);
  const idlen = body[ECE_SALT_BYTES + 4]!;
  if (rs < ECE_MIN_RECORD_SIZE) throw new PushRejection(400, `aes128gcm rs ${rs} < ${ECE_MIN_RECORD_SIZE} (RFC 8188 §2)`);
  if (idlen !== P256_POINT_BYTES) throw new PushRejection(400, `aes128gcm keyid is ${idlen} octets, expected 65 (RFC 8291 §4)`);
  const headerLength = ECE_HEADER_FIXED_BYTES + idlen;
  const asPublic = body.subarray(ECE_HEADER_FIXED_BYTES, headerLength);
  const record = body.subarray(headerLength);
  // RFC 8291 §4: a push message is a single record, so the whole ciphertext must fit in rs.
  if (record.length > rs) throw new PushRejection(400, 'aes128gcm content spans more than one record (RFC 8291 §4)');
  if (record.length < AES_GCM_TAG_BYTES + 1) throw new PushRejection(400, 'aes128gcm record too short');

  let ecdhSecret: Buffer;
  try {
    ecdhSecret = subscription.ecdh.computeSecret(asPublic);
  } catch {
    throw new PushRejection(400, 'aes128gcm keyid is not a valid P-256 point');
  }
  // RFC 8291 §3.4: IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32).
  const keyInfo = Buffer.concat([textEncoder.encode('WebPush: info\0'), subscription.publicKey, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, subscription.authSecret, keyInfo, 32));
  // RFC 8188 §2.2/§2.3: CEK and NONCE from the salt.
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, textEncoder.encode('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, textEncoder.encode('Content-Encoding: nonce\0'), 12));

  let padded: Buffer;
  try {
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - AES_GCM_TAG_BYTES));
    padded = Buffer.concat([decipher.update(record.subarray(0, record.length - AES_GCM_TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PushRejection(400, 'aes128gcm decryption failed (wrong keys or corrupted body)');
  }
  // RFC 8188 §2: the last record's padding is a 0x02 delimiter followed by zeros.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 2) throw new PushRejection(400, 'aes128gcm last record lacks the 0x02 padding delimiter (RFC 8188 §2)');
  return padded.subarray(0, end);
}

export async function startMockPushService(options: MockPushServiceOptions = {}): Promise<MockPushService> {
  const verify = options.verify ?? true;
  const acceptedLog = options.acceptedLog ?? verify;
  const dir = await mkdtemp(join(tmpdir(), 'pushcart-mock-push-'));
  const { key, cert, certPath } = await selfSignedCertificate(dir).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });

  const subscriptions = new Map<string, SubscriptionState>();
  const received: ReceivedPush[] = [];
  const rejected: RejectedPush[] = [];
  const sockets = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  const hangingResponses = new Set<AnyResponse>();
  const waiters = new Set<{ n: number; resolve: () => void }>();
  // Verifying one ES256 signature per message would dominate; clients reuse a JWT for hours, so cache by (t, k).
  const verifiedSignatures = new Map<string, VerifiedToken>();
  const importedKeys = new Map<string, Promise<webcrypto.CryptoKey>>();
  let hostMode: FaultMode = 'ok';
  let requests = 0;
  let accepted = 0;
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let messageCounter = 0;
  let origin = '';

  const server: TlsServer = options.http1Only
    ? createHttpsServer({ key, cert, ALPNProtocols: ['http/1.1'] })
    : createSecureServer({
        key,
        cert,
        allowHTTP1: true,
        maxSessionMemory: HTTP2_MAX_SESSION_MEMORY_MB,
        settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? HTTP2_MAX_CONCURRENT_STREAMS },
      });

  function reject(res: AnyResponse, status: number, reason: string, subscriptionId: string | undefined, retryAfter?: string) {
    rejected.push(subscriptionId === undefined ? { status, reason } : { subscriptionId, status, reason });
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
    respond(res, status, headers, reason);
  }

  function respond(res: AnyResponse, status: number, headers: Record<string, string>, body: string) {
    if (res.headersSent || res.writableEnded || res.destroyed) return;
    res.writeHead(status, headers);
    res.end(body);
  }

  function accept(res: AnyResponse, message: ReceivedPush) {
    accepted++;
    if (acceptedLog) received.push(message);
    messageCounter++;
    // RFC 8030 §5: 201 Created with the push message resource in Location.
    respond(res, 201, { location: `${origin}/message/${messageCounter}` }, '');
    for (const waiter of waiters) {
      if (accepted >= waiter.n) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  function hang(res: AnyResponse) {
    hangingResponses.add(res);
    res.once('close', () => hangingResponses.delete(res));
  }

  function reset(req: AnyRequest) {
    if ('stream' in req) {
      // HTTP/2: RST_STREAM with INTERNAL_ERROR, the connection stays up for other streams.
      req.stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
    } else {
      req.socket.destroy();
    }
  }

  function importVapidKey(k: string, raw: Uint8Array): Promise<webcrypto.CryptoKey> {
    let imported = importedKeys.get(k);
    if (!imported) {
      imported = crypto.subtle.importKey('raw', raw, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
      importedKeys.set(k, imported);
      imported.catch(() => importedKeys.delete(k));
    }
    return imported;
  }

  /** RFC 8292 §2 and §3: ES256 JWT signed by `k`, `aud` = the push resource's origin, `exp` ≤ 24 h ahead, `sub` a contact URI. */
  async function verifyVapid(req: AnyRequest, subscription: SubscriptionState): Promise<VapidClaims> {
    const { t, k } = parseVapidAuthorization(header(req, 'authorization'));
    const kBytes = decodeBase64Url(k);
    if (!kBytes || kBytes.length !== P256_POINT_BYTES || kBytes[0] !== 0x04) {
      throw new PushRejection(401, 'vapid k is not an uncompressed P-256 point in base64url (RFC 8292 §3.2)');
    }
    const cacheKey = `${t}|${k}`;
    let token = verifiedSignatures.get(cacheKey);
    if (!token) {
      const { header: jwtHeader, claims, parts } = parseClaims(t);
      if (!jwtHeader || typeof jwtHeader !== 'object' || (jwtHeader as { alg?: unknown }).alg !== 'ES256') {
        throw new PushRejection(401, 'vapid JWT alg must be ES256 (RFC 8292 §2)');
      }
      if (!claims || typeof claims !== 'object') throw new PushRejection(401, 'vapid JWT claims are not a JSON object');
      const { aud, sub, exp } = claims as { aud?: unknown; sub?: unknown; exp?: unknown };
      if (typeof aud !== 'string' || typeof sub !== 'string' || typeof exp !== 'number' || !Number.isInteger(exp)) {
        throw new PushRejection(401, 'vapid JWT needs string aud, string sub and integer exp (RFC 8292 §2)');
      }
      const signature = decodeBase64Url(parts[2]!);
      // JWS ES256 (RFC 7518 §3.4): the raw r || s, 64 octets, which WebCrypto's ECDSA verify expects.
      if (!signature || signature.length !== 64) throw new PushRejection(401, 'vapid JWT signature is not 64 octets of r || s');
      let publicKey: webcrypto.CryptoKey;
      try {
        publicKey = await importVapidKey(k, kBytes);
      } catch {
        throw new PushRejection(401, 'vapid k is not a point on P-256');
      }
      const valid = await crypto.subtle.verify(
        { name: 'ECDSA', hash: 'SHA-256' },
        publicKey,
        signature,
        textEncoder.encode(`${parts[0]}.${parts[1]}`),
      );
      if (!valid) throw new PushRejection(401, 'vapid JWT signature does not verify with k');
      token = { aud, sub, exp };
      if (verifiedSignatures.size >= SIGNATURE_CACHE_MAX_ENTRIES) verifiedSignatures.clear();
      verifiedSignatures.set(cacheKey, token);
    }
    if (token.aud !== origin) throw new PushRejection(401, `vapid aud ${token.aud} is not the push service origin ${origin}`);
    const nowSeconds = Math.floor(Date.now() / 1000);
    if (token.exp <= nowSeconds) throw new PushRejection(401, 'vapid JWT expired');
    if (token.exp > nowSeconds + MAX_VAPID_EXP_AHEAD_SECONDS) {
      throw new PushRejection(401, 'vapid JWT exp more than 24 hours ahead (RFC 8292 §2)');
    }
    if (!/^(mailto:|https:)/.test(token.sub)) throw new PushRejection(401, 'vapid sub must be a mailto: or https: URI (RFC 8292 §2.1)');
    // Like FCM: a key other than the one given to PushManager.subscribe() is forbidden, not unauthenticated.
    const expected = subscription.applicationServerKey;
    if (expected && Buffer.compare(Buffer.from(expected), Buffer.from(kBytes)) !== 0) {
      throw new PushRejection(403, 'vapid k does not match the applicationServerKey of the subscription');
    }
    return { aud: token.aud, sub: token.sub, exp: token.exp, k };
  }

  function unverifiedClaims(req: AnyRequest): VapidClaims {
    try {
      const { t, k } = parseVapidAuthorization(header(req, 'authorization'));
      const claims = parseClaims(t).claims as { aud?: unknown; sub?: unknown; exp?: unknown } | undefined;
      return {
        aud: typeof claims?.aud === 'string' ? claims.aud : '',
        sub: typeof claims?.sub === 'string' ? claims.sub : '',
        exp: typeof claims?.exp === 'number' ? claims.exp : 0,
        k,
      };
    } catch {
      return NO_CLAIMS;
    }
  }

  /** RFC 8030 §5.2–§5.4: TTL is required; Urgency and Topic, when present, must be well formed. */
  function pushHeaders(req: AnyRequest): { ttl: number; urgency?: string; topic?: string } {
    const ttlHeader = header(req, 'ttl');
    if (ttlHeader === undefined) throw new PushRejection(400, 'missing TTL header (RFC 8030 §5.2)');
    if (!TTL.test(ttlHeader.trim())) throw new PushRejection(400, `invalid TTL header ${JSON.stringify(ttlHeader)} (RFC 8030 §5.2)`);
    const result: { ttl: number; urgency?: string; topic?: string } = { ttl: Number(ttlHeader.trim()) };
    const urgency = header(req, 'urgency');
    if (urgency !== undefined) {
      if (!URGENCIES.has(urgency)) throw new PushRejection(400, `invalid Urgency ${JSON.stringify(urgency)} (RFC 8030 §5.3)`);
      result.urgency = urgency;
    }
    const topic = header(req, 'topic');
    if (topic !== undefined) {
      if (!TOPIC.test(topic)) throw new PushRejection(400, 'invalid Topic: at most 32 base64url characters (RFC 8030 §5.4)');
      result.topic = topic;
    }
    return result;
  }

  /** Reads the body, keeping at most the limit in memory; the count goes on so 413 is decided on the real size. */
  function readBody(req: AnyRequest): Promise<{ body: Buffer; size: number }> {
    return new Promise((resolve, rejectBody) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_PUSH_BODY_BYTES) chunks.push(chunk);
      });
      req.once('end', () => resolve({ body: Buffer.concat(chunks), size }));
      req.once('error', rejectBody);
      req.once('aborted', () => rejectBody(new Error('aborted')));
    });
  }

  async function handle(req: AnyRequest, res: AnyResponse): Promise<void> {
    requests++;
    const receivedAt = Date.now();
    const match = PUSH_PATH.exec(req.url ?? '');
    const id = match?.[1];
    if (req.method !== 'POST' || id === undefined) {
      req.resume();
      reject(res, id === undefined ? 404 : 405, id === undefined ? 'no such push resource' : 'push requires POST (RFC 8030 §5)', id);
      return;
    }
    const subscription = subscriptions.get(id);
    // Benchmarks mint endpoints without subscribe(); with verify off any /push/<id> is a subscription.
    if (!subscription && verify) {
      req.resume();
      reject(res, 404, 'unknown subscription', id);
      return;
    }
    const declaredLength = Number(header(req, 'content-length') ?? '0');
    const { body, size } = await readBody(req);
    // Fault modes answer before any check, as an overloaded or expiring service would: a test of the
    // client's outcome handling sends valid requests anyway, and the checks below have their own tests.
    const mode = hostMode !== 'ok' ? hostMode : (subscription?.mode ?? 'ok');
    if (mode === 'hang') return hang(res);
    if (mode === 'reset') return reset(req);
    const fault = faultStatus(mode);
    if (fault) return reject(res, fault.status, `fault mode ${JSON.stringify(mode)}`, id, fault.retryAfter);

    try {
      if (size > MAX_PUSH_BODY_BYTES || declaredLength > MAX_PUSH_BODY_BYTES) {
        throw new PushRejection(413, `body of ${Math.max(size, declaredLength)} bytes exceeds ${MAX_PUSH_BODY_BYTES} (RFC 8030 §7.2)`);
      }
      const headers = pushHeaders(req);
      const message = (payload: string, vapid: VapidClaims): ReceivedPush => ({
        subscriptionId: id,
        endpoint: `${origin}/push/${id}`,
        payload,
        ...headers,
        vapid,
        httpVersion: req.httpVersion,
        receivedAt,
      });
      if (!verify || !subscription) return accept(res, message('', acceptedLog ? unverifiedClaims(req) : NO_CLAIMS));
      // RFC 8030 §5: a push without payload has no body and no encoding; one with a body must be RFC 8291 aes128gcm.
      const encoding = header(req, 'content-encoding');
      if (size > 0 && encoding === undefined) throw new PushRejection(400, 'missing Content-Encoding: aes128gcm (RFC 8291 §4)');
      if (size > 0 && encoding?.trim().toLowerCase() !== 'aes128gcm') {
        throw new PushRejection(415, `unsupported Content-Encoding ${JSON.stringify(encoding)}, expected aes128gcm (RFC 8291 §4)`);
      }
      const vapid = await verifyVapid(req, subscription);
      const payload = size > 0 ? textDecoder.decode(decryptAes128gcm(body, subscription)) : '';
      accept(res, message(payload, vapid));
    } catch (error) {
      if (error instanceof PushRejection) return reject(res, error.status, error.message, id);
      throw error;
    }
  }

  server.on('request', (req: AnyRequest, res: AnyResponse) => {
    req.on('error', () => {});
    res.on('error', () => {});
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once('close', () => inFlight--);
    handle(req, res).catch((error: unknown) => {
      // A client that went away mid-body lands here; anything else is a bug in the mock, answered 500.
      if (req.destroyed || (error instanceof Error && error.message === 'aborted')) return;
      reject(res, 500, `mock push service error: ${String(error)}`, undefined);
    });
  });
  server.on('secureConnection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.on('error', () => {});
    session.once('close', () => sessions.delete(session));
  });
  server.on('sessionError', () => {});
  server.on('tlsClientError', () => {});

  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = `https://localhost:${port}`;

  function subscriptionFor(idOrEndpoint: string): SubscriptionState {
    const id = idOrEndpoint.startsWith(`${origin}/push/`) ? idOrEndpoint.slice(`${origin}/push/`.length) : idOrEndpoint;
    const subscription = subscriptions.get(id);
    if (!subscription) throw new Error(`mock push service: no subscription ${idOrEndpoint}`);
    return subscription;
  }

  let closed: Promise<void> | undefined;

  return {
    origin,
    port,
    host: `localhost:${port}`,
    ca: cert,
    caPath: certPath,
    received,
    rejected,
    get requests() {
      return requests;
    },
    get accepted() {
      return accepted;
    },
    get hanging() {
      return hangingResponses.size;
    },
    get connections() {
      return connections;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    async subscribe(subscribeOptions: SubscribeOptions = {}): Promise<MockSubscription> {
      let applicationServerKey: Uint8Array | undefined;
      if (subscribeOptions.applicationServerKey !== undefined) {
        applicationServerKey = decodeBase64Url(subscribeOptions.applicationServerKey);
        // PushManager.subscribe() rejects anything but an uncompressed P-256 point.
        if (!applicationServerKey || applicationServerKey.length !== P256_POINT_BYTES || applicationServerKey[0] !== 0x04) {
          throw new Error('mock push service: applicationServerKey must be a base64url uncompressed P-256 point');
        }
      }
      // RFC 8291 §2: the user agent's ECDH P-256 key pair and a 16-octet auth secret.
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      const authSecret = randomBytes(AUTH_SECRET_BYTES);
      const id = encodeBase64Url(randomBytes(16));
      const endpoint = `${origin}/push/${id}`;
      subscriptions.set(id, { id, endpoint, ecdh, publicKey, authSecret, applicationServerKey, mode: subscribeOptions.mode ?? 'ok' });
      return { id, endpoint, keys: { p256dh: encodeBase64Url(publicKey), auth: encodeBase64Url(authSecret) } };
    },
    setMode(subscriptionIdOrEndpoint: string, mode: FaultMode) {
      subscriptionFor(subscriptionIdOrEndpoint).mode = mode;
    },
    setHostMode(mode: FaultMode) {
      hostMode = mode;
    },
    waitForReceived(n: number, timeoutMs: number): Promise<void> {
      if (accepted >= n) return Promise.resolve();
      return new Promise((resolve, rejectWait) => {
        const waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const last = rejected.slice(-3).map((r) => `${r.status} ${r.reason}`).join('; ');
          const detail = `${rejected.length} rejected${last ? `, last: ${last}` : ''}`;
          rejectWait(new Error(`mock push service: ${accepted}/${n} accepted after ${timeoutMs} ms (${detail})`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    goAway() {
      for (const session of sessions) session.close();
    },
    close(): Promise<void> {
      closed ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const res of hangingResponses) res.destroy();
        hangingResponses.clear();
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
        await serverClosed;
        await rm(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
