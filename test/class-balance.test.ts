/**
 * Class balance (logit adjustment) folded into the last layer: the prior it divides out, the bias
 * shift, and that a model shifted in place, exported (float16, flip-averaged) and reloaded answers
 * p(c) · prior(c)^-tau renormalised. Unit tier: random-weight students and synthetic faces; what it
 * buys on FER2013Valid is test/class-balance-eval.test.ts and `npm run eval -- --balance`.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_SIZE } from '../src/core/face-geometry.js';
import { NUM_CLASSES } from '../src/core/labels.js';
import { selectBackend } from '../tools/backend/select.js';
import { buildModel, inferenceGraph } from '../tools/model/architectures.js';
import { applyClassBalance, balancedBias, classPrior, parseTau, type ClassBalance } from '../tools/model/class-balance.js';
import { exportModel } from '../tools/model/export.js';
import { fileSaveHandler, loadModelFromDir } from '../tools/model/file-io.js';
import { withFlipAveraging } from '../tools/model/flip-average.js';

const tmp = mkdtempSync(join(tmpdir(), 'halfface-balance-'));
const PRIOR = [0.33, 0.26, 0.12, 0.14, 0.09, 0.01, 0.03, 0.02];
let faces: tf.Tensor4D;

beforeAll(async () => {
  await selectBackend('wasm', 1);
  faces = tf.randomUniform([3, FACE_SIZE, FACE_SIZE, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
});
afterAll(() => {
  faces.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const probabilitiesOf = (model: tf.LayersModel) => tf.tidy(() => {
  const out = model.predict(faces);
  return (Array.isArray(out) ? out[0] : out).arraySync() as number[][];
});

/** What balance must give: each row times prior^-tau, renormalised. */
function expectedBalanced(rows: number[][], balance: ClassBalance): number[][] {
  return rows.map((row) => {
    const w = row.map((p, c) => p * balance.prior[c] ** -balance.tau);
    const sum = w.reduce((a, b) => a + b, 0);
    return w.map((v) => v / sum);
  });
}

function expectClose(actual: number[][], expected: number[][], tolerance: number): void {
  const worst = actual.flat().reduce((m, v, i) => Math.max(m, Math.abs(v - expected.flat()[i])), 0);
  expect(worst).toBeLessThan(tolerance);
}

describe('the prior and the shift', () => {
  it('parses tau and refuses what is not one', () => {
    expect(parseTau('0')).toBe(0);
    expect(parseTau('0.25')).toBe(0.25);
    expect(parseTau('-0.5')).toBe(-0.5);
    for (const bad of ['', 'half', '-3', '3', 'NaN']) expect(() => parseTau(bad)).toThrow(/--balance/);
  });

  it('is the mean target per class, soft or one-hot, and refuses a class that never occurs', () => {
    const soft = [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2];
    const prior = classPrior(soft);
    expect(prior[0]).toBeCloseTo(0.3, 10);
    expect(prior[7]).toBeCloseTo(0.1, 10);
    expect(prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(() => classPrior([1, 0, 0, 0, 0, 0, 0, 0])).toThrow(/no training labels for happiness, surprise/);
    expect(() => classPrior([1, 0, 0])).toThrow(/whole number/);
  });

  it('moves each bias by -tau log prior, and not at all at tau 0', () => {
    const bias = [0.1, -0.2, 0, 0, 0.3, 0, 0, 1];
    expect(Array.from(balancedBias(bias, { tau: 0, prior: PRIOR }))).toEqual(Array.from(Float32Array.from(bias)));
    const shifted = balancedBias(bias, { tau: 0.5, prior: PRIOR });
    PRIOR.forEach((p, c) => expect(shifted[c]).toBeCloseTo(bias[c] - 0.5 * Math.log(p), 5));
    expect(() => balancedBias([0, 1], { tau: 1, prior: PRIOR })).toThrow(/expected 8/);
  });
});

describe('a model with its prior shifted', () => {
  it('answers p · prior^-tau renormalised, rare classes up, and tau 0 changes nothing', () => {
    const model = inferenceGraph(buildModel('student', 4));
    const before = probabilitiesOf(model);
    applyClassBalance(model, { tau: 0, prior: PRIOR });
    expectClose(probabilitiesOf(model), before, 1e-7);
    const balance = { tau: 0.6, prior: PRIOR };
    applyClassBalance(model, balance);
    const after = probabilitiesOf(model);
    expectClose(after, expectedBalanced(before, balance), 1e-5);
    // disgust (prior 1%) gains against neutral (33%) on every face
    after.forEach((row, i) => expect(row[5] / row[0]).toBeGreaterThan(before[i][5] / before[i][0]));
    // a negative tau puts the prior back: -0.6 returns to the model as it was
    applyClassBalance(model, { tau: -0.6, prior: PRIOR });
    expectClose(probabilitiesOf(model), before, 1e-5);
    model.dispose();
  });

  it('refuses a model without a logits layer, by name', () => {
    const plain = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [FACE_SIZE, FACE_SIZE, 1] }), tf.layers.dense({ units: NUM_CLASSES, activation: 'softmax' })] });
    expect(() => applyClassBalance(plain, { tau: 0.5, prior: PRIOR })).toThrow(/Dense layer named "logits"/);
    plain.dispose();
  });

  it('survives export, float16 and flip-averaged, records its tau, and loads with it', async () => {
    const graph = inferenceGraph(buildModel('student', 9, 0.99, { mouth: true }));
    const source = join(tmp, 'source');
    await graph.save(fileSaveHandler(source));
    const balance = { tau: 0.5, prior: PRIOR };
    const plainFlip = withFlipAveraging(graph);
    const expected = expectedBalanced(probabilitiesOf(plainFlip), balance);
    graph.dispose();
    const out = join(tmp, 'balanced');
    const info = await exportModel(source, out, { quantize: 'float16', flipAverage: true, balance });
    expect(info.balance).toEqual(balance);
    expect(JSON.parse(readFileSync(join(out, 'export.json'), 'utf8')).balance).toEqual(balance);
    const reloaded = await loadModelFromDir(out);
    expectClose(probabilitiesOf(reloaded), expected, 1e-2);
    // And a nested (flip-averaged) graph can be shifted further in place: tau adds up.
    applyClassBalance(reloaded, balance);
    expectClose(probabilitiesOf(reloaded), expectedBalanced(expected, balance), 1e-2);
    reloaded.dispose();
    const without = join(tmp, 'plain');
    expect((await exportModel(source, without, {})).balance).toBeUndefined();
  });
});
