/**
 * The way back from fold.ts: puts an exported (folded) model's weights into a training graph, so
 * that a committed model can be fine-tuned, or serve as a teacher, on a machine that has none of
 * the run folders it came from.
 *
 * A folded convolution computes z + b (z = its kernel applied to the input). Its training graph
 * has conv (no bias) then BatchNorm. Setting the BatchNorm to moving mean m, variance v,
 * gamma = sqrt(v + eps), beta = b + m gives exactly z + b at inference; and when m and v are the
 * moments of z on real faces, also (nearly) z + b in training mode, where BatchNorm uses the
 * batch's own moments. So each BatchNorm is calibrated, in graph order, on a batch of faces.
 */
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURES, buildModel, cropOf, mouthSourceOf, type ArchitectureName } from './architectures.js';

/** The BatchNorm that directly consumes a layer, if any. */
function batchNormAfter(model: tf.LayersModel, layer: tf.layers.Layer): tf.layers.Layer | null {
  return model.layers.find((l) => l.getClassName() === 'BatchNormalization'
    && l.inboundNodes.some((node) => node.inboundLayers.includes(layer))) ?? null;
}

const sameShapes = (a: tf.Tensor[], b: tf.Tensor[]) => a.length === b.length && a.every((w, i) => w.shape.join() === b[i].shape.join());

/**
 * Copies the weights of `source` into `model` by layer name (layers of `model` named prefix + name
 * take those of `name`): as they are where the shapes match, unfolded where `source` has a folded
 * conv + bias and `model` a conv + BatchNorm. `calibration` is a batch of faces as the trained
 * network will see them. Returns the layers of `model` it filled (a BatchNorm counts with its conv).
 */
export function copyWeightsUnfolding(model: tf.LayersModel, source: tf.LayersModel, calibration: tf.Tensor4D, prefix = ''): tf.layers.Layer[] {
  const filled: tf.layers.Layer[] = [];
  const toCalibrate: { conv: tf.layers.Layer; bn: tf.layers.Layer; bias: tf.Tensor }[] = [];
  for (const layer of model.layers) {
    if (!layer.name.startsWith(prefix)) continue;
    const other = source.layers.find((l) => prefix + l.name === layer.name);
    if (!other) continue;
    const mine = layer.getWeights();
    const theirs = other.getWeights();
    if (mine.length && sameShapes(mine, theirs)) {
      layer.setWeights(theirs);
      filled.push(layer);
      continue;
    }
    const bn = layer.getClassName() === 'Conv2D' ? batchNormAfter(model, layer) : null;
    if (bn && mine.length === 1 && theirs.length === 2 && sameShapes(mine, theirs.slice(0, 1))) {
      layer.setWeights([theirs[0]]);
      toCalibrate.push({ conv: layer, bn, bias: theirs[1] });
      filled.push(layer, bn);
    }
  }
  for (const { conv, bn, bias } of toCalibrate) {
    const epsilon = (bn.getConfig().epsilon as number) ?? 1e-3;
    const upToConv = tf.model({ inputs: model.inputs, outputs: conv.output as tf.SymbolicTensor });
    const weights = tf.tidy(() => {
      const z = upToConv.predict(calibration) as tf.Tensor4D;
      const { mean, variance } = tf.moments(z, [0, 1, 2]);
      return [tf.sqrt(tf.add(variance, epsilon)), tf.add(bias, mean), mean, variance];
    });
    bn.setWeights(weights);
    tf.dispose(weights);
  }
  return filled;
}

const weightedLayers = (model: tf.LayersModel) => model.layers.filter((l) => l.getWeights().length > 0);

/**
 * The full training graph (outputs probabilities, logits, embedding, and mouth when the export has
 * that head) of an exported model, whose architecture is recognised from its layer shapes. Used
 * when a teacher or a starting point is a model folder rather than a run folder.
 */
export function restoreTrainingModel(exported: tf.LayersModel, calibration: tf.Tensor4D): { model: tf.LayersModel; architecture: ArchitectureName } {
  const mouthFrom = mouthSourceOf(exported);
  const crop = cropOf(exported);
  for (const architecture of Object.keys(ARCHITECTURES) as ArchitectureName[]) {
    const model = buildModel(architecture, 1, 0.99, { mouth: mouthFrom !== null, mouthFrom: mouthFrom ?? 'head', ...crop });
    const filled = copyWeightsUnfolding(model, exported, calibration);
    if (filled.length === weightedLayers(model).length && weightedLayers(exported).every((l) => filled.some((f) => f.name === l.name))) {
      return { model, architecture };
    }
    model.dispose();
  }
  throw new Error(`${exported.name} matches none of the architectures (${Object.keys(ARCHITECTURES).join(', ')}) layer for layer`);
}
