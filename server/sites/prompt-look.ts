/**
 * How the soft prompt looks, as plain functions shared by the server (the settings' contrast
 * rule, the site config's label colour, the dashboard's preview frames) and the dashboard's
 * preview script in the browser (client-snippet/src/dashboard-prompt-preview.ts), so the preview
 * an owner sees is computed exactly as the shop's prompt will be. It imports nothing, so both
 * builds (Node's TypeScript, the browser bundle) take it as it is.
 */

/** A CSS colour as the prompt's theme takes it: `#rgb` or `#rrggbb`, nothing a stylesheet could read as more. */
export const HEX_COLOUR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

/** What WCAG 2.2 success criterion 1.4.3 asks of body text against its background. */
export const MIN_TEXT_CONTRAST = 4.5;

/** WCAG 2.2 relative luminance of a `#rgb`/`#rrggbb` colour (sRGB, https://www.w3.org/TR/WCAG22/#dfn-relative-luminance). */
function luminance(colour: string): number {
  const hex = colour.length === 4 ? colour.replace(/[0-9a-f]/gi, (digit) => digit + digit) : colour;
  const [r, g, b] = [1, 3, 5].map((i) => {
    const channel = parseInt(hex.slice(i, i + 2), 16) / 255;
    return channel <= 0.04045 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** The WCAG 2.2 contrast ratio of two colours, 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

/** The label colour on the accent-coloured button: white or near-black, whichever reads better. */
export function onAccentColour(accent: string): string {
  return contrastRatio(accent, '#ffffff') >= contrastRatio(accent, '#111111') ? '#ffffff' : '#111111';
}

/** The words the settings refuse a theme with when its text would be hard to read. */
export function contrastProblem(text: string, background: string): string | undefined {
  const ratio = contrastRatio(text, background);
  if (ratio >= MIN_TEXT_CONTRAST) return undefined;
  return `text ${text} on background ${background} has a contrast of ${ratio.toFixed(1)}:1; at least ${MIN_TEXT_CONTRAST}:1 is needed to be readable (WCAG 2.2, 1.4.3)`;
}

export const PROMPT_POSITIONS = ['bottom-right', 'bottom-left', 'top', 'center'] as const;
export type PromptPosition = (typeof PROMPT_POSITIONS)[number];

/** The prompt as the preview draws it: the shape `showPrompt` takes (service-worker/src/contract.ts). */
export interface PreviewPrompt {
  texts: { title: string; body: string; allow: string; later: string };
  theme: { accent: string; onAccent: string; background: string; text: string; radius: number; position: PromptPosition; logoUrl?: string };
}

/** The preview's query string keys, one per field the prompt is drawn from. */
const TEXT_KEYS = ['title', 'body', 'allow', 'later'] as const;

/** The query string a preview frame is opened with (the prompt it draws before any script runs). */
export function previewQuery(prompt: PreviewPrompt): URLSearchParams {
  const query = new URLSearchParams();
  for (const key of TEXT_KEYS) query.set(key, prompt.texts[key]);
  const { theme } = prompt;
  query.set('accent', theme.accent);
  query.set('background', theme.background);
  query.set('text', theme.text);
  query.set('radius', String(theme.radius));
  query.set('position', theme.position);
  if (theme.logoUrl) query.set('logo', theme.logoUrl);
  return query;
}

/**
 * A preview's prompt from its query string, or from the form as the owner types: every value is
 * checked as the settings check it (a colour, a radius in range, a known position, an https logo,
 * texts cut to their limits), and a value that is not yet valid is drawn as `fallback` has it, so
 * a half-typed colour never reaches a stylesheet.
 */
export function previewFromQuery(query: { get(name: string): string | null }, fallback: PreviewPrompt): PreviewPrompt {
  const limits = { title: 120, body: 300, allow: 40, later: 40 };
  const texts = { ...fallback.texts };
  for (const key of TEXT_KEYS) {
    const value = query.get(key)?.trim();
    if (value) texts[key] = value.slice(0, limits[key]);
  }
  const colour = (name: 'accent' | 'background' | 'text') => {
    const value = query.get(name)?.trim() ?? '';
    return HEX_COLOUR.test(value) ? value : fallback.theme[name];
  };
  const accent = colour('accent');
  const radiusText = query.get('radius')?.trim() ?? '';
  const radius = /^\d{1,2}$/.test(radiusText) && Number(radiusText) <= 32 ? Number(radiusText) : fallback.theme.radius;
  const positionText = query.get('position') ?? '';
  const position = (PROMPT_POSITIONS as readonly string[]).includes(positionText) ? (positionText as PromptPosition) : fallback.theme.position;
  const logo = query.get('logo')?.trim() ?? '';
  const logoUrl = isHttpsImageUrl(logo) ? logo : undefined;
  return {
    texts,
    theme: { accent, onAccent: onAccentColour(accent), background: colour('background'), text: colour('text'), radius, position, ...(logoUrl ? { logoUrl } : {}) },
  };
}

/** An https URL without a user name or password: what the settings accept as a logo. */
function isHttpsImageUrl(value: string): boolean {
  if (!value.startsWith('https://') || /^https:\/\/[^/?#]*@/.test(value)) return false;
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}
