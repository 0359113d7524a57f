/**
 * npm run compare -- --models A B C --split FER2013Valid --occlusion lower [--baseline A] [--json OUT]
 * Scores every model on the same images and prints the paper-style table: accuracy, difference to
 * the baseline, and McNemar's test against the baseline.
 */
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { comparisonNote, comparisonTable, perClassComparison } from '../report/compare.js';
import { addComparisonOptions, readComparisonOptions } from './comparison-options.js';
import { runCli } from './run-cli.js';

const program = addComparisonOptions(new Command().name('compare'))
  .option('--json <file>', 'write the table, every model\'s metrics and predictions, and the labels here');

runCli(async () => {
  program.parse();
  const o = program.opts();
  const { models, limit, score } = readComparisonOptions(o);
  const { backend, split, reports, comparison } = await score();
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
