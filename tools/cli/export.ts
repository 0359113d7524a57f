/**
 * npm run export -- --run runs/baseline --out models/student-baseline
 * Writes the single-output browser graph (face in, probabilities out) of a run's best model.
 */
import { Command } from 'commander';
import { selectBackend } from '../backend/select.js';
import { exportModel } from '../model/export.js';
import { resolveModelDir } from './model-path.js';
import { runCli } from './run-cli.js';

const program = new Command()
  .name('export')
  .requiredOption('--run <dir>', 'run folder (its best model) or model folder')
  .requiredOption('--out <dir>', 'destination, e.g. models/student-baseline')
  .option('--checkpoint', "export the run's latest checkpoint instead of its best model");

runCli(async () => {
  program.parse();
  const o = program.opts();
  await selectBackend('auto');
  const source = o.checkpoint ? `${o.run}/checkpoint` : resolveModelDir(o.run);
  const info = await exportModel(source, o.out);
  console.log(`exported ${source} -> ${o.out}: ${(info.bytes / 1e6).toFixed(2)} MB, ${(info.flops / 1e6).toFixed(1)} MFLOPs, sha256 ${info.sha256}`);
});
