/** Builds training and evaluation batches from a labelled split. */
import * as tf from '@tensorflow/tfjs';
import { FACE_PIXELS, FACE_SIZE } from '../../src/core/face-geometry.js';
import { NUM_CLASSES } from '../../src/core/labels.js';
import { mirrorMouthRow, NUM_MOUTH_BLENDSHAPES } from '../../src/core/mouth-blendshapes.js';
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
  /**
   * When the split carries mouth targets: n × K, row i as face row i is shown (Left/Right swapped
   * where it was mirrored), 0 where mouthMask is 0 so that no NaN reaches the loss.
   */
  mouth?: Float32Array;
  /** 1 where the landmark teacher placed the face (its row counts in the mouth loss), else 0. */
  mouthMask?: Float32Array;
}

/** The landmark teacher's targets of a split, row i for face i (tools/mouth/targets.ts). */
export interface MouthRows {
  /** n × K in MOUTH_BLENDSHAPES order, NaN where mask is 0. */
  targets: Float32Array;
  mask: Uint8Array;
}

/** A split as the trainer holds it: with mouth targets when the run trains the mouth head. */
export type TrainingSplit = LabelledSplit & { mouth?: MouthRows };

export function makeBatch(split: TrainingSplit, indices: Int32Array, occlusion: Occlusion, augment: AugmentConfig | null, random: Random): HostBatch {
  return batchOf(split, indices, occlusion, (face, out, offset) => {
    if (augment) return augmentFace(face, out, offset, augment, random);
    normaliseFace(face, out, offset);
    return false;
  });
}

/**
 * A batch of the faces at `indices`: `write` puts row i's whole face (normalised, unoccluded) at
 * out[offset..] and returns whether it mirrored it, called in row order (a shared random stream is
 * drawn in that order); the run's occlusion is applied after.
 */
export function batchOf(split: TrainingSplit, indices: Int32Array, occlusion: Occlusion, write: (face: Uint8Array, out: Float32Array, offset: number, row: number) => boolean): HostBatch {
  const n = indices.length;
  const K = NUM_MOUTH_BLENDSHAPES;
  const clean = new Float32Array(n * FACE_PIXELS);
  const targets = new Float32Array(n * NUM_CLASSES);
  const labels = new Int32Array(n);
  const mouth = split.mouth ? new Float32Array(n * K) : undefined;
  const mouthMask = split.mouth ? new Float32Array(n) : undefined;
  indices.forEach((src, i) => {
    const mirrored = write(split.pixels.subarray(src * FACE_PIXELS, (src + 1) * FACE_PIXELS), clean, i * FACE_PIXELS, i);
    targets.set(split.targets.subarray(src * NUM_CLASSES, (src + 1) * NUM_CLASSES), i * NUM_CLASSES);
    labels[i] = split.labels[src];
    if (split.mouth && mouth && mouthMask && split.mouth.mask[src]) {
      mouthMask[i] = 1;
      if (mirrored) mirrorMouthRow(split.mouth.targets, src * K, mouth, i * K);
      else mouth.set(split.mouth.targets.subarray(src * K, (src + 1) * K), i * K);
    }
  });
  const faces = occlusion === 'none' ? clean : occlude(clean.slice(), occlusion);
  return { indices, faces, clean, targets, labels, ...(mouth ? { mouth, mouthMask } : {}) };
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
