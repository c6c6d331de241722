// pushcart.js, the drop-in snippet: <script async src="https://PUSH_HOST/pushcart.js" data-site="pk_…">.
// Bundled by server/runtime/node/client-bundles.ts into one IIFE; window.pushcart is its only global.
import { type Command, createPushcart } from './api';

type Queue = Command[] | { push(command: Command): void; optIn?: unknown };

try {
  const w = window as unknown as { pushcart?: Queue };
  const queued = w.pushcart;
  // Loaded twice (tag pasted twice, tag manager plus theme): the first copy owns the page.
  if (!queued || Array.isArray(queued)) {
    const script = (document.currentScript ||
      document.querySelector('script[data-site][src*="pushcart"]')) as HTMLScriptElement | null;
    if (script?.dataset.site) {
      const api = createPushcart(script);
      w.pushcart = api;
      for (const command of queued ?? []) api.push(command);
    } else {
      console.warn('Pushcart: no <script data-site="pk_…"> tag found; see the install instructions.');
    }
  }
} catch {
  // Never throw into the host page.
}
