import { describe, expect, it } from 'vitest';
import { createGroupCommitter } from './group-commit.ts';

/** A group write the test finishes by hand: no timers, the test decides when each group commits. */
function controlledWriter() {
  const groups: Array<{ items: string[]; commit(): void; fail(error: unknown): void }> = [];
  const write = (items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      groups.push({ items, commit: () => resolve(items.map((item) => `stored ${item}`)), fail: reject });
    });
  return { groups, write };
}

/** Lets queued microtasks and promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('writes a lone item at once, and what arrives while groups are being written as one group, each answered with its own result', async () => {
    const writer = controlledWriter();
    const committer = createGroupCommitter(writer.write, { settings: { maxConcurrentGroups: 1 } });
    const first = committer.submit('a');
    await settle();
    expect(writer.groups.map((group) => group.items)).toEqual([['a']]);
    const later = ['b', 'c', 'd'].map((item) => committer.submit(item));
    await settle();
    // Nothing else starts while the only slot is busy.
    expect(writer.groups).toHaveLength(1);
    writer.groups[0]!.commit();
    expect(await first).toBe('stored a');
    await settle();
    expect(writer.groups[1]!.items).toEqual(['b', 'c', 'd']);
    writer.groups[1]!.commit();
    expect(await Promise.all(later)).toEqual(['stored b', 'stored c', 'stored d']);
  });

  it('in groups of one (as on Workers), writes every item at once and on its own, whatever is still being written', async () => {
    const writer = controlledWriter();
    const committer = createGroupCommitter(writer.write, { settings: { maxGroupSize: 1, maxConcurrentGroups: Number.POSITIVE_INFINITY, minGroupSizeWhileBusy: 1 } });
    const answers = ['a', 'b', 'c'].map((item) => committer.submit(item));
    await settle();
    expect(writer.groups.map((group) => group.items)).toEqual([['a'], ['b'], ['c']]);
    const d = committer.submit('d');
    await settle();
    // Started while the others are still open: no request waits for another's group.
    expect(writer.groups.map((group) => group.items)).toEqual([['a'], ['b'], ['c'], ['d']]);
    writer.groups.forEach((group) => group.commit());
    expect(await Promise.all([...answers, d])).toEqual(['stored a', 'stored b', 'stored c', 'stored d']);
  });

  it('answers nobody before their group committed', async () => {
    const writer = controlledWriter();
    const committer = createGroupCommitter(writer.write);
    let answered = false;
    void committer.submit('a').then(() => (answered = true));
    await settle();
    await settle();
    expect(answered).toBe(false);
    writer.groups[0]!.commit();
    await settle();
    expect(answered).toBe(true);
  });

  it('keeps groups within maxGroupSize', async () => {
    const writer = controlledWriter();
    const committer = createGroupCommitter(writer.write, { settings: { maxGroupSize: 2, maxConcurrentGroups: 1 } });
    const answers = ['a', 'b', 'c', 'd', 'e'].map((item) => committer.submit(item));
    for (let round = 0; round < 3; round++) {
      await settle();
      writer.groups[round]!.commit();
    }
    expect(writer.groups.map((group) => group.items)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(await Promise.all(answers)).toHaveLength(5);
  });

  it('starts another group beside a running one only once enough items wait', async () => {
    const writer = controlledWriter();
    const committer = createGroupCommitter(writer.write, { settings: { maxConcurrentGroups: 2, minGroupSizeWhileBusy: 3 } });
    void committer.submit('a');
    await settle();
    void committer.submit('b');
    void committer.submit('c');
    await settle();
    expect(writer.groups).toHaveLength(1);
    void committer.submit('d');
    await settle();
    // The third waiting item reaches the threshold: a second group runs beside the first.
    expect(writer.groups.map((group) => group.items)).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('rejects every item of a group the database refused, and resolves none of them', async () => {
    const writer = controlledWriter();
    const committer = createGroupCommitter(writer.write, { isolateFailure: () => false });
    const answers = ['a', 'b', 'c'].map((item) => committer.submit(item).then((result) => ({ result }), (error: unknown) => ({ error })));
    await settle();
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    writer.groups[0]!.fail(refused);
    expect(await Promise.all(answers)).toEqual([{ error: refused }, { error: refused }, { error: refused }]);
  });

  it('writes a failed group again one item at a time when the error may be one item’s, so only that item fails', async () => {
    const bad = new Error('invalid input');
    const written: string[][] = [];
    const committer = createGroupCommitter(
      async (items: string[]) => {
        written.push(items);
        if (items.includes('bad')) throw bad;
        return items.map((item) => `stored ${item}`);
      },
      { isolateFailure: (error) => error === bad },
    );
    const answers = ['a', 'bad', 'b'].map((item) => committer.submit(item).then((result) => ({ result }), (error: unknown) => ({ error })));
    expect(await Promise.all(answers)).toEqual([{ result: 'stored a' }, { error: bad }, { result: 'stored b' }]);
    expect(written).toEqual([['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
  });

  it('refuses a writer that answers for fewer items than it was given', async () => {
    const committer = createGroupCommitter(async (items: string[]) => items.slice(1));
    const answers = ['a', 'b'].map((item) => committer.submit(item).then(() => 'resolved', () => 'rejected'));
    expect(await Promise.all(answers)).toEqual(['rejected', 'rejected']);
  });
});
