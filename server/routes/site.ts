import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { secretKeyAuth } from '../middleware/secret-key.ts';
import { publicSiteView } from '../sites/create-site.ts';

/** `GET /v1/site`: the site a secret key belongs to — lets a developer check a key before using it. */
export function siteRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get('/v1/site', secretKeyAuth(deps), (c) => c.json(publicSiteView(c.get('site'))));
}
