import { ConfigError } from '../config.ts';
import type { Db } from '../db/database.ts';
import { listStoredVapidKeys, replaceStoredVapidKey, startLegacyIdentifyPeriods } from '../db/sites.ts';
import type { Logger } from '../logger.ts';
import { LEGACY_IDENTIFY_PERIOD_MS } from './identity-signature.ts';
import { openVapidPrivateKey, sealVapidPrivateKey, storedKeyForm, VapidKeyUnavailableError } from './vapid-private-key.ts';

export interface StoredKeysCheck {
  masterKey: string | undefined;
  nowMs: number;
  logger: Logger;
}

function sites(count: number): string {
  return count === 1 ? '1 site stores its' : `${count} sites store their`;
}

/**
 * Run by every process that sends or seals, before it does: a process without the master key (or
 * with another one) would otherwise claim deliveries it cannot sign. A setting that cannot work is
 * refused at start, in one line (ConfigError), rather than discovered push by push.
 *
 * With a master key it also starts the identify transition period of sites whose shops signed with
 * a secret key's hash (identity-signature.ts), measured from `nowMs`.
 */
export async function checkStoredKeys(db: Db, { masterKey, nowMs, logger }: StoredKeysCheck): Promise<void> {
  const keys = await listStoredVapidKeys(db);
  const sealed = keys.filter((key) => storedKeyForm(key.vapid_private_key) !== 'clear');
  const inClear = keys.length - sealed.length;
  if (!masterKey) {
    if (sealed.length > 0) {
      throw new ConfigError(
        `Invalid configuration — PUSHCART_MASTER_KEY: not set, but ${sites(sealed.length)} VAPID private key sealed with one; set it to that key (deliveries stay queued until then)`,
      );
    }
    logger.log(
      'warn',
      'PUSHCART_MASTER_KEY is not set: VAPID private keys are stored in clear, and identify signatures are keyed with secret-key hashes the database holds; set it and run pushcart keys seal',
      { sitesInClear: inClear },
    );
    return;
  }
  // One key tells a wrong master key from the right one: all were sealed by the operator's one key.
  const sample = sealed[0];
  if (sample) await openOrRefuse(sample, masterKey);
  if (inClear > 0) {
    logger.log('warn', 'VAPID private keys stored in clear although PUSHCART_MASTER_KEY is set: run pushcart keys seal', { sitesInClear: inClear });
  }
  const until = new Date(nowMs + LEGACY_IDENTIFY_PERIOD_MS);
  const started = await startLegacyIdentifyPeriods(db, until);
  if (started > 0) {
    logger.log('info', 'identify signatures keyed with a secret key’s hash are accepted until the end of the transition period; give the shops their identify secret (pushcart site identify-secret)', {
      sites: started,
      until: until.toISOString(),
    });
  }
}

async function openOrRefuse(key: { id: string; vapid_private_key: string }, masterKey: string): Promise<string> {
  try {
    return await openVapidPrivateKey(key.vapid_private_key, masterKey, key.id);
  } catch (error) {
    if (!(error instanceof VapidKeyUnavailableError)) throw error;
    throw new ConfigError(`Invalid configuration — PUSHCART_MASTER_KEY: it does not open the VAPID private key of site ${key.id} (${error.message})`);
  }
}

export interface SealReport {
  /** Keys that were in clear, now sealed. */
  sealed: number;
  /** Keys sealed without site binding (enc:v1:), now bound to their site (enc:v2:). */
  upgraded: number;
  alreadySealed: number;
}

/**
 * `pushcart keys seal`: seals every VAPID private key stored in clear (written before a master key
 * was set) and rewrites `enc:v1:` keys as site-bound `enc:v2:`. Idempotent. Every sealed key is
 * opened first, so a wrong master key changes nothing rather than sealing some keys with it.
 */
export async function sealStoredKeys(db: Db, masterKey: string | undefined): Promise<SealReport> {
  if (!masterKey) throw new ConfigError('Invalid configuration — PUSHCART_MASTER_KEY: not set; keys seal needs the master key to seal with (openssl rand -hex 32)');
  const keys = await listStoredVapidKeys(db);
  const opened = new Map<string, string>();
  for (const key of keys) {
    if (storedKeyForm(key.vapid_private_key) !== 'clear') opened.set(key.id, await openOrRefuse(key, masterKey));
  }
  const report: SealReport = { sealed: 0, upgraded: 0, alreadySealed: 0 };
  for (const key of keys) {
    const form = storedKeyForm(key.vapid_private_key);
    if (form === 'sealed_v2') {
      report.alreadySealed++;
      continue;
    }
    const privateKey = form === 'clear' ? key.vapid_private_key : opened.get(key.id)!;
    const replacement = await sealVapidPrivateKey(privateKey, masterKey, key.id);
    // A row changed meanwhile (another seal run won) is left as that run wrote it.
    if (await replaceStoredVapidKey(db, key.id, key.vapid_private_key, replacement)) report[form === 'clear' ? 'sealed' : 'upgraded']++;
    else report.alreadySealed++;
  }
  return report;
}
