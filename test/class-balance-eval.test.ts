/**
 * Class balance on real faces and a real model: the FER2013Train prior, and that the sweep behind
 * `npm run eval -- --balance a,b` scores each tau as a model balanced by that tau alone would be,
 * trading common expressions for rare ones; and that the logit-adjusted loss (--balance-loss)
 * learns logits with that prior divided out. Data tier: FER+ Valid through the committed student.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPRESSIONS } from '../src/core/labels.js';
import { selectBackend } from '../tools/backend/select.js';
import { loadSplit, type LabelledSplit } from '../tools/data/ferplus.js';
import { balanceSweep, scoreModelDir } from '../tools/eval/evaluate-model.js';
import type { Metrics } from '../tools/eval/metrics.js';
import { trainingPrior } from '../tools/model/class-balance.js';
import { limitSplit } from '../tools/report/compare.js';
import { defaultConfig } from '../tools/train/config.js';
import { crossEntropy } from '../tools/train/losses.js';
import { labelLogitsFor } from '../tools/train/trainer.js';
import { DATA_DIR } from './helpers/data.js';
import { STUDENT_DIR } from './helpers/second-model.js';

let split: LabelledSplit;
let prior: number[];

beforeAll(async () => {
  await selectBackend('wasm', 1);
  split = limitSplit(loadSplit(DATA_DIR, 'FER2013Valid', 'majority'), 600);
  prior = trainingPrior(DATA_DIR);
});

/** How often the model answered each class: the confusion matrix's column sums. */
const answered = (m: Metrics) => EXPRESSIONS.map((_, c) => m.confusion.reduce((a, row) => a + row[c], 0));
const RARE = ['sadness', 'anger', 'disgust', 'fear', 'contempt'].map((e) => EXPRESSIONS.indexOf(e as (typeof EXPRESSIONS)[number]));

describe('class balance on FER2013Valid', () => {
  it('divides out the taggers\' FER2013Train votes: neutral most common, disgust and contempt rarest', () => {
    expect(prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(Math.max(...prior)).toBe(prior[0]);
    const rarest = [...prior].sort((a, b) => a - b).slice(0, 2);
    expect(rarest.sort()).toEqual([prior[EXPRESSIONS.indexOf('disgust')], prior[EXPRESSIONS.indexOf('contempt')]].sort());
  });

  it('sweeps as separate balanced models would score, and a larger tau answers rare expressions more', async () => {
    const [none, half] = await balanceSweep(STUDENT_DIR, split, 'lower', prior, [0, 0.5]);
    const plain = await scoreModelDir(STUDENT_DIR, split, 'lower');
    const balanced = await scoreModelDir(STUDENT_DIR, split, 'lower', 'balanced', { tau: 0.5, prior });
    expect(none.confusion).toEqual(plain.confusion);
    expect(half.confusion).toEqual(balanced.confusion);
    const rare = (m: Metrics) => RARE.reduce((a, c) => a + answered(m)[c], 0);
    expect(rare(half)).toBeGreaterThan(rare(none));
    expect(answered(half)[0]).toBeLessThan(answered(none)[0]);
    expect(half.n).toBe(600);
  });

  it('the logit-adjusted loss learns logits with the prior divided out to the power tau', () => {
    // The classes' logits alone (one bias per class), fitted to targets that follow the training
    // prior: plain cross-entropy learns softmax = prior; tau = 1 learns the uniform distribution.
    const fitted = (tau: number) => {
      const labelLogits = labelLogitsFor({ ...defaultConfig('baseline', DATA_DIR), balanceLoss: tau });
      const bias = tf.variable(tf.zeros([1, prior.length]));
      const targets = tf.tensor2d([prior]);
      const optimizer = tf.train.adam(0.1);
      for (let step = 0; step < 600; step++) optimizer.minimize(() => crossEntropy(targets, labelLogits(bias as unknown as tf.Tensor2D)));
      const p = tf.tidy(() => tf.softmax(bias).dataSync());
      tf.dispose([bias, targets]);
      optimizer.dispose();
      return Array.from(p);
    };
    const expected = (tau: number) => {
      const w = prior.map((q) => q ** (1 - tau));
      const sum = w.reduce((a, b) => a + b, 0);
      return w.map((v) => v / sum);
    };
    for (const tau of [0, 0.5, 1]) {
      fitted(tau).forEach((p, c) => expect(p).toBeCloseTo(expected(tau)[c], 2));
    }
  });
});
