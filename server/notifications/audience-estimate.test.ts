import { describe, expect, it } from 'vitest';
import { estimateAudience, uuidFraction } from './audience-estimate.ts';

/** n uuid-shaped ids with evenly random leading bits from a seeded generator (mulberry32), sorted as Postgres sorts them. */
function randomIds(n: number, seed = 20261129): string[] {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  const hex = (value: number) => value.toString(16).padStart(8, '0');
  return Array.from({ length: n }, () => `${hex(next())}-${hex(next()).slice(0, 4)}-4000-8000-000000000000`).sort();
}

describe('the audience estimate while chunks are written', () => {
  it('places a uuid in the id space by its leading bits', () => {
    expect(uuidFraction('00000000-0000-4000-8000-000000000000')).toBeCloseTo(0, 10);
    expect(uuidFraction('80000000-0000-4000-8000-000000000000')).toBeCloseTo(0.5, 10);
    expect(uuidFraction('ffffffff-ffff-4fff-bfff-ffffffffffff')).toBe(1);
  });

  it('is exact once the walk is done, and the count so far before any subscription was seen', () => {
    expect(estimateAudience({ scanned: 1234, matched: 1000, cursor: 'ffffffff-0000-4000-8000-000000000000', done: true })).toBe(1000);
    expect(estimateAudience({ scanned: 0, matched: 0, cursor: null, done: false })).toBe(0);
  });

  it('from the first 2,000 of 100,000 random ids, lands within 10 % of the truth, with a filter’s share carried over', () => {
    const ids = randomIds(100_000);
    const firstChunk = ids.slice(0, 2_000);
    const everyone = estimateAudience({ scanned: 2_000, matched: 2_000, cursor: firstChunk.at(-1)!, done: false });
    expect(Math.abs(everyone - 100_000) / 100_000).toBeLessThan(0.1);
    // A tag on one in four: the estimate follows.
    const tagged = estimateAudience({ scanned: 2_000, matched: 500, cursor: firstChunk.at(-1)!, done: false });
    expect(Math.abs(tagged - 25_000) / 25_000).toBeLessThan(0.1);
    // Never below what is already written.
    expect(estimateAudience({ scanned: 2_000, matched: 2_000, cursor: 'ffffffff-ffff-4fff-bfff-ffffffffffff', done: false })).toBe(2_000);
  });
});
