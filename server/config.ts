import { z } from 'zod';
import { normalizeEmail } from './accounts/email.ts';
import { parseIpRange, type IpRange } from './client-address.ts';
import { DEFAULT_PER_IP_LIMIT, DEFAULT_PER_SITE_LIMIT, type BucketSettings } from './middleware/rate-limit.ts';

/**
 * Configuration, validated once at start and passed to everything that needs it: a bad setting
 * stops the process at once, not the first request that reads it.
 * Names are the public contract: operators and deploy scripts are written against them.
 */

export const DEFAULT_PORT = 8787;
export const DEFAULT_DATA_DIR = './.pushcart';
/**
 * The dashboard account `npm start` makes for the demo site on an empty database. `.invalid` (RFC
 * 2606 §2) can never be anyone's real address: it is a sign-in name until the operator chooses one.
 */
export const DEFAULT_OWNER_EMAIL = 'owner@localhost.invalid';

/** `host` or `host:port`; a host without a port allows 443 only. */
export interface PushHostEntry {
  hostname: string;
  port: string;
}

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const vapidSubject = z
  .string()
  .trim()
  .refine(
    (value) => {
      // Apple's push service answers 403 BadJwtToken unless `sub` is a mailto: or https: URL (RFC 8292 §2.1).
      if (/^mailto:[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) return true;
      try {
        const url = new URL(value);
        return url.protocol === 'https:' && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: 'must be mailto:you@example.com or an https:// URL (Apple rejects anything else)' },
  );

const publicUrl = z
  .string()
  .trim()
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'https:' || url.protocol === 'http:') && url.search === '' && url.hash === '';
      } catch {
        return false;
      }
    },
    { message: 'must be an absolute http(s) URL without query or fragment, e.g. https://push.example.com' },
  )
  .transform((value) => value.replace(/\/+$/, ''));

const pushHosts = z
  .string()
  .trim()
  .transform((value, ctx): PushHostEntry[] => {
    const entries: PushHostEntry[] = [];
    for (const raw of value.split(',').map((entry) => entry.trim()).filter(Boolean)) {
      let url: URL;
      try {
        url = new URL(`https://${raw}`);
      } catch {
        ctx.addIssue({ code: 'custom', message: `"${raw}" is not a host or host:port` });
        return z.NEVER;
      }
      if (url.username || url.password || url.pathname !== '/' || url.search || url.hash || url.host !== raw.toLowerCase()) {
        ctx.addIssue({ code: 'custom', message: `"${raw}" must be host or host:port, nothing else` });
        return z.NEVER;
      }
      entries.push({ hostname: url.hostname, port: url.port });
    }
    return entries;
  });

const masterKey = z
  .string()
  .trim()
  .refine((value) => /^[A-Za-z0-9_-]{43}$/.test(value) || /^[0-9a-fA-F]{64}$/.test(value), {
    message: 'must be 32 random bytes as 64 hex characters or 43 base64url characters (openssl rand -hex 32)',
  });

const trustedProxies = z
  .string()
  .trim()
  .transform((value, ctx): IpRange[] => {
    const ranges: IpRange[] = [];
    for (const entry of value.split(',').map((part) => part.trim()).filter(Boolean)) {
      const parsed = /\s/.test(entry) ? { error: `"${entry}" holds a space; separate entries with commas` } : parseIpRange(entry);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', message: `${parsed.error}; list proxy addresses or CIDR blocks, e.g. 10.0.0.0/8,::1` });
        return z.NEVER;
      }
      ranges.push(parsed.range);
    }
    return ranges;
  });

/** `BURST/PER_SECOND`, e.g. `1000/100`: a whole burst of at least 1, and a refill rate above 0. */
const rateLimit = z
  .string()
  .trim()
  .transform((value, ctx): BucketSettings => {
    const match = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(value);
    const capacity = Number(match?.[1]);
    const refillPerSecond = Number(match?.[2]);
    if (!match || !Number.isSafeInteger(capacity) || capacity < 1 || !Number.isFinite(refillPerSecond) || refillPerSecond <= 0) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" must be BURST/PER_SECOND, e.g. 1000/100: a whole burst of at least 1 and a rate above 0 per second`,
      });
      return z.NEVER;
    }
    return { capacity, refillPerSecond };
  });

const port = z
  .string()
  .trim()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .refine((value) => value >= 1 && value <= 65535, 'must be between 1 and 65535');

const databaseUrl = z
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL');

const adminToken = z.string().trim().min(24, 'must be at least 24 characters (openssl rand -hex 24)');

/** An account email, stored as the dashboard stores it (trimmed, lower case). */
const ownerEmail = z.string().transform((value, ctx) => {
  const email = normalizeEmail(value);
  if (email === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value.trim()}" is not an email address, e.g. you@shop.example` });
    return z.NEVER;
  }
  return email;
});

/** Where `/docs` loads its script from (routes/api-reference.ts); a copy on a host the operator's network reaches. */
const scriptUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL of the reference page script' });

const configSchema = z.object({
  PORT: port.optional(),
  DATABASE_URL: optionalString.pipe(databaseUrl.optional()),
  PUSHCART_DATA_DIR: optionalString,
  PUSHCART_PUBLIC_URL: optionalString.pipe(publicUrl.optional()),
  PUSHCART_ADMIN_TOKEN: optionalString.pipe(adminToken.optional()),
  PUSHCART_METRICS_TOKEN: optionalString.pipe(adminToken.optional()),
  PUSHCART_VAPID_SUBJECT: optionalString.pipe(vapidSubject.optional()),
  PUSHCART_PUSH_HOSTS: optionalString.pipe(pushHosts.optional()),
  PUSHCART_MASTER_KEY: optionalString.pipe(masterKey.optional()),
  PUSHCART_TRUSTED_PROXIES: optionalString.pipe(trustedProxies.optional()),
  PUSHCART_RATE_LIMIT_PER_IP: optionalString.pipe(rateLimit.optional()),
  PUSHCART_RATE_LIMIT_PER_SITE: optionalString.pipe(rateLimit.optional()),
  PUSHCART_DOCS_SCRIPT_URL: optionalString.pipe(scriptUrl.optional()),
  PUSHCART_OWNER_EMAIL: optionalString.pipe(ownerEmail.optional()),
});

export interface Config {
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  publicUrl: string;
  adminToken: string | undefined;
  /** Bearer token of `GET /metrics`: PUSHCART_METRICS_TOKEN, else the admin token; unset: metrics are off. */
  metricsToken: string | undefined;
  vapidSubject: string;
  extraPushHosts: PushHostEntry[];
  masterKey: string | undefined;
  /** Reverse proxies whose X-Forwarded-For / Forwarded is believed; empty: the socket peer is the client. */
  trustedProxies: IpRange[];
  rateLimitPerIp: BucketSettings;
  rateLimitPerSite: BucketSettings;
  /** The `/docs` page's script; unset: a pinned copy on a public CDN. */
  docsScriptUrl?: string | undefined;
  /** The email of the dashboard owner `npm start` creates on an empty database (Node only). */
  ownerEmail: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Validates the environment (process.env on Node, bindings on Workers). Throws a ConfigError whose
 * message is one line per bad variable, naming it — an operator should never need a stack trace.
 */
export function parseConfig(env: Record<string, unknown>): Config {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== null) picked[key] = typeof value === 'string' ? value : String(value);
  }
  const result = configSchema.safeParse(picked);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${String(issue.path[0] ?? 'config')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration — ${lines.join('; ')}`);
  }
  const values = result.data;
  const port = values.PORT ?? DEFAULT_PORT;
  return {
    port,
    databaseUrl: values.DATABASE_URL,
    dataDir: values.PUSHCART_DATA_DIR ?? DEFAULT_DATA_DIR,
    publicUrl: values.PUSHCART_PUBLIC_URL ?? `http://localhost:${port}`,
    adminToken: values.PUSHCART_ADMIN_TOKEN,
    // A scraper needs a token of its own only where it should not hold the admin API's.
    metricsToken: values.PUSHCART_METRICS_TOKEN ?? values.PUSHCART_ADMIN_TOKEN,
    // A working default keeps `npm start` to one command; production deployments set their own.
    vapidSubject: values.PUSHCART_VAPID_SUBJECT ?? 'mailto:push@localhost.invalid',
    extraPushHosts: values.PUSHCART_PUSH_HOSTS ?? [],
    masterKey: values.PUSHCART_MASTER_KEY,
    trustedProxies: values.PUSHCART_TRUSTED_PROXIES ?? [],
    rateLimitPerIp: values.PUSHCART_RATE_LIMIT_PER_IP ?? DEFAULT_PER_IP_LIMIT,
    rateLimitPerSite: values.PUSHCART_RATE_LIMIT_PER_SITE ?? DEFAULT_PER_SITE_LIMIT,
    docsScriptUrl: values.PUSHCART_DOCS_SCRIPT_URL,
    ownerEmail: values.PUSHCART_OWNER_EMAIL ?? DEFAULT_OWNER_EMAIL,
  };
}
