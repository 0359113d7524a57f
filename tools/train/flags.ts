/**
 * The train CLI's settings flags, typed once: each flag names the config key it sets and reads its
 * value through that key's check (config-check.ts), the same one config.json goes through. A value
 * that does not fit (`--epochs ten`, `--seed abc`, `--alpha 0,5`) is refused with the flag's name.
 */
import { AUGMENT_PRESETS, type AugmentConfig, type AugmentPreset } from '../data/augment.js';
import { BATCH_ORDERS } from '../data/batch-order.js';
import { ARCHITECTURES, CROPS, MOUTH_SOURCES } from '../model/architectures.js';
import { LABEL_MODES } from '../../src/core/labels.js';
import { choice, CONFIG_CHECKS, NESTED_CHECKS, type Check, type NestedKey } from './config-check.js';
import { DEFAULT_VIEW_SEED, FREEZE_MODES, withStartArchitecture, type Stage, type TrainConfig } from './config.js';
import { modelCrop } from './run-dir.js';

/** A config key, or a field of one of the nested settings ("kd.alpha"). */
export type ConfigPath =
  | Exclude<keyof TrainConfig, NestedKey>
  | { [N in NestedKey]: `${N}.${keyof TrainConfig[N] & string}` }[NestedKey];

export interface TrainFlag {
  /** As typed: "--batch-size". */
  flag: string;
  /** Placeholder in the help. */
  arg: string;
  help: string;
  path: ConfigPath;
  /** number: the text must be a plain decimal number before the key's check sees it. */
  kind: 'number' | 'text';
  /** The config value a valid flag value stands for (--init none is null, --augment a preset). */
  toValue?: (raw: string) => unknown;
  /** Stages the flag applies to; elsewhere it is ignored, as it always was. */
  stages?: readonly Stage[];
}

const AUGMENT_NAMES = Object.keys(AUGMENT_PRESETS) as AugmentPreset[];

export const TRAIN_FLAGS: readonly TrainFlag[] = [
  { flag: '--teacher', arg: '<dir>', kind: 'text', path: 'teacher', help: 'teacher run or model folder (kd, triplet; default runs/teacher, else models/teacher)' },
  { flag: '--kd-student', arg: '<dir>', kind: 'text', path: 'concat.kd', stages: ['concat'], help: 'concat: the KD student run or model (default runs/kd, else models/student-kd)' },
  { flag: '--triplet-student', arg: '<dir>', kind: 'text', path: 'concat.triplet', stages: ['concat'], help: 'concat: the triplet student run or model (default runs/triplet, else models/student-triplet)' },
  { flag: '--temperature', arg: '<t>', kind: 'number', path: 'kd.temperature', help: 'kd: softmax temperature' },
  { flag: '--alpha', arg: '<a>', kind: 'number', path: 'kd.alpha', help: 'kd: weight of the distillation term (1 - alpha on the hard labels)' },
  { flag: '--margin', arg: '<m>', kind: 'number', path: 'triplet.margin', help: 'triplet: margin on squared distances of L2-normalised embeddings' },
  { flag: '--triplet-weight', arg: '<w>', kind: 'number', path: 'triplet.weight', help: 'triplet: weight of the triplet term next to cross-entropy' },
  {
    flag: '--init', arg: '<dir>', kind: 'text', path: 'initFrom', toValue: (raw) => (raw === 'none' ? null : raw),
    help: 'start from this run or model folder, or "none" (layers matched by name and shape; baseline, kd, triplet: runs/teacher, else models/teacher)',
  },
  { flag: '--epochs', arg: '<n>', kind: 'number', path: 'epochs', help: 'epochs' },
  { flag: '--batch-size', arg: '<n>', kind: 'number', path: 'batchSize', help: 'batch size' },
  { flag: '--batch-order', arg: '<order>', kind: 'text', path: 'batchOrder', help: `${BATCH_ORDERS.join(' | ')} (default: stratified for triplet, else shuffled)` },
  { flag: '--lr', arg: '<x>', kind: 'number', path: 'learningRate', help: 'peak learning rate (Adam, cosine decay)' },
  { flag: '--patience', arg: '<n>', kind: 'number', path: 'patience', help: 'early-stopping patience in epochs (0 = off)' },
  { flag: '--architecture', arg: '<name>', kind: 'text', path: 'architecture', help: `network to train: ${Object.keys(ARCHITECTURES).join(' | ')} (default: that of the network the run starts from, else student)` },
  { flag: '--occlusion', arg: '<mode>', kind: 'text', path: 'occlusion', help: 'what the trained network sees: none | lower | upper' },
  {
    flag: '--crop', arg: '<what>', kind: 'text', path: 'crop', stages: ['baseline', 'kd', 'triplet', 'concat'],
    help: `${CROPS.join(' | ')} (visible: compute only on the rows the occlusion leaves visible, half the FLOPs of a lower-half student; concat: that of its kd student)`,
  },
  { flag: '--label-mode', arg: '<mode>', kind: 'text', path: 'labelMode', help: `${LABEL_MODES.join(' | ')}` },
  {
    flag: '--augment', arg: '<preset>', kind: 'text', path: 'augment',
    toValue: (raw) => AUGMENT_PRESETS[choice(AUGMENT_NAMES)(raw, '--augment')] as AugmentConfig,
    help: `${AUGMENT_NAMES.join(' | ')} (strong adds random erasing and more geometry)`,
  },
  { flag: '--limit-train', arg: '<n>', kind: 'number', path: 'limitTrain', help: 'use only the first N training images' },
  { flag: '--limit-valid', arg: '<n>', kind: 'number', path: 'limitValid', help: 'use only the first N validation images' },
  { flag: '--seed', arg: '<n>', kind: 'number', path: 'seed', help: 'random seed' },
  {
    // The baseline takes it too: the fair control of a student on K fixed views is a baseline on them.
    flag: '--teacher-views', arg: '<k>', kind: 'number', path: 'teacherViews', stages: ['baseline', 'kd', 'triplet'],
    help: 'baseline, kd, triplet: train on K fixed augmented views per face, the teacher\'s outputs on them cached once in .cache/teacher-outputs (0 = fresh augmentation, live teacher)',
  },
  {
    flag: '--view-seed', arg: '<n>', kind: 'number', path: 'viewSeed', stages: ['baseline', 'kd', 'triplet'],
    help: `with --teacher-views: seed of the fixed views, shared by every stage and seed so that the teacher's outputs are computed once (default ${DEFAULT_VIEW_SEED})`,
  },
  {
    flag: '--mouth-weight', arg: '<w>', kind: 'number', path: 'mouthWeight', stages: ['teacher', 'baseline', 'kd', 'triplet'],
    help: 'add the mouth head (13 ARKit mouth blendshapes, docs/mouth.md) with this weight on its loss, trained jointly; needs npm run mouth-targets for FER2013Train and FER2013Valid (0 = no head)',
  },
  {
    flag: '--mouth-from', arg: '<source>', kind: 'text', path: 'mouthFrom', stages: ['teacher', 'baseline', 'kd', 'triplet'],
    help: `where the mouth head reads from: ${MOUTH_SOURCES.join(' | ')} (head: a Dense layer beside the classifier; blockN: a conv branch on conv block N's output)`,
  },
  {
    flag: '--balance-loss', arg: '<tau>', kind: 'number', path: 'balanceLoss',
    help: 'logit-adjusted loss for the rare expressions: the labels\' cross-entropy sees logits + tau log(prior) while training (0 = plain; 1 divides out the training prior)',
  },
  {
    flag: '--freeze', arg: '<what>', kind: 'text', path: 'freeze', stages: ['teacher', 'baseline', 'kd', 'triplet'],
    help: `${FREEZE_MODES.join(' | ')} (expression: only the mouth head learns; the class outputs stay exactly as in --init)`,
  },
];

export function trainFlag(flag: string): TrainFlag {
  const entry = TRAIN_FLAGS.find((f) => f.flag === flag);
  if (!entry) throw new Error(`no train flag ${flag}`);
  return entry;
}

/** The check of a config key or nested field. */
export function checkFor(path: ConfigPath): Check<unknown> {
  const [head, field] = path.split('.') as [keyof TrainConfig, string | undefined];
  if (field === undefined) return CONFIG_CHECKS[head] as Check<unknown>;
  return (NESTED_CHECKS[head as NestedKey] as Record<string, Check<unknown>>)[field];
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A flag's text as its config value, checked. A number flag takes plain decimals only: `0,5`,
 * `ten` or `0x10` stay text and fail the key's check by name.
 */
export function parseFlagValue(entry: TrainFlag, raw: string): unknown {
  const value = entry.toValue ? entry.toValue(raw) : entry.kind === 'number' && DECIMAL.test(raw.trim()) ? Number(raw) : raw;
  return checkFor(entry.path)(value, entry.flag);
}

/** Commander's attribute name for a flag: --batch-size → batchSize. */
export const optionName = (flag: string) => flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A copy of config with every given flag set on its key. `values` holds the flags' text as typed,
 * by commander's attribute name (a parsed null would not survive commander: it stores '' instead).
 */
export function applyTrainFlags(config: TrainConfig, values: Record<string, unknown>): TrainConfig {
  const out: TrainConfig = { ...config, kd: { ...config.kd }, triplet: { ...config.triplet }, concat: { ...config.concat } };
  for (const entry of TRAIN_FLAGS) {
    const raw = values[optionName(entry.flag)];
    if (raw === undefined) continue;
    if (entry.stages && !entry.stages.includes(config.stage)) continue;
    const value = parseFlagValue(entry, String(raw));
    const [head, field] = entry.path.split('.') as [keyof TrainConfig, string | undefined];
    if (field === undefined) (out as unknown as Record<string, unknown>)[head] = value;
    else (out[head as NestedKey] as Record<string, unknown>)[field] = value;
  }
  return out;
}

/**
 * The config of a run about to start: its stage's defaults and sources (withDefaultSources), then the
 * flags given, then, unless --architecture was given, the architecture of the network it starts from;
 * unless --crop was given, a concat takes its kd student's crop (its branches are those students).
 */
export function configForNewRun(sourced: TrainConfig, values: Record<string, unknown>): TrainConfig {
  let config = applyTrainFlags(sourced, values);
  if (values[optionName('--architecture')] === undefined) config = withStartArchitecture(config);
  if (values[optionName('--crop')] === undefined && config.stage === 'concat' && config.concat.kd) config = { ...config, crop: modelCrop(config.concat.kd) ?? config.crop };
  return config;
}
