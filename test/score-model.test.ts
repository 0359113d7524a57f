/**
 * One scoring path for eval, compare, report and the cards: its shape check, its agreement with
 * the CLIs' evaluation, and that it frees only the model it loaded, never the caller's.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NUM_CLASSES } from '../src/core/labels.js';
import { selectBackend } from '../tools/backend/select.js';
import { loadSplit, type LabelledSplit } from '../tools/data/ferplus.js';
import { checkModelShape, evaluateModelDir, MODEL_INPUT_SHAPE, scoreModel, scoreModelDir } from '../tools/eval/evaluate-model.js';
import { loadModelFromDir } from '../tools/model/file-io.js';
import { limitSplit } from '../tools/report/compare.js';
import { DATA_DIR } from './helpers/data.js';
import { STUDENT_DIR } from './helpers/second-model.js';

const tiny = (size: number, classes: number) => {
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [size, size, 1] }), tf.layers.dense({ units: classes, activation: 'softmax' })] });
  return model;
};

let split: LabelledSplit;

beforeAll(async () => {
  await selectBackend('wasm', 1);
  split = limitSplit(loadSplit(DATA_DIR, 'FER2013Valid', 'majority'), 64);
});

describe('the model check', () => {
  it('expects 48x48 grey faces in and one probability per class out', () => {
    expect(MODEL_INPUT_SHAPE).toEqual([null, 48, 48, 1]);
    const good = tiny(48, NUM_CLASSES);
    expect(() => checkModelShape(good, 'good')).not.toThrow();
    const big = tiny(96, NUM_CLASSES);
    expect(() => checkModelShape(big, 'big')).toThrow('big takes input [null,96,96,1], expected [null,48,48,1]');
    const seven = tiny(48, 7);
    expect(() => checkModelShape(seven, 'seven')).toThrow('seven outputs 7 values per image, expected 8 class probabilities');
    [good, big, seven].forEach((m) => m.dispose());
  });
});

describe('scoring', () => {
  it('a loaded model and its folder score the same, and the same as `npm run eval`', async () => {
    const model = await loadModelFromDir(STUDENT_DIR);
    const score = await scoreModel(model, split, 'lower');
    expect(score.probabilities).toHaveLength(64 * NUM_CLASSES);
    expect(score.metrics.n).toBe(64);
    const fromDir = await scoreModelDir(STUDENT_DIR, split, 'lower');
    expect(fromDir.predictions).toEqual(Array.from(score.predictions));
    expect(fromDir).toMatchObject({ split: 'FER2013Valid', occlusion: 'lower', labelMode: 'majority', model: STUDENT_DIR, accuracy: score.metrics.accuracy });
    const full = await evaluateModelDir(STUDENT_DIR, DATA_DIR, 'FER2013Valid', 'lower');
    expect(full.predictions.slice(0, 64)).toEqual(fromDir.predictions);
    model.dispose();
  });

  it('leaves the caller\'s models alone: only the model it loaded is freed', async () => {
    const mine = await loadModelFromDir(STUDENT_DIR);
    const before = tf.memory().numTensors;
    await scoreModelDir(STUDENT_DIR, split, 'lower');
    expect(tf.memory().numTensors).toBe(before);
    // A global tf.disposeVariables() would have freed `mine` too, and this would throw.
    const again = await scoreModel(mine, split, 'lower');
    expect(again.metrics.n).toBe(64);
    mine.dispose();
  });

  it('refuses a model of the wrong shape before scoring', async () => {
    const big = tiny(96, NUM_CLASSES);
    await expect(scoreModel(big, split, 'lower', 'model x')).rejects.toThrow(/model x takes input \[null,96,96,1\]/);
    big.dispose();
  });
});
