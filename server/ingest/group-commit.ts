/**
 * Group commit for the ingest routes: requests that arrive while earlier groups are being written
 * wait for a free slot and are then written together — one transaction, multi-row statements —
 * and each is answered only once its group has committed (or failed). No timer: under light load
 * a request finds a slot free and is written at once, alone; under heavy load the groups grow to
 * what arrived during one commit, up to `maxGroupSize`. Web-standard and free of runtime APIs, so
 * the Workers build groups the requests of one isolate the same way (fewer arrive there at once,
 * so its groups are smaller).
 */

export interface GroupCommitSettings {
  /** Items written in one group at most. */
  maxGroupSize: number;
  /** Groups being written at once at most (each holds one database connection while it runs). */
  maxConcurrentGroups: number;
  /**
   * While a group is being written, another starts only once this many items wait; fewer wait for
   * a group to finish. Without it, a lone item arriving just after a group started would take the
   * other slot for a whole commit, and every item behind it would wait the same as with one slot.
   */
  minGroupSizeWhileBusy: number;
}

/**
 * 2 groups at once: one commits (waits for the WAL flush) while the next is written, and the
 * pool's other connections stay free for every other route. 200 items: a group's statements stay
 * far below Postgres' 65,535 bind parameters and a few hundred kB of JSON.
 */
export const DEFAULT_GROUP_COMMIT_SETTINGS: GroupCommitSettings = { maxGroupSize: 200, maxConcurrentGroups: 2, minGroupSizeWhileBusy: 8 };

export interface GroupCommitter<Item, Result> {
  /** Resolves with the item's result once its group has committed; rejects with the error that stopped it. */
  submit(item: Item): Promise<Result>;
}

interface Waiting<Item, Result> {
  item: Item;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

/**
 * `writeGroup` writes its items in one transaction and returns one result per item, in order. When
 * it throws for a group of several items and `isolateFailure(error)` says the error may belong to
 * one item (not, say, a database that cannot be reached), each item is written again alone, so one
 * bad item fails only its own request; otherwise every item of the group is rejected with the error.
 */
export function createGroupCommitter<Item, Result>(
  writeGroup: (items: Item[]) => Promise<Result[]>,
  options: { settings?: Partial<GroupCommitSettings>; isolateFailure?: (error: unknown) => boolean } = {},
): GroupCommitter<Item, Result> {
  const settings = { ...DEFAULT_GROUP_COMMIT_SETTINGS, ...options.settings };
  const queue: Waiting<Item, Result>[] = [];
  let running = 0;

  async function write(group: Waiting<Item, Result>[]): Promise<void> {
    let results: Result[];
    try {
      results = await writeGroup(group.map((waiting) => waiting.item));
      if (results.length !== group.length) throw new Error(`group commit: ${results.length} results for ${group.length} items`);
    } catch (error) {
      if (group.length > 1 && options.isolateFailure?.(error)) {
        // One after another: the retry holds this group's slot (one connection), not one each.
        for (const waiting of group) await write([waiting]);
        return;
      }
      for (const waiting of group) waiting.reject(error);
      return;
    }
    group.forEach((waiting, index) => waiting.resolve(results[index]!));
  }

  function startGroups(): void {
    while (running < settings.maxConcurrentGroups && queue.length > 0 && (running === 0 || queue.length >= settings.minGroupSizeWhileBusy)) {
      const group = queue.splice(0, settings.maxGroupSize);
      running++;
      void write(group).finally(() => {
        running--;
        startGroups();
      });
    }
  }

  return {
    submit(item) {
      return new Promise<Result>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Items submitted in the same turn of the event loop go into one group; a group that
        // finishes starts the next itself, and so does a queue reaching the busy threshold.
        if (queue.length === 1 || queue.length === settings.minGroupSizeWhileBusy) queueMicrotask(startGroups);
      });
    },
  };
}
