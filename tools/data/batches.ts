/** Builds training and evaluation batches from a labelled split. */
import * as tf from '@tensorflow/tfjs';
import { FACE_PIXELS, FACE_SIZE } from '../../src/core/face-geometry.js';
import { NUM_CLASSES } from '../../src/core/labels.js';
import { occlude, type Occlusion } from '../../src/core/occlusion.js';
import { augmentFace, normaliseFace, type AugmentConfig } from './augment.js';
import type { LabelledSplit } from './ferplus.js';
import type { Random } from './random.js';

export interface HostBatch {
  indices: Int32Array;
  /** Augmented faces with the run's occlusion applied: what the trained network sees. */
  faces: Float32Array;
  /** The same augmented faces without occlusion: what a teacher sees in the distillation stages. */
  clean: Float32Array;
  targets: Float32Array;
  labels: Int32Array;
  /** With fixed views (tools/data/views.ts): which view of face indices[i] row i holds. */
  views?: Int32Array;
}

export function makeBatch(split: LabelledSplit, indices: Int32Array, occlusion: Occlusion, augment: AugmentConfig | null, random: Random): HostBatch {
  return batchOf(split, indices, occlusion, (face, out, offset) => {
    if (augment) augmentFace(face, out, offset, augment, random);
    else normaliseFace(face, out, offset);
  });
}

/**
 * A batch of the faces at `indices`: `write` puts row i's whole face (normalised, unoccluded) at
 * out[offset..], called in row order (a shared random stream is drawn in that order); the run's
 * occlusion is applied after.
 */
export function batchOf(split: LabelledSplit, indices: Int32Array, occlusion: Occlusion, write: (face: Uint8Array, out: Float32Array, offset: number, row: number) => void): HostBatch {
  const n = indices.length;
  const clean = new Float32Array(n * FACE_PIXELS);
  const targets = new Float32Array(n * NUM_CLASSES);
  const labels = new Int32Array(n);
  indices.forEach((src, i) => {
    write(split.pixels.subarray(src * FACE_PIXELS, (src + 1) * FACE_PIXELS), clean, i * FACE_PIXELS, i);
    targets.set(split.targets.subarray(src * NUM_CLASSES, (src + 1) * NUM_CLASSES), i * NUM_CLASSES);
    labels[i] = split.labels[src];
  });
  const faces = occlusion === 'none' ? clean : occlude(clean.slice(), occlusion);
  return { indices, faces, clean, targets, labels };
}

export function facesTensor(faces: Float32Array): tf.Tensor4D {
  return tf.tensor4d(faces, [faces.length / FACE_PIXELS, FACE_SIZE, FACE_SIZE, 1]);
}

/** Class probabilities for every image of a split, as the browser would compute them (no augmentation). */
export async function predictSplit(model: tf.LayersModel, split: LabelledSplit, occlusion: Occlusion, batchSize = 256): Promise<Float32Array> {
  const n = split.labels.length;
  const out = new Float32Array(n * NUM_CLASSES);
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const indices = Int32Array.from({ length: count }, (_, i) => start + i);
    const batch = makeBatch(split, indices, occlusion, null, Math.random);
    const probs = tf.tidy(() => {
      const x = facesTensor(batch.faces);
      const y = model.predict(x);
      return (Array.isArray(y) ? y[0] : y) as tf.Tensor;
    });
    out.set(await probs.data() as Float32Array, start * NUM_CLASSES);
    probs.dispose();
  }
  return out;
}
