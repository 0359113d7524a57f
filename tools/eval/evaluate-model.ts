/**
 * Scoring a model on a split, in one place: `npm run eval`, `compare`, `report`, the pipeline's
 * model cards, and (once adopted there) the trainer's validation all go through scoreModel.
 */
import type * as tf from '@tensorflow/tfjs';
import { FACE_SIZE } from '../../src/core/face-geometry.js';
import { NUM_CLASSES, type LabelMode } from '../../src/core/labels.js';
import type { Occlusion } from '../../src/core/occlusion.js';
import { predictSplit } from '../data/batches.js';
import { loadSplit, type LabelledSplit, type SplitName } from '../data/ferplus.js';
import { applyClassBalance, type ClassBalance } from '../model/class-balance.js';
import { loadModelFromDir } from '../model/file-io.js';
import { computeMetrics, predictedLabels, type Metrics } from './metrics.js';

export interface EvaluationReport extends Metrics {
  split: string;
  occlusion: Occlusion;
  labelMode: LabelMode;
  model: string;
  /** Predicted class per image, in split order: what McNemar's test compares between models. */
  predictions: number[];
}

/** The input every model here takes: a batch of grey faces, FACE_SIZE pixels square. */
export const MODEL_INPUT_SHAPE: readonly (number | null)[] = [null, FACE_SIZE, FACE_SIZE, 1];

/** Refuses a model that does not take faces or does not output one probability per class; `what` names it in the message. */
export function checkModelShape(model: tf.LayersModel, what: string): void {
  const input = model.inputs[0].shape;
  if (input.length !== MODEL_INPUT_SHAPE.length || MODEL_INPUT_SHAPE.some((d, i) => d !== null && input[i] !== d)) {
    throw new Error(`${what} takes input ${JSON.stringify(input)}, expected ${JSON.stringify(MODEL_INPUT_SHAPE)}`);
  }
  const classes = model.outputs[0].shape.at(-1);
  if (classes !== NUM_CLASSES) throw new Error(`${what} outputs ${classes} values per image, expected ${NUM_CLASSES} class probabilities`);
}

export interface Score {
  /** NUM_CLASSES probabilities per image, in split order. */
  probabilities: Float32Array;
  predictions: Int32Array;
  metrics: Metrics;
}

/**
 * A loaded model's probabilities, predictions and metrics on every image of a split. The model
 * stays the caller's: nothing is disposed here but this function's own tensors.
 */
export async function scoreModel(model: tf.LayersModel, split: LabelledSplit, occlusion: Occlusion, what = 'the model'): Promise<Score> {
  checkModelShape(model, what);
  const probabilities = await predictSplit(model, split, occlusion);
  if (probabilities.some((p) => !Number.isFinite(p))) throw new Error(`${what} produced non-finite outputs`);
  const predictions = predictedLabels(probabilities);
  return { probabilities, predictions, metrics: computeMetrics(predictions, split.labels) };
}

/**
 * Loads the model in `modelDir`, scores it on an already loaded split, and frees it again;
 * `balance` shifts its class prior first (on top of any its export already has).
 */
export async function scoreModelDir(modelDir: string, split: LabelledSplit, occlusion: Occlusion, what = `model at ${modelDir}`, balance?: ClassBalance): Promise<EvaluationReport> {
  const model = await loadModelFromDir(modelDir);
  try {
    if (balance) applyClassBalance(model, balance);
    const { metrics, predictions } = await scoreModel(model, split, occlusion, what);
    return { ...metrics, split: split.split, occlusion, labelMode: split.mode, model: modelDir, predictions: Array.from(predictions) };
  } finally {
    model.dispose();
  }
}

/** The numbers behind `npm run eval` and the model cards: a saved model on one split. */
export async function evaluateModelDir(modelDir: string, dataDir: string, split: SplitName, occlusion: Occlusion, labelMode: LabelMode = 'majority', balance?: ClassBalance): Promise<EvaluationReport> {
  return scoreModelDir(modelDir, loadSplit(dataDir, split, labelMode), occlusion, `model at ${modelDir}`, balance);
}

/**
 * The accuracy / mean-recall trade-off of class balance: the model scored at each tau (ascending
 * order not required), loaded once. Each entry is what `evaluateModelDir` with that tau returns.
 */
export async function balanceSweep(modelDir: string, split: LabelledSplit, occlusion: Occlusion, prior: readonly number[], taus: readonly number[]): Promise<(Metrics & { tau: number })[]> {
  const model = await loadModelFromDir(modelDir);
  try {
    const out: (Metrics & { tau: number })[] = [];
    let applied = 0;
    for (const tau of taus) {
      // The shift is linear in tau: move the bias by the difference from the tau already applied.
      applyClassBalance(model, { tau: tau - applied, prior });
      applied = tau;
      out.push({ tau, ...(await scoreModel(model, split, occlusion, `model at ${modelDir}`)).metrics });
    }
    return out;
  } finally {
    model.dispose();
  }
}
