/**
 * npm run report -- --models A B ... --runs runs/teacher runs/baseline ... --out reports/REPORT.md
 * Scores the models on the same images and writes the markdown report with its pictures.
 */
import { Command } from 'commander';
import { readRun, writeReport } from '../report/report.js';
import { addComparisonOptions, readComparisonOptions } from './comparison-options.js';
import { runCli } from './run-cli.js';

const program = addComparisonOptions(new Command().name('report'))
  .option('--runs <dirs...>', 'run folders whose metrics.jsonl give the training curves', [])
  .option('--out <file>', 'the markdown file; pictures go in a folder beside it', 'reports/REPORT.md');

runCli(async () => {
  program.parse();
  const o = program.opts();
  if (!/\.md$/i.test(o.out)) throw new Error(`--out must name a markdown file (.md), got "${o.out}"`);
  const { models, limit, score } = readComparisonOptions(o);
  // Runs are read before the slow evaluation so a mistyped folder fails at once.
  const runs = (o.runs as string[]).map(readRun);
  const { backend, reports, comparison } = await score();
  const written = writeReport({
    out: o.out, comparison, models, reports, runs, backend: backend.name, limit, generated: new Date(),
    command: `npm run report -- ${process.argv.slice(2).join(' ')}`,
  });
  for (const f of written) console.log(`wrote ${f}`);
});
