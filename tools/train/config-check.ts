/**
 * One validator per TrainConfig key, shared by the train CLI's flags (tools/train/flags.ts) and by
 * config.json when a run is read back: `--seed abc` and `"seed": "abc"` fail with the same words,
 * instead of NaN becoming seed 0 or surfacing epochs later as "loss became NaN".
 */
import { LABEL_MODES, type LabelMode } from '../../src/core/labels.js';
import { OCCLUSIONS, type Occlusion } from '../../src/core/occlusion.js';
import type { AugmentConfig } from '../data/augment.js';
import { BATCH_ORDERS, type BatchOrder } from '../data/batch-order.js';
import { MAX_TAU } from '../model/class-balance.js';
import { ARCHITECTURES, CROPS, MOUTH_SOURCES, type ArchitectureName, type Crop, type MouthSource } from '../model/architectures.js';
import { FREEZE_MODES, STAGES, type FreezeMode, type Stage, type TrainConfig } from './config.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The config keys that hold an object of settings (a flag sets one of their fields). */
export type NestedKey = 'kd' | 'triplet' | 'concat';

/** Checks one value; `what` names it in the message (a flag, or a config.json key). */
export type Check<T> = (value: unknown, what: string) => T;

const fail = (what: string, value: unknown, expected: string): never => {
  throw new ConfigError(`${what}: ${JSON.stringify(value) ?? String(value)} is not ${expected}`);
};

function finite(value: unknown, what: string, expected: string): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fail(what, value, expected);
}

export const integer = (min: number, expected: string): Check<number> => (value, what) => {
  const n = finite(value, what, expected);
  return Number.isInteger(n) && n >= min ? n : fail(what, value, expected);
};
export const positiveInteger = integer(1, 'a whole number ≥ 1');
export const countOrZero = integer(0, 'a whole number ≥ 0');
/** Seeds feed mulberry32 through `>>> 0`: any 32-bit unsigned integer is a distinct stream. */
export const seed: Check<number> = (value, what) => {
  const n = integer(0, 'a whole number from 0 to 4294967295')(value, what);
  return n <= 0xffffffff ? n : fail(what, value, 'a whole number from 0 to 4294967295');
};

export const number = (test: (n: number) => boolean, expected: string): Check<number> => (value, what) => {
  const n = finite(value, what, expected);
  return test(n) ? n : fail(what, value, expected);
};
export const positive = number((n) => n > 0, 'a number > 0');
export const nonNegative = number((n) => n >= 0, 'a number ≥ 0');
export const fraction = number((n) => n >= 0 && n <= 1, 'a number from 0 to 1');

export const choice = <T extends string>(choices: readonly T[]): Check<T> => (value, what) =>
  typeof value === 'string' && (choices as readonly string[]).includes(value) ? (value as T) : fail(what, value, `one of ${choices.join(', ')}`);

export const text: Check<string> = (value, what) => (typeof value === 'string' && value !== '' ? value : fail(what, value, 'a non-empty string'));
export const folderOrNull: Check<string | null> = (value, what) => (value === null ? null : text(value, what));
const bool: Check<boolean> = (value, what) => (typeof value === 'boolean' ? value : fail(what, value, 'true or false'));

function record(value: unknown, what: string): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : fail(what, value, 'an object');
}

/** Checks every key of an object against its check; unknown keys are refused (a typo, or a newer run). */
function shape<T>(checks: { [K in keyof T]-?: Check<T[K]> }, optional: readonly (keyof T)[] = []): Check<T> {
  return (value, what) => {
    const o = record(value, what);
    const out: Partial<T> = {};
    for (const key of Object.keys(o)) {
      if (!Object.hasOwn(checks, key)) throw new ConfigError(`${what}.${key}: unknown key (known: ${Object.keys(checks).join(', ')})`);
    }
    for (const key of Object.keys(checks) as (keyof T & string)[]) {
      if (!Object.hasOwn(o, key)) {
        if (optional.includes(key)) continue;
        throw new ConfigError(`${what}.${key}: missing`);
      }
      out[key] = checks[key](o[key], `${what}.${key}`);
    }
    return out as T;
  };
}

export const augmentCheck: Check<AugmentConfig> = shape<AugmentConfig>({
  flip: bool, maxRotationDeg: nonNegative, maxShiftPx: nonNegative, maxScale: fraction,
  maxBrightness: nonNegative, maxContrast: fraction, erasing: fraction,
}, ['erasing']);

/** The check of each config key: flags.ts and config.json both go through these. */
export const NESTED_CHECKS: { [N in NestedKey]: { [K in keyof TrainConfig[N]]-?: Check<TrainConfig[N][K]> } } = {
  kd: { temperature: positive, alpha: fraction },
  triplet: { margin: nonNegative, weight: nonNegative },
  concat: { kd: folderOrNull, triplet: folderOrNull },
};

export const CONFIG_CHECKS: { [K in keyof TrainConfig]-?: Check<TrainConfig[K]> } = {
  // Read when called: config.ts imports run-dir.ts, which imports this file, so STAGES may not be
  // initialised yet while this table is built.
  stage: (value, what) => choice<Stage>(STAGES)(value, what),
  architecture: choice(Object.keys(ARCHITECTURES) as ArchitectureName[]),
  occlusion: choice<Occlusion>(OCCLUSIONS),
  crop: choice<Crop>(CROPS),
  dataDir: text,
  labelMode: choice<LabelMode>(LABEL_MODES),
  limitTrain: countOrZero,
  limitValid: countOrZero,
  epochs: positiveInteger,
  batchSize: positiveInteger,
  batchOrder: choice<BatchOrder>(BATCH_ORDERS),
  learningRate: positive,
  finalLearningRateFraction: fraction,
  patience: countOrZero,
  seed,
  batchNormMomentum: fraction,
  augment: augmentCheck,
  checkpointEveryBatches: positiveInteger,
  initFrom: folderOrNull,
  teacher: folderOrNull,
  teacherViews: countOrZero,
  viewSeed: seed,
  kd: shape(NESTED_CHECKS.kd),
  triplet: shape(NESTED_CHECKS.triplet),
  concat: shape(NESTED_CHECKS.concat),
  mouthWeight: nonNegative,
  mouthFrom: choice<MouthSource>(MOUTH_SOURCES),
  // Read when called: config.ts and this module import each other (as stage does).
  freeze: (value, what) => choice<FreezeMode>(FREEZE_MODES)(value, what),
  balanceLoss: number((n) => n >= 0 && n <= MAX_TAU, `a number from 0 (plain cross-entropy) to ${MAX_TAU} (1 divides out the training prior)`),
  threads: countOrZero,
  backend: text,
};

/**
 * A config.json as read from disk, checked key by key. Keys added after runs were saved read as
 * the value those runs trained with, so every old run still resumes unchanged.
 */
export function checkConfig(raw: unknown, where: string): TrainConfig {
  // Runs from before batch orders were shuffled; runs from before cached teacher views had none;
  // runs from before the mouth head had none; runs from before mouth branches had the plain head and froze nothing;
  // runs from before the view seed drew their views from the run's seed; runs from before crops computed on every row;
  // runs from before the logit-adjusted loss trained on plain cross-entropy.
  const legacy: Partial<TrainConfig> = { batchOrder: 'shuffled', teacherViews: 0, mouthWeight: 0, mouthFrom: 'head', freeze: 'none', crop: 'none', balanceLoss: 0 };
  const o = record(raw, where);
  const filled = { ...legacy, viewSeed: o.seed, ...o };
  try {
    return shape<TrainConfig>(CONFIG_CHECKS)(filled, 'config');
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${where}: ${e.message}`);
    throw e;
  }
}
