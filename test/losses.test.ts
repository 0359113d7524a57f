/** Each loss against values computed by hand for tiny tensors. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, distillationLoss, mineBatchHard, tripletLoss } from '../tools/train/losses.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const softmax = (z: number[]) => { const e = z.map(Math.exp); const s = e.reduce((a, b) => a + b); return e.map((v) => v / s); };

describe('distillation loss', () => {
  const student = [[1, 2, 0]];
  const teacher = [[2, 0, 1]];
  const target = [[0, 1, 0]];
  const byHand = (T: number, alpha: number) => {
    const ps = softmax(student[0].map((v) => v / T));
    const pt = softmax(teacher[0].map((v) => v / T));
    const kl = pt.reduce((s, p, i) => s + p * Math.log(p / ps[i]), 0);
    const ce = -Math.log(softmax(student[0])[1]);
    return (1 - alpha) * ce + alpha * T * T * kl;
  };

  it('at T=1 and T=4 matches the hand computation, T^2 scaling included', () => {
    for (const T of [1, 4]) {
      const got = distillationLoss(tf.tensor2d(target), tf.tensor2d(student), tf.tensor2d(teacher), T, 0.7).dataSync()[0];
      expect(got).toBeCloseTo(byHand(T, 0.7), 5);
    }
    // T=1 with the numbers written out: p_s = (0.2447, 0.6652, 0.0900), p_t = (0.6652, 0.0900, 0.2447),
    // CE = -ln 0.6652 = 0.40761, KL = 0.6652*1 + 0.0900*(-2) + 0.2447*1 = 0.72991
    expect(byHand(1, 0.7)).toBeCloseTo(0.3 * 0.407606 + 0.7 * 0.729908, 4);
  });

  it('the labels\' term reads the logits it is given (the logit-adjusted loss), the teacher\'s term the student\'s own', () => {
    const shifted = [[0, 1, 3]];
    const withShift = (alpha: number) => distillationLoss(tf.tensor2d(target), tf.tensor2d(student), tf.tensor2d(teacher), 2, alpha, tf.tensor2d(shifted)).dataSync()[0];
    expect(withShift(0)).toBeCloseTo(crossEntropy(tf.tensor2d(target), tf.tensor2d(shifted)).dataSync()[0], 6);
    expect(withShift(1)).toBeCloseTo(byHand(2, 1), 5);
  });

  it('alpha = 0 is plain cross-entropy; identical logits leave only the hard term', () => {
    expect(distillationLoss(tf.tensor2d(target), tf.tensor2d(student), tf.tensor2d(teacher), 4, 0).dataSync()[0])
      .toBeCloseTo(crossEntropy(tf.tensor2d(target), tf.tensor2d(student)).dataSync()[0], 6);
    expect(distillationLoss(tf.tensor2d(target), tf.tensor2d(student), tf.tensor2d(student), 4, 1).dataSync()[0]).toBeCloseTo(0, 6);
  });
});

describe('triplet loss', () => {
  // unit vectors: distances are easy by hand (|a-b|^2 = 2 - 2 cos)
  const a = tf.tensor2d([[1, 0]]);
  const near = tf.tensor2d([[0, 1]]); // d = 2
  const same = tf.tensor2d([[1, 0]]); // d = 0
  const opposite = tf.tensor2d([[-1, 0]]); // d = 4

  it('violated margin: d(a,p) - d(a,n) + margin', () => {
    // positive farther (2) than negative (0): 2 - 0 + 0.2
    expect(tripletLoss(a, near, same, 0.2).dataSync()[0]).toBeCloseTo(2.2, 6);
    // scale does not matter: embeddings are L2-normalised first
    expect(tripletLoss(tf.mul(a, 5) as tf.Tensor2D, near, same, 0.2).dataSync()[0]).toBeCloseTo(2.2, 6);
  });

  it('satisfied margin gives 0 loss and zero gradients', () => {
    expect(tripletLoss(a, same, opposite, 0.2).dataSync()[0]).toBe(0);
    const anchor = tf.variable(tf.tensor2d([[0.9, 0.1], [0.2, 0.8]]));
    const pos = tf.tensor2d([[1, 0], [0, 1]]);
    const neg = tf.tensor2d([[-1, 0], [0, -1]]);
    const { value, grads } = tf.variableGrads(() => tripletLoss(anchor, pos, neg, 0.2), [anchor]);
    expect(value.dataSync()[0]).toBe(0);
    expect(Array.from(grads[anchor.name].dataSync()).every((g) => g === 0)).toBe(true);
  });

  it('the valid mask averages over valid anchors only', () => {
    const anchors = tf.tensor2d([[1, 0], [1, 0]]);
    const pos = tf.tensor2d([[0, 1], [1, 0]]);
    const neg = tf.tensor2d([[1, 0], [1, 0]]);
    // anchor 0: 2 - 0 + 0.2 = 2.2; anchor 1 (masked out): 0 - 0 + 0.2
    expect(tripletLoss(anchors, pos, neg, 0.2, tf.tensor1d([1, 0])).dataSync()[0]).toBeCloseTo(2.2, 6);
    expect(tripletLoss(anchors, pos, neg, 0.2).dataSync()[0]).toBeCloseTo(1.2, 6);
  });
});

describe('batch-hard mining', () => {
  it('picks the farthest same-class teacher embedding and the closest other-class student embedding', () => {
    const labels = Int32Array.from([0, 0, 1, 1]);
    // anchorToTeacher[i][j], anchorToStudent[i][j]
    const toTeacher = Float32Array.from([
      0.1, 0.9, 0.5, 0.5,
      0.3, 0.2, 0.5, 0.5,
      0.5, 0.5, 0.4, 0.7,
      0.5, 0.5, 0.6, 0.1,
    ]);
    const toStudent = Float32Array.from([
      0, 0.1, 0.8, 0.3,
      0.1, 0, 0.2, 0.6,
      0.8, 0.2, 0, 0.05,
      0.3, 0.6, 0.05, 0,
    ]);
    const { positive, negative } = mineBatchHard(toTeacher, toStudent, labels);
    expect(Array.from(positive)).toEqual([1, 0, 3, 2]);
    expect(Array.from(negative)).toEqual([3, 2, 1, 0]);
  });

  it('an anchor always has a positive (its own whole face) and has no negative in a one-class batch', () => {
    const { positive, negative } = mineBatchHard(Float32Array.from([0.3]), Float32Array.from([0]), Int32Array.from([2]));
    expect(positive[0]).toBe(0);
    expect(negative[0]).toBe(-1);
  });
});
