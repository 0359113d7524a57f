/**
 * `npm run eval -- --task mouth`: a model's "mouth" output (K sigmoid units, MOUTH_BLENDSHAPES
 * order) on occluded faces, scored against the landmark teacher's targets computed on the whole
 * faces of the same images (tools/mouth). Faces the teacher could not place are left out.
 * Works on a layers model or a graph model folder; a model without a "mouth" output is refused.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MOUTH_BLENDSHAPES, NUM_MOUTH_BLENDSHAPES, type MouthBlendshape } from '../../src/core/mouth-blendshapes.js';
import type { LabelMode } from '../../src/core/labels.js';
import type { Occlusion } from '../../src/core/occlusion.js';
import { facesTensor, makeBatch } from '../data/batches.js';
import { loadSplit, type LabelledSplit, type SplitName } from '../data/ferplus.js';
import { fileLoadHandler, ModelFileError } from '../model/file-io.js';
import { pearson } from '../mouth/stats.js';
import { DEFAULT_TEACHER, MouthCacheError, ensureSplitTargets, loadMouthTargets, type MouthTargets } from '../mouth/targets.js';
import type { TeacherName } from '../mouth/teachers.js';
import { MODEL_INPUT_SHAPE } from './evaluate-model.js';

/** The output layer (layers model) or output node (graph model) the mouth head must be named. */
export const MOUTH_OUTPUT = 'mouth';

export interface MouthScore {
  /** Pearson's r over the faces the teacher placed; null when undefined (a constant column). */
  pearson: number | null;
  mae: number;
}

export interface MouthReport {
  /** Faces scored: those of the split (label protocol applied) that the teacher placed. */
  n: number;
  /** Faces of the split left out because the teacher could not place them. */
  missing: number;
  split: string;
  occlusion: Occlusion;
  labelMode: LabelMode;
  model: string;
  teacher: string;
  mouth: { meanPearson: number | null; perBlendshape: Record<MouthBlendshape, MouthScore> };
}

/** A loaded model reduced to one function: faces in, the mouth output out. */
export interface MouthPredictor {
  predict(x: tf.Tensor4D): tf.Tensor;
  inputShape: (number | null)[];
  outputUnits: number | null;
  dispose(): void;
}

function isMouthName(name: string): boolean {
  // Graph models name outputs by node ("mouth/Sigmoid", "mouth:0") or signature key ("mouth").
  return name === MOUTH_OUTPUT || name.startsWith(`${MOUTH_OUTPUT}/`) || name.startsWith(`${MOUTH_OUTPUT}:`);
}

export async function loadMouthPredictor(dir: string): Promise<MouthPredictor> {
  const jsonPath = join(dir, 'model.json');
  if (!existsSync(jsonPath)) throw new ModelFileError(`no model at ${dir}: ${jsonPath} does not exist`);
  const format = (JSON.parse(readFileSync(jsonPath, 'utf8')) as { format?: string }).format;
  if (format === 'graph-model') {
    const model = await tf.loadGraphModel(fileLoadHandler(dir));
    const names = model.outputs.map((o) => o.name);
    const found = model.outputs.find((o) => isMouthName(o.name));
    if (!found) {
      model.dispose();
      throw new Error(`model at ${dir} has no "${MOUTH_OUTPUT}" output (its outputs: ${names.join(', ')}): train it with the mouth head`);
    }
    return {
      predict: (x) => model.execute(x, found.name) as tf.Tensor,
      inputShape: model.inputs[0].shape ?? [],
      outputUnits: found.shape?.at(-1) ?? null,
      dispose: () => model.dispose(),
    };
  }
  const model = await tf.loadLayersModel(fileLoadHandler(dir));
  try {
    return layersMouthPredictor(model, `model at ${dir}`, true);
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * The mouth output of a layers model already in memory (the trainer's, during validation).
 * ownsModel: dispose() frees the model too.
 */
export function layersMouthPredictor(model: tf.LayersModel, what: string, ownsModel = false): MouthPredictor {
  const index = model.outputLayers.findIndex((l) => l.name === MOUTH_OUTPUT);
  if (index < 0) {
    const names = model.outputLayers.map((l) => l.name);
    throw new Error(`${what} has no "${MOUTH_OUTPUT}" output layer (its outputs: ${names.join(', ')}): train it with the mouth head`);
  }
  return {
    predict: (x) => {
      const y = model.predict(x);
      return Array.isArray(y) ? y[index] : y;
    },
    inputShape: model.inputs[0].shape,
    outputUnits: model.outputs[index].shape.at(-1) ?? null,
    dispose: () => { if (ownsModel) model.dispose(); },
  };
}

/** The mouth output for every face of a split (occluded as the model was trained), n × K. */
export async function predictMouth(predictor: MouthPredictor, split: LabelledSplit, occlusion: Occlusion, batchSize = 256): Promise<Float32Array> {
  const n = split.names.length;
  const K = NUM_MOUTH_BLENDSHAPES;
  const out = new Float32Array(n * K);
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const batch = makeBatch(split, Int32Array.from({ length: count }, (_, i) => start + i), occlusion, null, Math.random);
    const y = tf.tidy(() => predictor.predict(facesTensor(batch.faces)));
    try {
      if (y.size !== count * K) throw new Error(`the mouth output gives ${y.size / count} values per face, expected ${K} (${MOUTH_BLENDSHAPES.join(', ')})`);
      out.set(await y.data() as Float32Array, start * K);
    } finally {
      y.dispose();
    }
  }
  return out;
}

/** Pearson and MAE per blendshape between predictions and targets over the masked-in faces. */
export function scoreMouth(predicted: Float32Array, truth: MouthTargets): { n: number; mouth: MouthReport['mouth'] } {
  const K = NUM_MOUTH_BLENDSHAPES;
  const rows: number[] = [];
  truth.mask.forEach((m, i) => { if (m) rows.push(i); });
  const perBlendshape = {} as Record<MouthBlendshape, MouthScore>;
  const rs: number[] = [];
  MOUTH_BLENDSHAPES.forEach((name, k) => {
    const p = rows.map((i) => predicted[i * K + k]);
    const t = rows.map((i) => truth.targets[i * K + k]);
    const r = pearson(p, t);
    if (Number.isFinite(r)) rs.push(r);
    const mae = rows.length ? p.reduce((s, v, j) => s + Math.abs(v - t[j]), 0) / rows.length : NaN;
    perBlendshape[name] = { pearson: Number.isFinite(r) ? r : null, mae };
  });
  return { n: rows.length, mouth: { meanPearson: rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : null, perBlendshape } };
}

export interface MouthEvalOptions {
  teacher?: TeacherName;
  cacheDir?: string;
  labelMode?: LabelMode;
  log?: (message: string) => void;
}

/** Teacher targets for the split's images: from the cache, computed and cached first when absent. */
async function teacherTargets(dataDir: string, split: SplitName, names: string[], options: MouthEvalOptions): Promise<MouthTargets> {
  const opts = { teacher: options.teacher, cacheDir: options.cacheDir, log: options.log };
  try {
    return loadMouthTargets(dataDir, split, names, opts);
  } catch (e) {
    if (!(e instanceof MouthCacheError)) throw e;
    options.log?.(`${(e as Error).message.split(':')[0]}: computing the teacher's targets now`);
    await ensureSplitTargets(dataDir, split, opts);
    return loadMouthTargets(dataDir, split, names, opts);
  }
}

export async function evaluateMouthModelDir(modelDir: string, dataDir: string, split: SplitName, occlusion: Occlusion, options: MouthEvalOptions = {}): Promise<MouthReport> {
  const labelMode = options.labelMode ?? 'majority';
  const data = loadSplit(dataDir, split, labelMode);
  // The model is checked before the teacher runs: a model without the head fails at once.
  const predictor = await loadMouthPredictor(modelDir);
  try {
    const input = predictor.inputShape;
    if (input.length !== MODEL_INPUT_SHAPE.length || MODEL_INPUT_SHAPE.some((d, i) => d !== null && input[i] !== d)) {
      throw new Error(`model at ${modelDir} takes input ${JSON.stringify(input)}, expected ${JSON.stringify(MODEL_INPUT_SHAPE)}`);
    }
    if (predictor.outputUnits !== null && predictor.outputUnits !== NUM_MOUTH_BLENDSHAPES) {
      throw new Error(`model at ${modelDir} has a "${MOUTH_OUTPUT}" output of ${predictor.outputUnits} units, expected ${NUM_MOUTH_BLENDSHAPES} (${MOUTH_BLENDSHAPES.join(', ')})`);
    }
    const truth = await teacherTargets(dataDir, split, data.names, options);
    const predicted = await predictMouth(predictor, data, occlusion);
    const scored = scoreMouth(predicted, truth);
    return { ...scored, missing: data.names.length - scored.n, split, occlusion, labelMode, model: modelDir, teacher: options.teacher ?? DEFAULT_TEACHER };
  } finally {
    predictor.dispose();
  }
}

/** The CLI's side of --task mouth: evaluate, print a table, write the JSON report. */
export async function runMouthEval(modelDir: string, dataDir: string, split: SplitName, occlusion: Occlusion, options: MouthEvalOptions & { json?: string; backend: string }): Promise<void> {
  const report = await evaluateMouthModelDir(modelDir, dataDir, split, occlusion, { ...options, log: (m) => console.log(m) });
  const fmt = (v: number | null) => (v === null ? '   -  ' : v.toFixed(3).padStart(6));
  console.log(`model ${modelDir} on ${report.split} (${report.n} faces the ${report.teacher} teacher placed, ${report.missing} left out; ${occlusion} occlusion, backend ${options.backend})`);
  console.log(`mean Pearson r: ${fmt(report.mouth.meanPearson)}`);
  for (const name of MOUTH_BLENDSHAPES) {
    const s = report.mouth.perBlendshape[name];
    console.log(`  ${name.padEnd(18)} r ${fmt(s.pearson)}  MAE ${s.mae.toFixed(3)}`);
  }
  if (options.json) {
    mkdirSync(dirname(options.json), { recursive: true });
    writeFileSync(options.json, JSON.stringify(report, null, 2));
    console.log(`wrote ${options.json}`);
  }
}
