import { sql } from 'kysely';
import type { Db } from './database.ts';
import { DAY_MS } from '../time.ts';

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

/** Rows each (site, day, step) is spread over (see the migration): the same visitor always lands on the same one. */
const SHARDS = 8;

function shardOf(visitorId: string): number {
  let hash = 0;
  for (let i = 0; i < visitorId.length; i++) hash = (hash * 31 + visitorId.charCodeAt(i)) >>> 0;
  return hash % SHARDS;
}

const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/** Counts one step of one shopper's way through the prompt, on the UTC day of `at`. */
export async function countPromptStep(db: Db, siteId: string, step: PromptFunnelStep, visitorId: string, at: Date): Promise<void> {
  await db
    .insertInto('prompt_funnel_days')
    .values({ site_id: siteId, day: utcDay(at), step, shard: shardOf(visitorId), count: 1 })
    .onConflict((oc) => oc.columns(['site_id', 'day', 'step', 'shard']).doUpdateSet({ count: sql`prompt_funnel_days.count + 1` }))
    .execute();
}

export type PromptFunnelDay = { day: string } & Record<PromptFunnelStep, number>;

/**
 * The funnel per UTC day from `from` to `to` (both `YYYY-MM-DD`, inclusive), every day present
 * (zeros where nothing was counted) and every step, oldest day first.
 */
export async function promptFunnel(db: Db, siteId: string, from: string, to: string): Promise<PromptFunnelDay[]> {
  const rows = await db
    .selectFrom('prompt_funnel_days')
    .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'step', sql<string>`sum(count)`.as('count')])
    .where('site_id', '=', siteId)
    .where('day', '>=', sql<Date>`${from}::date`)
    .where('day', '<=', sql<Date>`${to}::date`)
    .groupBy(['day', 'step'])
    .execute();
  const days: PromptFunnelDay[] = [];
  const byDay = new Map<string, PromptFunnelDay>();
  for (let day = new Date(`${from}T00:00:00Z`); utcDay(day) <= to; day = new Date(day.getTime() + DAY_MS)) {
    const entry = { day: utcDay(day), ...Object.fromEntries(PROMPT_FUNNEL_STEPS.map((step) => [step, 0])) } as PromptFunnelDay;
    days.push(entry);
    byDay.set(entry.day, entry);
  }
  for (const row of rows) {
    const entry = byDay.get(row.day);
    if (entry) entry[row.step as PromptFunnelStep] = Number(row.count);
  }
  return days;
}
