/**
 * Class balance on real faces and a real model: the FER2013Train prior, and that the sweep behind
 * `npm run eval -- --balance a,b` scores each tau as a model balanced by that tau alone would be,
 * trading common expressions for rare ones. Data tier: FER+ Valid through the committed student.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPRESSIONS } from '../src/core/labels.js';
import { selectBackend } from '../tools/backend/select.js';
import { loadSplit, type LabelledSplit } from '../tools/data/ferplus.js';
import { balanceSweep, scoreModelDir } from '../tools/eval/evaluate-model.js';
import type { Metrics } from '../tools/eval/metrics.js';
import { trainingPrior } from '../tools/model/class-balance.js';
import { limitSplit } from '../tools/report/compare.js';
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
});
