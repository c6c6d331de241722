/**
 * The prompt page's form: its fields from the stored settings, a posted form back into a settings
 * patch, and the settings' validation problems (by path, as PATCH /v1/settings reports them) back
 * onto the fields they came from, in words.
 */
import { siteSettingsPatchSchema, type SiteSettings, type SiteSettingsPatch } from '../sites/site-settings.ts';
import { canonicalLocale, issueDetails } from '../validation.ts';
import { promptForLocale } from '../routes/site-config.ts';
import { previewFromQuery, type PreviewPrompt } from '../sites/prompt-look.ts';

export const TEXT_KEYS = ['title', 'body', 'allow', 'later'] as const;
export type TextKey = (typeof TEXT_KEYS)[number];
export type LocaleTexts = Record<TextKey, string>;

export const TRIGGERS = ['page_views', 'seconds', 'cart_updated', 'manual'] as const;

export interface PromptFormValues {
  trigger: string;
  pageViews: string;
  delaySeconds: string;
  snoozeDays: string;
  accent: string;
  background: string;
  text: string;
  radius: string;
  position: string;
  logoUrl: string;
  /** The shop's own texts, one entry per locale it has. */
  texts: Array<{ locale: string } & LocaleTexts>;
  /** A language to add (all empty: none). */
  added: { locale: string } & LocaleTexts;
}

/** A field's name in the form (also the key of its error): `accent`, `texts.de.title`, `new.title`, `newLocale`. */
export type FieldErrors = Record<string, string>;

export function textFieldName(locale: string, key: TextKey): string {
  return `texts.${locale}.${key}`;
}

/** The form as the stored settings fill it. */
export function formFromSettings(settings: SiteSettings): PromptFormValues {
  const { prompt } = settings;
  const texts = Object.entries(prompt.texts).map(([locale, texts]) => ({ locale, ...texts }));
  // Without texts of its own, the form offers the default locale to add first.
  const added = { locale: texts.length === 0 ? settings.defaultLocale : '', title: '', body: '', allow: '', later: '' };
  return {
    trigger: prompt.trigger,
    pageViews: String(prompt.pageViews),
    delaySeconds: String(prompt.delaySeconds),
    snoozeDays: String(prompt.snoozeDays),
    accent: prompt.theme.accent,
    background: prompt.theme.background,
    text: prompt.theme.text,
    radius: String(prompt.theme.radius),
    position: prompt.theme.position,
    logoUrl: prompt.theme.logoUrl ?? '',
    texts,
    added,
  };
}

/** The form as posted; the locales are those stored (a posted field for another one is ignored). */
export function formFromPost(fields: Record<string, string>, settings: SiteSettings): PromptFormValues {
  const get = (name: string) => fields[name] ?? '';
  return {
    trigger: get('trigger'),
    pageViews: get('pageViews').trim(),
    delaySeconds: get('delaySeconds').trim(),
    snoozeDays: get('snoozeDays').trim(),
    accent: get('accent').trim(),
    background: get('background').trim(),
    text: get('text').trim(),
    radius: get('radius').trim(),
    position: get('position'),
    logoUrl: get('logoUrl').trim(),
    texts: Object.keys(settings.prompt.texts).map((locale) => ({
      locale,
      ...(Object.fromEntries(TEXT_KEYS.map((key) => [key, get(textFieldName(locale, key)).trim()])) as LocaleTexts),
    })),
    added: { locale: get('newLocale').trim(), ...(Object.fromEntries(TEXT_KEYS.map((key) => [key, get(`new.${key}`).trim()])) as LocaleTexts) },
  };
}

/** What a shopper of `locale` sees when a text is left empty: the fallback the form shows as a placeholder. */
export function fallbackTexts(settings: SiteSettings, locale: string): LocaleTexts {
  const withoutOwn: SiteSettings = { ...settings, prompt: { ...settings.prompt, texts: {} } };
  const canonical = canonicalLocale(locale) ?? settings.defaultLocale;
  return promptForLocale(withoutOwn, canonical).texts;
}

const TEXT_WORDS: Record<TextKey, string> = { title: 'a title', body: 'the text', allow: 'the Allow button’s label', later: 'the Later button’s label' };

function wholeNumber(value: string): number | undefined {
  return /^\d{1,6}$/.test(value) ? Number(value) : undefined;
}

/**
 * The patch the form asks for, or the problems found before the settings see it: numbers that are
 * not whole numbers, a language with some of its texts missing. The rest (ranges, colours,
 * contrast, the logo's address, locale tags) is checked by the settings themselves.
 */
export function patchFromForm(form: PromptFormValues): { patch: SiteSettingsPatch } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const number = (name: 'pageViews' | 'delaySeconds' | 'snoozeDays' | 'radius', required: boolean) => {
    const value = form[name];
    if (value === '' && !required) return undefined;
    const parsed = wholeNumber(value);
    if (parsed === undefined) errors[name] = 'Write a whole number, such as 3.';
    return parsed;
  };
  const prompt: Record<string, unknown> = { trigger: form.trigger };
  const pageViews = number('pageViews', form.trigger === 'page_views');
  if (pageViews !== undefined) prompt.pageViews = pageViews;
  const delaySeconds = number('delaySeconds', form.trigger === 'seconds');
  if (delaySeconds !== undefined) prompt.delaySeconds = delaySeconds;
  const snoozeDays = number('snoozeDays', true);
  if (snoozeDays !== undefined) prompt.snoozeDays = snoozeDays;
  const radius = number('radius', true);
  // An empty logo field removes the logo: the merge stores what the patch says, and `undefined` is no value.
  prompt.theme = { accent: form.accent, background: form.background, text: form.text, radius, position: form.position, logoUrl: form.logoUrl === '' ? undefined : form.logoUrl };

  const texts: Record<string, LocaleTexts> = {};
  for (const entry of form.texts) {
    for (const key of TEXT_KEYS) if (entry[key] === '') errors[textFieldName(entry.locale, key)] = `Write ${TEXT_WORDS[key]}: a language is shown with all four texts.`;
    texts[entry.locale] = { title: entry.title, body: entry.body, allow: entry.allow, later: entry.later };
  }
  const { locale: addedLocale, ...addedTexts } = form.added;
  const anyAdded = TEXT_KEYS.some((key) => addedTexts[key] !== '');
  if (anyAdded) {
    if (addedLocale === '') errors.newLocale = 'Name the language of these texts, such as fr or de-AT.';
    for (const key of TEXT_KEYS) if (addedTexts[key] === '') errors[`new.${key}`] = `Write ${TEXT_WORDS[key]}: a language is shown with all four texts.`;
    if (addedLocale !== '') texts[addedLocale] = addedTexts;
  }
  if (Object.keys(texts).length > 0) prompt.texts = texts;
  if (Object.keys(errors).length > 0) return { errors };

  const parsed = siteSettingsPatchSchema.safeParse({ prompt });
  if (!parsed.success) return { errors: errorsFromIssues(issueDetails(parsed.error.issues), form) };
  return { patch: parsed.data };
}

/** Issue paths (`prompt.theme.text`, `prompt.texts.de.title`) onto the form's fields; what fits none goes under `form`. */
export function errorsFromIssues(issues: Array<{ path: string; message: string }>, form: PromptFormValues): FieldErrors {
  const errors: FieldErrors = {};
  const addedCanonical = canonicalLocale(form.added.locale) ?? form.added.locale;
  const add = (field: string, message: string) => {
    errors[field] ??= sentence(message);
  };
  for (const issue of issues) {
    const parts = issue.path.split('.');
    if (parts[0] !== 'prompt') {
      add('form', issue.message);
      continue;
    }
    const [, section, third, fourth] = parts;
    if (section === 'theme' && third) add(third, issue.message);
    else if (section === 'texts' && third !== undefined) {
      const isAdded = third === form.added.locale || third === addedCanonical;
      if (fourth && (TEXT_KEYS as readonly string[]).includes(fourth)) add(isAdded ? `new.${fourth}` : textFieldName(third, fourth as TextKey), issue.message);
      else add(isAdded || !form.texts.some((entry) => entry.locale === third) ? 'newLocale' : 'form', issue.message);
    } else if (section && ['trigger', 'pageViews', 'delaySeconds', 'snoozeDays'].includes(section)) add(section, issue.message);
    else add('form', issue.message);
  }
  return errors;
}

/** A validation message as a sentence beside its field: capitalised, ending in a full stop. */
function sentence(message: string): string {
  const trimmed = message.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** The language the preview shows first: the form's first, else the one offered to add. */
export function previewLocale(form: PromptFormValues, settings: SiteSettings): string {
  const first = form.texts[0] ?? form.added;
  return canonicalLocale(first.locale) ?? settings.defaultLocale;
}

/** The prompt the preview frames draw for this form: the first language's texts (typed, else their fallback) in the form's theme. */
export function previewPromptOf(form: PromptFormValues, settings: SiteSettings): PreviewPrompt {
  const first = form.texts[0] ?? form.added;
  const locale = previewLocale(form, settings);
  const stored = promptForLocale(settings, locale);
  const fallback = fallbackTexts(settings, locale);
  const query = new URLSearchParams({
    title: first.title || fallback.title,
    body: first.body || fallback.body,
    allow: first.allow || fallback.allow,
    later: first.later || fallback.later,
    accent: form.accent,
    background: form.background,
    text: form.text,
    radius: form.radius,
    position: form.position,
    logo: form.logoUrl,
  });
  return previewFromQuery(query, { texts: stored.texts, theme: stored.theme });
}
