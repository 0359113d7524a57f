/**
 * A training run's configuration: plain data, saved as config.json next to every checkpoint,
 * so a run can always be read, resumed and reproduced from its folder alone.
 */
import type { LabelMode } from '../../src/core/labels.js';
import type { Occlusion } from '../../src/core/occlusion.js';
import { DEFAULT_AUGMENT, type AugmentConfig } from '../data/augment.js';
import type { ArchitectureName } from '../model/architectures.js';

export const STAGES = ['teacher', 'baseline', 'kd', 'triplet', 'concat'] as const;
export type Stage = (typeof STAGES)[number];

export interface TrainConfig {
  stage: Stage;
  architecture: ArchitectureName;
  /** What the trained network sees (the teacher sees whole faces; students the lower half). */
  occlusion: Occlusion;
  dataDir: string;
  labelMode: LabelMode;
  /** Train on the first N training images only (0 = all): for tests and quick checks. */
  limitTrain: number;
  limitValid: number;
  epochs: number;
  batchSize: number;
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
  /** kd: Hinton distillation. T = 4 and alpha = 0.7 are common defaults (the paper's are not public). */
  kd: { temperature: number; alpha: number };
  /** triplet: margin on squared distances of L2-normalised embeddings, weight of the triplet term. */
  triplet: { margin: number; weight: number };
  /** concat: the two frozen students (run or model folders) whose embeddings are concatenated. */
  concat: { kd: string | null; triplet: string | null };
  /** XNNPACK threads on the wasm backend (0 = all cores). */
  threads: number;
  backend: string;
}

export function defaultConfig(stage: Stage, dataDir: string): TrainConfig {
  const isTeacher = stage === 'teacher';
  const isConcat = stage === 'concat';
  // kd and triplet fine-tune the baseline student (the paper distils into a student already trained
  // on occluded faces): a few epochs at a lower rate.
  const isFineTune = stage === 'kd' || stage === 'triplet';
  return {
    stage,
    architecture: isTeacher ? 'teacher' : 'student',
    occlusion: isTeacher ? 'none' : 'lower',
    dataDir,
    labelMode: 'majority',
    limitTrain: 0,
    limitValid: 0,
    // concat trains only a linear head on frozen features: few epochs.
    epochs: isConcat ? 5 : isFineTune ? 3 : 30,
    batchSize: 64,
    learningRate: isFineTune ? 3e-4 : 1e-3,
    finalLearningRateFraction: 0.02,
    patience: 8,
    seed: 1,
    batchNormMomentum: 0.99,
    augment: DEFAULT_AUGMENT,
    checkpointEveryBatches: 100,
    initFrom: null,
    teacher: null,
    kd: { temperature: 4, alpha: 0.7 },
    triplet: { margin: 0.2, weight: 1 },
    concat: { kd: null, triplet: null },
    threads: 0,
    backend: 'auto',
  };
}

export function learningRateAt(config: TrainConfig, epochProgress: number): number {
  const t = Math.min(1, Math.max(0, epochProgress / config.epochs));
  const floor = config.learningRate * config.finalLearningRateFraction;
  return floor + (config.learningRate - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}
