import webpush from 'web-push';
import type { Db } from '../db/database.ts';
import { insertSecretKey, type SecretKeySummary } from '../db/secret-keys.ts';
import { insertSite, type SiteRow } from '../db/sites.ts';
import { hashSecretKey, newPublishableKey, newSecretKey } from './api-keys.ts';
import { sealVapidPrivateKey } from './vapid-private-key.ts';

export interface NewSite {
  name: string;
  origins: string[];
}

export interface CreatedSite {
  id: string;
  name: string;
  origins: string[];
  publishableKey: string;
  /** Shown once; only its hash is stored. */
  secretKey: string;
  vapidPublicKey: string;
}

/**
 * A site with its own VAPID key pair (so one shop's key rotation or leak never touches another),
 * a publishable key for the snippet, and a first secret key. One transaction: all or nothing.
 */
export async function createSite(db: Db, site: NewSite, masterKey: string | undefined): Promise<CreatedSite> {
  // The id is chosen here, not by the database: the sealed private key is bound to it.
  const id = crypto.randomUUID();
  const vapid = webpush.generateVAPIDKeys();
  const vapidPrivateKey = await sealVapidPrivateKey(vapid.privateKey, masterKey, id);
  const secret = newSecretKey();
  const keyHash = await hashSecretKey(secret.key);
  return db.transaction().execute(async (trx) => {
    const row = await insertSite(trx, {
      id,
      name: site.name,
      allowed_origins: site.origins,
      publishable_key: newPublishableKey(),
      vapid_public_key: vapid.publicKey,
      vapid_private_key: vapidPrivateKey,
      // Without a master key there is no identify secret to derive, so its shop signs identify with
      // a secret key's hash; once a master key is set, that is accepted for a transition period.
      legacy_identify: masterKey === undefined,
    });
    await insertSecretKey(trx, { siteId: row.id, prefix: secret.prefix, keyHash });
    return {
      id: row.id,
      name: row.name,
      origins: row.allowed_origins,
      publishableKey: row.publishable_key,
      secretKey: secret.key,
      vapidPublicKey: row.vapid_public_key,
    };
  });
}

export async function createSecretKey(db: Db, siteId: string, name: string | null = null): Promise<{ secretKey: string; key: SecretKeySummary }> {
  const secret = newSecretKey();
  const key = await insertSecretKey(db, { siteId, prefix: secret.prefix, keyHash: await hashSecretKey(secret.key), name });
  return { secretKey: secret.key, key };
}

/** A secret key as the admin API and the CLI show it: by prefix, never the key or its hash. */
export function secretKeyView(key: { id: string; prefix: string; created_at: Date; revoked_at: Date | null; last_used_at: Date | null }) {
  return {
    id: key.id,
    prefix: key.prefix,
    createdAt: key.created_at,
    revokedAt: key.revoked_at,
    lastUsedAt: key.last_used_at,
  };
}

/** A site as the admin API and CLI show it: never a private or secret key. */
export function publicSiteView(site: SiteRow) {
  return {
    id: site.id,
    name: site.name,
    origins: site.allowed_origins,
    publishableKey: site.publishable_key,
    vapidPublicKey: site.vapid_public_key,
    createdAt: site.created_at,
  };
}

/**
 * An allowed origin as browsers send it in the Origin header: scheme://host[:port], lower-case,
 * default port omitted. Returns undefined for anything that is not a bare http(s) origin.
 */
export function normalizeOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return undefined;
  return url.origin;
}
