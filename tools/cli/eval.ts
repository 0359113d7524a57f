/**
 * npm run eval -- --model DIR --split FER2013Valid --occlusion lower --json OUT [--svg OUT]
 * Accuracy, per-class recall and the confusion matrix of a model on one FER+ split.
 * --task mouth: the model's "mouth" output against the landmark teacher's targets (tools/eval/mouth.ts),
 * JSON {n, mouth: {meanPearson, perBlendshape: {jawOpen: {pearson, mae}, ...}}}.
 */
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseLabelMode } from '../../src/core/labels.js';
import { parseOcclusion } from '../../src/core/occlusion.js';
import { selectBackend } from '../backend/select.js';
import { parseSplit, resolveDataDir } from '../data/ferplus.js';
import { evaluateModelDir } from '../eval/evaluate-model.js';
import { confusionText, percent, perClassTable } from '../eval/format.js';
import { parseTeacher } from '../mouth/teachers.js';
import { resolveModelDir } from './model-path.js';
import { addBackendOptions, addScoringOptions } from './options.js';
import { runCli } from './run-cli.js';

const program = addBackendOptions(addScoringOptions(new Command()
  .name('eval')
  .requiredOption('--model <dir>', 'model folder (model.json) or run folder (uses its best model)'))
  .option('--json <file>', 'write {accuracy, meanRecall, n, split, occlusion, perClass, confusion} here')
  .option('--svg <file>', 'write a picture of the confusion matrix here (SVG)')
  .option('--task <task>', 'expression | mouth', 'expression')
  .option('--teacher <name>', 'mouth task: the landmark teacher whose targets score it (facemesh | landmark68)', 'facemesh'), { threads: false });

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
  const report = await evaluateModelDir(modelDir, resolveDataDir(o.data), split, occlusion, labelMode);
  console.log(`model ${modelDir} on ${report.split} (${report.n} images, ${occlusion} occlusion, ${report.labelMode} labels, backend ${backend.name})`);
  console.log(`accuracy: ${percent(report.accuracy)}, mean per-class recall: ${percent(report.meanRecall)}`);
  console.log(perClassTable(report));
  console.log(confusionText(report));
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, JSON.stringify(report, null, 2));
    console.log(`wrote ${o.json}`);
  }
  if (o.svg) {
    const { writeConfusionSvg } = await import('../report/charts.js');
    writeConfusionSvg(report, o.svg, `${report.split}, ${occlusion} occlusion: ${percent(report.accuracy)}`);
    console.log(`wrote ${o.svg}`);
  }
});
