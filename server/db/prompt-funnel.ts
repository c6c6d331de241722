import { sql } from 'kysely';
import type { Db } from './database.ts';
import type { LocalDays } from '../stats/local-days.ts';
import { MINUTE_MS } from '../time.ts';

/** The steps of the soft prompt's funnel, in the order a shopper goes through them. */
export const PROMPT_FUNNEL_STEPS = [
  'prompt_shown',
  'prompt_accepted',
  'prompt_postponed',
  'permission_granted',
  'permission_denied',
  'permission_dismissed',
  'push_subscribed',
] as const;

export type PromptFunnelStep = (typeof PROMPT_FUNNEL_STEPS)[number];

/** Rows each (site, period, step) is spread over (see the migration): the same visitor always lands on the same one. */
const SHARDS = 8;

export function promptFunnelShard(visitorId: string): number {
  let hash = 0;
  for (let i = 0; i < visitorId.length; i++) hash = (hash * 31 + visitorId.charCodeAt(i)) >>> 0;
  return hash % SHARDS;
}

/**
 * The funnel's period: 15 minutes, as the other rollups' (migrations/2026-11-29T0390-prompt-funnel-buckets.ts),
 * so the periods add up to whole local days in every zone in use (their offsets are all multiples
 * of it).
 */
export const PROMPT_FUNNEL_BUCKET_MS = 15 * MINUTE_MS;

/** The start of the period `at` falls in (UTC, on a 15-minute boundary). */
export function promptFunnelBucket(at: Date): Date {
  return new Date(Math.floor(at.getTime() / PROMPT_FUNNEL_BUCKET_MS) * PROMPT_FUNNEL_BUCKET_MS);
}

/** Counts one step of one shopper's way through the prompt, in the 15-minute period of `at`. */
export async function countPromptStep(db: Db, siteId: string, step: PromptFunnelStep, visitorId: string, at: Date): Promise<void> {
  await db
    .insertInto('prompt_funnel_buckets')
    .values({ site_id: siteId, bucket: promptFunnelBucket(at), step, shard: promptFunnelShard(visitorId), count: 1 })
    .onConflict((oc) => oc.columns(['site_id', 'bucket', 'step', 'shard']).doUpdateSet({ count: sql`prompt_funnel_buckets.count + 1` }))
    .execute();
}

/**
 * Counts many steps in one statement (a group of events): one row per (site, period, step, shard)
 * with how many of the steps fell there, in key order, so two groups updating the same counters
 * take their locks in the same order.
 */
export async function countPromptSteps(db: Db, steps: Array<{ siteId: string; step: PromptFunnelStep; visitorId: string; at: Date }>): Promise<void> {
  const counts = new Map<string, { site_id: string; bucket: Date; step: PromptFunnelStep; shard: number; count: number }>();
  for (const { siteId, step, visitorId, at } of steps) {
    const bucket = promptFunnelBucket(at);
    const shard = promptFunnelShard(visitorId);
    const key = `${siteId} ${bucket.toISOString()} ${step} ${shard}`;
    const counted = counts.get(key);
    if (counted) counted.count++;
    else counts.set(key, { site_id: siteId, bucket, step, shard, count: 1 });
  }
  if (counts.size === 0) return;
  const rows = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  await db
    .insertInto('prompt_funnel_buckets')
    .values(rows)
    .onConflict((oc) => oc.columns(['site_id', 'bucket', 'step', 'shard']).doUpdateSet({ count: sql`prompt_funnel_buckets.count + excluded.count` }))
    .execute();
}

export type PromptFunnelDay = { day: string } & Record<PromptFunnelStep, number>;

/**
 * The funnel per calendar day of the shop (`days`: local midnights, server/stats/local-days.ts),
 * every day present (zeros where nothing was counted) and every step, oldest day first. Each
 * period is put in its day by `width_bucket`, as db/daily-stats.ts puts the other rollups' rows, so
 * the database needs to know no time zone.
 */
export async function promptFunnel(db: Db, siteId: string, days: LocalDays): Promise<PromptFunnelDay[]> {
  const { dates, boundaries } = days;
  const start = boundaries[0]!;
  const end = boundaries[boundaries.length - 1]!;
  const rows = await sql<{ day: number; step: string; count: string }>`
    select width_bucket(bucket, ${boundaries}::timestamptz[]) as day, step, sum(count) as count
    from prompt_funnel_buckets where site_id = ${siteId} and bucket >= ${start} and bucket < ${end}
    group by 1, 2`.execute(db);
  const result = dates.map((day) => ({ day, ...Object.fromEntries(PROMPT_FUNNEL_STEPS.map((step) => [step, 0])) }) as PromptFunnelDay);
  for (const row of rows.rows) {
    const entry = result[row.day - 1];
    if (entry) entry[row.step as PromptFunnelStep] += Number(row.count);
  }
  return result;
}
