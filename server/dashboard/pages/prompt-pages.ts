/**
 * The soft prompt's page: when it appears, how it looks, what it says per language, and a preview
 * of it on a desktop and a phone. The preview frames are pages of their own (`previewFramePage`),
 * drawn by the server first (a close likeness, for browsers without scripts) and then by the
 * snippet's own prompt code, fed by the form as the owner types.
 */
import { html } from 'hono/html';
import type { Role } from '../../db/database.ts';
import { contrastRatio, HEX_COLOUR, MIN_TEXT_CONTRAST, previewQuery, type PreviewPrompt } from '../../sites/prompt-look.ts';
import type { DashboardAsset, DashboardAssets } from '../assets/assets.ts';
import { appPage, assetUrl, csrfField, DASHBOARD_PATH, notice, type Html, type SignedInChrome } from '../layout.ts';
import { TEXT_KEYS, textFieldName, type FieldErrors, type LocaleTexts, type PromptFormValues, type TextKey } from '../prompt-form.ts';

/**
 * The sizes the preview frames are drawn at, in CSS pixels: a small laptop (wide enough for the
 * desktop layout, narrow enough that the card stays legible when scaled down) and a common phone
 * (iPhone 12 to 15).
 */
export const PREVIEW_VIEWS = {
  desktop: { width: 1024, height: 600, label: 'Desktop, 1024 px wide' },
  phone: { width: 390, height: 600, label: 'Phone, 390 px wide' },
} as const;
export type PreviewView = keyof typeof PREVIEW_VIEWS;

const TRIGGER_LABELS: Record<string, { label: string; help: Html | string }> = {
  page_views: { label: 'After a number of page views', help: 'Shoppers who look around first are likelier to say yes.' },
  seconds: { label: 'After some time on the shop', help: 'Counted from the first page of the visit.' },
  cart_updated: { label: 'When something is added to the cart', help: 'Cart reminders are what most shoppers agree to.' },
  manual: { label: 'Only when the shop asks', help: html`Your pages call <code>pushcart.optIn()</code>, for example from a “Notify me” button.` },
};

const POSITION_LABELS: Record<string, string> = { 'bottom-right': 'Bottom right', 'bottom-left': 'Bottom left', top: 'Top', center: 'Centre' };

const TEXT_LABELS: Record<TextKey, { label: string; max: number }> = {
  title: { label: 'Title', max: 120 },
  body: { label: 'Text', max: 300 },
  allow: { label: 'Allow button', max: 40 },
  later: { label: 'Later button', max: 40 },
};

function fieldId(name: string): string {
  return `f-${name.replace(/[^A-Za-z0-9-]/g, '-')}`;
}

/** `aria-invalid` and the error's id for a field, and the error paragraph itself. */
function problem(errors: FieldErrors, name: string, helpId?: string): { attributes: Html; message: Html | string } {
  const error = errors[name];
  const id = fieldId(name);
  const described = [helpId, error ? `${id}-error` : undefined].filter(Boolean).join(' ');
  return {
    attributes: html`${error ? html` aria-invalid="true"` : ''}${described ? html` aria-describedby="${described}"` : ''}`,
    message: error ? html`<p class="field-error" id="${id}-error">${error}</p>` : '',
  };
}

function numberField(input: { name: string; label: string; value: string; min: number; max: number; unit: string; errors: FieldErrors; help?: string }): Html {
  const id = fieldId(input.name);
  const helpId = input.help ? `${id}-help` : undefined;
  const { attributes, message } = problem(input.errors, input.name, helpId);
  return html`<div class="field">
<label for="${id}">${input.label}</label>
<div class="with-unit"><input id="${id}" name="${input.name}" type="number" inputmode="numeric" min="${input.min}" max="${input.max}" step="1" value="${input.value}"${attributes}><span class="unit">${input.unit}</span></div>
${input.help ? html`<p class="help" id="${helpId}">${input.help}</p>` : ''}
${message}
</div>`;
}

function colourField(name: 'accent' | 'background' | 'text', label: string, value: string, errors: FieldErrors, help: string): Html {
  const id = fieldId(name);
  const { attributes, message } = problem(errors, name, `${id}-help`);
  const pickerValue = HEX_COLOUR.test(value) ? (value.length === 4 ? `#${value.slice(1).replace(/./g, (digit) => digit + digit)}` : value).toLowerCase() : '#000000';
  return html`<div class="field colour-field">
<label for="${id}">${label}</label>
<div class="colour-input">
<input type="color" value="${pickerValue}" data-colour-for="${id}" aria-label="Pick the ${label.toLowerCase()}" tabindex="-1" hidden>
<input id="${id}" name="${name}" type="text" class="mono" value="${value}" maxlength="7" autocomplete="off" spellcheck="false"${attributes}>
</div>
<p class="help" id="${id}-help">${help}</p>
${message}
</div>`;
}

function textField(name: string, key: TextKey, value: string, placeholder: string, errors: FieldErrors, labelSuffix: string): Html {
  const id = fieldId(name);
  const { label, max } = TEXT_LABELS[key];
  const { attributes, message } = problem(errors, name);
  const common = html`id="${id}" name="${name}" maxlength="${max}" placeholder="${placeholder}" data-text="${key}"${attributes}`;
  return html`<div class="field text-${key}">
<label for="${id}">${label}<span class="visually-hidden"> (${labelSuffix})</span></label>
${key === 'body' ? html`<textarea ${common} rows="3">${value}</textarea>` : html`<input type="text" ${common} value="${value}">`}
${message}
</div>`;
}

function localeName(locale: string): string {
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'language' }).of(locale);
    return name && name !== locale ? `${name} (${locale})` : locale;
  } catch {
    return locale;
  }
}

export interface PromptPageInput {
  assets: DashboardAssets;
  chrome: SignedInChrome & { site: { id: string; name: string; role: Role } };
  form: PromptFormValues;
  errors: FieldErrors;
  /** What a shopper sees for each locale's empty text (the form's placeholders). */
  fallbacks: Record<string, LocaleTexts>;
  defaultLocale: string;
  canEdit: boolean;
  saved?: boolean;
  /** The locale whose texts were just removed. */
  removed?: string;
  /** The prompt the frames draw first: the stored one, or the form as posted with "Preview". */
  preview: { prompt: PreviewPrompt; locale: string };
  /** The preview script (the snippet's prompt, bundled for the dashboard); absent where the client scripts are not built. */
  previewScript: DashboardAsset | undefined;
}

export function promptPage(input: PromptPageInput): Html {
  const { form, errors } = input;
  const base = `${DASHBOARD_PATH}/sites/${input.chrome.site.id}/prompt`;
  const errorCount = Object.keys(errors).length;
  const errorSummary =
    errorCount > 0
      ? notice(
          'error',
          html`<p><strong>Nothing was saved.</strong> ${errorCount === 1 ? 'One field needs' : `${errorCount} fields need`} a change:</p><ul>${Object.entries(errors).map(
            ([name, message]) => (name === 'form' ? html`<li>${message}</li>` : html`<li><a href="#${fieldId(name)}">${message}</a></li>`),
          )}</ul>`,
        )
      : '';

  const trigger = html`<section class="card" aria-labelledby="when-title">
<h2 id="when-title">When it appears</h2>
<p class="lede">The browser’s own permission prompt only ever follows a “yes” here, so a shop never wastes it.</p>
<fieldset class="choice-group"${errors.trigger ? html` aria-describedby="${fieldId('trigger')}-error"` : ''}>
<legend>Show the prompt</legend>
${Object.entries(TRIGGER_LABELS).map(
  ([value, { label, help }]) => html`<div class="choice">
<input type="radio" id="${fieldId(`trigger-${value}`)}" name="trigger" value="${value}"${form.trigger === value ? html` checked` : ''}>
<label for="${fieldId(`trigger-${value}`)}">${label}<span class="choice-help">${help}</span></label>
</div>`,
)}
${problem(errors, 'trigger').message}
</fieldset>
<div class="field-row">
${numberField({ name: 'pageViews', label: 'Page views before it appears', value: form.pageViews, min: 1, max: 100, unit: 'views', errors, help: 'With “after a number of page views”.' })}
${numberField({ name: 'delaySeconds', label: 'Seconds before it appears', value: form.delaySeconds, min: 0, max: 3600, unit: 's', errors, help: 'With “after some time on the shop”.' })}
${numberField({ name: 'snoozeDays', label: 'After “Later”, ask again in', value: form.snoozeDays, min: 1, max: 365, unit: 'days', errors, help: 'A shopper who said Later is left alone this long.' })}
</div>
</section>`;

  const ratio = HEX_COLOUR.test(form.text) && HEX_COLOUR.test(form.background) ? contrastRatio(form.text, form.background) : undefined;
  const look = html`<section class="card" aria-labelledby="look-title">
<h2 id="look-title">Look</h2>
<p class="lede">Match the shop: its colours, its corners, its logo. Colours are written as <code>#rrggbb</code>.</p>
<div class="field-row colours">
${colourField('accent', 'Button colour', form.accent, errors, 'The Allow button; its label turns white or black to stay readable.')}
${colourField('background', 'Card background', form.background, errors, 'The card behind the texts.')}
${colourField('text', 'Text colour', form.text, errors, 'Needs a contrast of 4.5:1 on the background.')}
</div>
<p id="contrast-readout" class="contrast-readout${ratio !== undefined && ratio < MIN_TEXT_CONTRAST ? ' too-faint' : ''}" role="status">${ratio === undefined
    ? ''
    : ratio >= MIN_TEXT_CONTRAST
      ? `Text contrast ${ratio.toFixed(1)}:1: easy to read.`
      : `Text contrast ${ratio.toFixed(1)}:1: too faint, at least ${MIN_TEXT_CONTRAST}:1 is needed.`}</p>
<div class="field-row">
${numberField({ name: 'radius', label: 'Corner radius', value: form.radius, min: 0, max: 32, unit: 'px', errors, help: '0 for square corners, up to 32.' })}
</div>
<fieldset class="choice-group inline"${errors.position ? html` aria-describedby="${fieldId('position')}-error"` : ''}>
<legend>Position on a desktop screen</legend>
${Object.entries(POSITION_LABELS).map(
  ([value, label]) => html`<div class="choice">
<input type="radio" id="${fieldId(`position-${value}`)}" name="position" value="${value}"${form.position === value ? html` checked` : ''}>
<label for="${fieldId(`position-${value}`)}">${label}</label>
</div>`,
)}
<p class="help">On phones the prompt is always a sheet along the bottom edge, where a thumb reaches it.</p>
${problem(errors, 'position').message}
</fieldset>
${(() => {
  const { attributes, message } = problem(errors, 'logoUrl', `${fieldId('logoUrl')}-help`);
  return html`<div class="field">
<label for="${fieldId('logoUrl')}">Logo address <span class="meta">(optional)</span></label>
<input id="${fieldId('logoUrl')}" name="logoUrl" type="url" inputmode="url" placeholder="https://cdn.your-shop.example/logo.png" value="${form.logoUrl}"${attributes}>
<p class="help" id="${fieldId('logoUrl')}-help">An https address of a square image, shown at 44 × 44 px beside the title. Leave it empty for no logo.</p>
${message}
</div>`;
})()}
</section>`;

  const localeGroups = form.texts.map((entry, index) => {
    const fallback = input.fallbacks[entry.locale] ?? input.fallbacks[input.defaultLocale]!;
    return html`<fieldset class="locale-texts" data-prompt-texts="${entry.locale}" data-locale-name="${localeName(entry.locale)}"${index === 0 ? html` data-preview-first` : ''}>
<legend>${localeName(entry.locale)}${entry.locale === input.defaultLocale ? html` <span class="badge">default</span>` : ''}</legend>
${TEXT_KEYS.map((key) => textField(textFieldName(entry.locale, key), key, entry[key], fallback[key], errors, localeName(entry.locale)))}
${input.canEdit ? localeRemoval(base, entry.locale, input.defaultLocale) : ''}
</fieldset>`;
  });
  const addedFallback = input.fallbacks[form.added.locale] ?? input.fallbacks[input.defaultLocale]!;
  const added = (() => {
    const { attributes, message } = problem(errors, 'newLocale', `${fieldId('newLocale')}-help`);
    return html`<fieldset class="locale-texts added" data-prompt-texts="new" data-locale-name="${form.added.locale ? localeName(form.added.locale) : 'the new language'}"${form.texts.length === 0 ? html` data-preview-first` : ''}>
<legend>${form.texts.length === 0 ? 'Your texts' : 'Add a language'}</legend>
<div class="field locale-field">
<label for="${fieldId('newLocale')}">Language</label>
<input id="${fieldId('newLocale')}" name="newLocale" type="text" class="mono" maxlength="35" value="${form.added.locale}" autocomplete="off" spellcheck="false" placeholder="fr"${attributes}>
<p class="help" id="${fieldId('newLocale')}-help">A language tag: <code>fr</code>, <code>de</code>, <code>de-AT</code>. Leave all four texts empty to add nothing.</p>
${message}
</div>
${TEXT_KEYS.map((key) => textField(`new.${key}`, key, form.added[key], addedFallback[key], errors, 'new language'))}
</fieldset>`;
  })();

  const texts = html`<section class="card" aria-labelledby="texts-title">
<h2 id="texts-title">Texts</h2>
<p class="lede">Each shopper sees the texts of their browser’s language. Without texts for it, they see those of the shop’s default language (${localeName(input.defaultLocale)}), and without those, Pushcart’s own English or German texts, shown greyed in empty fields.</p>
${localeGroups}
${added}
</section>`;

  const formBody = html`${trigger}${look}${texts}`;
  const editor = input.canEdit
    ? html`<form id="prompt-form" method="post" action="${base}" novalidate>
${csrfField(input.chrome.csrfToken)}
${formBody}
<div class="card form-actions">
<button class="button" type="submit" name="intent" value="save">Save</button>
<button class="button secondary" type="submit" name="intent" value="preview">Preview without saving</button>
<p class="meta">Shops see a change within five minutes (their copy of the settings is kept that long).</p>
</div>
</form>`
    : html`<form id="prompt-form" action="${base}" method="get"><fieldset class="read-only" disabled>
<legend class="visually-hidden">The prompt’s settings, read-only</legend>
${formBody}
</fieldset></form>
<p class="meta">Your role (${input.chrome.site.role}) can see the prompt but not change it. An owner or editor of the shop can.</p>`;

  const query = previewQuery(input.preview.prompt).toString();
  const frames = (Object.entries(PREVIEW_VIEWS) as Array<[PreviewView, (typeof PREVIEW_VIEWS)[PreviewView]]>).map(
    ([view, size]) => html`<figure class="preview-figure ${view}">
<div class="preview-box"><div class="preview-stage ${view}" data-preview-stage data-preview-width="${size.width}" data-preview-height="${size.height}">
<iframe data-prompt-frame="${view}" src="${base}/preview?view=${view}&amp;${query}" title="The prompt on a ${view === 'phone' ? 'phone' : 'desktop screen'}" width="${size.width}" height="${size.height}" inert tabindex="-1"></iframe>
</div></div>
<figcaption>${size.label}</figcaption>
</figure>`,
  );
  const preview = html`<aside class="card prompt-preview" aria-labelledby="preview-title">
<h2 id="preview-title">Preview</h2>
<p class="meta">As shoppers in <span id="preview-locale">${localeName(input.preview.locale)}</span> will see it${input.previewScript ? ', updated as you type' : ''}.</p>
${frames}
</aside>`;

  const body = html`<div class="page-header">
<h1>Soft prompt</h1>
<p>The small card that asks shoppers before the browser does.</p>
</div>
${input.saved ? notice('success', 'Saved. Shops show the new prompt within five minutes.') : ''}
${input.removed ? notice('success', `Removed the texts for ${localeName(input.removed)}. Its shoppers now see those of ${localeName(input.defaultLocale)}, within five minutes.`) : ''}
${errorSummary}
<div class="prompt-layout">
<div class="prompt-editor">${editor}</div>
${preview}
</div>
${input.previewScript ? html`<script src="${assetUrl(input.previewScript.name)}" defer></script>` : ''}`;
  return appPage({ title: `Soft prompt · ${input.chrome.site.name}`, assets: input.assets, chrome: { ...input.chrome, current: 'prompt' }, body });
}

/**
 * Below a language's texts: a link to remove them (a page that asks first), or for the default
 * language why it has none.
 */
function localeRemoval(base: string, locale: string, defaultLocale: string): Html {
  if (locale === defaultLocale) {
    return html`<p class="locale-remove">The default language’s texts cannot be removed: shoppers whose language has no texts see these. Change them instead.</p>`;
  }
  return html`<p class="locale-remove"><a class="button secondary small" href="${base}/remove?locale=${encodeURIComponent(locale)}">Remove ${localeName(locale)}<span class="visually-hidden"> texts</span></a></p>`;
}

/**
 * The page that asks before a language's texts are removed, or, for the default language, says
 * why they cannot be (its shoppers' fallback: without them, every shopper without texts of their
 * own language would see Pushcart's built-in texts instead of the shop's).
 */
export function removeLocalePage(input: {
  assets: DashboardAssets;
  chrome: SignedInChrome & { site: { id: string; name: string; role: Role } };
  locale: string;
  defaultLocale: string;
  otherLocales: string[];
}): Html {
  const base = `${DASHBOARD_PATH}/sites/${input.chrome.site.id}/prompt`;
  const name = localeName(input.locale);
  const content =
    input.locale === input.defaultLocale
      ? html`<h2 id="remove-title">${name} is the shop’s default language</h2>
${notice('error', html`<p>Its texts cannot be removed: every shopper whose language has no texts of its own sees them. Change them on the prompt page instead. The default language itself is the shop’s <code>defaultLocale</code> setting, changed through <code>PATCH /v1/settings</code>.</p>`)}
<div class="card-footer"><a class="button" href="${base}">Back to the prompt page</a></div>`
      : html`<h2 id="remove-title">Remove the texts for ${name}?</h2>
<p>Shoppers in ${name} will see the texts of the shop’s default language, ${localeName(input.defaultLocale)}, within five minutes. This cannot be undone here: to bring them back, add ${input.locale} again with its four texts.</p>
${input.otherLocales.length > 0 ? html`<p class="meta">The other languages stay as they are: ${input.otherLocales.map(localeName).join(', ')}.</p>` : ''}
<form method="post" action="${base}/remove">
${csrfField(input.chrome.csrfToken)}
<input type="hidden" name="locale" value="${input.locale}">
<div class="card-footer"><button class="button danger" type="submit">Remove the ${name} texts</button><a href="${base}">Cancel</a></div>
</form>`;
  const body = html`<div class="page-header"><h1>Remove a language’s texts</h1></div>
<section class="card" aria-labelledby="remove-title">
${content}
</section>`;
  return appPage({ title: `Remove texts · ${input.chrome.site.name}`, assets: input.assets, chrome: { ...input.chrome, current: 'prompt' }, body });
}

const POSITION_CLASSES: Record<string, string> = { 'bottom-right': 'br', 'bottom-left': 'bl', top: 't', center: 'm' };

/**
 * A preview frame: a sketch of a shop with the prompt over it, drawn by the server (the texts as
 * text, the theme from the frame's stylesheet) until the preview script draws the real one.
 */
export function previewFramePage(input: { view: PreviewView; prompt: PreviewPrompt; stylesheet: string; previewScript: DashboardAsset | undefined }): Html {
  const { texts, theme } = input.prompt;
  const products = input.view === 'phone' ? 4 : 8;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Prompt preview</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${input.stylesheet}">
${input.previewScript ? html`<script src="${assetUrl(input.previewScript.name)}" defer></script>` : ''}
</head>
<body class="${input.view}">
<div id="preview-shop" class="shop" aria-hidden="true">
<div class="shop-bar"><span class="shop-logo"></span><span class="shop-links"><i></i><i></i><i></i></span><span class="shop-cart"></span></div>
<div class="shop-hero"><span class="line wide"></span><span class="line"></span><span class="pill"></span></div>
<div class="shop-grid">${Array.from({ length: products }, () => html`<div class="product"><span class="photo"></span><span class="line"></span><span class="line short"></span></div>`)}</div>
</div>
<div id="static-prompt" class="c ${POSITION_CLASSES[theme.position] ?? 'br'}" role="dialog" aria-labelledby="static-title" aria-describedby="static-body">
<div class="h">${theme.logoUrl ? html`<img class="l" src="${theme.logoUrl}" alt="" width="44" height="44">` : ''}<div><h2 id="static-title">${texts.title}</h2><p id="static-body">${texts.body}</p></div></div>
<div class="a"><button type="button">${texts.later}</button><button type="button" class="y">${texts.allow}</button></div>
</div>
</body>
</html>`;
}

/**
 * The frame's stylesheet: the shop sketch, and the server's drawing of the prompt after the
 * snippet's own rules (client-snippet/src/prompt.ts), with the theme's values, each already
 * checked to be a colour or a whole number, so nothing else can reach the CSS.
 */
export function previewFrameCss(prompt: PreviewPrompt): string {
  const { theme } = prompt;
  return `:root{--a:${theme.accent};--o:${theme.onAccent};--bg:${theme.background};--fg:${theme.text};--r:${theme.radius}px}
*{box-sizing:border-box}
html,body{margin:0;height:100%;overflow:hidden}
body{background:#f4f5f7;font:14px/1.45 system-ui,sans-serif}
.shop{height:100%;display:flex;flex-direction:column;gap:28px;padding:0 48px}
.shop-bar{display:flex;align-items:center;gap:32px;height:72px;margin:0 -48px;padding:0 48px;background:#fff;border-bottom:1px solid #e4e7ec}
.shop-logo{width:120px;height:22px;border-radius:6px;background:#cfd4dc}
.shop-links{display:flex;gap:20px;flex:1}.shop-links i{width:64px;height:10px;border-radius:5px;background:#e4e7ec}
.shop-cart{width:28px;height:28px;border-radius:50%;background:#e4e7ec}
.shop-hero{display:flex;flex-direction:column;justify-content:center;gap:14px;height:200px;padding:0 48px;border-radius:14px;background:linear-gradient(120deg,#e9ecf2,#dfe4ec)}
.line{display:block;height:12px;width:45%;border-radius:6px;background:#cfd4dc}.line.wide{height:22px;width:60%}.line.short{width:30%}
.pill{display:block;width:140px;height:36px;border-radius:18px;background:#c3c9d3}
.shop-grid{display:grid;grid-template-columns:repeat(4,1fr);gap:24px}
.product{display:flex;flex-direction:column;gap:10px}.product .photo{aspect-ratio:1;border-radius:12px;background:#e4e7ec}.product .line{width:70%}
body.phone .shop{padding:0 16px;gap:18px}body.phone .shop-bar{margin:0 -16px;padding:0 16px;height:56px;gap:16px}
body.phone .shop-links{display:none}body.phone .shop-logo{flex:1;max-width:96px}body.phone .shop-cart{margin-left:auto}
body.phone .shop-hero{height:150px;padding:0 20px}body.phone .shop-grid{grid-template-columns:repeat(2,1fr);gap:14px}
.c{position:fixed;z-index:2;box-sizing:border-box;width:384px;max-width:calc(100vw - 32px);padding:20px;background:var(--bg);color:var(--fg);border:1px solid #8883;border-radius:var(--r);box-shadow:0 1px 3px #0000001a,0 16px 40px -8px #00000059}
.br{right:20px;bottom:20px}.bl{left:20px;bottom:20px}.t{top:20px;left:0;right:0;margin:auto}.m{inset:0;margin:auto;height:fit-content}
.h{display:flex;gap:14px;align-items:flex-start}
.l{flex:none;width:44px;height:44px;object-fit:contain;border-radius:min(var(--r),10px)}
h2{margin:2px 0 4px;font-size:16px;font-weight:650;line-height:1.3}p{margin:0}
.a{display:flex;justify-content:flex-end;gap:8px;margin-top:18px}
button{font:inherit;font-weight:600;padding:9px 18px;border:1px solid #8886;border-radius:min(var(--r),10px);background:none;color:inherit}
.y{background:var(--a);border-color:var(--a);color:var(--o)}
@media (max-width:480px){.c{inset:auto 0 0;width:auto;max-width:none;height:auto;margin:0;border-width:1px 0 0;border-radius:var(--r) var(--r) 0 0}.a button{flex:1}}
`;
}
