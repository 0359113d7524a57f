/**
 * The mouth head's training side (issue 18), on synthetic data only: the masked loss, the targets'
 * Left/Right swap when a batch mirrors a face, the network with its second head and its export as
 * one graph, and a tiny joint training run that stops, resumes and exports, on a throwaway FER-layout
 * folder of generated faces whose mouth targets come from a synthetic landmark teacher.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_PIXELS, FACE_SIZE } from '../src/core/face-geometry.js';
import { NUM_CLASSES } from '../src/core/labels.js';
import { MOUTH_BLENDSHAPES, MOUTH_FLIP_PERMUTATION, type FaceKeypoints, type Point2 } from '../src/core/mouth-blendshapes.js';
import { selectBackend } from '../tools/backend/select.js';
import { NO_AUGMENT } from '../tools/data/augment.js';
import { makeBatch, type TrainingSplit } from '../tools/data/batches.js';
import { makeViewBatch } from '../tools/data/views.js';
import { loadMouthPredictor } from '../tools/eval/mouth.js';
import { buildConcatModel, buildModel, inferenceGraph, MOUTH_LAYER, mouthSourceOf } from '../tools/model/architectures.js';
import { exportModelInto } from '../tools/model/export.js';
import { fileSaveHandler, loadModelFromDir } from '../tools/model/file-io.js';
import { foldForInference } from '../tools/model/fold.js';
import { restoreTrainingModel } from '../tools/model/unfold.js';
import { cacheSplitTargets } from '../tools/mouth/targets.js';
import { TEACHER_CROPS, teacherFingerprint, type LandmarkTeacher } from '../tools/mouth/teachers.js';
import { defaultConfig, type TrainConfig } from '../tools/train/config.js';
import { applyTrainFlags } from '../tools/train/flags.js';
import { maskedMouthLoss } from '../tools/train/losses.js';
import { readConfig, readEpochs, readState } from '../tools/train/run-dir.js';
import { objectiveFor } from '../tools/train/stages.js';
import { train } from '../tools/train/trainer.js';

const K = MOUTH_BLENDSHAPES.length;
const temp = mkdtempSync(join(tmpdir(), 'halfface-mouth-head-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
beforeAll(async () => {
  await selectBackend('wasm', 1);
});

describe('masked mouth loss', () => {
  const predictions = () => tf.tensor2d(Array.from({ length: 3 * K }, (_, i) => 0.1 + 0.8 * ((i * 7) % 10) / 10), [3, K]);
  const targets = (third: number) => tf.tensor2d([
    ...Array.from({ length: K }, (_, k) => (k % 3) / 3), ...Array.from({ length: K }, (_, k) => 1 - (k % 4) / 4), ...new Array(K).fill(third),
  ], [3, K]);
  const value = (t: tf.Scalar) => t.dataSync()[0];

  it('ignores faces with mask 0, even NaN targets, and is 0 for a perfect prediction', () => {
    const predicted = predictions();
    const mask = tf.tensor1d([1, 1, 0]);
    const withNaN = value(maskedMouthLoss(predicted, targets(NaN), mask));
    expect(Number.isFinite(withNaN)).toBe(true);
    expect(value(maskedMouthLoss(predicted, targets(0.9), mask))).toBeCloseTo(withNaN, 6);
    // The masked loss of three faces is the plain loss of the two placed ones.
    const two = value(maskedMouthLoss(predicted.slice(0, 2) as tf.Tensor2D, targets(0).slice(0, 2) as tf.Tensor2D, tf.tensor1d([1, 1])));
    expect(withNaN).toBeCloseTo(two, 6);
    expect(value(maskedMouthLoss(targets(0.5), targets(0.5), tf.tensor1d([1, 1, 1])))).toBeCloseTo(0, 4);
    expect(value(maskedMouthLoss(predicted, targets(NaN), tf.tensor1d([0, 0, 0])))).toBe(0);
  });

  it('sends no gradient to a masked face, and some to every placed one', () => {
    const predicted = predictions();
    const mask = tf.tensor1d([1, 1, 0]);
    const grad = tf.grad((p: tf.Tensor) => maskedMouthLoss(p as tf.Tensor2D, targets(NaN), mask))(predicted);
    const g = grad.arraySync() as number[][];
    expect(g[2].every((v) => v === 0)).toBe(true);
    for (const row of g.slice(0, 2)) {
      expect(row.every(Number.isFinite)).toBe(true);
      expect(row.some((v) => v !== 0)).toBe(true);
    }
  });
});

/** A split of n faces with distinct pixels and mouth targets; face 1 is not placed. */
function splitWithMouth(n: number): TrainingSplit {
  const pixels = new Uint8Array(n * FACE_PIXELS).map((_, i) => (i * 13) % 256);
  const targets = new Float32Array(n * NUM_CLASSES).map((_, i) => (i % NUM_CLASSES === 0 ? 1 : 0));
  const mouth = new Float32Array(n * K).map((_, i) => ((i * 37) % 100) / 100);
  const mask = new Uint8Array(n).fill(1);
  mask[1] = 0;
  mouth.fill(NaN, K, 2 * K);
  return {
    split: 'FER2013Train', mode: 'majority', names: Array.from({ length: n }, (_, i) => `f${i}.png`), pixels, targets,
    labels: new Int32Array(n), dropped: 0, mouth: { targets: mouth, mask },
  };
}

describe('mouth targets in batches', () => {
  const split = splitWithMouth(4);
  const indices = Int32Array.from([2, 1, 0]);
  const row = (a: Float32Array, i: number) => Array.from(a.subarray(i * K, (i + 1) * K));
  const source = (i: number) => Array.from(split.mouth!.targets.subarray(i * K, (i + 1) * K));

  it('follow their faces, swap Left/Right exactly when the face was mirrored, and carry 0 with mask 0 for an unplaced face', () => {
    const flip = { ...NO_AUGMENT, flip: true };
    const plain = makeBatch(split, indices, 'lower', flip, () => 0.99); // random() ≥ 0.5: no flip
    const mirrored = makeBatch(split, indices, 'lower', flip, () => 0); // random() < 0.5: flip
    expect(Array.from(plain.mouthMask!)).toEqual([1, 0, 1]);
    expect(Array.from(mirrored.mouthMask!)).toEqual([1, 0, 1]);
    expect(row(plain.mouth!, 1)).toEqual(new Array(K).fill(0));
    expect(row(mirrored.mouth!, 1)).toEqual(new Array(K).fill(0));
    for (const [i, face] of [[0, 2], [2, 0]]) {
      expect(row(plain.mouth!, i)).toEqual(source(face));
      expect(row(mirrored.mouth!, i)).toEqual(MOUTH_FLIP_PERMUTATION.map((from) => source(face)[from]));
      // The image itself was mirrored in that batch: row 0 of its pixels reversed.
      const clean = mirrored.clean.subarray(i * FACE_PIXELS, i * FACE_PIXELS + FACE_SIZE);
      const plainClean = plain.clean.subarray(i * FACE_PIXELS, i * FACE_PIXELS + FACE_SIZE);
      expect(Array.from(clean)).toEqual(Array.from(plainClean).reverse());
    }
    const smileLeft = MOUTH_BLENDSHAPES.indexOf('mouthSmileLeft');
    expect(mirrored.mouth![smileLeft]).toBe(split.mouth!.targets[2 * K + MOUTH_BLENDSHAPES.indexOf('mouthSmileRight')]);
  });

  it('come with fixed views too, and not at all when the split has none', () => {
    const views = makeViewBatch(split, indices, Int32Array.from([0, 1, 2]), 'lower', NO_AUGMENT, 1);
    expect(row(views.mouth!, 2)).toEqual(source(0));
    const { mouth: _, ...withoutMouth } = split;
    const batch = makeBatch(withoutMouth, indices, 'lower', null, Math.random);
    expect(batch.mouth).toBeUndefined();
    expect(batch.mouthMask).toBeUndefined();
  });
});

describe('the network with the mouth head', () => {
  it('outputs [n, 13] in [0, 1] beside the classes, and exports as one graph with both, classes first', async () => {
    const model = buildModel('student', 3, 0.99, { mouth: true });
    expect(model.outputs.map((o) => o.shape)).toEqual([[null, NUM_CLASSES], [null, NUM_CLASSES], [null, 256], [null, K]]);
    const x = tf.randomUniform([5, FACE_SIZE, FACE_SIZE, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const mouth = (model.predict(x) as tf.Tensor[])[3];
    expect(mouth.shape).toEqual([5, K]);
    const values = mouth.dataSync();
    expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);

    const graph = inferenceGraph(model);
    expect(graph.outputs.map((o) => o.shape)).toEqual([[null, NUM_CLASSES], [null, K]]);
    const { model: folded } = await foldForInference(graph);
    expect(folded.outputLayers.map((l) => l.name)).toEqual(['probabilities', MOUTH_LAYER]);
    const [p0, m0] = graph.predict(x) as tf.Tensor[];
    const [p1, m1] = folded.predict(x) as tf.Tensor[];
    expect(tf.max(tf.abs(tf.sub(p0, p1))).dataSync()[0]).toBeLessThan(1e-4);
    expect(tf.max(tf.abs(tf.sub(m0, m1))).dataSync()[0]).toBeLessThan(1e-4);
    // An exported model with the head restores to a training graph with the head.
    const { model: restored } = restoreTrainingModel(folded, x);
    expect(restored.outputs).toHaveLength(4);
    tf.dispose([x, p0, m0, p1, m1, mouth]);
    [model, folded, restored].forEach((m) => m.dispose());
  });

  it('can read from a conv block through a branch of its own, which folds, exports and restores as that branch', async () => {
    const model = buildModel('student', 3, 0.99, { mouth: true, mouthFrom: 'block2' });
    expect(mouthSourceOf(model)).toBe('block2');
    expect(model.getLayer('mouth_conv1').inboundNodes[0].inboundLayers[0].name).toBe('block2_pool');
    expect(model.outputs.map((o) => o.shape)).toEqual([[null, NUM_CLASSES], [null, NUM_CLASSES], [null, 256], [null, K]]);
    expect(() => buildModel('student', 3, 0.99, { mouth: true, mouthFrom: 'block4' })).not.toThrow();
    const x = tf.randomUniform([4, FACE_SIZE, FACE_SIZE, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const graph = inferenceGraph(model);
    const { model: folded, summary } = await foldForInference(graph);
    // The branch's two BatchNorms fold into its convolutions, as the backbone's eight do.
    expect(summary.batchNorms).toBe(10);
    const [, m0] = graph.predict(x) as tf.Tensor[];
    const [, m1] = folded.predict(x) as tf.Tensor[];
    expect(tf.max(tf.abs(tf.sub(m0, m1))).dataSync()[0]).toBeLessThan(1e-4);
    const { model: restored } = restoreTrainingModel(folded, x);
    expect(mouthSourceOf(restored)).toBe('block2');
    expect(mouthSourceOf(buildModel('student', 3))).toBeNull();
    expect(mouthSourceOf(buildModel('student', 3, 0.99, { mouth: true }))).toBe('head');
    tf.dispose([x, m0, m1]);
    [model, folded, restored].forEach((m) => m.dispose());
  });

  it('--mouth-weight is a typed flag, 0 by default, and old configs read as 0', () => {
    const base = defaultConfig('baseline', '/data');
    expect(base.mouthWeight).toBe(0);
    expect(applyTrainFlags(base, { mouthWeight: '0.5' }).mouthWeight).toBe(0.5);
    expect(() => applyTrainFlags(base, { mouthWeight: '-1' })).toThrow(/--mouth-weight: -1 is not a number ≥ 0/);
    expect(applyTrainFlags(defaultConfig('concat', '/data'), { mouthWeight: '1' }).mouthWeight).toBe(0);
    const dir = join(temp, 'old-run');
    mkdirSync(dir);
    const { mouthWeight: _, ...old } = base;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(old));
    expect(readConfig(dir).mouthWeight).toBe(0);
  });
});

/**
 * A FER-layout folder of generated faces: a dark mouth bar in the lower half whose height is the
 * face's "opening", and a synthetic teacher that reads that opening back as jawOpen-like keypoints.
 */
function writeSplit(base: string, split: string, n: number, offset: number): void {
  const dir = join(base, split);
  mkdirSync(dir, { recursive: true });
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const png = new PNG({ width: FACE_SIZE, height: FACE_SIZE });
    const opening = (i + offset) % 6;
    for (let y = 0; y < FACE_SIZE; y++) for (let x = 0; x < FACE_SIZE; x++) {
      const inMouth = y >= 34 && y < 35 + opening && x >= 16 && x < 32;
      const v = inMouth ? 20 : 120 + ((x * 3 + y * 5 + i * 11) % 60);
      png.data.set([v, v, v, 255], (y * FACE_SIZE + x) * 4);
    }
    writeFileSync(join(dir, `g${i}.png`), PNG.sync.write(png));
    const votes = new Array(10).fill(0);
    votes[i % 3] = 10;
    rows.push(`g${i}.png,"(0, 0, 48, 48)",${votes.join(',')}`);
  }
  writeFileSync(join(dir, 'label.csv'), `${rows.join('\n')}\n`);
}

/** Counts the dark mouth rows of each face and places the lips that far apart; every 5th face is not placed. */
const syntheticTeacher: LandmarkTeacher = {
  name: 'facemesh',
  crop: TEACHER_CROPS.facemesh,
  // Passes for the default teacher whether or not its weights are installed here.
  fingerprint: teacherFingerprint('facemesh') ?? 'synthetic',
  async locate(pixels, start, count) {
    return Array.from({ length: count }, (_, j) => {
      const face = pixels.subarray((start + j) * FACE_PIXELS, (start + j + 1) * FACE_PIXELS);
      let dark = 0;
      for (let y = 30; y < 44; y++) if (face[y * FACE_SIZE + 24] < 60) dark++;
      const iod = 18;
      const at = (x: number, y: number): Point2 => [24 + x * iod, 18 + y * iod];
      const gap = (dark - 1) / iod;
      const keypoints: FaceKeypoints = {
        eyeRight: at(-0.5, 0), eyeLeft: at(0.5, 0), noseBase: at(0, 0.75), chin: at(0, 1.75),
        cornerRight: at(-0.4, 1.1), cornerLeft: at(0.4, 1.1),
        upperLipBottom: at(0, 1.1 - gap / 2), upperLipTop: at(0, 1.1 - gap / 2 - 0.09),
        lowerLipTop: at(0, 1.1 + gap / 2), lowerLipBottom: at(0, 1.1 + gap / 2 + 0.14),
      };
      return { keypoints, score: (start + j) % 5 === 4 ? 0.1 : 0.9 };
    });
  },
  dispose() {},
};

describe('joint training with the mouth head', () => {
  const data = join(temp, 'data');
  const mouthCache = join(temp, 'mouth-cache');
  const runDir = join(temp, 'run');
  const caches = { mouthCacheDir: mouthCache, splitCacheDir: null };
  const config = (): TrainConfig => ({
    ...defaultConfig('baseline', data),
    initFrom: null, epochs: 2, batchSize: 16, learningRate: 2e-3, patience: 0, checkpointEveryBatches: 2, mouthWeight: 1,
  });

  beforeAll(async () => {
    writeSplit(data, 'FER2013Train', 64, 0);
    writeSplit(data, 'FER2013Valid', 30, 3);
    for (const split of ['FER2013Train', 'FER2013Valid'] as const) {
      const { header } = await cacheSplitTargets(data, split, syntheticTeacher, { cacheDir: mouthCache, splitCacheDir: null });
      expect(header.missing).toBeGreaterThan(0);
    }
  });

  it('trains both heads, stops and resumes with the head, and exports both outputs', async () => {
    const logs: string[] = [];
    const options = { log: (m: string) => logs.push(m), progress: false, ...caches };
    const stopped = await train(config(), runDir, objectiveFor('baseline'), { ...options, maxBatches: 3 });
    expect(stopped.state.finished).toBe(false);
    expect(logs.some((m) => /mouth targets for 52 of 64 faces \(12 the landmark teacher did not place/.test(m))).toBe(true);
    expect(logs.some((m) => m.startsWith('mouth head starts at the mean targets of 52 placed training faces'))).toBe(true);
    const { state } = await train(config(), runDir, objectiveFor('baseline'), options);
    expect(state.finished).toBe(true);
    expect(state.step).toBe(8);
    expect(logs.some((m) => /resuming .* at epoch 1, batch 3\/4/.test(m))).toBe(true);
    const epochs = readEpochs(runDir);
    expect(epochs).toHaveLength(2);
    for (const e of epochs) {
      expect(Number.isFinite(e.trainMouthLoss)).toBe(true);
      expect(e.trainMouthLoss).toBeGreaterThanOrEqual(0);
      expect(e.validMouthPearson === null || Math.abs(e.validMouthPearson!) <= 1).toBe(true);
    }
    expect(readState(runDir)?.finished).toBe(true);

    const checkpoint = await loadModelFromDir(join(runDir, 'checkpoint'));
    expect(checkpoint.outputLayers.map((l) => l.name)).toContain(MOUTH_LAYER);
    checkpoint.dispose();
    const exported = join(temp, 'export');
    await exportModelInto(join(runDir, 'best'), exported);
    const topology = JSON.parse(readFileSync(join(exported, 'model.json'), 'utf8')).modelTopology.config;
    expect(topology.output_layers.map((o: [string]) => o[0])).toEqual(['probabilities', MOUTH_LAYER]);
    const predictor = await loadMouthPredictor(exported);
    const y = predictor.predict(tf.zeros([2, FACE_SIZE, FACE_SIZE, 1]) as tf.Tensor4D);
    expect(y.shape).toEqual([2, K]);
    y.dispose();
    predictor.dispose();
  });

  it('starts a head on a trained backbone as a linear probe fitted to its frozen features', async () => {
    const init = join(temp, 'init');
    const backbone = buildModel('student', 4);
    await backbone.save(fileSaveHandler(init));
    backbone.dispose();
    const logs: string[] = [];
    await train({ ...config(), initFrom: init }, join(temp, 'probed'), objectiveFor('baseline'), { log: (m) => logs.push(m), progress: false, maxBatches: 1, ...caches });
    const line = logs.find((m) => m.startsWith('mouth head fitted as a linear probe'));
    expect(line).toMatch(/on the frozen features of 52 placed training faces: loss [\d.]+ → [\d.]+/);
    const [before, after] = line!.match(/loss ([\d.]+) → ([\d.]+)/)!.slice(1).map(Number);
    expect(after).toBeLessThan(before);
    // Without a trained backbone the head starts at the mean targets instead.
    expect(logs.some((m) => m.startsWith('mouth head starts at the mean'))).toBe(false);
  });

  it('--freeze expression trains only a mouth branch: the class outputs stay exactly those of the start', async () => {
    const start = join(runDir, 'best');
    const logs: string[] = [];
    const options = { log: (m: string) => logs.push(m), progress: false, ...caches };
    const frozenRun = join(temp, 'mouth-only');
    const mouthOnly = { ...config(), initFrom: runDir, mouthFrom: 'block2' as const, freeze: 'expression' as const };
    const { state } = await train(mouthOnly, frozenRun, objectiveFor('baseline'), options);
    expect(state.finished).toBe(true);
    expect(logs.some((m) => /expression network frozen: only the mouth head's \d+ layers learn \(from block2_pool\)/.test(m))).toBe(true);
    expect(logs.some((m) => m.startsWith('mouth head starts at the mean targets'))).toBe(true);
    expect(state.bestMouthPearson).toBe(Math.max(...readEpochs(frozenRun).map((e) => e.validMouthPearson ?? -1)));

    const [before, after] = await Promise.all([loadModelFromDir(start), loadModelFromDir(join(frozenRun, 'checkpoint'))]);
    const x = tf.randomUniform([6, FACE_SIZE, FACE_SIZE, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const [p0] = before.predict(x) as tf.Tensor[];
    const [p1, , , mouth] = after.predict(x) as tf.Tensor[];
    expect(tf.max(tf.abs(tf.sub(p0, p1))).dataSync()[0]).toBeLessThan(1e-6);
    expect(mouthSourceOf(after)).toBe('block2');
    // The branch did learn: it no longer predicts the same constant for every face.
    expect(tf.max(tf.moments(mouth, 0).variance).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, p0, p1, mouth]);
    before.dispose();
    after.dispose();

    await expect(train({ ...mouthOnly, mouthWeight: 0 }, join(temp, 'no-weight'), objectiveFor('baseline'), options)).rejects.toThrow(/--freeze expression trains only the mouth head: give it one with --mouth-weight/);
    await expect(train({ ...mouthOnly, initFrom: null }, join(temp, 'no-init'), objectiveFor('baseline'), options)).rejects.toThrow(/give a trained one with --init/);
  });

  it("a concat keeps its kd student's mouth branch, frozen: the same mouth outputs as that student", async () => {
    const kd = join(temp, 'mouth-only');
    const concatRun = join(temp, 'concat');
    const logs: string[] = [];
    const concatConfig: TrainConfig = { ...defaultConfig('concat', data), limitTrain: 64, limitValid: 30, epochs: 1, batchSize: 16, checkpointEveryBatches: 2, concat: { kd, triplet: runDir }, architecture: 'student' };
    const { state } = await train(concatConfig, concatRun, objectiveFor('concat'), { log: (m) => logs.push(m), progress: false, ...caches });
    expect(state.finished).toBe(true);
    expect(logs.some((m) => /initialised the mouth branch \(\d+ layers\) from .*mouth-only, frozen/.test(m))).toBe(true);
    const [student, concat] = await Promise.all([loadModelFromDir(join(kd, 'best')), loadModelFromDir(join(concatRun, 'best'))]);
    expect(concat.getLayer('mouth_conv1').inboundNodes[0].inboundLayers[0].name).toBe('kd_block2_pool');
    const x = tf.randomUniform([4, FACE_SIZE, FACE_SIZE, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
    const m0 = (student.predict(x) as tf.Tensor[])[3];
    const m1 = (concat.predict(x) as tf.Tensor[])[3];
    expect(tf.max(tf.abs(tf.sub(m0, m1))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, m0, m1]);
    [student, concat].forEach((m) => m.dispose());
    // A mouth head on the kd student's own embedding has no place in the concat.
    expect(() => buildConcatModel(1, 'student', { mouthFrom: 'head' })).toThrow(/only as a branch on a conv block/);
  });

  it('refuses to resume a run whose checkpoint lacks the head its config asks for', async () => {
    const other = join(temp, 'no-head');
    await train({ ...config(), mouthWeight: 0 }, other, objectiveFor('baseline'), { log: () => {}, progress: false, maxBatches: 1, ...caches });
    const saved = JSON.parse(readFileSync(join(other, 'config.json'), 'utf8'));
    writeFileSync(join(other, 'config.json'), JSON.stringify({ ...saved, mouthWeight: 1 }));
    await expect(train(readConfig(other), other, objectiveFor('baseline'), { log: () => {}, progress: false, ...caches }))
      .rejects.toThrow(/has no mouth head but the run's config says mouthWeight 1/);
  });
});
