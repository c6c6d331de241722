import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EncryptionJob, EncryptionResult, PushEncryptor } from '../../push/push-encryptor.ts';

/**
 * Jobs per message to a thread. A message costs tens of microseconds to post and clone; 48 jobs are
 * about 15 ms of encryption, short enough that the event loop gets the first bodies back quickly
 * and starts sending while the thread works on the next chunk.
 */
export const DEFAULT_ENCRYPTION_CHUNK_JOBS = 48;

/**
 * The thread's entry. In the build `pushcart` runs (pushcart.mjs bundles the server with esbuild),
 * this code sits in a bundle with `encryption-worker.mjs` beside it. Run from source (vitest, tsx),
 * a worker thread does not inherit the TypeScript loader of the thread that starts it, so the
 * loader file imports encryption-worker.ts through tsx itself.
 */
const WORKER_LOADER_URL = import.meta.url.endsWith('.ts')
  ? new URL('./encryption-worker-loader.mjs', import.meta.url)
  : new URL('./encryption-worker.mjs', import.meta.url);

/** Main thread → encryption thread. */
export interface EncryptRequest {
  id: number;
  jobs: EncryptionJob[];
}

/** Encryption thread → main thread. */
export type EncryptReply =
  /** Sent once the thread has loaded its modules. */
  | { type: 'ready' }
  /**
   * A chunk's bodies, back to back in one transferred buffer: body i is bytes `offsets[i]` to
   * `offsets[i + 1]`; `errors[i]` is non-null when job i failed (its body is then empty).
   */
  | { type: 'encrypted'; id: number; buffer: ArrayBuffer; offsets: number[]; errors: Array<string | null> };

export interface EncryptionPoolOptions {
  /** Threads. Default: one per core but one, which is left to the event loop that sends (at least 1). */
  size?: number;
  /** Jobs per message to a thread (DEFAULT_ENCRYPTION_CHUNK_JOBS). */
  chunkJobs?: number;
  /** Told when a thread dies unexpectedly; it has been replaced (or will be, at the next call) by then. */
  onThreadError?: (error: Error) => void;
}

export interface EncryptionPool extends PushEncryptor {
  readonly size: number;
  /** The live threads, for diagnostics and tests. */
  readonly threads: readonly Worker[];
  /** Terminates the threads; calls in progress and later ones reject. */
  close(): Promise<void>;
}

/** The encryptor failed as a whole (closed, a thread died): the jobs were not judged and may be retried. */
export class EncryptionUnavailableError extends Error {
  override name = 'EncryptionUnavailableError';
}

interface Chunk {
  id: number;
  jobs: EncryptionJob[];
  resolve(results: EncryptionResult[]): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  /** Chunks posted and not answered yet, by id. */
  chunks: Map<number, Chunk>;
  /** Jobs in those chunks: the measure of "least busy". */
  pendingJobs: number;
  ready: boolean;
  /** An uncaught exception in the thread, reported just before it exits. */
  error?: Error;
}

export function defaultEncryptionPoolSize(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

/**
 * RFC 8291 encryption on `worker_threads`, so one Node process uses more than one core for a
 * fan-out: the event loop builds payloads and sends, the threads encrypt. A call is split into chunks
 * that go to the least busy thread; results come back as transferred ArrayBuffers (moved, not
 * copied). Threads are unref'd while idle, so an open pool never keeps the process alive.
 *
 * A thread that dies (an uncaught exception, out of memory, terminated) is replaced, and the chunks
 * it held are rejected with EncryptionUnavailableError rather than retried: the caller reschedules
 * those deliveries, and a job that kills threads cannot take every replacement down with it.
 */
export function createEncryptionPool(options: EncryptionPoolOptions = {}): EncryptionPool {
  const size = options.size ?? defaultEncryptionPoolSize();
  const chunkJobs = options.chunkJobs ?? DEFAULT_ENCRYPTION_CHUNK_JOBS;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`encryption pool size must be a positive integer, got ${size}`);
  if (!Number.isInteger(chunkJobs) || chunkJobs < 1) throw new RangeError(`encryption chunk size must be a positive integer, got ${chunkJobs}`);

  /** One slot per thread; a slot is empty after a thread that never got ready died, until the next call. */
  const slots: Array<Thread | undefined> = [];
  let nextChunkId = 1;
  let closed = false;

  function spawn(slot: number): Thread {
    const worker = new Worker(WORKER_LOADER_URL, {
      name: `pushcart-encryption-${slot}`,
      // None of the parent's flags are needed, and some (--input-type, --eval) stop a worker from starting.
      execArgv: [],
    });
    const thread: Thread = { worker, chunks: new Map(), pendingJobs: 0, ready: false };
    worker.on('message', (reply: EncryptReply) => {
      if (reply.type === 'ready') {
        thread.ready = true;
        return;
      }
      const chunk = thread.chunks.get(reply.id);
      if (!chunk) return;
      settle(thread, chunk);
      const results: EncryptionResult[] = reply.errors.map((error, i) =>
        error === null ? new Uint8Array(reply.buffer, reply.offsets[i]!, reply.offsets[i + 1]! - reply.offsets[i]!) : new Error(error),
      );
      chunk.resolve(results);
    });
    worker.on('error', (error) => {
      thread.error = error;
    });
    worker.on('exit', (code) => {
      if (slots[slot] === thread) slots[slot] = undefined;
      if (closed) return;
      const why = thread.error ? `: ${thread.error.message}` : '';
      const error = new EncryptionUnavailableError(
        thread.ready ? `encryption thread exited with code ${code}${why}` : `encryption thread failed to start (exit code ${code})${why}`,
      );
      for (const chunk of [...thread.chunks.values()]) {
        settle(thread, chunk);
        chunk.reject(error);
      }
      // Replaced at once if it had been working; one that could not even start is retried only when
      // the next call needs it, so a broken install fails calls instead of spinning up threads.
      if (thread.ready) slots[slot] = spawn(slot);
      options.onThreadError?.(error);
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    return thread;
  }

  /** Forgets an answered (or failed) chunk; an idle thread stops holding the process open. */
  function settle(thread: Thread, chunk: Chunk) {
    thread.chunks.delete(chunk.id);
    thread.pendingJobs -= chunk.jobs.length;
    if (thread.chunks.size === 0) thread.worker.unref();
  }

  function leastBusy(): Thread {
    let best: Thread | undefined;
    for (let slot = 0; slot < size; slot++) {
      const thread = (slots[slot] ??= spawn(slot));
      if (!best || thread.pendingJobs < best.pendingJobs) best = thread;
    }
    return best!;
  }

  function post(jobs: EncryptionJob[]): Promise<EncryptionResult[]> {
    return new Promise((resolve, reject) => {
      const thread = leastBusy();
      const chunk: Chunk = { id: nextChunkId++, jobs, resolve, reject };
      // Work in flight: the process must stay up until it comes back.
      if (thread.chunks.size === 0) thread.worker.ref();
      thread.chunks.set(chunk.id, chunk);
      thread.pendingJobs += jobs.length;
      thread.worker.postMessage({ id: chunk.id, jobs } satisfies EncryptRequest);
    });
  }

  // Started now rather than at the first send: a thread takes tens to hundreds of ms to load its modules.
  for (let slot = 0; slot < size; slot++) slots[slot] = spawn(slot);

  return {
    size,
    get threads() {
      return slots.filter((thread): thread is Thread => thread !== undefined).map((thread) => thread.worker);
    },
    async encrypt(jobs) {
      if (closed) throw new EncryptionUnavailableError('encryption pool is closed');
      if (jobs.length === 0) return [];
      const chunks: Array<Promise<EncryptionResult[]>> = [];
      for (let start = 0; start < jobs.length; start += chunkJobs) chunks.push(post(jobs.slice(start, start + chunkJobs)));
      return (await Promise.all(chunks)).flat();
    },
    async close() {
      if (closed) return;
      closed = true;
      const threads = slots.splice(0).filter((thread): thread is Thread => thread !== undefined);
      const error = new EncryptionUnavailableError('encryption pool is closed');
      for (const thread of threads) {
        for (const chunk of [...thread.chunks.values()]) {
          settle(thread, chunk);
          chunk.reject(error);
        }
      }
      await Promise.all(threads.map((thread) => thread.worker.terminate()));
    },
  };
}
