/**
 * Waits `ms`, or less when `signal` aborts — or when someone calls one of `wakers` (the sleeper
 * registers itself there while it sleeps): how worker loops pause between rounds.
 */
export function sleep(ms: number, signal: AbortSignal, wakers?: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      wakers?.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
    wakers?.add(done);
  });
}
