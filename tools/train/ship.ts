/**
 * Which student becomes models/halfface, the model a headset downloads.
 */
import { percent } from '../eval/format.js';
import type { Stage } from './config.js';

/** What a headset may download and run per frame (issue 17): a few MB, a few hundred MFLOPs. */
export const HEADSET_BUDGET = { bytes: 5e6, flops: 300e6 } as const;

export const fitsHeadset = (c: { bytes: number; flops: number }) => c.bytes <= HEADSET_BUDGET.bytes && c.flops <= HEADSET_BUDGET.flops;

/**
 * The most accurate student on the lower half among those within the headset's budget; of two
 * equally accurate, the cheaper. The budget is the price a headset can pay per frame, so a concat
 * (two students side by side) ships whenever it fits and wins: a cropped concat costs what one
 * uncropped student does. The teacher never ships.
 */
export function pickShipped<T extends { stage: Stage; accuracy: number; bytes: number; flops: number }>(all: T[]): T {
  const students = all.filter((c) => c.stage !== 'teacher');
  if (students.length === 0) throw new Error('no student to ship: train one first');
  const candidates = students.filter(fitsHeadset);
  if (candidates.length === 0) {
    throw new Error(`no student fits a headset (at most ${HEADSET_BUDGET.bytes / 1e6} MB and ${HEADSET_BUDGET.flops / 1e6} MFLOPs): ${students.map((c) => `${c.stage} ${(c.bytes / 1e6).toFixed(2)} MB, ${(c.flops / 1e6).toFixed(0)} MFLOPs`).join('; ')}`);
  }
  return candidates.reduce((a, b) => (b.accuracy > a.accuracy || (b.accuracy === a.accuracy && b.flops < a.flops) ? b : a));
}

/** Why `shipped` was picked from `all`, in words for the card and the console. */
export function shipReason(all: { stage: Stage; accuracy: number; bytes: number; flops: number }[]): string {
  const listed = all.map((s) => `${s.stage} ${percent(s.accuracy)} (${(s.flops / 1e6).toFixed(0)} MFLOPs, ${(s.bytes / 1e6).toFixed(2)} MB${fitsHeadset(s) ? '' : ', over the budget'})`);
  return `the most accurate on the lower half of those within the headset's budget (${HEADSET_BUDGET.bytes / 1e6} MB, ${HEADSET_BUDGET.flops / 1e6} MFLOPs a frame): ${listed.join(', ')}`;
}
