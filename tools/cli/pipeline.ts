/**
 * npm run pipeline -- --data DIR [--label-mode probability --teacher-views 8 --replicates 3 --quantize float16]
 * teacher → baseline → kd → triplet → concat → eval → export, resuming whatever is already done.
 * Each stage trains in runs/<stage> (replicate r of a student in runs/<stage>-r<r>); models go to
 * models/<name> with a card.
 */
import { Command } from 'commander';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Occlusion } from '../../src/core/occlusion.js';
import { selectBackend } from '../backend/select.js';
import { resolveDataDir } from '../data/ferplus.js';
import { evaluateModelDir, type EvaluationReport } from '../eval/evaluate-model.js';
import { evaluateMouthModelDir, type MouthReport } from '../eval/mouth.js';
import { percent } from '../eval/format.js';
import { writeCard, type CardInput } from '../report/card.js';
import { classBalanceFor, parseTau } from '../model/class-balance.js';
import { exportModelInto, parseQuantize, QUANTIZE_CHOICES } from '../model/export.js';
import { replaceFolder } from '../model/file-io.js';
import { fitsHeadset, HEADSET_BUDGET, pickShipped, shipReason } from '../train/ship.js';
import { defaultConfig, MODEL_NAMES, REPLICATE_SEED_STEP, replicateRunName, replicateSeed, STAGES, withDefaultSources, type Stage, type TrainConfig } from '../train/config.js';
import { configForNewRun, trainFlag } from '../train/flags.js';
import { readConfig, readEpochs, readOrigins, readState } from '../train/run-dir.js';
import { objectiveFor } from '../train/stages.js';
import { train } from '../train/trainer.js';
import { addBackendOptions, addBalanceOption, addDataOption, addTrainFlags } from './options.js';
import { runCli } from './run-cli.js';

const SUMMARIES: Record<Stage, string> = {
  teacher: 'The teacher, trained on whole faces. Every student starts from it, and the kd and triplet students learn from it what the upper half of the face adds; it is not meant for the headset.',
  baseline: 'The "no distillation" student, the fair control: fine-tuned from the teacher on the lower half of the face with the schedule of the kd and triplet students, but without the teacher\'s signal.',
  kd: 'Student distilled from the teacher (Hinton KD: the teacher sees the whole face, the student the lower half).',
  triplet: 'Student trained with the triplet-loss distillation of Georgescu & Ionescu (teacher embeddings as positives).',
  concat: 'The KD and triplet students side by side, their embeddings concatenated under one trained head: one graph.',
};

/** Whether the exported model in `dir` gives the mouth blendshapes beside the classes (read off its model.json). */
function outputsMouth(dir: string): boolean {
  const path = join(dir, 'model.json');
  if (!existsSync(path)) return false;
  const json = JSON.parse(readFileSync(path, 'utf8')) as { modelTopology?: { config?: { output_layers?: unknown[] } } };
  return (json.modelTopology?.config?.output_layers?.length ?? 0) > 1;
}

/** The lower-half FER2013Valid accuracy on the card of the model in `dir`, or null without one. */
function cardedLowerAccuracy(dir: string): number | null {
  const path = join(dir, 'card.json');
  if (!existsSync(path)) return null;
  const card = JSON.parse(readFileSync(path, 'utf8')) as { evaluations?: { split: string; occlusion: string; accuracy: number }[] };
  return card.evaluations?.find((e) => e.split === 'FER2013Valid' && e.occlusion === 'lower')?.accuracy ?? null;
}

/**
 * The card's numbers for an exported folder: accuracy under each occlusion and, for a model trained
 * with the mouth head, the head against the landmark teacher (issue 18). `name` is the folder the
 * export will become.
 */
async function scoreExport(dir: string, dataDir: string, config: TrainConfig, occlusions: Occlusion[], name: string): Promise<{ evaluations: EvaluationReport[]; mouth?: MouthReport }> {
  const evaluations: EvaluationReport[] = [];
  // On the majority protocol we report on (as validation in training), whatever labels the run trained on.
  for (const occlusion of occlusions) evaluations.push({ ...await evaluateModelDir(dir, dataDir, 'FER2013Valid', occlusion, 'majority'), model: name });
  // Asked of the model, not of its run: a concat keeps its kd student's mouth branch without training it.
  if (!outputsMouth(dir)) return { evaluations };
  return { evaluations, mouth: { ...await evaluateMouthModelDir(dir, dataDir, 'FER2013Valid', config.occlusion), model: name } };
}

/**
 * What a stage's model is. A run that started from another model than the teacher (a student
 * continued, e.g. to add the mouth head) says so instead of the stage's usual story.
 */
function summaryFor(stage: Stage, config: TrainConfig, hasMouth: boolean): string {
  const branch = config.mouthFrom === 'head' ? 'a Dense layer beside the classifier' : `a conv branch of its own on conv block ${config.mouthFrom.slice('block'.length)}'s output`;
  if (config.freeze === 'expression') {
    return `The expression network of \`${config.initFrom}\`, unchanged (frozen: the same class outputs), with a mouth head trained alone on it for ${config.epochs} epochs: ${branch}, giving 13 ARKit mouth blendshapes distilled from a whole-face landmark teacher (docs/mouth.md).`;
  }
  const fromTeacher = !config.initFrom || basename(config.initFrom) === 'teacher';
  const base = fromTeacher ? SUMMARIES[stage]
    : `Continued for ${config.epochs} epochs from \`${config.initFrom}\` on the ${config.occlusion === 'none' ? 'whole' : `${config.occlusion} half of the`} face with the ${stage} stage's objective${stage === 'baseline' ? ' (cross-entropy on the labels)' : ''}.`;
  const mouth = config.mouthWeight > 0
    ? ` A second head, trained jointly (weight ${config.mouthWeight}; ${branch}), gives 13 ARKit mouth blendshapes, distilled from a whole-face landmark teacher (docs/mouth.md).`
    : hasMouth && stage === 'concat' ? ` It keeps the mouth branch of its kd student (\`${config.concat.kd}\`, frozen): 13 ARKit mouth blendshapes, distilled from a whole-face landmark teacher (docs/mouth.md).`
      : '';
  return base + mouth;
}

/**
 * Train flags the pipeline passes to every run it starts: the students' size, targets and cached
 * teacher views (issue 17), and a run's length and data for quick checks.
 */
const PIPELINE_SETTINGS = ['--architecture', '--crop', '--label-mode', '--teacher-views', '--augment', '--epochs', '--limit-train', '--limit-valid'];

const program = addBackendOptions(addDataOption(new Command()
  .name('pipeline'))
  .option('--runs <dir>', 'where the runs live', 'runs')
  .option('--models <dir>', 'where exported models go', 'models')
  .option('--stages <list>', 'stages to train, comma-separated', STAGES.join(','))
  .option('--no-train', 'only evaluate, export and write cards from the best models the runs have so far')
  .option('--quantize <dtype>', `students' weights (and so models/halfface): ${QUANTIZE_CHOICES.join(' | ')}; the teacher stays float32`, 'none')
  .option('--flip-average', 'models/halfface averages the face and its mirror image inside its graph (twice the compute); the stages\' own models stay plain')
  .option('--replicates <n>', `train every student stage n times, on other seeds (replicate r in runs/<stage>-r<r>, seeds + ${REPLICATE_SEED_STEP}(r - 1)); only replicate 1 is exported to --models`, '1'), { threads: false });
// The settings a whole pipeline may change for every run it starts, read and checked as `npm run
// train` reads them. A run that exists keeps its own config.json.
addTrainFlags(program, PIPELINE_SETTINGS.map(trainFlag), '; every run the pipeline starts');
addBalanceOption(program, "models/halfface (the stages' own models stay as trained)");

runCli(async () => {
  program.parse();
  const o = program.opts();
  const dataDir = resolveDataDir(o.data);
  const stages = String(o.stages).split(',').map((s) => s.trim()) as Stage[];
  for (const s of stages) if (!(STAGES as readonly string[]).includes(s)) throw new Error(`unknown stage "${s}"`);
  const quantize = parseQuantize(o.quantize);
  const balance = classBalanceFor(parseTau(o.balance), dataDir);
  const replicates = Number(o.replicates);
  if (!Number.isInteger(replicates) || replicates < 1) throw new Error(`--replicates must be a whole number >= 1, got "${o.replicates}"`);
  const backend = await selectBackend(o.backend);
  console.log(`backend: ${backend.name} — ${backend.detail}`);


  const trainStage = async (stage: Stage, r: number) => {
    const runDir = join(o.runs, replicateRunName(stage, r));
    let config: TrainConfig;
    if (existsSync(join(runDir, 'config.json'))) config = readConfig(runDir);
    else {
      const base = defaultConfig(stage, dataDir);
      config = configForNewRun(withDefaultSources({ ...base, seed: replicateSeed(stage, r, base.seed) }, o.runs, o.models, r), o);
      const from = config.initFrom;
      if (from && existsSync(join(from, 'config.json')) && !readState(from)?.finished) {
        console.warn(`note: ${from} has not finished training: the ${stage} run starts from its best epoch so far`);
      }
    }
    console.log(`\n== ${stage}${r > 1 ? `, replicate ${r}` : ''} (${runDir}, seed ${config.seed}, ${config.architecture}, ${config.labelMode} labels)`);
    await train(config, runDir, objectiveFor(stage));
  };

  const shipped: { stage: Stage; accuracy: number; bytes: number; flops: number; card: CardInput }[] = [];
  const exportStage = async (stage: Stage) => {
    const runDir = join(o.runs, stage);
    if (!existsSync(join(runDir, 'best', 'model.json'))) {
      console.log(`${stage}: no best model yet, nothing to export`);
      return;
    }
    const out = join(o.models, MODEL_NAMES[stage]);
    const config = readConfig(runDir);
    const state = readState(runDir);
    const occlusions: Occlusion[] = stage === 'teacher' ? ['none', 'lower'] : ['lower', 'none'];
    // Exported, scored and carded in a folder beside the committed model, which it replaces only
    // when complete: a failed export or evaluation leaves the committed model as it was.
    const card = await replaceFolder(out, async (temp): Promise<CardInput> => {
      // The teacher never ships to a headset, and students start from it: it keeps full precision.
      // The cards score the exported folder, so a student's accuracy is that of its stored weights.
      const exportInfo = await exportModelInto(join(runDir, 'best'), temp, { quantize: stage === 'teacher' ? 'none' : quantize });
      const { evaluations, mouth } = await scoreExport(temp, dataDir, config, occlusions, out);
      const c: CardInput = {
        name: MODEL_NAMES[stage], summary: summaryFor(stage, config, !!mouth), exportInfo, evaluations, mouth,
        runs: [{ dir: runDir, config, state, epochs: readEpochs(runDir), backend: backend.name, origins: readOrigins(runDir) }],
        notes: state?.finished ? [] : ['Training is not finished: this is the best epoch so far of a run that continues with `npm run pipeline` or `npm run train -- --resume`.'],
      };
      writeCard(temp, c);
      return c;
    });
    const { exportInfo, evaluations } = card;
    console.log(`${stage} -> ${out}: ${evaluations.map((e) => `${e.occlusion} ${percent(e.accuracy)}`).join(', ')}, ${(exportInfo.bytes / 1e6).toFixed(2)} MB`);
    if (stage !== 'teacher') shipped.push({ stage, accuracy: evaluations[0].accuracy, bytes: exportInfo.bytes, flops: exportInfo.flops, card });
  };

  // Each stage is exported as soon as it has trained, so that a machine lost mid-pipeline leaves
  // every finished stage's model behind to commit; the replicates come after the shipped model.
  for (const stage of stages) {
    if (o.train) await trainStage(stage, 1);
    await exportStage(stage);
  }

  // The headset model: the best student on the lower half within the headset's budget.
  const best = shipped.length ? pickShipped(shipped) : null;
  const target = join(o.models, 'halfface');
  const shippedAccuracy = cardedLowerAccuracy(target);
  if (best && shippedAccuracy !== null && best.accuracy < shippedAccuracy) {
    // A re-run of an older or smaller campaign must not quietly replace a better headset model.
    console.log(`\nmodels/halfface stays as it is: it scores ${percent(shippedAccuracy)} on FER2013Valid lower, more than the best student of this run (${MODEL_NAMES[best.stage]}, ${percent(best.accuracy)}). Delete ${target} to ship that one anyway.`);
  } else if (best && !best.card.mouth && outputsMouth(target)) {
    // The app's avatar mouth follows the shipped model's mouth head (issue 18): a student without
    // one would silently take it away.
    console.log(`\nmodels/halfface stays as it is: it has the mouth head, ${MODEL_NAMES[best.stage]} (the best student, ${percent(best.accuracy)}) has not. Give it one with npm run train -- --stage ${best.stage} --init ${join(o.runs, best.stage)} --freeze expression --mouth-weight 1 --mouth-from block2 (docs/mouth.md), then export that run as models/halfface.`);
  } else if (best) {
    const why = shipReason(shipped);
    // Flip averaging runs the network twice: only where twice still fits the budget.
    const flip = o.flipAverage && fitsHeadset({ bytes: best.bytes, flops: 2 * best.flops });
    if (o.flipAverage && !flip) console.log(`no flip averaging for models/halfface: ${MODEL_NAMES[best.stage]} twice is ${(2 * best.flops / 1e6).toFixed(0)} MFLOPs, over the headset's ${HEADSET_BUDGET.flops / 1e6}`);
    await replaceFolder(target, async (temp) => {
      let { exportInfo, evaluations, mouth } = best.card;
      if (flip || balance) {
        // Only the headset model averages over the mirror image or shifts its prior: the stages'
        // own models stay as trained, so that they compare like for like and later stages can
        // start from them.
        exportInfo = await exportModelInto(join(o.runs, best.stage, 'best'), temp, { quantize, flipAverage: flip, balance });
        ({ evaluations, mouth } = await scoreExport(temp, dataDir, best.card.runs[0].config, best.card.evaluations.map((e) => e.occlusion), target));
      } else {
        cpSync(join(o.models, MODEL_NAMES[best.stage]), temp, { recursive: true });
      }
      writeCard(temp, {
        ...best.card, exportInfo, evaluations, mouth,
        name: 'halfface (the headset model)',
        summary: `The model the app and the library load by default. It is **${MODEL_NAMES[best.stage]}**${flip ? ', its outputs averaged over the face and its mirror image' : ''}${balance ? `, its class prior divided out to the power ${balance.tau}` : ''}: ${best.card.summary}`,
        notes: [
          `Chosen as ${why} (FER2013Valid).`,
          ...(balance ? [`Class balance tau ${balance.tau} (logit adjustment against the FER2013Train vote prior, in the last layer's bias): rarer expressions are answered more often, for a higher mean per-class recall at some accuracy. tau was chosen on FER2013Valid, the split these numbers are measured on, so they are slightly optimistic; \`npm run eval -- --model models/${MODEL_NAMES[best.stage]} --balance 0,0.25,0.5\` prints the trade-off.`] : []),
          ...best.card.notes,
        ],
      });
    });
    console.log(`\nshipped models/halfface = ${MODEL_NAMES[best.stage]}${balance ? `, class balance tau ${balance.tau}` : ''} (${why})`);
  }
  if (o.train) {
    for (let r = 2; r <= replicates; r++) for (const stage of stages) if (stage !== 'teacher') await trainStage(stage, r);
  }
  if (replicates > 1) {
    // The replicates stay run folders: the report scores their best models and tests each stage across seeds.
    const students = stages.filter((s) => s !== 'teacher');
    // Replicate 1 as exported (its cards' folders, with their size and cost), the others as trained.
    const list = (r: number) => students.map((s) => (r === 1 ? join(o.models, MODEL_NAMES[s]) : join(o.runs, replicateRunName(s, r))));
    const more = Array.from({ length: replicates - 1 }, (_, k) => `--replicate ${list(k + 2).join(',')}`).join(' ');
    console.log(`\nEvery stage across the ${replicates} replicates, seed-paired: npm run report -- --models ${list(1).join(' ')} ${more} --readme README.md`);
  }
});
