/**
 * npm run export -- --run runs/baseline --out models/student-baseline [--quantize float16] [--flip-average]
 * Writes the single-output browser graph (face in, probabilities out) of a run's best model.
 * --quantize float16 stores the weights in half the bytes, for the model a headset downloads.
 * --flip-average puts the mirror-image average in the graph (twice the compute, steadier answers).
 * --balance TAU divides out the training class prior to the power TAU (rarer expressions answered more often).
 */
import { Command } from 'commander';
import { selectBackend } from '../backend/select.js';
import { resolveDataDir } from '../data/ferplus.js';
import { classBalanceFor, parseTau } from '../model/class-balance.js';
import { exportModel, parseQuantize, QUANTIZE_CHOICES } from '../model/export.js';
import { resolveModelDir } from './model-path.js';
import { addBalanceOption, addDataOption } from './options.js';
import { runCli } from './run-cli.js';

const program = new Command()
  .name('export')
  .requiredOption('--run <dir>', 'run folder (its best model) or model folder')
  .requiredOption('--out <dir>', 'destination, e.g. models/student-baseline')
  .option('--checkpoint', "export the run's latest checkpoint instead of its best model")
  .option('--quantize <dtype>', `how the weights are stored: ${QUANTIZE_CHOICES.join(' | ')} (float16: half the bytes)`, 'none')
  .option('--flip-average', 'average the outputs on the face and its mirror image, inside the exported graph');
addDataOption(addBalanceOption(program, 'the exported graph'));

runCli(async () => {
  program.parse();
  const o = program.opts();
  const quantize = parseQuantize(o.quantize);
  const balance = classBalanceFor(parseTau(o.balance), resolveDataDir(o.data));
  await selectBackend('auto');
  const source = o.checkpoint ? `${o.run}/checkpoint` : resolveModelDir(o.run);
  const info = await exportModel(source, o.out, { quantize, flipAverage: Boolean(o.flipAverage), balance });
  console.log(`exported ${source} -> ${o.out}: ${(info.bytes / 1e6).toFixed(2)} MB${quantize === 'none' ? '' : ` (${quantize} weights)`}${o.flipAverage ? ', flip-averaged' : ''}${balance ? `, class balance tau ${balance.tau}` : ''}, ${(info.flops / 1e6).toFixed(1)} MFLOPs, sha256 ${info.sha256}`);
});
