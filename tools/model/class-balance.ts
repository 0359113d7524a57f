/**
 * Class balance: a shift of the class prior the model learned, folded into its last layer.
 *
 * FER+ is 60% neutral and happiness and 2% disgust and contempt, and a model trained on it learns
 * that prior: it almost never answers "disgust" (0% recall on Valid). Logit adjustment (Menon et
 * al., ICLR 2021, "Long-tail learning via logit adjustment") divides the probabilities by the
 * training prior raised to a power tau:
 *   p'(c) ∝ p(c) · prior(c)^-tau   ⇔   logits'(c) = logits(c) - tau · log prior(c)
 * tau = 0 is the model as trained (the most accurate on a split with the training prior), tau = 1
 * the Bayes classifier for a uniform prior (the best mean per-class recall in theory); in between
 * trades accuracy for rare expressions. As a change of the `logits` layer's bias it costs nothing at
 * run time and needs no code in the tracker: every loader gets it with the weights.
 *
 * The prior is one fixed thing for every model, whatever labels it was trained on: the taggers'
 * mean vote per class over FER2013Train (probability mode), so a tau means the same everywhere.
 */
import * as tf from '@tensorflow/tfjs';
import { EXPRESSIONS, NUM_CLASSES } from '../../src/core/labels.js';
import { loadSplit } from '../data/ferplus.js';

/** The layer whose bias is shifted: the Dense before the softmax in every architecture here. */
export const LOGITS_LAYER = 'logits';
/** tau beyond this is more than a uniform-prior correction: almost surely a typo. */
export const MAX_TAU = 2;

export interface ClassBalance {
  tau: number;
  /** The prior divided out, EXPRESSIONS order. */
  prior: readonly number[];
}

/**
 * A negative tau multiplies the prior back in: the way back toward accuracy for a model trained
 * with the logit-adjusted loss (--balance-loss), whose logits already have it divided out.
 */
export function parseTau(value: string): number {
  const tau = Number(value);
  if (value.trim() === '' || !Number.isFinite(tau) || Math.abs(tau) > MAX_TAU) {
    throw new Error(`--balance ${value}: expected a number from -${MAX_TAU} to ${MAX_TAU} (0: the model as trained; 1 divides out the training prior; below 0 puts it back, for a model trained with --balance-loss)`);
  }
  return tau;
}

/** The mean target per class: the class frequencies of a split's labels (soft or one-hot). */
export function classPrior(targets: ArrayLike<number>): number[] {
  if (targets.length === 0 || targets.length % NUM_CLASSES !== 0) throw new Error(`classPrior: ${targets.length} target values is not a whole number of ${NUM_CLASSES}-class rows`);
  const n = targets.length / NUM_CLASSES;
  const prior = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < targets.length; i++) prior[i % NUM_CLASSES] += targets[i] / n;
  const missing = EXPRESSIONS.filter((_, c) => !(prior[c] > 0));
  if (missing.length) throw new Error(`classPrior: no training labels for ${missing.join(', ')}: the prior of a class that never occurs cannot be divided out`);
  return prior;
}

/** The prior every balance here uses: the taggers' mean vote over FER2013Train. */
export function trainingPrior(dataDir: string): number[] {
  return classPrior(loadSplit(dataDir, 'FER2013Train', 'probability').targets);
}

/** The balance a `--balance TAU` flag asks for: undefined at tau 0 (the model as trained), so nothing is shifted or recorded. */
export function classBalanceFor(tau: number, dataDir: string): ClassBalance | undefined {
  return tau !== 0 ? { tau, prior: trainingPrior(dataDir) } : undefined;
}

/**
 * tau · log(prior), per class: what a post-hoc balance takes off the logits, and what the
 * logit-adjusted loss (TrainConfig.balanceLoss) adds to them while training, so that the trained
 * logits come out balanced. Pure.
 */
export function priorShift(balance: ClassBalance): Float32Array {
  if (balance.prior.length !== NUM_CLASSES) throw new Error(`priorShift: expected ${NUM_CLASSES} prior values, got ${balance.prior.length}`);
  return Float32Array.from(balance.prior, (p) => balance.tau * Math.log(p));
}

/** bias - tau · log(prior), per class. Pure. */
export function balancedBias(bias: ArrayLike<number>, balance: ClassBalance): Float32Array {
  if (bias.length !== NUM_CLASSES) throw new Error(`balancedBias: expected ${NUM_CLASSES} biases, got ${bias.length}`);
  const shift = priorShift(balance);
  return Float32Array.from(bias, (b, c) => b - shift[c]);
}

/** The `logits` Dense layer of a graph, looking into nested models (a flip-averaged graph holds its network as one). */
function findLogitsLayer(model: tf.LayersModel): tf.layers.Layer | undefined {
  for (const layer of model.layers) {
    if (layer.name === LOGITS_LAYER && layer.getClassName() === 'Dense') return layer;
    if (layer instanceof tf.LayersModel) {
      const inner = findLogitsLayer(layer);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Shifts the model's class prior in place (its `logits` bias); tau = 0 leaves it as it is. */
export function applyClassBalance(model: tf.LayersModel, balance: ClassBalance): void {
  const layer = findLogitsLayer(model);
  if (!layer) throw new Error(`class balance needs a Dense layer named "${LOGITS_LAYER}" before the softmax; this model has none`);
  const [kernel, bias] = layer.getWeights();
  if (!bias) throw new Error(`the "${LOGITS_LAYER}" layer has no bias to shift`);
  const shifted = tf.tensor1d(balancedBias(bias.dataSync(), balance));
  layer.setWeights([kernel, shifted]);
  shifted.dispose();
}
