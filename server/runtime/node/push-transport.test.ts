import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import type { PushOutcome } from '../../push/push-outcome.ts';
import { inThreadEncryptor } from '../../push/push-encryptor.ts';
import { assemblePushRequest, type PushRequest } from '../../push/push-request.ts';
import { VapidHeaderCache } from '../../push/vapid-cache.ts';
import { startMockPushService, type FaultMode, type MockPushService } from '../../testing/mock-push-service.ts';
import { nodePushTransport, type NodePushTransportOptions } from './push-transport.ts';

const run = promisify(execFile);
const vapidKeys = { subject: 'mailto:ops@shop.example', ...webpush.generateVAPIDKeys() };
const vapidCache = new VapidHeaderCache();
const TRANSPORT_MODULE = fileURLToPath(new URL('./push-transport.ts', import.meta.url));

let mock: MockPushService;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  mock = await startMockPushService();
});
afterAll(async () => {
  await mock?.close();
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  mock.setHostMode('ok');
});

function transport(service: MockPushService, options: NodePushTransportOptions = {}) {
  const push = nodePushTransport({ ca: service.ca, timeoutMs: 5_000, ...options });
  closers.push(push.close);
  return push.transport;
}

/** A subscriber at `service` and a ready request to it, encrypted and signed as the delivery engine does. */
async function pushRequest(service: MockPushService, payload = 'Price drop: now €79', mode?: FaultMode): Promise<PushRequest> {
  const subscription = await service.subscribe({ applicationServerKey: vapidKeys.publicKey, ...(mode ? { mode } : {}) });
  const [body] = await inThreadEncryptor.encrypt([{ ...subscription.keys, payload }]);
  if (!(body instanceof Uint8Array)) throw body;
  return assemblePushRequest(subscription.endpoint, body, vapidKeys, { ttlSeconds: 60, urgency: 'normal' }, vapidCache);
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function timed(promise: Promise<PushOutcome>): Promise<{ outcome: PushOutcome; ms: number }> {
  const start = performance.now();
  const outcome = await promise;
  return { outcome, ms: performance.now() - start };
}

describe('nodePushTransport over HTTP/2', () => {
  it('sends many pushes as streams of one HTTP/2 connection, decrypted by the service', async () => {
    const service = await startMockPushService();
    closers.push(() => service.close());
    const send = transport(service);
    const requests = await Promise.all(Array.from({ length: 50 }, (_, i) => pushRequest(service, `message ${i}`)));

    const outcomes = await Promise.all(requests.map((request) => send.send(request)));
    const more = await Promise.all(requests.slice(0, 10).map((request) => send.send(request)));

    expect([...outcomes, ...more].every((outcome) => outcome.kind === 'sent' && outcome.status === 201)).toBe(true);
    expect(service.received).toHaveLength(60);
    expect(new Set(service.received.map((message) => message.httpVersion))).toEqual(new Set(['2.0']));
    expect(service.received.map((message) => message.payload)).toContain('message 49');
    expect(service.connections).toBe(1);
    expect(service.maxInFlight).toBeGreaterThan(1);
  });

  it("opens more sessions only when the peer's SETTINGS_MAX_CONCURRENT_STREAMS fills the open ones, and queues the rest", async () => {
    const service = await startMockPushService({ maxConcurrentStreams: 2 });
    closers.push(() => service.close());
    const send = transport(service, { connectionsPerOrigin: 3, timeoutMs: 1_500 });
    service.setHostMode('hang');
    const requests = await Promise.all(Array.from({ length: 10 }, () => pushRequest(service)));

    const pending = requests.map((request) => send.send(request));
    await until(() => service.hanging === 6);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // 3 sessions × 2 streams reached the service; the other 4 waited here rather than being refused there.
    expect(service.requests).toBe(6);
    expect(service.connections).toBe(3);
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((outcome) => outcome.kind === 'retry' && outcome.reason === 'timed out')).toBe(true);
    expect(service.maxInFlight).toBe(6);

    // The cancelled streams freed their slots: the same sessions carry the next pushes, still 2 at a time.
    service.setHostMode('ok');
    const next = await Promise.all(requests.map((request) => send.send(request)));
    expect(next.every((outcome) => outcome.kind === 'sent')).toBe(true);
    expect(service.connections).toBe(3);
    expect(service.maxInFlight).toBe(6);
  });

  it.each<[FaultMode, Partial<PushOutcome>]>([
    ['gone', { kind: 'gone', status: 410 }],
    ['not_found', { kind: 'gone', status: 404 }],
    ['too_large', { kind: 'rejected', status: 413 }],
    [{ status: 429, retryAfter: '7' }, { kind: 'retry', status: 429, retryAfterMs: 7_000, hostBackoff: true }],
    ['unavailable', { kind: 'retry', status: 503, retryAfterMs: null, hostBackoff: true }],
    [{ status: 301 }, { kind: 'rejected', status: 301, reason: 'redirect refused' }],
  ])('classifies the answer to a push in mode %j', async (mode, expected) => {
    const send = transport(mock);
    const outcome = await send.send(await pushRequest(mock, 'hello', mode));
    expect(outcome).toMatchObject(expected);
  });

  it('passes an HTTP-date Retry-After on a 429', async () => {
    const send = transport(mock);
    const retryAt = new Date(Date.now() + 120_000).toUTCString();
    const outcome = await send.send(await pushRequest(mock, 'hello', { status: 429, retryAfter: retryAt }));
    expect(outcome).toMatchObject({ kind: 'retry', status: 429 });
    expect(outcome.kind === 'retry' && outcome.retryAfterMs).toBeGreaterThan(100_000);
  });

  it('times out a push without an answer and cancels its stream, keeping the connection', async () => {
    const service = await startMockPushService();
    closers.push(() => service.close());
    const send = transport(service, { timeoutMs: 300 });
    expect((await send.send(await pushRequest(service))).kind).toBe('sent');

    const { outcome, ms } = await timed(send.send(await pushRequest(service, 'hello', 'hang')));
    expect(outcome).toMatchObject({ kind: 'retry', status: null, reason: 'timed out' });
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(2_000);
    // RST_STREAM CANCEL reached the service: it no longer holds the stream.
    await until(() => service.hanging === 0, 2_000);
    expect((await send.send(await pushRequest(service))).kind).toBe('sent');
    expect(service.connections).toBe(1);
  });

  it('resolves a stream reset by the service as retryable, and the session carries on', async () => {
    const service = await startMockPushService();
    closers.push(() => service.close());
    const send = transport(service, { timeoutMs: 20_000 });

    const { outcome, ms } = await timed(send.send(await pushRequest(service, 'hello', 'reset')));
    expect(outcome).toMatchObject({ kind: 'retry', status: null, hostBackoff: false });
    expect(outcome.kind === 'retry' && outcome.reason).toMatch(/^network error: .*NGHTTP2_INTERNAL_ERROR/);
    expect(ms).toBeLessThan(5_000);
    expect((await send.send(await pushRequest(service))).kind).toBe('sent');
    expect(service.connections).toBe(1);
  });

  it('resolves pushes on a connection the service closes as retryable, and a refused connection too, without crashing', async () => {
    const service = await startMockPushService();
    const send = transport(service, { timeoutMs: 20_000 });
    const hanging = send.send(await pushRequest(service, 'hello', 'hang'));
    const request = await pushRequest(service);
    await until(() => service.hanging === 1);

    await service.close();
    const { outcome, ms } = await timed(hanging);
    expect(outcome).toMatchObject({ kind: 'retry', status: null });
    expect(outcome.kind === 'retry' && outcome.reason).toMatch(/^network error/);
    expect(ms).toBeLessThan(5_000);

    // Nobody listens any more: the next push opens a new connection, which is refused.
    const refused = await timed(send.send(request));
    expect(refused.outcome).toMatchObject({ kind: 'retry', status: null });
    expect(refused.outcome.kind === 'retry' && refused.outcome.reason).toMatch(/ECONNREFUSED/);
    expect(refused.ms).toBeLessThan(5_000);
  });

  it('moves to a new session after GOAWAY, resending streams the old one refused', async () => {
    const service = await startMockPushService();
    closers.push(() => service.close());
    const send = transport(service);
    const requests = await Promise.all(Array.from({ length: 20 }, () => pushRequest(service)));
    expect((await send.send(requests[0]!)).kind).toBe('sent');
    expect(service.connections).toBe(1);

    // Sent while the GOAWAY is on its way: streams above its last stream id are refused (RFC 9113 §6.8) and sent again.
    service.goAway();
    const racing = await Promise.all(requests.map((request) => send.send(request)));
    expect(racing.map((outcome) => outcome.kind)).toEqual(requests.map(() => 'sent'));

    service.goAway();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const connectionsBefore = service.connections;
    expect((await send.send(requests[1]!)).kind).toBe('sent');
    expect(service.connections).toBe(connectionsBefore + 1);
    expect(service.received).toHaveLength(22);
  });

  it('sends through the HTTP/1.1 fallback to a service without h2, the push that found out included', async () => {
    const service = await startMockPushService({ http1Only: true });
    closers.push(() => service.close());
    const send = transport(service);
    const requests = await Promise.all(Array.from({ length: 5 }, (_, i) => pushRequest(service, `message ${i}`)));

    const first = await send.send(requests[0]!);
    const rest = await Promise.all(requests.slice(1).map((request) => send.send(request)));

    expect([first, ...rest].map((outcome) => outcome.kind)).toEqual(requests.map(() => 'sent'));
    expect(service.received.map((message) => message.httpVersion)).toEqual(requests.map(() => '1.1'));
    expect(service.received.map((message) => message.payload).sort()).toEqual(requests.map((_, i) => `message ${i}`));
    const gone = await send.send(await pushRequest(service, 'bye', 'gone'));
    expect(gone).toMatchObject({ kind: 'gone', status: 410 });
  });

  it('does not keep the process alive once its pushes are answered', async () => {
    const request = await pushRequest(mock, 'from a child');
    const script = `
      const { nodePushTransport } = await import(${JSON.stringify(TRANSPORT_MODULE)});
      const push = nodePushTransport({ ca: process.env.MOCK_CA });
      const outcome = await push.transport.send(JSON.parse(process.env.PUSH_REQUEST, (key, value) => key === 'body' ? new Uint8Array(value) : value));
      console.log(outcome.kind);
    `;
    const env = { ...process.env, MOCK_CA: mock.ca, PUSH_REQUEST: JSON.stringify({ ...request, body: [...request.body] }) };
    const start = Date.now();
    // Without close(): the child must still exit on its own, long before the 60 s idle timeout.
    const { stdout } = await run(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', script], { env, timeout: 20_000 });
    expect(stdout.trim()).toBe('sent');
    expect(Date.now() - start).toBeLessThan(15_000);
  });

  it('refuses to send after close()', async () => {
    const push = nodePushTransport({ ca: mock.ca });
    const request = await pushRequest(mock);
    expect((await push.transport.send(request)).kind).toBe('sent');
    await push.close();
    expect(await push.transport.send(request)).toMatchObject({ kind: 'retry', reason: 'network error: push transport closed' });
  });
});
