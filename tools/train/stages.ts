/**
 * The objective of each pipeline stage (the paper's method, as the README's training section tells it):
 * teacher, baseline: cross-entropy; kd: Hinton distillation from the teacher's view of the whole
 * face; triplet: cross-entropy + triplet loss against teacher embeddings; concat: a head on the
 * frozen, concatenated KD and triplet embeddings.
 */
import * as tf from '@tensorflow/tfjs';
import { facesTensor, type HostBatch } from '../data/batches.js';
import type { LabelledSplit } from '../data/ferplus.js';
import { loadModelFromDir } from '../model/file-io.js';
import { restoreTrainingModel } from '../model/unfold.js';
import type { Stage, TrainConfig } from './config.js';
import { crossEntropy, distillationLoss, l2Normalise, mineBatchHard, pairwiseSquaredDistances, tripletLoss } from './losses.js';
import { bestModelDir } from './run-dir.js';
import { ensureTeacherCache, pinRunToCache } from './teacher-cache.js';
import { calibrationFaces, classificationObjective, labelLogitsFor, trainingOutputs, type Objective, type ObjectiveContext, type ObjectiveFactory } from './trainer.js';

/**
 * The teacher with outputs [probabilities, logits, embedding], frozen: a run folder as trained, or
 * an exported model folder restored to its training graph (calibrated on whole faces, as the
 * teacher sees them).
 */
export async function loadTeacher(config: TrainConfig, trainSplit: LabelledSplit): Promise<tf.LayersModel> {
  if (!config.teacher) throw new Error(`the ${config.stage} stage needs a teacher: --teacher <teacher run or model folder>`);
  let teacher = await loadModelFromDir(bestModelDir(config.teacher));
  if (teacher.outputs.length < 3) {
    const exported = teacher;
    const calibration = calibrationFaces(trainSplit, 'none');
    try {
      teacher = restoreTrainingModel(exported, calibration).model;
    } catch (e) {
      throw new Error(`${config.teacher} cannot serve as the ${config.stage} stage's teacher: ${(e as Error).message}`);
    } finally {
      exported.dispose();
      calibration.dispose();
    }
  }
  teacher.trainable = false;
  return teacher;
}

/** What the distillation objectives take from the teacher for a batch: its logits or embeddings of the batch's whole faces. */
export interface TeacherSignal {
  logits(batch: HostBatch): tf.Tensor2D;
  embeddings(batch: HostBatch): tf.Tensor2D;
  dispose(): void;
}

/**
 * The live teacher (inference mode, on the batch's augmented faces, unoccluded), or with
 * teacherViews > 0 its outputs cached over the fixed views: no teacher forward pass per step, and
 * the teacher loaded only if the cache must be computed. A run stays pinned to the cache it began on.
 */
export async function teacherSignal(config: TrainConfig, trainSplit: LabelledSplit, context: ObjectiveContext): Promise<TeacherSignal> {
  if (config.teacherViews > 0) {
    const cache = await ensureTeacherCache(config, trainSplit, () => loadTeacher(config, trainSplit), { root: context.teacherCacheRoot, log: context.log });
    pinRunToCache(context.runDir, cache.meta);
    return { logits: cache.logits, embeddings: cache.embeddings, dispose: () => {} };
  }
  const teacher = await loadTeacher(config, trainSplit);
  const outputs = (batch: HostBatch) => teacher.predict(facesTensor(batch.clean)) as tf.Tensor2D[];
  return { logits: (batch) => outputs(batch)[1], embeddings: (batch) => outputs(batch)[2], dispose: () => teacher.dispose() };
}

const kdObjective: ObjectiveFactory = async (config, trainSplit, context) => {
  const teacher = await teacherSignal(config, trainSplit, context);
  const labelLogits = labelLogitsFor(config);
  return {
    loss: (model, batch, x, targets, outputs) => {
      const teacherLogits = teacher.logits(batch);
      const logits = trainingOutputs(model, x, outputs)[1] as tf.Tensor2D;
      return distillationLoss(targets, logits, teacherLogits, config.kd.temperature, config.kd.alpha, labelLogits(logits));
    },
    dispose: () => teacher.dispose(),
  };
};

const tripletObjective: ObjectiveFactory = async (config, trainSplit, context) => {
  const teacher = await teacherSignal(config, trainSplit, context);
  const labelLogits = labelLogitsFor(config);
  return {
    loss: (model, batch, x, targets, outputs) => {
      const teacherEmbedding = teacher.embeddings(batch);
      const [, logits, embedding] = trainingOutputs(model, x, outputs) as tf.Tensor2D[];
      // Mining reads distances on the host; the chosen triplets then enter the graph by index.
      const anchors = l2Normalise(embedding);
      const toTeacher = pairwiseSquaredDistances(anchors, l2Normalise(teacherEmbedding)).dataSync() as Float32Array;
      const toStudent = pairwiseSquaredDistances(anchors, anchors).dataSync() as Float32Array;
      const { positive, negative } = mineBatchHard(toTeacher, toStudent, batch.labels);
      const valid = tf.tensor1d(Array.from(positive, (p, i) => (p >= 0 && negative[i] >= 0 ? 1 : 0)));
      // Selection as a one-hot matmul rather than tf.gather: gather's gradient needs
      // UnsortedSegmentSum, which the wasm backend lacks.
      const select = (rows: Int32Array, from: tf.Tensor) =>
        tf.matMul(tf.oneHot(Int32Array.from(rows, (r) => Math.max(r, 0)), from.shape[0]).toFloat(), from);
      const pos = select(positive, teacherEmbedding);
      const neg = select(negative, embedding);
      const triplet = tripletLoss(embedding, pos as tf.Tensor2D, neg as tf.Tensor2D, config.triplet.margin, valid);
      return tf.add(crossEntropy(targets, labelLogits(logits)), tf.mul(triplet, config.triplet.weight)) as tf.Scalar;
    },
    dispose: () => teacher.dispose(),
  };
};

/**
 * The frozen branches run in inference mode (BatchNorm on moving statistics, no dropout); only
 * the head sees training mode.
 */
const concatObjective: ObjectiveFactory = async (config) => {
  let features: tf.LayersModel | null = null;
  const labelLogits = labelLogitsFor(config);
  return {
    loss: (model, _batch, x, targets) => {
      features ??= tf.model({ inputs: model.inputs, outputs: model.getLayer('embedding').output as tf.SymbolicTensor });
      let h = features.predict(x) as tf.Tensor;
      for (const name of ['embedding_relu', 'dropout_embedding', 'logits']) {
        h = model.getLayer(name).apply(h, { training: true }) as tf.Tensor;
      }
      return crossEntropy(targets, labelLogits(h as tf.Tensor2D));
    },
    dispose: () => {},
  };
};

export function objectiveFor(stage: Stage): ObjectiveFactory {
  switch (stage) {
    case 'teacher':
    case 'baseline':
      return classificationObjective;
    case 'kd':
      return kdObjective;
    case 'triplet':
      return tripletObjective;
    case 'concat':
      return concatObjective;
  }
}

export type { Objective };
