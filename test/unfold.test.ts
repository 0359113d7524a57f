/**
 * Restoring a committed, folded model to its training graph (tools/model/unfold.ts): the restored
 * network computes what the shipped one does, so it can be fine-tuned or teach.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../tools/backend/select.js';
import { loadSplit, type LabelledSplit } from '../tools/data/ferplus.js';
import { loadModelFromDir } from '../tools/model/file-io.js';
import { restoreTrainingModel } from '../tools/model/unfold.js';
import { modelArchitecture } from '../tools/train/run-dir.js';
import { calibrationFaces } from '../tools/train/trainer.js';
import { DATA_DIR } from './helpers/data.js';

let valid: LabelledSplit;
let shipped: tf.LayersModel;

beforeAll(async () => {
  await selectBackend('wasm', 1);
  valid = loadSplit(DATA_DIR, 'FER2013Valid', 'majority', {});
  shipped = await loadModelFromDir('models/student-baseline');
});
afterAll(() => shipped.dispose());

const argmaxAgreement = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.mean(tf.equal(tf.argMax(a, 1), tf.argMax(b, 1)).toFloat()).dataSync()[0]);

describe('restoring an exported model for training', () => {
  it('gives back the student with BatchNorms, computing the shipped probabilities on real faces', () => {
    // Calibrate on one half of the validation faces, compare on the other: no image is seen twice.
    const calibration = calibrationFaces(valid, 'lower', 256);
    const faces = tf.tidy(() => calibrationFaces(valid, 'lower', 512).slice([256, 0, 0, 0], [256, -1, -1, -1]));
    const { model, architecture } = restoreTrainingModel(shipped, calibration);
    // The layers' shapes name the same network as model.json's first convolution.
    expect(architecture).toBe(modelArchitecture('models/student-baseline'));
    expect(model.outputs.map((o) => o.shape)).toEqual([[null, 8], [null, 8], [null, 256]]);
    expect(model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length).toBe(8);

    const expected = shipped.predict(faces) as tf.Tensor;
    const [inference] = model.predict(faces) as tf.Tensor[];
    expect(tf.max(tf.abs(tf.sub(expected, inference))).dataSync()[0]).toBeLessThan(1e-4);
    // Training mode normalises with each batch's own moments (and drops units): the calibrated
    // BatchNorms keep it close to the shipped network rather than starting training from noise.
    const [training] = model.apply(faces, { training: true }) as tf.Tensor[];
    expect(argmaxAgreement(expected, training)).toBeGreaterThan(0.8);
    tf.dispose([calibration, faces, expected, inference, training]);
    model.dispose();
  });

  it('refuses a model whose layers fit no architecture, saying so', async () => {
    const concat = await loadModelFromDir('models/student-concat');
    const calibration = calibrationFaces(valid, 'lower', 32);
    expect(() => restoreTrainingModel(concat, calibration)).toThrow(/matches none of the architectures/);
    calibration.dispose();
    concat.dispose();
  });
});
