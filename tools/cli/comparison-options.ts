/**
 * The options and the scoring step that `compare` and `report` share: both score several models
 * on the same images and test each against a baseline, so they must read their flags the same way.
 */
import type { Command } from 'commander';
import { parseLabelMode } from '../../src/core/labels.js';
import { parseOcclusion } from '../../src/core/occlusion.js';
import { selectBackend } from '../backend/select.js';
import { parseSplit, resolveDataDir } from '../data/ferplus.js';
import { buildComparison, evaluateModels, nameModels, parseLimit, pickBaseline } from '../report/compare.js';
import { resolveModelDir } from './model-path.js';
import { addBackendOptions, addScoringOptions } from './options.js';

export function addComparisonOptions(program: Command): Command {
  program
    .requiredOption('--models <dirs...>', 'model folders (model.json) or run folders (their best model)')
    .option('--baseline <model>', 'the model the others are tested against (name or path; default: the first)');
  addScoringOptions(program).option('--limit <n>', 'score only the first N images of the split (quick checks); 0 = all');
  return addBackendOptions(program, { threads: true });
}

/** Checks every flag first (a typo fails at once), then returns a function that does the slow scoring. */
export function readComparisonOptions(o: Record<string, unknown>) {
  const split = parseSplit(String(o.split));
  const labelMode = parseLabelMode(String(o.labelMode));
  const occlusion = parseOcclusion(String(o.occlusion));
  const limit = parseLimit(o.limit as string | undefined);
  const given = o.models as string[];
  const models = nameModels(given.map(resolveModelDir));
  const baselineIndex = pickBaseline(models, given, o.baseline as string | undefined);
  const score = async () => {
    const backend = await selectBackend(String(o.backend), Number(o.threads) || 0);
    console.log(`backend ${backend.name}: ${backend.detail}`);
    const { split: data, reports } = await evaluateModels(models, {
      dataDir: resolveDataDir(o.data as string | undefined), split, occlusion, labelMode, limit, log: (m) => console.log(m),
    });
    const comparison = buildComparison(models, reports, data.labels, baselineIndex);
    return { backend, split: data, reports, comparison };
  };
  return { models, limit, score };
}
