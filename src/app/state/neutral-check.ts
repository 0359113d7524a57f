/**
 * Is the face held during a neutral calibration neutral enough to calibrate on? Calibration shifts
 * class priors so the recorded face reads as neutral; fitted on a smile, it would make every later
 * smile read as neutral. But resting faces often read partly sad or angry (that is what calibration
 * is for), so only a clear expression is refused:
 *   - a class a resting face does not show (happiness, surprise, fear, disgust, contempt) dominating, or
 *   - any non-neutral class at STRONG_MEAN or more on average (a frown held on purpose).
 * Pure: raw model outputs in, a verdict and a message out.
 */
import { EXPRESSIONS, type Expression } from '../../core/labels.js';

/** Expressions a relaxed face can read as: a calibration is for exactly these misreadings. */
const RESTING_MISREADS: ReadonlySet<Expression> = new Set(['neutral', 'sadness', 'anger']);
export const STRONG_MEAN = 0.6;

export interface NeutralVerdict {
  ok: boolean;
  /** the class with the highest mean probability over the recording */
  dominant: Expression;
  /** its mean probability */
  mean: number;
  /** why it was refused (null when ok) */
  reason: string | null;
}

export function checkNeutral(samples: readonly Record<Expression, number>[]): NeutralVerdict {
  if (samples.length === 0) return { ok: false, dominant: 'neutral', mean: 0, reason: 'no frames were tracked while calibrating' };
  const means = EXPRESSIONS.map((e) => samples.reduce((sum, s) => sum + s[e], 0) / samples.length);
  const top = means.indexOf(Math.max(...means));
  const dominant = EXPRESSIONS[top], mean = means[top];
  const pct = `${(mean * 100).toFixed(0)}%`;
  if (dominant !== 'neutral' && (!RESTING_MISREADS.has(dominant) || mean >= STRONG_MEAN)) {
    return { ok: false, dominant, mean, reason: `the face read as ${dominant} (${pct} on average), not neutral` };
  }
  return { ok: true, dominant, mean, reason: null };
}
