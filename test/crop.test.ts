/**
 * --crop visible: a lower-half student computes only on the rows a headset leaves visible. The
 * input stays the 48x48 occluded face, so nothing outside the network changes; the network does
 * about half the work and cannot depend on the hidden rows at all.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_SIZE } from '../src/core/face-geometry.js';
import { hiddenRows } from '../src/core/occlusion.js';
import { selectBackend } from '../tools/backend/select.js';
import { buildConcatModel, buildModel, cropOf, forwardFlops, inferenceGraph } from '../tools/model/architectures.js';
import { exportModelInto } from '../tools/model/export.js';
import { fileSaveHandler, loadModelFromDir } from '../tools/model/file-io.js';
import { restoreTrainingModel } from '../tools/model/unfold.js';
import { defaultConfig } from '../tools/train/config.js';
import { applyTrainFlags, configForNewRun } from '../tools/train/flags.js';
import { modelCrop, readConfig } from '../tools/train/run-dir.js';

const temp = mkdtempSync(join(tmpdir(), 'halfface-crop-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
beforeAll(async () => {
  await selectBackend('wasm', 1);
});

/** Faces that differ only in the rows the lower occlusion hides. */
function facesDifferingAbove(n: number): [tf.Tensor4D, tf.Tensor4D] {
  const a = tf.randomUniform([n, FACE_SIZE, FACE_SIZE, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  const [, end] = hiddenRows('lower');
  const top = tf.randomUniform([n, end, FACE_SIZE, 1], 0, 1, 'float32', 8);
  const b = tf.concat([top, a.slice([0, end, 0, 0], [n, FACE_SIZE - end, FACE_SIZE, 1])], 1) as tf.Tensor4D;
  top.dispose();
  return [a, b];
}

const maxAbsDiff = (x: tf.Tensor, y: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]);

describe('a network that computes only on the visible rows', () => {
  it('ignores the hidden rows entirely, where the uncropped network does not', () => {
    const [a, b] = facesDifferingAbove(3);
    const cropped = buildModel('student', 4, 0.99, { crop: 'visible', occlusion: 'lower' });
    const whole = buildModel('student', 4);
    const [pa, pb] = [a, b].map((x) => (cropped.predict(x) as tf.Tensor[])[0]);
    expect(maxAbsDiff(pa, pb)).toBe(0);
    const [wa, wb] = [a, b].map((x) => (whole.predict(x) as tf.Tensor[])[0]);
    expect(maxAbsDiff(wa, wb)).toBeGreaterThan(1e-4);
    tf.dispose([a, b, pa, pb, wa, wb]);
    [cropped, whole].forEach((m) => m.dispose());
  });

  it('does about half the convolution work, and keeps the chin: block 4 pools 3 rows to 2', () => {
    for (const architecture of ['student', 'teacher'] as const) {
      const cropped = buildModel(architecture, 1, 0.99, { crop: 'visible', occlusion: 'lower' });
      const whole = buildModel(architecture, 1);
      const ratio = forwardFlops(cropped) / forwardFlops(whole);
      expect(ratio).toBeGreaterThan(0.45);
      expect(ratio).toBeLessThan(0.55);
      expect(cropped.getLayer('block4_pool').outputShape).toEqual([null, 2, 3, cropped.getLayer('block4_conv2').outputShape[3]]);
      // The uncropped network's layers are those of every earlier run ('valid' pools).
      expect(whole.getLayer('block4_pool').getConfig().padding).toBe('valid');
      [cropped, whole].forEach((m) => m.dispose());
    }
  });

  it('crops the other half for an upper-half network, and refuses a crop of nothing', () => {
    const upper = buildModel('student', 1, 0.99, { crop: 'visible', occlusion: 'upper' });
    expect(cropOf(upper)).toEqual({ crop: 'visible', occlusion: 'upper' });
    expect(cropOf(buildModel('student', 1, 0.99, { crop: 'visible', occlusion: 'lower' }))).toEqual({ crop: 'visible', occlusion: 'lower' });
    expect(cropOf(buildModel('student', 1))).toEqual({ crop: 'none', occlusion: 'none' });
    expect(() => buildModel('student', 1, 0.99, { crop: 'visible', occlusion: 'none' })).toThrow(/hides no rows/);
    upper.dispose();
  });

  it('exports folded, with its mouth branch, loads with the same outputs, and restores to its training graph', async () => {
    const model = buildModel('student', 5, 0.99, { crop: 'visible', occlusion: 'lower', mouth: true, mouthFrom: 'block2' });
    const saved = join(temp, 'trained');
    await model.save(fileSaveHandler(saved));
    const dir = join(temp, 'exported');
    await exportModelInto(saved, dir, { quantize: 'none' });
    expect(modelCrop(dir)).toBe('visible');
    const loaded = await loadModelFromDir(dir);
    const [a] = facesDifferingAbove(2);
    const before = inferenceGraph(model).predict(a) as tf.Tensor[];
    const after = loaded.predict(a) as tf.Tensor[];
    expect(after.length).toBe(2);
    expect(maxAbsDiff(before[0], after[0])).toBeLessThan(1e-4);
    expect(maxAbsDiff(before[1], after[1])).toBeLessThan(1e-4);
    const { model: restored } = restoreTrainingModel(loaded, a);
    expect(cropOf(restored)).toEqual({ crop: 'visible', occlusion: 'lower' });
    tf.dispose([a, ...before, ...after]);
    [model, loaded, restored].forEach((m) => m.dispose());
  });

  it('a concat crops once, for both branches', () => {
    const concat = buildConcatModel(1, 'student', { crop: 'visible', occlusion: 'lower' });
    expect(concat.layers.filter((l) => l.getClassName() === 'Cropping2D').length).toBe(1);
    expect(concat.getLayer('kd_block1_conv1').inboundNodes[0].inboundLayers[0].name).toBe('visible_rows');
    expect(concat.getLayer('triplet_block1_conv1').inboundNodes[0].inboundLayers[0].name).toBe('visible_rows');
    concat.dispose();
  });
});

describe('--crop', () => {
  it('is a typed flag, none by default; a concat takes its kd student\'s crop; old runs read as none', async () => {
    const base = defaultConfig('kd', '/data');
    expect(base.crop).toBe('none');
    expect(applyTrainFlags(base, { crop: 'visible' }).crop).toBe('visible');
    expect(() => applyTrainFlags(base, { crop: 'half' })).toThrow(/--crop/);
    const kdDir = join(temp, 'kd-student');
    const student = buildModel('student', 1, 0.99, { crop: 'visible', occlusion: 'lower' });
    await student.save(fileSaveHandler(kdDir));
    student.dispose();
    const concat = { ...defaultConfig('concat', '/data'), concat: { kd: kdDir, triplet: kdDir } };
    expect(configForNewRun(concat, {}).crop).toBe('visible');
    expect(configForNewRun(concat, { crop: 'none' }).crop).toBe('none');
    const dir = join(temp, 'old-run');
    mkdirSync(dir);
    const { crop: _, ...old } = base;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(old));
    expect(readConfig(dir).crop).toBe('none');
  });
});
