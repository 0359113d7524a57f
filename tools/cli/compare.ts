/**
 * npm run compare -- --models A B C --split FER2013Valid --occlusion lower [--baseline A] [--json OUT]
 *                    [--replicate A2,B2,C2 ...]
 * Scores every model on the same images and prints the paper-style table: accuracy, difference to
 * the baseline, and McNemar's test against the baseline. Each --replicate is the same stages on
 * another seed: it gets its own table, and a pooled table tests each stage across the seeds with
 * the seed-paired sign-flip test over images (tools/eval/seed-test.ts).
 */
import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { comparisonNote, comparisonTable, perClassComparison, pooledNote, pooledTable } from '../report/compare.js';
import { addComparisonOptions, parseReplicate, readComparisonOptions, REPLICATE_HELP } from './comparison-options.js';
import { runCli } from './run-cli.js';

const program = addComparisonOptions(new Command().name('compare'))
  .option('--replicate <dirs>', REPLICATE_HELP, parseReplicate)
  .option('--json <file>', 'write the table, every model\'s metrics and predictions, and the labels here');

runCli(async () => {
  program.parse();
  const o = program.opts();
  const { models, limit, score } = readComparisonOptions(o, (o.replicate as string[][] | undefined) ?? []);
  const { backend, split, reports, comparison, replicateComparisons, pooled } = await score();
  console.log('');
  console.log(comparisonTable(comparison));
  for (const [k, c] of replicateComparisons.entries()) {
    console.log('');
    console.log(`--replicate ${k + 1}, against ${c.baseline}:`);
    console.log('');
    console.log(comparisonTable(c));
  }
  if (pooled) {
    console.log('');
    console.log(pooledTable(pooled.comparisons, pooled.rows));
    console.log('');
    console.log(pooledNote(pooled.rows));
  }
  console.log('');
  console.log(comparisonNote(comparison));
  console.log('');
  console.log(perClassComparison(models, reports));
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    const out = {
      comparison, replicates: replicateComparisons, pooled: pooled?.rows ?? null, backend: backend.name, limit, labels: Array.from(split.labels), names: split.names,
      models: models.map((m, i) => ({ ...m, ...reports[i] })),
    };
    writeFileSync(o.json, JSON.stringify(out, null, 2));
    console.log(`wrote ${o.json}`);
  }
});
