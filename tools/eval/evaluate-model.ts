/** Evaluates a saved model on one split: the numbers behind `npm run eval` and the model cards. */
import * as tf from '@tensorflow/tfjs';
import type { LabelMode } from '../../src/core/labels.js';
import type { Occlusion } from '../../src/core/occlusion.js';
import { predictSplit } from '../data/batches.js';
import { loadSplit, type SplitName } from '../data/ferplus.js';
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

export async function evaluateModelDir(modelDir: string, dataDir: string, split: SplitName, occlusion: Occlusion, labelMode: LabelMode = 'majority'): Promise<EvaluationReport> {
  const data = loadSplit(dataDir, split, labelMode);
  const model = await loadModelFromDir(modelDir);
  try {
    const inputShape = model.inputs[0].shape;
    if (inputShape.length !== 4 || inputShape[1] !== 48 || inputShape[2] !== 48 || inputShape[3] !== 1) {
      throw new Error(`model at ${modelDir} takes input ${JSON.stringify(inputShape)}, expected [null,48,48,1]`);
    }
    const probs = await predictSplit(model, data, occlusion);
    const predictions = predictedLabels(probs);
    return { ...computeMetrics(predictions, data.labels), split, occlusion, labelMode, model: modelDir, predictions: Array.from(predictions) };
  } finally {
    model.dispose();
    tf.disposeVariables();
  }
}
