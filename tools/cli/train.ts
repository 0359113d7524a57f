/**
 * npm run train -- --stage teacher --data DIR --out runs/teacher
 * Trains one stage; --resume continues a killed run from its last checkpoint
 * (npm run train -- --resume --out runs/teacher: the stage and settings come from the run).
 */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { LABEL_MODES, parseLabelMode } from '../../src/core/labels.js';
import { parseOcclusion } from '../../src/core/occlusion.js';
import { parseChoice } from '../../src/core/parse-choice.js';
import { ARCHITECTURES, parseArchitecture } from '../model/architectures.js';
import { selectBackend } from '../backend/select.js';
import { AUGMENT_PRESETS, type AugmentPreset } from '../data/augment.js';
import { BATCH_ORDERS, parseBatchOrder } from '../data/batch-order.js';
import { resolveDataDir } from '../data/ferplus.js';
import { defaultConfig, resumedConfig, STAGES, withDefaultSources, type Stage, type TrainConfig } from '../train/config.js';
import { readConfig, readState } from '../train/run-dir.js';
import { objectiveFor } from '../train/stages.js';
import { removeRun, train } from '../train/trainer.js';
import { addBackendOptions, addDataOption } from './options.js';
import { runCli } from './run-cli.js';

const program = addBackendOptions(addDataOption(new Command()
  .name('train')
  .description('Train one stage of the halfface pipeline on FER+.')
  .option('--stage <stage>', `one of ${STAGES.join(', ')} (a resumed run knows its own)`))
  .option('--out <dir>', 'run folder (default: runs/<stage>)')
  .option('--teacher <dir>', 'teacher run or model folder (kd, triplet; default runs/teacher, else models/teacher)')
  .option('--kd-student <dir>', 'concat: the KD student run or model (default runs/kd, else models/student-kd)')
  .option('--triplet-student <dir>', 'concat: the triplet student run or model (default runs/triplet, else models/student-triplet)')
  .option('--temperature <t>', 'kd: softmax temperature', Number)
  .option('--alpha <a>', 'kd: weight of the distillation term (1 - alpha on the hard labels)', Number)
  .option('--margin <m>', 'triplet: margin on squared distances of L2-normalised embeddings', Number)
  .option('--triplet-weight <w>', 'triplet: weight of the triplet term next to cross-entropy', Number)
  .option('--init <dir>', 'start from this run or model folder, or "none" (layers matched by name and shape; baseline, kd, triplet: runs/teacher, else models/teacher)')
  .option('--epochs <n>', 'epochs', Number)
  .option('--batch-size <n>', 'batch size', Number)
  .option('--batch-order <order>', `${BATCH_ORDERS.join(' | ')} (default: stratified for triplet, else shuffled)`)
  .option('--lr <x>', 'peak learning rate (Adam, cosine decay)', Number)
  .option('--patience <n>', 'early-stopping patience in epochs (0 = off)', Number)
  .option('--architecture <name>', `network to train: ${Object.keys(ARCHITECTURES).join(' | ')} (default student, for every stage)`)
  .option('--occlusion <mode>', 'what the trained network sees: none | lower | upper')
  .option('--label-mode <mode>', `${LABEL_MODES.join(' | ')}`)
  .option('--augment <preset>', `${Object.keys(AUGMENT_PRESETS).join(' | ')} (strong adds random erasing and more geometry)`)
  .option('--limit-train <n>', 'use only the first N training images', Number)
  .option('--limit-valid <n>', 'use only the first N validation images', Number)
  .option('--seed <n>', 'random seed', Number), { threads: true })
  .option('--resume', 'continue the run in --out from its checkpoint: its saved config wins, except --epochs, --backend and --threads')
  .option('--fresh', 'delete --out and start again')
  .option('--no-progress', 'no live progress bar, plain progress lines instead (the default when output goes to a file)');

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
    config = resumedConfig(readConfig(runDir), { stage, epochs: o.epochs, backend: backendGiven ? o.backend : undefined, threads: o.threads });
  } else {
    if (!stage) throw new Error(`${runDir} holds no run to resume: name its --stage to start one`);
    config = withDefaultSources(defaultConfig(stage, resolveDataDir(o.data)));
    if (o.epochs) config.epochs = o.epochs;
    if (o.batchSize) config.batchSize = o.batchSize;
    if (o.batchOrder) config.batchOrder = parseBatchOrder(o.batchOrder);
    if (o.lr) config.learningRate = o.lr;
    if (o.patience !== undefined) config.patience = o.patience;
    if (o.architecture) config.architecture = parseArchitecture(o.architecture);
    if (o.occlusion) config.occlusion = parseOcclusion(o.occlusion);
    if (o.labelMode) config.labelMode = parseLabelMode(o.labelMode);
    if (o.augment) config.augment = AUGMENT_PRESETS[parseChoice<AugmentPreset>('augment preset', Object.keys(AUGMENT_PRESETS) as AugmentPreset[], o.augment)];
    if (o.limitTrain) config.limitTrain = o.limitTrain;
    if (o.limitValid) config.limitValid = o.limitValid;
    if (o.seed !== undefined) config.seed = o.seed;
    if (o.teacher) config.teacher = o.teacher;
    if (stage === 'concat') config.concat = { kd: o.kdStudent ?? config.concat.kd, triplet: o.tripletStudent ?? config.concat.triplet };
    if (o.temperature) config.kd.temperature = o.temperature;
    if (o.alpha !== undefined) config.kd.alpha = o.alpha;
    if (o.margin !== undefined) config.triplet.margin = o.margin;
    if (o.tripletWeight !== undefined) config.triplet.weight = o.tripletWeight;
    if (o.init) config.initFrom = o.init === 'none' ? null : o.init;
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
