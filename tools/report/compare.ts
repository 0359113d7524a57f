/**
 * Several models scored on the same images, and the paper-style comparison table: accuracy,
 * difference to a baseline, and McNemar's test against that baseline.
 */
import { basename, dirname, resolve } from 'node:path';
import { FACE_PIXELS } from '../../src/core/face-geometry.js';
import { EXPRESSIONS, NUM_CLASSES, type LabelMode } from '../../src/core/labels.js';
import type { Occlusion } from '../../src/core/occlusion.js';
import { loadSplit, type LabelledSplit, type SplitName } from '../data/ferplus.js';
import { scoreModelDir, type EvaluationReport } from '../eval/evaluate-model.js';
import { percent } from '../eval/format.js';
import { EXACT_BELOW, formatP, mcnemar, type McNemarResult } from '../eval/mcnemar.js';
import { seedPairedTest, type SeedPairedResult, type SeedTestOptions } from '../eval/seed-test.js';

export interface NamedModel {
  /** Short name for tables and file names. */
  name: string;
  /** Folder holding model.json. */
  dir: string;
}

/**
 * Short, unique names for model folders: the folder name, or the run folder's name for a run's
 * best/ model; clashing names get their parent folder prepended, and a model given twice a number.
 */
export function nameModels(resolved: string[]): NamedModel[] {
  const named = resolved.map((d) => (basename(resolve(d)) === 'best' ? dirname(resolve(d)) : resolve(d)));
  const base = named.map((d) => basename(d));
  // Different folders with the same name are told apart by their parent; the same folder twice by a number.
  const names = base.map((name, i) => (named.some((d, k) => base[k] === name && d !== named[i]) ? `${basename(dirname(named[i]))}/${name}` : name));
  return names.map((name, i) => {
    const before = names.slice(0, i).filter((x) => x === name).length;
    return { name: before ? `${name} (${before + 1})` : name, dir: resolved[i] };
  });
}

/** The first `limit` images of a split (all of them when limit is 0 or absent). */
export function limitSplit(split: LabelledSplit, limit?: number): LabelledSplit {
  if (limit === undefined || limit === 0) return split;
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a whole number >= 0, got ${limit}`);
  const n = Math.min(limit, split.labels.length);
  return {
    ...split,
    names: split.names.slice(0, n),
    pixels: split.pixels.subarray(0, n * FACE_PIXELS),
    targets: split.targets.subarray(0, n * NUM_CLASSES),
    labels: split.labels.subarray(0, n),
  };
}

/** The --limit flag: a whole number of images, 0 (or absent) meaning all. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--limit must be a whole number >= 0, got "${value}"`);
  return n;
}

export interface EvaluateOptions {
  dataDir: string;
  split: SplitName;
  occlusion: Occlusion;
  labelMode?: LabelMode;
  /** Score only the first N images of the split (for quick checks and tests); 0 = all. */
  limit?: number;
  log?: (message: string) => void;
}

export interface ModelEvaluations {
  split: LabelledSplit;
  reports: EvaluationReport[];
}

/** Loads the split once and scores every model on exactly the same images. */
export async function evaluateModels(models: NamedModel[], options: EvaluateOptions): Promise<ModelEvaluations> {
  if (models.length === 0) throw new Error('no models to evaluate');
  const labelMode = options.labelMode ?? 'majority';
  const split = limitSplit(loadSplit(options.dataDir, options.split, labelMode, { log: options.log }), options.limit);
  if (split.labels.length === 0) throw new Error(`${options.split} has no labelled images to evaluate on`);
  const reports: EvaluationReport[] = [];
  for (const m of models) {
    const started = Date.now();
    reports.push(await scoreModelDir(m.dir, split, options.occlusion, `model ${m.name} at ${m.dir}`));
    options.log?.(`${m.name}: ${percent(reports.at(-1)!.accuracy)} on ${split.labels.length} images (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  return { split, reports };
}

export interface ComparisonRow {
  name: string;
  model: string;
  accuracy: number;
  correct: number;
  n: number;
  /** Accuracy minus the baseline's, as a fraction (0 for the baseline itself). */
  delta: number;
  /** This model against the baseline: b = this right and baseline wrong, c = the reverse. Null for the baseline. */
  mcnemar: McNemarResult | null;
}

export interface Comparison {
  split: string;
  occlusion: string;
  labelMode: string;
  n: number;
  baseline: string;
  rows: ComparisonRow[];
}

/** Which model is the baseline: a name, the path given on the command line, or its folder. */
export function pickBaseline(models: NamedModel[], given: string[], baseline?: string): number {
  if (baseline === undefined) return 0;
  const i = models.findIndex((m, k) => m.name === baseline || given[k] === baseline || resolve(given[k]) === resolve(baseline) || resolve(m.dir) === resolve(baseline));
  if (i < 0) throw new Error(`baseline "${baseline}" is not one of the compared models (${models.map((m) => m.name).join(', ')})`);
  return i;
}

export function buildComparison(models: NamedModel[], reports: EvaluationReport[], labels: ArrayLike<number>, baselineIndex: number): Comparison {
  if (models.length !== reports.length) throw new Error(`${models.length} models but ${reports.length} reports`);
  if (baselineIndex < 0 || baselineIndex >= reports.length) throw new Error(`baseline index ${baselineIndex} out of range`);
  for (const [i, r] of reports.entries()) {
    if (r.predictions.length !== labels.length) {
      throw new Error(`${models[i].name} was scored on ${r.predictions.length} images, the others on ${labels.length}: a comparison needs the same images`);
    }
    if (r.split !== reports[0].split || r.occlusion !== reports[0].occlusion || r.labelMode !== reports[0].labelMode) {
      throw new Error(`${models[i].name} was scored on ${r.split}/${r.occlusion}/${r.labelMode}, ${models[0].name} on ${reports[0].split}/${reports[0].occlusion}/${reports[0].labelMode}`);
    }
  }
  const base = reports[baselineIndex];
  const rows = reports.map((r, i) => ({
    name: models[i].name,
    model: models[i].dir,
    accuracy: r.accuracy,
    correct: Math.round(r.accuracy * r.n),
    n: r.n,
    delta: r.accuracy - base.accuracy,
    mcnemar: i === baselineIndex ? null : mcnemar(r.predictions, base.predictions, labels),
  }));
  return { split: base.split, occlusion: base.occlusion, labelMode: base.labelMode, n: labels.length, baseline: models[baselineIndex].name, rows };
}

export const signedPoints = (d: number) => `${d >= 0 ? '+' : '\u2212'}${Math.abs(d * 100).toFixed(2)}`;

/** The paper-style table, in markdown. */
export function comparisonTable(c: Comparison): string {
  const head = [
    '| model | accuracy | Δ vs baseline (points) | b: only this model right | c: only baseline right | McNemar p | test |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  const rows = c.rows.map((r) => {
    if (!r.mcnemar) return `| **${r.name}** (baseline) | ${percent(r.accuracy)} | — | — | — | — | — |`;
    const m = r.mcnemar;
    const test = m.method === 'exact' ? 'exact binomial' : `χ² = ${m.statistic.toFixed(2)} (cc)`;
    return `| ${r.name} | ${percent(r.accuracy)} | ${signedPoints(r.delta)} | ${m.b} | ${m.c} | ${formatP(m.p)} | ${test} |`;
  });
  return [...head, ...rows].join('\n');
}

export function comparisonNote(c: Comparison): string {
  return [
    `${c.n} images of ${c.split}, ${c.occlusion} occlusion, ${c.labelMode} labels; every model scored on the same images.`,
    `McNemar's test against the baseline (${c.baseline}): b and c count the images only one of the two gets right.`,
    `Exact two-sided binomial p when b + c < ${EXACT_BELOW}, else chi-square with continuity correction (cc), 1 d.o.f.`,
  ].join(' ');
}

/** Per-class recall of every model, side by side, with the number of images of each class. */
export function perClassComparison(models: NamedModel[], reports: EvaluationReport[]): string {
  const head = `| class | images | ${models.map((m) => m.name).join(' | ')} |`;
  const rule = `|---|---:|${models.map(() => '---:').join('|')}|`;
  const rows = EXPRESSIONS.map((e, c) => {
    const images = reports[0].confusion[c].reduce((a, b) => a + b, 0);
    return `| ${e} | ${images} | ${reports.map((r) => percent(r.perClass[e], 1)).join(' | ')} |`;
  });
  const mean = reports.map((r) => percent(r.meanRecall, 1));
  return [head, rule, ...rows, `| *mean recall* | | ${mean.join(' | ')} |`].join('\n');
}

/** One seed's comparison and the reports behind it, model for model in the comparison's order. */
export interface Replicate {
  comparison: Comparison;
  reports: EvaluationReport[];
}

/** One stage over several seeds: the same row of every replicate's comparison, pooled. */
export interface PooledRow {
  /** The stage's name in the first replicate (the --models list). */
  name: string;
  /** Accuracy of each replicate's model, and its difference to that replicate's own baseline. */
  accuracies: number[];
  deltas: number[];
  meanAccuracy: number;
  meanDelta: number;
  /** The seed-paired sign-flip test over the images, with its bootstrap interval (tools/eval/seed-test.ts). */
  test: SeedPairedResult;
}

/**
 * Seed-paired comparisons pooled into one test per stage. Each replicate lists the same stages in
 * the same order, each trained on that replicate's seed, and every model is tested against the
 * baseline of its own seed: a single run's McNemar test sees only image-to-image noise, while two
 * baselines on different seeds can differ by a point. The seeds share the images, so their
 * discordant pairs are not independent: the test takes the image as its unit (seedPairedTest).
 */
export function poolReplicates(replicates: Replicate[], labels: ArrayLike<number>, options: SeedTestOptions = {}): PooledRow[] {
  if (replicates.length < 2) throw new Error(`pooling needs at least 2 replicates, got ${replicates.length}`);
  const first = replicates[0].comparison;
  const baselineIndex = first.rows.findIndex((r) => r.mcnemar === null);
  for (const [k, { comparison: c, reports }] of replicates.entries()) {
    if (c.rows.length !== first.rows.length) throw new Error(`replicate ${k + 1} has ${c.rows.length} models, the first ${first.rows.length}: list the same stages in each`);
    if (c.rows.findIndex((r) => r.mcnemar === null) !== baselineIndex) throw new Error(`replicate ${k + 1} has its baseline in another position than the first`);
    if (c.split !== first.split || c.occlusion !== first.occlusion || c.labelMode !== first.labelMode || c.n !== first.n) {
      throw new Error(`replicate ${k + 1} was scored on ${c.n} images of ${c.split}/${c.occlusion}/${c.labelMode}, the first on ${first.n} of ${first.split}/${first.occlusion}/${first.labelMode}`);
    }
    if (reports.length !== c.rows.length) throw new Error(`replicate ${k + 1} has ${c.rows.length} models but ${reports.length} reports`);
    if (c.n !== labels.length) throw new Error(`replicate ${k + 1} was scored on ${c.n} images, but ${labels.length} labels were given`);
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return first.rows.flatMap((row, i) => {
    if (i === baselineIndex) return [];
    const accuracies = replicates.map((r) => r.comparison.rows[i].accuracy);
    const deltas = replicates.map((r) => r.comparison.rows[i].delta);
    const seeds = replicates.map((r) => ({ stage: r.reports[i].predictions, baseline: r.reports[baselineIndex].predictions }));
    return [{ name: row.name, accuracies, deltas, meanAccuracy: mean(accuracies), meanDelta: mean(deltas), test: seedPairedTest(seeds, labels, options) }];
  });
}

/** Every replicate's comparison (the --models one first) and each stage pooled across them. */
export interface Pooled {
  comparisons: Comparison[];
  rows: PooledRow[];
}

const interval = ([lo, hi]: [number, number]) => `${signedPoints(lo)} to ${signedPoints(hi)}`;

/** The pooled table, in markdown: one row per stage, each replicate's difference beside the pooled test. */
export function pooledTable(replicates: Comparison[], rows: PooledRow[]): string {
  const baselines = replicates.map((c) => c.baseline).join(', ');
  const baselineMean = replicates.reduce((a, c) => a + c.rows.find((r) => r.mcnemar === null)!.accuracy, 0) / replicates.length;
  return [
    `Pooled over ${replicates.length} replicates, each stage against the baseline of its own replicate (${baselines}):`,
    '',
    '| stage | mean accuracy | Δ per replicate (points) | mean Δ | 95% CI (points) | images that differ | p (sign-flip over images) |',
    '|---|---:|---|---:|---:|---:|---:|',
    `| **${replicates[0].baseline}** (baseline) | ${percent(baselineMean)} | — | — | — | — | — |`,
    ...rows.map((r) => `| ${r.name} | ${percent(r.meanAccuracy)} | ${r.deltas.map(signedPoints).join(', ')} | ${signedPoints(r.test.meanDifference)} | ${interval(r.test.ci)} | ${r.test.informativeImages} | ${formatP(r.test.p)} |`),
  ].join('\n');
}

/** What the pooled table's test is, in words, for the reader of `npm run compare`. */
export function pooledNote(rows: PooledRow[]): string {
  const t = rows[0]?.test;
  const bootstrap = t ? `${t.resamples} resamples, seed ${t.bootstrapSeed}` : 'seeded';
  return [
    'Seed-paired test: each image scores the number of seeds in which only the stage is right minus those in which only its own-seed baseline is;',
    'mean Δ is that score averaged over images and seeds, "images that differ" counts images whose score is not 0.',
    'p is the exact two-sided sign-flip (paired permutation) test over images: an image\'s seeds flip together, so a face that is hard for every seed counts once,',
    'not once per seed (summing McNemar counts over seeds would treat them as independent and make p too small).',
    `95% CI: percentile bootstrap over images (${bootstrap}).`,
    'The images are the sample and these seeds are taken as given: Δ per replicate shows how far another seed may land.',
  ].join(' ');
}
