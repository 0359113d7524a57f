/**
 * Models with the mouth head for browser tests, as the files a browser fetches (model.json and its
 * weights), held in memory: no model is committed for them.
 * - mouthFixtureModel(): a committed student without a head (student-baseline), given a mouth head
 *   whose weights are known: a Dense layer on the class probabilities, so what the tracker must report for a frame follows from the
 *   frame's probabilities. It tests the plumbing (second output, worker and main thread, avatar),
 *   not measurement.
 * - readModelFiles(dir): a trained model folder (e.g. an export with the real mouth head).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EXPRESSIONS, type Expression } from '../../src/core/labels.js';
import { MOUTH_BLENDSHAPES, type MouthBlendshape } from '../../src/core/mouth-blendshapes.js';
import { loadModelFromDir } from '../../tools/model/file-io.js';

export type ModelFiles = Map<string, Uint8Array | string>;

/** The fixture head: mouth = sigmoid(probabilities · KERNEL + BIAS). The jaw is well open on every face. */
const BIAS: Partial<Record<MouthBlendshape, number>> = { jawOpen: 2, mouthSmileLeft: -3, mouthSmileRight: -3 };
const DEFAULT_BIAS = -4;
const KERNEL: Partial<Record<MouthBlendshape, Partial<Record<Expression, number>>>> = {
  jawOpen: { surprise: 4, anger: 4 },
  mouthSmileLeft: { happiness: 6 },
  mouthSmileRight: { happiness: 6 },
};

/** What the fixture head gives for these class probabilities (EXPRESSIONS order). */
export function fixtureMouth(probabilities: readonly number[]): number[] {
  return MOUTH_BLENDSHAPES.map((name) => {
    const z = EXPRESSIONS.reduce((sum, e, i) => sum + probabilities[i] * (KERNEL[name]?.[e] ?? 0), BIAS[name] ?? DEFAULT_BIAS);
    return 1 / (1 + Math.exp(-z));
  });
}

export async function mouthFixtureModel(baseDir = 'models/student-baseline'): Promise<ModelFiles> {
  const base = await loadModelFromDir(baseDir);
  const probabilities = base.outputs[0];
  const head = tf.layers.dense({ units: MOUTH_BLENDSHAPES.length, activation: 'sigmoid', name: 'mouth' });
  const model = tf.model({ inputs: base.inputs, outputs: [probabilities, head.apply(probabilities) as tf.SymbolicTensor], name: 'halfface_mouth_fixture' });
  const kernel = tf.tensor2d(EXPRESSIONS.flatMap((e) => MOUTH_BLENDSHAPES.map((name) => KERNEL[name]?.[e] ?? 0)), [EXPRESSIONS.length, MOUTH_BLENDSHAPES.length]);
  const bias = tf.tensor1d(MOUTH_BLENDSHAPES.map((name) => BIAS[name] ?? DEFAULT_BIAS));
  head.setWeights([kernel, bias]);
  kernel.dispose();
  bias.dispose();
  const files: ModelFiles = new Map();
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = artifacts.weightData;
    const weights = new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data!);
    files.set('model.json', JSON.stringify({
      format: 'layers-model', modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    }));
    files.set('weights.bin', weights);
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  model.dispose();
  return files;
}

/** Whether a model folder's graph has the mouth head: an output layer named "mouth". */
export function hasMouthOutput(dir: string): boolean {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) return false;
  const topology = JSON.parse(readFileSync(file, 'utf8')).modelTopology;
  const config = topology?.config ?? topology?.model_config?.config;
  return JSON.stringify(config?.output_layers ?? []).includes('"mouth"');
}

/** A model folder's model.json and every weight file it names. */
export function readModelFiles(dir: string): ModelFiles {
  const json = readFileSync(join(dir, 'model.json'), 'utf8');
  const files: ModelFiles = new Map([['model.json', json]]);
  for (const group of JSON.parse(json).weightsManifest as { paths: string[] }[]) {
    // Served under the names the manifest resolves to, relative to model.json ("./weights.bin" → "weights.bin").
    for (const path of group.paths) files.set(posix.normalize(path), new Uint8Array(readFileSync(join(dir, path))));
  }
  return files;
}
