import { randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodePushTransport } from '../runtime/node/push-transport.ts';
import { startMockPushService, type MockPushService } from '../testing/mock-push-service.ts';
import { encodeBase64Url } from './base64url.ts';
import { inThreadEncryptor } from './push-encryptor.ts';
import { assemblePushRequest } from './push-request.ts';
import { VapidHeaderCache } from './vapid-cache.ts';

let mock: MockPushService;
let push: ReturnType<typeof nodePushTransport>;
const vapid = { subject: 'mailto:push@shop.example', ...webpush.generateVAPIDKeys() };
const options = { ttlSeconds: 120, urgency: 'high' as const, topic: 'cart' };

beforeAll(async () => {
  mock = await startMockPushService();
  push = nodePushTransport({ ca: mock.ca });
});
afterAll(async () => {
  await push?.close();
  await mock?.close();
});

describe('in-thread encryptor', () => {
  it('encrypts each job so that a strict push service decrypts it, and a bad key fails only its job', async () => {
    const [alice, bob] = await Promise.all([mock.subscribe({ applicationServerKey: vapid.publicKey }), mock.subscribe({ applicationServerKey: vapid.publicKey })]);
    const results = await inThreadEncryptor.encrypt([
      { ...alice!.keys, payload: '{"title":"für Alice"}' },
      { p256dh: alice!.keys.p256dh, auth: encodeBase64Url(randomBytes(4)), payload: 'short auth secret' },
      { ...bob!.keys, payload: '{"title":"for Bob"}' },
    ]);

    expect(results[1]).toBeInstanceOf(Error);
    expect((results[1] as Error).message).toMatch(/auth/);
    const cache = new VapidHeaderCache();
    for (const [subscription, body] of [[alice!, results[0]], [bob!, results[2]]] as const) {
      expect(body).toBeInstanceOf(Uint8Array);
      const outcome = await push.transport.send(assemblePushRequest(subscription.endpoint, body as Uint8Array, vapid, options, cache));
      expect(outcome).toEqual({ kind: 'sent', status: 201 });
    }
    expect(mock.received.find((m) => m.subscriptionId === alice!.id)).toMatchObject({ payload: '{"title":"für Alice"}', ttl: 120, urgency: 'high', topic: 'cart' });
    expect(mock.received.find((m) => m.subscriptionId === bob!.id)?.payload).toBe('{"title":"for Bob"}');
  });
});
