import type { NotificationContent } from '../db/database.ts';
import { utf8Bytes } from './payload.ts';

/**
 * Personalised texts: a notification's title, body and button titles may name the subscriber's
 * own fields, filled in per delivery when it is sent —
 *
 * - `{{firstName}}` the subscriber's first name, from the tag `firstName` (or `first_name`) the
 *   shop's backend set on an identified shopper;
 * - `{{tags.KEY}}` any tag's value;
 * - `{{…|fallback}}` what to write when the subscriber has no such value (default: nothing), so a
 *   German text can say `Hallo {{firstName|}}!` and an English one `Hi {{firstName|there}}!`.
 *
 * URLs are never personalised: click targets are checked against the site's origins once, at send.
 */

/** A value longer than this is cut: it is the shopper's data, and the payload budget is counted with it. */
export const MAX_PERSONAL_VALUE_CHARS = 40;

const PLACEHOLDER = /\{\{\s*(firstName|tags\.[A-Za-z0-9_.:-]{1,64})\s*(?:\|([^{}]{0,100}))?\}\}/g;
const ANY_PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
// C0/C1 controls and the bidi overrides: a tag value must not reorder or hide the shop's own text.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Whether a text uses any placeholder this module fills. */
export function hasPlaceholders(text: string): boolean {
  PLACEHOLDER.lastIndex = 0;
  return PLACEHOLDER.test(text);
}

/** The placeholders in `text` that are not ones this module fills (e.g. `{{first_name}}`), for a 400 that names them. */
export function unknownPlaceholders(text: string): string[] {
  const unknown: string[] = [];
  for (const match of text.matchAll(ANY_PLACEHOLDER)) {
    PLACEHOLDER.lastIndex = 0;
    if (!PLACEHOLDER.test(match[0])) unknown.push(match[0]);
  }
  return unknown;
}

function valueOf(name: string, tags: Record<string, unknown>): string {
  const raw = name === 'firstName' ? (tags['firstName'] ?? tags['first_name']) : tags[name.slice('tags.'.length)];
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return '';
  const cleaned = String(raw).replace(UNSAFE_CHARACTERS, '').trim();
  const characters = [...cleaned];
  return characters.length > MAX_PERSONAL_VALUE_CHARS ? `${characters.slice(0, MAX_PERSONAL_VALUE_CHARS - 1).join('')}…` : cleaned;
}

/** `text` with each placeholder filled from `tags` (or its fallback). */
export function personaliseText(text: string, tags: Record<string, unknown>): string {
  if (!text.includes('{{')) return text;
  return text.replace(PLACEHOLDER, (_whole, name: string, fallback: string | undefined) => valueOf(name, tags) || (fallback ?? '').trim());
}

/** The content one subscriber sees: title, body and button titles personalised. */
export function personalise(content: NotificationContent, tags: Record<string, unknown>): NotificationContent {
  return {
    ...content,
    title: personaliseText(content.title, tags),
    body: personaliseText(content.body, tags),
    ...(content.actions ? { actions: content.actions.map((action) => ({ ...action, title: personaliseText(action.title, tags) })) } : {}),
  };
}

/**
 * The content as large as any subscriber could make it: each placeholder filled with the longest
 * value in the costliest characters (three UTF-8 bytes each: a character of four bytes is two
 * UTF-16 units, so it costs less per unit), or its fallback if that is longer. What the payload
 * budget is checked against when a notification is queued, so no personalised delivery is too large.
 */
export function worstCasePersonalised(content: NotificationContent): NotificationContent {
  const longest = '€'.repeat(MAX_PERSONAL_VALUE_CHARS);
  const widest = (text: string) =>
    text.includes('{{')
      ? text.replace(PLACEHOLDER, (_whole, _name: string, fallback: string | undefined) => {
          const written = (fallback ?? '').trim();
          return utf8Bytes(written) > utf8Bytes(longest) ? written : longest;
        })
      : text;
  return {
    ...content,
    title: widest(content.title),
    body: widest(content.body),
    ...(content.actions ? { actions: content.actions.map((action) => ({ ...action, title: widest(action.title) })) } : {}),
  };
}
