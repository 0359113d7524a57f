/** The files of one run folder: config, metrics log, checkpoint, best model. */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHITECTURES, CROP_LAYER, type ArchitectureName, type Crop } from '../model/architectures.js';
import type { TrainConfig } from './config.js';
import { checkConfig, ConfigError } from './config-check.js';

export interface TrainState {
  /** Epoch in progress (0-based) and the next batch of it to train. */
  epoch: number;
  batch: number;
  step: number;
  bestAccuracy: number;
  bestEpoch: number;
  epochsWithoutImprovement: number;
  trainSeconds: number;
  finished: boolean;
  /** Mouth-only runs (--freeze expression), which keep the epoch of best mean mouth r. */
  bestMouthPearson?: number;
  /** Runs with the logit-adjusted loss (balanceLoss > 0), which keep the epoch of best mean per-class recall: what they train for. */
  bestMeanRecall?: number;
}

export const INITIAL_STATE: TrainState = {
  epoch: 0, batch: 0, step: 0, bestAccuracy: -1, bestEpoch: -1, epochsWithoutImprovement: 0, trainSeconds: 0, finished: false,
};

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validAccuracy: number;
  validLoss: number;
  learningRate: number;
  imagesPerSecond: number;
  seconds: number;
  best: boolean;
  time: string;
  /** Mean per-class recall on the validation split (runs from before it was recorded have none). */
  validMeanRecall?: number;
  /** Runs with the mouth head: its loss alone (unweighted) and its validation Pearson r. */
  trainMouthLoss?: number;
  validMouthPearson?: number | null;
  validJawOpenPearson?: number | null;
}

export const runPaths = (dir: string) => ({
  config: join(dir, 'config.json'),
  metrics: join(dir, 'metrics.jsonl'),
  checkpoint: join(dir, 'checkpoint'),
  state: join(dir, 'checkpoint', 'state.json'),
  best: join(dir, 'best'),
  log: join(dir, 'train.log'),
  origins: join(dir, 'origins.json'),
});

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value, null, 2));
  renameSync(`${path}.tmp`, path);
}

/** A run or model folder's best weights: <run>/best if it exists, else the folder itself. */
export function bestModelDir(source: string): string {
  return existsSync(join(source, 'best', 'model.json')) ? join(source, 'best') : source;
}

/** Whether a run or model folder holds a model to load. */
export const holdsModel = (dir: string) => existsSync(join(bestModelDir(dir), 'model.json'));

/** The crop of the network in a run or model folder (null when there is no readable model). */
export function modelCrop(dir: string): Crop | null {
  const path = join(bestModelDir(dir), 'model.json');
  if (!existsSync(path)) return null;
  try {
    return readFileSync(path, 'utf8').includes(`"name":"${CROP_LAYER}"`) ? 'visible' : 'none';
  } catch {
    return null;
  }
}

/**
 * The architecture of the network in a run or model folder (a flip-averaged or concat graph
 * included), told by the width of its first convolution in model.json without loading any weights;
 * null when there is no model or it is none of ARCHITECTURES.
 */
export function modelArchitecture(dir: string): ArchitectureName | null {
  const path = join(bestModelDir(dir), 'model.json');
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  const widthOfFirstConv = (node: unknown): number | null => {
    if (Array.isArray(node)) {
      for (const child of node) {
        const found = widthOfFirstConv(child);
        if (found !== null) return found;
      }
      return null;
    }
    if (typeof node !== 'object' || node === null) return null;
    const layer = node as { name?: unknown; config?: { filters?: unknown } };
    if (typeof layer.name === 'string' && layer.name.endsWith('block1_conv1') && typeof layer.config?.filters === 'number') return layer.config.filters;
    return widthOfFirstConv(Object.values(node));
  };
  const width = widthOfFirstConv((json as { modelTopology?: unknown }).modelTopology);
  return (Object.keys(ARCHITECTURES) as ArchitectureName[]).find((a) => ARCHITECTURES[a].blocks[0] === width) ?? null;
}

export function writeConfig(dir: string, config: TrainConfig): void {
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(runPaths(dir).config, config);
}

export function readConfig(dir: string): TrainConfig {
  const p = runPaths(dir).config;
  if (!existsSync(p)) throw new Error(`${dir} is not a run folder: ${p} is missing`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${p} is not valid JSON (${(e as Error).message})`);
  }
  return checkConfig(raw, p);
}

export function readState(dir: string): TrainState | null {
  const p = runPaths(dir).state;
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as TrainState) : null;
}

export function writeState(dir: string, state: TrainState): void {
  mkdirSync(runPaths(dir).checkpoint, { recursive: true });
  writeJsonAtomic(runPaths(dir).state, state);
}

export function appendEpoch(dir: string, record: EpochRecord): void {
  appendFileSync(runPaths(dir).metrics, `${JSON.stringify(record)}\n`);
}

/** Epochs of training a run has done: a concat's epoch 0 scores its start, and trains nothing. */
export function epochsTrained(records: EpochRecord[]): number {
  return records.filter((e) => e.epoch >= 1).length;
}

export function readEpochs(dir: string): EpochRecord[] {
  const p = runPaths(dir).metrics;
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as EpochRecord);
}

/**
 * A model folder a run was built from, fingerprinted when the run started: model folders get
 * retrained and overwritten, so the path alone does not say which weights a run came from.
 */
export interface Origin {
  role: 'initial weights' | 'teacher' | 'kd student' | 'triplet student';
  dir: string;
  /** fileFacts' SHA-256 of model.json then weights.bin, as in the model cards. */
  sha256: string;
}

export function writeOrigins(dir: string, origins: Origin[]): void {
  writeJsonAtomic(runPaths(dir).origins, origins);
}

export function readOrigins(dir: string): Origin[] {
  const p = runPaths(dir).origins;
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Origin[]) : [];
}
