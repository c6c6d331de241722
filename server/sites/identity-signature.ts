import { encodeBase64Url } from '../push/base64url.ts';
import { masterSubkey } from './master-key.ts';
import { DAY_MS } from '../time.ts';

/**
 * identify(externalUserId, signature): the shop's backend vouches that this browser belongs to
 * that customer, so nobody can claim another shopper's pushes by typing their id. The signature is
 * hex(HMAC-SHA256(key = the site's identify secret as UTF-8 text, message = externalUserId)).
 *
 * The identify secret is derived from PUSHCART_MASTER_KEY and the site id (HKDF-SHA256, RFC 5869),
 * so it is never stored: reading the database is not enough to sign for a customer. The server
 * derives it again to verify; the operator reads it with `pushcart site identify-secret`.
 *
 * Before it, the HMAC key was the hex SHA-256 of one of the site's live secret keys, which the
 * database stores. That legacy signature is still accepted where there is nothing better:
 * - without a master key (there is no secret to derive; a database reader then holds the VAPID
 *   private keys in clear anyway, so it opens nothing more), and
 * - for sites whose shop may still sign that way (created before this scheme, or without a master
 *   key), until LEGACY_IDENTIFY_PERIOD_MS after the first start with a master key.
 */
export const IDENTIFY_SECRET_PREFIX = 'pcid_';
export const LEGACY_IDENTIFY_PERIOD_MS = 90 * DAY_MS;

/** HKDF `info` (RFC 5869 §3.2): binds the derived key to its purpose and site. Changing it changes every shop's secret. */
const IDENTIFY_SECRET_INFO = 'pushcart identify v1';
const IDENTIFY_SECRET_BYTES = 32;

/** The site's identify secret: `pcid_` and 32 bytes base64url, the same on every call with the same master key. */
export async function identifySecret(masterKey: string, siteId: string): Promise<string> {
  return `${IDENTIFY_SECRET_PREFIX}${encodeBase64Url(await masterSubkey(masterKey, `${IDENTIFY_SECRET_INFO}${siteId}`, IDENTIFY_SECRET_BYTES))}`;
}

async function hmacKey(signingKey: string, usage: 'sign' | 'verify') {
  return crypto.subtle.importKey('raw', new TextEncoder().encode(signingKey), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

/** hex(HMAC-SHA256(signingKey as UTF-8, externalUserId)): what a shop's backend computes. */
export async function identitySignature(signingKey: string, externalUserId: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(signingKey, 'sign'), new TextEncoder().encode(externalUserId)));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export interface IdentifyContext {
  siteId: string;
  masterKey: string | undefined;
  /** The end of the site's transition period for legacy signatures; null when it has none. */
  legacyIdentifyUntil: Date | null;
  nowMs: number;
  /** Hashes of the site's live secret keys, read only when a legacy signature may be accepted. */
  legacySigningKeys: () => Promise<string[]>;
}

/** Whether a signature keyed with a secret key's stored hash still counts for this site now. */
export function acceptsLegacyIdentify(context: Pick<IdentifyContext, 'masterKey' | 'legacyIdentifyUntil' | 'nowMs'>): boolean {
  if (!context.masterKey) return true;
  return context.legacyIdentifyUntil !== null && context.nowMs < context.legacyIdentifyUntil.getTime();
}

export async function verifyIdentitySignature(context: IdentifyContext, externalUserId: string, signature: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/.test(signature)) return false;
  const signingKeys: string[] = [];
  if (context.masterKey) signingKeys.push(await identifySecret(context.masterKey, context.siteId));
  if (acceptsLegacyIdentify(context)) signingKeys.push(...(await context.legacySigningKeys()));
  const given = Uint8Array.from(signature.match(/../g)!, (pair) => parseInt(pair, 16));
  const message = new TextEncoder().encode(externalUserId);
  for (const signingKey of signingKeys) {
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify('HMAC', await hmacKey(signingKey, 'verify'), given, message)) return true;
  }
  return false;
}

/** What the CLI and the admin API show an operator: the secret, and until when old signatures still count (null: not at all). */
export async function identifySecretView(site: { id: string; legacy_identify_until: Date | null }, masterKey: string, nowMs: number) {
  const legacy = acceptsLegacyIdentify({ masterKey, legacyIdentifyUntil: site.legacy_identify_until, nowMs });
  return {
    siteId: site.id,
    identifySecret: await identifySecret(masterKey, site.id),
    legacyAcceptedUntil: legacy && site.legacy_identify_until ? site.legacy_identify_until.toISOString() : null,
  };
}
