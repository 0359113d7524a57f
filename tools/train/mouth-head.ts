/**
 * How a new mouth head starts (issue 18, docs/mouth.md). On a fresh network: the constant that
 * predicts each blendshape's mean target. On a trained backbone (fine-tuning the shipped student):
 * a linear probe, the head fitted alone on the backbone's frozen features of training faces,
 * before joint training begins. Joint training then starts from a head that already reads the
 * backbone instead of a useless one whose large early gradients would pull the backbone, which the
 * expression classes depend on, towards whatever fits a random head ("LP-FT", Kumar et al. 2022,
 * Fine-Tuning can Distort Pretrained Features).
 */
import * as tf from '@tensorflow/tfjs';
import { MOUTH_BLENDSHAPES, NUM_MOUTH_BLENDSHAPES } from '../../src/core/mouth-blendshapes.js';
import type { Occlusion } from '../../src/core/occlusion.js';
import { facesTensor, makeBatch, type MouthRows, type TrainingSplit } from '../data/batches.js';
import { shuffledIndices } from '../data/random.js';
import { MOUTH_LAYER } from '../model/architectures.js';
import { maskedMouthLoss } from './losses.js';

/** The probe's settings: fixed, so that a run is reproduced from its config alone. */
export const MOUTH_PROBE = {
  /** Placed training faces it is fitted on (a seeded sample; every one when the split has fewer). */
  faces: 8192,
  /** Full-batch Adam steps on the frozen features, and their rate. */
  steps: 300,
  learningRate: 0.01,
  /** Weight decay on the kernel: 256 features, 13 targets, a few thousand faces. */
  l2: 1e-4,
} as const;

const logit = (p: number) => Math.log(p / (1 - p));

/** Each blendshape's mean target over the placed faces, as the bias that predicts it. */
function meanBias(mouth: MouthRows): { bias: number[]; placed: number } {
  const K = NUM_MOUTH_BLENDSHAPES;
  const sums = new Float64Array(K);
  let placed = 0;
  mouth.mask.forEach((m, i) => {
    if (!m) return;
    placed++;
    for (let k = 0; k < K; k++) sums[k] += mouth.targets[i * K + k];
  });
  return { bias: Array.from(sums, (s) => logit(Math.min(0.99, Math.max(0.01, s / Math.max(1, placed))))), placed };
}

/**
 * The head as the constant that predicts each blendshape's mean target (kernel 0, bias = logit of
 * the mean): its loss starts at the best a constant can do, and no gradient reaches the backbone
 * until the kernel has grown.
 */
export function startMouthHeadAtMean(model: tf.LayersModel, mouth: MouthRows, log: (m: string) => void): void {
  const { bias, placed } = meanBias(mouth);
  const layer = model.getLayer(MOUTH_LAYER);
  const weights = [tf.zerosLike(layer.getWeights()[0]), tf.tensor1d(bias)];
  layer.setWeights(weights);
  tf.dispose(weights);
  log(`mouth head starts at the mean targets of ${placed} placed training faces (${MOUTH_BLENDSHAPES.map((n, k) => `${n} ${(1 / (1 + Math.exp(-bias[k]))).toFixed(2)}`).join(', ')})`);
}

/**
 * Fits the head alone on the frozen features (inference mode: BatchNorm on its moving statistics,
 * no dropout, no augmentation) of a seeded sample of placed training faces, as the run's occlusion
 * shows them; starts from the mean. Returns the probe's loss before and after.
 */
export async function probeMouthHead(model: tf.LayersModel, split: TrainingSplit, occlusion: Occlusion, seed: number, log: (m: string) => void): Promise<{ before: number; after: number; faces: number }> {
  const mouth = split.mouth;
  if (!mouth) throw new Error('probeMouthHead needs a split with mouth targets');
  const K = NUM_MOUTH_BLENDSHAPES;
  const started = Date.now();
  const order = shuffledIndices(mouth.mask.length, seed * 7919 + 18);
  const rows = Array.from(order).filter((i) => mouth.mask[i]).slice(0, MOUTH_PROBE.faces);
  const head = model.getLayer(MOUTH_LAYER);
  const features = tf.model({ inputs: model.inputs, outputs: head.inboundNodes[0].inputTensors[0] as tf.SymbolicTensor });
  const width = features.outputs[0].shape[1] as number;
  const x = new Float32Array(rows.length * width);
  const y = new Float32Array(rows.length * K);
  for (let start = 0; start < rows.length; start += 256) {
    const indices = Int32Array.from(rows.slice(start, start + 256));
    const batch = makeBatch(split, indices, occlusion, null, Math.random);
    const f = tf.tidy(() => features.predict(facesTensor(batch.faces)) as tf.Tensor);
    x.set(await f.data() as Float32Array, start * width);
    f.dispose();
    y.set(batch.mouth!, start * K);
  }
  const { bias } = meanBias(mouth);
  const kernel = tf.variable(tf.zeros([width, K]));
  const b = tf.variable(tf.tensor1d(bias));
  const xs = tf.tensor2d(x, [rows.length, width]);
  const ys = tf.tensor2d(y, [rows.length, K]);
  const all = tf.ones([rows.length]) as tf.Tensor1D;
  const optimizer = tf.train.adam(MOUTH_PROBE.learningRate);
  const fit = () => maskedMouthLoss(tf.sigmoid(tf.add(tf.matMul(xs, kernel), b)) as tf.Tensor2D, ys, all);
  try {
    const before = tf.tidy(() => fit().dataSync()[0]);
    for (let step = 0; step < MOUTH_PROBE.steps; step++) {
      optimizer.minimize(() => tf.add(fit(), tf.mul(MOUTH_PROBE.l2, tf.sum(tf.square(kernel)))) as tf.Scalar, false, [kernel, b]);
    }
    const after = tf.tidy(() => fit().dataSync()[0]);
    head.setWeights([kernel, b]);
    log(`mouth head fitted as a linear probe on the frozen features of ${rows.length} placed training faces: loss ${before.toFixed(4)} → ${after.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    return { before, after, faces: rows.length };
  } finally {
    tf.dispose([kernel, b, xs, ys, all]);
    optimizer.dispose();
  }
}
