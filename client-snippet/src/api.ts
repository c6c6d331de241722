// The pushcart object pages talk to. Every entry point catches its own errors: a shop's page must
// never see an exception from us, whatever the browser, the network or our server does.
import { Workbox } from 'workbox-window';
import type { SiteConfig } from '../../service-worker/src/contract';
import { showPrompt } from './prompt';
import { DAY_MS } from '../../server/time';
import { fromBase64Url, load, save, shareWithServiceWorker, toBase64Url, visitorId } from './storage';

export type PushcartState = 'unsupported' | 'default' | 'denied' | 'subscribed' | 'unsubscribed';
export type PushcartEvent = 'subscribed' | 'unsubscribed' | 'permission' | 'error';

/** Detail of the `error` event: why the subscription is not stored (yet). */
export interface PushcartError {
  /** The server's error code (`endpoint_not_allowed`, `storage_unavailable`…) or one of the snippet's own. */
  code: string;
  message: string;
  /** The HTTP status of the server's answer, when one could be read. */
  status?: number;
  /** Present only when this page tries again by itself, after this many seconds. */
  retryInSeconds?: number;
}
export type Command = [string, ...unknown[]] | ((api: Pushcart) => void);

export interface Pushcart {
  readonly state: PushcartState;
  optIn(): Promise<void>;
  optOut(): Promise<void>;
  identify(externalUserId: string, signature: string): Promise<void>;
  track(type: string, properties?: Record<string, unknown>): Promise<void>;
  watch(productId: string, options: { kind: 'price_drop' | 'back_in_stock'; price?: number }): Promise<void>;
  tag(key: string, value: string | number | boolean): Promise<void>;
  untag(key: string): Promise<void>;
  on(event: PushcartEvent, callback: (detail: unknown) => void): void;
  push(command: Command): void;
}

/** How long pushManager.subscribe() may take; `data-subscribe-timeout` (seconds) overrides it. */
const SUBSCRIBE_TIMEOUT_SECONDS = 25;
/** Posts of one subscription per page before it waits for a later page view. */
const MAX_POSTS_PER_PAGE = 4;
/** Longer waits are left to a later page view rather than a timer in this one. */
const MAX_IN_PAGE_WAIT_SECONDS = 300;
const noop = () => {};

/** A 503, a 429 or no readable answer passes by itself; any other refusal stands until something changes. */
const isTransient = (error: PushcartError) => !error.status || error.status === 429 || error.status >= 500;

/** Retry-After as delay-seconds or an HTTP date (RFC 9110, section 10.2.3). */
function retryAfterSeconds(response: Response | void): number | undefined {
  const value = response?.headers.get('Retry-After');
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return seconds >= 0 ? Math.max(1, Math.ceil(seconds)) : undefined;
}

/** The error body the server answers with (`{"error":{"code","message"}}`), or what is known without one. */
async function failureOf(response: Response | void, host: string): Promise<PushcartError> {
  if (!response) return { code: 'network_error', message: `could not reach ${host}` };
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (await response.json()).error;
  } catch {
    // Not our error shape (a proxy's page, say): the status says enough.
  }
  return { code: error?.code || `http_${response.status}`, message: error?.message || `HTTP ${response.status}`, status: response.status };
}

function asPushcartError(error: unknown, code: string): PushcartError {
  // (A DOMException has a numeric legacy `code`; ours are strings.)
  return typeof (error as PushcartError)?.code === 'string' ? (error as PushcartError) : { code, message: String((error as Error)?.message ?? error) };
}

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
  /** Posts of the subscription since the last one the server stored, and the pending retry. */
  let posts = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

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

  /** Resolves with the server's answer, whatever its status; rejects only when there was none. */
  function call(path: string, body: unknown, method = 'POST', keepalive = false): Promise<Response> {
    return fetch(`${host}/v1/${path}`, {
      method,
      keepalive, // only for events, which are often sent just before the page navigates away
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${data.site}` },
      body: JSON.stringify(body),
    });
  }

  async function boot(): Promise<void> {
    // The prompt's texts come in the browser's language, looked up by the server as templates are.
    const response = await fetch(`${host}/v1/sites/${data.site}/config?locale=${navigator.language}`).catch(noop);
    if (!response?.ok) throw await failureOf(response, host);
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
    const wanted = Notification.permission === 'granted' && !load('optout');
    const hold = held();
    if (wanted && hold) {
      // An earlier page's answer still holds: say so, and post again only once it has passed.
      setState(permissionState());
      const waitMs = hold.until - Date.now();
      const error = { ...hold.error };
      if (subscription && isTransient(error) && waitMs <= MAX_IN_PAGE_WAIT_SECONDS * 1000) {
        error.retryInSeconds = Math.ceil(waitMs / 1000);
        retryTimer = setTimeout(retry, waitMs);
      }
      emit('error', error);
    } else if (subscription) await remember(subscription);
    else if (wanted) await subscribeAndRemember();
    else setState(permissionState());
  }

  /** The server's last refusal or Retry-After, while it lasts (kept across page views). */
  function held(): { until: number; error: PushcartError } | undefined {
    try {
      const hold = JSON.parse(load('hold') || 'null');
      return hold && hold.until > Date.now() ? hold : undefined;
    } catch {
      return undefined;
    }
  }

  function retry(): void {
    save('hold', null);
    sync().catch(noop);
  }

  /** Resolves with a subscription, or rejects with a PushcartError; never waits forever. */
  function subscribe(): Promise<PushSubscription> {
    const applicationServerKey = fromBase64Url(config!.vapidPublicKey);
    const pending = registration!.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
    const seconds = Number(data.subscribeTimeout) || SUBSCRIBE_TIMEOUT_SECONDS;
    return new Promise((resolve, reject) => {
      // Chromium whose push service is unreachable leaves subscribe() pending for minutes.
      const timer = setTimeout(() => {
        const message = `the browser did not finish subscribing within ${seconds} s (its push service may be unreachable)`;
        console.warn(`Pushcart: ${message}.`);
        reject({ code: 'subscribe_timeout', message });
        // Should it settle after all, that subscription is stored then.
        pending.then(remember).catch(noop);
      }, seconds * 1000);
      pending.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  /** Subscribes in the browser (or takes the subscription it already has) and posts it. */
  async function subscribeAndRemember(): Promise<void> {
    save('hold', null);
    let subscription: PushSubscription;
    try {
      subscription = (await registration!.pushManager.getSubscription()) || (await subscribe());
    } catch (error) {
      setState(permissionState());
      emit('error', asPushcartError(error, 'subscribe_failed'));
      return;
    }
    await remember(subscription);
  }

  /**
   * Tells the server (again) about the subscription. The state becomes 'subscribed' only when the
   * server stored it. A refused subscription stays in the browser: nobody can push to it, and
   * posting the same one again later (a fixed configuration, the end of an outage) needs no new
   * permission prompt and no new registration at the push service.
   */
  async function remember(subscription: PushSubscription, withIdentity = true): Promise<void> {
    clearTimeout(retryTimer);
    sentIdentity = identity;
    const sending = withIdentity ? identity : {};
    let timeZone: string | undefined;
    try {
      timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch {
      // Older engines without time zone data: the server then uses the site's default.
    }
    posts++;
    const response = await call('subscriptions', {
      subscription: subscription.toJSON(),
      visitorId: visitor,
      locale: navigator.language,
      timeZone,
      ...sending,
    }).catch(noop);
    if (response && response.ok) {
      posts = 0;
      save('hold', null);
      shareWithServiceWorker({ host, key: fromBase64Url(config!.vapidPublicKey), endpoint: subscription.endpoint });
      setState('subscribed', { endpoint: subscription.endpoint });
      return;
    }
    const error = await failureOf(response, host);
    if (error.code === 'invalid_signature' && 'signature' in sending) {
      // The identity was refused (a wrong signature, say), not the shopper's consent: store the
      // subscription without it; an earlier link to the user id is kept by the server.
      emit('error', error);
      return remember(subscription, false);
    }
    const waitSeconds = isTransient(error) ? (retryAfterSeconds(response) ?? 5 * 4 ** (posts - 1)) : DAY_MS / 1000;
    // Kept across page views, so later pages neither hammer an overloaded server nor repeat a refusal.
    save('hold', JSON.stringify({ until: Date.now() + waitSeconds * 1000, error }));
    if (isTransient(error) && posts < MAX_POSTS_PER_PAGE && waitSeconds <= MAX_IN_PAGE_WAIT_SECONDS) {
      error.retryInSeconds = waitSeconds;
      retryTimer = setTimeout(retry, waitSeconds * 1000);
    }
    // Stored earlier in this page (and refused only now, on an identify()): that record still stands.
    if (state !== 'subscribed') setState(permissionState());
    emit('error', error);
  }

  function maybePrompt(trigger: string): void {
    if (rule === trigger && state === 'default' && Number(load('snooze') || 0) < Date.now() && !load('optout')) prompt();
  }

  /**
   * One step of the prompt's funnel (server/db/prompt-funnel.ts counts them per day): a request
   * only when the prompt shows or is answered, never per page view.
   */
  function report(step: string): void {
    call('events', { visitorId: visitor, type: step, properties: {} }, 'POST', true).catch(noop);
  }

  function prompt(): void {
    const shown = showPrompt(config!.prompt, data, (allowed) => {
      report(allowed ? 'prompt_accepted' : 'prompt_postponed');
      if (allowed) askPermission();
      else snooze();
    });
    if (shown) report('prompt_shown');
  }

  function snooze(): void {
    save('snooze', String(Date.now() + config!.prompt.snoozeDays * DAY_MS));
  }

  /** Runs inside the Allow click: browsers only show their prompt with a user activation. */
  function askPermission(): void {
    Notification.requestPermission()
      .then(async (permission) => {
        emit('permission', permission);
        report(permission === 'default' ? 'permission_dismissed' : `permission_${permission}`);
        if (permission === 'granted') {
          save('optout', null);
          await subscribeAndRemember();
          if (state === 'subscribed') report('push_subscribed');
        } else {
          if (permission === 'default') snooze(); // closed without answering
          setState(permission);
        }
      })
      .catch(noop);
  }

  /**
   * Changes this visitor's tags (`POST /v1/subscriptions/tags`) once the page has re-synced its
   * subscription, so a subscription the server did not know yet is stored first. Unlike the other
   * calls it rejects, with the server's `{ code, message, status }`: only the page knows whether a
   * refused tag matters. A page that does not listen gets no unhandled rejection.
   */
  const changeTags = (change: object): Promise<void> => {
    const done = ready.then(async () => {
      const response = await call('subscriptions/tags', { visitorId: visitor, ...change }).catch(noop);
      if (!response?.ok) throw await failureOf(response, host);
    });
    done.catch(noop);
    return done;
  };

  // Boot failures (config unreachable or refused, registration refused) leave the API in place,
  // doing nothing but saying why.
  const ready = supported ? boot().catch((error) => emit('error', asPushcartError(error, 'setup_failed'))) : Promise.resolve();
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
        // The shopper asked: an earlier refusal or Retry-After no longer holds this page back.
        if (Notification.permission === 'granted') return subscribeAndRemember();
        if (Notification.permission === 'default') prompt();
      }),
    optOut: () =>
      later(async () => {
        save('optout', '1');
        save('hold', null);
        clearTimeout(retryTimer);
        const subscription = await registration!.pushManager.getSubscription();
        if (!subscription) return;
        await Promise.all([call('subscriptions', { endpoint: subscription.endpoint }, 'DELETE').catch(noop), subscription.unsubscribe()]);
        setState('unsubscribed');
      }),
    identify(externalUserId, signature) {
      identity = { externalUserId, signature };
      return later(async () => {
        const subscription = await registration!.pushManager.getSubscription();
        if (subscription && sentIdentity !== identity && !held()) await remember(subscription);
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
    tag: (key, value) => changeTags({ set: { [key]: value } }),
    untag: (key) => changeTags({ remove: [key] }),
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
