/**
 * Which student becomes models/halfface, the model a headset downloads.
 */
import type { Stage } from './config.js';

/**
 * The concat runs two students side by side, doubling the headset's inference cost: it ships only
 * when it beats the best single student by this much accuracy (a fraction, 0.01 = one point).
 */
export const CONCAT_MARGIN = 0.01;

/** What a headset may download and run per frame (issue 17): a few MB, a few hundred MFLOPs. */
export const HEADSET_BUDGET = { bytes: 5e6, flops: 300e6 } as const;

export const fitsHeadset = (c: { bytes: number; flops: number }) => c.bytes <= HEADSET_BUDGET.bytes && c.flops <= HEADSET_BUDGET.flops;

/**
 * The best single student on the lower half, or the concat when it clears CONCAT_MARGIN over it;
 * a student over the headset's budget is never shipped.
 */
export function pickShipped<T extends { stage: Stage; accuracy: number; bytes: number; flops: number }>(all: T[]): T {
  if (all.length === 0) throw new Error('no student to ship: train one first');
  const candidates = all.filter(fitsHeadset);
  if (candidates.length === 0) {
    throw new Error(`no student fits a headset (at most ${HEADSET_BUDGET.bytes / 1e6} MB and ${HEADSET_BUDGET.flops / 1e6} MFLOPs): ${all.map((c) => `${c.stage} ${(c.bytes / 1e6).toFixed(2)} MB, ${(c.flops / 1e6).toFixed(0)} MFLOPs`).join('; ')}`);
  }
  const better = (a: T, b: T) => (b.accuracy > a.accuracy ? b : a);
  const singles = candidates.filter((c) => c.stage !== 'concat' && c.stage !== 'teacher');
  const concat = candidates.find((c) => c.stage === 'concat');
  if (!singles.length) return concat ?? candidates.reduce(better);
  const bestSingle = singles.reduce(better);
  return concat && concat.accuracy >= bestSingle.accuracy + CONCAT_MARGIN ? concat : bestSingle;
}
