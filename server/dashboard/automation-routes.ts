/**
 * A shop's automations and their templates in the dashboard: the settings forms of the cart
 * reminders, price drops, back in stock and the shared sending rules, each beside its last 30 days;
 * the templates per key and locale with a preview of the notification. Every change goes through
 * `changeSiteSettings`, the function behind `PATCH /v1/settings`, so the forms refuse exactly what
 * the API refuses; a refused form is drawn again with the problems beside its fields, nothing stored.
 */
import type { Hono } from 'hono';
import type { z } from 'zod';
import type { AppDeps } from '../app-env.ts';
import { can } from '../accounts/roles.ts';
import { findSiteForMember } from '../db/memberships.ts';
import type { Role } from '../db/database.ts';
import type { SiteRow } from '../db/sites.ts';
import type { LiveSession } from '../db/sessions.ts';
import { dailyReport } from '../db/daily-stats.ts';
import { ApiError } from '../errors.ts';
import { userActor } from '../audit/audit-log.ts';
import { changeSiteSettings } from '../settings/change-settings.ts';
import { ORDER_UPDATE_TYPES, readSiteSettings, siteSettingsPatchSchema, type SiteSettings } from '../sites/site-settings.ts';
import { ratingAnswers } from '../db/order-updates.ts';
import { addWelcomeCodes, welcomeCodeCounts } from '../db/welcome.ts';
import { sentOccasionIds } from '../db/birthdays.ts';
import { listSegments } from '../db/segments.ts';
import { TEMPLATE_KEYS, type MessageTemplate, type TemplateKey } from '../sites/template-settings.ts';
import { MAX_ACTIONS } from '../../service-worker/src/contract.ts';
import { DEFAULT_TEMPLATES } from '../triggers/built-in-templates.ts';
import { canonicalLocale, issueDetails } from '../validation.ts';
import { addDays, localDate, localDays } from '../stats/local-days.ts';
import { dashboardAssets } from './assets/assets.ts';
import { DASHBOARD_PATH, type Html, type SignedInChrome } from './layout.ts';
import { notificationPreview, sampleContext } from './notification-preview.ts';
import { renderMessage } from '../triggers/template-rendering.ts';
import {
  automationsPage,
  AUTOMATION_SECTIONS,
  blankOccasion,
  OCCASION_FIELDS,
  OCCASION_ROW_FIELDS,
  OCCASION_TEXT_FIELDS,
  occasionRows,
  occasionTextRows,
  WELCOME_CODES_FIELD,
  templateEditorPage,
  templateListPage,
  type AutomationFigures,
  type AutomationSection,
  type FormState,
  type TemplateForm,
  type TemplateTestPush,
} from './pages/automation-pages.ts';
import type { OwnTestPush } from './test-push-routes.ts';
import type { DashboardContext, DashboardEnv, Refusal } from './routes.ts';

/** What routes.ts lends these routes: its page helpers and form checks. */
export interface AutomationRouteKit {
  now: () => Date;
  publicUrl: string;
  page: (c: DashboardContext, body: Html, status?: 200 | 403 | 404 | 422 | 429 | 500 | 503) => Promise<Response>;
  message: (c: DashboardContext, status: 403 | 404 | 500 | 503, heading: string, text: string, link?: { href: string; label: string }) => Promise<Response>;
  refuse: (c: DashboardContext, refusal: Refusal) => Promise<Response>;
  signedInPost: (c: DashboardContext) => Promise<{ refusal: Refusal } | { live: LiveSession; token: string; fields: Record<string, string> }>;
  toSignIn: (c: DashboardContext) => Response;
  chromeFor: (live: LiveSession, token: string) => Promise<{ chrome: SignedInChrome }>;
  /** The signed-in user's test push to their own browsers (test-push-routes.ts). */
  ownTestPush: OwnTestPush;
}

type Member = { site: SiteRow; role: Role };

/** The figures beside each automation cover this many days, ending today in the site's zone. */
const FIGURES_DAYS = 30;

const SOURCE_OF: Record<keyof AutomationFigures, string> = {
  cartReminders: 'cart_reminder',
  priceDrop: 'price_drop',
  backInStock: 'back_in_stock',
  orderUpdates: 'order_update',
  ratingRequest: 'rating_request',
  lowStock: 'low_stock',
  welcome: 'welcome',
  reactivation: 'reactivation',
  birthday: 'birthday',
};

// --- the automation forms: fields named by their settings path, so an API issue lands on its field ---

/** The form's values of every section, from stored settings. */
export function automationValues(settings: SiteSettings): Record<string, string> {
  const { cartReminders, priceDrop, backInStock, lowStock, engagement } = settings;
  const [first, second] = cartReminders.steps;
  return {
    'cartReminders.enabled': cartReminders.enabled ? 'on' : '',
    'cartReminders.steps.0.delayMinutes': String(first?.delayMinutes ?? ''),
    'cartReminders.steps.0.discountCode': first?.discountCode ?? '',
    'cartReminders.secondStep': second ? 'on' : '',
    'cartReminders.steps.1.delayMinutes': String(second?.delayMinutes ?? 24 * 60),
    'cartReminders.steps.1.discountCode': second?.discountCode ?? '',
    'cartReminders.holdoutPercent': String(cartReminders.holdoutPercent),
    'priceDrop.enabled': priceDrop.enabled ? 'on' : '',
    'priceDrop.thresholdPercent': String(priceDrop.thresholdPercent),
    'priceDrop.renotifyWindowHours': String(priceDrop.renotifyWindowHours),
    'priceDrop.holdoutPercent': String(priceDrop.holdoutPercent),
    'priceDrop.compareWith': priceDrop.compareWith,
    'backInStock.enabled': backInStock.enabled ? 'on' : '',
    'backInStock.holdoutPercent': String(backInStock.holdoutPercent),
    'orderUpdates.enabled': settings.orderUpdates.enabled ? 'on' : '',
    ...Object.fromEntries(ORDER_UPDATE_TYPES.map((type) => [`orderUpdates.types.${type}`, settings.orderUpdates.types[type] ? 'on' : ''])),
    'orderUpdates.orderPageUrl': settings.orderUpdates.orderPageUrl ?? '',
    'ratingRequest.enabled': settings.ratingRequest.enabled ? 'on' : '',
    'ratingRequest.delayDays': String(settings.ratingRequest.delayDays),
    'ratingRequest.pageUrl': settings.ratingRequest.pageUrl ?? '',
    'ratingRequest.holdoutPercent': String(settings.ratingRequest.holdoutPercent),
    'lowStock.enabled': lowStock.enabled ? 'on' : '',
    'lowStock.threshold': String(lowStock.threshold),
    'lowStock.withinDays': String(lowStock.withinDays),
    'lowStock.holdoutPercent': String(lowStock.holdoutPercent),
    'welcome.enabled': settings.welcome.enabled ? 'on' : '',
    'welcome.delayMinutes': String(settings.welcome.delayMinutes),
    'welcome.codeMode': settings.welcome.codeMode,
    'welcome.code': settings.welcome.code ?? '',
    'welcome.holdoutPercent': String(settings.welcome.holdoutPercent),
    'reactivation.enabled': settings.reactivation.enabled ? 'on' : '',
    'reactivation.afterDays': String(settings.reactivation.afterDays),
    'reactivation.quietForDays': String(settings.reactivation.quietForDays),
    'reactivation.code': settings.reactivation.code ?? '',
    'reactivation.holdoutPercent': String(settings.reactivation.holdoutPercent),
    'lowStock.sendAtBestHour': lowStock.sendAtBestHour ? 'on' : '',
    'priceDrop.sendAtBestHour': priceDrop.sendAtBestHour ? 'on' : '',
    'backInStock.sendAtBestHour': backInStock.sendAtBestHour ? 'on' : '',
    'ratingRequest.sendAtBestHour': settings.ratingRequest.sendAtBestHour ? 'on' : '',
    'birthday.enabled': settings.birthday.enabled ? 'on' : '',
    'birthday.sendAtBestHour': settings.birthday.sendAtBestHour ? 'on' : '',
    'birthday.localTime': settings.birthday.localTime,
    'birthday.discountCode': settings.birthday.discountCode ?? '',
    'birthday.holdoutPercent': String(settings.birthday.holdoutPercent),
    ...occasionValues(settings.occasions.list, settings.defaultLocale),
    'engagement.frequencyCap.marketingPer24h': String(engagement.frequencyCap.marketingPer24h),
    'engagement.budget.enabled': engagement.budget.enabled ? 'on' : '',
    'engagement.budget.ignoredPerHalving': String(engagement.budget.ignoredPerHalving),
    'engagement.budget.minPerWeek': String(engagement.budget.minPerWeek),
    'engagement.bestHour.minOwnDataPoints': String(engagement.bestHour.minOwnDataPoints),
    'engagement.quietHours.enabled': engagement.quietHours.enabled ? 'on' : '',
    'engagement.quietHours.start': engagement.quietHours.start,
    'engagement.quietHours.end': engagement.quietHours.end,
    'engagement.defaultTimeZone': engagement.defaultTimeZone,
  };
}

/**
 * The stored occasions as the form's rows, each text a row of its own: the shop's default locale
 * first (English unless changed), the others by tag (jsonb keeps no order of its own).
 */
function occasionValues(list: SiteSettings['occasions']['list'], defaultLocale: string): Record<string, string> {
  const values: Record<string, string> = {};
  list.forEach((occasion, row) => {
    const at = `${OCCASION_FIELDS}.${row}`;
    Object.assign(values, {
      [`${at}.id`]: occasion.id,
      [`${at}.name`]: occasion.name,
      [`${at}.day`]: String(occasion.day),
      [`${at}.month`]: String(occasion.month),
      [`${at}.year`]: occasion.year === undefined ? '' : String(occasion.year),
      [`${at}.localTime`]: occasion.localTime,
      [`${at}.segmentId`]: occasion.segmentId ?? '',
      [`${at}.url`]: occasion.url ?? '',
      [`${at}.enabled`]: occasion.enabled ? 'on' : '',
    });
    const byLocale = Object.entries(occasion.texts).sort(([a], [b]) => (a === defaultLocale ? -1 : b === defaultLocale ? 1 : a.localeCompare(b)));
    byLocale.forEach(([locale, texts], j) => {
      values[`${at}.texts.${j}.locale`] = locale;
      values[`${at}.texts.${j}.title`] = texts.title;
      values[`${at}.texts.${j}.body`] = texts.body;
    });
  });
  return values;
}

/**
 * Every field name of the posted occasion rows (a checkbox left unticked is not posted, and must
 * still come back unticked), so a refused post is drawn again with exactly what was typed.
 */
export function occasionFieldNames(fields: Record<string, string>): string[] {
  const names = new Set(Object.keys(fields).filter((name) => name.startsWith(`${OCCASION_FIELDS}.`)));
  for (const row of occasionRows(fields)) {
    for (const field of OCCASION_ROW_FIELDS) names.add(`${OCCASION_FIELDS}.${row}.${field}`);
    for (const j of occasionTextRows(fields, row)) for (const field of OCCASION_TEXT_FIELDS) names.add(`${OCCASION_FIELDS}.${row}.texts.${j}.${field}`);
  }
  return [...names];
}

/**
 * A new occasion's id from its name: lowercase ASCII letters, digits and dashes ("Sinterklaas
 * Día" → "sinterklaas-dia"), unique among `taken`. An existing occasion keeps its id, which keys
 * "once a year": a renamed one is not sent a second time.
 */
export function occasionIdFrom(name: string, taken: ReadonlySet<string>): string {
  const slug =
    name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 36)
      .replace(/-+$/, '') || 'occasion';
  if (!taken.has(slug)) return slug;
  for (let n = 2; ; n += 1) if (!taken.has(`${slug}-${n}`)) return `${slug}-${n}`;
}

/**
 * The occasion rows as the settings' list, or the problems the schema cannot name (a month not
 * chosen, a day not a number, a language tag that is none) and those it would only name after
 * these are fixed (no name, no text), so a half-typed row shows all it lacks at once. A blank row
 * (nothing typed or changed from what a new row starts with) and a row to remove are left out.
 * A new row's id is made unique among the posted ids and `sentIds`, the ids this site's occasions
 * were ever sent under: a removed occasion's id reused would find this year's send claimed.
 * `fieldOf` turns the list's settings paths (`occasions.list.1.texts.de.title`) into the fields
 * they came from, as rows left out and texts keyed by locale shift them.
 */
function occasionsPatch(
  fields: Record<string, string>,
  errors: Record<string, string>,
  sentIds: Iterable<string>,
): { list: Array<Record<string, unknown>>; fieldOf: Record<string, string> } {
  const list: Array<Record<string, unknown>> = [];
  const fieldOf: Record<string, string> = {};
  const rows = occasionRows(fields);
  const value = (name: string) => (fields[name] ?? '').trim();
  const taken = new Set([...sentIds, ...rows.map((row) => value(`${OCCASION_FIELDS}.${row}.id`)).filter((id) => id !== '')]);
  for (const row of rows) {
    const at = `${OCCASION_FIELDS}.${row}`;
    const textRows = occasionTextRows(fields, row);
    if (checked(fields, `${at}.remove`)) continue;
    const hasText = textRows.some((j) => value(`${at}.texts.${j}.title`) !== '' || value(`${at}.texts.${j}.body`) !== '');
    // A time, audience or switch changed from what a new row starts with is typed too: such a
    // row dropped would lose the owner's change without a word.
    const start = blankOccasion(row, '');
    const changed = (field: 'localTime' | 'segmentId') => fields[`${at}.${field}`] !== undefined && value(`${at}.${field}`) !== start[`${at}.${field}`];
    const typed =
      ['name', 'day', 'month', 'year', 'url'].some((field) => value(`${at}.${field}`) !== '') || hasText || changed('localTime') || changed('segmentId') || checked(fields, `${at}.enabled`) !== (start[`${at}.enabled`] === 'on');
    if (!typed && value(`${at}.id`) === '') continue;
    if (value(`${at}.name`) === '') errors[`${at}.name`] = 'Enter a name, such as Black Friday.';
    if (!hasText) errors[`${at}.texts.${textRows[0] ?? 0}.title`] = 'Give the text in at least one locale.';

    const k = list.length;
    const from = `${OCCASION_FIELDS}.${k}`;
    for (const field of ['name', 'day', 'month', 'year', 'localTime', 'segmentId', 'url', 'enabled']) fieldOf[`${from}.${field}`] = `${at}.${field}`;
    // The id is not a field: a refused one (only ever a hand-made post) is named beside the name.
    fieldOf[`${from}.id`] = `${at}.name`;
    fieldOf[`${from}`] = `${at}.name`;

    let id = value(`${at}.id`);
    if (id === '') {
      id = occasionIdFrom(value(`${at}.name`), taken);
      taken.add(id);
    }
    const day = numberIn(fields, `${at}.day`, errors);
    let month: number | undefined;
    if (value(`${at}.month`) === '') errors[`${at}.month`] = 'Choose a month.';
    else month = numberIn(fields, `${at}.month`, errors);
    const year = value(`${at}.year`) === '' ? undefined : numberIn(fields, `${at}.year`, errors);

    const texts: Record<string, { title: string; body: string }> = {};
    const localeRow = new Map<string, number>();
    for (const j of textRows) {
      const title = fields[`${at}.texts.${j}.title`] ?? '';
      const body = (fields[`${at}.texts.${j}.body`] ?? '').trim();
      if (title.trim() === '' && body === '') continue;
      const localeField = `${at}.texts.${j}.locale`;
      const tag = value(localeField);
      const locale = canonicalLocale(tag);
      if (tag === '') errors[localeField] = 'Enter a language tag, such as en or de.';
      else if (!locale) errors[localeField] = `“${tag}” is not a language tag; use one such as en, de or fr-BE.`;
      else if (localeRow.has(locale)) errors[localeField] = `${locale} has a text above already; give each language once.`;
      else {
        localeRow.set(locale, j);
        texts[locale] = { title, body };
        fieldOf[`${from}.texts.${locale}`] = localeField;
        fieldOf[`${from}.texts.${locale}.title`] = `${at}.texts.${j}.title`;
        fieldOf[`${from}.texts.${locale}.body`] = `${at}.texts.${j}.body`;
      }
    }
    // "Give the text in at least one locale" lands beside the first title.
    fieldOf[`${from}.texts`] = `${at}.texts.${textRows[0] ?? 0}.title`;

    const url = value(`${at}.url`);
    const segmentId = value(`${at}.segmentId`);
    const localTime = value(`${at}.localTime`);
    list.push({
      id,
      name: fields[`${at}.name`] ?? '',
      enabled: checked(fields, `${at}.enabled`),
      month,
      day,
      ...(year === undefined ? {} : { year }),
      ...(localTime === '' ? {} : { localTime }),
      ...(segmentId === '' ? {} : { segmentId }),
      ...(url === '' ? {} : { url }),
      texts,
    });
  }
  return { list, fieldOf };
}

/** A number as a person types it ("7,5" too); undefined and a problem otherwise. */
function numberIn(fields: Record<string, string>, name: string, errors: Record<string, string>): number | undefined {
  const raw = (fields[name] ?? '').trim();
  if (raw === '') {
    errors[name] = 'Enter a number.';
    return undefined;
  }
  if (!/^-?\d+(?:[.,]\d+)?$/.test(raw)) {
    errors[name] = `“${raw}” is not a number; enter digits only, such as 60.`;
    return undefined;
  }
  return Number(raw.replace(',', '.'));
}

function checked(fields: Record<string, string>, name: string): boolean {
  return fields[name] === 'on';
}

function optionalText(fields: Record<string, string>, name: string): string | undefined {
  const value = (fields[name] ?? '').trim();
  return value === '' ? undefined : value;
}

/** The posted section as a settings patch, or the problems found before the schema sees it. */
export function automationPatch(
  section: AutomationSection,
  fields: Record<string, string>,
  /** The ids this site's occasions were sent under (db/birthdays.ts), taken for a new occasion. */
  sentOccasions: Iterable<string> = [],
): { patch: Record<string, unknown>; fieldOf?: Record<string, string> } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  let patch: Record<string, unknown>;
  let fieldOf: Record<string, string> | undefined;
  switch (section) {
    case 'cart-reminders': {
      const steps: Array<Record<string, unknown>> = [];
      const firstDelay = numberIn(fields, 'cartReminders.steps.0.delayMinutes', errors);
      const firstCode = optionalText(fields, 'cartReminders.steps.0.discountCode');
      steps.push({ delayMinutes: firstDelay, ...(firstCode ? { discountCode: firstCode } : {}) });
      if (checked(fields, 'cartReminders.secondStep')) {
        const secondDelay = numberIn(fields, 'cartReminders.steps.1.delayMinutes', errors);
        const secondCode = optionalText(fields, 'cartReminders.steps.1.discountCode');
        steps.push({ delayMinutes: secondDelay, ...(secondCode ? { discountCode: secondCode } : {}) });
      }
      patch = { cartReminders: { enabled: checked(fields, 'cartReminders.enabled'), steps, holdoutPercent: numberIn(fields, 'cartReminders.holdoutPercent', errors) } };
      break;
    }
    case 'price-drop':
      patch = {
        priceDrop: {
          enabled: checked(fields, 'priceDrop.enabled'),
          thresholdPercent: numberIn(fields, 'priceDrop.thresholdPercent', errors),
          renotifyWindowHours: numberIn(fields, 'priceDrop.renotifyWindowHours', errors),
          holdoutPercent: numberIn(fields, 'priceDrop.holdoutPercent', errors),
          sendAtBestHour: checked(fields, 'priceDrop.sendAtBestHour'),
          // Left out when not posted (a form from before the choice existed keeps what is stored);
          // otherwise passed as posted: the schema refuses anything but its two values, beside the field.
          ...((fields['priceDrop.compareWith'] ?? '').trim() === '' ? {} : { compareWith: fields['priceDrop.compareWith']!.trim() }),
        },
      };
      break;
    case 'low-stock':
      patch = {
        lowStock: {
          enabled: checked(fields, 'lowStock.enabled'),
          threshold: numberIn(fields, 'lowStock.threshold', errors),
          withinDays: numberIn(fields, 'lowStock.withinDays', errors),
          holdoutPercent: numberIn(fields, 'lowStock.holdoutPercent', errors),
          sendAtBestHour: checked(fields, 'lowStock.sendAtBestHour'),
        },
      };
      break;
    case 'back-in-stock':
      patch = {
        backInStock: {
          enabled: checked(fields, 'backInStock.enabled'),
          holdoutPercent: numberIn(fields, 'backInStock.holdoutPercent', errors),
          sendAtBestHour: checked(fields, 'backInStock.sendAtBestHour'),
        },
      };
      break;
    case 'order-updates': {
      // An emptied field is stored empty: no page of its own, the home page.
      patch = {
        orderUpdates: {
          enabled: checked(fields, 'orderUpdates.enabled'),
          types: Object.fromEntries(ORDER_UPDATE_TYPES.map((type) => [type, checked(fields, `orderUpdates.types.${type}`)])),
          orderPageUrl: optionalText(fields, 'orderUpdates.orderPageUrl') ?? '',
        },
      };
      break;
    }
    case 'rating-request': {
      patch = {
        ratingRequest: {
          enabled: checked(fields, 'ratingRequest.enabled'),
          delayDays: numberIn(fields, 'ratingRequest.delayDays', errors),
          pageUrl: optionalText(fields, 'ratingRequest.pageUrl') ?? '',
          holdoutPercent: numberIn(fields, 'ratingRequest.holdoutPercent', errors),
          sendAtBestHour: checked(fields, 'ratingRequest.sendAtBestHour'),
        },
      };
      break;
    }
    case 'welcome':
      // An emptied code is stored empty: no code.
      patch = {
        welcome: {
          enabled: checked(fields, 'welcome.enabled'),
          delayMinutes: numberIn(fields, 'welcome.delayMinutes', errors),
          ...((fields['welcome.codeMode'] ?? '').trim() === '' ? {} : { codeMode: fields['welcome.codeMode']!.trim() }),
          code: optionalText(fields, 'welcome.code') ?? '',
          holdoutPercent: numberIn(fields, 'welcome.holdoutPercent', errors),
        },
      };
      if (pastedCodes(fields[WELCOME_CODES_FIELD] ?? '').some((code) => code.length > 64)) errors[WELCOME_CODES_FIELD] = 'Each code must be at most 64 characters.';
      break;
    case 'reactivation':
      patch = {
        reactivation: {
          enabled: checked(fields, 'reactivation.enabled'),
          afterDays: numberIn(fields, 'reactivation.afterDays', errors),
          quietForDays: numberIn(fields, 'reactivation.quietForDays', errors),
          code: optionalText(fields, 'reactivation.code') ?? '',
          holdoutPercent: numberIn(fields, 'reactivation.holdoutPercent', errors),
        },
      };
      break;
    case 'birthday': {
      const code = optionalText(fields, 'birthday.discountCode');
      patch = {
        birthday: {
          enabled: checked(fields, 'birthday.enabled'),
          sendAtBestHour: checked(fields, 'birthday.sendAtBestHour'),
          localTime: (fields['birthday.localTime'] ?? '').trim(),
          ...(code ? { discountCode: code } : {}),
          holdoutPercent: numberIn(fields, 'birthday.holdoutPercent', errors),
        },
      };
      break;
    }
    case 'occasions': {
      const occasions = occasionsPatch(fields, errors, sentOccasions);
      patch = { occasions: { list: occasions.list } };
      fieldOf = occasions.fieldOf;
      break;
    }
    case 'frequency-cap':
      patch = { engagement: { frequencyCap: { marketingPer24h: numberIn(fields, 'engagement.frequencyCap.marketingPer24h', errors) } } };
      break;
    case 'engagement-budget':
      patch = {
        engagement: {
          budget: {
            enabled: checked(fields, 'engagement.budget.enabled'),
            ignoredPerHalving: numberIn(fields, 'engagement.budget.ignoredPerHalving', errors),
            minPerWeek: numberIn(fields, 'engagement.budget.minPerWeek', errors),
          },
        },
      };
      break;
    case 'best-hour':
      patch = { engagement: { bestHour: { minOwnDataPoints: numberIn(fields, 'engagement.bestHour.minOwnDataPoints', errors) } } };
      break;
    case 'quiet-hours':
      patch = {
        engagement: {
          quietHours: {
            enabled: checked(fields, 'engagement.quietHours.enabled'),
            start: (fields['engagement.quietHours.start'] ?? '').trim(),
            end: (fields['engagement.quietHours.end'] ?? '').trim(),
          },
          defaultTimeZone: (fields['engagement.defaultTimeZone'] ?? '').trim(),
        },
      };
      break;
  }
  return Object.keys(errors).length > 0 ? { errors } : { patch, ...(fieldOf ? { fieldOf } : {}) };
}

/** Codes pasted one per line, or separated by commas or spaces. */
export function pastedCodes(text: string): string[] {
  return text.split(/[\s,;]+/).filter((code) => code !== '');
}

/** API issues (settings paths) as problems beside the form's fields; the rest for the whole form. */
function placeIssues(issues: Array<{ path: string; message: string }>, fieldNames: readonly string[], prefix = ''): FormState {
  const errors: Record<string, string> = {};
  const general: string[] = [];
  for (const issue of issues) {
    const path = prefix && issue.path.startsWith(prefix) ? issue.path.slice(prefix.length) : issue.path;
    const field = fieldNames.includes(path) ? path : undefined;
    if (field && errors[field] === undefined) errors[field] = sentence(issue.message);
    else if (!field) general.push(sentence(issue.path ? `${describePath(issue.path, prefix)}: ${issue.message}` : issue.message));
  }
  return { errors, general };
}

function describePath(path: string, prefix: string): string {
  const rest = prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path;
  if (rest === 'cartReminders.steps') return 'Reminder steps';
  if (rest === 'actions') return 'Buttons';
  if (rest === 'occasions.list') return 'Occasions';
  return rest;
}

/**
 * Zod's issues in words for a form: what the API reports as "Too big: expected number to be
 * <=90" reads "Must be 90 or less." here; the rules' own messages are kept.
 */
export function issueWords(issues: readonly z.core.$ZodIssue[]): Array<{ path: string; message: string }> {
  return issueDetails(issues).map((detail, i) => {
    const issue = issues[i]!;
    if (issue.code === 'unrecognized_keys') return detail;
    const bound = 'minimum' in issue ? Number(issue.minimum) : 'maximum' in issue ? Number(issue.maximum) : undefined;
    const inclusive = 'inclusive' in issue ? issue.inclusive !== false : true;
    const origin = 'origin' in issue ? issue.origin : undefined;
    let message = detail.message;
    if (issue.code === 'too_small' && origin === 'string') message = bound === 1 ? 'must not be empty' : `must be at least ${bound} characters`;
    else if (issue.code === 'too_big' && origin === 'string') message = `must be at most ${bound} characters`;
    else if (issue.code === 'too_small' && origin === 'number') message = inclusive ? `must be ${bound} or more` : `must be more than ${bound}`;
    else if (issue.code === 'too_big' && origin === 'number') message = inclusive ? `must be ${bound} or less` : `must be less than ${bound}`;
    else if (issue.code === 'too_big' && origin === 'array') message = detail.message.startsWith('Too big') ? `at most ${bound}` : detail.message;
    else if (issue.code === 'too_small' && origin === 'array') message = `at least ${bound}`;
    else if (issue.code === 'invalid_type' && issue.expected === 'int') message = 'must be a whole number';
    else if (issue.code === 'invalid_type' && issue.expected === 'number') message = 'enter a number';
    return { path: detail.path, message };
  });
}

/** An API message as a sentence for the page: a capital first letter and a full stop. */
function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

// --- the template form ---

function templateFromForm(fields: Record<string, string>): MessageTemplate {
  const actions: Array<{ action: string; title: string }> = [];
  for (let i = 0; i < MAX_ACTIONS; i += 1) {
    const action = (fields[`actions.${i}.action`] ?? '').trim();
    const title = fields[`actions.${i}.title`] ?? '';
    if (action === '' && title.trim() === '') continue;
    actions.push({ action, title });
  }
  // Browsers post line breaks in a textarea as CRLF (HTML §4.10.5): the body keeps plain \n.
  return {
    title: fields.title ?? '',
    body: (fields.body ?? '').replace(/\r\n?/g, '\n'),
    ...(actions.length > 0 ? { actions } : {}),
  };
}

function templateFormOf(template: MessageTemplate): TemplateForm {
  const values: Record<string, string> = { title: template.title, body: template.body };
  template.actions?.forEach((action, i) => {
    values[`actions.${i}.action`] = action.action;
    values[`actions.${i}.title`] = action.title;
  });
  return { values, errors: {}, general: [] };
}

const TEMPLATE_FIELDS = ['title', 'body', ...Array.from({ length: MAX_ACTIONS }, (_, i) => [`actions.${i}.action`, `actions.${i}.title`]).flat()];

/** The discount code of a cart reminder step or the birthday push, so its template's preview shows the real one. */
function discountFor(key: TemplateKey, settings: SiteSettings): string | undefined {
  if (key === 'cart_reminder.1') return settings.cartReminders.steps[0]?.discountCode;
  if (key === 'cart_reminder.2') return settings.cartReminders.steps[1]?.discountCode;
  if (key === 'birthday') return settings.birthday.discountCode;
  return undefined;
}

/** Locales the list offers for every key: the built-in ones, the site's default, and any the site wrote. */
function listedLocales(settings: SiteSettings): string[] {
  const locales = new Set<string>([settings.defaultLocale]);
  for (const key of TEMPLATE_KEYS) {
    for (const locale of Object.keys(DEFAULT_TEMPLATES[key])) locales.add(locale);
    for (const locale of Object.keys(settings.templates[key] ?? {})) locales.add(locale);
  }
  return [...locales].sort();
}

function isTemplateKey(key: string): key is TemplateKey {
  return (TEMPLATE_KEYS as readonly string[]).includes(key);
}

/** The site's own template for exactly this locale, if it wrote one. */
function customTemplate(settings: SiteSettings, key: TemplateKey, locale: string): MessageTemplate | undefined {
  const byLocale = settings.templates[key];
  return byLocale && Object.hasOwn(byLocale, locale) ? byLocale[locale] : undefined;
}

/** What the editor starts from: the site's own text, else the built-in one of this locale or its language, else English. */
function startingTemplate(settings: SiteSettings, key: TemplateKey, locale: string): MessageTemplate {
  const builtIn = DEFAULT_TEMPLATES[key] as Readonly<Record<string, MessageTemplate>>;
  const language = locale.split('-')[0]!;
  return customTemplate(settings, key, locale) ?? builtIn[locale] ?? builtIn[language] ?? builtIn.en!;
}

export function automationRoutes(app: Hono<DashboardEnv>, deps: AppDeps, kit: AutomationRouteKit): void {
  const { now, publicUrl, page, message, refuse, signedInPost, toSignIn, chromeFor } = kit;

  const notFound = (c: DashboardContext) => message(c, 404, 'Page not found', 'There is no such shop among yours.');

  async function memberFor(c: DashboardContext, userId: string): Promise<Member | undefined> {
    return findSiteForMember(deps.db, userId, c.req.param('siteId') ?? '');
  }

  function refused(c: DashboardContext, member: Member, what: string, back: string) {
    return message(c, 403, 'Not allowed', `Your role on ${member.site.name} (${member.role}) cannot change the ${what}. Nothing was changed.`, {
      href: back,
      label: `Back to the ${what}`,
    });
  }

  async function siteChrome(live: LiveSession, token: string, member: Member, current: 'automations' | 'templates') {
    const { chrome } = await chromeFor(live, token);
    return { ...chrome, site: { id: member.site.id, name: member.site.name, role: member.role }, current };
  }

  async function figures(member: Member, settings: SiteSettings): Promise<AutomationFigures> {
    // From the rollups (db/daily-stats.ts), as the overview: the deliveries table is never scanned
    // as a whole, so the page answers as fast with a million deliveries as with ten. The days are
    // the shop's calendar days, the same ones its overview shows for "last 30 days".
    const timeZone = settings.engagement.defaultTimeZone;
    const today = localDate(now().getTime(), timeZone);
    const days = localDays(addDays(today, -(FIGURES_DAYS - 1)), today, timeZone);
    const report = await dailyReport(deps.db, member.site.id, days, timeZone, settings.attribution.windowHours);
    const result = {} as AutomationFigures;
    for (const [name, source] of Object.entries(SOURCE_OF) as Array<[keyof typeof SOURCE_OF, string]>) {
      const trigger = report.triggers[source];
      const section = settings[name];
      result[name] = {
        sent: trigger?.sent ?? 0,
        clicked: trigger?.clicked ?? 0,
        converted: trigger?.converted ?? 0,
        revenue: trigger?.revenue ?? {},
        holdoutPercent: 'holdoutPercent' in section ? section.holdoutPercent : 0,
        holdout: trigger?.holdout ?? null,
        ...(name === 'orderUpdates' ? { transactional: true } : {}),
      };
    }
    // The rating requests' answers: clicks per button, of the requests pushed in these days.
    result.ratingRequest.answers = await ratingAnswers(deps.db, member.site.id, days.boundaries[0]!);
    return result;
  }

  async function renderAutomations(
    c: DashboardContext,
    live: LiveSession,
    token: string,
    member: Member,
    extra: {
      posted?: { section: AutomationSection; values: Record<string, string>; errors: Record<string, string>; general: string[] };
      /** A post drawn again as typed, not saved and not refused (an added occasion row). */
      draft?: { section: AutomationSection; values: Record<string, string> };
      saved?: string;
    } = {},
  ) {
    const settings = readSiteSettings(member.site.settings);
    const [assets, chrome, figs, welcomeCodes, segments] = await Promise.all([
      dashboardAssets(),
      siteChrome(live, token, member, 'automations'),
      figures(member, settings),
      welcomeCodeCounts(deps.db, member.site.id),
      listSegments(deps.db, member.site.id),
    ]);
    const saved = AUTOMATION_SECTIONS.find((section) => section.key === extra.saved)?.key;
    const posted = extra.posted ?? extra.draft;
    const stored = automationValues(settings);
    // The posted occasion rows replace the stored ones whole: a stored row the post did not have
    // (removed, or another owner's save in between) must not reappear among them.
    if (posted?.section === 'occasions' && occasionRows(posted.values).length > 0) for (const name of Object.keys(stored)) if (name.startsWith(`${OCCASION_FIELDS}.`)) delete stored[name];
    return page(
      c,
      automationsPage({
        assets,
        chrome,
        canEdit: can(member.role, 'edit_automations'),
        values: { ...stored, ...(posted?.values ?? {}) },
        ...(extra.posted ? { invalid: { section: extra.posted.section, errors: extra.posted.errors, general: extra.posted.general } } : {}),
        ...(saved ? { saved } : {}),
        ...(extra.draft ? { drafted: extra.draft.section } : {}),
        segments: segments.map((segment) => ({ id: segment.id, name: segment.name })),
        figures: figs,
        days: FIGURES_DAYS,
        timeZones: supportedTimeZones(),
        welcomeCodes,
      }),
      extra.posted ? 422 : 200,
    );
  }

  app.get('/sites/:siteId/automations', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    return renderAutomations(c, live, token, member, { ...(c.req.query('saved') ? { saved: c.req.query('saved')! } : {}) });
  });

  app.post('/sites/:siteId/automations', async (c) => {
    const checkedPost = await signedInPost(c);
    if ('refusal' in checkedPost) return refuse(c, checkedPost.refusal);
    const { live, token, fields } = checkedPost;
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const back = `${DASHBOARD_PATH}/sites/${member.site.id}/automations`;
    if (!can(member.role, 'edit_automations')) return refused(c, member, 'automations', back);
    const section = AUTOMATION_SECTIONS.find((candidate) => candidate.key === fields.section);
    if (!section) return message(c, 404, 'Page not found', 'This form names no automation setting. Reload the page and try again.', { href: back, label: 'Back to the automations' });
    const fieldNames = section.key === 'occasions' ? occasionFieldNames(fields) : section.fields;
    const values = Object.fromEntries(fieldNames.map((name) => [name, fields[name] ?? '']));
    const formErrors = (errors: Record<string, string>, general: string[]) => renderAutomations(c, live, token, member, { posted: { section: section.key, values, errors, general } });

    // "Add an occasion": the form as typed with a blank row after the last, nothing saved.
    if (section.key === 'occasions' && fields.intent === 'add') {
      const next = (occasionRows(values).at(-1) ?? -1) + 1;
      const locale = readSiteSettings(member.site.settings).defaultLocale;
      return renderAutomations(c, live, token, member, { draft: { section: section.key, values: { ...values, ...blankOccasion(next, locale) } } });
    }

    // The page before this form had one JSON box of that name: a tab left open across an upgrade
    // would post no rows, which reads as "no occasions" and would delete them all.
    if (section.key === 'occasions' && OCCASION_FIELDS in fields) return formErrors({}, ['This form is from an earlier version of this page. Nothing was saved: reload the page and make the change again.']);
    const built = automationPatch(section.key, fields, section.key === 'occasions' ? await sentOccasionIds(deps.db, member.site.id) : []);
    if ('errors' in built) return formErrors(built.errors, []);
    // Issues name settings paths; an occasion's are turned into the row and field it was typed in.
    const toFields = (issues: Array<{ path: string; message: string }>) => issues.map((issue) => ({ ...issue, path: built.fieldOf?.[issue.path] ?? issue.path }));
    const patch = siteSettingsPatchSchema.safeParse(built.patch);
    if (!patch.success) {
      const { errors, general } = placeIssues(toFields(issueWords(patch.error.issues)), fieldNames);
      return formErrors(errors, general);
    }
    try {
      await changeSiteSettings(deps.db, member.site, patch.data, { publicUrl, actor: userActor(live.user), now: now() });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'validation_failed') {
        const { errors, general } = placeIssues(toFields((error.options.details as Array<{ path: string; message: string }>) ?? []), fieldNames);
        return formErrors(errors, general);
      }
      throw error;
    }
    if (section.key === 'welcome') await addWelcomeCodes(deps.db, member.site.id, pastedCodes(fields[WELCOME_CODES_FIELD] ?? ''), now());
    deps.logger.log('info', 'site automations changed', { siteId: member.site.id, userId: live.user.id, section: section.key, requestId: c.get('requestId') });
    return c.redirect(`${back}?saved=${section.key}#${section.key}`, 303);
  });

  // --- templates ---

  app.get('/sites/:siteId/templates', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const settings = readSiteSettings(member.site.settings);
    // The "another language" form is a GET: it only opens the editor, which stores nothing.
    const key = c.req.query('key');
    const asked = c.req.query('locale');
    let openError: string | undefined;
    if (key !== undefined || asked !== undefined) {
      const locale = canonicalLocale((asked ?? '').trim());
      if (key !== undefined && isTemplateKey(key) && locale) return c.redirect(`${DASHBOARD_PATH}/sites/${member.site.id}/templates/${key}/${locale}`, 303);
      openError = locale ? 'Choose one of the templates.' : `“${asked ?? ''}” is not a language tag. Use a BCP 47 tag such as fr, de-AT or pt-BR.`;
    }
    const [assets, chrome] = await Promise.all([dashboardAssets(), siteChrome(live, token, member, 'templates')]);
    return page(
      c,
      templateListPage({
        assets,
        chrome,
        locales: listedLocales(settings),
        defaultLocale: settings.defaultLocale,
        customised: (key, locale) => customTemplate(settings, key, locale) !== undefined,
        ...(openError ? { openError, openLocale: asked ?? '' } : {}),
        ...(c.req.query('reset') !== undefined ? { resetNotice: true } : {}),
      }),
      openError ? 422 : 200,
    );
  });

  async function renderEditor(
    c: DashboardContext,
    live: LiveSession,
    token: string,
    member: Member,
    key: TemplateKey,
    locale: string,
    extra: { form?: TemplateForm; status?: 200 | 422; saved?: boolean; testPush?: TemplateTestPush } = {},
  ) {
    const settings = readSiteSettings(member.site.settings);
    const stored = startingTemplate(settings, key, locale);
    const form = extra.form ?? templateFormOf(stored);
    const template = extra.form ? templateFromForm(form.values) : stored;
    const preview = notificationPreview({ template, locale, origin: member.site.allowed_origins[0] ?? member.site.name, discountCode: discountFor(key, settings), publicUrl });
    const [assets, chrome] = await Promise.all([dashboardAssets(), siteChrome(live, token, member, 'templates')]);
    return page(
      c,
      templateEditorPage({
        assets,
        chrome,
        key,
        locale,
        canEdit: can(member.role, 'edit_templates'),
        customised: customTemplate(settings, key, locale) !== undefined,
        form,
        preview,
        discountCode: discountFor(key, settings),
        canSendTest: can(member.role, 'send'),
        ...(extra.saved ? { saved: true } : {}),
        ...(extra.testPush ? { testPush: extra.testPush } : {}),
      }),
      extra.status ?? 200,
    );
  }

  /** The key and canonical locale of the address, or why it is no template page. */
  function templateAddress(c: DashboardContext): { key: TemplateKey; locale: string } | undefined {
    const key = c.req.param('key') ?? '';
    const locale = canonicalLocale(c.req.param('locale') ?? '');
    return isTemplateKey(key) && locale ? { key, locale } : undefined;
  }

  app.get('/sites/:siteId/templates/:key/:locale', async (c) => {
    const live = c.get('live');
    const token = c.get('sessionToken');
    if (!live || token === undefined) return toSignIn(c);
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const address = templateAddress(c);
    if (!address) return message(c, 404, 'Page not found', 'There is no such template.', { href: `${DASHBOARD_PATH}/sites/${member.site.id}/templates`, label: 'Back to the templates' });
    if (address.locale !== c.req.param('locale')) return c.redirect(`${DASHBOARD_PATH}/sites/${member.site.id}/templates/${address.key}/${address.locale}`, 301);
    return renderEditor(c, live, token, member, address.key, address.locale, { saved: c.req.query('saved') !== undefined });
  });

  app.post('/sites/:siteId/templates/:key/:locale', async (c) => {
    const checkedPost = await signedInPost(c);
    if ('refusal' in checkedPost) return refuse(c, checkedPost.refusal);
    const { live, token, fields } = checkedPost;
    const member = await memberFor(c, live.user.id);
    if (!member) return notFound(c);
    const list = `${DASHBOARD_PATH}/sites/${member.site.id}/templates`;
    const address = templateAddress(c);
    if (!address) return message(c, 404, 'Page not found', 'There is no such template.', { href: list, label: 'Back to the templates' });
    const { key, locale } = address;
    const here = `${list}/${key}/${locale}`;
    if (!can(member.role, 'edit_templates')) return refused(c, member, 'templates', here);

    if (fields.intent === 'reset') {
      // The key goes with its last locale, so the stored settings hold no empty key.
      const others = Object.keys(readSiteSettings(member.site.settings).templates[key] ?? {}).filter((other) => other !== locale);
      await changeSiteSettings(deps.db, member.site, { templates: { [key]: others.length === 0 ? null : { [locale]: null } } }, { publicUrl, actor: userActor(live.user), now: now() });
      deps.logger.log('info', 'site template reset', { siteId: member.site.id, userId: live.user.id, key, locale, requestId: c.get('requestId') });
      return c.redirect(`${list}?reset`, 303);
    }

    const values = Object.fromEntries(TEMPLATE_FIELDS.map((name) => [name, fields[name] ?? '']));
    const template = templateFromForm(values);
    const prefix = `templates.${key}.${locale}.`;
    const patch = siteSettingsPatchSchema.safeParse({ templates: { [key]: { [locale]: template } } });
    const problems = patch.success ? undefined : placeIssues(issueWords(patch.error.issues), TEMPLATE_FIELDS, prefix);
    const form = (extra: Partial<FormState> = {}): TemplateForm => ({
      values,
      errors: { ...(problems?.errors ?? {}), ...(extra.errors ?? {}) },
      general: [...(problems?.general ?? []), ...(extra.general ?? [])],
    });

    // "Preview" draws the page again from the form, stores nothing (and works without a script).
    if (fields.intent === 'preview') return renderEditor(c, live, token, member, key, locale, { form: form() });
    // "Send to my browsers": the text as typed, with the preview's sample values, to the user's own
    // test browsers (test-push-routes.ts); nothing is stored. A click opens this editor: the shop's
    // pages are another origin, which the dashboard's service worker may not open.
    if (fields.intent === 'test') {
      if (!patch.success) return renderEditor(c, live, token, member, key, locale, { form: form(), status: 422, testPush: { kind: 'invalid' } });
      const settings = readSiteSettings(member.site.settings);
      const message = renderMessage(template, sampleContext(locale, discountFor(key, settings)));
      const results = await kit.ownTestPush(member.site, live.user.id, {
        title: message.title,
        body: message.body,
        ...(message.actions ? { actions: message.actions } : {}),
        url: `${publicUrl}${here}`,
        tag: 'pushcart-test',
      });
      return renderEditor(c, live, token, member, key, locale, {
        form: form(),
        testPush: results === 'unavailable' ? { kind: 'unavailable' } : { kind: 'sent', results: results.map(({ outcome, detail }) => ({ outcome, detail })) },
      });
    }
    if (!patch.success) return renderEditor(c, live, token, member, key, locale, { form: form(), status: 422 });
    try {
      await changeSiteSettings(deps.db, member.site, patch.data, { publicUrl, actor: userActor(live.user), now: now() });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'payload_too_large') {
        const overflow = (error.options.details as { overflow?: number } | undefined)?.overflow ?? 0;
        return renderEditor(c, live, token, member, key, locale, {
          form: form({ errors: { body: overLimitText(overflow) } }),
          status: 422,
        });
      }
      if (error instanceof ApiError && error.code === 'validation_failed') {
        const placed = placeIssues((error.options.details as Array<{ path: string; message: string }>) ?? [], TEMPLATE_FIELDS, prefix);
        return renderEditor(c, live, token, member, key, locale, { form: { values, ...placed }, status: 422 });
      }
      throw error;
    }
    deps.logger.log('info', 'site template changed', { siteId: member.site.id, userId: live.user.id, key, locale, requestId: c.get('requestId') });
    return c.redirect(`${here}?saved`, 303);
  });
}

/** The words for a template that cannot fit a push at its longest placeholder values. */
export function overLimitText(overflow: number): string {
  return `Too long by ${overflow.toLocaleString('en')} byte${overflow === 1 ? '' : 's'}: with the longest product names and prices it would not fit in a push. Shorten the title, body or buttons.`;
}

let zones: string[] | undefined;

/** The runtime's IANA zones for the time zone field's suggestions. */
function supportedTimeZones(): string[] {
  zones ??= typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return zones;
}
