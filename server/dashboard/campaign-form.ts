/**
 * The campaign composer's form, both ways: a stored definition as the form's fields, and posted
 * fields as a campaign definition checked by the API's own schema (campaignInputSchema), so the
 * form refuses exactly what `POST /v1/campaigns` refuses, with each problem beside its field.
 *
 * Times are typed as the shop's wall clock (a `datetime-local` field, "YYYY-MM-DDTHH:MM") in the
 * site's default zone and stored as instants; the local-time wave keeps its wall clock as typed.
 */
import type { z } from 'zod';
import { MAX_ACTIONS } from '../../service-worker/src/contract.ts';
import { campaignInputSchema, VARIANT_NAMES, type CampaignInput } from '../campaigns/campaign-input.ts';
import { localTimeInstant, wallClockAt } from '../delivery/time-zones.ts';
import { DEFAULT_TTL_SECONDS } from '../notifications/notification-input.ts';
import { canonicalLocale } from '../validation.ts';
import { issueWords } from './automation-routes.ts';
import { builderFields, builderFromFields, builderOfDefinition, definitionFromBuilder, isBuilderField } from './segment-form.ts';

/** Extra locale rows the composer shows (beyond those already written), and the most it reads back. */
export const BLANK_LOCALE_ROWS = 1;
const MAX_LOCALE_ROWS = 30;
/** Variant rows: A (empty: the campaign's text) and up to three more. */
export const VARIANT_ROWS = VARIANT_NAMES.length;

export type CampaignFields = Record<string, string>;

export interface CampaignFormState {
  values: CampaignFields;
  /** Problems per field name, in words. */
  errors: Record<string, string>;
  general: string[];
}

const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/;

/** An instant as the shop's wall clock for a `datetime-local` field. */
export function wallClockField(instant: string | Date, timeZone: string): string {
  const clock = wallClockAt(new Date(instant).getTime(), timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${clock.year}-${two(clock.month)}-${two(clock.day)}T${two(clock.hour)}:${two(clock.minute)}`;
}

/** "YYYY-MM-DDTHH:MM" typed by a person (seconds dropped), or undefined when it is no such time. */
function typedWallClock(raw: string): string | undefined {
  const match = WALL_CLOCK.exec(raw.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute] = match;
  const probe = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute)));
  if (probe.getUTCMonth() !== Number(month) - 1 || probe.getUTCDate() !== Number(day) || Number(hour) > 23) return undefined;
  return `${year}-${month}-${day}T${hour}:${minute}`;
}

/** A blank composer: everyone, sent when the owner says so, a day's TTL. */
export function blankCampaignFields(): CampaignFields {
  return {
    name: '',
    title: '',
    body: '',
    url: '',
    icon: '',
    image: '',
    ttlHours: String(DEFAULT_TTL_SECONDS / 3600),
    urgency: 'normal',
    audience: 'everyone',
    when: 'now',
    testPercent: '20',
    metric: 'clicks',
    decideAfterHours: '4',
    confidence: '0.95',
    fallback: 'leader',
  };
}

function hoursText(seconds: number): string {
  const hours = seconds / 3600;
  return Number.isInteger(hours) ? String(hours) : String(Math.round(hours * 100) / 100);
}

/** A stored definition as the composer's fields. */
export function campaignFields(definition: CampaignInput, timeZone: string): CampaignFields {
  const { content } = definition;
  const values: CampaignFields = {
    ...blankCampaignFields(),
    name: definition.name,
    title: content.title,
    body: content.body,
    url: content.url,
    icon: content.icon ?? '',
    image: content.image ?? '',
    ttlHours: hoursText(definition.ttl),
    urgency: definition.urgency,
    ...(definition.sendAtBestHour ? { sendAtBestHour: 'on' } : {}),
  };
  content.actions?.forEach((action, i) => {
    values[`actions.${i}.title`] = action.title;
    values[`actions.${i}.url`] = action.url ?? '';
  });
  Object.entries(definition.localized ?? {}).forEach(([locale, texts], i) => {
    values[`localized.${i}.locale`] = locale;
    values[`localized.${i}.title`] = texts.title;
    values[`localized.${i}.body`] = texts.body;
  });
  const { audience } = definition;
  if (audience.tags && Object.keys(audience).filter((key) => audience[key as keyof typeof audience] !== undefined).length === 1) {
    const [key, value] = Object.entries(audience.tags)[0]!;
    Object.assign(values, { audience: 'tag', tagKey: key, tagValue: String(value) });
  } else if (audience.segmentId !== undefined) {
    Object.assign(values, { audience: 'segment', segmentId: audience.segmentId });
  } else if (audience.segment !== undefined) {
    Object.assign(values, { audience: 'rules' }, builderFields(builderOfDefinition(audience.segment, timeZone)));
  } else if (!audience.all) {
    // Chosen through the API (subscription ids, external ids, several tags): kept as it is.
    values.audience = 'kept';
  }
  const schedule = definition.schedule;
  if (schedule && 'at' in schedule) Object.assign(values, { when: 'at', at: wallClockField(schedule.at, timeZone) });
  else if (schedule && 'localTime' in schedule) Object.assign(values, { when: 'local', localTime: schedule.localTime });
  if (definition.endsAt) values.endsAt = wallClockField(definition.endsAt, timeZone);
  const test = definition.abTest;
  if (test) {
    values.ab = 'on';
    test.variants.forEach((variant, i) => {
      values[`variants.${i}.title`] = variant.title ?? '';
      values[`variants.${i}.body`] = variant.body ?? '';
    });
    Object.assign(values, {
      testPercent: String(test.testPercent),
      metric: test.metric,
      decideAfterHours: test.decideAfterHours !== undefined ? String(test.decideAfterHours) : test.decideAt ? '' : '4',
      confidence: String(test.confidence),
      fallback: test.fallback,
    });
  }
  return values;
}

/** How many locale rows the posted form or stored fields hold (their highest index + 1). */
export function localeRowCount(values: CampaignFields): number {
  let count = 0;
  for (let i = 0; i < MAX_LOCALE_ROWS; i++) if (`localized.${i}.locale` in values || `localized.${i}.title` in values) count = i + 1;
  return count;
}

/** The posted fields the composer owns, kept as typed for drawing the form again. */
export function postedCampaignFields(fields: Record<string, string>): CampaignFields {
  const owned = /^(name|title|body|url|icon|image|ttlHours|urgency|sendAtBestHour|audience|tagKey|tagValue|segmentId|when|at|localTime|endsAt|ab|testPercent|metric|decideAfterHours|confidence|fallback|actions\.\d\.(title|url)|localized\.\d{1,2}\.(locale|title|body)|variants\.\d\.(title|body))$/;
  return Object.fromEntries(Object.entries(fields).filter(([name]) => owned.test(name) || isBuilderField(name)).map(([name, value]) => [name, value.replace(/\r\n?/g, '\n')]));
}

const trimmed = (values: CampaignFields, name: string) => (values[name] ?? '').trim();
const optional = (values: CampaignFields, name: string) => trimmed(values, name) || undefined;

function wholeNumber(values: CampaignFields, name: string, errors: Record<string, string>): number | undefined {
  const raw = trimmed(values, name).replace(',', '.');
  if (raw === '') {
    errors[name] = 'Enter a number.';
    return undefined;
  }
  if (!/^\d+(?:\.\d+)?$/.test(raw)) {
    errors[name] = `“${trimmed(values, name)}” is not a number; enter digits only.`;
    return undefined;
  }
  return Number(raw);
}

/**
 * The posted composer as a campaign definition, or its problems. `kept` is the stored definition
 * when editing: what the form does not show (an audience chosen through the API, the badge, the
 * topic, the wave's fallback zone) stays as it was.
 */
export function campaignFromFields(values: CampaignFields, timeZone: string, kept?: CampaignInput): { definition: CampaignInput } | { form: CampaignFormState } {
  const errors: Record<string, string> = {};
  const general: string[] = [];

  const actions: Array<{ action: string; title: string; url?: string }> = [];
  for (let i = 0; i < MAX_ACTIONS; i++) {
    const title = trimmed(values, `actions.${i}.title`);
    const url = optional(values, `actions.${i}.url`);
    if (title === '' && !url) continue;
    if (title === '') errors[`actions.${i}.title`] = 'Give the button a label, or clear its link.';
    actions.push({ action: `button-${i + 1}`, title, ...(url ? { url } : {}) });
  }

  const localized: Record<string, { title: string; body: string }> = {};
  const localeRow = new Map<string, number>();
  for (let i = 0; i < localeRowCount(values); i++) {
    const raw = trimmed(values, `localized.${i}.locale`);
    const title = trimmed(values, `localized.${i}.title`);
    const body = values[`localized.${i}.body`] ?? '';
    if (raw === '' && title === '' && body.trim() === '') continue;
    const locale = canonicalLocale(raw);
    if (!locale) {
      errors[`localized.${i}.locale`] = raw === '' ? 'Enter the language, such as de or fr-CA.' : `“${raw}” is not a language tag. Use one such as de, fr-CA or pt-BR.`;
      continue;
    }
    if (localeRow.has(locale)) {
      errors[`localized.${i}.locale`] = `${locale} is already written above.`;
      continue;
    }
    localeRow.set(locale, i);
    localized[locale] = { title, body };
  }

  const ttlHours = wholeNumber(values, 'ttlHours', errors);
  let audience: CampaignInput['audience'] | undefined;
  switch (values.audience) {
    case 'tag': {
      const key = trimmed(values, 'tagKey');
      if (key === '') errors.tagKey = 'Enter the tag’s name, such as plan.';
      else audience = { tags: { [key]: trimmed(values, 'tagValue') } };
      break;
    }
    case 'segment': {
      // Whether the segment is the site's is the route's to check (it has the database).
      const id = trimmed(values, 'segmentId');
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) errors.segmentId = 'Choose a segment.';
      else audience = { segmentId: id };
      break;
    }
    case 'rules': {
      const built = definitionFromBuilder(builderFromFields(values), timeZone);
      if ('errors' in built) Object.assign(errors, built.errors);
      else audience = { segment: built.definition };
      break;
    }
    case 'kept':
      if (kept) audience = kept.audience;
      else errors.audience = 'Choose who gets it.';
      break;
    default:
      audience = { all: true };
  }

  let schedule: CampaignInput['schedule'] = null;
  if (values.when === 'at') {
    const at = typedWallClock(values.at ?? '');
    if (!at) errors.at = 'Choose a date and a time.';
    else schedule = { at: localTimeInstant(at, timeZone).toISOString() };
  } else if (values.when === 'local') {
    const localTime = typedWallClock(values.localTime ?? '');
    if (!localTime) errors.localTime = 'Choose a date and a time.';
    else {
      const fallback = kept?.schedule && 'localTime' in kept.schedule ? kept.schedule.fallbackTimeZone : undefined;
      schedule = { localTime, ...(fallback ? { fallbackTimeZone: fallback } : {}) };
    }
  }
  let endsAt: string | null = null;
  if (trimmed(values, 'endsAt') !== '') {
    const end = typedWallClock(values.endsAt ?? '');
    if (!end) errors.endsAt = 'Choose a date and a time, or leave it empty.';
    else endsAt = localTimeInstant(end, timeZone).toISOString();
  }

  let abTest: Record<string, unknown> | null = null;
  if (values.ab === 'on') {
    const variants: Array<{ title?: string; body?: string }> = [];
    for (let i = 0; i < VARIANT_ROWS; i++) {
      const title = trimmed(values, `variants.${i}.title`);
      const body = values[`variants.${i}.body`] ?? '';
      // Variant A may be left empty: it is the campaign's text as written above.
      if (i > 0 && title === '' && body.trim() === '') continue;
      variants.push({ ...(title ? { title } : {}), ...(body.trim() ? { body } : {}) });
    }
    if (variants.length < 2) errors['variants.1.title'] = 'Write at least variant B’s title for an A/B test.';
    abTest = {
      variants,
      testPercent: wholeNumber(values, 'testPercent', errors),
      metric: values.metric === 'conversions' ? 'conversions' : 'clicks',
      decideAfterHours: wholeNumber(values, 'decideAfterHours', errors),
      confidence: Number(values.confidence ?? '0.95'),
      fallback: values.fallback,
    };
  }

  const keptContent = kept ? { ...(kept.content.badge ? { badge: kept.content.badge } : {}), ...(kept.content.requireInteraction !== undefined ? { requireInteraction: kept.content.requireInteraction } : {}) } : {};
  const raw = {
    name: values.name ?? '',
    content: {
      ...keptContent,
      title: values.title ?? '',
      body: values.body ?? '',
      url: trimmed(values, 'url'),
      ...(optional(values, 'icon') ? { icon: optional(values, 'icon') } : {}),
      ...(optional(values, 'image') ? { image: optional(values, 'image') } : {}),
      ...(actions.length > 0 ? { actions } : {}),
    },
    ...(Object.keys(localized).length > 0 ? { localized } : {}),
    ttl: ttlHours === undefined ? undefined : Math.round(ttlHours * 3600),
    urgency: values.urgency,
    ...(values.sendAtBestHour === 'on' ? { sendAtBestHour: true } : {}),
    ...(kept?.topic ? { topic: kept.topic } : {}),
    audience: audience ?? { all: true },
    schedule,
    endsAt,
    abTest,
  };
  const parsed = campaignInputSchema.safeParse(raw);
  if (parsed.success && Object.keys(errors).length === 0) return { definition: parsed.data };
  if (!parsed.success) placeCampaignIssues(issueWords(parsed.error.issues), localeRow, errors, general);
  return { form: { values, errors, general } };
}

/** Where an issue of the definition's path sits in the form. */
export function fieldOfPath(path: string, localeRow: ReadonlyMap<string, number> = new Map()): string | undefined {
  const direct: Record<string, string> = {
    name: 'name',
    'content.title': 'title',
    'content.body': 'body',
    'content.url': 'url',
    'content.icon': 'icon',
    'content.image': 'image',
    ttl: 'ttlHours',
    urgency: 'urgency',
    sendAtBestHour: 'sendAtBestHour',
    'audience.tags': 'tagKey',
    'audience.segmentId': 'segmentId',
    'schedule.at': 'at',
    'schedule.localTime': 'localTime',
    endsAt: 'endsAt',
    'abTest.testPercent': 'testPercent',
    'abTest.decideAfterHours': 'decideAfterHours',
    'abTest.confidence': 'confidence',
    'abTest.fallback': 'fallback',
    'abTest.metric': 'metric',
    'abTest.variants': 'variants.1.title',
  };
  if (direct[path]) return direct[path];
  let match = /^content\.actions\.(\d)\.(title|url)/.exec(path);
  if (match) return `actions.${match[1]}.${match[2]}`;
  if (path.startsWith('content.actions')) return 'actions.0.title';
  match = /^abTest\.variants\.(\d)\.(title|body)/.exec(path);
  if (match) return `variants.${match[1]}.${match[2]}`;
  match = /^localized\.([^.]+)\.(title|body)/.exec(path);
  if (match && localeRow.has(match[1]!)) return `localized.${localeRow.get(match[1]!)}.${match[2]}`;
  if (path.startsWith('audience.segment')) return 'match';
  if (path.startsWith('audience')) return 'tagKey';
  return undefined;
}

const FIELD_WORDS: Record<string, string> = { 'abTest.decideAt': 'Decision time', endsAt: 'End' };

function placeCampaignIssues(issues: Array<{ path: string; message: string }>, localeRow: ReadonlyMap<string, number>, errors: Record<string, string>, general: string[]): void {
  for (const issue of issues) {
    const field = fieldOfPath(issue.path, localeRow);
    if (field && errors[field] === undefined) errors[field] = sentence(issue.message);
    else if (!field) general.push(sentence(issue.path ? `${FIELD_WORDS[issue.path] ?? issue.path}: ${issue.message}` : issue.message));
  }
}

/** A domain refusal (`endsAt: must be in the future`) beside its field, else for the whole form. */
export function placeDomainMessage(message: string, form: CampaignFormState): CampaignFormState {
  const [path, ...rest] = message.split(': ');
  const field = rest.length > 0 ? fieldOfPath(path!) : undefined;
  if (field) return { ...form, errors: { ...form.errors, [field]: sentence(rest.join(': ')) } };
  return { ...form, general: [...form.general, sentence(message)] };
}

export function sentence(text: string): string {
  const trimmedText = text.trim();
  const capital = trimmedText.charAt(0).toUpperCase() + trimmedText.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

export type CampaignIssues = readonly z.core.$ZodIssue[];
