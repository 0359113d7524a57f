/** The distillation stages end to end on a few real FER+ images: teacher → kd, triplet → concat → export. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../tools/backend/select.js';
import { exportModel, fileFacts } from '../tools/model/export.js';
import { fileSaveHandler, loadModelFromDir } from '../tools/model/file-io.js';
import { defaultConfig, type Stage, type TrainConfig } from '../tools/train/config.js';
import { epochsTrained, readConfig, readEpochs, readOrigins } from '../tools/train/run-dir.js';
import { readRun, runsTable } from '../tools/report/report.js';
import { objectiveFor } from '../tools/train/stages.js';
import { calibrationFaces, train } from '../tools/train/trainer.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { DATA_DIR } from './helpers/data.js';

const root = mkdtempSync(join(tmpdir(), 'halfface-distil-'));
const dir = (stage: string) => join(root, stage);
const quiet = () => {};

function tiny(stage: Stage, extra: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...defaultConfig(stage, DATA_DIR),
    limitTrain: 128, limitValid: 96, epochs: 1, batchSize: 32, patience: 0, batchNormMomentum: 0.9, ...extra,
  };
}

async function run(stage: Stage, extra: Partial<TrainConfig> = {}, name: string = stage) {
  const { state } = await train(tiny(stage, extra), dir(name), objectiveFor(stage), { log: quiet, progress: false });
  expect(state.finished).toBe(true);
  const epoch = readEpochs(dir(name)).at(-1)!;
  expect(epoch.epoch).toBe(1);
  expect(Number.isFinite(epoch.trainLoss)).toBe(true);
  return state;
}

beforeAll(async () => {
  await selectBackend('wasm', 1);
  await run('teacher', { occlusion: 'none' });
});

describe('distillation stages', () => {
  it('kd and triplet train students without moving the teacher', async () => {
    const teacherWeights = readFileSync(join(dir('teacher'), 'best', 'weights.bin'));
    await run('kd', { teacher: dir('teacher') });
    await run('triplet', { teacher: dir('teacher') });
    expect(readFileSync(join(dir('teacher'), 'best', 'weights.bin')).equals(teacherWeights)).toBe(true);
    // Each run fingerprints the teacher it learned from, for the model cards.
    expect(readOrigins(dir('kd'))).toEqual([{ role: 'teacher', dir: dir('teacher'), sha256: fileFacts(join(dir('teacher'), 'best')).sha256 }]);
  });

  it('an exported (folded) teacher teaches too: it is restored to its training graph', async () => {
    const exported = join(root, 'teacher-export');
    await exportModel(join(dir('teacher'), 'best'), exported);
    // Its own run folder: the finished triplet run would return at once without training.
    const state = await run('triplet', { teacher: exported }, 'triplet-exported-teacher');
    expect(state.bestAccuracy).toBeGreaterThan(0);
    expect(readOrigins(dir('triplet-exported-teacher'))).toEqual([{ role: 'teacher', dir: exported, sha256: fileFacts(exported).sha256 }]);
  });

  it('kd and triplet refuse to start without a usable teacher', async () => {
    await expect(train(tiny('kd', { teacher: null }), dir('kd-none'), objectiveFor('kd'), { log: quiet, progress: false })).rejects.toThrow(/needs a teacher/);
    // A model of another shape: a dense classifier on flattened faces.
    const alien = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [48, 48, 1] }), tf.layers.dense({ units: 8, activation: 'softmax' })] });
    const alienDir = join(root, 'alien');
    await alien.save(fileSaveHandler(alienDir));
    alien.dispose();
    await expect(train(tiny('kd', { teacher: alienDir }), dir('kd-alien'), objectiveFor('kd'), { log: quiet, progress: false })).rejects.toThrow(/cannot serve as the kd stage's teacher: .*matches none of the architectures/);
  });

  it('a concat whose second student does not fit fails clearly and leaves no tensors behind', async () => {
    const alienDir = join(root, 'alien-student');
    const alien = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [48, 48, 1] }), tf.layers.dense({ units: 8, activation: 'softmax' })] });
    await alien.save(fileSaveHandler(alienDir));
    alien.dispose();
    const before = tf.memory().numTensors;
    await expect(train(tiny('concat', { concat: { kd: dir('kd'), triplet: alienDir } }), dir('concat-alien'), objectiveFor('concat'), { log: quiet, progress: false }))
      .rejects.toThrow(/no layer of .*alien-student fits the triplet_\* branch/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a concat takes its students\' architecture, and refuses students of another', async () => {
    // The students here are of the compact network: a concat of the teacher's network cannot hold them.
    await expect(train(tiny('concat', { architecture: 'teacher', concat: { kd: dir('kd'), triplet: dir('triplet') } }), dir('concat-wide'), objectiveFor('concat'), { log: quiet, progress: false, maxBatches: 0 }))
      .rejects.toThrow(/no layer of .*kd fits the kd_\* branch/);
  });

  it('concat starts from the ensemble: its first logits are the mean of both students\' on real faces', async () => {
    // maxBatches 0: build the model, checkpoint it untrained, stop.
    await train(tiny('concat', { concat: { kd: dir('kd'), triplet: dir('triplet') } }), dir('concat-start'), objectiveFor('concat'), { log: quiet, progress: false, maxBatches: 0 });
    const start = await loadModelFromDir(join(dir('concat-start'), 'checkpoint'));
    const kd = await loadModelFromDir(join(dir('kd'), 'best'));
    const triplet = await loadModelFromDir(join(dir('triplet'), 'best'));
    const valid = loadSplit(DATA_DIR, 'FER2013Valid', 'majority', {});
    const faces = calibrationFaces(valid, 'lower', 16);
    const logits = (m: tf.LayersModel) => (m.predict(faces) as tf.Tensor[])[1];
    const expected = tf.mul(tf.add(logits(kd), logits(triplet)), 0.5);
    expect(tf.max(tf.abs(tf.sub(logits(start), expected))).dataSync()[0]).toBeLessThan(1e-4);
    tf.dispose([faces, expected]);
    [start, kd, triplet].forEach((m) => m.dispose());
    // That start is scored and kept as epoch 0: training has to beat the ensemble to replace it.
    const [zero] = readEpochs(dir('concat-start'));
    expect(zero).toMatchObject({ epoch: 0, best: true });
    expect(zero.validAccuracy).toBeGreaterThan(0);
    expect(readFileSync(join(dir('concat-start'), 'best', 'weights.bin')).equals(readFileSync(join(dir('concat-start'), 'checkpoint', 'weights.bin')))).toBe(true);
  });

  it('concat keeps both students frozen and exports ONE graph: face in, probabilities out', async () => {
    await run('concat', { concat: { kd: dir('kd'), triplet: dir('triplet') } });
    expect(readOrigins(dir('concat')).map((o) => o.role)).toEqual(['kd student', 'triplet student']);
    // Epoch 0 scores the start and trains nothing: cards and the report count trained epochs only.
    const { epochs } = readConfig(dir('concat'));
    expect(readEpochs(dir('concat'))).toHaveLength(epochs + 1);
    expect(epochsTrained(readEpochs(dir('concat')))).toBe(epochs);
    expect(runsTable([readRun(dir('concat'))])).toContain(` | ${epochs} | `);
    const concat = await loadModelFromDir(join(dir('concat'), 'best'));
    const kd = await loadModelFromDir(join(dir('kd'), 'best'));
    const triplet = await loadModelFromDir(join(dir('triplet'), 'best'));
    for (const [prefix, source] of [['kd_', kd], ['triplet_', triplet]] as const) {
      for (const name of ['block1_conv1', 'block4_conv2_bn', 'embedding']) {
        const a = concat.getLayer(prefix + name).getWeights();
        const b = source.getLayer(name).getWeights();
        a.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(b[i].dataSync())));
      }
    }
    const out = join(root, 'halfface');
    const info = await exportModel(join(dir('concat'), 'best'), out);
    const browser = await loadModelFromDir(out);
    expect(browser.outputs).toHaveLength(1);
    expect(browser.outputs[0].shape).toEqual([null, 8]);
    const probs = tf.tidy(() => browser.predict(tf.randomUniform([3, 48, 48, 1])) as tf.Tensor);
    const rows = (await probs.array()) as number[][];
    rows.forEach((r) => expect(r.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5));
    expect(info.flops).toBeGreaterThan(2 * 50e6); // two student branches
    [concat, kd, triplet, browser, probs].forEach((m) => m.dispose());
  });
});
