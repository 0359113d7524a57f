/** Folding for inference must not change what the model says, on real faces with a real model. */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argmax, NUM_CLASSES } from '../src/core/labels.js';
import { selectBackend } from '../tools/backend/select.js';
import { predictSplit } from '../tools/data/batches.js';
import { loadSplit, type LabelledSplit } from '../tools/data/ferplus.js';
import { buildConcatModel, buildModel, inferenceGraph } from '../tools/model/architectures.js';
import { loadModelFromDir } from '../tools/model/file-io.js';
import { foldForInference } from '../tools/model/fold.js';
import { DATA_DIR } from './helpers/data.js';

const N = 200;
let valid: LabelledSplit;

beforeAll(async () => {
  await selectBackend('wasm', 1);
  const all = loadSplit(DATA_DIR, 'FER2013Valid', 'majority');
  valid = { ...all, names: all.names.slice(0, N), pixels: all.pixels.slice(0, N * 2304), targets: all.targets.slice(0, N * NUM_CLASSES), labels: all.labels.slice(0, N) };
});

/** Non-trivial batch-norm statistics (a fresh model has none), so that the fold has something to get wrong. */
function randomiseBatchNorms(model: tf.LayersModel) {
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    layer.setWeights(layer.getWeights().map((w, i) => tf.tidy(() => (i === 3 ? tf.randomUniform(w.shape, 0.5, 2, 'float32', 1) : tf.randomNormal(w.shape, 0, 0.3, 'float32', 2)))));
  }
}

async function compare(original: tf.LayersModel, folded: tf.LayersModel) {
  const a = await predictSplit(original, valid, 'lower');
  const b = await predictSplit(folded, valid, 'lower');
  let maxDiff = 0;
  let sameClass = 0;
  for (let i = 0; i < N; i++) {
    const pa = a.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES);
    const pb = b.subarray(i * NUM_CLASSES, (i + 1) * NUM_CLASSES);
    for (let k = 0; k < NUM_CLASSES; k++) maxDiff = Math.max(maxDiff, Math.abs(pa[k] - pb[k]));
    if (argmax(pa) === argmax(pb)) sameClass++;
  }
  return { maxDiff, sameClass };
}

describe('folding a trained model for inference', () => {
  const disposables: tf.LayersModel[] = [];
  afterAll(() => disposables.forEach((m) => m.dispose()));

  it('removes every batch norm, stand-alone ReLU after a conv, and dropout of a student, and predicts the same', async () => {
    const original = inferenceGraph(buildModel('student', 5));
    randomiseBatchNorms(original);
    const { model: folded, summary } = await foldForInference(original);
    disposables.push(original, folded);
    expect(summary).toEqual({ batchNorms: 8, activations: 9, dropouts: 2 });
    const kinds = folded.layers.map((l) => l.getClassName());
    expect(kinds).not.toContain('BatchNormalization');
    expect(kinds).not.toContain('Dropout');
    expect(kinds.filter((k) => k === 'ReLU')).toEqual([]);
    const { maxDiff, sameClass } = await compare(original, folded);
    expect(sameClass).toBe(N);
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('the shipped model is exported folded, and folding it again changes nothing', async () => {
    const shipped = await loadModelFromDir('models/halfface');
    const { model: again, summary } = await foldForInference(shipped);
    disposables.push(shipped, again);
    // The shipped graph may wrap the network (flip averaging): look inside nested models too.
    const allLayers = (m: tf.LayersModel): tf.layers.Layer[] => m.layers.flatMap((l) => (l instanceof tf.LayersModel ? allLayers(l) : [l]));
    const kinds = allLayers(shipped).map((l) => l.getClassName());
    expect(kinds).toContain('Conv2D');
    expect(kinds).not.toContain('BatchNormalization');
    expect(summary).toEqual({ batchNorms: 0, activations: 0, dropouts: 0 });
    const { maxDiff, sameClass } = await compare(shipped, again);
    expect(sameClass).toBe(N);
    expect(maxDiff).toBe(0);
  });

  it('keeps the concat graph\'s two branches and its head, and predicts the same', async () => {
    const original = inferenceGraph(buildConcatModel(7));
    randomiseBatchNorms(original);
    const { model: folded, summary } = await foldForInference(original);
    disposables.push(original, folded);
    expect(summary.batchNorms).toBe(16);
    expect(folded.layers.filter((l) => l.getClassName() === 'Conv2D')).toHaveLength(16);
    const { maxDiff, sameClass } = await compare(original, folded);
    expect(sameClass).toBe(N);
    expect(maxDiff).toBeLessThan(1e-5);
  });
});
