/**
 * npm run report -- --models A B ... [--replicate A2,B2,... ...] --runs runs/teacher runs/baseline ... --out reports/REPORT.md
 * Scores the models (and their replicates on other seeds) on the same images and writes the
 * markdown report with its pictures.
 */
import { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { README_SECTION, readRun, replaceMarkedSection, summaryTable, writeReport } from '../report/report.js';
import { addComparisonOptions, parseReplicate, readComparisonOptions, REPLICATE_HELP } from './comparison-options.js';
import { runCli } from './run-cli.js';

const program = addComparisonOptions(new Command().name('report'))
  .option('--runs <dirs...>', 'run folders whose metrics.jsonl give the training curves', [])
  .option('--out <file>', 'the markdown file; pictures go in a folder beside it', 'reports/REPORT.md')
  .option('--replicate <dirs>', REPLICATE_HELP, parseReplicate)
  .option('--readme <file>', `also rewrite the summary table between <!-- ${README_SECTION}:start/end --> in this file (e.g. README.md)`);

runCli(async () => {
  program.parse();
  const o = program.opts();
  if (!/\.md$/i.test(o.out)) throw new Error(`--out must name a markdown file (.md), got "${o.out}"`);
  const { models, limit, score } = readComparisonOptions(o, (o.replicate as string[][] | undefined) ?? []);
  // Runs are read before the slow evaluation so a mistyped folder fails at once.
  const runs = (o.runs as string[]).map(readRun);
  const readme = o.readme as string | undefined;
  const readmeWith = (table: string) => {
    if (!existsSync(readme!)) throw new Error(`--readme file not found: ${readme}`);
    try {
      return replaceMarkedSection(readFileSync(readme!, 'utf8'), README_SECTION, table);
    } catch (e) {
      throw new Error(`${readme}: ${(e as Error).message}`);
    }
  };
  // Checked now, with a stand-in table, so a README without the markers fails before the slow scoring.
  if (readme !== undefined) readmeWith('');
  const { backend, reports, comparison, pooled } = await score();
  const written = writeReport({
    out: o.out, comparison, models, reports, runs, backend: backend.name, limit, generated: new Date(), pooled,
    command: `npm run report -- ${process.argv.slice(2).join(' ')}`,
  });
  if (readme !== undefined) {
    writeFileSync(readme, readmeWith(summaryTable(comparison, models, reports, pooled)));
    written.push(readme);
  }
  for (const f of written) console.log(`wrote ${f}`);
});
