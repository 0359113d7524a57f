/**
 * Temporal smoothing of the per-frame expression output: a one-euro filter on each class
 * probability (Casiez, Roussel & Vogel, CHI 2012) and hysteresis on the label. Pure, no DOM.
 */
import { argmax } from './labels.js';

export interface OneEuroConfig {
  /** Cut-off (Hz) when the signal is still: lower = less jitter, more lag. */
  minCutoff: number;
  /** How fast the cut-off rises with speed: higher = less lag on fast changes. */
  beta: number;
  /** Cut-off (Hz) of the derivative estimate. */
  derivativeCutoff: number;
}

/** Expression probabilities change over ~100 ms; these keep a 30 fps stream calm but responsive. */
export const DEFAULT_ONE_EURO: OneEuroConfig = { minCutoff: 1.0, beta: 0.3, derivativeCutoff: 1.0 };

function alpha(cutoffHz: number, dtSeconds: number): number {
  const tau = 1 / (2 * Math.PI * cutoffHz);
  return 1 / (1 + tau / dtSeconds);
}

export class OneEuroFilter {
  private value: number | null = null;
  private derivative = 0;
  private lastMs = 0;

  constructor(private readonly config: OneEuroConfig = DEFAULT_ONE_EURO) {}

  /** Filtered value at time `timestampMs`. A non-increasing timestamp returns the last value unchanged. */
  filter(x: number, timestampMs: number): number {
    if (this.value === null) {
      this.value = x;
      this.lastMs = timestampMs;
      return x;
    }
    const dt = (timestampMs - this.lastMs) / 1000;
    if (!(dt > 0)) return this.value;
    this.lastMs = timestampMs;
    const dx = (x - this.value) / dt;
    this.derivative += alpha(this.config.derivativeCutoff, dt) * (dx - this.derivative);
    const cutoff = this.config.minCutoff + this.config.beta * Math.abs(this.derivative);
    this.value += alpha(cutoff, dt) * (x - this.value);
    return this.value;
  }

  reset(): void {
    this.value = null;
    this.derivative = 0;
  }
}

/**
 * The measured mouth moves at speech rate: the jaw opens and closes 3-5 times a second, and the
 * expression defaults (a ~1 Hz cut-off at rest) would show a syllable a quarter-cycle late at half
 * its size. These keep up with a 4 Hz jaw at 30 fps and still calm a resting mouth's
 * frame-to-frame jitter (test/face-weights.test.ts).
 */
export const DEFAULT_MOUTH_ONE_EURO: OneEuroConfig = { minCutoff: 2.0, beta: 5.0, derivativeCutoff: 1.0 };

/** One one-euro filter per value of a fixed-length vector, each output clamped to [low, high]. */
export class VectorSmoother {
  private readonly filters: OneEuroFilter[];

  constructor(size: number, config: OneEuroConfig = DEFAULT_ONE_EURO, private readonly low = -Infinity, private readonly high = Infinity) {
    this.filters = Array.from({ length: size }, () => new OneEuroFilter(config));
  }

  smooth(values: ArrayLike<number>, timestampMs: number): Float64Array {
    if (values.length !== this.filters.length) throw new Error(`expected ${this.filters.length} values, got ${values.length}`);
    const out = new Float64Array(this.filters.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.min(this.high, Math.max(this.low, this.filters[i].filter(values[i], timestampMs)));
    return out;
  }

  reset(): void {
    for (const f of this.filters) f.reset();
  }
}

/** One one-euro filter per class; the output is renormalised so it stays a distribution. */
export class ProbabilitySmoother {
  private readonly values: VectorSmoother;

  constructor(classes: number, config: OneEuroConfig = DEFAULT_ONE_EURO) {
    this.values = new VectorSmoother(classes, config, 0);
  }

  smooth(probabilities: ArrayLike<number>, timestampMs: number): Float64Array {
    const out = this.values.smooth(probabilities, timestampMs);
    const sum = out.reduce((a, b) => a + b, 0);
    if (sum > 0) for (let i = 0; i < out.length; i++) out[i] /= sum;
    return out;
  }

  reset(): void {
    this.values.reset();
  }
}

/**
 * Keeps the current label until another class beats it by `margin` (probability points), so a
 * face halfway between two expressions does not flicker between them.
 */
export class LabelHysteresis {
  private current: number | null = null;

  constructor(private readonly margin = 0.1) {}

  update(probabilities: ArrayLike<number>): number {
    const best = argmax(probabilities);
    if (this.current === null || probabilities[best] >= probabilities[this.current] + this.margin) this.current = best;
    return this.current;
  }

  reset(): void {
    this.current = null;
  }
}
