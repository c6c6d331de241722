import { parentPort } from 'node:worker_threads';
import { encryptJob } from '../../push/push-encryptor.ts';
import type { EncryptReply, EncryptRequest } from './encryption-pool.ts';

/**
 * An encryption thread of encryption-pool.ts (started through encryption-worker-loader.mjs): encrypts
 * each chunk it is sent and answers with the bodies packed into one buffer, transferred rather than
 * copied. A job that fails (bad keys) is reported in its place; the thread carries on.
 */

const port = parentPort;
if (!port) throw new Error('encryption-worker.ts runs as a worker thread of encryption-pool.ts');

port.on('message', (request: EncryptRequest) => {
  const results = request.jobs.map(encryptJob);
  let total = 0;
  for (const result of results) if (result instanceof Uint8Array) total += result.byteLength;
  // A fresh buffer of its own: web-push's bodies may be views into Node's shared Buffer pool, which
  // must never be transferred (that would detach every other Buffer allocated from it).
  const packed = new Uint8Array(total);
  const offsets = [0];
  const errors: Array<string | null> = [];
  for (const result of results) {
    let end = offsets.at(-1)!;
    if (result instanceof Uint8Array) {
      packed.set(result, end);
      end += result.byteLength;
      errors.push(null);
    } else {
      errors.push(result.message);
    }
    offsets.push(end);
  }
  const reply: EncryptReply = { type: 'encrypted', id: request.id, buffer: packed.buffer, offsets, errors };
  port.postMessage(reply, [packed.buffer]);
});

port.postMessage({ type: 'ready' } satisfies EncryptReply);
