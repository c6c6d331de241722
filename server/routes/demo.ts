import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { insertNotificationWithDeliveries } from '../db/notifications.ts';
import { listSites, type SiteRow } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { installSnippet } from '../sites/install-snippet.ts';
import { text, validate } from '../validation.ts';

const PRODUCTS = [
  { id: 'sneaker-blue', name: 'Blue sneakers', price: 89, colour: '#3b6fd8' },
  { id: 'tote-olive', name: 'Olive tote bag', price: 39, colour: '#7a8b3c' },
  { id: 'scarf-rust', name: 'Rust wool scarf', price: 29, colour: '#b4532a' },
];

/** Everything interpolated into the page is escaped (DESIGN §6.8), even values we wrote ourselves. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function productImage(colour: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160"><rect width="240" height="160" rx="12" fill="${colour}"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/**
 * The demo shop on the dev server (`/demo`): three products, a cart and a checkout, with the
 * snippet installed exactly as the README says — the tag, and `/pushcart-sw.js` on this origin —
 * so a newcomer can opt in and get a push in their own browser.
 */
export function demoRoutes(deps: AppDeps) {
  const demoOrigin = new URL(deps.config.publicUrl).origin;
  const demoSite = async (): Promise<SiteRow> => {
    const site = (await listSites(deps.db)).find((s) => s.allowed_origins.includes(demoOrigin));
    if (!site) throw new ApiError('not_found', `No site lists ${demoOrigin}; create one with pushcart site create --origin ${demoOrigin}`);
    return site;
  };

  return new Hono<AppEnv>()
    .get('/demo', async (c) => {
      const site = await demoSite();
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
</style>
<script>window.pushcart = window.pushcart || [];</script>
${scriptTag}
</head><body>
<header><h1>Pushcart demo shop</h1>
<p>Allow notifications, put something in the cart, then send yourself a push.</p>
<button type="button" id="opt-in">Get deals and cart reminders</button>
<button type="button" id="test-push">Send me a test push</button>
<span id="status" role="status"></span></header>
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
    // Dev-server only: lets the demo page send to its own visitor without a secret key in the page.
    .post('/demo/test-push', validate('json', z.object({ visitorId: text().min(8).max(64) })), async (c) => {
      if (c.req.header('Origin') !== demoOrigin) throw new ApiError('origin_not_allowed', 'Only the demo page may send test pushes');
      const site = await demoSite();
      const id = crypto.randomUUID();
      const audience = await deps.db.transaction().execute((trx) =>
        insertNotificationWithDeliveries(
          trx,
          {
            id,
            siteId: site.id,
            source: 'demo',
            kind: 'transactional',
            content: {
              title: 'Your cart misses you',
              body: 'The blue sneakers are still in your cart.',
              url: `${demoOrigin}/demo`,
              image: productImage('#3b6fd8'),
              actions: [{ action: 'checkout', title: 'Check out', url: `${demoOrigin}/demo#cart` }],
              tag: id,
            },
            audience: { visitorIds: [c.req.valid('json').visitorId] },
            ttlSeconds: 3600,
            urgency: 'normal',
            topic: null,
          },
          new Date((deps.now ?? Date.now)()),
        ),
      );
      if (audience > 0) await deps.onNotificationQueued?.(id);
      return c.json({ id, audience }, 202);
    });
}
