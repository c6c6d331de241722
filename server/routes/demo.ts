import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { findDemoSite, type SiteRow } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { checkOrigin, clientAddress, limit } from '../middleware/browser-access.ts';
import { AddressRateLimiter, RateLimiter } from '../middleware/rate-limit.ts';
import { reportUrl } from '../notifications/payload.ts';
import { send } from '../notifications/send.ts';
import { installSnippet } from '../sites/install-snippet.ts';
import { validate, visitorIdText } from '../validation.ts';
import { operation } from '../openapi/operation.ts';

const PRODUCTS = [
  { id: 'sneaker-blue', name: 'Blue sneakers', price: 89, colour: '#3b6fd8' },
  { id: 'tote-olive', name: 'Olive tote bag', price: 39, colour: '#7a8b3c' },
  { id: 'scarf-rust', name: 'Rust wool scarf', price: 29, colour: '#b4532a' },
];

/** Everything interpolated into the page is escaped, even values we wrote ourselves: one habit, no exceptions to audit. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function productImage(colour: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160"><rect width="240" height="160" rx="12" fill="${colour}"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** Test pushes one visitor may ask for: a burst of 3, then one every 10 seconds. */
const TEST_PUSHES_PER_VISITOR = { capacity: 3, refillPerSecond: 0.1 };
/** And one address, whatever visitor ids it names. */
const TEST_PUSHES_PER_ADDRESS = { capacity: 10, refillPerSecond: 0.2 };

/**
 * The demo shop (`/demo`): three products, a cart and a checkout, with the snippet installed
 * exactly as the README says — the tag, and `/pushcart-sw.js` on this origin — so a newcomer can
 * opt in and get a push in their own browser. It exists only for a site the operator marked as
 * the demo (the one `npm start` creates on an empty database, or `pushcart site create --demo`);
 * without one, /demo and /demo/test-push are 404 like any unknown path.
 */
export function demoRoutes(deps: AppDeps) {
  const now = deps.now ?? Date.now;
  const perVisitor = new RateLimiter(TEST_PUSHES_PER_VISITOR, now);
  // Counted like every per-address limit: IPv6 per /64 and per /48.
  const perAddress = new AddressRateLimiter(TEST_PUSHES_PER_ADDRESS, now);
  const demoOrigin = new URL(deps.config.publicUrl).origin;
  const demoSite = async (c: { req: { method: string; path: string } }): Promise<SiteRow> => {
    const site = await findDemoSite(deps.db, demoOrigin);
    if (!site) throw new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`);
    return site;
  };

  return new Hono<AppEnv>()
    .get(
      '/demo',
      operation({
        summary: 'The demo shop',
        description: 'Only on the dev server (`npm start` with the demo on): a page to try the prompt, a cart reminder and a test push.',
        tag: 'Demo',
        access: 'public',
        responses: { 200: { description: 'The page', contentType: 'text/html' } },
        errors: ['not_found', 'rate_limited'],
      }),
      async (c) => {
      // A page view costs a query: counted like the browser routes' requests.
      limit(c.get('rateLimiters').perIp, clientAddress(c, deps), 'Too many requests from this address');
      const site = await demoSite(c);
      const { scriptTag } = installSnippet(deps.config.publicUrl, site.publishable_key);
      const products = PRODUCTS.map(
        (p) => `<li class="product">
  <img src="${productImage(p.colour)}" alt="" width="240" height="160">
  <h2>${escapeHtml(p.name)}</h2><p>€${p.price}</p>
  <button type="button" data-add="${escapeHtml(p.id)}">Add to cart</button>
</li>`,
      ).join('\n');
      return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pushcart demo shop</title>
<link rel="icon" href="data:,">
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1d1d1f}
ul{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:1rem}
.product{border:1px solid #ddd;border-radius:12px;padding:1rem}
button{font:inherit;padding:.5rem 1rem;border-radius:8px;border:1px solid #888;background:#fff;cursor:pointer}
#cart{border-top:1px solid #ddd;margin-top:1rem;padding-top:1rem}
.actions{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
#push-status:not(:empty){margin:.75rem 0 0;padding:.5rem .75rem;border-left:4px solid #2557d6;background:#f2f5fc}
</style>
<script>
window.pushcart = window.pushcart || [];
// What the snippet reports about the subscription, in words the shopper can act on. Listening here,
// before the snippet's tag, so not even an early failure (its config refused) goes unseen.
(() => {
  const show = (text) => {
    const write = () => { document.getElementById('push-status').textContent = text; };
    if (document.readyState === 'loading') addEventListener('DOMContentLoaded', write, { once: true });
    else write();
  };
  const blocked = 'Notifications are blocked in this browser’s site settings.';
  addEventListener('pushcart:subscribed', () => show('Notifications are on: the push server stored your subscription.'));
  addEventListener('pushcart:unsubscribed', () => show('Notifications are off.'));
  addEventListener('pushcart:permission', ({ detail }) => detail === 'denied' && show(blocked));
  addEventListener('pushcart:error', ({ detail }) => {
    const reason = detail.message + ' (' + detail.code + ').';
    const passing = !detail.status || detail.status === 429 || detail.status >= 500;
    if (detail.retryInSeconds) show('Not subscribed yet: ' + reason + ' Trying again in ' + detail.retryInSeconds + ' s.');
    else if (!passing) show('The push server refused the subscription: ' + reason);
    else if (detail.code === 'subscribe_timeout') show('Not subscribed: ' + reason + ' Try again later.');
    else show('Not subscribed yet: ' + reason + ' A later visit tries again.');
  });
  pushcart.push((api) => {
    if (api.state === 'denied') show(blocked);
    if (api.state === 'unsupported') show('This browser cannot receive web push on this page.');
  });
})();
</script>
${scriptTag}
</head><body>
<header><h1>Pushcart demo shop</h1>
<p>Allow notifications, put something in the cart, then send yourself a push.</p>
<div class="actions"><button type="button" id="opt-in">Get deals and cart reminders</button>
<button type="button" id="test-push">Send me a test push</button>
<span id="status" role="status"></span></div>
<p id="push-status" role="status"></p></header>
<ul>${products}</ul>
<section id="cart" aria-live="polite"><h2>Cart</h2><p id="cart-items">Empty</p>
<button type="button" id="checkout">Checkout</button></section>
<script type="module">
const products = ${JSON.stringify(PRODUCTS)};
const cart = [];
const cartId = 'cart-' + Math.random().toString(36).slice(2, 10);
const status = (text) => { document.getElementById('status').textContent = text; };
const render = () => {
  document.getElementById('cart-items').textContent = cart.length ? cart.map((p) => p.name).join(', ') : 'Empty';
};
document.querySelectorAll('[data-add]').forEach((button) => button.addEventListener('click', () => {
  cart.push(products.find((p) => p.id === button.dataset.add));
  render();
  const items = cart.map((p) => ({ productId: p.id, name: p.name, price: p.price, quantity: 1 }));
  pushcart.push(['track', 'cart_updated', { cartId, items, total: items.reduce((sum, i) => sum + i.price, 0), currency: 'EUR', url: location.href }]);
}));
document.getElementById('checkout').addEventListener('click', () => {
  pushcart.push(['track', 'order_completed', { orderId: 'order-' + Date.now(), value: cart.reduce((s, p) => s + p.price, 0), currency: 'EUR', cartId }]);
  cart.length = 0;
  render();
  status('Thank you for your order!');
});
document.getElementById('opt-in').addEventListener('click', () => pushcart.push(['optIn']));
document.getElementById('test-push').addEventListener('click', async () => {
  const visitorId = localStorage.getItem('pushcart:visitor');
  if (!visitorId) return status('Allow notifications first.');
  const response = await fetch('/demo/test-push', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ visitorId }) });
  const body = await response.json();
  status(response.ok ? 'Sent to ' + body.audience + ' subscription(s).' : body.error.message);
});
</script>
</body></html>`);
    })
    // Lets the demo page send to its own visitor without a secret key in the page. The visitor id is
    // the random token only that browser holds, the push is fixed text to the demo site's own
    // subscribers, and both the visitor and the address are rate-limited: the door opens onto
    // nothing but the asker's own browser.
    .post(
      '/demo/test-push',
      operation({
        summary: 'Send a test push to the asking demo visitor',
        tag: 'Demo',
        access: 'public',
        responses: { 202: { description: 'Queued', schema: z.strictObject({ id: z.uuid(), audience: z.number().int().nonnegative() }) } },
        errors: ['not_found', 'origin_not_allowed', 'rate_limited'],
      }),
      validate('json', z.object({ visitorId: visitorIdText() }).strict()), async (c) => {
      // The address first, before any query: a flood with forged origins costs no database work.
      limit(perAddress, clientAddress(c, deps), 'Too many test pushes from this address');
      const site = await demoSite(c);
      checkOrigin(c, site, c.req.header('Origin'));
      const { visitorId } = c.req.valid('json');
      limit(perVisitor, `visitor:${visitorId}`, 'Too many test pushes for this visitor; wait a few seconds');
      const { id, audience } = await send(
        { db: deps.db, now: new Date((deps.now ?? Date.now)()), reportUrl: reportUrl(deps.config.publicUrl) },
        {
          site,
          source: 'demo',
          kind: 'transactional',
          content: {
            title: 'Your cart misses you',
            body: 'The blue sneakers are still in your cart.',
            url: `${demoOrigin}/demo`,
            image: productImage('#3b6fd8'),
            actions: [{ action: 'checkout', title: 'Check out', url: `${demoOrigin}/demo#cart` }],
          },
          to: { by: 'selectors', selectors: { visitorIds: [visitorId] } },
          ttlSeconds: 3600,
          urgency: 'normal',
          whenTooLarge: 'refuse',
        },
      );
      if (audience > 0) await deps.onNotificationQueued?.(id);
      return c.json({ id, audience }, 202);
    });
}
