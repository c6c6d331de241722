import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { operation } from '../openapi/operation.ts';
import { publicSiteView } from '../sites/create-site.ts';
import { publicSiteSchema } from '../sites/site-view-schemas.ts';

/** `GET /v1/site`: the site a secret key belongs to — lets a developer check a key before using it. */
export function siteRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get(
    '/v1/site',
    operation({
      summary: 'The site this secret key belongs to',
      description: 'A way to check a key before using it.',
      tag: 'Site',
      access: 'secretKey',
      responses: { 200: { description: 'The site', schema: publicSiteSchema } },
    }),
    secretKeyAuth(deps),
    (c) => c.json(publicSiteView(c.get('site'))),
  );
}
