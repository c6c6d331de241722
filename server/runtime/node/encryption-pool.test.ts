import { spawn } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import webpush from 'web-push';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../push/base64url.ts';
import type { EncryptionJob } from '../../push/push-encryptor.ts';
import { assemblePushRequest } from '../../push/push-request.ts';
import { VapidHeaderCache } from '../../push/vapid-cache.ts';
import { startMockPushService, type MockPushService, type MockSubscription } from '../../testing/mock-push-service.ts';
import { createEncryptionPool, EncryptionUnavailableError, type EncryptionPool } from './encryption-pool.ts';
import { nodePushTransport } from './push-transport.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let mock: MockPushService;
let push: ReturnType<typeof nodePushTransport>;
const vapid = { subject: 'mailto:push@shop.example', ...webpush.generateVAPIDKeys() };
const vapidCache = new VapidHeaderCache();
const pools: EncryptionPool[] = [];

beforeAll(async () => {
  mock = await startMockPushService();
  push = nodePushTransport({ ca: mock.ca });
});
afterAll(async () => {
  await push?.close();
  await mock?.close();
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function pool(options: Parameters<typeof createEncryptionPool>[0]): EncryptionPool {
  const created = createEncryptionPool(options);
  pools.push(created);
  return created;
}

function jobFor(subscription: MockSubscription, payload: string): EncryptionJob {
  return { p256dh: subscription.keys.p256dh, auth: subscription.keys.auth, payload };
}

/** Hands a body to the strict mock, which verifies VAPID and decrypts it (RFC 8291) or answers 400. */
async function deliver(subscription: MockSubscription, body: Uint8Array) {
  return push.transport.send(assemblePushRequest(subscription.endpoint, body, vapid, { ttlSeconds: 60, urgency: 'normal' }, vapidCache));
}

function exited(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once('exit', resolve));
}

/** Jobs enough to keep one thread busy for a while (about 0.3 ms each). */
function manyJobs(count: number): EncryptionJob[] {
  const ecdh = createECDH('prime256v1');
  const job = { p256dh: encodeBase64Url(ecdh.generateKeys()), auth: encodeBase64Url(randomBytes(16)), payload: 'x'.repeat(300) };
  return Array.from({ length: count }, () => job);
}

describe('encryption pool', () => {
  it('encrypts on its threads so that a strict push service decrypts every body, in order', async () => {
    const encryptor = pool({ size: 2, chunkJobs: 3 });
    const subscriptions = await Promise.all(Array.from({ length: 10 }, () => mock.subscribe({ applicationServerKey: vapid.publicKey })));
    const payloads = subscriptions.map((s, i) => JSON.stringify({ title: `Message ${i}`, body: 'é€😀', for: s.id }));
    const bodies = await encryptor.encrypt(subscriptions.map((s, i) => jobFor(s, payloads[i]!)));

    expect(bodies).toHaveLength(10);
    for (const [i, body] of bodies.entries()) {
      expect(body).toBeInstanceOf(Uint8Array);
      expect(await deliver(subscriptions[i]!, body as Uint8Array)).toEqual({ kind: 'sent', status: 201 });
      const received = mock.received.find((m) => m.subscriptionId === subscriptions[i]!.id);
      expect(received?.payload).toBe(payloads[i]);
    }
  });

  it('a bad p256dh fails only its own job', async () => {
    const encryptor = pool({ size: 1, chunkJobs: 8 });
    const [first, last] = await Promise.all([mock.subscribe({ applicationServerKey: vapid.publicKey }), mock.subscribe({ applicationServerKey: vapid.publicKey })]);
    const results = await encryptor.encrypt([
      jobFor(first!, 'first'),
      { p256dh: encodeBase64Url(randomBytes(20)), auth: first!.keys.auth, payload: 'never' },
      jobFor(last!, 'last'),
    ]);

    expect(results[1]).toBeInstanceOf(Error);
    expect((results[1] as Error).message).toMatch(/p256dh/);
    for (const [subscription, body, payload] of [[first!, results[0], 'first'], [last!, results[2], 'last']] as const) {
      expect(body).toBeInstanceOf(Uint8Array);
      expect(await deliver(subscription, body as Uint8Array)).toMatchObject({ kind: 'sent' });
      expect(mock.received.find((m) => m.subscriptionId === subscription.id)?.payload).toBe(payload);
    }
  });

  it('a thread that dies fails the calls it held instead of hanging them, and is replaced', async () => {
    const errors: Error[] = [];
    const encryptor = pool({ size: 1, chunkJobs: 16, onThreadError: (error) => errors.push(error) });
    await encryptor.encrypt(manyJobs(1)); // the thread is up and working
    const [victim] = encryptor.threads;

    const held = encryptor.encrypt(manyJobs(2_000));
    await victim!.terminate();

    await expect(held).rejects.toThrow(EncryptionUnavailableError);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/encryption thread exited/);
    expect(encryptor.threads).toHaveLength(1);
    expect(encryptor.threads[0]).not.toBe(victim);
    const after = await encryptor.encrypt(manyJobs(3));
    expect(after.every((body) => body instanceof Uint8Array)).toBe(true);
  });

  it('close() ends every thread and fails calls in progress and later ones', async () => {
    const encryptor = createEncryptionPool({ size: 2, chunkJobs: 16 });
    const threads = encryptor.threads;
    expect(threads).toHaveLength(2);
    const exits = threads.map(exited);
    const inProgress = expect(encryptor.encrypt(manyJobs(1_000))).rejects.toThrow(EncryptionUnavailableError);

    await encryptor.close();

    await inProgress;
    await expect(Promise.all(exits)).resolves.toHaveLength(2);
    expect(threads.every((thread) => thread.threadId === -1)).toBe(true);
    expect(encryptor.threads).toHaveLength(0);
    await expect(encryptor.encrypt(manyJobs(1))).rejects.toThrow(/closed/);
  });

  it('runs under tsx as `npm start` loads it, and an idle open pool does not keep the process alive', async () => {
    // pushcart.mjs registers tsx and imports TypeScript; here the same, then encrypt and never close.
    const script = `
      import { register } from 'tsx/esm/api';
      import { createECDH, randomBytes } from 'node:crypto';
      register();
      const { createEncryptionPool } = await import('./server/runtime/node/encryption-pool.ts');
      const pool = createEncryptionPool({ size: 2 });
      const job = { p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url'), payload: 'hello' };
      const [body] = await pool.encrypt([job]);
      console.log(body.byteLength);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    clearTimeout(timer);

    expect({ code, signal }).toEqual({ code: 0, signal: null }); // SIGKILL: the threads kept it alive
    // 86-byte header (RFC 8188 §2.1) + 5 bytes + padding delimiter + 16-byte tag (RFC 8291 §4).
    expect(output.trim()).toBe('108');
  });
});
