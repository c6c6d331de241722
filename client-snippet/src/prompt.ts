// The soft prompt: a small non-blocking dialog asked before the browser's own permission prompt,
// so the browser prompt only ever appears after a shopper said yes (browsers penalise sites whose
// permission prompts are mostly dismissed).
import type { PromptSettings } from '../../service-worker/src/contract';

/** [title, body, allow, later], in the shopper's language when the shop set no text of its own. */
type Texts = [string, string, string, string];

const DEFAULT_TEXTS: Record<string, Texts> = {
  en: ['Get deals and cart reminders?', 'We will only notify you about prices and your cart. Turn it off at any time.', 'Allow', 'Later'],
  de: [
    'Angebote und Warenkorb-Erinnerungen erhalten?',
    'Wir benachrichtigen Sie nur zu Preisen und Ihrem Warenkorb. Sie können das jederzeit abschalten.',
    'Erlauben',
    'Später',
  ],
};

export type PromptConfig = Pick<PromptSettings, 'title' | 'body' | 'allowLabel' | 'laterLabel'>;

/**
 * data-* attributes win, then the site's config (the server sends only texts the shop set), then
 * the browser-language default.
 */
export function promptTexts(config: PromptConfig, data: DOMStringMap): Texts {
  const local = DEFAULT_TEXTS[navigator.language.slice(0, 2).toLowerCase()] ?? DEFAULT_TEXTS.en!;
  const configured = [config.title, config.body, config.allowLabel, config.laterLabel];
  return [data.promptTitle, data.promptBody, data.allow, data.later].map((attribute, i) => attribute || configured[i] || local[i]) as Texts;
}

// Scoped to #pushcart-prompt so shop styles are left alone; fixed so nothing on the page moves.
const CSS =
  '#pushcart-prompt{position:fixed;z-index:2147483647;right:16px;bottom:16px;box-sizing:border-box;' +
  'max-width:min(360px,calc(100vw - 32px));padding:16px;text-align:left;background:var(--pushcart-bg,#fff);' +
  'color:var(--pushcart-fg,#111);border-radius:var(--pushcart-radius,12px);' +
  'font:15px/1.4 var(--pushcart-font,system-ui,sans-serif);box-shadow:0 4px 24px #0004;animation:pushcart-in .2s}' +
  '#pushcart-prompt h2{margin:0 0 4px;font:inherit;font-size:16px;font-weight:600;color:inherit}' +
  '#pushcart-prompt p{margin:0 0 12px}' +
  '#pushcart-prompt button{font:inherit;margin:0 8px 0 0;padding:8px 14px;cursor:pointer;' +
  'border:1px solid var(--pushcart-accent,#2557d6);border-radius:var(--pushcart-radius,12px);' +
  'background:none;color:inherit}' +
  '#pushcart-prompt .pushcart-allow{background:var(--pushcart-accent,#2557d6);color:#fff}' +
  '@keyframes pushcart-in{from{opacity:0;transform:translateY(8px)}}' +
  '@media (prefers-reduced-motion:reduce){#pushcart-prompt{animation:none}}';

/**
 * Shows the prompt unless it is already open. `answer(true)` runs synchronously inside the Allow
 * click, so the caller can call Notification.requestPermission() with the user's activation.
 */
export function showPrompt([title, body, allow, later]: Texts, answer: (allowed: boolean) => void): void {
  if (document.getElementById('pushcart-prompt')) return;
  const returnFocus = document.activeElement as HTMLElement | null;
  const box = document.createElement('div');
  box.id = 'pushcart-prompt';
  box.tabIndex = -1;
  box.setAttribute('role', 'dialog');
  box.setAttribute('aria-modal', 'true');
  box.setAttribute('aria-labelledby', 'pushcart-title');
  box.setAttribute('aria-describedby', 'pushcart-body');
  box.innerHTML =
    `<style>${CSS}</style><h2 id="pushcart-title"></h2><p id="pushcart-body"></p>` +
    '<button type="button" class="pushcart-later"></button><button type="button" class="pushcart-allow"></button>';
  // Texts come from config and attributes: set as text, never parsed as HTML.
  const [heading, paragraph, laterButton, allowButton] = box.querySelectorAll<HTMLElement>('h2,p,button');
  heading!.textContent = title;
  paragraph!.textContent = body;
  laterButton!.textContent = later;
  allowButton!.textContent = allow;

  const close = (allowed: boolean) => {
    box.remove();
    if (returnFocus && returnFocus.isConnected) returnFocus.focus();
    answer(allowed);
  };
  allowButton!.onclick = () => close(true);
  laterButton!.onclick = () => close(false);
  box.onkeydown = (event) => {
    if (event.key === 'Escape') close(false);
    if (event.key !== 'Tab') return;
    // Keep Tab within the two buttons; the box itself holds focus first so a stray Enter does nothing.
    const active = document.activeElement;
    if (event.shiftKey ? active === laterButton || active === box : active === allowButton) {
      event.preventDefault();
      (event.shiftKey ? allowButton : laterButton)!.focus();
    }
  };
  document.body.appendChild(box);
  box.focus();
}
