/**
 * npm run compare -- --models A B C --split FER2013Valid --occlusion lower [--baseline A] [--json OUT]
 * Scores every model on the same images and prints the paper-style table: accuracy, difference to
 * the baseline, and McNemar's test against the baseline.
 */
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LABEL_MODES, parseLabelMode } from '../../src/core/labels.js';
import { parseOcclusion } from '../../src/core/occlusion.js';
import { selectBackend } from '../backend/select.js';
import { parseSplit, resolveDataDir, SPLITS } from '../data/ferplus.js';
import { buildComparison, comparisonNote, comparisonTable, evaluateModels, nameModels, parseLimit, perClassComparison, pickBaseline } from '../report/compare.js';
import { resolveModelDir } from './model-path.js';
import { runCli } from './run-cli.js';

const program = new Command()
  .name('compare')
  .requiredOption('--models <dirs...>', 'model folders (model.json) or run folders (their best model)')
  .option('--baseline <model>', 'the model the others are tested against (name or path; default: the first)')
  .option('--data <dir>', 'FER+ folder (default: $HALFFACE_DATA or ../shared/datasets/ferplus)')
  .option('--split <name>', SPLITS.join(' | '), 'FER2013Valid')
  .option('--occlusion <mode>', 'none | lower | upper', 'lower')
  .option('--label-mode <mode>', LABEL_MODES.join(' | '), 'majority')
  .option('--limit <n>', 'score only the first N images of the split (quick checks); 0 = all')
  .option('--json <file>', 'write the table, every model\'s metrics and predictions, and the labels here')
  .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'auto')
  .option('--threads <n>', 'wasm threads (0 = one per core)', '0');

runCli(async () => {
  program.parse();
  const o = program.opts();
  const splitName = parseSplit(o.split);
  const labelMode = parseLabelMode(o.labelMode);
  const occlusion = parseOcclusion(o.occlusion);
  const limit = parseLimit(o.limit);
  const given = o.models as string[];
  const models = nameModels(given.map(resolveModelDir));
  const baselineIndex = pickBaseline(models, given, o.baseline);
  const backend = await selectBackend(o.backend, Number(o.threads) || 0);
  console.log(`backend ${backend.name}: ${backend.detail}`);
  const { split, reports } = await evaluateModels(models, {
    dataDir: resolveDataDir(o.data), split: splitName, occlusion, labelMode, limit, log: (m) => console.log(m),
  });
  const comparison = buildComparison(models, reports, split.labels, baselineIndex);
  console.log('');
  console.log(comparisonTable(comparison));
  console.log('');
  console.log(comparisonNote(comparison));
  console.log('');
  console.log(perClassComparison(models, reports));
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    const out = { comparison, backend: backend.name, limit, labels: Array.from(split.labels), names: split.names, models: models.map((m, i) => ({ ...m, ...reports[i] })) };
    writeFileSync(o.json, JSON.stringify(out, null, 2));
    console.log(`wrote ${o.json}`);
  }
});
