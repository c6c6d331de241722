/**
 * The segment builder's form, both ways: a stored definition (segment-rules.ts) as rows of fields,
 * and posted rows as a definition checked by the API's own schema (segmentDefinitionSchema), so the
 * builder refuses exactly what `POST /v1/segments` refuses, with each problem beside its field.
 *
 * Field names: `match`; top-level rules `rules.N.FIELD`; groups (one level, "any of these…")
 * `groups.K.match` and `groups.K.rules.N.FIELD`. The same names serve the segment pages and the
 * campaign composer's "rules written here" (no composer field is called so). A row whose type is
 * empty is a spare row, ignored: the page without JavaScript shows spare rows to fill in.
 */
import { segmentDefinitionSchema, type SegmentDefinition, type SegmentGroup, type SegmentRule } from '../segments/segment-rules.ts';
import { localTimeInstant } from '../delivery/time-zones.ts';
import { issueWords } from './automation-routes.ts';
import { wallClockField } from './campaign-form.ts';

/** Spare rows a new builder starts with, and spare rows of a new group. */
export const BLANK_RULE_ROWS = 3;
export const BLANK_GROUP_ROWS = 2;
/** The most rows (and groups) read from a post: the schema's bound is 20 rules. */
const MAX_ROWS = 40;

/** The row types of the builder's select: a rule type of segment-rules.ts, split where the form asks different things. */
export const RULE_TYPES = [
  'tag_equals',
  'tag_exists',
  'locale',
  'language',
  'time_zone',
  'country',
  'browser',
  'subscribed_before',
  'subscribed_after',
  'subscribed_within',
  'last_seen',
  'viewed',
  'carted',
  'watched',
  'ordered',
  'clicked_within',
  'clicked_ever',
  'clicked_never',
  'almost_buyer',
  'orders',
  'spent',
  'received_marketing',
] as const;
export type RuleType = (typeof RULE_TYPES)[number];

/** The inputs of a row, and which types show each. */
export const ROW_INPUTS = ['key', 'valueKind', 'value', 'values', 'at', 'productMatch', 'product', 'days', 'count', 'amount', 'hours'] as const;
export type RowInput = (typeof ROW_INPUTS)[number];

export const INPUT_TYPES: Record<RowInput, readonly RuleType[]> = {
  key: ['tag_equals', 'tag_exists'],
  valueKind: ['tag_equals'],
  value: ['tag_equals'],
  values: ['locale', 'language', 'time_zone', 'country', 'browser'],
  at: ['subscribed_before', 'subscribed_after'],
  productMatch: ['viewed', 'carted', 'watched', 'ordered'],
  product: ['viewed', 'carted', 'watched', 'ordered'],
  days: ['subscribed_within', 'last_seen', 'viewed', 'carted', 'watched', 'ordered', 'clicked_within', 'almost_buyer'],
  count: ['orders'],
  amount: ['spent'],
  hours: ['received_marketing'],
};

export interface RuleRow {
  type: RuleType | '';
  negate: boolean;
  fields: Partial<Record<RowInput, string>>;
}

export interface GroupBlock {
  match: 'all' | 'any';
  rows: RuleRow[];
}

export interface BuilderState {
  match: 'all' | 'any';
  rows: RuleRow[];
  groups: GroupBlock[];
}

export type BuilderErrors = Record<string, string>;

export const blankRow = (): RuleRow => ({ type: '', negate: false, fields: {} });

export function blankBuilder(): BuilderState {
  return { match: 'all', rows: Array.from({ length: BLANK_RULE_ROWS }, blankRow), groups: [] };
}

export function blankGroup(): GroupBlock {
  return { match: 'any', rows: Array.from({ length: BLANK_GROUP_ROWS }, blankRow) };
}

const isRuleType = (value: string | undefined): value is RuleType => (RULE_TYPES as readonly string[]).includes(value ?? '');
const matchOf = (value: string | undefined, fallback: 'all' | 'any'): 'all' | 'any' => (value === 'all' || value === 'any' ? value : fallback);

/** The indices posted under `prefix` (`rules.` → 0, 3, 7), in order: rows a script added or removed leave gaps. */
function indicesUnder(fields: Record<string, string>, prefix: string, leaf: string): number[] {
  const found = new Set<number>();
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}(\\d{1,3})\\.${leaf}$`);
  for (const name of Object.keys(fields)) {
    const match = pattern.exec(name);
    if (match) found.add(Number(match[1]));
  }
  return [...found].sort((a, b) => a - b).slice(0, MAX_ROWS);
}

function rowOf(fields: Record<string, string>, prefix: string): RuleRow {
  const type = fields[`${prefix}.type`];
  const row: RuleRow = { type: isRuleType(type) ? type : '', negate: fields[`${prefix}.negate`] === 'on', fields: {} };
  for (const input of ROW_INPUTS) {
    const value = fields[`${prefix}.${input}`];
    if (value !== undefined) row.fields[input] = value.slice(0, 2000);
  }
  return row;
}

/** Posted fields as the builder's rows, in the order they were on the page, renumbered from 0. */
export function builderFromFields(fields: Record<string, string>): BuilderState {
  return {
    match: matchOf(fields.match, 'all'),
    rows: indicesUnder(fields, 'rules.', 'type').map((i) => rowOf(fields, `rules.${i}`)),
    groups: indicesUnder(fields, 'groups.', 'match').map((k) => ({
      match: matchOf(fields[`groups.${k}.match`], 'any'),
      rows: indicesUnder(fields, `groups.${k}.rules.`, 'type').map((i) => rowOf(fields, `groups.${k}.rules.${i}`)),
    })),
  };
}

/** The builder's fields by name, for drawing it again or for a form that keeps them as values (the composer). */
export function builderFields(state: BuilderState): Record<string, string> {
  const fields: Record<string, string> = { match: state.match };
  const put = (prefix: string, row: RuleRow) => {
    fields[`${prefix}.type`] = row.type;
    if (row.negate) fields[`${prefix}.negate`] = 'on';
    for (const [input, value] of Object.entries(row.fields)) fields[`${prefix}.${input}`] = value;
  };
  state.rows.forEach((row, i) => put(`rules.${i}`, row));
  state.groups.forEach((group, k) => {
    fields[`groups.${k}.match`] = group.match;
    group.rows.forEach((row, i) => put(`groups.${k}.rules.${i}`, row));
  });
  return fields;
}

/** Whether a field name is one of the builder's. */
export function isBuilderField(name: string): boolean {
  return /^(match|rules\.\d{1,3}\.[A-Za-z]+|groups\.\d{1,3}\.(match|rules\.\d{1,3}\.[A-Za-z]+))$/.test(name);
}

/** What a button of the builder asks for (`intent`), applied to the state: one more row or group, one row fewer. */
export function applyBuilderIntent(state: BuilderState, intent: string | undefined): BuilderState | undefined {
  if (intent === 'add-rule') return { ...state, rows: [...state.rows, blankRow()] };
  if (intent === 'add-group') return { ...state, groups: [...state.groups, blankGroup()] };
  let match = /^add-rule:groups\.(\d{1,3})$/.exec(intent ?? '');
  if (match) {
    const k = Number(match[1]);
    return { ...state, groups: state.groups.map((group, i) => (i === k ? { ...group, rows: [...group.rows, blankRow()] } : group)) };
  }
  match = /^remove:rules\.(\d{1,3})$/.exec(intent ?? '');
  if (match) {
    const i = Number(match[1]);
    return { ...state, rows: state.rows.filter((_, n) => n !== i) };
  }
  match = /^remove:groups\.(\d{1,3})$/.exec(intent ?? '');
  if (match) {
    const k = Number(match[1]);
    return { ...state, groups: state.groups.filter((_, n) => n !== k) };
  }
  match = /^remove:groups\.(\d{1,3})\.rules\.(\d{1,3})$/.exec(intent ?? '');
  if (match) {
    const [k, i] = [Number(match[1]), Number(match[2])];
    return { ...state, groups: state.groups.map((group, n) => (n === k ? { ...group, rows: group.rows.filter((_, m) => m !== i) } : group)) };
  }
  return undefined;
}

function splitValues(raw: string): string[] {
  return raw
    .split(/[,;\n]/)
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

/** A whole number typed by a person, or the problem in words. */
function wholeNumber(raw: string | undefined): number | string {
  const text = (raw ?? '').trim();
  if (text === '') return 'Enter a number.';
  if (!/^\d{1,9}$/.test(text)) return `“${text}” is not a whole number; enter digits only.`;
  return Number(text);
}

/**
 * One row as a rule (not checked yet: the schema does that), or the problems of its fields. The
 * form's own checks are the ones the schema cannot say in a person's words (an empty box, a
 * number that is no number); everything else is the schema's.
 */
function ruleOfRow(row: RuleRow, prefix: string, timeZone: string, errors: BuilderErrors): Record<string, unknown> | undefined {
  const f = row.fields;
  const text = (input: RowInput) => (f[input] ?? '').trim();
  const negate = row.negate ? { negate: true } : {};
  const need = (input: RowInput, words: string): string | undefined => {
    const value = text(input);
    if (value === '') errors[`${prefix}.${input}`] = words;
    return value === '' ? undefined : value;
  };
  const number = (input: RowInput): number | undefined => {
    const value = wholeNumber(f[input]);
    if (typeof value === 'string') errors[`${prefix}.${input}`] = value;
    return typeof value === 'number' ? value : undefined;
  };
  switch (row.type) {
    case '':
      return undefined;
    case 'tag_equals': {
      const key = need('key', 'Enter the tag’s name, such as plan.');
      const raw = text('value');
      let value: string | number | boolean = raw;
      if (f.valueKind === 'number') {
        value = Number(raw.replace(',', '.'));
        if (raw === '' || !Number.isFinite(value)) errors[`${prefix}.value`] = `“${raw}” is not a number.`;
      } else if (f.valueKind === 'boolean') {
        if (raw !== 'true' && raw !== 'false') errors[`${prefix}.value`] = 'Enter true or false.';
        value = raw === 'true';
      }
      return { type: 'tag', key, op: 'equals', value, ...negate };
    }
    case 'tag_exists':
      return { type: 'tag', key: need('key', 'Enter the tag’s name, such as plan.'), op: 'exists', ...negate };
    case 'locale':
    case 'language':
    case 'time_zone':
    case 'country':
    case 'browser': {
      const examples = { locale: 'de-DE, fr-CA', language: 'de, fr', time_zone: 'Europe/Berlin', country: 'DE, AT', browser: 'Chrome, Firefox' }[row.type];
      const values = splitValues(f.values ?? '');
      if (values.length === 0) errors[`${prefix}.values`] = `Enter one or more, separated by commas, such as ${examples}.`;
      return { type: row.type, values, ...negate };
    }
    case 'subscribed_before':
    case 'subscribed_after': {
      const raw = text('at');
      const valid = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(raw) && !Number.isNaN(new Date(`${raw}:00Z`).getTime());
      if (!valid) errors[`${prefix}.at`] = 'Choose a date and a time.';
      return { type: 'subscribed', op: row.type === 'subscribed_before' ? 'before' : 'after', at: valid ? localTimeInstant(raw, timeZone).toISOString() : '', ...negate };
    }
    case 'subscribed_within':
      return { type: 'subscribed', op: 'within_days', days: number('days'), ...negate };
    case 'last_seen':
      return { type: 'last_seen', op: 'within_days', days: number('days'), ...negate };
    case 'viewed':
    case 'carted':
    case 'watched':
    case 'ordered': {
      const how = f.productMatch === 'id' || f.productMatch === 'prefix' ? f.productMatch : 'any';
      const product = how === 'any' ? undefined : need('product', how === 'id' ? 'Enter the product’s id.' : 'Enter the start of the ids, such as lamps-.');
      return {
        type: 'product',
        action: row.type,
        ...(product !== undefined ? (how === 'id' ? { productId: product } : { productIdPrefix: product }) : {}),
        days: number('days'),
        ...negate,
      };
    }
    case 'clicked_within':
      return { type: 'clicked', op: 'within_days', days: number('days'), ...negate };
    case 'clicked_ever':
      return { type: 'clicked', op: 'ever', ...negate };
    case 'clicked_never':
      // "Never clicked" is "clicked at some time", negated; "is not" on it is "clicked at some time".
      return { type: 'clicked', op: 'ever', ...(row.negate ? {} : { negate: true }) };
    case 'almost_buyer':
      return { type: 'almost_buyer', days: number('days'), ...negate };
    case 'orders':
      return { type: 'orders', op: 'at_least', count: number('count'), ...negate };
    case 'spent': {
      const raw = text('amount').replace(',', '.');
      const amount = Number(raw);
      if (raw === '' || !/^\d+(\.\d+)?$/.test(raw)) errors[`${prefix}.amount`] = raw === '' ? 'Enter an amount, such as 100.' : `“${text('amount')}” is not an amount; enter digits, such as 49.90.`;
      return { type: 'spent', op: 'at_least', amount, ...negate };
    }
    case 'received_marketing':
      return { type: 'received_marketing', hours: number('hours'), ...negate };
  }
}

/** Where a schema issue (`rules.2.days`, `rules.4.rules.0.values.1`) sits among the builder's fields. */
function fieldOfIssue(path: string, places: readonly string[], groupPlaces: ReadonlyArray<readonly string[] | undefined>): string | undefined {
  const match = /^rules\.(\d+)(?:\.rules\.(\d+))?(?:\.([A-Za-z]+))?/.exec(path);
  if (!match) return undefined;
  const index = Number(match[1]);
  let prefix = places[index];
  if (prefix === undefined) return undefined;
  if (match[2] !== undefined) {
    prefix = groupPlaces[index]?.[Number(match[2])];
    if (prefix === undefined) return undefined;
  } else if (/^groups\.\d+$/.test(prefix)) {
    return `${prefix}.match`;
  }
  const leaf = match[3] ?? '';
  const input = leaf === 'productId' || leaf === 'productIdPrefix' ? 'product' : (ROW_INPUTS as readonly string[]).includes(leaf) ? leaf : undefined;
  return input ? `${prefix}.${input}` : `${prefix}.type`;
}

/**
 * The builder's rows as a definition, or the problems by field name (and for the whole builder
 * under `match`). Spare rows are skipped; a group without a filled row too.
 */
export function definitionFromBuilder(state: BuilderState, timeZone: string): { definition: SegmentDefinition } | { errors: BuilderErrors } {
  const errors: BuilderErrors = {};
  const rules: unknown[] = [];
  // The builder field each entry of `rules` came from, for placing the schema's issues.
  const places: string[] = [];
  const groupPlaces: string[][] = [];
  state.rows.forEach((row, i) => {
    const rule = ruleOfRow(row, `rules.${i}`, timeZone, errors);
    if (rule) {
      rules.push(rule);
      places.push(`rules.${i}`);
    }
  });
  state.groups.forEach((group, k) => {
    const inner: unknown[] = [];
    const innerPlaces: string[] = [];
    group.rows.forEach((row, i) => {
      const rule = ruleOfRow(row, `groups.${k}.rules.${i}`, timeZone, errors);
      if (rule) {
        inner.push(rule);
        innerPlaces.push(`groups.${k}.rules.${i}`);
      }
    });
    if (inner.length === 0) return;
    rules.push({ match: group.match, rules: inner });
    places.push(`groups.${k}`);
    groupPlaces[places.length - 1] = innerPlaces;
  });
  if (rules.length === 0) {
    errors.match = 'Add at least one rule: choose what to match in a row below.';
    return { errors };
  }
  const parsed = segmentDefinitionSchema.safeParse({ match: state.match, rules });
  if (parsed.success && Object.keys(errors).length === 0) return { definition: parsed.data };
  if (!parsed.success) {
    for (const issue of issueWords(parsed.error.issues)) {
      const at = fieldOfIssue(issue.path, places, groupPlaces) ?? 'match';
      // The form's own words win: they name the same problem more plainly.
      if (errors[at] === undefined) errors[at] = sentenceOf(issue.message);
    }
  }
  return { errors };
}

function sentenceOf(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function rowOfRule(rule: SegmentRule, timeZone: string): RuleRow {
  const negate = rule.negate === true;
  switch (rule.type) {
    case 'tag':
      return rule.op === 'equals'
        ? { type: 'tag_equals', negate, fields: { key: rule.key, value: String(rule.value), valueKind: typeof rule.value === 'number' ? 'number' : typeof rule.value === 'boolean' ? 'boolean' : 'text' } }
        : { type: 'tag_exists', negate, fields: { key: rule.key } };
    case 'locale':
    case 'language':
    case 'time_zone':
    case 'country':
    case 'browser':
      return { type: rule.type, negate, fields: { values: rule.values.join(', ') } };
    case 'subscribed':
      return rule.op === 'within_days'
        ? { type: 'subscribed_within', negate, fields: { days: String(rule.days) } }
        : { type: rule.op === 'before' ? 'subscribed_before' : 'subscribed_after', negate, fields: { at: wallClockField(rule.at, timeZone) } };
    case 'last_seen':
      return { type: 'last_seen', negate, fields: { days: String(rule.days) } };
    case 'product': {
      const productMatch = rule.productId !== undefined ? 'id' : rule.productIdPrefix !== undefined ? 'prefix' : 'any';
      return { type: rule.action, negate, fields: { productMatch, product: rule.productId ?? rule.productIdPrefix ?? '', days: String(rule.days) } };
    }
    case 'clicked':
      if (rule.op === 'ever') return negate ? { type: 'clicked_never', negate: false, fields: {} } : { type: 'clicked_ever', negate: false, fields: {} };
      return { type: 'clicked_within', negate, fields: { days: String(rule.days) } };
    case 'almost_buyer':
      return { type: 'almost_buyer', negate, fields: { days: String(rule.days) } };
    case 'orders':
      return { type: 'orders', negate, fields: { count: String(rule.count) } };
    case 'spent':
      return { type: 'spent', negate, fields: { amount: String(rule.amount) } };
    case 'received_marketing':
      return { type: 'received_marketing', negate, fields: { hours: String(rule.hours) } };
  }
}

/** A stored definition as the builder's rows (top-level rules first, then the groups), with one spare row. */
export function builderOfDefinition(definition: SegmentDefinition, timeZone: string): BuilderState {
  const rows: RuleRow[] = [];
  const groups: GroupBlock[] = [];
  for (const entry of definition.rules) {
    if ('type' in entry) rows.push(rowOfRule(entry, timeZone));
    else groups.push({ match: (entry as SegmentGroup).match, rows: (entry as SegmentGroup).rules.map((rule) => rowOfRule(rule, timeZone)) });
  }
  rows.push(blankRow());
  return { match: definition.match, rows, groups };
}
