import { encryptPushPayload } from './push-request.ts';

/** One body to encrypt: a subscription's keys (base64url, as the browser gave them) and the JSON payload. */
export interface EncryptionJob {
  p256dh: string;
  auth: string;
  payload: string;
}

/** A job's aes128gcm body, or the reason its subscription's keys could not be used. */
export type EncryptionResult = Uint8Array | Error;

/**
 * Where push bodies get encrypted (RFC 8291). Encryption is the largest CPU cost of a push (an ECDH
 * key pair, an ECDH agreement, HKDF and AES-GCM per message: about 0.3 ms), so on Node it runs on
 * worker threads (server/runtime/node/encryption-pool.ts) and the event loop keeps sending; on
 * Workers, and by default, it runs in the calling thread.
 */
export interface PushEncryptor {
  /**
   * Resolves with one result per job, in order. A job whose keys are unusable gets an Error in its
   * place and the others are unaffected: that delivery alone fails. Rejects only when the encryptor
   * itself failed (closed, a thread died): then no job was judged, and they are worth trying again.
   */
  encrypt(jobs: readonly EncryptionJob[]): Promise<EncryptionResult[]>;
}

/** Encrypts each job in the calling thread: one job's result, or its error. */
export function encryptJob(job: EncryptionJob): EncryptionResult {
  try {
    return encryptPushPayload(job, job.payload);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * The encryptor without threads: what Cloudflare Workers use (an isolate has no worker_threads, and
 * is billed by CPU time anyway), and the default of a `DeliveryDeps` that names none.
 */
export const inThreadEncryptor: PushEncryptor = {
  encrypt: async (jobs) => jobs.map(encryptJob),
};
