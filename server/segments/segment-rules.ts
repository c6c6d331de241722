import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import { z } from 'zod';
import { DAY_SECONDS } from '../time.ts';
import { externalIdText, localeTag, money, postgresTextCheck, text, timeZoneText } from '../validation.ts';
import { COUNTRY_ZONES } from './country-zones.ts';

/**
 * Segments: audiences defined by rules over what Pushcart knows of a subscriber (its own columns)
 * and of the shopper behind it (events, carts, watches, clicks, pushes received). A definition is
 * JSON (stored on the segment, and inline on a notification so every chunk of a send resolves the
 * same rules) and compiles to one SQL condition over `subscriptions s`.
 */

const MAX_RULES = 20;
const MAX_VALUES = 100;
const MAX_DAYS = 3650;
const MAX_HOURS = 720;

const negate = z.boolean().optional();
const days = z.number().int().min(1).max(MAX_DAYS);
const tagKey = text().min(1).max(64);
const tagValue = z.union([text().max(200), z.number().finite(), z.boolean()]);
const values = <T extends z.ZodType<string, string>>(item: T) => z.array(item).min(1).max(MAX_VALUES);
const instant = z.iso.datetime({ offset: true }).check(postgresTextCheck).refine((at) => Number.isFinite(Date.parse(at)), 'must be an ISO 8601 instant');

/** A primary language subtag (RFC 5646 §2.2.1), lower case: `de` matches de, de-AT and de-CH. */
const languageSubtag = text()
  .regex(/^[A-Za-z]{2,3}$/, 'must be a primary language subtag such as de')
  .transform((tag) => tag.toLowerCase());

const country = text()
  .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166 alpha-2 country code such as DE')
  .transform((code) => code.toUpperCase())
  .refine((code) => code in COUNTRY_ZONES, 'is not a country with a time zone of its own (ISO 3166 alpha-2, e.g. DE)');

const productRule = z
  .strictObject({
    type: z.literal('product'),
    action: z.enum(['viewed', 'carted', 'watched', 'ordered']),
    productId: externalIdText().optional(),
    productIdPrefix: externalIdText().optional(),
    days,
    negate,
  })
  .refine((rule) => rule.productId === undefined || rule.productIdPrefix === undefined, 'name productId or productIdPrefix, not both');

export const segmentRuleSchema = z.union([
  z.discriminatedUnion('type', [
    z.discriminatedUnion('op', [
      z.strictObject({ type: z.literal('tag'), key: tagKey, op: z.literal('equals'), value: tagValue, negate }),
      z.strictObject({ type: z.literal('tag'), key: tagKey, op: z.literal('exists'), negate }),
    ]),
    z.strictObject({ type: z.literal('locale'), values: values(localeTag()), negate }),
    z.strictObject({ type: z.literal('language'), values: values(languageSubtag), negate }),
    z.strictObject({ type: z.literal('time_zone'), values: values(timeZoneText()), negate }),
    z.strictObject({ type: z.literal('country'), values: values(country), negate }),
    z.strictObject({ type: z.literal('browser'), values: values(text().min(1).max(64)), negate }),
    z.discriminatedUnion('op', [
      z.strictObject({ type: z.literal('subscribed'), op: z.enum(['before', 'after']), at: instant, negate }),
      z.strictObject({ type: z.literal('subscribed'), op: z.literal('within_days'), days, negate }),
    ]),
    z.strictObject({ type: z.literal('last_seen'), op: z.literal('within_days'), days, negate }),
    z.discriminatedUnion('op', [
      z.strictObject({ type: z.literal('clicked'), op: z.literal('within_days'), days, negate }),
      z.strictObject({ type: z.literal('clicked'), op: z.literal('ever'), negate }),
    ]),
    z.strictObject({ type: z.literal('almost_buyer'), days, negate }),
    z.strictObject({ type: z.literal('orders'), op: z.literal('at_least'), count: z.number().int().min(1).max(1_000_000), negate }),
    z.strictObject({ type: z.literal('spent'), op: z.literal('at_least'), amount: money(), negate }),
    z.strictObject({ type: z.literal('received_marketing'), hours: z.number().int().min(1).max(MAX_HOURS), negate }),
  ]),
  productRule,
]);

export type SegmentRule = z.output<typeof segmentRuleSchema>;

const match = z.enum(['all', 'any']);

/** A group nests one level: its entries are rules only. */
export const segmentGroupSchema = z.strictObject({ match, rules: z.array(segmentRuleSchema).min(1).max(MAX_RULES) });
export type SegmentGroup = z.output<typeof segmentGroupSchema>;

export const segmentDefinitionSchema = z.strictObject({
  match,
  rules: z.array(z.union([segmentRuleSchema, segmentGroupSchema])).min(1).max(MAX_RULES),
});

export type SegmentDefinition = { match: 'all' | 'any'; rules: Array<SegmentRule | SegmentGroup> };

function isGroup(entry: SegmentRule | SegmentGroup): entry is SegmentGroup {
  return !('type' in entry);
}

/** `%` and `_` are LIKE's wildcards and `\` its escape: a product id prefix matches them literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function daysBefore(at: Date, count: number): Date {
  return new Date(at.getTime() - count * DAY_SECONDS * 1000);
}

/**
 * Rules answered by a subquery (events, carts, watches, deliveries), not by the subscription's own
 * columns. "Any product" viewed, carted or ordered, clicks, checkouts, orders and spending are read
 * from the shopper's activity the triggers keep on the subscription (last_viewed_at …
 * orders_value, migrations 0630 and 0700): one pass over a site's subscriptions, not a hash of its
 * events.
 */
const BEHAVIOUR_RULES: ReadonlySet<SegmentRule['type']> = new Set(['product', 'received_marketing', 'almost_buyer']);

type ShopperKey = 'visitor_id' | 'external_user_id';
const SHOPPER_KEYS: readonly ShopperKey[] = ['visitor_id', 'external_user_id'];

/**
 * Compiles a rule tree into one condition over `subscriptions s` (the caller filters the site and
 * `status = 'active'`). Every value is a bound parameter. "Within N days" counts back from `at`
 * (a send's created_at, so every chunk of it resolves the same audience).
 *
 * Behaviour is matched per shopper: an event, cart or order counts for a subscription when it was
 * recorded under the subscription's visitor id or its external user id. Each such test is a pair
 * of EXISTS with one equality to `s` each (never an OR inside one), which Postgres may run either
 * as an index probe per subscription (a chunk of a send) or as one hashed scan (counting a whole
 * site): it picks by cost. Every rule's condition is true or false, never NULL, so `negate` is a
 * plain NOT.
 *
 * `siteId`, when given, filters the subqueries by that site directly (what lets one index range
 * serve the hashed scan); without it they follow `s.site_id`.
 */
export function segmentCondition(def: SegmentDefinition, at: Date, siteId?: string): Expression<SqlBool> {
  const site = (alias: string): RawBuilder<unknown> =>
    siteId !== undefined ? sql`${sql.ref(`${alias}.site_id`)} = ${siteId}::uuid` : sql`${sql.ref(`${alias}.site_id`)} = s.site_id`;
  const compile = (entry: SegmentRule | SegmentGroup): RawBuilder<SqlBool> => {
    if (isGroup(entry)) return combine(entry.match, entry.rules.map(compile));
    const compiled = ruleCondition(entry, at, site);
    // `IS TRUE` (the same value: no rule is ever NULL) keeps a subquery rule a subquery: Postgres
    // would otherwise turn a top-level (NOT) EXISTS or IN into a semi/anti join, and misjudged it
    // at a million rows (a nested loop over every click per subscriber: seconds, not milliseconds).
    const condition = BEHAVIOUR_RULES.has(entry.type) ? sql<SqlBool>`(${compiled} is true)` : compiled;
    return entry.negate ? sql<SqlBool>`(not ${condition})` : condition;
  };
  return combine(def.match, def.rules.map(compile));
}

function combine(how: 'all' | 'any', parts: Array<RawBuilder<SqlBool>>): RawBuilder<SqlBool> {
  if (parts.length === 1) return parts[0]!;
  return sql<SqlBool>`(${sql.join(parts, how === 'all' ? sql` and ` : sql` or `)})`;
}

/** The shopper's record under either key: `(exists … visitor_id …) or (exists … external_user_id …)`. */
function byEitherKey(subquery: (key: ShopperKey) => RawBuilder<unknown>): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.join(
    SHOPPER_KEYS.map((key) => sql`exists (${subquery(key)})`),
    sql` or `,
  )})`;
}

/**
 * The row (alias) is the subscription's shopper by `key`. `is not null` is implied by the equality,
 * but said: when Postgres reads the rows once to hash them, it keeps only rows that have the key
 * (and may use the partial index of rows with a user id).
 */
function shopperOf(alias: string, key: ShopperKey): RawBuilder<SqlBool> {
  return sql<SqlBool>`${sql.ref(`${alias}.${key}`)} is not null and ${sql.ref(`${alias}.${key}`)} = ${sql.ref(`s.${key}`)}`;
}

/** A nullable column among `values`: false (not NULL) when the column is NULL, so NOT means "is not". */
function columnIn(column: string, list: readonly string[]): RawBuilder<SqlBool> {
  if (list.length === 0) return sql<SqlBool>`false`;
  return sql<SqlBool>`(${sql.ref(column)} is not null and ${sql.ref(column)} = any(${list}::text[]))`;
}

/** jsonpath over a cart's items (`$.items[*]` of an event, `$[*]` of a cart row) for a product, with the path's vars. */
function itemPath(root: string, rule: { productId?: string | undefined; productIdPrefix?: string | undefined }, also?: string): { path: string; vars: string } {
  const tests: string[] = also ? [also] : [];
  let vars = {};
  if (rule.productId !== undefined) {
    tests.push('@.productId == $id');
    vars = { id: rule.productId };
  } else if (rule.productIdPrefix !== undefined) {
    tests.push('@.productId starts with $prefix');
    vars = { prefix: rule.productIdPrefix };
  }
  return { path: tests.length > 0 ? `${root} ? (${tests.join(' && ')})` : root, vars: JSON.stringify(vars) };
}

function productIdMatches(column: RawBuilder<unknown>, rule: { productId?: string | undefined; productIdPrefix?: string | undefined }): RawBuilder<SqlBool> {
  if (rule.productId !== undefined) return sql<SqlBool>`${column} = ${rule.productId}`;
  if (rule.productIdPrefix !== undefined) return sql<SqlBool>`${column} like ${likePrefix(rule.productIdPrefix)}`;
  return sql<SqlBool>`true`;
}

function ruleCondition(rule: SegmentRule, at: Date, site: (alias: string) => RawBuilder<unknown>): RawBuilder<SqlBool> {
  switch (rule.type) {
    case 'tag':
      // `@>` is what the tags' GIN index (jsonb_path_ops) answers; the filter is one key, built
      // with fromEntries so a key such as `__proto__` stays an ordinary key.
      return rule.op === 'equals'
        ? sql<SqlBool>`(s.tags @> ${JSON.stringify(Object.fromEntries([[rule.key, rule.value]]))}::jsonb)`
        : sql<SqlBool>`(s.tags ? ${rule.key})`;
    case 'locale':
      return columnIn('s.locale', rule.values);
    case 'language':
      return sql<SqlBool>`(s.locale is not null and lower(split_part(s.locale, '-', 1)) = any(${rule.values}::text[]))`;
    case 'time_zone':
      return columnIn('s.time_zone', rule.values);
    case 'country':
      return columnIn('s.time_zone', [...new Set(rule.values.flatMap((code) => COUNTRY_ZONES[code] ?? []))]);
    case 'browser':
      return columnIn('s.user_agent_family', rule.values);
    case 'subscribed':
      if (rule.op === 'within_days') return sql<SqlBool>`(s.created_at >= ${daysBefore(at, rule.days)}::timestamptz)`;
      return rule.op === 'before'
        ? sql<SqlBool>`(s.created_at < ${new Date(rule.at)}::timestamptz)`
        : sql<SqlBool>`(s.created_at > ${new Date(rule.at)}::timestamptz)`;
    case 'last_seen':
      return sql<SqlBool>`(s.last_seen_at >= ${daysBefore(at, rule.days)}::timestamptz)`;
    case 'product':
      return productCondition(rule, at, site);
    case 'clicked':
      // Clicks are recorded per delivery, so per subscription (the browser that clicked).
      return rule.op === 'within_days' ? since('s.last_clicked_at', daysBefore(at, rule.days)) : sql<SqlBool>`(s.last_clicked_at is not null)`;
    case 'received_marketing':
      return sql<SqlBool>`exists (
        select 1 from deliveries d
        join notifications n on n.id = d.notification_id
        where d.status = 'sent' and d.sent_at >= ${new Date(at.getTime() - rule.hours * 3_600_000)}::timestamptz
          and n.kind = 'marketing' and ${site('n')} and d.subscription_id = s.id)`;
    case 'almost_buyer': {
      // A cart still open with something in it (an order closes it: markCartsOrdered), or a
      // checkout started with no order from the same shopper after it.
      // The latest checkout (by either key) had no order at or after it: then some checkout of the
      // window had none after it, and the other way round.
      const from = daysBefore(at, rule.days);
      return sql<SqlBool>`(${byEitherKey(
        (key) => sql`select 1 from carts c
          where ${site('c')} and c.status = 'open' and c.item_count > 0 and c.active_at >= ${from}::timestamptz
            and ${shopperOf('c', key)}`,
      )} or (${since('s.last_checkout_at', from)} and (s.last_ordered_at is null or s.last_ordered_at < s.last_checkout_at)))`;
    }
    case 'orders':
      return sql<SqlBool>`(s.orders_count >= ${rule.count}::int)`;
    case 'spent':
      // Someone who never ordered spent nothing: "at least 0" still asks for an order.
      return sql<SqlBool>`(s.orders_count > 0 and s.orders_value >= ${rule.amount}::numeric)`;
  }
}

/** A nullable instant column at or after `from`: false, not NULL, when the column is NULL. */
function since(column: string, from: Date): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(column)} is not null and ${sql.ref(column)} >= ${from}::timestamptz)`;
}

function productCondition(
  rule: Extract<SegmentRule, { type: 'product' }>,
  at: Date,
  site: (alias: string) => RawBuilder<unknown>,
): RawBuilder<SqlBool> {
  const from = daysBefore(at, rule.days);
  if (rule.productId === undefined && rule.productIdPrefix === undefined && rule.action !== 'watched') {
    // Any product: the shopper's latest such event, kept on the subscription.
    return since({ viewed: 's.last_viewed_at', carted: 's.last_carted_at', ordered: 's.last_ordered_at' }[rule.action], from);
  }
  switch (rule.action) {
    case 'viewed':
      return byEitherKey(
        (key) => sql`select 1 from events e
          where ${site('e')} and e.type = 'product_viewed' and e.created_at >= ${from}::timestamptz
            and ${productIdMatches(sql`(e.properties->>'productId')`, rule)}
            and ${shopperOf('e', key)}`,
      );
    case 'carted': {
      // A cart_updated event that held the product (quantity above zero), as it was then.
      const { path, vars } = itemPath('$.items[*]', rule, '@.quantity > 0');
      return byEitherKey(
        (key) => sql`select 1 from events e
          where ${site('e')} and e.type = 'cart_updated' and e.created_at >= ${from}::timestamptz
            and jsonb_path_exists(e.properties, ${path}::jsonpath, ${vars}::jsonb)
            and ${shopperOf('e', key)}`,
      );
    }
    case 'watched':
      // Watches are asked for from the page, by visitor id; updated_at is the last time they asked.
      return sql<SqlBool>`exists (select 1 from watches w
        where ${site('w')} and w.updated_at >= ${from}::timestamptz
          and ${productIdMatches(sql`w.product_id`, rule)}
          and w.visitor_id = s.visitor_id)`;
    case 'ordered': {
      // order_completed names no products: they are the order's own `items` when the shop sends
      // them, else the items of the cart it names (`cartId`).
      const inOrder = itemPath('$.items[*]', rule);
      const inCart = itemPath('$[*]', rule);
      return byEitherKey(
        (key) => sql`select 1 from events e
          where ${site('e')} and e.type = 'order_completed' and e.created_at >= ${from}::timestamptz
            and (jsonb_path_exists(e.properties, ${inOrder.path}::jsonpath, ${inOrder.vars}::jsonb)
              or exists (select 1 from carts c where c.site_id = e.site_id and c.cart_id = e.properties->>'cartId'
                and jsonb_path_exists(c.items, ${inCart.path}::jsonpath, ${inCart.vars}::jsonb)))
            and ${shopperOf('e', key)}`,
      );
    }
  }
}

/** The definition in plain words, for the dashboard: "Subscribers who speak de (any region) and viewed …". */
export function describeSegment(def: SegmentDefinition): string {
  const parts = def.rules.map((entry) =>
    isGroup(entry) ? `(${joinWords(entry.match, entry.rules.map(describeRule))})` : describeRule(entry),
  );
  return `Subscribers who ${joinWords(def.match, parts)}`;
}

function joinWords(how: 'all' | 'any', parts: string[]): string {
  if (parts.length === 1) return parts[0]!;
  const last = parts[parts.length - 1]!;
  return `${parts.slice(0, -1).join(', ')} ${how === 'all' ? 'and' : 'or'} ${last}`;
}

function list(items: readonly string[], quote = false): string {
  const shown = items.map((item) => (quote ? `“${item}”` : item));
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]!}`;
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

function describeRule(rule: SegmentRule): string {
  const not = rule.negate === true;
  const inLast = (count: number, unit: string) => `in the last ${plural(count, unit)}`;
  switch (rule.type) {
    case 'tag':
      return `${not ? 'do not have' : 'have'} the tag “${rule.key}”${rule.op === 'equals' ? ` set to ${JSON.stringify(rule.value)}` : ''}`;
    case 'locale':
      return `${not ? 'do not use' : 'use'} the locale ${list(rule.values)}`;
    case 'language':
      return `${not ? 'do not speak' : 'speak'} ${list(rule.values)} (any region)`;
    case 'time_zone':
      return `${not ? 'are not' : 'are'} in the time zone ${list(rule.values)}`;
    case 'country':
      return `${not ? 'are not' : 'are'} in ${list(rule.values)} (by time zone)`;
    case 'browser':
      return `${not ? 'do not use' : 'use'} ${list(rule.values)}`;
    case 'subscribed':
      return `${not ? 'did not subscribe' : 'subscribed'} ${rule.op === 'within_days' ? inLast(rule.days, 'day') : `${rule.op} ${rule.at}`}`;
    case 'last_seen':
      return `${not ? 'have not been' : 'were'} seen ${inLast(rule.days, 'day')}`;
    case 'product': {
      const what =
        rule.productId !== undefined
          ? `the product “${rule.productId}”`
          : rule.productIdPrefix !== undefined
            ? `a product whose id starts with “${rule.productIdPrefix}”`
            : 'any product';
      const verb = { viewed: 'viewed', carted: 'added', watched: 'watched', ordered: 'ordered' }[rule.action];
      const base = { viewed: 'view', carted: 'add', watched: 'watch', ordered: 'order' }[rule.action];
      return `${not ? `did not ${base}` : verb} ${what}${rule.action === 'carted' ? ' to the cart' : ''} ${inLast(rule.days, 'day')}`;
    }
    case 'clicked':
      if (rule.op === 'ever') return not ? 'never clicked a push' : 'clicked a push at some time';
      return `${not ? 'did not click' : 'clicked'} a push ${inLast(rule.days, 'day')}`;
    case 'almost_buyer':
      return `${not ? 'are not' : 'are'} almost buyers (carted or started checkout ${inLast(rule.days, 'day')} without ordering since)`;
    case 'orders':
      return not ? `ordered fewer than ${plural(rule.count, 'time')}` : `ordered at least ${plural(rule.count, 'time')}`;
    case 'spent':
      return `${not ? 'spent less than' : 'spent at least'} ${rule.amount} in total`;
    case 'received_marketing':
      return `${not ? 'did not receive' : 'received'} a marketing push ${inLast(rule.hours, 'hour')}`;
  }
}
