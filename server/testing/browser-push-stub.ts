import type { BrowserContext, Worker } from 'playwright-core';
import type { MockPushService, MockSubscription } from './mock-push-service.ts';

/**
 * Chromium cannot reach a real push service in a test (no outside network), so `PushManager.prototype.subscribe`
 * and `getSubscription` are replaced in the page by ones that ask Node for a REAL subscription at
 * the strict mock push service: its endpoint and keys are what the server stores and encrypts to,
 * and the mock decrypts what the server sends. Everything else (permission, the service worker,
 * notifications) is Chromium's own.
 *
 * The stub keeps the browser's rules that the snippet relies on: subscribe() needs the
 * notification permission and userVisibleOnly, returns the existing subscription for the same
 * key and refuses another key while one exists; getSubscription() returns it until unsubscribe().
 */
export interface StubbedSubscription extends MockSubscription {
  /** base64url of the applicationServerKey it was made with. */
  applicationServerKey: string;
}

export class BrowserPushStub {
  /** The browser's current subscription, as getSubscription() returns it. */
  current: StubbedSubscription | undefined;
  /** Every subscribe() the page made, with its options. */
  readonly subscribeCalls: Array<{ applicationServerKey: string; userVisibleOnly: boolean }> = [];
  readonly unsubscribed: string[] = [];

  constructor(private readonly mock: MockPushService) {}

  async install(context: BrowserContext): Promise<void> {
    await context.exposeFunction('__pushcartStubSubscribe', async (applicationServerKey: string, userVisibleOnly: boolean) => {
      this.subscribeCalls.push({ applicationServerKey, userVisibleOnly });
      if (this.current) {
        if (this.current.applicationServerKey === applicationServerKey) return this.current;
        // Chromium: "A subscription with a different application server key already exists."
        throw new Error('InvalidStateError: a subscription with a different applicationServerKey already exists');
      }
      this.current = { ...(await this.mock.subscribe({ applicationServerKey })), applicationServerKey };
      return this.current;
    });
    await context.exposeFunction('__pushcartStubCurrent', () => this.current ?? null);
    await context.exposeFunction('__pushcartStubUnsubscribe', (endpoint: string) => {
      if (this.current?.endpoint !== endpoint) return false;
      this.unsubscribed.push(endpoint);
      this.current = undefined;
      return true;
    });
    await context.addInitScript(installPageStub);
  }

  /**
   * The browser replaced the subscription (pushsubscriptionchange): makes `next` at the mock, makes
   * the service worker's pushManager.subscribe() return it, and dispatches the event with the old
   * subscription in `oldSubscription` and no `newSubscription` (the worker must subscribe itself).
   * Resolves when the handler's waitUntil promises settle, with the subscribe() calls it made.
   */
  async changeSubscription(worker: Worker): Promise<{ old: StubbedSubscription; next: StubbedSubscription; subscribeCalls: unknown[]; waitUntilCalls: number }> {
    const old = this.current;
    if (!old) throw new Error('changeSubscription: the page never subscribed');
    const next: StubbedSubscription = {
      ...(await this.mock.subscribe({ applicationServerKey: old.applicationServerKey })),
      applicationServerKey: old.applicationServerKey,
    };
    const result = await worker.evaluate(
      async ({ old, next }) => {
        // Runs in the service worker; the server project compiles without the WebWorker library.
        const g = globalThis as any;
        const decode = (text: string) => Uint8Array.from(g.atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c: string) => c.charCodeAt(0));
        const fake = (record: typeof old) => ({
          endpoint: record.endpoint,
          expirationTime: null,
          options: { userVisibleOnly: true, applicationServerKey: decode(record.applicationServerKey).buffer },
          getKey: (name: 'p256dh' | 'auth') => decode(record.keys[name]).buffer,
          toJSON: () => ({ endpoint: record.endpoint, expirationTime: null, keys: { ...record.keys } }),
          unsubscribe: async () => true,
        });
        const encode = (bytes: Uint8Array) => g.btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        const subscribeCalls: unknown[] = [];
        const proto = g.PushManager.prototype;
        const original = proto.subscribe;
        proto.subscribe = async function (options: any) {
          const key = options?.applicationServerKey;
          subscribeCalls.push({
            userVisibleOnly: options?.userVisibleOnly,
            applicationServerKey: typeof key === 'string' ? key : key ? encode(new Uint8Array(ArrayBuffer.isView(key) ? key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength) : key)) : null,
          });
          return fake(next);
        };
        try {
          const event = new g.PushSubscriptionChangeEvent('pushsubscriptionchange');
          // The constructor accepts only real PushSubscription objects; the old one is a fake.
          Object.defineProperty(event, 'oldSubscription', { value: fake(old) });
          const pending: Promise<unknown>[] = [];
          Object.defineProperty(event, 'waitUntil', { value: (promise: Promise<unknown>) => pending.push(promise) });
          g.dispatchEvent(event);
          await Promise.allSettled(pending);
          return { subscribeCalls, waitUntilCalls: pending.length };
        } finally {
          proto.subscribe = original;
        }
      },
      { old, next },
    );
    // The browser now reports the new subscription to pages too.
    this.current = next;
    return { old, next, ...result };
  }
}

/** Runs in every page before its scripts (context.addInitScript); must not use anything from outside. */
function installPageStub(): void {
  const g = globalThis as any;
  if (!g.PushManager || !g.Notification) return;
  const decode = (text: string) => Uint8Array.from(g.atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c: string) => c.charCodeAt(0));
  const encode = (bytes: Uint8Array) => g.btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const keyText = (key: any): string =>
    typeof key === 'string' ? key : encode(new Uint8Array(ArrayBuffer.isView(key) ? key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength) : key));
  const fake = (record: { endpoint: string; keys: { p256dh: string; auth: string }; applicationServerKey: string }) => ({
    endpoint: record.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: decode(record.applicationServerKey).buffer },
    getKey: (name: 'p256dh' | 'auth') => decode(record.keys[name]).buffer,
    toJSON: () => ({ endpoint: record.endpoint, expirationTime: null, keys: { ...record.keys } }),
    unsubscribe: () => g.__pushcartStubUnsubscribe(record.endpoint),
  });
  const proto = g.PushManager.prototype;
  proto.subscribe = async function (options: any) {
    if (g.Notification.permission !== 'granted') throw new g.DOMException('Registration failed - permission denied', 'NotAllowedError');
    if (!options || options.userVisibleOnly !== true) throw new g.DOMException('Registration failed - userVisibleOnly is required', 'NotAllowedError');
    if (!options.applicationServerKey) throw new g.DOMException('Registration failed - missing applicationServerKey', 'AbortError');
    return fake(await g.__pushcartStubSubscribe(keyText(options.applicationServerKey), true));
  };
  proto.getSubscription = async function () {
    const record = await g.__pushcartStubCurrent();
    return record ? fake(record) : null;
  };
  proto.permissionState = async function () {
    const permission = g.Notification.permission;
    return permission === 'default' ? 'prompt' : permission;
  };
}
