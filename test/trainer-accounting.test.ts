/**
 * The trainer's bookkeeping on real FER+ images: training accuracy is measured on every 10th batch
 * and divided by the images actually scored, also when a run resumes mid-epoch at a batch that is
 * not a multiple of 10 (it used to divide by an estimate from the batches seen).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../tools/backend/select.js';
import { NO_AUGMENT } from '../tools/data/augment.js';
import { epochOrder } from '../tools/data/batch-order.js';
import { facesTensor, makeBatch } from '../tools/data/batches.js';
import { loadSplit } from '../tools/data/ferplus.js';
import { seededRandom } from '../tools/data/random.js';
import { predictedLabels } from '../tools/eval/metrics.js';
import { loadModelFromDir } from '../tools/model/file-io.js';
import { defaultConfig, type TrainConfig } from '../tools/train/config.js';
import { readEpochs, readState } from '../tools/train/run-dir.js';
import { objectiveFor } from '../tools/train/stages.js';
import { train } from '../tools/train/trainer.js';
import { DATA_DIR } from './helpers/data.js';

const quiet = () => {};

beforeAll(async () => {
  expect((await selectBackend('wasm', 1)).name).toBe('wasm');
});

describe('trainer accounting', () => {
  it('a run resumed at batch 15 scores training accuracy on batch 20 alone, over its 8 images', async () => {
    // A learning rate of ~0 and BatchNorm statistics that never move keep the network as it
    // started, so the accuracy the trainer logs can be recomputed from the saved checkpoint.
    const config: TrainConfig = {
      ...defaultConfig('baseline', DATA_DIR), initFrom: 'models/student-baseline', augment: NO_AUGMENT,
      limitTrain: 240, limitValid: 16, epochs: 1, batchSize: 8, learningRate: 1e-12, batchNormMomentum: 1, patience: 0,
      checkpointEveryBatches: 7,
    };
    const dir = mkdtempSync(join(tmpdir(), 'halfface-accounting-'));
    await train(config, dir, objectiveFor('baseline'), { log: quiet, progress: false, maxBatches: 15 });
    expect(readState(dir)).toMatchObject({ epoch: 0, batch: 15, step: 15 });
    await train(config, dir, objectiveFor('baseline'), { log: quiet, progress: false });
    const [record] = readEpochs(dir);

    // Batch 20 as the trainer builds it: the epoch's order and the batch's own random stream.
    const split = loadSplit(DATA_DIR, 'FER2013Train', 'majority', { log: quiet });
    const labels = split.labels.slice(0, 240);
    const order = epochOrder(config.batchOrder, labels, config.batchSize, config.seed * 100003);
    const batch = makeBatch(split, order.subarray(160, 168), 'lower', NO_AUGMENT, seededRandom(config.seed * 7919 + 20));
    const model = await loadModelFromDir(join(dir, 'checkpoint'));
    const probs = tf.tidy(() => (model.predict(facesTensor(batch.faces)) as tf.Tensor[])[0]);
    const predicted = predictedLabels(await probs.data() as Float32Array);
    probs.dispose();
    model.dispose();
    const correct = predicted.filter((p, i) => p === batch.labels[i]).length;
    expect(correct).toBeGreaterThan(0); // else any denominator would do
    expect(record.trainAccuracy).toBe(correct / 8);
  });

  it('mid-epoch and end-of-epoch checkpoints save the position to resume from', async () => {
    const config: TrainConfig = {
      ...defaultConfig('baseline', DATA_DIR), initFrom: null, limitTrain: 96, limitValid: 16, epochs: 2, batchSize: 8, patience: 0,
      checkpointEveryBatches: 5,
    };
    const dir = mkdtempSync(join(tmpdir(), 'halfface-positions-'));
    // 12 batches an epoch: a checkpoint after batch index 4 says "resume at 5", after 9 "at 10".
    const stopped = await train(config, dir, objectiveFor('baseline'), { log: quiet, progress: false, maxBatches: 7 });
    expect(stopped.state).toMatchObject({ epoch: 0, batch: 7 });
    const logs: string[] = [];
    const done = await train(config, dir, objectiveFor('baseline'), { log: (m) => logs.push(m), progress: false });
    expect(logs.some((l) => /resuming .* at epoch 1, batch 7\/12/.test(l))).toBe(true);
    expect(done.state).toMatchObject({ epoch: 2, batch: 0, step: 24, finished: true });
    expect(readState(dir)).toMatchObject({ epoch: 2, batch: 0, step: 24, finished: true });
    expect(readEpochs(dir).map((e) => e.epoch)).toEqual([1, 2]);
  });
});
