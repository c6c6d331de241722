// The soft prompt: a small dialog asked before the browser's own permission prompt, so the browser
// prompt only ever appears after a shopper said yes (browsers penalise sites whose permission
// prompts are mostly dismissed).
//
// It lives in a shadow root, so neither the shop's CSS reaches it nor its CSS the shop. Its styles
// are a constructed stylesheet and its theme custom properties set through element.style: both are
// CSSOM, which a shop's Content-Security-Policy (style-src without 'unsafe-inline') does not block,
// where a <style> element or a style attribute in markup would be (CSP Level 3, §6.1.3). Browsers
// without constructed stylesheets get a <style> element instead.
import type { PromptSettings } from '../../service-worker/src/contract';

const CSS =
  ':host{all:initial}' +
  '.c{position:fixed;z-index:2147483647;box-sizing:border-box;width:384px;max-width:calc(100vw - 32px);padding:20px;' +
  'background:var(--bg);color:var(--fg);border:1px solid #8883;border-radius:var(--r);font:14px/1.45 var(--pushcart-font,system-ui,sans-serif);' +
  'box-shadow:0 1px 3px #0000001a,0 16px 40px -8px #00000059;animation:i .28s cubic-bezier(.2,.8,.2,1)}' +
  '.br{right:20px;bottom:20px}.bl{left:20px;bottom:20px}.t{top:20px;left:0;right:0;margin:auto}.m{inset:0;margin:auto;height:fit-content}' +
  '.h{display:flex;gap:14px;align-items:flex-start}' +
  '.l{flex:none;width:44px;height:44px;object-fit:contain;border-radius:min(var(--r),10px)}' +
  'h2{margin:2px 0 4px;font-size:16px;font-weight:650;line-height:1.3}p{margin:0}' +
  '.a{display:flex;justify-content:flex-end;gap:8px;margin-top:18px}' +
  'button{font:inherit;font-weight:600;padding:9px 18px;cursor:pointer;' +
  'border:1px solid #8886;border-radius:min(var(--r),10px);background:none;color:inherit}' +
  'button:hover{background:#8882}button:focus-visible{outline:2px solid var(--a);outline-offset:2px}' +
  '.y,.y:hover{background:var(--a);border-color:var(--a);color:var(--o)}.y:hover{filter:brightness(1.1)}' +
  '@keyframes i{from{opacity:0;transform:translateY(12px)}}' +
  '@media (max-width:480px){.c{inset:auto 0 0;width:auto;max-width:none;height:auto;margin:0;border-width:1px 0 0;' +
  'border-radius:var(--r) var(--r) 0 0;padding:20px 20px calc(20px + env(safe-area-inset-bottom))}.a button{flex:1}}' +
  '@media (prefers-reduced-motion:reduce){.c{animation:none}}';

const POSITIONS = { 'bottom-right': 'br', 'bottom-left': 'bl', top: 't', center: 'm' };

/**
 * Shows the prompt unless one is open; true when it showed. `answer(true)` runs synchronously
 * inside the Allow click, so the caller can call Notification.requestPermission() with the
 * user's activation. Texts: data-* attributes on the tag win over the site's.
 */
export function showPrompt({ texts, theme }: PromptSettings, data: DOMStringMap, answer: (allowed: boolean) => void): boolean {
  if (document.getElementById('pushcart-prompt')) return false;
  const returnFocus = document.activeElement as HTMLElement | null;
  const host = document.createElement('div');
  host.id = 'pushcart-prompt';
  const root = host.attachShadow({ mode: 'open' });
  // The site's theme; a page's own --pushcart-* properties on :root (the earlier way to theme) still win.
  host.style.cssText = `--a:var(--pushcart-accent,${theme.accent});--o:${theme.onAccent};--bg:var(--pushcart-bg,${theme.background});--fg:var(--pushcart-fg,${theme.text});--r:var(--pushcart-radius,${theme.radius}px)`;
  // Fixed markup only: the shop's texts are set as text below, never parsed as HTML. (Buttons
  // outside a form submit nothing, so no type=button.)
  root.innerHTML =
    `<div class="c ${POSITIONS[theme.position] || 'br'}" role="dialog" aria-modal="true" aria-labelledby="t" aria-describedby="b">` +
    '<div class="h"><div><h2 id="t"></h2><p id="b"></p></div></div>' +
    '<div class="a"><button class="pushcart-later"></button><button class="y pushcart-allow"></button></div></div>';
  if (root.adoptedStyleSheets) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else (root as ShadowRoot).prepend(Object.assign(document.createElement('style'), { textContent: CSS }));
  const card = root.firstElementChild as HTMLElement;
  const [heading, paragraph, laterButton, allowButton] = card.querySelectorAll<HTMLElement>('h2,p,button');
  heading!.textContent = data.promptTitle || texts.title;
  paragraph!.textContent = data.promptBody || texts.body;
  laterButton!.textContent = data.later || texts.later;
  allowButton!.textContent = data.allow || texts.allow;
  if (theme.logoUrl) {
    // Decorative: the title beside it says what it is. A logo that fails to load leaves no gap.
    const logo = new Image(44, 44);
    logo.className = 'l';
    logo.alt = '';
    logo.onerror = () => logo.remove();
    logo.src = theme.logoUrl;
    card.firstElementChild!.prepend(logo);
  }

  const close = (allowed: boolean) => {
    host.remove();
    if (returnFocus && returnFocus.isConnected) returnFocus.focus();
    answer(allowed);
  };
  allowButton!.onclick = () => close(true);
  laterButton!.onclick = () => close(false);
  card.onkeydown = (event) => {
    if (event.key === 'Escape') close(false);
    if (event.key !== 'Tab') return;
    // Keep Tab within the two buttons while the dialog is open (it is modal to the keyboard).
    const active = root.activeElement;
    if (event.shiftKey ? active === laterButton : active === allowButton) {
      event.preventDefault();
      (event.shiftKey ? allowButton : laterButton)!.focus();
    }
  };
  document.body.append(host);
  allowButton!.focus();
  return true;
}
