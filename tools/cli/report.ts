/**
 * npm run report -- --models A B ... --runs runs/teacher runs/baseline ... --out reports/REPORT.md
 * Scores the models on the same images and writes the markdown report with its pictures.
 */
import { Command } from 'commander';
import { LABEL_MODES, parseLabelMode } from '../../src/core/labels.js';
import { parseOcclusion } from '../../src/core/occlusion.js';
import { selectBackend } from '../backend/select.js';
import { parseSplit, resolveDataDir, SPLITS } from '../data/ferplus.js';
import { buildComparison, evaluateModels, nameModels, parseLimit, pickBaseline } from '../report/compare.js';
import { readRun, writeReport } from '../report/report.js';
import { resolveModelDir } from './model-path.js';
import { runCli } from './run-cli.js';

const program = new Command()
  .name('report')
  .requiredOption('--models <dirs...>', 'model folders (model.json) or run folders (their best model)')
  .option('--runs <dirs...>', 'run folders whose metrics.jsonl give the training curves', [])
  .option('--out <file>', 'the markdown file; pictures go in a folder beside it', 'reports/REPORT.md')
  .option('--baseline <model>', 'the model the others are tested against (name or path; default: the first)')
  .option('--data <dir>', 'FER+ folder (default: $HALFFACE_DATA or ../shared/datasets/ferplus)')
  .option('--split <name>', SPLITS.join(' | '), 'FER2013Valid')
  .option('--occlusion <mode>', 'none | lower | upper', 'lower')
  .option('--label-mode <mode>', LABEL_MODES.join(' | '), 'majority')
  .option('--limit <n>', 'score only the first N images of the split (quick checks); 0 = all')
  .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu', 'auto')
  .option('--threads <n>', 'wasm threads (0 = one per core)', '0');

runCli(async () => {
  program.parse();
  const o = program.opts();
  const splitName = parseSplit(o.split);
  const labelMode = parseLabelMode(o.labelMode);
  if (!/\.md$/i.test(o.out)) throw new Error(`--out must name a markdown file (.md), got "${o.out}"`);
  const occlusion = parseOcclusion(o.occlusion);
  const limit = parseLimit(o.limit);
  const given = o.models as string[];
  const models = nameModels(given.map(resolveModelDir));
  const baselineIndex = pickBaseline(models, given, o.baseline);
  // Runs are read before the slow evaluation so a mistyped folder fails at once.
  const runs = (o.runs as string[]).map(readRun);
  const backend = await selectBackend(o.backend, Number(o.threads) || 0);
  console.log(`backend ${backend.name}: ${backend.detail}`);
  const { split, reports } = await evaluateModels(models, {
    dataDir: resolveDataDir(o.data), split: splitName, occlusion, labelMode, limit, log: (m) => console.log(m),
  });
  const comparison = buildComparison(models, reports, split.labels, baselineIndex);
  const written = writeReport({
    out: o.out, comparison, models, reports, runs, backend: backend.name, limit, generated: new Date(),
    command: `npm run report -- ${process.argv.slice(2).join(' ')}`,
  });
  for (const f of written) console.log(`wrote ${f}`);
});
