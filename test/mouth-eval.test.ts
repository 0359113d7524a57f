/**
 * npm run eval --task mouth on real FER+ faces, with a tiny model whose mouth output is a known
 * function of the pixels: mouth_k = sigmoid(w_k · mean pixel of the occluded face + b_k). The
 * expected Pearson r and MAE against the teacher's targets are computed here by hand, from the
 * pixels and the cached targets, and must match the report.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FACE_PIXELS } from '../src/core/face-geometry.js';
import { MOUTH_BLENDSHAPES } from '../src/core/mouth-blendshapes.js';
import { occlude } from '../src/core/occlusion.js';
import { selectBackend } from '../tools/backend/select.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { evaluateMouthModelDir } from '../tools/eval/mouth.js';
import { fileSaveHandler } from '../tools/model/file-io.js';
import { ensureSplitTargets, loadMouthTargets } from '../tools/mouth/targets.js';
import { clearRows, makeDataDir } from './helpers/mouth-faces.js';

const K = MOUTH_BLENDSHAPES.length;
const W = MOUTH_BLENDSHAPES.map((_, k) => (k % 2 === 0 ? 1 : -1) * (0.5 + 0.4 * k));
const B = MOUTH_BLENDSHAPES.map((_, k) => 0.05 * k - 0.3);

/** Input → mean pixel → a softmax "classes" head and a sigmoid "mouth" head with weights W, B. */
async function saveTinyModel(dir: string, mouth: { units: number; name: string } | null): Promise<void> {
  const input = tf.input({ shape: [48, 48, 1] });
  const mean = tf.layers.globalAveragePooling2d({}).apply(input) as tf.SymbolicTensor;
  const classes = tf.layers.dense({ units: 8, activation: 'softmax', name: 'classes' }).apply(mean) as tf.SymbolicTensor;
  const outputs = [classes];
  let head: tf.layers.Layer | null = null;
  if (mouth) {
    head = tf.layers.dense({ units: mouth.units, activation: 'sigmoid', name: mouth.name });
    outputs.push(head.apply(mean) as tf.SymbolicTensor);
  }
  const model = tf.model({ inputs: input, outputs });
  if (head) head.setWeights([tf.tensor2d([W.slice(0, mouth!.units)]), tf.tensor1d(B.slice(0, mouth!.units))]);
  await model.save(fileSaveHandler(dir));
  model.dispose();
}

function pearsonByHand(a: number[], b: number[]): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let c = 0; let va = 0; let vb = 0;
  a.forEach((v, i) => { c += (v - ma) * (b[i] - mb); va += (v - ma) ** 2; vb += (b[i] - mb) ** 2; });
  return c / Math.sqrt(va * vb);
}

let dataDir: string;
let cacheDir: string;
const models = mkdtempSync(join(tmpdir(), 'halfface-mouth-models-'));

beforeAll(async () => {
  await selectBackend('wasm', 1);
  dataDir = makeDataDir([...clearRows(0, 8, 20), ...clearRows(2, 8, 20), ...clearRows(1, 8, 12)]);
  cacheDir = mkdtempSync(join(tmpdir(), 'halfface-mouth-cache-'));
  await saveTinyModel(join(models, 'good'), { units: K, name: 'mouth' });
  await saveTinyModel(join(models, 'none'), null);
  await saveTinyModel(join(models, 'narrow'), { units: 3, name: 'mouth' });
});

describe('eval --task mouth', () => {
  it('scores the mouth output against the teacher exactly as computed by hand', async () => {
    await ensureSplitTargets(dataDir, 'FER2013Valid', { teacher: 'landmark68', cacheDir });
    const report = await evaluateMouthModelDir(join(models, 'good'), dataDir, 'FER2013Valid', 'lower', { teacher: 'landmark68', cacheDir });
    const split = loadSplit(dataDir, 'FER2013Valid', 'majority', { cacheDir: null });
    const truth = loadMouthTargets(dataDir, 'FER2013Valid', split.names, { teacher: 'landmark68', cacheDir });
    const rows = split.names.map((_, i) => i).filter((i) => truth.mask[i]);
    expect(report.n).toBe(rows.length);
    expect(report.missing).toBe(split.names.length - rows.length);
    expect(report.n).toBeGreaterThan(30);
    // The model's input: the face /255 with the upper half black; its mouth output by hand.
    const meanPixel = rows.map((i) => {
      const face = Float32Array.from(split.pixels.subarray(i * FACE_PIXELS, (i + 1) * FACE_PIXELS), (p) => p / 255);
      return occlude(face, 'lower').reduce((s, v) => s + v, 0) / FACE_PIXELS;
    });
    const rs: number[] = [];
    MOUTH_BLENDSHAPES.forEach((name, k) => {
      const predicted = meanPixel.map((m) => 1 / (1 + Math.exp(-(W[k] * m + B[k]))));
      const target = rows.map((i) => truth.targets[i * K + k]);
      const mae = predicted.reduce((s, p, j) => s + Math.abs(p - target[j]), 0) / rows.length;
      expect(report.mouth.perBlendshape[name].mae).toBeCloseTo(mae, 4);
      const spread = Math.max(...target) - Math.min(...target);
      if (spread === 0) {
        expect(report.mouth.perBlendshape[name].pearson).toBeNull();
        return;
      }
      const r = pearsonByHand(predicted, target);
      rs.push(r);
      expect(report.mouth.perBlendshape[name].pearson).toBeCloseTo(r, 3);
    });
    expect(report.mouth.meanPearson).toBeCloseTo(rs.reduce((a, b) => a + b, 0) / rs.length, 3);
  });

  it('refuses a model without a "mouth" output or with the wrong number of units, naming what it has', async () => {
    await expect(evaluateMouthModelDir(join(models, 'none'), dataDir, 'FER2013Valid', 'lower', { teacher: 'landmark68', cacheDir }))
      .rejects.toThrow(/has no "mouth" output layer \(its outputs: classes\)/);
    await expect(evaluateMouthModelDir(join(models, 'narrow'), dataDir, 'FER2013Valid', 'lower', { teacher: 'landmark68', cacheDir }))
      .rejects.toThrow(/"mouth" output of 3 units, expected 13/);
  });

  it('runs from the command line and writes {n, mouth: {meanPearson, perBlendshape}}', () => {
    const json = join(models, 'report.json');
    // The CLI caches under .cache/mouth of its working folder: run it in a fresh one.
    const cwd = mkdtempSync(join(tmpdir(), 'halfface-mouth-cwd-'));
    const root = join(import.meta.dirname, '..');
    const tsx = join(root, 'node_modules/.bin/tsx');
    const cli = join(root, 'tools/cli/eval.ts');
    const out = execFileSync(tsx, [cli, '--task', 'mouth', '--teacher', 'landmark68', '--model', join(models, 'good'), '--data', dataDir,
      '--split', 'FER2013Valid', '--occlusion', 'lower', '--json', json, '--backend', 'wasm'], { encoding: 'utf8', cwd });
    // No cache there yet: the command computed the teacher's targets itself, and cached them.
    expect(out).toMatch(/no mouth targets for FER2013Valid.*computing the teacher's targets now/);
    expect(existsSync(join(cwd, '.cache/mouth'))).toBe(true);
    expect(out).toMatch(/mean Pearson r: +-?\d\.\d{3}/);
    expect(out).toMatch(/jawOpen +r +-?\d\.\d{3} +MAE \d\.\d{3}/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(Object.keys(report.mouth.perBlendshape)).toEqual([...MOUTH_BLENDSHAPES]);
    expect(report.n).toBeGreaterThan(30);
    expect(typeof report.mouth.perBlendshape.jawOpen.mae).toBe('number');
    let failed = '';
    try {
      execFileSync(tsx, [cli, '--task', 'mouth', '--teacher', 'landmark68', '--model', join(models, 'none'), '--data', dataDir, '--backend', 'wasm'], { encoding: 'utf8', stdio: 'pipe', cwd });
    } catch (e) {
      failed = String((e as { stderr: string }).stderr);
    }
    expect(failed).toMatch(/^error: model at .* has no "mouth" output layer/m);
  });
});
