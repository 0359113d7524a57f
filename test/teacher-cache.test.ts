/**
 * Cached teacher outputs (tools/train/teacher-cache.ts) on real FER+ images, 128 faces x 2 views:
 * computed once and reused, refused for another teacher, and a kd step on the cache gives the loss
 * a live teacher gives on the same views.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FACE_PIXELS } from '../src/core/face-geometry.js';
import { NUM_CLASSES } from '../src/core/labels.js';
import { selectBackend } from '../tools/backend/select.js';
import { facesTensor } from '../tools/data/batches.js';
import { loadSplit, type LabelledSplit } from '../tools/data/ferplus.js';
import { makeViewBatch, viewAt } from '../tools/data/views.js';
import { defaultConfig, type TrainConfig } from '../tools/train/config.js';
import { readEpochs } from '../tools/train/run-dir.js';
import { loadTeacher, objectiveFor } from '../tools/train/stages.js';
import { ensureTeacherCache, fingerprintOf, teacherCacheKey } from '../tools/train/teacher-cache.js';
import { train } from '../tools/train/trainer.js';
import { DATA_DIR } from './helpers/data.js';
import { writeBiasedStudent } from './helpers/second-model.js';

const FACES = 128;
const VIEWS = 2;
const quiet = () => {};
let split: LabelledSplit;
let teacherDir: string;
let cacheRoot: string;
let config: TrainConfig;

beforeAll(async () => {
  expect((await selectBackend('wasm', 1)).name).toBe('wasm');
  const full = loadSplit(DATA_DIR, 'FER2013Train', 'majority', { log: quiet });
  split = { ...full, names: full.names.slice(0, FACES), pixels: full.pixels.slice(0, FACES * FACE_PIXELS), targets: full.targets.slice(0, FACES * NUM_CLASSES), labels: full.labels.slice(0, FACES) };
  // A teacher of our own to change later: the committed student as an exported model folder.
  teacherDir = mkdtempSync(join(tmpdir(), 'halfface-teacher-'));
  cpSync('models/student-baseline', teacherDir, { recursive: true });
  cacheRoot = mkdtempSync(join(tmpdir(), 'halfface-teacher-outputs-'));
  config = {
    ...defaultConfig('kd', DATA_DIR), teacher: teacherDir, initFrom: 'models/student-baseline', teacherViews: VIEWS,
    limitTrain: FACES, limitValid: 16, epochs: 1, batchSize: 16, patience: 0,
  };
});

describe('cached teacher outputs', () => {
  it('are computed once, with a progress line, then read back without loading the teacher', async () => {
    let loads = 0;
    const load = () => { loads++; return loadTeacher(config, split); };
    const logs: string[] = [];
    const first = await ensureTeacherCache(config, split, load, { root: cacheRoot, log: (m) => logs.push(m), chunk: 64 });
    expect(loads).toBe(1);
    expect(logs.some((l) => /^teacher outputs: 256\/256 views \(2 per face\)/.test(l))).toBe(true);
    expect(first.dir).toBe(join(cacheRoot, fingerprintOf(teacherCacheKey(config, split))));
    expect(readdirSync(cacheRoot)).toEqual([fingerprintOf(teacherCacheKey(config, split))]);
    // every seed and stage trains on the same views, so they share the cache; another view seed does not
    expect(teacherCacheKey({ ...config, seed: config.seed + 10 }, split)).toEqual(teacherCacheKey(config, split));
    expect(teacherCacheKey({ ...defaultConfig('triplet', DATA_DIR), teacher: teacherDir, teacherViews: VIEWS }, split)).toEqual(teacherCacheKey(config, split));
    expect(fingerprintOf(teacherCacheKey({ ...config, viewSeed: config.viewSeed + 1 }, split))).not.toBe(fingerprintOf(teacherCacheKey(config, split)));
    expect(statSync(join(first.dir, 'logits.bin')).size).toBe(FACES * VIEWS * NUM_CLASSES * 4);
    expect(statSync(join(first.dir, 'embeddings.bin')).size).toBe(FACES * VIEWS * first.meta.embeddingSize * 4);

    const again = await ensureTeacherCache(config, split, load, { root: cacheRoot, log: quiet });
    expect(loads).toBe(1);
    expect(again.meta).toEqual(first.meta);

    // row (face, view) holds the teacher's logits on exactly that view
    const faces = Int32Array.of(5, 77, 5);
    const views = Int32Array.of(0, 1, 1);
    const batch = makeViewBatch(split, faces, views, 'lower', config.augment, config.viewSeed);
    const teacher = await loadTeacher(config, split);
    const [live, liveEmbeddings] = tf.tidy(() => (teacher.predict(facesTensor(batch.clean)) as tf.Tensor[]).slice(1, 3));
    const cached = again.logits(batch);
    const cachedEmbeddings = again.embeddings(batch);
    const gap = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    expect(gap(live, cached)).toBeLessThan(1e-4);
    expect(gap(liveEmbeddings, cachedEmbeddings)).toBeLessThan(1e-4);
    tf.dispose([liveEmbeddings, cachedEmbeddings]);
    // and the two views of face 5 differ
    const rows = cached.arraySync();
    expect(rows[0]).not.toEqual(rows[2]);
    tf.dispose([live, cached]);
    teacher.dispose();
  });

  it('a kd step on the cache gives the loss a live teacher gives on the same views', async () => {
    const indices = Int32Array.from({ length: 16 }, (_, i) => i * 7);
    const batch = makeViewBatch(split, indices, indices.map((f) => viewAt(3, f, VIEWS)), config.occlusion, config.augment, config.viewSeed);
    const context = { runDir: mkdtempSync(join(tmpdir(), 'halfface-kd-step-')), log: quiet, teacherCacheRoot: cacheRoot };
    const withCache = await objectiveFor('kd')(config, split, context);
    const withTeacher = await objectiveFor('kd')({ ...config, teacherViews: 0 }, split, context);
    // A student without dropout, so that both objectives see the same student logits.
    const input = tf.input({ shape: [48, 48, 1] });
    const embedding = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ units: NUM_CLASSES, kernelInitializer: tf.initializers.randomNormal({ stddev: 0.01, seed: 4 }) }).apply(embedding) as tf.SymbolicTensor;
    const student = tf.model({ inputs: input, outputs: [tf.layers.softmax().apply(logits) as tf.SymbolicTensor, logits, embedding] });
    const x = facesTensor(batch.faces);
    const targets = tf.tensor2d(batch.targets, [indices.length, NUM_CLASSES]);
    const loss = (objective: typeof withCache) => tf.tidy(() => objective.loss(student, batch, x, targets).dataSync()[0]);
    const cachedLoss = loss(withCache);
    const liveLoss = loss(withTeacher);
    expect(loss(withCache)).toBe(cachedLoss);
    expect(Number.isFinite(cachedLoss)).toBe(true);
    expect(Math.abs(cachedLoss - liveLoss)).toBeLessThan(1e-5);
    // the match is the view's: the other view's cached outputs give another loss
    const otherView = { ...batch, views: batch.views!.map((v) => 1 - v) };
    const otherLoss = tf.tidy(() => withCache.loss(student, otherView, x, targets).dataSync()[0]);
    expect(Math.abs(otherLoss - liveLoss)).toBeGreaterThan(1e-4);
    tf.dispose([x, targets]);
    student.dispose();
    withCache.dispose();
    withTeacher.dispose();
  });

  it('a run is pinned to its teacher: a changed teacher is refused on resume, never mixed', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'halfface-kd-cached-'));
    const options = { log: quiet, progress: false, teacherCacheRoot: cacheRoot };
    await train(config, runDir, objectiveFor('kd'), { ...options, maxBatches: 3 });
    const pinned = JSON.parse(readFileSync(join(runDir, 'teacher-outputs.json'), 'utf8')) as { fingerprint: string };
    expect(pinned.fingerprint).toBe(fingerprintOf(teacherCacheKey(config, split)));
    expect(readdirSync(cacheRoot)).toHaveLength(1); // the run reused the cache of the first test

    await writeBiasedStudent(teacherDir, 1, 2); // the teacher folder is retrained under the run
    await expect(train(config, runDir, objectiveFor('kd'), options)).rejects.toThrow(
      /trained on teacher outputs \w+, but the configured teacher now gives \w+: its teacher's weights changed .* never mixed in one run/,
    );
    expect(readEpochs(runDir)).toHaveLength(0);
    // a fresh run on the new teacher gets its own cache folder beside the old one
    const fresh = mkdtempSync(join(tmpdir(), 'halfface-kd-cached-'));
    await train(config, fresh, objectiveFor('kd'), { ...options, maxBatches: 1 });
    expect(readdirSync(cacheRoot)).toHaveLength(2);
    expect(existsSync(join(fresh, 'teacher-outputs.json'))).toBe(true);
  });
});
