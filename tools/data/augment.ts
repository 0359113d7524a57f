/**
 * On-the-fly augmentation of 48x48 grey faces: flip, rotation, scale, shift, brightness, contrast,
 * random erasing. Deterministic for a given random source, so the same seed gives the same batches.
 */
import { FACE_PIXELS, FACE_SIZE, normalisePixel } from '../../src/core/face-geometry.js';
import type { Random } from './random.js';

export interface AugmentConfig {
  flip: boolean;
  maxRotationDeg: number;
  maxShiftPx: number;
  maxScale: number; // e.g. 0.1 for 0.9..1.1
  maxBrightness: number; // additive, in [0,1] units
  maxContrast: number; // multiplicative around the mean, e.g. 0.2 for 0.8..1.2
  /**
   * Probability of random erasing (Zhong et al. 2020): one rectangle of 2-25% of the face, aspect
   * 0.3-3.3, filled with noise. Optional so that configs saved before it existed read as 0.
   */
  erasing?: number;
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  flip: true, maxRotationDeg: 10, maxShiftPx: 4, maxScale: 0.1, maxBrightness: 0.1, maxContrast: 0.2,
};

export const NO_AUGMENT: AugmentConfig = {
  flip: false, maxRotationDeg: 0, maxShiftPx: 0, maxScale: 0, maxBrightness: 0, maxContrast: 0, erasing: 0,
};

/** For long runs of a network with capacity (the teacher): more geometry, and random erasing. */
export const STRONG_AUGMENT: AugmentConfig = {
  flip: true, maxRotationDeg: 15, maxShiftPx: 5, maxScale: 0.15, maxBrightness: 0.15, maxContrast: 0.3, erasing: 0.5,
};

export const AUGMENT_PRESETS = { default: DEFAULT_AUGMENT, strong: STRONG_AUGMENT, none: NO_AUGMENT } as const;
export type AugmentPreset = keyof typeof AUGMENT_PRESETS;

const uniform = (random: Random, max: number) => (random() * 2 - 1) * max;

/** Writes the normalised face src (uint8, 48*48) into out[offset..] as float in [0,1]. */
export function normaliseFace(src: Uint8Array, out: Float32Array, offset = 0): void {
  for (let i = 0; i < FACE_PIXELS; i++) out[offset + i] = normalisePixel(src[i]);
}

/**
 * Writes an augmented, normalised copy of src (uint8, 48*48) into out[offset..]. Returns whether it
 * was mirrored: labels with a side (the mouth targets' Left/Right) must be swapped to match.
 */
export function augmentFace(src: Uint8Array, out: Float32Array, offset: number, config: AugmentConfig, random: Random): boolean {
  const flip = config.flip && random() < 0.5;
  const angle = (uniform(random, config.maxRotationDeg) * Math.PI) / 180;
  const scale = 1 + uniform(random, config.maxScale);
  const dx = uniform(random, config.maxShiftPx);
  const dy = uniform(random, config.maxShiftPx);
  const brightness = uniform(random, config.maxBrightness);
  const contrast = 1 + uniform(random, config.maxContrast);
  const c = (FACE_SIZE - 1) / 2;
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  let mean = 0;
  for (let i = 0; i < FACE_PIXELS; i++) mean += src[i];
  mean = normalisePixel(mean / FACE_PIXELS);
  for (let y = 0; y < FACE_SIZE; y++) {
    for (let x = 0; x < FACE_SIZE; x++) {
      // Inverse mapping: where in the source does this output pixel come from.
      const ox = (flip ? FACE_SIZE - 1 - x : x) - c - dx;
      const oy = y - c - dy;
      const sx = Math.min(FACE_SIZE - 1, Math.max(0, cos * ox + sin * oy + c));
      const sy = Math.min(FACE_SIZE - 1, Math.max(0, -sin * ox + cos * oy + c));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(FACE_SIZE - 1, x0 + 1);
      const y1 = Math.min(FACE_SIZE - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const v =
        (src[y0 * FACE_SIZE + x0] * (1 - fx) + src[y0 * FACE_SIZE + x1] * fx) * (1 - fy) +
        (src[y1 * FACE_SIZE + x0] * (1 - fx) + src[y1 * FACE_SIZE + x1] * fx) * fy;
      const p = (normalisePixel(v) - mean) * contrast + mean + brightness;
      out[offset + y * FACE_SIZE + x] = Math.min(1, Math.max(0, p));
    }
  }
  // Drawn only when enabled, so runs without erasing keep the random stream they always had.
  if ((config.erasing ?? 0) > 0 && random() < config.erasing!) eraseRectangle(out, offset, random);
  return flip;
}

/** Fills one random rectangle of the face at out[offset..] with uniform noise. */
export function eraseRectangle(out: Float32Array, offset: number, random: Random): void {
  const area = (0.02 + random() * 0.23) * FACE_PIXELS;
  const aspect = Math.exp(Math.log(0.3) + random() * (Math.log(3.3) - Math.log(0.3)));
  const h = Math.max(1, Math.min(FACE_SIZE, Math.round(Math.sqrt(area * aspect))));
  const w = Math.max(1, Math.min(FACE_SIZE, Math.round(Math.sqrt(area / aspect))));
  const top = Math.floor(random() * (FACE_SIZE - h + 1));
  const left = Math.floor(random() * (FACE_SIZE - w + 1));
  for (let y = top; y < top + h; y++) {
    for (let x = left; x < left + w; x++) out[offset + y * FACE_SIZE + x] = random();
  }
}
