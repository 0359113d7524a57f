/**
 * A training run's configuration: plain data, saved as config.json next to every checkpoint,
 * so a run can always be read, resumed and reproduced from its folder alone.
 */
import { join } from 'node:path';
import type { LabelMode } from '../../src/core/labels.js';
import type { Occlusion } from '../../src/core/occlusion.js';
import { DEFAULT_AUGMENT, type AugmentConfig } from '../data/augment.js';
import type { BatchOrder } from '../data/batch-order.js';
import type { ArchitectureName, Crop, MouthSource } from '../model/architectures.js';
import { holdsModel, modelArchitecture } from './run-dir.js';

/**
 * In pipeline order, the paper's: one network every student starts from, then the students. The
 * paper fine-tunes a face-pretrained VGG-face into its teacher and into each student; we have no
 * face-pretrained network, so the teacher (trained on whole faces) is that common start: the
 * baseline, kd and triplet students are each fine-tuned from it on the lower half with the same
 * schedule, and differ only in what the teacher adds to their loss. The baseline is the fair
 * control: the same start and the same training, without the teacher's signal.
 */
export const STAGES = ['teacher', 'baseline', 'kd', 'triplet', 'concat'] as const;
export type Stage = (typeof STAGES)[number];
export const FREEZE_MODES = ['none', 'expression'] as const;
export type FreezeMode = (typeof FREEZE_MODES)[number];

/** The committed model folder (under models/) of each stage. */
export const MODEL_NAMES: Record<Stage, string> = {
  teacher: 'teacher', baseline: 'student-baseline', kd: 'student-kd', triplet: 'student-triplet', concat: 'student-concat',
};

export interface TrainConfig {
  stage: Stage;
  architecture: ArchitectureName;
  /** What the trained network sees (the teacher sees whole faces; students the lower half). */
  occlusion: Occlusion;
  /**
   * `visible`: the network computes only on the rows the occlusion leaves visible (a first
   * Cropping2D layer, tools/model/architectures.ts): a lower-half student at half the FLOPs, for
   * the same pixels. `none`: on the whole 48x48 input, as every run before this key.
   */
  crop: Crop;
  dataDir: string;
  labelMode: LabelMode;
  /** Train on the first N training images only (0 = all): for tests and quick checks. */
  limitTrain: number;
  limitValid: number;
  epochs: number;
  batchSize: number;
  /** How an epoch is cut into batches (tools/data/batch-order.ts): stratified for the triplet stage. */
  batchOrder: BatchOrder;
  learningRate: number;
  /** Cosine decay from learningRate to learningRate * finalLearningRateFraction over all epochs. */
  finalLearningRateFraction: number;
  /** Stop when the validation accuracy has not improved for this many epochs (0 = never). */
  patience: number;
  seed: number;
  /** Momentum of the BatchNorm moving statistics (Keras default 0.99; short runs need less). */
  batchNormMomentum: number;
  augment: AugmentConfig;
  /** Save a mid-epoch checkpoint every N batches, so a killed run loses little of an epoch. */
  checkpointEveryBatches: number;
  /** Weights to start from (a run folder or model folder), or null for a fresh initialisation. */
  initFrom: string | null;
  /** The teacher run used by kd and triplet. */
  teacher: string | null;
  /**
   * K > 0: train on K fixed augmented views of each face (view (epoch + face) mod K, see
   * tools/data/views.ts), with kd's and triplet's teacher outputs read from a cache computed once
   * over those views (tools/train/teacher-cache.ts). 0: fresh augmentation every batch and a live
   * teacher, as runs before this switch trained (their config.json reads as 0).
   */
  teacherViews: number;
  /**
   * Seed of the fixed views' augmentation (teacherViews > 0), apart from `seed` and the same for every
   * stage and replicate: all of them train on the same K views of each face, so the teacher's outputs
   * over those views are computed once (about 18 minutes for the teacher network on 2 threads) and
   * not again for each seed. Runs still differ by `seed` (batch order, dropout, fresh layers). Runs
   * from before this key drew their views from `seed` (their config.json reads that way).
   */
  viewSeed: number;
  /**
   * kd: Hinton distillation (the paper's T and alpha are not public). T = 2, alpha = 0.5 were tuned
   * on FER2013Valid against the common T = 4, alpha = 0.7: with a teacher wrong on many of its own
   * training faces, the lighter weight on it stops kd from costing accuracy. The measured numbers
   * are in the README's "Where we stand" and the model cards.
   */
  kd: { temperature: number; alpha: number };
  /** triplet: margin on squared distances of L2-normalised embeddings, weight of the triplet term. */
  triplet: { margin: number; weight: number };
  /** concat: the two frozen students (run or model folders) whose embeddings are concatenated. */
  concat: { kd: string | null; triplet: string | null };
  /**
   * Weight of the mouth head's loss (tools/train/losses.ts maskedMouthLoss) next to the stage's
   * expression loss; 0 = no mouth head at all. With a weight, the network gets the "mouth" layer
   * (13 ARKit mouth blendshapes) and learns it jointly from the landmark teacher's cached targets
   * (npm run mouth-targets, docs/mouth.md). Not for concat, whose backbones are frozen.
   */
  mouthWeight: number;
  /**
   * Where the mouth head reads from: `head` (a Dense layer beside the classifier) or `blockN` (a conv
   * branch on conv block N's pooled output; tools/model/architectures.ts MOUTH_BRANCH).
   */
  mouthFrom: MouthSource;
  /**
   * `expression`: the expression network is frozen (inference mode, BatchNorm on its moving
   * statistics) and only the mouth head learns, so the class outputs stay exactly as they were;
   * the best model is then the epoch of best mean mouth r. `none`: everything trains.
   */
  freeze: FreezeMode;
  /**
   * Logit-adjusted loss (Menon et al., ICLR 2021): the labels' cross-entropy sees the logits plus
   * tau · log prior (tools/model/class-balance.ts priorShift), during training only, so the network
   * learns logits that already divide the training prior out to the power tau, with the gradient of
   * the rare classes' faces, instead of a bias shifted after training (`--balance` of eval and
   * export). 0 = plain cross-entropy, as every run before this key. The kd term and the triplet
   * term are left as they are: they match the teacher, not the labels.
   */
  balanceLoss: number;
  /** XNNPACK threads on the wasm backend (0 = all cores). */
  threads: number;
  backend: string;
}

/** The fixed views' seed: the baseline's and triplet's seed, whose views the first campaign's baseline and triplet drew. */
export const DEFAULT_VIEW_SEED = 3;

export function defaultConfig(stage: Stage, dataDir: string): TrainConfig {
  // The students are fine-tuned from the teacher (see withDefaultSources): 4 epochs at the full
  // rate (measured: 2 epochs at 3e-4 leave the students so close to each other and to the teacher's
  // start that their concat gains nothing). concat trains a head that starts as the students'
  // ensemble: a few epochs at a lower rate.
  const epochs: Record<Stage, number> = { teacher: 30, baseline: 4, kd: 4, triplet: 4, concat: 3 };
  // kd and triplet take different seeds (augmentations and batches), so that the concat joins two
  // students that differ; the baseline shares the triplet's augmentation stream.
  const seeds: Record<Stage, number> = { teacher: 1, baseline: 3, kd: 2, triplet: 3, concat: 1 };
  return {
    stage,
    // The paper's teacher and students share one architecture: withStartArchitecture gives a run
    // the architecture of the network it starts from. The compact network is the default for a
    // teacher trained from scratch; the larger one (--architecture teacher) is the one we train now.
    architecture: 'student',
    occlusion: stage === 'teacher' ? 'none' : 'lower',
    crop: 'none',
    dataDir,
    labelMode: 'majority',
    limitTrain: 0,
    limitValid: 0,
    epochs: epochs[stage],
    batchSize: 64,
    batchOrder: stage === 'triplet' ? 'stratified' : 'shuffled',
    learningRate: stage === 'concat' ? 3e-4 : 1e-3,
    finalLearningRateFraction: 0.02,
    patience: 8,
    seed: seeds[stage],
    batchNormMomentum: 0.99,
    augment: DEFAULT_AUGMENT,
    checkpointEveryBatches: 100,
    initFrom: null,
    teacher: null,
    teacherViews: 0,
    viewSeed: DEFAULT_VIEW_SEED,
    kd: { temperature: 2, alpha: 0.5 },
    triplet: { margin: 0.2, weight: 1 },
    concat: { kd: null, triplet: null },
    mouthWeight: 0,
    mouthFrom: 'head',
    freeze: 'none',
    balanceLoss: 0,
    threads: 0,
    backend: 'auto',
  };
}

/**
 * Where a stage's starting weights, teacher and frozen students come from: the run folder of the
 * stage it builds on when this machine trained it, else that stage's committed model (an exported
 * model is restored to its training graph, see tools/model/unfold.ts). The teacher starts fresh.
 */
export function withDefaultSources(config: TrainConfig, runsDir = 'runs', modelsDir = 'models', replicate = 1): TrainConfig {
  // The teacher is shared by every replicate; a replicate's concat joins that replicate's students,
  // which only this machine's runs hold (the committed models are replicate 1's).
  const source = (stage: Stage, r = 1) => {
    const run = join(runsDir, replicateRunName(stage, r));
    return [run, ...(r === 1 ? [join(modelsDir, MODEL_NAMES[stage])] : [])].find(holdsModel) ?? run;
  };
  const student = config.stage === 'baseline' || config.stage === 'kd' || config.stage === 'triplet';
  return {
    ...config,
    initFrom: student ? source('teacher') : null,
    teacher: config.stage === 'kd' || config.stage === 'triplet' ? source('teacher') : null,
    concat: config.stage === 'concat' ? { kd: source('kd', replicate), triplet: source('triplet', replicate) } : { kd: null, triplet: null },
  };
}

/**
 * A run is of the network it starts from, so that all of its weights carry over (a student of the
 * teacher's; the concat of its kd student's). For a config whose --architecture was not given:
 * after the sources and flags, which may name another start or none.
 */
export function withStartArchitecture(config: TrainConfig): TrainConfig {
  const from = config.stage === 'concat' ? config.concat.kd : config.initFrom;
  return { ...config, architecture: (from && modelArchitecture(from)) || config.architecture };
}

/**
 * Replicates: every student stage trained again on other seeds, so that a stage's effect can be
 * told from a seed's (issue 17: >= 3 seeds per stage, tools/eval/seed-test.ts). Replicate 1 is the
 * pipeline's usual run (runs/<stage>, seeds as defaultConfig); replicate r lives in
 * runs/<stage>-r<r> and shifts every stage's seed by REPLICATE_SEED_STEP * (r - 1), which keeps kd
 * and triplet on different seeds within a replicate and no two replicates alike.
 */
export const REPLICATE_SEED_STEP = 10;
export const replicateRunName = (stage: Stage, replicate: number) => (replicate === 1 || stage === 'teacher' ? stage : `${stage}-r${replicate}`);
export const replicateSeed = (stage: Stage, replicate: number, base: number) => (stage === 'teacher' ? base : base + REPLICATE_SEED_STEP * (replicate - 1));

export function learningRateAt(config: TrainConfig, epochProgress: number): number {
  const t = Math.min(1, Math.max(0, epochProgress / config.epochs));
  const floor = config.learningRate * config.finalLearningRateFraction;
  return floor + (config.learningRate - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}

/** What a resumed run may change: how long it trains and where it runs, never what it learns. */
export interface ResumeOverrides {
  stage?: Stage;
  epochs?: number;
  backend?: string;
  threads?: number;
}

/**
 * The saved config of a run being resumed, with the overrides a resume allows: more epochs, and a
 * faster backend or more threads (a run started on this 2-core machine can finish on a CUDA one).
 * The stage comes from the run itself; naming a different one is a mistake worth stopping for.
 */
export function resumedConfig(saved: TrainConfig, overrides: ResumeOverrides): TrainConfig {
  if (overrides.stage !== undefined && overrides.stage !== saved.stage) {
    throw new Error(`the run to resume is a ${saved.stage} run, not ${overrides.stage}: drop --stage, or pick another --out`);
  }
  return {
    ...saved,
    epochs: overrides.epochs || saved.epochs,
    backend: overrides.backend ?? saved.backend,
    threads: overrides.threads ?? saved.threads,
  };
}
