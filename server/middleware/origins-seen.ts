import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';
import type { Db } from '../db/database.ts';
import { MAX_RECORDED_ORIGIN_LENGTH, recordOriginRefused, recordOriginSeen, type SeenRequest } from '../db/origins-seen.ts';
import { ApiError } from '../errors.ts';
import { describeError, type Logger } from '../logger.ts';
import { MINUTE_MS } from '../time.ts';

/** At most one write per site, origin and kind of record in this long, per process. */
export const ORIGIN_RECORD_INTERVAL_MS = MINUTE_MS;

/**
 * Keys the throttle remembers at most. Past this, keys whose minute is over are forgotten; if every
 * key is still within its minute (a flood of made-up origins), further records are skipped until
 * some minute ends, so neither this process's memory nor the database's write rate has to follow
 * the flood.
 */
export const MAX_THROTTLED_KEYS = 10_000;

/**
 * Remembers when each key was last let through. Plain memory, made once per app: a Node process and
 * a Workers isolate each keep their own, so the database sees at most one write per key and minute
 * from each of them.
 */
export class RecordThrottle {
  private readonly lastMs = new Map<string, number>();

  constructor(
    private readonly intervalMs = ORIGIN_RECORD_INTERVAL_MS,
    private readonly maxKeys = MAX_THROTTLED_KEYS,
  ) {}

  /** True when `key` was not let through within the interval before `nowMs` (and notes it now). */
  take(key: string, nowMs: number): boolean {
    const last = this.lastMs.get(key);
    if (last !== undefined && nowMs - last < this.intervalMs && nowMs >= last) return false;
    if (last === undefined && this.lastMs.size >= this.maxKeys) {
      for (const [other, at] of this.lastMs) if (nowMs - at >= this.intervalMs || nowMs < at) this.lastMs.delete(other);
      if (this.lastMs.size >= this.maxKeys) return false;
    }
    this.lastMs.set(key, nowMs);
    return true;
  }
}

export interface OriginsSeenRecorder {
  /** A request that passed: `origin` is one of the site's allowed origins. */
  seen(siteId: string, origin: string, request: SeenRequest): Promise<void>;
  /** A request refused with `error`, once the site was known. */
  refused(site: { id: string; allowed_origins: string[] }, origin: string, request: SeenRequest, error: ApiError): Promise<void>;
}

/**
 * What the installation check reads, written cheaply from the hot path (the config is fetched on
 * shop page views): throttled per site × origin × kind, and a failed write is logged, never the
 * shopper's problem.
 */
export function createOriginsSeenRecorder(deps: { db: Db; logger: Logger; now?: () => number }, throttle = new RecordThrottle()): OriginsSeenRecorder {
  const clock = deps.now ?? Date.now;
  async function write(key: string, work: (at: Date) => Promise<void>): Promise<void> {
    const nowMs = clock();
    if (!throttle.take(key, nowMs)) return;
    try {
      await work(new Date(nowMs));
    } catch (error) {
      deps.logger.log('warn', 'origin record not written', describeError(error));
    }
  }
  return {
    seen: (siteId, origin, request) => write(`${siteId} ${request} ${origin}`, (at) => recordOriginSeen(deps.db, siteId, origin, request, at)),
    refused: (site, origin, request, error) =>
      write(`${site.id} refused ${origin}`, (at) =>
        recordOriginRefused(deps.db, { id: site.id, allowedOrigins: site.allowed_origins }, origin, { request, code: error.code, detail: error.message }, at),
      ),
  };
}

/**
 * Put in front of `browserAccess`: after the answer to a `method` request is made, notes which
 * origin it came from and whether it went through. Preflights and requests without an Origin (a same-origin GET)
 * say nothing about a shop page; a refusal before the site is known (unknown key, rate limits)
 * has no site to note it on, and a server error is not the shop's install.
 */
export function recordOrigins(recorder: OriginsSeenRecorder, request: SeenRequest, method: 'GET' | 'POST'): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method !== method) return;
    const origin = c.req.header('Origin');
    const site = c.get('site') as AppEnv['Variables']['site'] | undefined;
    if (origin === undefined || origin.length > MAX_RECORDED_ORIGIN_LENGTH || site === undefined) return;
    if (c.res.status < 300) return recorder.seen(site.id, origin, request);
    if (c.error instanceof ApiError && c.res.status < 500 && c.error.code !== 'rate_limited') {
      return recorder.refused(site, origin, request, c.error);
    }
  };
}
