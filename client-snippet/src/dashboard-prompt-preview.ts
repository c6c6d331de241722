// The dashboard's live prompt preview, bundled on its own (server/runtime/node/client-bundles.ts)
// and served only to the dashboard's prompt page; no shop ever loads it. It sits with the snippet
// because it draws with the snippet's own `showPrompt`, so what the owner sees is the prompt the
// shop will show, not a copy of it.
//
// One script, two roles:
// - in a preview frame (`/dashboard/sites/<id>/prompt/preview`): draws the prompt with
//   `showPrompt` from the frame's query string, replacing the server's static drawing, and draws
//   it again whenever the page above sends new values;
// - on the prompt page: sends the form's values to both frames as the owner types, scales the
//   frames to the space they have, pairs each colour field with a colour picker, and says the
//   text's contrast as it changes.
// Nothing here is inline script or style: the frames draw through CSSOM (constructed stylesheets,
// element.style), which the dashboard's CSP allows.
import type { PromptSettings } from '../../service-worker/src/contract';
import { contrastRatio, HEX_COLOUR, MIN_TEXT_CONTRAST, previewFromQuery, previewQuery, type PreviewPrompt } from '../../server/sites/prompt-look';
import { showPrompt } from './prompt';

const MESSAGE = 'pushcart-prompt-preview';
const READY = 'pushcart-prompt-preview-ready';

/** Drawn while the query says nothing usable (the server always sends every value). */
const FALLBACK: PreviewPrompt = {
  texts: { title: 'Get deals and cart reminders?', body: 'We will only notify you about prices and your cart.', allow: 'Allow', later: 'Later' },
  theme: { accent: '#2557d6', onAccent: '#ffffff', background: '#ffffff', text: '#1f2328', radius: 16, position: 'bottom-right' },
};

function inFrame(): void {
  let current = previewFromQuery(new URLSearchParams(location.search), FALLBACK);
  const draw = (prompt: PreviewPrompt, animate: boolean) => {
    document.getElementById('pushcart-prompt')?.remove();
    document.getElementById('static-prompt')?.remove();
    const settings: PromptSettings = { trigger: 'manual', pageViews: 1, delaySeconds: 0, snoozeDays: 1, ...prompt };
    // showPrompt moves the focus to Allow, as it should on a shop; a preview must leave it in the
    // field the owner is typing in (and show no focus ring nobody asked for), so focusing is off
    // while it draws. The buttons answer nothing: the frame is inert, so they are never pressed.
    const focus = HTMLElement.prototype.focus;
    HTMLElement.prototype.focus = () => undefined;
    try {
      showPrompt(settings, {}, () => undefined);
    } finally {
      HTMLElement.prototype.focus = focus;
    }
    const root = document.getElementById('pushcart-prompt')?.shadowRoot;
    if (!animate && root && root.adoptedStyleSheets) {
      // Drawn again at each keystroke: the entry animation would flicker.
      const still = new CSSStyleSheet();
      still.replaceSync('.c{animation:none}');
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, still];
    }
  };
  draw(current, true);
  window.addEventListener('message', (event: MessageEvent) => {
    if (event.origin !== location.origin || event.source !== window.parent) return;
    const data = event.data as { type?: unknown; query?: unknown } | null;
    if (!data || data.type !== MESSAGE || typeof data.query !== 'string') return;
    current = previewFromQuery(new URLSearchParams(data.query), current);
    draw(current, false);
  });
  if (window.parent !== window) window.parent.postMessage({ type: READY }, location.origin);
}

function onPromptPage(form: HTMLFormElement): void {
  const frames = Array.from(document.querySelectorAll<HTMLIFrameElement>('iframe[data-prompt-frame]'));
  const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement | RadioNodeList | null;
  const value = (name: string) => {
    const element = field(name);
    return element ? element.value : '';
  };
  // The texts shown are those of the language last worked on (the first one to begin with).
  const textGroups = Array.from(form.querySelectorAll<HTMLElement>('[data-prompt-texts]'));
  let activeTexts = textGroups.find((group) => group.hasAttribute('data-preview-first')) ?? textGroups[0];
  const textOf = (key: string) => {
    const input = activeTexts?.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[data-text="${key}"]`);
    if (!input) return '';
    return input.value.trim() || input.placeholder;
  };
  let last = previewFromQuery(new URLSearchParams(frames[0] ? new URL(frames[0].src).search : ''), FALLBACK);

  const readout = document.getElementById('contrast-readout');
  const sayContrast = () => {
    const text = value('text').trim();
    const background = value('background').trim();
    if (!readout || !HEX_COLOUR.test(text) || !HEX_COLOUR.test(background)) return;
    const ratio = contrastRatio(text, background);
    const enough = ratio >= MIN_TEXT_CONTRAST;
    readout.textContent = enough
      ? `Text contrast ${ratio.toFixed(1)}:1: easy to read.`
      : `Text contrast ${ratio.toFixed(1)}:1: too faint, at least ${MIN_TEXT_CONTRAST}:1 is needed.`;
    readout.classList.toggle('too-faint', !enough);
  };

  const send = (frame: HTMLIFrameElement) => frame.contentWindow?.postMessage({ type: MESSAGE, query: previewQuery(last).toString() }, location.origin);
  const update = () => {
    const query = new URLSearchParams({
      title: textOf('title'),
      body: textOf('body'),
      allow: textOf('allow'),
      later: textOf('later'),
      accent: value('accent'),
      background: value('background'),
      text: value('text'),
      radius: value('radius'),
      position: value('position'),
      logo: value('logoUrl'),
    });
    last = previewFromQuery(query, last);
    frames.forEach(send);
    sayContrast();
  };

  window.addEventListener('message', (event: MessageEvent) => {
    if (event.origin !== location.origin) return;
    const frame = frames.find((candidate) => candidate.contentWindow === event.source);
    if (frame && (event.data as { type?: unknown } | null)?.type === READY) send(frame);
  });
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  form.addEventListener('focusin', (event) => {
    const group = (event.target as Element).closest<HTMLElement>('[data-prompt-texts]');
    if (group && group !== activeTexts) {
      activeTexts = group;
      const caption = document.getElementById('preview-locale');
      if (caption && group.dataset.localeName) caption.textContent = group.dataset.localeName;
      update();
    }
  });

  // Colour pickers beside the colour fields: shown only here, since the fields work without them.
  form.querySelectorAll<HTMLInputElement>('input[type="color"][data-colour-for]').forEach((picker) => {
    const text = document.getElementById(picker.dataset.colourFor ?? '') as HTMLInputElement | null;
    if (!text) return;
    const sync = () => {
      const typed = text.value.trim();
      if (!HEX_COLOUR.test(typed)) return;
      picker.value = typed.length === 4 ? `#${typed.slice(1).replace(/./g, (digit) => digit + digit)}`.toLowerCase() : typed.toLowerCase();
    };
    sync();
    picker.hidden = false;
    picker.addEventListener('input', () => {
      text.value = picker.value;
      update();
    });
    text.addEventListener('input', sync);
  });

  // The frames are drawn at their real widths (so the phone frame gets the phone layout) and scaled down to fit.
  const stages = Array.from(document.querySelectorAll<HTMLElement>('[data-preview-stage]'));
  const fit = () => {
    for (const stage of stages) {
      const width = Number(stage.dataset.previewWidth);
      const height = Number(stage.dataset.previewHeight);
      const room = stage.parentElement?.clientWidth ?? width;
      // The stylesheet may cap the scale per layout (a phone frame drawn smaller beside a wide form).
      const cap = parseFloat(getComputedStyle(stage).getPropertyValue('--preview-max-scale')) || 1;
      const scale = Math.min(cap, room / width);
      stage.style.setProperty('--preview-scale', String(scale));
      stage.style.setProperty('--preview-height', `${Math.round(height * scale)}px`);
      stage.style.setProperty('--preview-width', `${Math.round(width * scale)}px`);
    }
  };
  fit();
  if (typeof ResizeObserver === 'function') {
    const observer = new ResizeObserver(fit);
    stages.forEach((stage) => stage.parentElement && observer.observe(stage.parentElement));
  } else window.addEventListener('resize', fit);
  sayContrast();
}

if (document.getElementById('preview-shop')) inFrame();
else {
  const form = document.getElementById('prompt-form');
  if (form instanceof HTMLFormElement) onPromptPage(form);
}
