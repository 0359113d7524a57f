/**
 * npm run train -- --stage teacher --data DIR --out runs/teacher
 * Trains one stage; --resume continues a killed run from its last checkpoint
 * (npm run train -- --resume --out runs/teacher: the stage and settings come from the run).
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { parseChoice } from '../../src/core/parse-choice.js';
import { selectBackend } from '../backend/select.js';
import { resolveDataDir } from '../data/ferplus.js';
import { defaultConfig, resumedConfig, STAGES, withDefaultSources, type Stage, type TrainConfig } from '../train/config.js';
import { configForNewRun, parseFlagValue, TRAIN_FLAGS, trainFlag } from '../train/flags.js';
import { readConfig, readState } from '../train/run-dir.js';
import { objectiveFor } from '../train/stages.js';
import { removeRun, train } from '../train/trainer.js';
import { addBackendOptions, addDataOption, addTrainFlags } from './options.js';
import { runCli } from './run-cli.js';

const program = addBackendOptions(addDataOption(new Command()
  .name('train')
  .description('Train one stage of the halfface pipeline on FER+.')
  .option('--stage <stage>', `one of ${STAGES.join(', ')} (a resumed run knows its own)`))
  .option('--out <dir>', 'run folder (default: runs/<stage>)'), { threads: true })
  .option('--resume', 'continue the run in --out from its checkpoint: its saved config wins, except --epochs, --backend and --threads')
  .option('--fresh', 'delete --out and start again')
  .option('--no-progress', 'no live progress bar, plain progress lines instead (the default when output goes to a file)');
addTrainFlags(program, TRAIN_FLAGS);

runCli(async () => {
  program.parse();
  const o = program.opts();
  if (!o.stage && !(o.resume && o.out)) throw new Error(`--stage is required (one of ${STAGES.join(', ')}), unless you --resume an --out run`);
  const stage: Stage | undefined = o.stage ? parseChoice('stage', STAGES, o.stage) : undefined;
  const runDir: string = o.out ?? `runs/${stage}`;
  if (o.fresh) removeRun(runDir);
  let config: TrainConfig;
  if (existsSync(`${runDir}/config.json`) && readState(runDir)) {
    if (!o.resume) throw new Error(`${runDir} already holds a run: pass --resume to continue it, or --fresh to start again`);
    const backendGiven = program.getOptionValueSource('backend') === 'cli';
    // A resume may train longer: --epochs is the one settings flag it reads.
    const epochs = o.epochs === undefined ? undefined : parseFlagValue(trainFlag('--epochs'), o.epochs) as number;
    config = resumedConfig(readConfig(runDir), { stage, epochs, backend: backendGiven ? o.backend : undefined, threads: o.threads });
  } else {
    if (!stage) throw new Error(`${runDir} holds no run to resume: name its --stage to start one`);
    config = configForNewRun(withDefaultSources(defaultConfig(stage, resolveDataDir(o.data))), o);
    if (o.threads !== undefined) config.threads = o.threads;
    config.backend = o.backend;
  }
  const backend = await selectBackend(config.backend, config.threads);
  console.log(`backend: ${backend.name} — ${backend.detail}`);
  console.log(`run: ${runDir} (stage ${config.stage}, ${config.architecture}, sees ${config.occlusion} occlusion, ${config.epochs} epochs)`);
  // Commander makes --no-progress default to true; only the flag itself should decide, else the
  // bar would draw into a nohup log, where it renders nothing at all.
  await train(config, runDir, objectiveFor(config.stage), { progress: o.progress ? undefined : false });
});
