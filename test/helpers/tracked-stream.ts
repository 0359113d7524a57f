/**
 * A real tracked expression stream for recorder tests: FER+ Valid faces (the first of each class,
 * in turn) through the student model (lower-half occlusion, as in the browser), each held for
 * `holdFrames` frames like a face in a video, then the tracker's own post-processing (one-euro
 * smoothing, label hysteresis, ARKit/VRM mapping), at 30 frames per second.
 */
import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { arkitWeights, toRecord, vrmWeights } from '../../src/core/blendshapes.js';
import { FACE_PIXELS } from '../../src/core/face-geometry.js';
import { EXPRESSIONS, NUM_CLASSES } from '../../src/core/labels.js';
import { DEFAULT_ONE_EURO, LabelHysteresis, ProbabilitySmoother } from '../../src/core/smoothing.js';
import type { ExpressionSample } from '../../src/research/types.js';
import { predictSplit } from '../../tools/data/batches.js';
import { loadSplit } from '../../tools/data/ferplus.js';
import { loadModelFromDir } from '../../tools/model/file-io.js';
import { DATA_DIR } from './data.js';

export const STREAM_ORIGIN_MS = 12_345.5;

export async function trackedStream(holdFrames = 12): Promise<ExpressionSample[]> {
  const split = loadSplit(DATA_DIR, 'FER2013Valid', 'majority');
  const picks = EXPRESSIONS.map((_, c) => split.labels.indexOf(c)).filter((i) => i >= 0);
  const pixels = new Uint8Array(picks.length * FACE_PIXELS);
  picks.forEach((src, j) => pixels.set(split.pixels.subarray(src * FACE_PIXELS, (src + 1) * FACE_PIXELS), j * FACE_PIXELS));
  const head = {
    ...split, names: picks.map((i) => split.names[i]), pixels,
    targets: new Float32Array(picks.length * NUM_CLASSES), labels: Int32Array.from(picks.map((i) => split.labels[i])),
  };
  await tf.setBackend('cpu');
  const model = await loadModelFromDir(resolve('models/student-baseline'));
  let raw: Float32Array;
  try {
    raw = await predictSplit(model, head, 'lower', 32);
  } finally {
    model.dispose();
  }
  const smoother = new ProbabilitySmoother(NUM_CLASSES, DEFAULT_ONE_EURO);
  const hysteresis = new LabelHysteresis(0.1);
  const samples: ExpressionSample[] = [];
  for (let i = 0; i < picks.length * holdFrames; i++) {
    const face = Math.floor(i / holdFrames);
    const timestampMs = STREAM_ORIGIN_MS + 40 + (i * 1000) / 30;
    const probs = smoother.smooth(raw.subarray(face * NUM_CLASSES, (face + 1) * NUM_CLASSES), timestampMs);
    const label = hysteresis.update(probs);
    const probabilities = toRecord(Array.from(probs));
    samples.push({
      timestampMs, probabilities, label: EXPRESSIONS[label], confidence: probs[label],
      blendshapes: arkitWeights(probabilities), vrm: vrmWeights(probabilities),
    });
  }
  return samples;
}
