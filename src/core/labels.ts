/**
 * FER+ classes and the label protocol (Barsoum et al. 2016), shared by training and the browser.
 * Pure functions: no DOM, no tfjs.
 */
import { parseChoice } from './parse-choice.js';

/** The 8 expression classes, in the column order of FER+'s label.csv. */
export const EXPRESSIONS = [
  'neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt',
] as const;
export type Expression = (typeof EXPRESSIONS)[number];
export const NUM_CLASSES = EXPRESSIONS.length;

/** label.csv has 10 vote columns: the 8 expressions, then 'unknown' and 'NF' (not a face). */
export const VOTE_COLUMNS = [...EXPRESSIONS, 'unknown', 'NF'] as const;
export const NUM_VOTE_COLUMNS = VOTE_COLUMNS.length;

export type LabelMode = 'majority' | 'probability';
export const LABEL_MODES: readonly LabelMode[] = ['majority', 'probability'];

export function parseLabelMode(value: string): LabelMode {
  return parseChoice('label mode', LABEL_MODES, value);
}

/** Zeroes every column that got exactly one vote: a single tagger is treated as an outlier. */
export function removeOutlierVotes(votes: ArrayLike<number>): number[] {
  return Array.from(votes, (v) => (v === 1 ? 0 : v));
}

/**
 * Majority mode: the class index, or null when the image is dropped (no strict majority after
 * outlier removal, or the majority says unknown / not a face).
 */
export function majorityLabel(votes: ArrayLike<number>): number | null {
  const cleaned = removeOutlierVotes(votes);
  const total = cleaned.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let best = 0;
  for (let i = 1; i < cleaned.length; i++) if (cleaned[i] > cleaned[best]) best = i;
  if (cleaned[best] * 2 <= total) return null;
  return best < NUM_CLASSES ? best : null;
}

/**
 * Probability mode: the cleaned vote distribution over the 8 classes, or null when the image is
 * dropped (no votes left, or the most voted column is unknown / not a face).
 */
export function probabilityTarget(votes: ArrayLike<number>): number[] | null {
  const cleaned = removeOutlierVotes(votes);
  let best = 0;
  for (let i = 1; i < cleaned.length; i++) if (cleaned[i] > cleaned[best]) best = i;
  if (cleaned[best] === 0 || best >= NUM_CLASSES) return null;
  const emotions = cleaned.slice(0, NUM_CLASSES);
  const sum = emotions.reduce((a, b) => a + b, 0);
  return emotions.map((v) => v / sum);
}

/** The training target for one image in either mode, as a distribution over the 8 classes. */
export function targetFor(votes: ArrayLike<number>, mode: LabelMode): number[] | null {
  if (mode === 'probability') return probabilityTarget(votes);
  const label = majorityLabel(votes);
  if (label === null) return null;
  return EXPRESSIONS.map((_, i) => (i === label ? 1 : 0));
}

/** Index of the largest value (first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
