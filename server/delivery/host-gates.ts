import type { Logger } from '../logger.ts';
import { MINUTE_MS } from '../time.ts';

export interface HostGateSettings {
  /** Requests in flight to one push-service host at most (HTTP/2 multiplexes them on few connections). */
  maxInFlightPerHost: number;
  /** 403s from one host within `breakerWindowMs` that open its circuit. */
  breakerThreshold: number;
  breakerWindowMs: number;
  /** How long an open circuit holds every delivery to that host. */
  breakerOpenMs: number;
  /** Host-wide pause after a 429/503 that named no Retry-After. */
  defaultHostBackoffMs: number;
}

export const DEFAULT_HOST_GATE_SETTINGS: HostGateSettings = {
  maxInFlightPerHost: 200,
  breakerThreshold: 50,
  breakerWindowMs: MINUTE_MS,
  breakerOpenMs: 5 * MINUTE_MS,
  defaultHostBackoffMs: 10_000,
};

interface HostState {
  inFlight: number;
  waiters: Array<() => void>;
  pausedUntilMs: number;
  recent403Ms: number[];
}

/**
 * Per push-service host: a bound on requests in flight, a pause when the host asks us to back off
 * (429/503 apply to the host, not one subscriber), and a circuit breaker for bursts of 403 — which
 * mean our VAPID key or JWT is wrong for everyone, never that every subscription is dead. One per
 * worker, passed in: no module state.
 */
export class HostGates {
  readonly #hosts = new Map<string, HostState>();

  constructor(
    private readonly settings: HostGateSettings,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  #state(host: string): HostState {
    let state = this.#hosts.get(host);
    if (!state) {
      state = { inFlight: 0, waiters: [], pausedUntilMs: 0, recent403Ms: [] };
      this.#hosts.set(host, state);
    }
    return state;
  }

  /** When the host may be sent to again, or 0 if it may be now. */
  pausedUntil(host: string): number {
    const until = this.#hosts.get(host)?.pausedUntilMs ?? 0;
    return until > this.now() ? until : 0;
  }

  /** Runs `work` once fewer than the host's limit are in flight. */
  async run<T>(host: string, work: () => Promise<T>): Promise<T> {
    const state = this.#state(host);
    while (state.inFlight >= this.settings.maxInFlightPerHost) {
      await new Promise<void>((resolve) => state.waiters.push(resolve));
    }
    state.inFlight++;
    try {
      return await work();
    } finally {
      state.inFlight--;
      state.waiters.shift()?.();
    }
  }

  backOff(host: string, retryAfterMs: number | null): number {
    const state = this.#state(host);
    const until = this.now() + (retryAfterMs ?? this.settings.defaultHostBackoffMs);
    if (until > state.pausedUntilMs) {
      state.pausedUntilMs = until;
      this.logger.log('warn', 'push host backing off', { host, until: new Date(until).toISOString() });
    }
    return state.pausedUntilMs;
  }

  /** Counts a 403; opens the circuit (a logged alert) when they come in a burst. */
  forbidden(host: string): void {
    const state = this.#state(host);
    const nowMs = this.now();
    state.recent403Ms = state.recent403Ms.filter((at) => at > nowMs - this.settings.breakerWindowMs);
    state.recent403Ms.push(nowMs);
    if (state.recent403Ms.length >= this.settings.breakerThreshold && state.pausedUntilMs <= nowMs) {
      state.pausedUntilMs = nowMs + this.settings.breakerOpenMs;
      state.recent403Ms = [];
      this.logger.log('error', 'ALERT push host circuit open: burst of 403 Forbidden', {
        host,
        threshold: this.settings.breakerThreshold,
        windowMs: this.settings.breakerWindowMs,
        holdUntil: new Date(state.pausedUntilMs).toISOString(),
        hint: 'check the VAPID subject and keys; subscriptions are kept',
      });
    }
  }
}
