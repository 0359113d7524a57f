/**
 * Fixed augmented views: view v of training face i is always the same image, augmented with its
 * own random stream seeded by (face, view, seed). A teacher's outputs on every view can then be
 * computed once and cached (tools/train/teacher-cache.ts), and a student trained on the very same
 * views later, with no teacher forward pass.
 */
import type { Occlusion } from '../../src/core/occlusion.js';
import { augmentFace, type AugmentConfig } from './augment.js';
import { batchOf, type HostBatch, type TrainingSplit } from './batches.js';
import { seededRandom, type Random } from './random.js';

/** murmur3's 32-bit finaliser: nearby inputs give unrelated outputs. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The random stream of view `view` of face `face`: a function of the three numbers only, so it
 * does not depend on batch order, batch size or which epoch asks for it.
 */
export function viewRandom(face: number, view: number, seed: number): Random {
  return seededRandom(fmix32(fmix32(fmix32(seed >>> 0) ^ face) + view * 0x9e3779b9));
}

/** Which of the K views face `face` is trained on in epoch `epoch`: each epoch a different one, all K over K epochs. */
export const viewAt = (epoch: number, face: number, views: number) => (epoch + face) % views;

/** A training batch of fixed views: face indices[i] as its view views[i]. */
export function makeViewBatch(split: TrainingSplit, indices: Int32Array, views: Int32Array, occlusion: Occlusion, augment: AugmentConfig, seed: number): HostBatch {
  const batch = batchOf(split, indices, occlusion, (face, out, offset, row) => augmentFace(face, out, offset, augment, viewRandom(indices[row], views[row], seed)));
  return { ...batch, views };
}
