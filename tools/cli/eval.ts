/**
 * npm run eval -- --model DIR --split FER2013Valid --occlusion lower --json OUT [--svg OUT]
 * Accuracy, per-class recall and the confusion matrix of a model on one FER+ split.
 * --task mouth: the model's "mouth" output against the landmark teacher's targets (tools/eval/mouth.ts),
 * JSON {n, mouth: {meanPearson, perBlendshape: {jawOpen: {pearson, mae}, ...}}}.
 * --balance TAU scores the model with its class prior shifted (tools/model/class-balance.ts) as
 * `npm run export -- --balance TAU` would ship it; --balance 0,0.25,0.5 prints the trade-off, one
 * row per tau (JSON: an array of reports).
 */
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseLabelMode } from '../../src/core/labels.js';
import { parseOcclusion } from '../../src/core/occlusion.js';
import { selectBackend } from '../backend/select.js';
import { loadSplit, parseSplit, resolveDataDir } from '../data/ferplus.js';
import { balanceSweep, evaluateModelDir } from '../eval/evaluate-model.js';
import { balanceTable, confusionText, percent, perClassTable } from '../eval/format.js';
import { readExportInfo } from '../model/export.js';
import { classBalanceFor, parseTau, trainingPrior } from '../model/class-balance.js';
import { parseTeacher } from '../mouth/teachers.js';
import { resolveModelDir } from './model-path.js';
import { addBackendOptions, addBalanceOption, addScoringOptions } from './options.js';
import { runCli } from './run-cli.js';

const program = addBalanceOption(addBackendOptions(addScoringOptions(new Command()
  .name('eval')
  .requiredOption('--model <dir>', 'model folder (model.json) or run folder (uses its best model)'))
  .option('--json <file>', 'write {accuracy, meanRecall, n, split, occlusion, perClass, confusion} here')
  .option('--svg <file>', 'write a picture of the confusion matrix here (SVG)')
  .option('--task <task>', 'expression | mouth', 'expression')
  .option('--teacher <name>', 'mouth task: the landmark teacher whose targets score it (facemesh | landmark68)', 'facemesh'), { threads: false }), 'expression task, a tau or a comma-separated list of them');

runCli(async () => {
  program.parse();
  const o = program.opts();
  const split = parseSplit(o.split);
  const labelMode = parseLabelMode(o.labelMode);
  const occlusion = parseOcclusion(o.occlusion);
  const modelDir = resolveModelDir(o.model);
  const backend = await selectBackend(o.backend);
  if (o.task === 'mouth') {
    const { runMouthEval } = await import('../eval/mouth.js');
    return runMouthEval(modelDir, resolveDataDir(o.data), split, occlusion, { labelMode, teacher: parseTeacher(o.teacher), json: o.json, backend: backend.name });
  }
  if (o.task !== 'expression') throw new Error(`unknown task "${o.task}": expected expression or mouth`);
  const taus = String(o.balance).split(',').map(parseTau);
  const dataDir = resolveDataDir(o.data);
  const already = readExportInfo(modelDir)?.balance;
  if (already && taus.some((t) => t !== 0)) console.log(`note: ${modelDir} was exported with class balance tau ${already.tau}; --balance shifts it further`);
  if (taus.length > 1) {
    const rows = await balanceSweep(modelDir, loadSplit(dataDir, split, labelMode), occlusion, trainingPrior(dataDir), taus);
    console.log(`model ${modelDir} on ${split} (${rows[0].n} images, ${occlusion} occlusion, ${labelMode} labels, backend ${backend.name}), class balance against the FER2013Train prior:`);
    console.log(balanceTable(rows));
    if (o.json) writeJson(o.json, rows.map((r) => ({ ...r, split, occlusion, labelMode, model: modelDir })));
    return;
  }
  const balance = classBalanceFor(taus[0], dataDir);
  const report = await evaluateModelDir(modelDir, dataDir, split, occlusion, labelMode, balance);
  console.log(`model ${modelDir} on ${report.split} (${report.n} images, ${occlusion} occlusion, ${report.labelMode} labels, backend ${backend.name})`);
  console.log(`accuracy: ${percent(report.accuracy)}, mean per-class recall: ${percent(report.meanRecall)}${balance ? ` (class balance tau ${balance.tau})` : ''}`);
  console.log(perClassTable(report));
  console.log(confusionText(report));
  if (o.json) writeJson(o.json, balance ? { ...report, balance } : report);
  if (o.svg) {
    const { writeConfusionSvg } = await import('../report/charts.js');
    writeConfusionSvg(report, o.svg, `${report.split}, ${occlusion} occlusion: ${percent(report.accuracy)}`);
    console.log(`wrote ${o.svg}`);
  }
});

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, 2));
  console.log(`wrote ${file}`);
}
