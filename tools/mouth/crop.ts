/**
 * The one crop convention the landmark teachers see. FER2013 crops are tight 48x48 grey faces; the
 * landmark nets were trained on colour faces with a margin around them, so each face gets a mirrored
 * border (reflecting the face's own edge instead of a black frame, which the nets read as an edge of
 * the face), is upsampled to the net's input size and copied into three channels. The framing
 * changes the landmark values (docs/mouth.md measures the crops), so the convention is fixed here
 * and is part of the target cache's fingerprint.
 */
import * as tf from '@tensorflow/tfjs';
import { FACE_PIXELS, FACE_SIZE } from '../../src/core/face-geometry.js';

export interface CropConvention {
  /** Mirrored border on each side, as a fraction of the 48-px face. */
  padding: number;
  /** Side of the square the teacher net takes, in pixels. */
  size: number;
}

/** Border width in 48-px face pixels: whole pixels, so the mirror is exact. */
export function paddingPixels(crop: CropConvention): number {
  return Math.round(FACE_SIZE * crop.padding);
}

/**
 * Faces [start, start+count) of a packed 48x48 grey array as a [count, size, size, 3] float tensor
 * holding 0..255. mirror: flip each face left-right first (the mirror-consistency test).
 */
export function teacherInput(pixels: Uint8Array, start: number, count: number, crop: CropConvention, mirror = false): tf.Tensor4D {
  const pad = paddingPixels(crop);
  return tf.tidy(() => {
    const faces = tf.tensor4d(pixels.subarray(start * FACE_PIXELS, (start + count) * FACE_PIXELS), [count, FACE_SIZE, FACE_SIZE, 1], 'int32').toFloat();
    const oriented = mirror ? tf.reverse(faces, 2) : faces;
    const padded = pad > 0 ? tf.mirrorPad(oriented, [[0, 0], [pad, pad], [pad, pad], [0, 0]], 'reflect') : oriented;
    const resized = tf.image.resizeBilinear(padded as tf.Tensor4D, [crop.size, crop.size], false, true);
    return tf.tile(resized, [1, 1, 1, 3]) as tf.Tensor4D;
  });
}

/**
 * A point the net gives in its input's normalised coordinates (0..1 of the padded, upsampled crop)
 * back in 48-px face pixels; x is unflipped when the face was mirrored.
 */
export function toFacePixels(u: number, v: number, crop: CropConvention, mirrored = false): [number, number] {
  const pad = paddingPixels(crop);
  const span = FACE_SIZE + 2 * pad;
  const x = u * span - pad;
  return [mirrored ? FACE_SIZE - x : x, v * span - pad];
}
