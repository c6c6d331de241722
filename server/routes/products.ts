import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { findProduct, upsertProducts, type ProductInput } from '../db/products.ts';
import { ApiError } from '../errors.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { operation } from '../openapi/operation.ts';
import { isoInstant } from '../sites/site-view-schemas.ts';
import { fireProductTriggers } from '../triggers/price-drops.ts';
import { currencyCode, externalIdText, httpUrlText, money, text, validate } from '../validation.ts';

const httpUrl = httpUrlText();
const productId = externalIdText();
/** Postgres `integer`; no shop counts beyond it. */
const MAX_STOCK = 2_147_483_647;
/** The fields a feed sends; any left out keep their stored value. */
const productFields = z
  .object({
    /** Required the first time a product is fed (else its id stands in); later feeds may send only price or stock. */
    name: text().trim().min(1).max(500).optional(),
    url: httpUrl.optional(),
    image: httpUrl.optional(),
    price: money().optional(),
    currency: currencyCode().optional(),
    inStock: z.boolean().optional(),
    /** Units left; falling to the site's low-stock threshold fires the low-stock push. */
    stock: z.number().int().min(0).max(MAX_STOCK).optional(),
  })
  .strict();
const MAX_BATCH = 1000;
const batchBody = z
  .object({ products: z.array(productFields.extend({ id: productId })).min(1).max(MAX_BATCH) })
  .strict()
  .refine((body) => new Set(body.products.map((p) => p.id)).size === body.products.length, { message: 'products: each id at most once per batch', path: ['products'] });

const productSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  url: z.string().nullable(),
  image: z.string().nullable(),
  price: z.number().nullable(),
  currency: z.string().nullable(),
  inStock: z.boolean(),
  stock: z.number().int().nullable(),
});
/** Ids of the price-drop, back-in-stock and low-stock notifications this change queued. */
const notificationsQueued = z.array(z.uuid());

/**
 * The catalogue feed (secret key): `PUT /v1/products/{id}` and `POST /v1/products/batch`. A lower
 * price or a restock fires the price-drop and back-in-stock triggers in the same transaction, so
 * a change is never stored without its pushes queued, nor the other way round.
 */
export function productRoutes(deps: AppDeps) {
  const now = () => new Date((deps.now ?? Date.now)());
  async function store(siteId: string, site: Parameters<typeof fireProductTriggers>[1], products: ProductInput[]) {
    const { changes, queued } = await deps.db.transaction().execute(async (trx) => {
      const changes = await upsertProducts(trx, siteId, products, now());
      const queued = await fireProductTriggers(trx, site, changes, { now: now(), publicUrl: deps.config.publicUrl });
      return { changes, queued };
    });
    for (const id of queued) await deps.onNotificationQueued?.(id);
    return { changes, queued };
  }
  const toInput = (id: string, p: z.infer<typeof productFields>): ProductInput => ({ productId: id, ...p });

  return new Hono<AppEnv>()
    .use('/v1/products/*', secretKeyAuth(deps))
    .post(
      '/v1/products/batch',
      operation({
        summary: 'Feed up to 1,000 products',
        description: 'Fields left out keep their stored value. A lower price, a restock or stock falling to the low-stock threshold queues the price-drop, back-in-stock and low-stock pushes in the same transaction; every price change is kept in the price history.',
        tag: 'Catalogue',
        access: 'secretKey',
        responses: { 200: { description: 'Stored', schema: z.strictObject({ stored: z.number().int().nonnegative(), notificationsQueued }) } },
      }),
      validate('json', batchBody), async (c) => {
      const { products } = c.req.valid('json');
      const { changes, queued } = await store(c.get('site').id, c.get('site'), products.map(({ id, ...p }) => toInput(id, p)));
      return c.json({ stored: changes.length, notificationsQueued: queued }, 200);
    })
    .put(
      '/v1/products/:id',
      operation({
        summary: 'Feed one product',
        description: 'Fields left out keep their stored value; `name` is required the first time. A lower price or a restock queues the triggers’ pushes.',
        tag: 'Catalogue',
        access: 'secretKey',
        responses: { 200: { description: 'The product as stored', schema: productSchema.extend({ notificationsQueued }) } },
      }),
      validate('param', z.object({ id: productId })), validate('json', productFields), async (c) => {
      const { id } = c.req.valid('param');
      const { changes, queued } = await store(c.get('site').id, c.get('site'), [toInput(id, c.req.valid('json'))]);
      const product = changes[0]!;
      return c.json({ ...productJson(product), notificationsQueued: queued }, 200);
    })
    .get(
      '/v1/products/:id',
      operation({
        summary: 'Read one product',
        tag: 'Catalogue',
        access: 'secretKey',
        responses: {
          200: {
            description: 'The product; `priceSource` says whether the price came from the feed or from shoppers’ views',
            schema: productSchema.extend({ priceSource: z.string().nullable(), updatedAt: isoInstant }),
          },
        },
        errors: ['not_found'],
      }),
      validate('param', z.object({ id: productId })), async (c) => {
      const { id } = c.req.valid('param');
      const row = await findProduct(deps.db, c.get('site').id, id);
      if (!row) throw new ApiError('not_found', `No product ${id} in this site's catalogue`);
      return c.json({
        id: row.product_id,
        name: row.name,
        url: row.url,
        image: row.image,
        price: row.price === null ? null : Number(row.price),
        currency: row.currency,
        inStock: row.in_stock,
        stock: row.stock,
        priceSource: row.price_source,
        updatedAt: row.updated_at,
      });
    });
}

function productJson(p: { productId: string; name: string; url: string | null; image: string | null; price: number | null; currency: string | null; inStock: boolean; stock: number | null }) {
  return { id: p.productId, name: p.name, url: p.url, image: p.image, price: p.price, currency: p.currency, inStock: p.inStock, stock: p.stock };
}
