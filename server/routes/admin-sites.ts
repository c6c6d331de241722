import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { listSecretKeys, revokeSecretKey } from '../db/secret-keys.ts';
import { findSiteById, listSites } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { adminTokenAuth } from '../middleware/admin-token.ts';
import { createSecretKey, createSite, publicSiteView, secretKeyView } from '../sites/create-site.ts';
import { identifySecretView } from '../sites/identity-signature.ts';
import { newSiteSchema } from '../sites/site-input.ts';
import { text, validate } from '../validation.ts';

const siteParam = z.object({ siteId: text() });

/** `/v1/admin/sites…`: the same operations as `pushcart site|key`, for the dashboard and scripts. */
export function adminSiteRoutes(deps: AppDeps) {
  async function requireSite(siteId: string) {
    const site = await findSiteById(deps.db, siteId);
    if (!site) throw new ApiError('not_found', `No site with id ${siteId}`);
    return site;
  }

  return new Hono<AppEnv>()
    .use('/v1/admin/*', adminTokenAuth(deps))
    .post('/v1/admin/sites', validate('json', newSiteSchema), async (c) => {
      const created = await createSite(deps.db, c.req.valid('json'), deps.config.masterKey);
      deps.logger.log('info', 'site created', { siteId: created.id, requestId: c.get('requestId') });
      return c.json(created, 201);
    })
    .get('/v1/admin/sites', async (c) => {
      const sites = await listSites(deps.db);
      return c.json({ data: sites.map(publicSiteView) });
    })
    .get('/v1/admin/sites/:siteId', validate('param', siteParam), async (c) => {
      return c.json(publicSiteView(await requireSite(c.req.valid('param').siteId)));
    })
    .get('/v1/admin/sites/:siteId/identify-secret', validate('param', siteParam), async (c) => {
      const site = await requireSite(c.req.valid('param').siteId);
      if (!deps.config.masterKey) {
        throw new ApiError('not_found', 'No identify secret: PUSHCART_MASTER_KEY is not set, so identify is signed with a secret key’s hash (README: Keys and the master key)');
      }
      return c.json(await identifySecretView(site, deps.config.masterKey, (deps.now ?? Date.now)()));
    })
    .get('/v1/admin/sites/:siteId/keys', validate('param', siteParam), async (c) => {
      const site = await requireSite(c.req.valid('param').siteId);
      const keys = await listSecretKeys(deps.db, site.id);
      return c.json({ data: keys.map(secretKeyView) });
    })
    .post('/v1/admin/sites/:siteId/keys', validate('param', siteParam), async (c) => {
      const site = await requireSite(c.req.valid('param').siteId);
      const { secretKey, key } = await createSecretKey(deps.db, site.id);
      deps.logger.log('info', 'secret key created', { siteId: site.id, keyId: key.id, requestId: c.get('requestId') });
      return c.json({ ...secretKeyView(key), secretKey }, 201);
    })
    .delete(
      '/v1/admin/sites/:siteId/keys/:keyId',
      validate('param', siteParam.extend({ keyId: text() })),
      async (c) => {
        const { siteId, keyId } = c.req.valid('param');
        const site = await requireSite(siteId);
        const key = await revokeSecretKey(deps.db, site.id, keyId, new Date((deps.now ?? Date.now)()));
        if (!key) throw new ApiError('not_found', `Site ${site.id} has no key ${keyId}`);
        deps.logger.log('info', 'secret key revoked', { siteId: site.id, keyId: key.id, requestId: c.get('requestId') });
        return c.json(secretKeyView(key));
      },
    );
}
