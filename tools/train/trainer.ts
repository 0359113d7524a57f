/**
 * One training run, top to bottom: load data, build or restore the model, train epoch by epoch
 * with checkpoints, validate on FER2013Valid, keep the best model. Stages differ only in their
 * objective (see objectiveFor).
 */
import * as tf from '@tensorflow/tfjs';
import cliProgress from 'cli-progress';
import { rmSync } from 'node:fs';
import { FACE_PIXELS } from '../../src/core/face-geometry.js';
import { NUM_CLASSES } from '../../src/core/labels.js';
import { NUM_MOUTH_BLENDSHAPES } from '../../src/core/mouth-blendshapes.js';
import type { Occlusion } from '../../src/core/occlusion.js';
import { facesTensor, makeBatch, type HostBatch, type TrainingSplit } from '../data/batches.js';
import { describeSplit, loadSplit, type LabelledSplit } from '../data/ferplus.js';
import { epochOrder } from '../data/batch-order.js';
import { seededRandom } from '../data/random.js';
import { makeViewBatch, viewAt } from '../data/views.js';
import { scoreModel } from '../eval/evaluate-model.js';
import { percent } from '../eval/format.js';
import { predictedLabels, type Metrics } from '../eval/metrics.js';
import { layersMouthPredictor, predictMouth, scoreMouth } from '../eval/mouth.js';
import { buildConcatModel, buildModel, CONCAT_BRANCHES, hasMouthHead, isMouthLayer, MOUTH_LAYER, mouthSourceLayer, mouthSourceOf } from '../model/architectures.js';
import { classBalanceFor, priorShift } from '../model/class-balance.js';
import { innerNetwork } from '../model/flip-average.js';
import { fileSaveHandler, loadModelFromDir, loadOptimizerState, saveOptimizerState } from '../model/file-io.js';
import { fileFacts } from '../model/export.js';
import { copyWeightsUnfolding } from '../model/unfold.js';
import { learningRateAt, type TrainConfig } from './config.js';
import { crossEntropy, maskedMouthLoss } from './losses.js';
import { probeMouthHead, startMouthHeadAtMean } from './mouth-head.js';
import { loadMouthTargets } from '../mouth/targets.js';
import { appendEpoch, bestModelDir, holdsModel, INITIAL_STATE, readEpochs, readState, runPaths, writeConfig, writeOrigins, writeState, type Origin, type TrainState } from './run-dir.js';

export interface TrainOptions {
  log?: (message: string) => void;
  /** Show a live progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  /** Stop after this many batches in this call (tests use it to simulate a killed run). */
  maxBatches?: number;
  /** Where cached teacher outputs live (default .cache/teacher-outputs; tests use a temporary one). */
  teacherCacheRoot?: string;
  /** Where the mouth targets' cache lives (default .cache/mouth; tests use a temporary one). */
  mouthCacheDir?: string;
  /** Where decoded FER+ splits are cached (default .cache/ferplus; null: not cached, for throwaway test data). */
  splitCacheDir?: string | null;
}

export interface TrainResult { state: TrainState; runDir: string }

/**
 * What a stage adds on top of the plain classifier: a loss built from the batch. `outputs`, when
 * given, are the model's training-mode outputs on x for this step, computed once by the trainer
 * because another term (the mouth head's) needs them too: a second forward pass would draw other
 * dropout masks and move the BatchNorm statistics twice. Without them the objective runs the model.
 */
export interface Objective {
  loss: (model: tf.LayersModel, batch: HostBatch, x: tf.Tensor4D, targets: tf.Tensor2D, outputs?: tf.Tensor[]) => tf.Scalar;
  dispose: () => void;
}

/** What an objective may need from the run beyond its config: where it lives, how to report. */
export interface ObjectiveContext {
  runDir: string;
  log: (message: string) => void;
  teacherCacheRoot?: string;
}

/** Builds a stage's objective; the training split is there for calibrating a teacher given as a model folder. */
export type ObjectiveFactory = (config: TrainConfig, trainSplit: LabelledSplit, context: ObjectiveContext) => Promise<Objective>;

/** The model's outputs in training mode: those the trainer computed for this step, or a fresh pass. */
export const trainingOutputs = (model: tf.LayersModel, x: tf.Tensor4D, outputs?: tf.Tensor[]) => outputs ?? (model.apply(x, { training: true }) as tf.Tensor[]);

/**
 * The logits the labels' cross-entropy sees: with config.balanceLoss = tau > 0 the logit-adjusted
 * loss's (logits + tau · log prior, the prior every class balance here uses), else the logits.
 */
export function labelLogitsFor(config: TrainConfig): (logits: tf.Tensor2D) => tf.Tensor2D {
  const balance = classBalanceFor(config.balanceLoss, config.dataDir);
  if (!balance) return (logits) => logits;
  const shift = priorShift(balance);
  return (logits) => tf.add(logits, tf.tensor1d(shift)) as tf.Tensor2D;
}

export const classificationObjective: ObjectiveFactory = async (config) => {
  const labelLogits = labelLogitsFor(config);
  return {
    loss: (model, _batch, x, targets, outputs) => {
      const [, logits] = trainingOutputs(model, x, outputs);
      return crossEntropy(targets, labelLogits(logits as tf.Tensor2D));
    },
    dispose: () => {},
  };
};

/** A batch of training faces as the trained network sees them, for calibrating unfolded BatchNorms. */
export function calibrationFaces(split: LabelledSplit, occlusion: Occlusion, count = 256): tf.Tensor4D {
  const indices = Int32Array.from({ length: Math.min(count, split.labels.length) }, (_, i) => i);
  return facesTensor(makeBatch(split, indices, occlusion, null, Math.random).faces);
}

/** Loads the network of a trained run or model folder for `use`, and disposes it after. */
async function withSaved<T>(source: string, use: (network: tf.LayersModel) => T | Promise<T>): Promise<T> {
  const loaded = await loadModelFromDir(bestModelDir(source));
  try {
    // A flip-averaged export wraps the network it averages: its weights are that network's.
    return await use(innerNetwork(loaded));
  } finally {
    loaded.dispose();
  }
}

/**
 * Copies weights by layer name from `from` (loaded from `source`) where the shapes match (an
 * exported model's folded convolutions are unfolded, see unfold.ts); layers of `model` named
 * prefix + name take the weights of `name`. Returns the layers it filled.
 */
function copyFrom(model: tf.LayersModel, from: tf.LayersModel, source: string, calibration: tf.Tensor4D, prefix: string): tf.layers.Layer[] {
  const filled = copyWeightsUnfolding(model, from, calibration, prefix);
  if (filled.length === 0) throw new Error(`no layer of ${source} fits the ${prefix ? `${prefix}* branch` : 'model'}`);
  return filled;
}

/** The folders a new run builds on, with the fingerprints of their weights now. */
function originsOf(config: TrainConfig): Origin[] {
  const sources: [Origin['role'], string | null][] = config.stage === 'concat'
    ? [['kd student', config.concat.kd], ['triplet student', config.concat.triplet]]
    : [['initial weights', config.initFrom], ['teacher', config.stage === 'kd' || config.stage === 'triplet' ? config.teacher : null]];
  return sources.filter((s): s is [Origin['role'], string] => !!s[1] && holdsModel(s[1]))
    .map(([role, dir]) => ({ role, dir, sha256: fileFacts(bestModelDir(dir)).sha256 }));
}

const trainsMouth = (config: TrainConfig) => config.mouthWeight > 0;
const mouthOnly = (config: TrainConfig) => config.freeze === 'expression';

/**
 * A mouth-only run (--freeze expression): every layer but the mouth head's is frozen, and the
 * frozen part runs in inference mode, so the class outputs are exactly those of the start. Returns
 * the model up to the layer the head reads, and the head's layers in graph order (a chain).
 */
function freezeExpression(model: tf.LayersModel, config: TrainConfig): { features: tf.LayersModel; head: tf.layers.Layer[] } {
  model.layers.forEach((l) => { l.trainable = isMouthLayer(l.name); });
  const features = tf.model({ inputs: model.inputs, outputs: model.getLayer(mouthSourceLayer(config.mouthFrom)).output as tf.SymbolicTensor });
  return { features, head: model.layers.filter((l) => isMouthLayer(l.name)) };
}

async function freshModel(config: TrainConfig, trainSplit: TrainingSplit, calibration: tf.Tensor4D, log: (m: string) => void): Promise<tf.LayersModel> {
  if (config.stage === 'concat') return freshConcat(config, calibration, log);
  const model = buildModel(config.architecture, config.seed, config.batchNormMomentum ?? 0.99, { mouth: trainsMouth(config), mouthFrom: config.mouthFrom, crop: config.crop, occlusion: config.occlusion });
  try {
    const initFrom = config.initFrom;
    const filled = initFrom ? await withSaved(initFrom, (from) => copyFrom(model, from, initFrom, calibration, '')) : [];
    if (initFrom) log(`initialised ${filled.length} layers from ${bestModelDir(initFrom)}`);
    if (trainsMouth(config) && !filled.some((l) => l.name === MOUTH_LAYER)) {
      // A trained backbone gets a plain head fitted to it first; a fresh one, or a conv branch, starts from the mean.
      if (config.mouthFrom === 'head' && filled.some((l) => l.name === 'embedding')) await probeMouthHead(model, trainSplit, config.occlusion, config.seed, log);
      else startMouthHeadAtMean(model, trainSplit.mouth!, log);
    }
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * A concat of the two students: their branches frozen, its head started as their ensemble, and
 * the kd student's mouth branch kept (frozen, as its backbone): the headset model needs both heads.
 */
async function freshConcat(config: TrainConfig, calibration: tf.Tensor4D, log: (m: string) => void): Promise<tf.LayersModel> {
  const { kd, triplet } = config.concat;
  if (!kd || !triplet) throw new Error('the concat stage needs both students: --kd-student DIR --triplet-student DIR');
  return withSaved(kd, (kdNetwork) => withSaved(triplet, (tripletNetwork) => {
    const mouthFrom = mouthSourceOf(kdNetwork) ?? undefined;
    const model = buildConcatModel(config.seed, config.architecture, { crop: config.crop, occlusion: config.occlusion, mouthFrom });
    try {
      startConcat(model, config, [[kd, kdNetwork], [triplet, tripletNetwork]], calibration, log);
      return model;
    } catch (e) {
      model.dispose();
      throw e;
    }
  }));
}

/** Fills the concat model's two frozen branches from the students, and starts its head as their ensemble. */
function startConcat(model: tf.LayersModel, config: TrainConfig, students: [string, tf.LayersModel][], calibration: tf.Tensor4D, log: (m: string) => void) {
  // The branches are frozen: only the head on the concatenated embedding learns.
  const heads = students.map(([source, network], i) => {
    const prefix = CONCAT_BRANCHES[i];
    const filled = copyFrom(model, network, source, calibration, prefix);
    filled.forEach((l) => { l.trainable = false; });
    const logits = network.layers.find((l) => l.name === 'logits');
    if (!logits) throw new Error(`${source} has no 'logits' layer to start the concat head from`);
    const branch = model.layers.filter((l) => l.name.startsWith(prefix) && l.getWeights().length > 0);
    if (filled.length < branch.length) {
      throw new Error(`${source} fills ${filled.length} of the ${branch.length} layers of the concat's ${prefix}* branch: the concat must have the students' architecture (--architecture; this one is ${config.architecture})`);
    }
    log(`initialised ${filled.length} layers (${prefix}*) from ${source}, frozen`);
    return logits.getWeights();
  });
  // The head starts as the average of the two students' logits (their plain ensemble), so
  // training begins from a model at least as good as the ensemble instead of from noise.
  const head = tf.tidy(() => [
    tf.mul(tf.concat([heads[0][0], heads[1][0]], 0), 0.5),
    tf.mul(tf.add(heads[0][1], heads[1][1]), 0.5),
  ]);
  model.getLayer('logits').setWeights(head);
  tf.dispose(head);
  if (hasMouthHead(model)) {
    // The mouth branch keeps its unprefixed names; the concat's objective never runs it, so it stays as trained.
    const [kd, kdNetwork] = students[0];
    const filled = copyFrom(model, kdNetwork, kd, calibration, '');
    const mouth = model.layers.filter((l) => isMouthLayer(l.name) && l.getWeights().length > 0);
    if (!mouth.every((l) => filled.includes(l))) throw new Error(`${kd}: its mouth branch does not fit the concat's (${mouth.map((l) => l.name).join(', ')})`);
    filled.forEach((l) => { l.trainable = false; });
    log(`initialised the mouth branch (${mouth.length} layers) from ${kd}, frozen`);
  }
}

/** Where the data's caches live (tests point them at temporary folders, or none). */
export interface DataOptions { mouthCacheDir?: string; splitCacheDir?: string | null }

function loadData(config: TrainConfig, log: (m: string) => void, options: DataOptions = {}): { train: TrainingSplit; valid: TrainingSplit } {
  const limit = (s: LabelledSplit, n: number): LabelledSplit => n > 0 && n < s.labels.length ? {
    ...s, names: s.names.slice(0, n), pixels: s.pixels.slice(0, n * FACE_PIXELS), targets: s.targets.slice(0, n * NUM_CLASSES), labels: s.labels.slice(0, n),
  } : s;
  const cacheDir = options.splitCacheDir;
  const train: TrainingSplit = limit(loadSplit(config.dataDir, 'FER2013Train', config.labelMode, { log, cacheDir }), config.limitTrain);
  // Validation always follows the majority protocol we report on, whatever the training targets.
  const valid: TrainingSplit = limit(loadSplit(config.dataDir, 'FER2013Valid', 'majority', { log, cacheDir }), config.limitValid);
  log(describeSplit(train));
  log(describeSplit(valid));
  if (trainsMouth(config)) {
    for (const split of [train, valid]) {
      split.mouth = loadMouthTargets(config.dataDir, split.split as 'FER2013Train' | 'FER2013Valid', split.names, { cacheDir: options.mouthCacheDir, splitCacheDir: options.splitCacheDir, log });
      const placed = split.mouth.mask.reduce((n, m) => n + m, 0);
      log(`${split.split}: mouth targets for ${placed} of ${split.names.length} faces (${split.names.length - placed} the landmark teacher did not place, left out of the mouth loss)`);
    }
  }
  return { train, valid };
}

/**
 * The mouth head on a split's placed faces: mean Pearson r over the blendshapes and jawOpen's r
 * (the issue's two goals), as `npm run eval -- --task mouth` computes them.
 */
async function evaluateMouth(model: tf.LayersModel, split: TrainingSplit, config: TrainConfig): Promise<{ meanPearson: number | null; jawOpen: number | null }> {
  const predicted = await predictMouth(layersMouthPredictor(model, 'the model in training'), split, config.occlusion);
  const { mouth } = scoreMouth(predicted, split.mouth!);
  return { meanPearson: mouth.meanPearson, jawOpen: mouth.perBlendshape.jawOpen.pearson };
}

/** Validation: the shared scoreModel's metrics, and the cross-entropy of its probabilities against the split's targets. */
export async function evaluate(model: tf.LayersModel, split: LabelledSplit, config: TrainConfig) {
  const { probabilities: probs, metrics } = await scoreModel(model, split, config.occlusion, 'the model in training');
  let loss = 0;
  for (let i = 0; i < split.labels.length; i++) {
    for (let c = 0; c < NUM_CLASSES; c++) {
      const t = split.targets[i * NUM_CLASSES + c];
      if (t > 0) loss -= t * Math.log(Math.max(probs[i * NUM_CLASSES + c], 1e-12));
    }
  }
  return { metrics, loss: loss / Math.max(1, split.labels.length) };
}

/** The kept epoch in words: a balanced run (bestMeanRecall) kept it for its mean recall. */
function bestLine(state: TrainState): string {
  const accuracy = `valid accuracy ${percent(state.bestAccuracy)}`;
  return state.bestMeanRecall === undefined
    ? `best ${accuracy} at epoch ${state.bestEpoch + 1}`
    : `best mean recall ${percent(state.bestMeanRecall)} (${accuracy}) at epoch ${state.bestEpoch + 1}`;
}

/** An epoch's validation scores in words, for its log line. */
const validLine = (metrics: Metrics, config: TrainConfig) =>
  `valid accuracy ${percent(metrics.accuracy)} (${config.occlusion}), mean recall ${percent(metrics.meanRecall)}`;

/**
 * Scores a concat model before its head has learned anything, when it is still the two students'
 * plain ensemble, and keeps it as epoch 0 of the run: training must beat the ensemble to replace
 * it, so a head that Adam only pulls off its start (as measured) is never the one exported.
 */
async function scoreStart(model: tf.LayersModel, valid: LabelledSplit, config: TrainConfig, state: TrainState, runDir: string, log: (m: string) => void) {
  const started = Date.now();
  const { metrics, loss } = await evaluate(model, valid, config);
  state.bestAccuracy = metrics.accuracy;
  if (config.balanceLoss > 0) state.bestMeanRecall = metrics.meanRecall;
  await model.save(fileSaveHandler(runPaths(runDir).best));
  const seconds = (Date.now() - started) / 1000;
  // A start that died before its first checkpoint has already written this record.
  if (!readEpochs(runDir).some((e) => e.epoch === 0)) appendEpoch(runDir, {
    epoch: 0, trainLoss: NaN, trainAccuracy: NaN, validAccuracy: metrics.accuracy, validLoss: loss, validMeanRecall: metrics.meanRecall,
    learningRate: learningRateAt(config, 0), imagesPerSecond: NaN, seconds, best: true, time: new Date().toISOString(),
  });
  log(`epoch 0 (the students' ensemble, before training): ${validLine(metrics, config)}, valid loss ${loss.toFixed(4)}`);
}

/**
 * Training batch `batch` of epoch `epoch`. Fresh augmentation: one random stream per batch, so a
 * resumed run sees exactly the batches it would have seen. Fixed views (teacherViews K > 0): each
 * face as its view (epoch + face) mod K, the images whose teacher outputs are cached.
 */
function trainingBatch(config: TrainConfig, split: TrainingSplit, indices: Int32Array, epoch: number, batch: number): HostBatch {
  if (config.teacherViews > 0) {
    const views = indices.map((face) => viewAt(epoch, face, config.teacherViews));
    return makeViewBatch(split, indices, views, config.occlusion, config.augment, config.viewSeed);
  }
  return makeBatch(split, indices, config.occlusion, config.augment, seededRandom(config.seed * 7919 + epoch * 1000003 + batch));
}

/**
 * Adam whose rate the cosine schedule sets before each step. tfjs keeps AdamOptimizer's
 * learningRate protected (4.22) and offers no setter; a subclass is the typed way to reach it.
 * It behaves as tf.train.adam(rate) (same betas, same backend epsilon) and saves the same state.
 */
class ScheduledAdam extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999);
  }

  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }
}

/** Early stopping: no better validation accuracy for `patience` epochs (0 = never stop early). */
function stoppedEarly(config: TrainConfig, state: TrainState): boolean {
  return config.patience > 0 && state.epochsWithoutImprovement >= config.patience;
}

/** Trains (or resumes) the run in runDir. */
export async function train(config: TrainConfig, runDir: string, objectiveFactory: ObjectiveFactory, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? ((m: string) => console.log(m));
  const paths = runPaths(runDir);
  let state = readState(runDir);
  if (state?.finished && state.epoch < config.epochs && !stoppedEarly(config, state)) {
    // It ran all the epochs it was given and is now given more: train on (the cosine stretches over them).
    log(`${runDir} finished ${state.epoch} epochs; training on to ${config.epochs}`);
    state = { ...state, finished: false };
  }
  if (state?.finished) {
    log(`${runDir} has already finished (${bestLine(state)})`);
    return { state, runDir };
  }
  if (trainsMouth(config) && config.stage === 'concat') throw new Error('the concat stage trains only a head on frozen students: it cannot learn the mouth head (drop --mouth-weight)');
  if (mouthOnly(config) && !trainsMouth(config)) throw new Error('--freeze expression trains only the mouth head: give it one with --mouth-weight W');
  if (mouthOnly(config) && !state && !config.initFrom) throw new Error('--freeze expression keeps the expression network as it starts: give a trained one with --init DIR');
  writeConfig(runDir, config);
  const { train: trainSplit, valid } = loadData(config, log, { mouthCacheDir: options.mouthCacheDir, splitCacheDir: options.splitCacheDir });
  const n = trainSplit.labels.length;
  const batchesPerEpoch = Math.floor(n / config.batchSize);
  if (batchesPerEpoch < 1) throw new Error(`only ${n} training images: fewer than one batch of ${config.batchSize}`);

  let model: tf.LayersModel;
  if (state) {
    model = await loadModelFromDir(paths.checkpoint);
    const hasHead = hasMouthHead(model);
    if (hasHead !== trainsMouth(config)) {
      model.dispose();
      throw new Error(`${paths.checkpoint} ${hasHead ? 'has' : 'has no'} mouth head but the run's config says mouthWeight ${config.mouthWeight}`);
    }
    if (hasHead && mouthSourceOf(model) !== config.mouthFrom) {
      model.dispose();
      throw new Error(`${paths.checkpoint}'s mouth head reads from ${mouthSourceOf(model)} but the run's config says mouthFrom ${config.mouthFrom}`);
    }
  } else {
    const calibration = calibrationFaces(trainSplit, config.occlusion);
    model = await freshModel(config, trainSplit, calibration, log).finally(() => calibration.dispose());
    writeOrigins(runDir, originsOf(config));
  }
  const optimizer = new ScheduledAdam(config.learningRate);
  // Whatever this run holds is released however it ends: finished, stopped, or failed to start.
  const held: { dispose(): void }[] = [model, optimizer];
  try {
    if (state) {
      // Adam's slots are created on the first step; make them, then overwrite with the saved ones.
      await loadOptimizerState(optimizer, paths.checkpoint).catch((e) => log(`optimizer state not restored (${(e as Error).message}); Adam restarts its moments`));
      log(`resuming ${runDir} at epoch ${state.epoch + 1}, batch ${state.batch}/${batchesPerEpoch}`);
    } else {
      state = { ...INITIAL_STATE };
      if (config.stage === 'concat') await scoreStart(model, valid, config, state, runDir, log);
    }
    const objective = await objectiveFactory(config, trainSplit, { runDir, log, teacherCacheRoot: options.teacherCacheRoot });
    held.push(objective);
    const frozen = mouthOnly(config) ? freezeExpression(model, config) : null;
    if (frozen) {
      log(`expression network frozen: only the mouth head's ${frozen.head.length} layers learn (from ${mouthSourceLayer(config.mouthFrom)})`);
    }
    const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const showBar = options.progress ?? Boolean(process.stderr.isTTY);
    let batchesThisCall = 0;

    /** Saves weights, Adam's moments and `at`: the position (and counters) a resumed run starts from. */
    const saveCheckpoint = async (at: TrainState) => {
      await model.save(fileSaveHandler(paths.checkpoint));
      await saveOptimizerState(optimizer, paths.checkpoint);
      writeState(runDir, at);
    };

    for (; state.epoch < config.epochs; state.epoch++) {
      const order = epochOrder(config.batchOrder, trainSplit.labels, config.batchSize, config.seed * 100003 + state.epoch);
      const epochStart = Date.now();
      const bar = new cliProgress.SingleBar({
        format: `epoch ${state.epoch + 1}/${config.epochs} [{bar}] {value}/{total} batches | ETA {eta_formatted} | {speed} img/s | loss {loss} | acc {acc}`,
        stream: process.stderr, hideCursor: true,
      }, cliProgress.Presets.shades_classic);
      if (showBar) bar.start(batchesPerEpoch, state.batch, { speed: '-', loss: '-', acc: '-' });
      let lossSum = 0;
      // The mouth term alone (unweighted), averaged over batches: how the head itself is learning.
      let mouthLossSum = 0;
      let mouthBatches = 0;
      // Training accuracy is sampled (every 10th batch); `scored` counts the images it was measured
      // on, which a run resumed mid-epoch cannot infer from how many batches it has seen.
      let correct = 0;
      let scored = 0;
      let seen = 0;
      let timedImages = 0;
      let timedMs = 0;
      for (; state.batch < batchesPerEpoch; state.batch++) {
        if (options.maxBatches !== undefined && batchesThisCall >= options.maxBatches) {
          if (showBar) bar.stop();
          await saveCheckpoint(state);
          log(`stopped after ${batchesThisCall} batches (checkpoint saved at epoch ${state.epoch + 1}, batch ${state.batch})`);
          return { state, runDir };
        }
        const t0 = performance.now();
        const indices = order.subarray(state.batch * config.batchSize, (state.batch + 1) * config.batchSize);
        const batch = trainingBatch(config, trainSplit, indices, state.epoch, state.batch);
        optimizer.setLearningRate(learningRateAt(config, state.epoch + state.batch / batchesPerEpoch));
        const x = facesTensor(batch.faces);
        const targets = tf.tensor2d(batch.targets, [indices.length, NUM_CLASSES]);
        const mouth = trainsMouth(config) ? {
          targets: tf.tensor2d(batch.mouth!, [indices.length, NUM_MOUTH_BLENDSHAPES]), mask: tf.tensor1d(batch.mouthMask!), loss: null as tf.Scalar | null,
        } : null;
        // The frozen part's output, outside the gradient tape: nothing flows back into it.
        const features = frozen ? tf.tidy(() => frozen.features.predict(x) as tf.Tensor) : null;
        // Only the trained network's own trainable weights: never a teacher's or a frozen branch's.
        const lossTensor = optimizer.minimize(() => {
          if (frozen && mouth) {
            const predicted = frozen.head.reduce((h, layer) => layer.apply(h, { training: true }) as tf.Tensor, features!);
            const mouthLoss = maskedMouthLoss(predicted as tf.Tensor2D, mouth.targets, mouth.mask);
            mouth.loss = tf.keep(mouthLoss);
            return tf.mul(mouthLoss, config.mouthWeight) as tf.Scalar;
          }
          if (!mouth) return objective.loss(model, batch, x, targets);
          // One forward pass feeds both heads' losses.
          const outputs = model.apply(x, { training: true }) as tf.Tensor[];
          const mouthLoss = maskedMouthLoss(outputs[3] as tf.Tensor2D, mouth.targets, mouth.mask);
          mouth.loss = tf.keep(mouthLoss);
          return tf.add(objective.loss(model, batch, x, targets, outputs), tf.mul(mouthLoss, config.mouthWeight)) as tf.Scalar;
        }, true, trainable)!;
        const loss = (await lossTensor.data())[0];
        lossTensor.dispose();
        features?.dispose();
        x.dispose();
        targets.dispose();
        if (mouth) {
          mouthLossSum += (await mouth.loss!.data())[0];
          mouthBatches++;
          tf.dispose([mouth.targets, mouth.mask, mouth.loss!]);
        }
        if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at epoch ${state.epoch + 1}, batch ${state.batch}: lower the learning rate`);
        lossSum += loss * indices.length;
        seen += indices.length;
        timedMs += performance.now() - t0;
        timedImages += indices.length;
        state.step++;
        batchesThisCall++;
        if (state.batch % 10 === 0) {
          // Training accuracy on this batch, measured in inference mode only every 10 batches.
          const probs = tf.tidy(() => (model.predict(facesTensor(batch.faces)) as tf.Tensor[])[0]);
          const pred = predictedLabels(await probs.data() as Float32Array);
          probs.dispose();
          pred.forEach((p, i) => { if (p === batch.labels[i]) correct++; });
          scored += pred.length;
        }
        const progress = {
          speed: (timedImages / (timedMs / 1000)).toFixed(1),
          loss: (lossSum / seen).toFixed(3) + (mouthBatches ? ` (mouth ${(mouthLossSum / mouthBatches).toFixed(3)})` : ''),
          acc: scored ? (correct / scored).toFixed(3) : '-',
        };
        if (showBar) bar.update(state.batch + 1, progress);
        else if ((state.batch + 1) % 25 === 0) {
          // Logs (nohup, CI) get a plain line instead of a redrawn bar.
          const eta = ((batchesPerEpoch - state.batch - 1) * config.batchSize) / Number(progress.speed);
          log(`epoch ${state.epoch + 1}/${config.epochs} batch ${state.batch + 1}/${batchesPerEpoch} | ${progress.speed} img/s | loss ${progress.loss} | acc ${progress.acc} | epoch ETA ${(eta / 60).toFixed(1)} min`);
        }
        if ((state.batch + 1) % config.checkpointEveryBatches === 0 && state.batch + 1 < batchesPerEpoch) {
          state.trainSeconds += timedMs / 1000;
          timedMs = 0; timedImages = 0;
          await saveCheckpoint({ ...state, batch: state.batch + 1 });
        }
      }
      if (showBar) bar.stop();
      state.trainSeconds += timedMs / 1000;
      const { metrics, loss: validLoss } = await evaluate(model, valid, config);
      // The best model stays the best expression classifier; the mouth's scores are logged beside it.
      const mouthScore = trainsMouth(config) ? await evaluateMouth(model, valid, config) : null;
      // A mouth-only run's class outputs never change: its best epoch is its best mouth. A run with
      // the logit-adjusted loss trades accuracy for the rare classes on purpose: its best epoch is
      // its best mean recall.
      const balanced = config.balanceLoss > 0;
      const improved = frozen
        ? (mouthScore?.meanPearson ?? -1) > (state.bestMouthPearson ?? -1)
        : balanced ? metrics.meanRecall > (state.bestMeanRecall ?? -1) : metrics.accuracy > state.bestAccuracy;
      if (improved) {
        if (frozen) state.bestMouthPearson = mouthScore?.meanPearson ?? -1;
        if (balanced) state.bestMeanRecall = metrics.meanRecall;
        state.bestAccuracy = metrics.accuracy;
        state.bestEpoch = state.epoch;
        state.epochsWithoutImprovement = 0;
        await model.save(fileSaveHandler(paths.best));
      } else {
        state.epochsWithoutImprovement++;
      }
      const seconds = (Date.now() - epochStart) / 1000;
      appendEpoch(runDir, {
        epoch: state.epoch + 1,
        trainLoss: seen ? lossSum / seen : NaN,
        trainAccuracy: scored ? correct / scored : NaN,
        validAccuracy: metrics.accuracy,
        validLoss,
        validMeanRecall: metrics.meanRecall,
        learningRate: learningRateAt(config, state.epoch + 1),
        imagesPerSecond: seen / seconds,
        seconds,
        best: improved,
        time: new Date().toISOString(),
        ...(mouthScore ? { trainMouthLoss: mouthBatches ? mouthLossSum / mouthBatches : NaN, validMouthPearson: mouthScore.meanPearson, validJawOpenPearson: mouthScore.jawOpen } : {}),
      });
      const mouthLine = mouthScore ? `, mouth r ${mouthScore.meanPearson?.toFixed(3) ?? '-'} (jawOpen ${mouthScore.jawOpen?.toFixed(3) ?? '-'})` : '';
      log(`epoch ${state.epoch + 1}/${config.epochs}: train loss ${(lossSum / Math.max(1, seen)).toFixed(4)}, ${validLine(metrics, config)}${mouthLine}, valid loss ${validLoss.toFixed(4)}${improved ? ' (best)' : ''}, ${seconds.toFixed(0)} s`);
      state.batch = 0;
      const stop = stoppedEarly(config, state);
      if (stop || state.epoch + 1 >= config.epochs) {
        state.epoch++;
        state.finished = true;
        await saveCheckpoint(state);
        if (stop) log(`early stop: no improvement for ${config.patience} epochs`);
        break;
      }
      await saveCheckpoint({ ...state, epoch: state.epoch + 1 });
    }
    log(`done: ${bestLine(state)}; ${(state.trainSeconds / 60).toFixed(1)} min of training steps`);
    return { state, runDir };
  } finally {
    held.forEach((h) => h.dispose());
  }
}

/** Removes a run folder (for --fresh). */
export function removeRun(runDir: string): void {
  rmSync(runDir, { recursive: true, force: true });
}
