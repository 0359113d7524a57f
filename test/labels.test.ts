import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPRESSIONS, majorityLabel, probabilityTarget } from '../src/core/labels.js';
import { classCounts, loadSplit } from '../tools/data/ferplus.js';
import { DATA_DIR, VALID_DIR } from './helpers/data.js';

/** The data README's protocol, written independently of src/core/labels.ts. */
function independentMajority(votes: number[]): number {
  const v = votes.map((x) => (x === 1 ? 0 : x));
  const total = v.reduce((a, b) => a + b, 0);
  const max = Math.max(...v);
  if (total === 0 || !(max > total / 2)) return -1;
  const idx = v.indexOf(max);
  return idx >= 8 ? -1 : idx;
}

describe('FER+ majority protocol', () => {
  it('gives the same per-class counts on the real Valid split as an independent computation', () => {
    const expected = new Array(8).fill(0);
    let dropped = 0;
    for (const line of readFileSync(join(VALID_DIR, 'label.csv'), 'utf8').trim().split('\n')) {
      const votes = line.trim().split(',').slice(-10).map(Number);
      const label = independentMajority(votes);
      if (label < 0) dropped++;
      else expected[label]++;
    }
    const split = loadSplit(DATA_DIR, 'FER2013Valid', 'majority', { cacheDir: null });
    expect(classCounts(split)).toEqual(expected);
    expect(split.dropped).toBe(dropped);
    expect(split.labels.length + split.dropped).toBe(readFileSync(join(VALID_DIR, 'label.csv'), 'utf8').trim().split('\n').length);
  });

  it('removes single votes before looking for a strict majority', () => {
    // 5 neutral, 4 happiness, 1 sadness: the lone sadness vote is dropped, 5 of 9 is a majority.
    expect(majorityLabel([5, 4, 0, 1, 0, 0, 0, 0, 0, 0])).toBe(0);
    // 4 vs 4 after removal: no strict majority, dropped.
    expect(majorityLabel([4, 4, 0, 1, 0, 0, 0, 0, 0, 1])).toBeNull();
    // majority says "unknown" or "not a face": dropped.
    expect(majorityLabel([2, 0, 0, 0, 0, 0, 0, 0, 8, 0])).toBeNull();
    expect(majorityLabel([0, 0, 0, 0, 0, 0, 0, 0, 0, 10])).toBeNull();
    // only single votes: nothing left.
    expect(majorityLabel([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])).toBeNull();
  });

  it('probability mode is the cleaned vote distribution over the 8 classes', () => {
    const t = probabilityTarget([6, 2, 0, 1, 0, 0, 0, 0, 1, 0])!;
    expect(t).toHaveLength(EXPRESSIONS.length);
    expect(t[0]).toBeCloseTo(6 / 8);
    expect(t[1]).toBeCloseTo(2 / 8);
    expect(t[3]).toBe(0);
    expect(probabilityTarget([2, 0, 0, 0, 0, 0, 0, 0, 8, 0])).toBeNull();
    const split = loadSplit(DATA_DIR, 'FER2013Valid', 'probability', { cacheDir: null });
    for (let i = 0; i < 50; i++) {
      const row = Array.from(split.targets.subarray(i * 8, i * 8 + 8));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });
});
