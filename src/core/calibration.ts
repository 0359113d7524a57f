/**
 * Per-user neutral calibration. Some resting faces read as sad or angry to any classifier; record a
 * few seconds of the user's neutral face and correct the output so that face reads as neutral.
 *
 * The correction is a per-class gain (a bias in log space, i.e. a change of class prior):
 *   p'(c) ∝ p(c) · g(c),  g(c) = target(c) / m(c)
 * where m is the geometric mean of the model's outputs over the neutral recording and target is
 * NEUTRAL_TARGET. On the recorded face the output becomes the target; every other frame gets the
 * same shift. Gains are clamped to [1/MAX_GAIN, MAX_GAIN] so one odd recording cannot silence a class.
 * Pure, no DOM.
 */
import { EXPRESSIONS, NUM_CLASSES } from './labels.js';

/** What a neutral face should produce: mostly neutral, a little room for the rest. */
export const NEUTRAL_TARGET: readonly number[] = EXPRESSIONS.map((e) => (e === 'neutral' ? 0.86 : 0.02));
export const MAX_GAIN = 10;
/** Probabilities are floored here before taking logs: softmax outputs can underflow to 0. */
const FLOOR = 1e-4;

export interface NeutralCalibration {
  /** Per-class multiplicative gains, EXPRESSIONS order. */
  gains: number[];
  /** Frames the calibration was fitted on. */
  frames: number;
}

export class CalibrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CalibrationError';
  }
}

export function fitNeutralCalibration(samples: readonly ArrayLike<number>[], target: readonly number[] = NEUTRAL_TARGET): NeutralCalibration {
  if (samples.length === 0) throw new CalibrationError('neutral calibration needs at least one frame, got none');
  const logMean = new Float64Array(NUM_CLASSES);
  for (const s of samples) {
    if (s.length !== NUM_CLASSES) throw new CalibrationError(`expected ${NUM_CLASSES} probabilities per frame, got ${s.length}`);
    for (let i = 0; i < NUM_CLASSES; i++) {
      if (!Number.isFinite(s[i])) throw new CalibrationError(`calibration frame holds a non-finite probability (${s[i]})`);
      logMean[i] += Math.log(Math.max(FLOOR, s[i])) / samples.length;
    }
  }
  const gains = Array.from(logMean, (lm, i) => Math.min(MAX_GAIN, Math.max(1 / MAX_GAIN, target[i] / Math.exp(lm))));
  return { gains, frames: samples.length };
}

export function applyCalibration(probabilities: ArrayLike<number>, calibration: NeutralCalibration): Float64Array {
  const out = new Float64Array(NUM_CLASSES);
  let sum = 0;
  for (let i = 0; i < NUM_CLASSES; i++) {
    out[i] = Math.max(FLOOR, probabilities[i]) * calibration.gains[i];
    sum += out[i];
  }
  for (let i = 0; i < NUM_CLASSES; i++) out[i] /= sum;
  return out;
}

/**
 * The measured mouth (a model with the mouth head) gets its own neutral correction from the same
 * recording: a resting mouth that reads a little open, smiling or rolled (lip shape, teeth, the
 * camera's angle) should give the avatar a closed, relaxed mouth. Each weight's mean over the
 * recording becomes its rest level r, and w' = clamp((w − r) / (1 − r)): rest reads 0, a full
 * shape still reaches 1. r is capped at MAX_MOUTH_REST so a recording made with the mouth open
 * cannot silence the jaw.
 */
export const MAX_MOUTH_REST = 0.5;

export function fitMouthRest(samples: readonly ArrayLike<number>[]): Float64Array {
  if (samples.length === 0) throw new CalibrationError('mouth calibration needs at least one frame, got none');
  const size = samples[0].length;
  const rest = new Float64Array(size);
  for (const s of samples) {
    if (s.length !== size) throw new CalibrationError(`expected ${size} mouth weights per frame, got ${s.length}`);
    for (let i = 0; i < size; i++) {
      if (!Number.isFinite(s[i])) throw new CalibrationError(`calibration frame holds a non-finite mouth weight (${s[i]})`);
      rest[i] += s[i] / samples.length;
    }
  }
  for (let i = 0; i < size; i++) rest[i] = Math.min(MAX_MOUTH_REST, Math.max(0, rest[i]));
  return rest;
}

export function applyMouthRest(weights: ArrayLike<number>, rest: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: weights.length }, (_, i) => Math.min(1, Math.max(0, (weights[i] - rest[i]) / (1 - rest[i]))));
}
