/**
 * The options and the scoring step that `compare` and `report` share: both score several models
 * on the same images and test each against a baseline, so they must read their flags the same way.
 */
import type { Command } from 'commander';
import { parseLabelMode } from '../../src/core/labels.js';
import { parseOcclusion } from '../../src/core/occlusion.js';
import { selectBackend } from '../backend/select.js';
import { parseSplit, resolveDataDir } from '../data/ferplus.js';
import { buildComparison, evaluateModels, nameModels, parseLimit, pickBaseline, poolReplicates, type Pooled } from '../report/compare.js';
import { resolveModelDir } from './model-path.js';
import { addBackendOptions, addScoringOptions } from './options.js';

export function addComparisonOptions(program: Command): Command {
  program
    .requiredOption('--models <dirs...>', 'model folders (model.json) or run folders (their best model)')
    .option('--baseline <model>', 'the model the others are tested against (name or path; default: the first)');
  addScoringOptions(program).option('--limit <n>', 'score only the first N images of the split (quick checks); 0 = all');
  return addBackendOptions(program, { threads: true });
}

export const REPLICATE_HELP = 'the same stages as --models, comma-separated, trained on another seed (repeatable): each stage is then tested across the seeds';

/** `--replicate a,b,c`: the same stages as --models, in the same order, trained on another seed. */
export function parseReplicate(value: string, previous: string[][] = []): string[][] {
  const dirs = value.split(',').map((d) => d.trim()).filter((d) => d !== '');
  if (dirs.length === 0) throw new Error('--replicate needs comma-separated model folders, e.g. --replicate runs/baseline-s2,runs/kd-s2');
  return [...previous, dirs];
}

/**
 * Checks every flag first (a typo fails at once), then returns a function that does the slow scoring.
 * Replicates (compare's --replicate) are scored in the same pass, on the same images, and each is
 * compared against its own model in the baseline's position.
 */
export function readComparisonOptions(o: Record<string, unknown>, replicates: string[][] = []) {
  const split = parseSplit(String(o.split));
  const labelMode = parseLabelMode(String(o.labelMode));
  const occlusion = parseOcclusion(String(o.occlusion));
  const limit = parseLimit(o.limit as string | undefined);
  const given = o.models as string[];
  for (const [k, r] of replicates.entries()) {
    if (r.length !== given.length) throw new Error(`--replicate ${k + 1} lists ${r.length} models, --models ${given.length}: give the same stages in the same order`);
  }
  // Named together so that a folder name shared across replicates (runs/a/kd, runs/b/kd) stays unambiguous.
  const everyModel = nameModels([...given, ...replicates.flat()].map(resolveModelDir));
  const models = everyModel.slice(0, given.length);
  const baselineIndex = pickBaseline(models, given, o.baseline as string | undefined);
  const score = async () => {
    const backend = await selectBackend(String(o.backend), Number(o.threads) || 0);
    console.log(`backend ${backend.name}: ${backend.detail}`);
    const { split: data, reports: everyReport } = await evaluateModels(everyModel, {
      dataDir: resolveDataDir(o.data as string | undefined), split, occlusion, labelMode, limit, log: (m) => console.log(m),
    });
    const group = (k: number) => [k * given.length, (k + 1) * given.length] as const;
    const compareGroup = (k: number) => buildComparison(everyModel.slice(...group(k)), everyReport.slice(...group(k)), data.labels, baselineIndex);
    const reports = everyReport.slice(...group(0));
    const comparison = compareGroup(0);
    const replicateComparisons = replicates.map((_, k) => compareGroup(k + 1));
    const replicateReports = replicates.map((_, k) => everyReport.slice(...group(k + 1)));
    const comparisons = [comparison, ...replicateComparisons];
    const pooled: Pooled | null = comparisons.length > 1
      ? { comparisons, rows: poolReplicates(comparisons.map((c, k) => ({ comparison: c, reports: k === 0 ? reports : replicateReports[k - 1] })), data.labels) }
      : null;
    return { backend, split: data, reports, comparison, replicateComparisons, replicateReports, pooled };
  };
  return { models, limit, score };
}
