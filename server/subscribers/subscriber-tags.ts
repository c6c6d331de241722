import { z } from 'zod';
import type { TagChangeResult } from '../db/subscription-tags.ts';
import { ApiError } from '../errors.ts';
import { text } from '../validation.ts';

/**
 * Subscriber tags: a flat jsonb object per subscription (`subscriptions.tags`), written by the
 * shop's backend (`POST /v1/subscribers/tags`) and, for the keys a site lists in `browserTagKeys`,
 * by its pages (`POST /v1/subscriptions/tags`). Segments and `to.tags` sends read them.
 */

export const MAX_TAG_KEY_LENGTH = 64;
export const MAX_TAG_TEXT_LENGTH = 200;
/** Tags one subscription may hold after a change: enough for a shop's own attributes, few enough that a row stays small. */
export const MAX_TAGS_PER_SUBSCRIPTION = 50;
/** Keys a site lets its pages write (site setting `browserTagKeys`). */
export const MAX_BROWSER_TAG_KEYS = 20;

/** Control characters (C0, DEL, C1) have no place in a key a person reads in the dashboard and types into a segment. */
const CONTROL_CHARACTER = /\p{Cc}/u;

/** A tag key: 1–64 characters, no control characters. */
export function tagKeyText() {
  return text()
    .min(1, 'must be 1 to 64 characters')
    .max(MAX_TAG_KEY_LENGTH, `must be 1 to ${MAX_TAG_KEY_LENGTH} characters`)
    .refine((key) => !CONTROL_CHARACTER.test(key), 'must not contain control characters');
}

/** A tag value: text of at most 200 characters, a finite number, or a boolean (no null: `remove` deletes a key). */
export const tagValueSchema = z.union([text().max(MAX_TAG_TEXT_LENGTH), z.number().finite(), z.boolean()]);

export type TagValue = z.infer<typeof tagValueSchema>;

/**
 * `set` and `remove` of a tag change, refined by the routes: at least one of them non-empty, and no
 * key in both (which one would win is not obvious to a reader of the request).
 */
export const tagChangeFields = {
  /** Keys to set, with their values; other keys keep theirs. */
  set: z
    .record(tagKeyText(), tagValueSchema)
    .refine((set) => Object.keys(set).length <= MAX_TAGS_PER_SUBSCRIPTION, `at most ${MAX_TAGS_PER_SUBSCRIPTION} tags per subscription`)
    .optional(),
  /** Keys to remove; a key the subscription does not have is no error. */
  remove: z.array(tagKeyText()).max(MAX_TAGS_PER_SUBSCRIPTION, `at most ${MAX_TAGS_PER_SUBSCRIPTION} keys`).optional(),
};

export interface TagChange {
  set: Record<string, TagValue>;
  remove: string[];
}

/** Problems of a change as a whole, as zod issues on the object that holds `set` and `remove`. */
export function checkTagChange(change: { set?: Record<string, TagValue> | undefined; remove?: string[] | undefined }, ctx: z.RefinementCtx): void {
  const set = change.set ?? {};
  const remove = change.remove ?? [];
  if (Object.keys(set).length === 0 && remove.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['set'], message: 'name at least one tag to set or remove' });
  }
  for (const key of remove) {
    if (Object.hasOwn(set, key)) ctx.addIssue({ code: 'custom', path: ['remove'], message: `"${key}" is both set and removed; send one of them` });
  }
}

export function tagChangeOf(change: { set?: Record<string, TagValue> | undefined; remove?: string[] | undefined }): TagChange {
  return { set: change.set ?? {}, remove: [...new Set(change.remove ?? [])] };
}

/** A tag change's answer: how many subscriptions it changed. */
export const tagsUpdatedSchema = z.strictObject({ updated: z.number().int().positive() });

/** The number of subscriptions changed, or the error the API answers for `result`. */
export function tagChangeAnswer(result: TagChangeResult): number {
  if (result.outcome === 'not_found') throw new ApiError('not_found', 'No subscription of this site matches');
  if (result.outcome === 'too_many_tags') {
    const message = `subscription ${result.subscriptionId} would hold ${result.tagCount} tags; at most ${MAX_TAGS_PER_SUBSCRIPTION} tags per subscription (remove some first)`;
    throw new ApiError('validation_failed', `set: ${message}`, { details: [{ path: 'set', message }] });
  }
  return result.updated;
}

