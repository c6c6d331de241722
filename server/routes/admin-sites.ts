import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { listSecretKeys, revokeSecretKey } from '../db/secret-keys.ts';
import { findSiteById, listSites } from '../db/sites.ts';
import { ApiError } from '../errors.ts';
import { adminTokenAuth } from '../middleware/admin-token.ts';
import { createSecretKey, createSite, publicSiteView, secretKeyView } from '../sites/create-site.ts';
import { identifySecretView } from '../sites/identity-signature.ts';
import { newSiteSchema } from '../sites/site-input.ts';
import { createdSiteSchema, publicSiteSchema, secretKeySchema } from '../sites/site-view-schemas.ts';
import { operation, type Operation } from '../openapi/operation.ts';
import { text, validate } from '../validation.ts';

const siteParam = z.object({ siteId: text() });

/** An admin operation; those on one site answer 404 for a site (or key) that does not exist. */
const admin = (summary: string, responses: Operation['responses'], options: { description?: string; onOneSite?: boolean } = {}) =>
  operation({ summary, tag: 'Admin', access: 'adminToken', responses, errors: options.onOneSite === false ? [] : ['not_found'], ...(options.description ? { description: options.description } : {}) });

/** `/v1/admin/sites…`: the same operations as `pushcart site|key`, for the dashboard and scripts. */
export function adminSiteRoutes(deps: AppDeps) {
  async function requireSite(siteId: string) {
    const site = await findSiteById(deps.db, siteId);
    if (!site) throw new ApiError('not_found', `No site with id ${siteId}`);
    return site;
  }

  return new Hono<AppEnv>()
    .use('/v1/admin/*', adminTokenAuth(deps))
    .post('/v1/admin/sites', admin('Create a site', { 201: { description: 'The site, its publishable key and its first secret key (shown this once)', schema: createdSiteSchema } }, { onOneSite: false }), validate('json', newSiteSchema), async (c) => {
      const created = await createSite(deps.db, c.req.valid('json'), deps.config.masterKey);
      deps.logger.log('info', 'site created', { siteId: created.id, requestId: c.get('requestId') });
      return c.json(created, 201);
    })
    .get('/v1/admin/sites', admin('List the sites', { 200: { description: 'Every site', schema: z.strictObject({ data: z.array(publicSiteSchema) }) } }, { onOneSite: false }), async (c) => {
      const sites = await listSites(deps.db);
      return c.json({ data: sites.map(publicSiteView) });
    })
    .get('/v1/admin/sites/:siteId', admin('Read a site', { 200: { description: 'The site', schema: publicSiteSchema } }), validate('param', siteParam), async (c) => {
      return c.json(publicSiteView(await requireSite(c.req.valid('param').siteId)));
    })
    .get(
      '/v1/admin/sites/:siteId/identify-secret',
      admin(
        'Read the site’s identify secret',
        { 200: { description: 'The secret the shop signs external user ids with', schema: z.strictObject({ siteId: z.uuid(), identifySecret: z.string(), legacyAcceptedUntil: z.iso.datetime().nullable() }) } },
        { description: 'Only with `PUSHCART_MASTER_KEY` set (404 otherwise: identify is then signed with a secret key’s hash).' },
      ),
      validate('param', siteParam), async (c) => {
      const site = await requireSite(c.req.valid('param').siteId);
      if (!deps.config.masterKey) {
        throw new ApiError('not_found', 'No identify secret: PUSHCART_MASTER_KEY is not set, so identify is signed with a secret key’s hash (README: Keys and the master key)');
      }
      return c.json(await identifySecretView(site, deps.config.masterKey, (deps.now ?? Date.now)()));
    })
    .get('/v1/admin/sites/:siteId/keys', admin('List a site’s secret keys', { 200: { description: 'Its keys, by prefix', schema: z.strictObject({ data: z.array(secretKeySchema) }) } }), validate('param', siteParam), async (c) => {
      const site = await requireSite(c.req.valid('param').siteId);
      const keys = await listSecretKeys(deps.db, site.id);
      return c.json({ data: keys.map(secretKeyView) });
    })
    .post('/v1/admin/sites/:siteId/keys', admin('Create a secret key', { 201: { description: 'The key, shown this once', schema: secretKeySchema.extend({ secretKey: z.string().startsWith('sk_') }) } }), validate('param', siteParam), async (c) => {
      const site = await requireSite(c.req.valid('param').siteId);
      const { secretKey, key } = await deps.db.transaction().execute(async (trx) => {
        const created = await createSecretKey(trx, site.id);
        await recordAudit(trx, site.id, { kind: 'admin_token' }, { action: 'key_created', key: created.key }, new Date((deps.now ?? Date.now)()));
        return created;
      });
      deps.logger.log('info', 'secret key created', { siteId: site.id, keyId: key.id, requestId: c.get('requestId') });
      return c.json({ ...secretKeyView(key), secretKey }, 201);
    })
    .delete(
      '/v1/admin/sites/:siteId/keys/:keyId',
      admin('Revoke a secret key', { 200: { description: 'The revoked key; requests with it are refused at once', schema: secretKeySchema } }),
      validate('param', siteParam.extend({ keyId: text() })),
      async (c) => {
        const { siteId, keyId } = c.req.valid('param');
        const site = await requireSite(siteId);
        const now = new Date((deps.now ?? Date.now)());
        const key = await deps.db.transaction().execute(async (trx) => {
          const before = await listSecretKeys(trx, site.id);
          const revoked = await revokeSecretKey(trx, site.id, keyId, now);
          // Revoking again changes nothing (the first time is kept), so only a live key's revocation is recorded.
          if (revoked && before.find((key) => key.id === revoked.id)?.revoked_at === null) await recordAudit(trx, site.id, { kind: 'admin_token' }, { action: 'key_revoked', key: revoked }, now);
          return revoked;
        });
        if (!key) throw new ApiError('not_found', `Site ${site.id} has no key ${keyId}`);
        deps.logger.log('info', 'secret key revoked', { siteId: site.id, keyId: key.id, requestId: c.get('requestId') });
        return c.json(secretKeyView(key));
      },
    );
}
