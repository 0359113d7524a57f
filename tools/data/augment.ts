/**
 * On-the-fly augmentation of 48x48 grey faces: flip, rotation, scale, shift, brightness, contrast.
 * Deterministic for a given random source, so the same seed gives the same batches.
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
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  flip: true, maxRotationDeg: 10, maxShiftPx: 4, maxScale: 0.1, maxBrightness: 0.1, maxContrast: 0.2,
};

export const NO_AUGMENT: AugmentConfig = {
  flip: false, maxRotationDeg: 0, maxShiftPx: 0, maxScale: 0, maxBrightness: 0, maxContrast: 0,
};

const uniform = (random: Random, max: number) => (random() * 2 - 1) * max;

/** Writes the normalised face src (uint8, 48*48) into out[offset..] as float in [0,1]. */
export function normaliseFace(src: Uint8Array, out: Float32Array, offset = 0): void {
  for (let i = 0; i < FACE_PIXELS; i++) out[offset + i] = normalisePixel(src[i]);
}

/** Writes an augmented, normalised copy of src (uint8, 48*48) into out[offset..]. */
export function augmentFace(src: Uint8Array, out: Float32Array, offset: number, config: AugmentConfig, random: Random): void {
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
}
