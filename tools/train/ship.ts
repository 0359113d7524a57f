/**
 * Which student becomes models/halfface, the model a headset downloads.
 */
import type { Stage } from './config.js';

/**
 * The concat runs two students side by side, doubling the headset's inference cost: it ships only
 * when it beats the best single student by this much accuracy (a fraction, 0.01 = one point).
 */
export const CONCAT_MARGIN = 0.01;

/** The best single student on the lower half, or the concat when it clears CONCAT_MARGIN over it. */
export function pickShipped<T extends { stage: Stage; accuracy: number }>(candidates: T[]): T {
  if (candidates.length === 0) throw new Error('no student to ship: train one first');
  const better = (a: T, b: T) => (b.accuracy > a.accuracy ? b : a);
  const singles = candidates.filter((c) => c.stage !== 'concat' && c.stage !== 'teacher');
  const concat = candidates.find((c) => c.stage === 'concat');
  if (!singles.length) return concat ?? candidates.reduce(better);
  const bestSingle = singles.reduce(better);
  return concat && concat.accuracy >= bestSingle.accuracy + CONCAT_MARGIN ? concat : bestSingle;
}
