/**
 * A real, short training run on a few hundred real FER+ images, its resume after an interruption,
 * and the eval command on the model it produced.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FACE_PIXELS } from '../src/core/face-geometry.js';
import { NUM_CLASSES } from '../src/core/labels.js';
import { selectBackend } from '../tools/backend/select.js';
import { NO_AUGMENT } from '../tools/data/augment.js';
import { predictSplit } from '../tools/data/batches.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { computeMetrics, predictedLabels } from '../tools/eval/metrics.js';
import { buildModel, cropOf, forwardFlops } from '../tools/model/architectures.js';
import { loadModelFromDir } from '../tools/model/file-io.js';
import { defaultConfig, type TrainConfig } from '../tools/train/config.js';
import { readEpochs, readState } from '../tools/train/run-dir.js';
import { objectiveFor } from '../tools/train/stages.js';
import { train } from '../tools/train/trainer.js';
import { DATA_DIR } from './helpers/data.js';

const quiet = () => {};

function smallConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...defaultConfig('baseline', DATA_DIR),
    limitTrain: 384, limitValid: 256, epochs: 4, batchSize: 32, learningRate: 2e-3, patience: 0,
    checkpointEveryBatches: 4, batchNormMomentum: 0.9, ...overrides,
  };
}

beforeAll(async () => {
  const backend = await selectBackend('wasm', 1);
  expect(backend.name).toBe('wasm');
});

describe('training on real FER+ images', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'halfface-run-'));

  it('the loss falls and the student learns its training images better than the majority class', async () => {
    // No augmentation: this checks that the network learns what it is shown, quickly.
    const config = smallConfig({ augment: NO_AUGMENT, epochs: 8 });
    const { state } = await train(config, runDir, objectiveFor('baseline'), { log: quiet, progress: false });
    expect(state.finished).toBe(true);
    const epochs = readEpochs(runDir);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(epochs[7].trainLoss).toBeLessThan(epochs[0].trainLoss);
    // Accuracy on the 384 training images it saw, without augmentation, against the rate of
    // always answering the most frequent class.
    const trainSplit = loadSplit(DATA_DIR, 'FER2013Train', 'majority', { log: quiet });
    const seen = { ...trainSplit, labels: trainSplit.labels.slice(0, 384), pixels: trainSplit.pixels.slice(0, 384 * FACE_PIXELS), targets: trainSplit.targets.slice(0, 384 * NUM_CLASSES) };
    const model = await loadModelFromDir(join(runDir, 'checkpoint'));
    const accuracy = computeMetrics(predictedLabels(await predictSplit(model, seen, 'lower')), seen.labels).accuracy;
    model.dispose();
    const counts = new Array(NUM_CLASSES).fill(0);
    seen.labels.forEach((l) => counts[l]++);
    const majorityRate = Math.max(...counts) / seen.labels.length;
    console.log(`[training] accuracy on the seen images ${accuracy.toFixed(3)}, majority class ${majorityRate.toFixed(3)}`);
    expect(accuracy).toBeGreaterThan(majorityRate);
    // the best model was kept, and it is at least as good on Valid as every epoch
    expect(existsSync(join(runDir, 'best', 'model.json'))).toBe(true);
    expect(state.bestAccuracy).toBe(Math.max(...epochs.map((e) => e.validAccuracy)));
  });

  it('an interrupted run resumes from its checkpoint and loses no epoch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'halfface-resume-'));
    const config = smallConfig({ epochs: 2, limitTrain: 192 });
    const batchesPerEpoch = 192 / 32;
    const first = await train(config, dir, objectiveFor('baseline'), { log: quiet, progress: false, maxBatches: 3 });
    expect(first.state).toMatchObject({ epoch: 0, batch: 3, step: 3, finished: false });
    expect(readState(dir)).toMatchObject({ epoch: 0, batch: 3 });
    expect(readEpochs(dir)).toHaveLength(0);
    const tensorsBefore = tf.memory().numTensors;
    const logs: string[] = [];
    const second = await train(config, dir, objectiveFor('baseline'), { log: (m) => logs.push(m), progress: false });
    expect(logs.some((l) => /resuming .* at epoch 1, batch 3\/6/.test(l))).toBe(true);
    expect(second.state.finished).toBe(true);
    expect(second.state.step).toBe(2 * batchesPerEpoch);
    expect(readEpochs(dir).map((e) => e.epoch)).toEqual([1, 2]);
    // the run's model, optimizer and batches were all disposed
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('a run with the logit-adjusted loss keeps the epoch of best mean recall, not of best accuracy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'halfface-balance-run-'));
    const config = smallConfig({ epochs: 3, limitTrain: 192, balanceLoss: 1 });
    const logs: string[] = [];
    const { state } = await train(config, dir, objectiveFor('baseline'), { log: (m) => logs.push(m), progress: false });
    const epochs = readEpochs(dir);
    const recalls = epochs.map((e) => e.validMeanRecall!);
    expect(recalls.every((r) => r >= 0 && r <= 1)).toBe(true);
    expect(state.bestMeanRecall).toBe(Math.max(...recalls));
    const kept = epochs[state.bestEpoch];
    expect(kept.validMeanRecall).toBe(state.bestMeanRecall);
    expect(state.bestAccuracy).toBe(kept.validAccuracy);
    expect(logs.at(-1)).toMatch(/best mean recall [\d.]+% \(valid accuracy [\d.]+%\) at epoch \d/);
  });

  it('a --crop visible student trains and resumes on the rows it sees, at about half the FLOPs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'halfface-crop-run-'));
    const config = smallConfig({ epochs: 1, limitTrain: 128, limitValid: 64, crop: 'visible', architecture: 'student', initFrom: null });
    await train(config, dir, objectiveFor('baseline'), { log: quiet, progress: false, maxBatches: 2 });
    const { state } = await train(config, dir, objectiveFor('baseline'), { log: quiet, progress: false });
    expect(state.finished).toBe(true);
    const model = await loadModelFromDir(join(dir, 'best'));
    expect(cropOf(model)).toEqual({ crop: 'visible', occlusion: 'lower' });
    const whole = buildModel('student', 1);
    expect(forwardFlops(model) / forwardFlops(whole)).toBeLessThan(0.55);
    [model, whole].forEach((m) => m.dispose());
  });

  it('npm run train logs plain progress lines when its output is not a terminal, and resumes from the run folder alone, for more epochs', () => {
    const out = mkdtempSync(join(tmpdir(), 'halfface-cli-train-'));
    const cli = (...args: string[]) => execFileSync('npx', ['tsx', 'tools/cli/train.ts', '--out', out, '--backend', 'wasm', '--threads', '1', ...args], { encoding: 'utf8', stdio: 'pipe' });
    const first = cli('--stage', 'baseline', '--data', DATA_DIR, '--init', 'none', '--limit-train', '60', '--limit-valid', '32', '--batch-size', '2', '--epochs', '1');
    // 30 batches: a line at batch 25, as a nohup log would show it
    expect(first).toMatch(/epoch 1\/1 batch 25\/30 \| [\d.]+ img\/s \| loss [\d.]+/);
    const second = cli('--resume', '--epochs', '2');
    expect(second).toMatch(/run: .* \(stage baseline, student, sees lower occlusion, 2 epochs\)/);
    expect(second).toMatch(/finished 1 epochs; training on to 2/);
    expect(second).toMatch(/epoch 2\/2 batch 25\/30/);
    expect(readEpochs(out).map((e) => e.epoch)).toEqual([1, 2]);
  });

  it('npm run eval prints the metrics and writes the JSON report of that model', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'halfface-eval-')), 'eval.json');
    const out = execFileSync('npx', ['tsx', 'tools/cli/eval.ts', '--model', runDir, '--data', DATA_DIR, '--split', 'FER2013Valid', '--occlusion', 'lower', '--json', json, '--backend', 'wasm'], { encoding: 'utf8' });
    expect(out).toMatch(/accuracy: \d+\.\d\d%/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report).toMatchObject({ split: 'FER2013Valid', occlusion: 'lower', labelMode: 'majority' });
    const valid = loadSplit(DATA_DIR, 'FER2013Valid', 'majority', { log: quiet });
    expect(report.n).toBe(valid.labels.length);
    expect(report.confusion).toHaveLength(NUM_CLASSES);
    const diagonal = report.confusion.reduce((s: number, row: number[], i: number) => s + row[i], 0);
    expect(report.accuracy).toBeCloseTo(diagonal / report.n, 10);
    expect(report.predictions).toHaveLength(report.n);
    expect(Object.keys(report.perClass)).toHaveLength(NUM_CLASSES);
    expect(report.perClass.happiness).toBeCloseTo(report.confusion[1][1] / report.confusion[1].reduce((a: number, b: number) => a + b, 0), 10);
  });

  it('eval refuses a missing or wrong model with a clear message', () => {
    const run = (model: string) => {
      try {
        execFileSync('npx', ['tsx', 'tools/cli/eval.ts', '--model', model, '--data', DATA_DIR], { encoding: 'utf8', stdio: 'pipe' });
        return '';
      } catch (e) {
        return String((e as { stderr: string }).stderr);
      }
    };
    expect(run('/nonexistent')).toMatch(/^error: no model at \/nonexistent/m);
    const notAModel = mkdtempSync(join(tmpdir(), 'halfface-bad-'));
    writeFileSync(join(notAModel, 'model.json'), '{"hello": 1}');
    expect(run(notAModel)).toMatch(/error: .*is not a tfjs layers model/);
  });
});
