// The pushcart object pages talk to. Every entry point catches its own errors: a shop's page must
// never see an exception from us, whatever the browser, the network or our server does.
import { Workbox } from 'workbox-window';
import { type PromptConfig, promptTexts, showPrompt } from './prompt';
import { fromBase64Url, load, save, shareWithServiceWorker, toBase64Url, visitorId } from './storage';

export type PushcartState = 'unsupported' | 'default' | 'denied' | 'subscribed' | 'unsubscribed';
export type PushcartEvent = 'subscribed' | 'unsubscribed' | 'permission';
export type Command = [string, ...unknown[]] | ((api: Pushcart) => void);

export interface Pushcart {
  readonly state: PushcartState;
  optIn(): Promise<void>;
  optOut(): Promise<void>;
  identify(externalUserId: string, signature: string): Promise<void>;
  track(type: string, properties?: Record<string, unknown>): Promise<void>;
  watch(productId: string, options: { kind: 'price_drop' | 'back_in_stock'; price?: number }): Promise<void>;
  on(event: PushcartEvent, callback: (detail: unknown) => void): void;
  push(command: Command): void;
}

interface SiteConfig {
  vapidPublicKey: string;
  prompt: PromptConfig & { trigger: string; pageViews: number; delaySeconds: number; snoozeDays: number };
}

const DAY_MS = 864e5;
const noop = () => {};

export function createPushcart(script: HTMLScriptElement): Pushcart {
  const data = script.dataset;
  const host = new URL(script.src).origin;
  const visitor = visitorId();
  const listeners: Partial<Record<PushcartEvent, ((detail: unknown) => void)[]>> = {};
  const supported = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  let state: PushcartState = supported ? permissionState() : 'unsupported';
  let config: SiteConfig | undefined;
  /** When the prompt shows by itself: the site's trigger, or 'manual' (only optIn()) from data-prompt. */
  let rule: string | undefined;
  let registration: ServiceWorkerRegistration | undefined;
  let identity: { externalUserId?: string; signature?: string } = {};
  let sentIdentity = identity;

  function emit(event: PushcartEvent, detail: unknown): void {
    for (const callback of listeners[event] ?? []) {
      try {
        callback(detail);
      } catch {
        // A shop's callback failing must not stop ours or the others.
      }
    }
    dispatchEvent(new CustomEvent(`pushcart:${event}`, { detail }));
  }

  function setState(next: PushcartState, detail?: unknown): void {
    if (next === state) return;
    state = next;
    if (next === 'subscribed' || next === 'unsubscribed') emit(next, detail ?? { state });
  }

  function permissionState(): PushcartState {
    const permission = Notification.permission;
    return permission === 'granted' ? 'unsubscribed' : permission;
  }

  function call(path: string, body: unknown, method = 'POST', keepalive = false): Promise<Response> {
    return fetch(`${host}/v1/${path}`, {
      method,
      keepalive, // only for events, which are often sent just before the page navigates away
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${data.site}` },
      body: JSON.stringify(body),
    }).then((response) => (response.ok ? response : Promise.reject(response.status)));
  }

  async function boot(): Promise<void> {
    const response = await fetch(`${host}/v1/sites/${data.site}/config`);
    if (!response.ok) throw response.status;
    config = (await response.json()) as SiteConfig;
    const swUrl = new URL(data.sw || '/pushcart-sw.js', location.href).href;
    const scope = new URL(data.scope || '/', location.href).href;
    // A shop with its own service worker adds our importScripts line to it: registering ours over
    // it would replace theirs, so use whatever is already registered for this scope. Checked after
    // load, when a shop's own early register() has usually gone through; only data-sw naming the
    // shop's worker rules out the race on a first visit.
    if (document.readyState !== 'complete') await new Promise((loaded) => addEventListener('load', loaded, { once: true }));
    const existing = await navigator.serviceWorker.getRegistration(scope);
    const worker = existing && (existing.active || existing.waiting || existing.installing);
    if (!worker || worker.scriptURL === swUrl) {
      // updateViaCache 'none': the one-line file never changes, so our imported code must be
      // revalidated on every update check to reach browsers at all.
      await new Workbox(swUrl, { scope, updateViaCache: 'none' }).register();
    }
    registration = await navigator.serviceWorker.ready;
    await sync();
    rule = data.prompt === 'manual' ? 'manual' : config.prompt.trigger;
    if (rule === 'page_views') {
      const views = Number(load('views') || 0) + 1;
      save('views', String(views));
      if (views >= config.prompt.pageViews) maybePrompt('page_views');
    }
    if (rule === 'seconds') setTimeout(() => maybePrompt('seconds'), config.prompt.delaySeconds * 1000);
  }

  /** Every page load: make the browser's subscription and the server's record agree. */
  async function sync(): Promise<void> {
    const key = toBase64Url(fromBase64Url(config!.vapidPublicKey));
    let subscription = await registration!.pushManager.getSubscription();
    const madeWith = subscription?.options.applicationServerKey;
    // (Browsers that do not report the key are left alone rather than resubscribed on every load.)
    if (subscription && madeWith && toBase64Url(madeWith) !== key) {
      // The site rotated its VAPID key: the old subscription can no longer be pushed to.
      call('subscriptions', { endpoint: subscription.endpoint }, 'DELETE').catch(noop);
      await subscription.unsubscribe();
      subscription = null;
    }
    if (!subscription && Notification.permission === 'granted' && !load('optout')) subscription = await subscribe();
    if (subscription) await remember(subscription);
    else setState(permissionState());
  }

  function subscribe(): Promise<PushSubscription> {
    const applicationServerKey = fromBase64Url(config!.vapidPublicKey);
    return registration!.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
  }

  /** Tells the server (again) about the subscription; the state follows the browser either way. */
  async function remember(subscription: PushSubscription): Promise<void> {
    sentIdentity = identity;
    let timeZone: string | undefined;
    try {
      timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch {
      // Older engines without time zone data: the server then uses the site's default.
    }
    await call('subscriptions', {
      subscription: subscription.toJSON(),
      visitorId: visitor,
      locale: navigator.language,
      timeZone,
      ...identity,
    }).catch(noop);
    shareWithServiceWorker({ host, key: fromBase64Url(config!.vapidPublicKey), endpoint: subscription.endpoint });
    setState('subscribed', { endpoint: subscription.endpoint });
  }

  function maybePrompt(trigger: string): void {
    if (rule === trigger && state === 'default' && Number(load('snooze') || 0) < Date.now() && !load('optout')) prompt();
  }

  function prompt(): void {
    showPrompt(promptTexts(config!.prompt, data), (allowed) => {
      if (allowed) askPermission();
      else snooze();
    });
  }

  function snooze(): void {
    save('snooze', String(Date.now() + config!.prompt.snoozeDays * DAY_MS));
  }

  /** Runs inside the Allow click: browsers only show their prompt with a user activation. */
  function askPermission(): void {
    Notification.requestPermission()
      .then(async (permission) => {
        emit('permission', permission);
        if (permission === 'granted') {
          save('optout', null);
          await remember(await subscribe());
        } else {
          if (permission === 'default') snooze(); // closed without answering
          setState(permission);
        }
      })
      .catch(noop);
  }

  // Boot failures (config unreachable, registration refused) leave the API in place, doing nothing.
  const ready = supported ? boot().catch(noop) : Promise.resolve();
  /** Runs `task` once booted; anything it throws stays here. */
  const later = (task: () => unknown): Promise<void> =>
    ready.then(() => (registration ? task() : undefined)).then(noop, noop);

  const api: Pushcart = {
    get state() {
      return state;
    },
    optIn: () =>
      later(() => {
        save('optout', null);
        if (Notification.permission === 'granted') return subscribe().then(remember);
        if (Notification.permission === 'default') prompt();
      }),
    optOut: () =>
      later(async () => {
        save('optout', '1');
        const subscription = await registration!.pushManager.getSubscription();
        if (!subscription) return;
        await Promise.all([call('subscriptions', { endpoint: subscription.endpoint }, 'DELETE').catch(noop), subscription.unsubscribe()]);
        setState('unsubscribed');
      }),
    identify(externalUserId, signature) {
      identity = { externalUserId, signature };
      return later(async () => {
        const subscription = await registration!.pushManager.getSubscription();
        if (subscription && sentIdentity !== identity) await remember(subscription);
      });
    },
    track(type, properties = {}) {
      if (type === 'cart_updated') later(() => maybePrompt('cart_updated'));
      return call('events', { visitorId: visitor, type, properties }, 'POST', true).then(noop, noop);
    },
    watch(productId, options) {
      // "Tell me when…" is pointless without push: offer the prompt to a shopper who never answered it.
      later(() => state === 'default' && prompt());
      return call('watches', { visitorId: visitor, productId, ...options }).then(noop, noop);
    },
    on(event, callback) {
      (listeners[event] ??= []).push(callback);
    },
    push(command) {
      try {
        if (typeof command === 'function') command(api);
        else (api[command[0] as keyof Pushcart] as (...args: unknown[]) => unknown)(...command.slice(1));
      } catch {
        // An unknown command or a throwing callback: ignored, like every other failure.
      }
    },
  };
  if (!supported) {
    console.warn(
      'Pushcart: web push is unavailable here (it needs HTTPS and a browser with the Push API; on iPhone and iPad, Safari offers it only to sites added to the Home Screen).',
    );
  }
  return api;
}
