/** How an epoch is cut into batches: the triplet stage's stratified order, on real FER+ labels. */
import { describe, expect, it } from 'vitest';
import { NUM_CLASSES } from '../src/core/labels.js';
import { epochOrder, parseBatchOrder, type BatchOrder } from '../tools/data/batch-order.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { DATA_DIR } from './helpers/data.js';

const labels = loadSplit(DATA_DIR, 'FER2013Valid', 'majority', { log: () => {} }).labels;
const BATCH = 64;

/** Per whole batch: its class counts. */
function batchCounts(order: BatchOrder, seed: number): number[][] {
  const permutation = epochOrder(order, labels, BATCH, seed);
  return Array.from({ length: Math.floor(permutation.length / BATCH) }, (_, b) => {
    const counts = new Array<number>(NUM_CLASSES).fill(0);
    for (const i of permutation.subarray(b * BATCH, (b + 1) * BATCH)) counts[labels[i]]++;
    return counts;
  });
}

/** Faces whose class has no other face in their batch: the ones batch-hard mining has no real positive for. */
const lonelyFaces = (batches: number[][]) => batches.flat().filter((c) => c === 1).length;

describe('batch order', () => {
  it('both orders are seeded permutations of the whole split', () => {
    for (const order of ['shuffled', 'stratified'] as const) {
      const a = epochOrder(order, labels, BATCH, 7);
      expect(new Set(a).size).toBe(labels.length);
      expect(Math.min(...a)).toBe(0);
      expect(Math.max(...a)).toBe(labels.length - 1);
      expect(epochOrder(order, labels, BATCH, 7)).toEqual(a);
      expect(epochOrder(order, labels, BATCH, 8)).not.toEqual(a);
    }
  });

  it('stratified: every face has a same-class partner and a face of another class in its batch', () => {
    for (const seed of [1, 2, 3]) {
      const batches = batchCounts('stratified', seed);
      expect(lonelyFaces(batches)).toBe(0);
      expect(batches.every((counts) => counts.filter((c) => c > 0).length >= 2)).toBe(true);
    }
    // The plain shuffle, on the same labels, leaves rare-class faces alone in their batches.
    expect(lonelyFaces(batchCounts('shuffled', 1))).toBeGreaterThan(0);
  });

  it('stratified: each batch carries the split\'s class mix, with no class oversampled', () => {
    const share = (c: number) => labels.filter((l) => l === c).length / labels.length;
    const neutralPerBatch = batchCounts('stratified', 1).map((counts) => counts[0]);
    const expected = BATCH * share(0);
    // A pair is the unit, and other classes' offsets shift it: within a few faces of the share.
    expect(Math.max(...neutralPerBatch.map((n) => Math.abs(n - expected)))).toBeLessThanOrEqual(4);
    const shuffledSpread = Math.max(...batchCounts('shuffled', 1).map((counts) => Math.abs(counts[0] - expected)));
    expect(shuffledSpread).toBeGreaterThan(4);
  });

  it('says what is wrong with a bad order name or an odd batch size', () => {
    expect(() => parseBatchOrder('balanced')).toThrow(/unknown batch order "balanced": expected one of shuffled, stratified/);
    expect(() => epochOrder('stratified', labels, 63, 1)).toThrow(/batch size must be even, not 63/);
  });
});
